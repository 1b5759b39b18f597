"""The Phase 2 Dagster domain: definitions, the scoring job, the shadow RA reports, the outbox
sensor's routing of RA reports, the reported side with its reconciliation check, and the two
blocking checks, on a generated issuer.

The issuer is ingested, its reference tables loaded, every file verified and benefit year 2025
scored once per module (through the real jobs, on a temporary Dagster instance).  Tests that
write work on a copy of that warehouse, with a fresh instance and their own outbox, so they do
not depend on each other.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest
from dagster_support import (
    age,
    checks,
    forbid_duckdb,
    ingest,
    materialized,
    query,
    resources,
    run,
    tick,
)
from phase2_support import (
    ENROLLEES,
    ERROR_RATE,
    SCORE_DELTA,
    SEED,
    YEAR,
    header_value,
    resend_tampered_rarsd,
    xsd_errors,
)

from edge_pipeline.definitions import defs
from edge_pipeline.defs.automation.outbox import OUTBOX_REPORTS_TAG
from edge_pipeline.defs.inbound.partitions import INBOUND_FILES_PARTITIONS_NAME
from edge_pipeline.defs.phase1.shadow import SHADOW_PHASE1
from edge_pipeline.defs.phase2 import scoring as scoring_module
from edge_pipeline.defs.phase2.reconciliation import SCORES_MATCH_REPORTED
from edge_pipeline.defs.phase2.scoring import RA_INCLUDED_CLAIMS_ACTIVE, SCORED_ENROLLEES_ENROLLED
from edge_pipeline.defs.phase2.transfer import CSR_ADJUSTED_SCORES
from edge_pipeline.defs.reference.partitions import benefit_years
from edge_pipeline.defs.resources import DUCKDB_WRITER_POOL
from edge_pipeline.edge.ra_runs.integrity import included_but_not_active, scored_without_enrollment
from edge_pipeline.edge.ra_runs.runs import ScoringRun, scoring_runs
from edge_pipeline.edge.synth import generate_issuer
from edge_pipeline.edge.warehouse.schema import TABLES

KEY = str(YEAR)
SCORING_ASSETS = {"diy_tables", "ra_claim_selection", "risk_scores", "shadow_phase2_reports"}
REPORTED_ASSETS = {
    "reported_ra_reports",
    "risk_score_reconciliation",
    "user_fee_reconciliation",
    "hcrp_reconciliation",
    "enrollee_claims_reconciliation",
}
RA_CODES = ("CD", "CS", "RD", "RS")


@dataclass
class Scored:
    """The module's issuer after ingest, Phase 1 and ``phase2_scoring`` of the year."""

    root: Path
    synthetic: Path
    warehouse: Path
    shadow_reports: Path
    keys: list[str]  # fileIdentifiers of the four submissions
    run: ScoringRun
    scoring: dg.ExecuteInProcessResult

    @property
    def ra_folder(self) -> Path:
        return (
            self.shadow_reports / "phase2" / f"BY{YEAR}" / f"{self.run.issuer_id}_"
            f"{self.run.execution_zone}"
        )

    def ra_reports(self) -> list[Path]:
        return sorted(self.ra_folder.glob("*.xml"))


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scored]:
    root = tmp_path_factory.mktemp("phase2")
    synthetic = root / "synthetic"
    manifest = generate_issuer(synthetic, enrollees=ENROLLEES, seed=SEED, error_rate=ERROR_RATE)
    inbox = root / "inbox"
    inbox.mkdir()
    submissions = [f for f in manifest.files if f.role == "submission"]
    for entry in submissions:
        shutil.copy2(synthetic / entry.path, inbox / Path(entry.path).name)
    keys = [entry.file_identifier for entry in submissions]
    warehouse = root / "warehouse.duckdb"
    shadow_reports = root / "shadow_reports"
    res = resources(root, synthetic, warehouse, root / "outbox", shadow_reports)
    with dg.instance_for_test() as instance:
        for key in keys:
            assert ingest(instance, res, key).success, key
        assert run("refresh_reference_tables", instance, res).success
        for key in keys:
            assert run("phase1_shadow", instance, res, key).success, key
        scoring = run("phase2_scoring", instance, res, KEY)
    the_run = ScoringRun(YEAR, manifest.issuer_id, manifest.execution_zone)
    yield Scored(root, synthetic, warehouse, shadow_reports, keys, the_run, scoring)


