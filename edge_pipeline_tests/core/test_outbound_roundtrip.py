"""Phase 1 outbound reports, round trip: shadow rows -> XML -> XSD-valid -> reported rows.

For each file type the three reports are written from ``shadow_*``, validated against their
shipped XSDs, loaded back, and ``reported_*`` must equal ``shadow_*`` column for column:
file status, record statuses with cascade reasons, errors, level counts, error frequencies and
the summaries' issuer/plan blocks and rollups.  (``shadow_file_status.error_count`` is not
stated by an ESFAR; the summary's error code frequencies must add up to it.)
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from lxml import etree
from outbound_support import PLAN_B, VERIFIED_AT, Err, Scenario, prepare, rows

from edge_pipeline.edge.layouts.outbound import FREQUENCY_BY_TYPE, OUTBOUND_BY_ROOT, PHASE1_REPORTS
from edge_pipeline.edge.outbound import load_outbound_file, write_phase1_reports
from edge_pipeline.edge.outbound.core.xsd import load_schema
from edge_pipeline.edge.outbound.phase1.summary import summary_content
from edge_pipeline.edge.outbound.phase1.tables import SHADOW_TABLES

GENERATED = VERIFIED_AT
FAR_DUPLICATE = Err("coverageEndDate", "2025-02-28", "E131", "logical", "end after next start")

SCENARIOS = [
    Scenario(
        "E",
        "E00000000001",
        record_errors={
            4: [Err("coverageStartDate", "2025-03-01", "E105", "logical", "outside the year")],
            5: [Err("insuredMemberBirthDate", "1990-01-01", "E020", "logical")],
            8: [Err("rateAreaIdentifier", None, "E090", "required", None)],
            9: [Err("coverageEndDate", "2025-02-28", "E130", "logical"), FAR_DUPLICATE],
            11: [Err("coverageStartDate", "04/01/2025", "E101", "face")],
        },
    ),
    Scenario(
        "M",
        "M00000000001",
        record_errors={
            7: [Err("serviceCode", "XXXXX", "M301", "referential", "code & <unknown>")],
            9: [Err("billTypeCode", None, "M210", "required", None)],
            11: [Err("insurancePlanIdentifier", PLAN_B, "M110", "referential")],
            16: [Err(None, None, "M999", "logical", "claim does not balance")],
        },
    ),
    Scenario(
        "M",
        "M00000000002",
        header_errors=[Err("interfaceControlReleaseNumber", "9.9", "H010", "face")],
        record_errors={4: [Err("serviceLineNumber", "", "M020", "required")]},
        zone="P",
    ),
    Scenario(
        "P",
        "P00000000001",
        record_errors={
            7: [Err("nationalDrugCode", "123", "P101", "face")],
            8: [Err("prescriptionFillDate", "bad-date", "P102", "face")],
        },
    ),
    Scenario(
        "P",
        "P00000000002",
        record_errors={1: [Err("issuerIdentifier", "12345", "P001", "logical")]},
        zone="V",
    ),
    Scenario(
        "S",
        "S00000000001",
        record_errors={4: [Err("originalClaimIdentifier", "C002", "S201", "referential")]},
    ),
]
IDS = [s.file_identifier for s in SCENARIOS]
NAME = re.compile(r"^12345\.(?P<code>[A-Z]{2})\.D04022025T093015\.(?P<zone>[TPV])\.xml$")


#: Shadow columns an outbound report does not state.
NOT_REPORTED = {"shadow_file_status": {"error_count"}}
#: Shadow tables of accepted records only: empty for a file without accepted records.
ACCEPTED_ONLY = {"shadow_data_element_frequency"}


@pytest.fixture(params=SCENARIOS, ids=IDS)
def round_trip(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[duckdb.DuckDBPyConnection, Scenario, list[Path]]:
    scenario: Scenario = request.param
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    load_id = prepare(con, tmp_path / "inbox", scenario)
    paths = write_phase1_reports(
        con, scenario.file_identifier, tmp_path / "outbox", GENERATED, load_id=load_id
    )
    for path in paths:
        result = load_outbound_file(con, path)
        assert result.status == "loaded", result.error
    yield con, scenario, paths
    con.close()


def _shadow_vs_reported(con: duckdb.DuckDBPyConnection, table: str, fid: str) -> None:
    columns = [c for c in SHADOW_TABLES[table] if c not in NOT_REPORTED.get(table, set())]
    where = "WHERE file_identifier = $fid"
    reported = table.replace("shadow_", "reported_")
    shadow_rows = rows(con, table, columns, where, {"fid": fid})
    accepted = con.execute(
        "SELECT count(*) FROM shadow_record_status WHERE file_identifier = ? AND status = 'A'",
        [fid],
    ).fetchone()[0]
    assert shadow_rows or (table in ACCEPTED_ONLY and not accepted), f"{table} is empty"
    assert rows(con, reported, columns, where, {"fid": fid}) == shadow_rows


def test_reports_are_named_and_valid(round_trip) -> None:
    _, scenario, paths = round_trip
    reports = PHASE1_REPORTS[scenario.submission_type]
    codes = [NAME.match(p.name)["code"] for p in paths]
    assert codes == [
        reports.file_status_code,
        reports.detail.file_code,
        reports.summary.file_code,
        FREQUENCY_BY_TYPE[scenario.submission_type].file_code,
    ]
    assert {NAME.match(p.name)["zone"] for p in paths} == {scenario.zone}
    for path in paths:
        document = etree.parse(str(path))
        layout = OUTBOUND_BY_ROOT[etree.QName(document.getroot()).localname]
        schema = load_schema(layout)
        assert schema.validate(document), f"{path.name}: {schema.error_log}"
    assert not list(paths[0].parent.glob(".*.part"))


@pytest.mark.parametrize("table", list(SHADOW_TABLES))
def test_reported_equals_shadow(round_trip, table: str) -> None:
    con, scenario, _ = round_trip
    _shadow_vs_reported(con, table, scenario.file_identifier)


def test_header_rejection_and_cascade_reasons(round_trip) -> None:
    con, scenario, _ = round_trip
    fid = {"fid": scenario.file_identifier}
    status = con.execute(
        "SELECT status FROM reported_file_status WHERE file_identifier = $fid", fid
    ).fetchone()[0]
    reasons = Counter(
        dict(
            con.execute(
                "SELECT rejection_reason, count(*) FROM reported_record_status "
                "WHERE file_identifier = $fid GROUP BY ALL",
                fid,
            ).fetchall()
        )
    )
    header_errors = con.execute(
        "SELECT error_code FROM reported_record_error WHERE file_identifier = $fid "
        "AND level = 'file' AND report_type = 'ESFAR'",
        fid,
    ).fetchall()
    expected = {
        "E00000000001": {
            None: 3,
            "own_error": 5,
            "enrollee_rejected": 1,
            "all_children_rejected": 2,
        },
        "M00000000001": {None: 5, "own_error": 4, "claim_rejected": 3, "plan_rejected": 4},
        "M00000000002": {"header_rejected": 16},
        "P00000000001": {None: 5, "own_error": 2, "all_children_rejected": 1},
        "P00000000002": {"own_error": 1, "issuer_rejected": 7},
        "S00000000001": {None: 5, "own_error": 1},
    }[scenario.file_identifier]
    assert reasons == Counter(expected)
    assert status == ("R" if scenario.header_errors else "A")
    assert [code for (code,) in header_errors] == [e.code for e in scenario.header_errors]


def test_error_code_frequencies(round_trip) -> None:
    con, scenario, _ = round_trip
    fid = {"fid": scenario.file_identifier}
    expected = rows(
        con,
        "shadow_record_error",
        ["error_code", "count(*)"],
        "WHERE file_identifier = $fid GROUP BY error_code",
        fid,
    )
    reported = rows(
        con,
        "reported_error_frequency",
        ["error_code", "frequency"],
        "WHERE file_identifier = $fid",
        fid,
    )
    assert reported == expected


def test_summary_blocks_and_rollups(round_trip) -> None:
    con, scenario, _ = round_trip
    fid = scenario.file_identifier
    (load_id,) = con.execute(
        "SELECT load_id FROM shadow_file_status WHERE file_identifier = ?", [fid]
    ).fetchone()
    content = summary_content(con, PHASE1_REPORTS[scenario.submission_type].summary, fid, load_id)
    scope_columns = ["scope_level", "scope_record_identifier", "scope_key", "status"]
    written = sorted(
        (tuple(r[c] for c in scope_columns) for r in content.scope_rows()),
        key=lambda row: tuple((v is not None, str(v)) for v in row),
    )
    assert (
        rows(con, "reported_scope_summary", scope_columns, "WHERE file_identifier = $f", {"f": fid})
        == written
    )
    count_rows = content.count_rows()
    count_columns = list(count_rows[0])
    written_counts = sorted(
        (tuple(r[c] for c in count_columns) for r in count_rows),
        key=lambda row: tuple((v is not None, str(v)) for v in row),
    )
    assert (
        rows(
            con, "reported_summary_counts", count_columns, "WHERE file_identifier = $f", {"f": fid}
        )
        == written_counts
    )
    # every rollup adds up to the level's counts: nothing is dropped for an unreadable date
    level = content.layout.source.level
    if scenario.submission_type != "E":
        total = sum(r.counts.received for r in content.issuer.rollup)
        assert total == content.counts[level].received


def test_enrollment_member_months(tmp_path: Path) -> None:
    """Member months per calendar month covered, accepted vs rejected, per plan and year."""
    scenario = SCENARIOS[0]
    con = duckdb.connect()
    load_id = prepare(con, tmp_path, scenario)
    content = summary_content(con, PHASE1_REPORTS["E"].summary, scenario.file_identifier, load_id)
    issuer = {
        (r.year, r.month): (r.accepted_months, r.rejected_months) for r in content.issuer.rollup
    }
    # period 3 (A): 2024-12..2025-02; 4 (R): 2025-03; 6 (R): 2025-01..12; 8, 9 (R): Jan, Feb
    assert issuer[(2024, None)] == (1, 0)
    assert issuer[(2024, 12)] == (1, 0)
    assert issuer[(2025, 1)] == (1, 2)
    assert issuer[(2025, 3)] == (0, 2)
    assert issuer[(2025, None)] == (2, 15)
    plans = {p.key: p for p in content.plans}
    assert [p.status for p in content.plans] == ["A", "R"]
    assert plans[PLAN_B].counts["enrollee"].received == 2  # M001 and M003
    assert plans[PLAN_B].counts["enrollment_period"].rejected == 3


def test_writing_is_deterministic_and_never_overwrites(tmp_path: Path) -> None:
    scenario = SCENARIOS[1]
    con = duckdb.connect()
    prepare(con, tmp_path / "inbox", scenario)
    first = write_phase1_reports(con, scenario.file_identifier, tmp_path / "a", GENERATED)
    second = write_phase1_reports(con, scenario.file_identifier, tmp_path / "b", GENERATED)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    # the same reports again into the same folder: a no-op
    assert write_phase1_reports(con, scenario.file_identifier, tmp_path / "a", GENERATED) == first
    # a different report under an existing name is refused, the existing file is kept
    before = first[0].read_bytes()
    con.execute("UPDATE shadow_file_status SET status = 'R'")
    with pytest.raises(FileExistsError, match="not overwritten"):
        write_phase1_reports(con, scenario.file_identifier, tmp_path / "a", GENERATED)
    assert first[0].read_bytes() == before
    assert not list((tmp_path / "a").glob(".*.part"))


def test_missing_shadow_verification_is_an_error(tmp_path: Path) -> None:
    con = duckdb.connect()
    prepare(con, tmp_path, SCENARIOS[3])
    with pytest.raises(ValueError, match="no shadow verification"):
        write_phase1_reports(con, "NOSUCHFILE01", tmp_path / "out", GENERATED)
