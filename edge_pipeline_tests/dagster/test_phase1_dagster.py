"""The reference and Phase 1 Dagster domains: definitions, shadow runs, the outbox sensor, and
the reported side with its reconciliation check, on a generated issuer.

The issuer is ingested, its reference tables loaded and every file verified once per module
(through the real jobs); tests of the reported side work on a copy of that warehouse, with a
fresh Dagster instance and their own outbox, so they do not depend on each other.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
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
from phase1_support import (
    NO_SUCH_RECORD,
    Issuer,
    accepted_record,
    generate,
    report_of,
    single_error_record,
    tamper_detail,
)

from edge_pipeline.definitions import defs
from edge_pipeline.defs.inbound.partitions import INBOUND_FILES_PARTITIONS_NAME
from edge_pipeline.defs.phase1.reconciliation import (
    FREQUENCIES_MATCH_REPORTED,
    SHADOW_MATCHES_REPORTED,
)
from edge_pipeline.defs.phase1.reported import REPORTED_ERRORS_POINT_TO_RECORDS
from edge_pipeline.defs.phase1.shadow import PHASE1_CONSERVATION
from edge_pipeline.defs.reference.resources import IssuerReferenceResource
from edge_pipeline.defs.report_files import OutboxResource
from edge_pipeline.defs.resources import DUCKDB_WRITER_POOL
from edge_pipeline.edge.warehouse.schema import TABLES

PHASE1_ASSETS = {
    "shadow_phase1",
    "shadow_phase1_reports",
    "reported_esfar",
    "reported_phase1_detail",
    "phase1_reconciliation",
}


@dataclass
class Shadowed:
    """The module's issuer after ingest, reference tables and the shadow jobs."""

    issuer: Issuer
    root: Path
    warehouse: Path
    shadow_reports: Path
    keys: list[str]
    shadow_results: dict[str, dg.ExecuteInProcessResult]
    reference_result: dg.ExecuteInProcessResult


@pytest.fixture(scope="module")
def shadowed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shadowed]:
    root = tmp_path_factory.mktemp("phase1")
    issuer = generate(root / "synthetic")
    inbox = root / "inbox"
    inbox.mkdir()
    # the four submissions and one file rejected at header level (fewer runs, every case)
    keys = [*issuer.submissions.values(), issuer.header_rejected()]
    for key in keys:
        shutil.copy2(issuer.paths[key], inbox / issuer.paths[key].name)
    warehouse = root / "warehouse.duckdb"
    res = resources(root, issuer.folder, warehouse, root / "outbox", root / "shadow_reports")
    with dg.instance_for_test() as instance:
        for key in keys:
            assert ingest(instance, res, key).success, key
        reference = run("refresh_reference_tables", instance, res)
        assert reference.success
        shadow = {key: run("phase1_shadow", instance, res, key) for key in keys}
    yield Shadowed(issuer, root, warehouse, root / "shadow_reports", keys, shadow, reference)


# --------------------------------------------------------------------------- definitions


def test_phase1_definitions_share_partitions_pool_and_groups() -> None:
    graph = defs.resolve_asset_graph()
    for name in PHASE1_ASSETS:
        node = graph.get(dg.AssetKey(name))
        expected = "reconciliation" if name == "phase1_reconciliation" else "phase1"
        assert node.group_name == expected, name
        assert node.partitions_def.name == INBOUND_FILES_PARTITIONS_NAME, name
        assert defs.resolve_assets_def(name).op.pool == DUCKDB_WRITER_POOL, name
    reference = graph.get(dg.AssetKey("reference_tables"))
    assert reference.group_name == "reference" and reference.partitions_def is None
    assert defs.resolve_assets_def("reference_tables").op.pool == DUCKDB_WRITER_POOL

    parents = {
        name: {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}
        for name in PHASE1_ASSETS
    }
    assert {"reference_tables", "submission_file", "eses_enrollment"} <= parents["shadow_phase1"]
    assert parents["reported_esfar"] == {"outbox_report_file"}
    assert parents["reported_phase1_detail"] == {"reported_esfar"}
    assert parents["phase1_reconciliation"] == {"reported_phase1_detail", "shadow_phase1"}

    check_keys = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert {
        ("shadow_phase1", PHASE1_CONSERVATION),
        ("reported_phase1_detail", REPORTED_ERRORS_POINT_TO_RECORDS),
        ("phase1_reconciliation", SHADOW_MATCHES_REPORTED),
        ("phase1_reconciliation", FREQUENCIES_MATCH_REPORTED),
    } <= check_keys
    for job in ("phase1_shadow", "phase1_reported"):
        assert defs.resolve_job_def(job).partitions_def.name == INBOUND_FILES_PARTITIONS_NAME
    sensor = defs.resolve_sensor_def("outbox_sensor")
    assert {target.job_name for target in sensor.targets} == {"phase1_reported", "phase2_reported"}
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