def started_steps(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}


def table_rows(value: dg.TableMetadataValue) -> list[dict]:
    return [dict(record.data) for record in value.records]


def member_values(warehouse: Path) -> set[str]:
    """The synthetic population's member identifiers and birth dates (never in metadata)."""
    values = set()
    for column in ("insured_member_identifier", "insured_member_birth_date"):
        assert column in TABLES["enrollee"]
        values |= {r[0] for r in query(warehouse, f"SELECT {column} FROM enrollee")}
    values -= {None, ""}
    assert len(values) > ENROLLEES  # identifiers and birth dates of the population
    return values


def run_text(result: dg.ExecuteInProcessResult) -> str:
    """Every materialization's and check's metadata and every event message of a run."""
    evaluations = {name: e.metadata for name, e in checks(result).items()}
    messages = [e.message for e in result.all_events]
    return repr([materialized(result), evaluations, messages])


def leaked(warehouse: Path, result: dg.ExecuteInProcessResult) -> list[str]:
    text = run_text(result)
    return sorted(v for v in member_values(warehouse) if v in text)


def copy_tree_aged(source: Path, target: Path) -> list[Path]:
    shutil.copytree(source, target)
    paths = sorted(p for p in target.rglob("*.xml"))
    for path in paths:
        age(path)
    return paths


# --------------------------------------------------------------------------- definitions


def test_phase2_definitions_groups_partitions_lineage_checks_and_jobs() -> None:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    groups = {
        "diy_tables": "reference",
        "ra_claim_selection": "phase2",
        "risk_scores": "phase2",
        "shadow_phase2_reports": "phase2",
        "outbox_ra_report": "phase2",
        "reported_ra_reports": "phase2",
        "risk_score_reconciliation": "reconciliation",
        "user_fee_reconciliation": "reconciliation",
        "hcrp_reconciliation": "reconciliation",
        "enrollee_claims_reconciliation": "reconciliation",
    }
    for name, group in groups.items():
        node = graph.get(dg.AssetKey(name))
        assert node.group_name == group, name
        assert node.partitions_def == benefit_years, name  # dynamic: years with data only
        if name != "outbox_ra_report":
            assert defs.resolve_assets_def(name).op.pool == DUCKDB_WRITER_POOL, name
    assert not graph.get(dg.AssetKey("outbox_ra_report")).is_materializable  # EDGE's, external

    parents = {
        name: {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}
        for name in groups
    }
    assert {"diy_tables", "reference_tables", "shadow_phase1"} <= parents["ra_claim_selection"]
    assert {"ra_claim_selection", "diy_tables"} <= parents["risk_scores"]
    assert {"risk_scores"} <= parents["shadow_phase2_reports"]
    assert parents["reported_ra_reports"] == {"outbox_ra_report"}  # EDGE's reports only
    assert {"reported_ra_reports", "risk_scores"} <= parents["risk_score_reconciliation"]
    # RAUF, HCRPSR and HCRPDE are written from what the transfer estimate computed
    assert "transfer_estimate" in parents["shadow_phase2_reports"]
    for name in ("user_fee_reconciliation", "hcrp_reconciliation"):
        assert parents[name] == {"reported_ra_reports", "transfer_estimate"}, name
    # ECD and ECS are computed by claim selection
    assert parents["enrollee_claims_reconciliation"] == {
        "reported_ra_reports",
        "ra_claim_selection",
    }
    # every inbound file's verdict feeds a year (differently partitioned upstream)
    selection = defs.resolve_assets_def("ra_claim_selection")
    assert isinstance(selection.get_partition_mapping(SHADOW_PHASE1), dg.AllPartitionMapping)

    specs = {
        (spec.asset_key.to_user_string(), spec.name): spec.blocking
        for name in (
            "ra_claim_selection",
            "risk_scores",
            "risk_score_reconciliation",
            "user_fee_reconciliation",
            "hcrp_reconciliation",
            "enrollee_claims_reconciliation",
        )
        for spec in defs.resolve_assets_def(name).check_specs
    }
    assert {
        ("ra_claim_selection", RA_INCLUDED_CLAIMS_ACTIVE): True,
        ("risk_scores", SCORED_ENROLLEES_ENROLLED): True,
        ("risk_score_reconciliation", SCORES_MATCH_REPORTED): False,
        ("user_fee_reconciliation", "reported_rauf_matches_shadow"): False,
        ("hcrp_reconciliation", "reported_hcrpsr_matches_shadow"): False,
        ("hcrp_reconciliation", "reported_hcrpde_matches_shadow"): False,
        ("enrollee_claims_reconciliation", "reported_ecd_orphan_claims_match_shadow"): False,
        (
            "enrollee_claims_reconciliation",
            "reported_ecd_enrollees_without_claims_match_shadow",
        ): False,
        ("enrollee_claims_reconciliation", "reported_ecs_matches_shadow"): False,
    }.items() <= specs.items()
    check_keys = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert set(specs) <= check_keys

    for job, assets in (
        ("phase2_scoring", SCORING_ASSETS),
        ("phase2_reported", REPORTED_ASSETS),
    ):
        job_def = defs.resolve_job_def(job)
        assert job_def.partitions_def == benefit_years, job
        keys = {k.to_user_string() for k in job_def.asset_layer.executable_asset_keys}
        assert assets <= keys, job
    sensor = defs.resolve_sensor_def("outbox_sensor")
    assert "phase2_reported" in {target.job_name for target in sensor.targets}


