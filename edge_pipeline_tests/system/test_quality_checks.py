"""The Great Expectations reconciliation checks on a real warehouse, clean and tampered.

One synthetic issuer for the module, through the command line as an analyst would run it
(``synth`` → ``validate`` → a second ESMCS voiding a claim that carries supplemental adds →
``validate`` → ``score`` with the synthetic market pool and GCF files, which writes the five RA
reports (RATEE included) and the transfer estimate → ``load-outbound`` of every Phase 1 and RA
report).  Each test copies that warehouse and injects one discrepancy as a misbehaving EDGE
server would: a report of the outbox edited with lxml (a RATEE entry's PLRS or billable member
months, a RACSD entry in the wrong category), kept XSD-valid and re-sent as a newer snapshot
through the real loader -- or, for what is not a report (the issuer's transfer estimate, the
``outbound_file`` ledger, record identifiers), an UPDATE of the warehouse.  The suite must fail
with exactly the offending rows; the untouched copy, and a faithful re-send, pass.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from cli_support import cli_ok as cli
from phase2_support import xsd_errors
from quality_support import (
    Edit,
    Resent,
    bump_ratee,
    drop_selection,
    include_unlinked,
    resend,
    unlink_included,
)

from edge_pipeline.defs import reconciliation
from edge_pipeline.defs.phase2.reconciliation import TRANSFER_RECONCILIATION
from edge_pipeline.defs.phase2.reported import REPORTED_RA_REPORTS
from edge_pipeline.defs.reconciliation.checks import (
    OUTBOUND_REPORTS_LINK_TO_INBOUND,
    RECONCILIATION_CHECKS,
    TRANSFER_ELEMENTS_RECONCILE,
    UNLINKED_SUPPLEMENTAL_RECORDS_RECONCILE,
)
from edge_pipeline.defs.reference.partitions import benefit_years, register_benefit_year
from edge_pipeline.defs.resources import DUCKDB_WRITER_POOL, WAREHOUSE_KEY, WarehouseResource
from edge_pipeline.edge.layouts import ESMCS
from edge_pipeline.edge.outbound import load_outbound_file
from edge_pipeline.edge.quality import (
    QualityCheck,
    check_outbound_linkage,
    check_transfer_elements,
    check_unlinked_supplemental,
)
from edge_pipeline.edge.quality.gx_suite import Expect, Frame, run_suite
from edge_pipeline.edge.ra_runs.runs import ScoringRun, scoring_runs
from edge_pipeline.edge.writers import SubmissionWriter

YEAR = 2025
PAIR_EQUAL = "expect_column_pair_values_to_be_equal"
IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
SUM_BETWEEN = "expect_column_sum_to_be_between"


@dataclass(frozen=True)
class Base:
    warehouse: Path
    ra: Path  # the run's RA reports as `score` wrote them (the outbox)
    run: ScoringRun
    voided_claim: str
    voided_supplementals: tuple[tuple[str, int], ...]  # (fileIdentifier, recordIdentifier)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def _strip(row: dict, *drop: str) -> dict:
    keep = {k: v for k, v in row.items() if k not in drop and k != "record_position"}
    return {k: v for k, v in keep.items() if not k.endswith("record_identifier")}


def write_void(warehouse: Path, folder: Path) -> tuple[str, tuple[tuple[str, int], ...]]:
    """An ESMCS voiding the active claim that carries the most supplemental adds, built from
    the claim's landing rows; returns the claim and its supplementals (file, record)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ((claim, member),) = _rows(
            con,
            """
            SELECT s.original_claim_identifier, min(s.insured_member_identifier)
            FROM supplemental_record s
            JOIN active_medical_claim m ON m.claim_identifier = s.original_claim_identifier
              AND m.member_id = s.insured_member_identifier
            GROUP BY 1 HAVING bool_and(upper(trim(s.add_delete_void_code)) = 'A')
            ORDER BY count(*) DESC, 1 LIMIT 1
            """,
        )
        supplementals = tuple(
            _rows(
                con,
                "SELECT file_identifier, record_identifier FROM supplemental_record "
                "WHERE original_claim_identifier = ? ORDER BY ALL",
                [claim],
            )
        )
        cursor = con.execute("SELECT * FROM medical_claim WHERE claim_identifier = ?", [claim])
        names = [d[0] for d in cursor.description]
        (raw,) = cursor.fetchall()
        header = dict(zip(names, raw, strict=True))
        fid, rid = header["file_identifier"], header["record_identifier"]
        (file_row,) = _rows(
            con,
            "SELECT execution_zone, icd_release, issuer_id FROM submission_file "
            "WHERE file_identifier = ? AND status = 'loaded'",
            [fid],
        )
        (plan,) = _rows(
            con,
            "SELECT insurance_plan_identifier FROM submission_plan WHERE file_identifier = ? "
            "AND record_identifier = ?",
            [fid, header["plan_record_identifier"]],
        )[0]
        diagnoses = [
            code
            for (code,) in _rows(
                con,
                "SELECT diagnosis_code FROM medical_claim_diagnosis WHERE file_identifier = ? "
                "AND record_identifier = ? ORDER BY diagnosis_sequence",
                [fid, rid],
            )
        ]
        cursor = con.execute(
            "SELECT * FROM medical_claim_line WHERE file_identifier = ? "
            "AND claim_record_identifier = ? ORDER BY record_identifier",
            [fid, rid],
        )
        line_names = [d[0] for d in cursor.description]
        lines = []
        for line in cursor.fetchall():
            values = dict(zip(line_names, line, strict=True))
            modifiers = [
                m
                for (m,) in _rows(
                    con,
                    "SELECT service_modifier_code FROM medical_claim_line_modifier "
                    "WHERE file_identifier = ? AND record_identifier = ? "
                    "ORDER BY modifier_sequence",
                    [fid, values["record_identifier"]],
                )
            ]
            lines.append({**_strip(values, "file_identifier"), "service_modifier_code": modifiers})
    finally:
        con.close()
    zone, icd_release, issuer = file_row
    processed = dt.datetime.fromisoformat(header["claim_processed_datetime"]) + dt.timedelta(
        days=30
    )
    claim_values = {
        **_strip(header, "file_identifier"),
        "insured_member_identifier": member,
        "claim_identifier": f"{claim}V",
        "original_claim_identifier": claim,
        "void_replace_code": "V",
        "claim_processed_datetime": processed.isoformat(timespec="seconds"),
        "diagnosis_code": diagnoses,
        "line": lines,
    }
    folder.mkdir(parents=True, exist_ok=True)
    void_fid = f"{issuer}M999001"
    path = folder / f"{issuer}.M.D06012026T080000.{zone}.xml"
    header_values = {
        "file_identifier": void_fid,
        "execution_zone": zone,
        "icd_release": icd_release,
        "generation_datetime": "2026-06-01T08:00:00",
        "submission_type": "M",
    }
    with SubmissionWriter(ESMCS, path, header_values, {"issuer_identifier": issuer}) as writer:
        writer.begin_group({"insurance_plan_identifier": plan})
        writer.write(claim_values)
        writer.end_group()
        writer.close()
    return claim, supplementals


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    started = time.perf_counter()
    root = tmp_path_factory.mktemp("quality")
    warehouse = root / "w.duckdb"
    cli("synth", "--out", str(root / "in"), "--enrollees", "150", "--seed", "11")
    cli("validate", str(root / "in"), "--warehouse", str(warehouse), "--out", str(root / "p1"))
    claim, supplementals = write_void(warehouse, root / "in2")
    cli(
        "validate", str(root / "in2"), "--warehouse", str(warehouse), "--out", str(root / "p1b"),
        "--plan-registry", str(root / "in" / "plan_registry.csv"),
        "--code-lists", str(root / "in"),
    )  # fmt: skip
    cli(
        "score", "--warehouse", str(warehouse), "--benefit-year", str(YEAR),
        "--out", str(root / "ra"),
        "--market-pool", str(root / "in" / "market_pool.csv"),
        "--gcf", str(root / "in" / "gcf.csv"),
    )  # fmt: skip
    (ra,) = [p for p in (root / "ra").iterdir() if p.is_dir()]
    cli(
        "load-outbound", str(root / "p1"), str(root / "p1b"), str(ra), "--warehouse", str(warehouse)
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (run,) = scoring_runs(con, YEAR)
        loaded = _rows(
            con,
            "SELECT report_type FROM outbound_file WHERE status = 'loaded' "
            "AND report_type LIKE 'RA%' ORDER BY 1",
        )
        markets = _rows(con, "SELECT count(*) FROM transfer_estimate WHERE source = 'market'")
    finally:
        con.close()
    assert [t for (t,) in loaded] == ["RACSD", "RACSS", "RARSD", "RARSS", "RATEE", "RAUF"]
    assert markets[0][0] > 0  # the estimate has the other issuers' plans of the pool
    print(f"\nbase warehouse built in {time.perf_counter() - started:.1f}s")
    return Base(warehouse, ra, run, claim, supplementals)


@pytest.fixture
def con(base: Base, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private copy of the base warehouse (tests tamper with it)."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(base.warehouse, copy)
    connection = duckdb.connect(str(copy))
    yield connection
    connection.close()


def _failed(check: QualityCheck) -> dict[tuple[str, str, str | None], list[dict]]:
    return {
        (f.frame, f.expectation_type, f.column or f.kwargs.get("column_A")): f.unexpected_rows
        for f in check.outcome.failed
    }


def _pairs(rows: list[dict], *columns: str) -> list[tuple]:
    return sorted(tuple(row[c] for c in columns) for row in rows)


PHI_COLUMNS = {"member_id", "insured_member_identifier", "birth_date", "subscriber_id"}


def _assert_no_phi(check: QualityCheck) -> None:
    for failed in check.outcome.failed:
        for row in failed.unexpected_rows:
            assert not PHI_COLUMNS & set(row), row
    for row in check.rows:
        assert not PHI_COLUMNS & set(row), row


def _resend(
    con: duckdb.DuckDBPyConnection, base: Base, code: str, edit: Edit | None, folder: Path
) -> Resent:
    """The run's ``code`` report (TE, CD, ...) edited, re-sent as a newer snapshot and loaded
    with the real loader: it must be XSD-valid and replace the report it was copied from."""
    (original,) = base.ra.glob(f"*.{code}.*.xml")
    resent = resend(original, folder, edit)
    assert xsd_errors(resent.path) == []
    result = load_outbound_file(con, resent.path)
    assert (result.status, result.outbound_file_identifier) == (
        "loaded",
        resent.outbound_file_identifier,
    ), result.error
    statuses = _rows(
        con,
        "SELECT status, count(*) FROM outbound_file WHERE report_type = ? GROUP BY 1 ORDER BY 1",
        [result.report_type],
    )
    assert statuses == [("loaded", 1), ("replaced", 1)]
    return resent


# --------------------------------------------------------------------------- the runner


def test_gx_import_and_runner_return_plain_values() -> None:
    import pandas as pd

    started = time.perf_counter()
    outcome = run_suite(
        "runner",
        Frame(
            "numbers",
            pd.DataFrame({"id": [1, 2, 3], "x": [0.1, 0.2, 5.0]}),
            [
                Expect(BETWEEN, {"column": "x", "min_value": 0, "max_value": 1}, "small x"),
                Expect("expect_table_row_count_to_equal", {"value": 3}),
            ],
        ),
    )
    print(f"\nfirst GX suite (import included): {time.perf_counter() - started:.2f}s")
    assert not outcome.success
    assert outcome.statistics["evaluated_expectations"] == 2
    assert outcome.statistics["unsuccessful_expectations"] == 1
    (failed,) = outcome.failed
    assert (failed.frame, failed.expectation_type, failed.column) == ("numbers", BETWEEN, "x")
    assert failed.unexpected_count == 1
    assert failed.unexpected_rows == [{"id": 3, "x": 5.0}]
    assert failed.description == "small x"
    assert outcome.rows == {"numbers": 3}
    with pytest.raises(ValueError, match="unknown Great Expectations expectation"):
        run_suite("bad", Frame("f", pd.DataFrame({"a": [1]}), [Expect("expect_nonsense", {})]))


# --------------------------------------------------------------------------- clean data


def test_the_clean_warehouse_passes_every_suite(base: Base, con: duckdb.DuckDBPyConnection) -> None:
    timings = {}
    for checker in (check_unlinked_supplemental, check_transfer_elements, check_outbound_linkage):
        started = time.perf_counter()
        check = checker(con, base.run)
        timings[checker.__name__] = round(time.perf_counter() - started, 2)
        assert check.success, [
            (f.frame, f.expectation_type, f.unexpected_rows[:3]) for f in check.outcome.failed
        ]
        assert check.outcome.statistics["unsuccessful_expectations"] == 0
        assert all(n > 0 for n in check.outcome.rows.values()), check.outcome.rows
        _assert_no_phi(check)
    print(f"\nclean suites: {timings}")


def test_the_voided_claims_supplementals_are_listed_as_unlinked(
    base: Base, con: duckdb.DuckDBPyConnection
) -> None:
    check = check_unlinked_supplemental(con, base.run)
    listed = {(r["file_identifier"], r["record_identifier"]) for r in check.rows}
    assert set(base.voided_supplementals) <= listed  # the void unlinked them: R10 in RACSD
    assert all(r["racsd_reason_code"] == "R10" for r in check.rows)
    assert set(check.rows[0]) == {
        "file_identifier",
        "record_identifier",
        "action",
        "racsd_reason_code",
    }


# --------------------------------------------------------------------------- check 1


def test_racsd_including_a_supplemental_whose_claim_was_voided_fails(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    record = base.voided_supplementals[0]
    _resend(con, base, "CD", include_unlinked(record), tmp_path / "outbox")
    (reported,) = _rows(
        con,
        "SELECT included, category, reason_code FROM reported_ra_claim_selection "
        "WHERE record_kind = 'supplemental' AND file_identifier = ? AND record_identifier = ?",
        list(record),
    )
    assert reported == ("Y", "supplemental_claim", None)
    check = check_unlinked_supplemental(con, base.run)
    assert not check.success
    failed = _failed(check)
    assert set(failed) == {
        ("records", PAIR_EQUAL, "unlinked"),
        ("records", SUM_BETWEEN, "unlinked"),
    }
    rows = failed["records", PAIR_EQUAL, "unlinked"]
    assert _pairs(rows, "file_identifier", "record_identifier") == [record]
    assert rows[0]["racsd_included"] == "Y" and rows[0]["linked"] is False
    count = check.outcome.failure(SUM_BETWEEN)
    assert count.observed_value == count.kwargs["max_value"] + 1
    _assert_no_phi(check)


def test_racsd_missing_one_unlinked_entry_fails_the_count(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    record = base.voided_supplementals[-1]
    _resend(con, base, "CD", drop_selection("unlinked_supplemental", record), tmp_path / "outbox")
    check = check_unlinked_supplemental(con, base.run)
    failed = _failed(check)
    assert set(failed) == {
        ("records", PAIR_EQUAL, "unlinked"),
        ("records", IN_SET, "in_racsd"),
        ("records", SUM_BETWEEN, "unlinked"),
    }
    for key in (("records", PAIR_EQUAL, "unlinked"), ("records", IN_SET, "in_racsd")):
        assert _pairs(failed[key], "file_identifier", "record_identifier") == [record]
    count = check.outcome.failure(SUM_BETWEEN)
    assert (count.kwargs["min_value"], count.observed_value) == (
        len(check.rows) - 1,
        len(check.rows),
    )


def test_racsd_calling_a_linked_record_unlinked_fails(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    (record,) = _rows(
        con,
        "SELECT file_identifier, record_identifier FROM reported_ra_claim_selection "
        "WHERE record_kind = 'supplemental' AND included = 'Y' ORDER BY ALL LIMIT 1",
    )
    _resend(con, base, "CD", unlink_included(record), tmp_path / "outbox")
    check = check_unlinked_supplemental(con, base.run)
    failed = _failed(check)
    assert set(failed) == {
        ("records", PAIR_EQUAL, "unlinked"),
        ("records", SUM_BETWEEN, "unlinked"),
    }
    assert _pairs(
        failed["records", PAIR_EQUAL, "unlinked"], "file_identifier", "record_identifier"
    ) == [record]


# --------------------------------------------------------------------------- check 2


RATEE_KEY = ("state", "risk_pool", "plan_id", "rating_area")


def _ratee_keys(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    return _rows(con, f"SELECT {', '.join(RATEE_KEY)} FROM reported_ratee ORDER BY ALL")


def test_a_faithfully_resent_ratee_passes(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    before = _ratee_keys(con)
    _resend(con, base, "TE", None, tmp_path / "outbox")
    assert _ratee_keys(con) == before
    check = check_transfer_elements(con, base.run)
    assert check.success, [(f.frame, f.column, f.unexpected_rows[:3]) for f in check.outcome.failed]


@pytest.mark.parametrize(
    ("element", "delta", "pick", "expectation"),
    [
        ("planLiabilityRiskScore", Decimal("0.010"), 0, ("ratee", BETWEEN, "plrs_difference")),
        (
            "billableMemberMonths",
            Decimal(1),
            -1,
            ("plans", BETWEEN, "billable_member_months_excess"),
        ),
    ],
    ids=["plrs+0.010", "billable_member_months+1"],
)
def test_a_perturbed_ratee_entry_fails_with_that_plan_and_rating_area(
    base: Base,
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    element: str,
    delta: Decimal,
    pick: int,
    expectation: tuple[str, str, str],
) -> None:
    key = _ratee_keys(con)[pick]
    _resend(con, base, "TE", bump_ratee(key, element, delta), tmp_path / "outbox")
    check = check_transfer_elements(con, base.run)
    assert not check.success
    failed = _failed(check)
    (row,) = failed[expectation]
    if element == "planLiabilityRiskScore":
        # compared per rating area (the plan has no mover)
        assert tuple(row[c] for c in RATEE_KEY) == key
        assert row["plrs_difference"] == pytest.approx(0.010, abs=0.0006)
    else:
        # months are compared per plan, over its rating areas (a mover's months are split)
        assert tuple(row[c] for c in RATEE_KEY[:3]) == key[:3]
        assert row["ratee_billable_member_months"] == pytest.approx(
            row["rarsd_billable_member_months"] + 1, abs=row["months_tolerance"]
        )
    assert {k for k in failed if k[0] != "transfers"} == {expectation}
    # the transfer is recomputed from this RATEE: it no longer gives the estimate of the plan,
    # and every plan it moves is of that plan's pool; the estimate's pool still sums to zero
    assert ("transfers", BETWEEN, "transfer_difference") in failed
    moved = failed["transfers", BETWEEN, "transfer_difference"]
    assert {(r["state"], r["risk_pool"]) for r in moved} == {key[:2]}
    (plan,) = [r for r in moved if r["plan_id"] == key[2]]
    assert plan["source"] == "issuer" and plan["transfer_difference"] > 1
    assert plan["recomputed_transfer"] != plan["expected_transfer"]
    assert [r for r in check.rows if r["kind"] in ("ratee", "plan")]
    _assert_no_phi(check)


def test_a_transfer_estimate_row_off_by_five_dollars_fails(
    base: Base, con: duckdb.DuckDBPyConnection
) -> None:
    # one plan x rating area row (the unit of the formula, REGTAP FAQ 8487)
    (plan, area) = _rows(
        con,
        "SELECT plan_id, rating_area FROM transfer_estimate WHERE source = 'issuer' "
        "ORDER BY plan_id, rating_area LIMIT 1",
    )[0]
    con.execute(
        "UPDATE transfer_estimate SET transfer_total = transfer_total + 5 "
        "WHERE plan_id = ? AND rating_area = ?",
        [plan, area],
    )
    check = check_transfer_elements(con, base.run)
    failed = _failed(check)
    assert set(failed) == {
        ("transfers", BETWEEN, "transfer_difference"),
        ("pools", BETWEEN, "pool_total"),
    }
    (row,) = failed["transfers", BETWEEN, "transfer_difference"]
    assert (row["plan_id"], row["rating_area"]) == (plan, area)
    assert row["transfer_difference"] == pytest.approx(5.0)
    (pool,) = failed["pools", BETWEEN, "pool_total"]
    assert (pool["state"], pool["risk_pool"], pool["pool_total"]) == ("NC", "individual", 5.0)


def test_a_pool_not_summing_to_zero_fails_only_the_pool(
    base: Base, con: duckdb.DuckDBPyConnection
) -> None:
    # each plan within its $1 tolerance, the pool 6 x $0.80 = $4.80 off
    con.execute("UPDATE transfer_estimate SET transfer_total = transfer_total + 0.80")
    check = check_transfer_elements(con, base.run)
    failed = _failed(check)
    assert set(failed) == {("pools", BETWEEN, "pool_total")}
    (pool,) = failed["pools", BETWEEN, "pool_total"]
    assert pool["pool_total"] == pytest.approx(0.80 * pool["plans"])
    assert [r["kind"] for r in check.rows] == ["pool"]


# --------------------------------------------------------------------------- check 3


def _outbound_row(con: duckdb.DuckDBPyConnection, inbound: str, identifier: str) -> None:
    con.execute(
        """
        INSERT INTO outbound_file BY NAME
        SELECT nextval('outbound_file_load_id') AS outbound_load_id,
          ? AS outbound_file_identifier, report_type, file_type_code,
          ? AS inbound_file_identifier, issuer_id, execution_zone, generated_at, path,
          file_name || '.copy' AS file_name, size_bytes, sha256, loaded_at, status
        FROM outbound_file WHERE report_type = 'ESFAR' ORDER BY outbound_load_id LIMIT 1
        """,
        [identifier, inbound],
    )


def test_an_outbound_report_naming_an_unknown_inbound_file_fails(
    base: Base, con: duckdb.DuckDBPyConnection
) -> None:
    _outbound_row(con, "99999X000000", "OUT-UNKNOWN")
    check = check_outbound_linkage(con, base.run)
    failed = _failed(check)
    assert set(failed) == {("reports", IN_SET, "inbound_known")}
    (row,) = failed["reports", IN_SET, "inbound_known"]
    assert (row["outbound_file_identifier"], row["inbound_file_identifier"]) == (
        "OUT-UNKNOWN",
        "99999X000000",
    )
    assert row["same_zone"] is None


def test_an_outbound_report_naming_an_inbound_file_of_another_zone_fails(
    base: Base, con: duckdb.DuckDBPyConnection
) -> None:
    con.execute(
        """
        INSERT INTO submission_file BY NAME
        SELECT nextval('submission_file_load_id') AS load_id, '13460P000777' AS file_identifier,
          submission_type, layout, 'P' AS execution_zone, issuer_id, path, file_name,
          loaded_at, 'loaded' AS status
        FROM submission_file ORDER BY load_id LIMIT 1
        """
    )
    _outbound_row(con, "13460P000777", "OUT-OTHER-ZONE")
    check = check_outbound_linkage(con, base.run)
    failed = _failed(check)
    assert set(failed) == {("reports", IN_SET, "same_zone")}
    (row,) = failed["reports", IN_SET, "same_zone"]
    assert (row["outbound_file_identifier"], row["inbound_zones"], row["execution_zone"]) == (
        "OUT-OTHER-ZONE",
        "P",
        base.run.execution_zone,
    )


def test_reported_record_identifiers_that_do_not_exist_fail(
    base: Base, con: duckdb.DuckDBPyConnection
) -> None:
    # a Phase 1 detail status and a RACSD entry each citing a record the file does not have
    (outbound, fid, rid) = _rows(
        con,
        "SELECT outbound_file_identifier, file_identifier, record_identifier "
        "FROM reported_record_status WHERE level = 'claim' ORDER BY ALL LIMIT 1",
    )[0]
    con.execute(
        "UPDATE reported_record_status SET record_identifier = 987654 "
        "WHERE outbound_file_identifier = ? AND record_identifier = ? AND level = 'claim'",
        [outbound, rid],
    )
    (racsd_fid, racsd_rid) = _rows(
        con,
        "SELECT file_identifier, record_identifier FROM reported_ra_claim_selection "
        "WHERE record_kind = 'pharmacy' ORDER BY ALL LIMIT 1",
    )[0]
    con.execute(
        "UPDATE reported_ra_claim_selection SET record_identifier = 876543 "
        "WHERE record_kind = 'pharmacy' AND file_identifier = ? AND record_identifier = ?",
        [racsd_fid, racsd_rid],
    )
    check = check_outbound_linkage(con, base.run)
    failed = _failed(check)
    assert set(failed) == {("records", IN_SET, "record_exists")}
    rows = failed["records", IN_SET, "record_exists"]
    assert _pairs(rows, "file_identifier", "record_identifier", "level") == sorted(
        [(fid, 987654, "claim"), (racsd_fid, 876543, "pharmacy")]
    )
    assert sorted(r["report_type"] for r in check.rows) == sorted(
        ["RACSD", _rows(con, "SELECT report_type FROM outbound_file WHERE "
                             "outbound_file_identifier = ?", [outbound])[0][0]]
    )  # fmt: skip
    _assert_no_phi(check)


# --------------------------------------------------------------------------- Dagster


def _stub_defs(warehouse: Path) -> dg.Definitions:
    """The three checks on stand-ins of their assets (same keys and partitions) plus an asset
    downstream of ``transfer_reconciliation``, over ``warehouse``: the checks read only the warehouse,
    so the real upstream assets (outbox, transfer settings) are not needed to exercise them."""

    @dg.asset(key=REPORTED_RA_REPORTS, partitions_def=benefit_years)
    def reported_ra_reports() -> None:
        return None

    @dg.asset(key=TRANSFER_RECONCILIATION, partitions_def=benefit_years)
    def transfer_reconciliation() -> None:
        return None

    @dg.asset(partitions_def=benefit_years, deps=[TRANSFER_RECONCILIATION])
    def downstream_of_transfers() -> None:
        return None

    return dg.Definitions(
        assets=[reported_ra_reports, transfer_reconciliation, downstream_of_transfers],
        asset_checks=RECONCILIATION_CHECKS,
        jobs=[dg.define_asset_job("reconcile", selection=dg.AssetSelection.all())],
        resources={WAREHOUSE_KEY: WarehouseResource(database=str(warehouse))},
    )


def test_the_checks_are_partitioned_pooled_and_blocking_as_declared() -> None:
    specs = {spec.name: spec for check in RECONCILIATION_CHECKS for spec in check.check_specs}
    assert {name: (spec.asset_key, spec.blocking) for name, spec in specs.items()} == {
        UNLINKED_SUPPLEMENTAL_RECORDS_RECONCILE: (REPORTED_RA_REPORTS, True),
        TRANSFER_ELEMENTS_RECONCILE: (TRANSFER_RECONCILIATION, True),
        OUTBOUND_REPORTS_LINK_TO_INBOUND: (REPORTED_RA_REPORTS, False),
    }
    assert all(spec.partitions_def == benefit_years for spec in specs.values())
    assert all(check.node_def.pool == DUCKDB_WRITER_POOL for check in RECONCILIATION_CHECKS)
    assert reconciliation.defs.asset_checks is not None


def test_a_failing_blocking_check_stops_downstream_and_metadata_has_no_member_data(
    base: Base, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute(
        "UPDATE transfer_estimate SET transfer_total = transfer_total + 5 "
        "WHERE plan_id = (SELECT min(plan_id) FROM transfer_estimate WHERE source = 'issuer')"
    )
    members = [m for (m,) in _rows(con, "SELECT DISTINCT insured_member_identifier FROM enrollee")]
    con.close()  # the checks open the warehouse themselves
    defs = _stub_defs(tmp_path / "w.duckdb")
    with warnings.catch_warnings(), dg.instance_for_test() as instance:
        warnings.simplefilter("ignore", dg.PreviewWarning)
        register_benefit_year(instance, YEAR)
        result = defs.resolve_job_def("reconcile").execute_in_process(
            instance=instance, partition_key=str(YEAR), raise_on_error=False
        )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {n: e.passed for n, e in evaluations.items()} == {
        UNLINKED_SUPPLEMENTAL_RECORDS_RECONCILE: True,
        TRANSFER_ELEMENTS_RECONCILE: False,
        OUTBOUND_REPORTS_LINK_TO_INBOUND: True,
    }
    failing = evaluations[TRANSFER_ELEMENTS_RECONCILE]
    assert failing.severity == dg.AssetCheckSeverity.ERROR
    assert failing.partition == str(YEAR)
    metadata = {k: getattr(v, "value", v) for k, v in failing.metadata.items()}
    assert metadata["success"] is False
    assert metadata["statistics"]["unsuccessful_expectations"] == 2
    assert "transfer_difference" in metadata["failed_expectations_md"]
    assert "| 5.0 |" in metadata["failed_samples"]
    unlinked = evaluations[UNLINKED_SUPPLEMENTAL_RECORDS_RECONCILE].metadata
    assert unlinked["unlinked_records"].value == len(check_unlinked_supplemental_rows(base))
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert "downstream_of_transfers" not in started  # blocked by the failed check
    text = " ".join(
        str(getattr(v, "value", v)) + str(getattr(v, "records", ""))
        for e in evaluations.values()
        for v in e.metadata.values()
    )
    assert [m for m in members if m in text] == []


def check_unlinked_supplemental_rows(base: Base) -> list[dict]:
    con = duckdb.connect(str(base.warehouse), read_only=True)
    try:
        return check_unlinked_supplemental(con, base.run).rows
    finally:
        con.close()