# --------------------------------------------------------------------------- shadow


def test_reference_tables_report_their_row_counts(shadowed: Shadowed) -> None:
    meta = materialized(shadowed.reference_result)["reference_tables"]
    assert meta["rows/ref_plan"] == query(shadowed.warehouse, "SELECT count(*) FROM ref_plan")[0][0]
    assert meta["rows/ref_icd10cm"] > 1000
    assert "code_list_ndc.csv" in meta["code_lists"]


def test_shadow_runs_verify_every_partition_and_conserve(shadowed: Shadowed) -> None:
    for key, result in shadowed.shadow_results.items():
        assert result.success, key
        events = materialized(result)
        assert set(events) == {"shadow_phase1", "shadow_phase1_reports"}, key
        meta = events["shadow_phase1"]
        status = query(
            shadowed.warehouse,
            "SELECT status FROM shadow_file_status WHERE file_identifier = ?",
            [key],
        )
        assert [(meta["file_status"],)] == status, key
        evaluation = checks(result)[PHASE1_CONSERVATION]
        assert evaluation.passed and evaluation.partition == key
        folder = shadowed.shadow_reports / key
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            events["shadow_phase1_reports"]["files"].split(", ")
        )
        assert len(list(folder.iterdir())) == 4  # ESFAR, detail, summary, frequency by data element
    statuses = dict(
        query(shadowed.warehouse, "SELECT file_identifier, status FROM shadow_file_status")
    )
    assert set(statuses) == set(shadowed.keys)
    assert set(statuses.values()) == {"A", "R"}  # the defect files are rejected at header


def member_values(warehouse: Path) -> set[str]:
    """Member identifiers and birth dates of the warehouse (what metadata must never show)."""
    values = set()
    for table, column in (
        ("enrollee", "insured_member_identifier"),
        ("enrollee", "insured_member_birth_date"),
        ("pharmacy_claim", "insured_member_identifier"),
    ):
        assert column in TABLES[table]
        values |= {r[0] for r in query(warehouse, f"SELECT {column} FROM {table}")}
    values -= {None, ""}
    assert len(values) > 10
    return values


def all_metadata(result: dg.ExecuteInProcessResult) -> str:
    """Every materialization's and check's metadata of a run, as text."""
    evaluations = {name: e.metadata for name, e in checks(result).items()}
    return repr([materialized(result), evaluations])


def test_shadow_metadata_carries_no_member_data(shadowed: Shadowed) -> None:
    text = "".join(all_metadata(r) for r in shadowed.shadow_results.values())
    assert not [v for v in member_values(shadowed.warehouse) if v in text]


# --------------------------------------------------------------------------- outbox sensor


def drop_reports(shadowed: Shadowed, outbox: Path, keys: list[str]) -> dict[str, list[Path]]:
    """What the simulated EDGE server does: the shadow reports into the outbox, per file."""
    dropped = {}
    for key in keys:
        target = outbox / "edge" / key
        shutil.copytree(shadowed.shadow_reports / key, target)
        for path in target.iterdir():
            age(path)
        dropped[key] = sorted(target.iterdir())
    return dropped