# --------------------------------------------------------------------------- scoring


def test_scoring_materializes_every_asset_with_counts_and_passes_both_checks(
    scored: Scored,
) -> None:
    result = scored.scoring
    assert result.success
    events = materialized(result)
    assert set(events) >= SCORING_ASSETS
    assert all(e.partition == KEY for e in result.get_asset_materialization_events()), (
        "every materialization is of the benefit year"
    )

    selection = events["ra_claim_selection"]
    assert selection["runs"] == scored.run.label
    [(considered, included)] = query(
        scored.warehouse,
        "SELECT count(*), count(*) FILTER (WHERE included = 'Y') "
        "FROM shadow_ra_claim_selection WHERE benefit_year = ?",
        [YEAR],
    )
    assert (selection["records_considered"], selection["records_included"]) == (
        considered,
        included,
    )
    assert 0 < included < considered
    rows = table_rows(selection["by_category_and_reason"])
    assert sum(int(r["claims"]) for r in rows) == considered
    assert sum(int(r["claims"]) for r in rows if r["included"] == "Y") == included
    assert all((r["reason_code"] == "") == (r["included"] == "Y") for r in rows)
    assert {r["category"] for r in rows if r["included"] == "Y"} <= {
        "medical_claim",
        "pharmacy_claim",
        "supplemental_claim",
    }
    expected_reasons = {
        r[0]
        for r in query(
            scored.warehouse,
            "SELECT DISTINCT reason_code FROM shadow_ra_claim_selection "
            "WHERE benefit_year = ? AND reason_code IS NOT NULL",
            [YEAR],
        )
    }
    assert {r["reason_code"] for r in rows} - {""} == expected_reasons
    assert expected_reasons  # the generator exercises the exclusions

    scores = events["risk_scores"]
    by_model = dict(
        query(
            scored.warehouse,
            "SELECT model, count(*) FROM shadow_risk_score WHERE benefit_year = ? GROUP BY ALL",
            [YEAR],
        )
    )
    assert scores["enrollee_plan_rows"] == sum(by_model.values()) > 0
    for model in ("adult", "child", "infant"):
        assert scores[f"enrollees/{model}"] == by_model.get(model, 0), model
    assert scores["enrollees/adult"] > 0 and scores["enrollees/child"] > 0
    plans = table_rows(scores["by_plan"])
    assert sum(int(r["enrollees"]) for r in plans) == scores["enrollee_plan_rows"]
    assert {r["plan_id"] for r in plans} == {
        r[0]
        for r in query(
            scored.warehouse,
            "SELECT DISTINCT plan_id FROM shadow_risk_score WHERE benefit_year = ?",
            [YEAR],
        )
    }
    assert set(plans[0]) == {
        "issuer_id",
        "execution_zone",
        "plan_id",
        "metal",
        "enrollees",
        "mean_raw",
        "mean_csr",
    }

    evaluations = checks(result)
    assert set(evaluations) == {
        RA_INCLUDED_CLAIMS_ACTIVE,
        SCORED_ENROLLEES_ENROLLED,
        CSR_ADJUSTED_SCORES,
    }
    for name, evaluation in evaluations.items():
        # a missing CSR-adjusted score is flagged, not blocking: the RATEE is still written
        assert evaluation.passed and evaluation.blocking == (name != CSR_ADJUSTED_SCORES), name
        assert evaluation.partition == KEY, name
    csr = evaluations[CSR_ADJUSTED_SCORES].metadata
    assert csr["enrollees_without_csr_adjusted_score"].value == 0
    assert evaluations[RA_INCLUDED_CLAIMS_ACTIVE].metadata["offending_records"].value == 0
    assert evaluations[SCORED_ENROLLEES_ENROLLED].metadata["scored_without_enrollment"].value == 0


def test_scoring_metadata_and_logs_carry_no_member_data(scored: Scored) -> None:
    assert leaked(scored.warehouse, scored.scoring) == []


# --------------------------------------------------------------------------- shadow RA reports


def test_shadow_ra_reports_are_written_per_run_and_valid(scored: Scored) -> None:
    meta = materialized(scored.scoring)["shadow_phase2_reports"]
    year_folder = scored.shadow_reports / "phase2" / f"BY{YEAR}"
    assert meta["folder"] == str(year_folder)
    assert [p.name for p in year_folder.iterdir()] == [scored.ra_folder.name]
    assert not list(year_folder.parent.glob(".*"))  # no staging folder left behind
    paths = scored.ra_reports()
    assert [p.name for p in paths] == sorted(meta["files"].split(", "))
    codes = [p.name.split(".")[1] for p in paths]
    assert [code for code in codes if code in RA_CODES] == list(RA_CODES)
    assert all(p.name.startswith(f"{scored.run.issuer_id}.") for p in paths)
    assert meta["size_bytes"] == sum(p.stat().st_size for p in paths)
    for path in paths:
        assert xsd_errors(path) == [], path.name


def test_rewriting_unchanged_data_gives_byte_identical_reports(
    scored: Scored, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(scored.warehouse, warehouse)
    shadow = tmp_path / "shadow_reports"
    stale = shadow / "phase2" / f"BY{YEAR}" / "stale.xml"  # the folder is replaced as a whole
    stale.parent.mkdir(parents=True)
    stale.write_text("<old/>")
    res = resources(scored.root, scored.synthetic, warehouse, tmp_path / "outbox", shadow)
    with dg.instance_for_test() as instance:
        again = run("phase2_scoring", instance, res, KEY)
    assert again.success
    assert not stale.exists()
    rewritten = sorted((shadow / "phase2" / f"BY{YEAR}" / scored.ra_folder.name).glob("*.xml"))
    assert [p.name for p in rewritten] == [p.name for p in scored.ra_reports()]
    for new, old in zip(rewritten, scored.ra_reports(), strict=True):
        assert new.read_bytes() == old.read_bytes(), new.name


# --------------------------------------------------------------------------- outbox sensor


def test_outbox_sensor_routes_ra_reports_to_phase2_reported_by_benefit_year(
    scored: Scored, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "outbox"
    ra = copy_tree_aged(scored.ra_folder, outbox / "edge" / "phase2")
    phase1_key = scored.keys[0]
    copy_tree_aged(scored.shadow_reports / phase1_key, outbox / "edge" / phase1_key)
    forbid_duckdb(monkeypatch)
    with dg.instance_for_test() as instance:
        first = tick(instance, outbox)
        requests = {r.job_name: r for r in first.run_requests}
        assert len(first.run_requests) == 2 and set(requests) == {
            "phase1_reported",
            "phase2_reported",
        }
        phase2 = requests["phase2_reported"]
        assert phase2.partition_key == KEY
        assert phase2.tags[OUTBOX_REPORTS_TAG] == str(len(ra))
        assert phase2.run_key.startswith(f"BY{YEAR}:")
        phase1 = requests["phase1_reported"]
        assert phase1.partition_key == phase1_key
        assert phase1.tags[OUTBOX_REPORTS_TAG] == "4"
        # the inbound file and the year with data become partitions (as the daemon applies)
        added = {
            r.partitions_def_name: list(r.partition_keys) for r in first.dynamic_partitions_requests
        }
        assert added == {INBOUND_FILES_PARTITIONS_NAME: [phase1_key], "benefit_years": [KEY]}
        for name, keys in added.items():
            instance.add_dynamic_partitions(name, keys)
        second = tick(instance, outbox, first.cursor)
        assert not second.run_requests and second.skip_reason

        rarsd = next(p for p in ra if ".RD." in p.name)
        rarsd.write_bytes(rarsd.read_bytes() + b"\n")  # EDGE re-sent it
        age(rarsd, 30)
        third = tick(instance, outbox, second.cursor)
        assert [(r.job_name, r.partition_key) for r in third.run_requests] == [
            ("phase2_reported", KEY)
        ]
        assert third.run_requests[0].tags[OUTBOX_REPORTS_TAG] == "1"
        assert third.run_requests[0].run_key != phase2.run_key


# --------------------------------------------------------------------------- reported side


@dataclass
class ReportedEnv:
    instance: dg.DagsterInstance
    warehouse: Path
    outbox: Path
    resources: dict[str, object]

    def run(self) -> dg.ExecuteInProcessResult:
        return run("phase2_reported", self.instance, self.resources, KEY)


@pytest.fixture
def reported_env(scored: Scored, tmp_path: Path) -> Iterator[ReportedEnv]:
    """A copy of the scored warehouse, an empty outbox, a fresh instance."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(scored.warehouse, warehouse)
    outbox = tmp_path / "outbox"
    res = resources(scored.root, scored.synthetic, warehouse, outbox, tmp_path / "shadow")
    with dg.instance_for_test() as instance:
        yield ReportedEnv(instance, warehouse, outbox, res)


def assert_faithful_copy_reconciles(scored: Scored, env: ReportedEnv) -> list[Path]:
    """EDGE "sends" the shadow's own RA reports: loaded, compared, no difference."""
    dropped = copy_tree_aged(scored.ra_folder, env.outbox / "edge" / "first")
    result = env.run()
    assert result.success
    events = materialized(result)
    assert set(events) >= REPORTED_ASSETS
    loaded = events["reported_ra_reports"]
    assert {"RACSD", "RACSS", "RARSD", "RARSS"} <= set(loaded["report_types"].split(", "))
    assert loaded["load_statuses"] == ", ".join(f"{p.name}: loaded" for p in dropped)
    reconciliation = events["risk_score_reconciliation"]
    [(scored_rows,)] = query(
        env.warehouse, "SELECT count(*) FROM shadow_risk_score WHERE benefit_year = ?", [YEAR]
    )
    assert reconciliation["enrollee_plan_rows_compared"] == scored_rows
    assert reconciliation["differences"] == 0
    assert reconciliation["runs"] == scored.run.label
    evaluation = checks(result)[SCORES_MATCH_REPORTED]
    assert evaluation.passed and not evaluation.blocking and evaluation.partition == KEY
    assert evaluation.metadata["differences"].value == 0
    assert query(env.warehouse, "SELECT count(*) FROM risk_score_differences") == [(0,)]
    assert query(env.warehouse, "SELECT count(*) FROM reported_risk_score") == [(scored_rows,)]
    # the user fee and the high-cost risk pool, row by row
    assert {"RAUF", "HCRPSR", "HCRPDE"} <= set(loaded["report_types"].split(", "))
    assert events["user_fee_reconciliation"]["differences"] == 0
    assert events["user_fee_reconciliation"]["rauf_rows_compared"] > 0
    assert events["hcrp_reconciliation"]["differences"] == 0
    assert events["hcrp_reconciliation"]["hcrpsr_rows_compared"] > 0
    # the enrollee claims reports: orphan claims, enrollees without claims, per-plan summary
    assert {"ECD", "ECS"} <= set(loaded["report_types"].split(", "))
    enrollee_claims = events["enrollee_claims_reconciliation"]
    assert enrollee_claims["differences"] == 0
    assert enrollee_claims["ecs_rows_compared"] > 0
    assert enrollee_claims["enrollees_without_claims_compared"] > 0
    for name in (
        "reported_rauf_matches_shadow",
        "reported_hcrpsr_matches_shadow",
        "reported_hcrpde_matches_shadow",
        "reported_ecd_orphan_claims_match_shadow",
        "reported_ecd_enrollees_without_claims_match_shadow",
        "reported_ecs_matches_shadow",
    ):
        assert checks(result)[name].passed, name
    assert leaked(env.warehouse, result) == []
    return dropped


def test_faithful_ra_reports_reconcile_without_differences(
    scored: Scored, reported_env: ReportedEnv
) -> None:
    dropped = assert_faithful_copy_reconciles(scored, reported_env)
    again = reported_env.run()  # a re-run on the same outbox changes nothing
    assert again.success
    statuses = materialized(again)["reported_ra_reports"]["load_statuses"]
    assert statuses == ", ".join(f"{p.name}: unchanged" for p in dropped)
    assert checks(again)[SCORES_MATCH_REPORTED].passed


def _tamper_targets(warehouse: Path) -> tuple[tuple[str, str], tuple[str, str, str]]:
    """An enrollee to re-score, and another enrollee's HCC (one with a coefficient) to drop."""
    [(member, plan, hcc)] = query(
        warehouse,
        "SELECT member_id, plan_id, min(variable) FROM shadow_risk_score_term "
        "WHERE benefit_year = ? AND kind = 'hcc' GROUP BY ALL ORDER BY ALL LIMIT 1",
        [YEAR],
    )
    [(other, other_plan)] = query(
        warehouse,
        "SELECT member_id, plan_id FROM shadow_risk_score WHERE benefit_year = ? "
        "AND member_id <> ? ORDER BY ALL LIMIT 1",
        [YEAR, member],
    )
    return (other, other_plan), (member, plan, hcc)


def test_a_tampered_rarsd_fails_the_reconciliation_check_with_exactly_those_rows(
    scored: Scored, reported_env: ReportedEnv
) -> None:
    env = reported_env
    first = assert_faithful_copy_reconciles(scored, env)
    rescore, drop_hcc = _tamper_targets(env.warehouse)
    original = next(p for p in first if ".RD." in p.name)
    resent = resend_tampered_rarsd(
        original, env.outbox / "edge" / "resent", rescore=rescore, drop_hcc=drop_hcc
    )
    age(resent.path)
    assert xsd_errors(resent.path) == []

    result = env.run()
    assert result.success  # the check is not blocking: the differences are on record
    loaded = materialized(result)["reported_ra_reports"]
    assert f"{resent.path.name}: loaded" in loaded["load_statuses"]
    assert f"{original.name}: unchanged" in loaded["load_statuses"]
    assert query(
        env.warehouse,
        "SELECT outbound_file_identifier, status FROM outbound_file WHERE report_type = 'RARSD' "
        "ORDER BY outbound_load_id",
    ) == [
        (header_value(original, "outboundFileIdentifier"), "replaced"),
        (resent.outbound_file_identifier, "loaded"),
    ]

    [(shadow_raw, shadow_csr)] = query(
        env.warehouse,
        "SELECT score_raw, score_csr_adjusted FROM shadow_risk_score "
        "WHERE benefit_year = ? AND member_id = ? AND plan_id = ?",
        [YEAR, *rescore],
    )
    assert resent.score_raw == shadow_raw + SCORE_DELTA
    [(hcc_raw, hcc_csr)] = query(
        env.warehouse,
        "SELECT score_raw, score_csr_adjusted FROM shadow_risk_score "
        "WHERE benefit_year = ? AND member_id = ? AND plan_id = ?",
        [YEAR, *drop_hcc[:2]],
    )
    expected = sorted(
        [
            (rescore, "score", shadow_raw, resent.score_raw, shadow_csr, shadow_csr, None),
            (drop_hcc[:2], "hccs", hcc_raw, hcc_raw, hcc_csr, hcc_csr, drop_hcc[2]),
        ],
        key=lambda row: (row[0][1], row[1], row[0][0]),  # plan, difference, member
    )
    differences = query(
        env.warehouse,
        "SELECT member_id, plan_id, difference, shadow_score_raw, reported_score_raw, "
        "shadow_score_csr_adjusted, reported_score_csr_adjusted, hccs_only_in_shadow, "
        "hccs_only_in_reported FROM risk_score_differences "
        "ORDER BY plan_id, difference, member_id",
    )
    assert differences == [
        (*key, kind, *scores, only, None) for key, kind, *scores, only in expected
    ]

    meta = materialized(result)["risk_score_reconciliation"]
    assert meta["differences"] == 2
    assert meta["differences/score"] == 1 and meta["differences/hccs"] == 1
    evaluation = checks(result)[SCORES_MATCH_REPORTED]
    assert not evaluation.passed and evaluation.partition == KEY
    assert evaluation.metadata["differences"].value == 2
    assert table_rows(evaluation.metadata["differing_scores"].value) == [
        {
            "plan_id": key[1],
            "difference": kind,
            "shadow_score_raw": str(raw),
            "reported_score_raw": str(reported_raw),
            "shadow_score_csr_adjusted": str(csr),
            "reported_score_csr_adjusted": str(reported_csr),
            "hccs_only_in_shadow": only or "",
            "hccs_only_in_reported": "",
        }
        for key, kind, raw, reported_raw, csr, reported_csr, only in expected
    ]
    assert f"| {drop_hcc[1]} | hccs |" in evaluation.metadata["differing_scores_md"].value
    assert leaked(env.warehouse, result) == []


def test_a_replaced_rarsd_still_in_the_outbox_does_not_fail_later_runs(
    scored: Scored, reported_env: ReportedEnv
) -> None:
    """EDGE's outbox keeps every snapshot it sent: once a newer RARSD replaced the first, the
    next run reads both again; the replaced one is a re-delivery, not a late arrival."""
    env = reported_env
    first = assert_faithful_copy_reconciles(scored, env)
    rescore, drop_hcc = _tamper_targets(env.warehouse)
    original = next(p for p in first if ".RD." in p.name)
    # filed where it sorts *before* the first one, so it is read first
    resent = resend_tampered_rarsd(
        original, env.outbox / "a_resent", rescore=rescore, drop_hcc=drop_hcc
    )
    age(resent.path)
    for attempt in range(2):
        result = env.run()
        assert result.success, attempt
        statuses = materialized(result)["reported_ra_reports"]["load_statuses"]
        assert f"{original.name}: unchanged" in statuses, (attempt, statuses)
        assert not checks(result)[SCORES_MATCH_REPORTED].passed
    assert query(
        env.warehouse,
        "SELECT status, count(*) FROM outbound_file WHERE report_type = 'RARSD' GROUP BY ALL "
        "ORDER BY ALL",
    ) == [("loaded", 1), ("replaced", 1)]


def test_phase2_reported_without_ra_reports_fails_clearly(reported_env: ReportedEnv) -> None:
    result = reported_env.run()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert f"no RA report of benefit year {YEAR}" in failure.step_failure_data.error.message
    assert "risk_score_reconciliation" not in started_steps(result)  # nothing to reconcile
    assert not materialized(result)


# --------------------------------------------------------------------------- blocking checks


@pytest.fixture
def scratch(scored: Scored, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable copy of the scored warehouse."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(scored.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        yield con
    finally:
        con.close()


def test_included_but_not_active_returns_exactly_an_included_rejected_claim(
    scored: Scored, scratch: duckdb.DuckDBPyConnection
) -> None:
    con = scratch
    assert scoring_runs(con, YEAR) == [scored.run]
    assert included_but_not_active(con, scored.run).num_rows == 0
    # a medical claim Phase 1 rejected, put into the selection as included
    rejected = con.execute(
        """
        SELECT s.file_identifier, s.record_identifier FROM shadow_record_status s
        JOIN shadow_file_status f USING (load_id)
        WHERE f.submission_type = 'M' AND s.level = 'claim' AND s.status = 'R'
        ORDER BY ALL LIMIT 1
        """
    ).fetchall()
    assert rejected, "the generator's defects reject some medical claim"
    [(fid, rid)] = rejected
    con.execute(
        """
        INSERT INTO shadow_ra_claim_selection BY NAME
        SELECT * REPLACE ('INJECTED' AS claim_identifier, ? AS file_identifier,
          ?::BIGINT AS record_identifier)
        FROM shadow_ra_claim_selection
        WHERE benefit_year = ? AND included = 'Y' AND record_kind = 'medical'
        ORDER BY record_identifier LIMIT 1
        """,
        [fid, rid, YEAR],
    )
    offending = included_but_not_active(con, scored.run).to_pylist()
    assert len(offending) == 1
    assert offending[0]["file_identifier"] == fid
    assert offending[0]["record_identifier"] == rid
    assert offending[0]["record_kind"] == "medical"
    assert offending[0]["category"] == "medical_claim"


def test_scored_without_enrollment_returns_exactly_a_score_of_a_non_enrollee(
    scored: Scored, scratch: duckdb.DuckDBPyConnection
) -> None:
    con = scratch
    assert scored_without_enrollment(con, scored.run).num_rows == 0
    con.execute(
        """
        INSERT INTO shadow_risk_score BY NAME
        SELECT * REPLACE ('NOT-ENROLLED' AS member_id, 9.999 AS score_raw)
        FROM shadow_risk_score WHERE benefit_year = ? ORDER BY member_id, plan_id LIMIT 1
        """,
        [YEAR],
    )
    [(plan, model)] = con.execute(
        "SELECT plan_id, model FROM shadow_risk_score WHERE member_id = 'NOT-ENROLLED'"
    ).fetchall()
    offending = scored_without_enrollment(con, scored.run).to_pylist()
    assert offending == [{"plan_id": plan, "model": model, "score_raw": Decimal("9.999")}]


def test_a_failing_blocking_check_stops_scoring_and_the_reports(
    scored: Scored, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offending = pa.table(
        {
            "record_kind": ["medical"],
            "category": ["medical_claim"],
            "file_identifier": [scored.keys[1]],
            "record_identifier": pa.array([4242], pa.int64()),
            "plan_id": ["12345VA001000101"],
        }
    )
    monkeypatch.setattr(scoring_module, "included_but_not_active", lambda con, run: offending)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(scored.warehouse, warehouse)
    [(scores_before,)] = query(warehouse, "SELECT count(*) FROM shadow_risk_score")
    shadow = tmp_path / "shadow_reports"
    res = resources(scored.root, scored.synthetic, warehouse, tmp_path / "outbox", shadow)
    with dg.instance_for_test() as instance:
        result = run("phase2_scoring", instance, res, KEY)
        latest = instance.get_latest_materialization_event(dg.AssetKey("risk_scores"))
    assert not result.success
    assert {"diy_tables", "ra_claim_selection"} <= set(materialized(result))
    assert not {"risk_scores", "shadow_phase2_reports"} & set(materialized(result))
    assert latest is None
    evaluation = checks(result)[RA_INCLUDED_CLAIMS_ACTIVE]
    assert not evaluation.passed and evaluation.blocking
    assert evaluation.metadata["offending_records"].value == 1
    assert "| 4242 |" in evaluation.metadata["offending"].value
    assert SCORED_ENROLLEES_ENROLLED not in checks(result)
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "ra_claim_selection"
    assert RA_INCLUDED_CLAIMS_ACTIVE in failure.step_failure_data.error.message
    # Dagster does not start what is downstream of a failed blocking check
    assert not {"risk_scores", "shadow_phase2_reports"} & started_steps(result)
    assert not shadow.exists()  # no report written from claims that must not count
    assert query(warehouse, "SELECT count(*) FROM shadow_risk_score") == [(scores_before,)]