def test_outbox_sensor_requests_one_run_per_answered_file(
    shadowed: Shadowed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "outbox"
    keys = shadowed.keys[:3]
    drop_reports(shadowed, outbox, keys)
    (outbox / "garbage.xml").write_bytes(b"not a report")
    age(outbox / "garbage.xml")
    forbid_duckdb(monkeypatch)
    # ticks with the outbox's default settle time: a report modified in the last 5 s is landing
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME, keys[:1])
        first = tick(instance, outbox, settle_seconds=5)
        assert sorted(r.partition_key for r in first.run_requests) == sorted(keys)
        assert all(r.tags["edge/outbox_reports"] == "4" for r in first.run_requests)
        added = [k for r in first.dynamic_partitions_requests for k in r.partition_keys]
        assert sorted(added) == sorted(keys[1:])  # registered when new, not twice

        instance.add_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME, added)
        second = tick(instance, outbox, first.cursor, settle_seconds=5)
        assert not second.run_requests and second.skip_reason

        landing = outbox / "edge" / shadowed.keys[3]  # a fourth file, still being written
        # copied just now (copy, not copy2: new mtimes), so still being written
        shutil.copytree(
            shadowed.shadow_reports / shadowed.keys[3], landing, copy_function=shutil.copy
        )
        third = tick(instance, outbox, second.cursor, settle_seconds=5)
        assert not third.run_requests
        for path in landing.iterdir():
            age(path)
        fourth = tick(instance, outbox, third.cursor, settle_seconds=5)
        assert [r.partition_key for r in fourth.run_requests] == [shadowed.keys[3]]

        replaced = next(iter(sorted((outbox / "edge" / keys[0]).iterdir())))
        replaced.write_bytes(replaced.read_bytes() + b"\n")
        age(replaced, 30)
        fifth = tick(instance, outbox, fourth.cursor, settle_seconds=5)
        assert [r.partition_key for r in fifth.run_requests] == [keys[0]]
        assert fifth.run_requests[0].run_key not in {r.run_key for r in first.run_requests}


# --------------------------------------------------------------------------- reported side


@pytest.fixture
def reported_env(shadowed: Shadowed, tmp_path: Path) -> Iterator[dict]:
    """A copy of the verified warehouse, an empty outbox, a fresh instance."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(shadowed.warehouse, warehouse)
    outbox = tmp_path / "outbox"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME, shadowed.keys)
        yield {
            "instance": instance,
            "warehouse": warehouse,
            "outbox": outbox,
            "resources": resources(
                shadowed.root, shadowed.issuer.folder, warehouse, outbox, shadowed.shadow_reports
            ),
        }


def test_consistent_reports_reconcile_without_differences(
    shadowed: Shadowed, reported_env: dict
) -> None:
    drop_reports(shadowed, reported_env["outbox"], shadowed.keys)
    for key in shadowed.keys:
        result = run("phase1_reported", reported_env["instance"], reported_env["resources"], key)
        assert result.success, key
        assert set(materialized(result)) == {
            "reported_esfar",
            "reported_phase1_detail",
            "phase1_reconciliation",
        }, key
        evaluations = checks(result)
        assert all(e.passed for e in evaluations.values()), (key, evaluations)
        assert evaluations[SHADOW_MATCHES_REPORTED].partition == key
        assert evaluations[FREQUENCIES_MATCH_REPORTED].partition == key
        meta = materialized(result)["phase1_reconciliation"]
        assert meta["differences"] == 0
        assert meta["frequency_differences"] == 0
        assert meta["shadow_file_status"] == meta["reported_file_status"]
    assert query(
        reported_env["warehouse"],
        "SELECT count(*), sum(differences) FROM phase1_reconciliation_file",
    ) == [(len(shadowed.keys), 0)]


def test_a_fresh_outbox_cursor_skips_reports_the_instance_shows_loaded(
    shadowed: Shadowed, reported_env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first ``make dev`` after ``make demo``: the reports the demo loaded are not
    requested again (same path, mtime and size as the reported assets recorded); a changed one
    is."""
    instance, outbox = reported_env["instance"], reported_env["outbox"]
    keys = shadowed.keys[:2]
    dropped = drop_reports(shadowed, outbox, keys)
    loaded = run("phase1_reported", instance, reported_env["resources"], keys[0])
    assert loaded.success
    assert len(materialized(loaded)["reported_esfar"]["outbox_signatures"]) == 1
    forbid_duckdb(monkeypatch)

    fresh = tick(instance, outbox)  # no cursor
    assert [r.partition_key for r in fresh.run_requests] == [keys[1]]

    changed = dropped[keys[0]][0]
    changed.write_bytes(changed.read_bytes() + b"\n")
    age(changed, 30)
    again = tick(instance, outbox)
    assert sorted(r.partition_key for r in again.run_requests) == sorted(keys)


def test_a_tampered_report_fails_shadow_matches_reported_with_the_rows(
    shadowed: Shadowed, reported_env: dict
) -> None:
    key = shadowed.issuer.submissions["ESPCS"]
    con = duckdb.connect(str(reported_env["warehouse"]), read_only=True)
    try:
        flipped = accepted_record(con, key, "claim")
        dropped, code = single_error_record(con, key, "claim")
    finally:
        con.close()
    paths = drop_reports(shadowed, reported_env["outbox"], [key])[key]
    tamper_detail(
        report_of(paths, "PD"), flip=flipped, drop_errors_of=dropped, copy_to_unknown=dropped
    )

    result = run("phase1_reported", reported_env["instance"], reported_env["resources"], key)
    assert result.success  # the checks are not blocking: the differences are on record
    evaluations = checks(result)
    pointers = evaluations[REPORTED_ERRORS_POINT_TO_RECORDS]
    assert not pointers.passed and pointers.metadata["unlinked_rows"].value == 2

    matches = evaluations[SHADOW_MATCHES_REPORTED]
    assert not matches.passed and matches.partition == key
    assert matches.metadata["differences"].value == 3
    rows = [r.data for r in matches.metadata["differing_records"].value.records]
    assert rows == [
        {
            "record_identifier": str(rid),
            "level": "claim",
            "shadow_status": shadow,
            "reported_status": reported,
            "shadow_codes": shadow_codes,
            "reported_codes": reported_codes,
            "difference": kind,
        }
        for rid, shadow, reported, shadow_codes, reported_codes, kind in sorted(
            [
                (flipped, "A", "R", "", "", "status"),
                (dropped, "R", "R", code, "", "codes"),
                (NO_SUCH_RECORD, "", "R", "", code, "not_in_shadow"),
            ]
        )
    ]
    markdown = matches.metadata["differing_records_md"].value
    assert f"| {NO_SUCH_RECORD} | claim |" in markdown
    text = all_metadata(result)
    assert not [v for v in member_values(reported_env["warehouse"]) if v in text]


def test_reported_assets_without_reports_fail_or_wait(
    shadowed: Shadowed, reported_env: dict
) -> None:
    key = shadowed.issuer.submissions["ESMCS"]
    nothing = run("phase1_reported", reported_env["instance"], reported_env["resources"], key)
    assert not nothing.success
    failure = next(e for e in nothing.all_events if e.is_step_failure)
    assert "no ESFAR answering" in failure.step_failure_data.error.message

    paths = drop_reports(shadowed, reported_env["outbox"], [key])[key]
    for path in paths:
        if ".MH." not in path.name:
            path.unlink()  # only the ESFAR has arrived
    waiting = run("phase1_reported", reported_env["instance"], reported_env["resources"], key)
    assert waiting.success
    assert set(materialized(waiting)) == {"reported_esfar"}
    skipped = {e.step_key for e in waiting.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert skipped == {"phase1_reconciliation"}


def test_reference_tables_fail_clearly_without_a_registry(
    shadowed: Shadowed, tmp_path: Path
) -> None:
    res = resources(
        shadowed.root,
        shadowed.issuer.folder,
        tmp_path / "w.duckdb",
        tmp_path / "outbox",
        shadowed.shadow_reports,
    )
    res["issuer_reference"] = IssuerReferenceResource(
        plan_registry=str(tmp_path / "missing.csv"), code_lists=str(tmp_path)
    )
    with dg.instance_for_test() as instance:
        result = run("refresh_reference_tables", instance, res)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "EDGE_PLAN_REGISTRY" in failure.step_failure_data.error.message
    assert not (tmp_path / "w.duckdb").exists()  # failed before opening the warehouse


def test_reports_still_being_written_are_not_read(shadowed: Shadowed, reported_env: dict) -> None:
    key = shadowed.issuer.submissions["ESES"]
    target = reported_env["outbox"] / "edge" / key
    shutil.copytree(shadowed.shadow_reports / key, target, copy_function=shutil.copy)  # now
    res = {
        **reported_env["resources"],
        "outbox": OutboxResource(path=str(reported_env["outbox"]), settle_seconds=60),
    }
    result = run("phase1_reported", reported_env["instance"], res, key)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "4 outbox file(s) are still being written" in failure.step_failure_data.error.message
    never_loaded = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'outbound_file'"
    assert query(reported_env["warehouse"], never_loaded) == [(0,)]
