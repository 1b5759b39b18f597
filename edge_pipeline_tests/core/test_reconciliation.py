"""Phase 1 reconciliation on real files: a generated issuer, loaded, verified, its reports
written from the shadow, loaded back; then the same with tampered reports.

Reports written from the shadow must agree with it exactly; every tampering must show up as
exactly the rows it implies, and nothing else.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from lxml import etree
from phase1_support import (
    NO_SUCH_RECORD,
    Issuer,
    accepted_record,
    add_to_summary_received,
    generate,
    report_of,
    set_file_status,
    single_error_record,
    tamper_detail,
    verified_warehouse,
)

from edge_pipeline.edge.outbound import load_outbound_file, write_phase1_reports
from edge_pipeline.edge.reconciliation import (
    DIFFERENCE_COLUMNS,
    ReportsMissing,
    ShadowMissing,
    conservation_violations,
    phase1_differences,
    phase1_load_id,
    refresh_phase1_reconciliation,
    reported_errors_without_record,
    select_reports,
)

GENERATED = datetime(2025, 5, 1, 12, 0, 0)
LATER = datetime(2025, 5, 2, 12, 0, 0)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Issuer, Path]:
    """The issuer and a verified warehouse no test writes to (each test works on a copy)."""
    folder = tmp_path_factory.mktemp("issuer")
    issuer = generate(folder)
    warehouse = folder / "verified.duckdb"
    verified_warehouse(issuer, warehouse)
    return issuer, warehouse


@pytest.fixture
def con(base: tuple[Issuer, Path], tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(base[1], copy)
    connection = duckdb.connect(str(copy))
    yield connection
    connection.close()


@pytest.fixture
def issuer(base: tuple[Issuer, Path]) -> Issuer:
    return base[0]


def write(
    con: duckdb.DuckDBPyConnection, fid: str, out: Path, at: datetime = GENERATED
) -> list[Path]:
    return write_phase1_reports(con, fid, out / fid, at, load_id=phase1_load_id(con, fid))


def load(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> None:
    for path in paths:
        result = load_outbound_file(con, path)
        assert result.status == "loaded", result.error


def diff_rows(con: duckdb.DuckDBPyConnection, fid: str) -> list[tuple]:
    table = phase1_differences(con, fid)
    assert table.column_names == list(DIFFERENCE_COLUMNS)
    return [
        (
            r["record_identifier"],
            r["level"],
            r["shadow_status"],
            r["reported_status"],
            r["shadow_codes"],
            r["reported_codes"],
            r["difference"],
        )
        for r in table.to_pylist()
    ]


def test_reports_written_from_the_shadow_agree_with_it(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    every = [*issuer.submissions.values(), *issuer.defects]
    for fid in every:
        load(con, write(con, fid, tmp_path / "outbox"))
    header_rejected = compared_frequencies = 0
    for fid in every:
        assert diff_rows(con, fid) == [], fid
        assert reported_errors_without_record(con, fid).num_rows == 0, fid
        assert conservation_violations(con, fid).num_rows == 0, fid
        result = refresh_phase1_reconciliation(con, fid)
        assert result.agrees and result.by_kind == {}, fid
        assert result.frequency_differences.num_rows == 0, fid
        # the FDE report is compared wherever the shadow counts something (a file without
        # accepted records has an empty one)
        counted = con.execute(
            "SELECT count(*) FROM shadow_data_element_frequency WHERE file_identifier = ?", [fid]
        ).fetchone()[0]
        assert (result.reports.frequency is not None) == (counted > 0), fid
        compared_frequencies += counted > 0
        assert result.records_compared > 0
        header_rejected += result.reports.reported_status == "R"
    assert header_rejected >= 3  # the defect files: the file row is compared there too
    assert compared_frequencies >= len(issuer.submissions)
    verdicts = con.execute(
        "SELECT count(*), sum(differences) FROM phase1_reconciliation_file"
    ).fetchall()
    assert verdicts == [(len(every), 0)]
    assert con.execute("SELECT count(*) FROM phase1_reconciliation").fetchall() == [(0,)]


def test_tampered_detail_report_shows_exactly_the_tampered_records(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    fid = issuer.submissions["ESPCS"]
    flipped = accepted_record(con, fid, "claim")
    dropped, dropped_code = single_error_record(con, fid, "claim")
    paths = write(con, fid, tmp_path / "outbox")
    tamper_detail(
        report_of(paths, "PD"), flip=flipped, drop_errors_of=dropped, copy_to_unknown=dropped
    )
    load(con, paths)

    assert diff_rows(con, fid) == sorted(
        [
            (flipped, "claim", "A", "R", [], [], "status"),
            (dropped, "claim", "R", "R", [dropped_code], [], "codes"),
            (NO_SUCH_RECORD, "claim", None, "R", [], [dropped_code], "not_in_shadow"),
        ]
    )
    unlinked = reported_errors_without_record(con, fid).to_pylist()
    assert [(r["kind"], r["record_identifier"], r["level"], r["error_code"]) for r in unlinked] == [
        ("status", NO_SUCH_RECORD, "claim", None),
        ("error", NO_SUCH_RECORD, "claim", dropped_code),
    ]
    assert {r["report_type"] for r in unlinked} == {"ESDPCE"}
    assert conservation_violations(con, fid).num_rows == 0  # the summary was left alone

    result = refresh_phase1_reconciliation(con, fid)
    assert result.by_kind == {"status": 1, "codes": 1, "not_in_shadow": 1}
    stored = con.execute(
        "SELECT record_identifier, difference FROM phase1_reconciliation "
        "WHERE file_identifier = ? ORDER BY record_identifier",
        [fid],
    ).fetchall()
    assert stored == sorted(
        [(flipped, "status"), (dropped, "codes"), (NO_SUCH_RECORD, "not_in_shadow")]
    )
    again = refresh_phase1_reconciliation(con, fid)  # idempotent: replaced, not appended
    assert again.differences.num_rows == 3
    assert con.execute("SELECT count(*) FROM phase1_reconciliation").fetchall() == [(3,)]
    assert con.execute(
        "SELECT differences FROM phase1_reconciliation_file WHERE file_identifier = ?", [fid]
    ).fetchall() == [(3,)]


def test_frequency_shadow_counts_the_accepted_records_of_the_landing_tables(
    con: duckdb.DuckDBPyConnection, issuer: Issuer
) -> None:
    """An independent count: form types of the accepted claims of a medical file."""
    fid = issuer.submissions["ESMCS"]
    expected = con.execute(
        """
        SELECT NULLIF(m.form_type_code, ''), count(*) FROM shadow_record_status s
        JOIN medical_claim m USING (file_identifier, record_identifier)
        WHERE s.file_identifier = ? AND s.level = 'claim' AND s.status = 'A' GROUP BY 1
        """,
        [fid],
    ).fetchall()
    found = con.execute(
        "SELECT value, frequency FROM shadow_data_element_frequency "
        "WHERE file_identifier = ? AND element = 'formTypeCode'",
        [fid],
    ).fetchall()
    assert expected and sorted(found) == sorted(expected)


def test_a_tampered_frequency_is_exactly_that_row(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    fid = issuer.submissions["ESMCS"]
    paths = write(con, fid, tmp_path / "outbox")
    report = report_of(paths, "MF")
    document = etree.parse(str(report))
    entry = document.getroot().find("{*}includedDataElementFrequency")
    element = entry.findtext("{*}dataElementName")
    value = entry.findtext("{*}dataElementValue")
    frequency = entry.find("{*}dataElementValueFrequency")
    shadow = int(frequency.text)
    frequency.text = str(shadow + 5)
    document.write(str(report), xml_declaration=True, encoding="UTF-8")
    load(con, paths)
    result = refresh_phase1_reconciliation(con, fid)
    assert result.differences.num_rows == 0  # the records agree; only the frequency differs
    assert not result.agrees
    assert [
        (r["element"], r["value"], r["shadow_frequency"], r["reported_frequency"], r["difference"])
        for r in result.frequency_differences.to_pylist()
    ] == [(element, value, shadow, shadow + 5, "frequency")]
    assert con.execute(
        "SELECT differences FROM phase1_reconciliation_file WHERE file_identifier = ?", [fid]
    ).fetchall() == [(1,)]


def test_a_flipped_file_status_is_the_file_row(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    fid = issuer.submissions["ESES"]
    paths = write(con, fid, tmp_path / "outbox")
    set_file_status(report_of(paths, "EH"), "R")
    load(con, paths)
    assert diff_rows(con, fid) == [(None, "file", "A", "R", [], [], "status")]


def test_a_missing_record_in_the_detail_report_is_not_reported(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    fid = issuer.submissions["ESSFS"]
    paths = write(con, fid, tmp_path / "outbox")
    detail = report_of(paths, "SD")
    record = accepted_record(con, fid, "supplemental")
    text = detail.read_text()
    start = text.index(f"<supplementalDiagnosisRecordIdentifier>{record}<")
    start = text.rindex("<includedSupplementalDiagnosisProcessingResult>", 0, start)
    end = text.index("</includedSupplementalDiagnosisProcessingResult>", start)
    end += len("</includedSupplementalDiagnosisProcessingResult>")
    detail.write_text(text[:start] + text[end:])
    load(con, paths)
    assert diff_rows(con, fid) == [(record, "supplemental", "A", None, [], [], "not_reported")]


def test_summary_counts_that_lose_records_are_conservation_violations(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    fid = issuer.submissions["ESMCS"]
    paths = write(con, fid, tmp_path / "outbox")
    add_to_summary_received(report_of(paths, "MS"), "includedPlanRecordCounts", 2)
    load(con, paths)
    rows = conservation_violations(con, fid).to_pylist()
    assert [
        (r["side"], r["level"], r["received"] - r["accepted"] - r["rejected"]) for r in rows
    ] == [("reported", "plan", 2)]
    assert rows[0]["outbound_file_identifier"].startswith(fid)
    assert conservation_violations(con, fid, sides=("shadow",)).num_rows == 0
    assert diff_rows(con, fid) == []  # the records themselves agree


def test_the_latest_report_answering_the_verified_attempt_is_compared(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    fid = issuer.submissions["ESPCS"]
    flipped = accepted_record(con, fid, "claim")
    first = write(con, fid, tmp_path / "first")
    tamper_detail(report_of(first, "PD"), flip=flipped)
    load(con, first)
    assert len(diff_rows(con, fid)) == 1

    resent = write(con, fid, tmp_path / "resent", at=LATER)  # EDGE re-sends, correct now
    load(con, resent)
    chosen = select_reports(con, fid)
    assert chosen.detail.endswith(LATER.strftime("%Y%m%d%H%M%S"))
    assert diff_rows(con, fid) == []


def test_missing_shadow_or_reports_are_clear_errors(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    fid = issuer.submissions["ESMCS"]
    with pytest.raises(ShadowMissing, match="NOSUCHFILE"):
        refresh_phase1_reconciliation(con, "NOSUCHFILE")
    with pytest.raises(ReportsMissing, match="no outbound report"):
        refresh_phase1_reconciliation(con, fid)
    paths = write(con, fid, tmp_path / "outbox")
    load(con, [report_of(paths, "MH")])  # the ESFAR (accepted) without its detail report
    with pytest.raises(ReportsMissing, match="no detail report"):
        phase1_differences(con, fid)
    assert con.execute("SELECT count(*) FROM phase1_reconciliation_file").fetchall() == [(0,)]


def test_a_header_rejected_file_with_only_its_esfar_compares_the_file_level(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    fid = issuer.header_rejected()
    assert con.execute(
        "SELECT status FROM shadow_file_status WHERE file_identifier = ?", [fid]
    ).fetchall() == [("R",)]
    paths = write(con, fid, tmp_path / "outbox")
    load(con, paths[:1])
    result = refresh_phase1_reconciliation(con, fid)
    assert result.reports.detail is None
    assert result.agrees


def test_forgetting_a_file_takes_its_verdict_reports_and_reconciliation(
    con: duckdb.DuckDBPyConnection, issuer: Issuer, tmp_path: Path
) -> None:
    from edge_pipeline.edge.warehouse.forget import forget_files

    fid, other = issuer.submissions["ESPCS"], issuer.submissions["ESSFS"]
    for key in (fid, other):
        load(con, write(con, key, tmp_path / "outbox"))
        refresh_phase1_reconciliation(con, key)
    derived = [
        "shadow_file_status",
        "shadow_record_status",
        "reported_file_status",
        "reported_record_status",
        "reported_level_summary",
        "phase1_reconciliation_file",
    ]
    assert forget_files(con, [fid]) == 1
    for table in derived:
        count = f"SELECT count(*) FROM {table} WHERE file_identifier = ?"
        assert con.execute(count, [fid]).fetchall() == [(0,)], table
        assert con.execute(count, [other]).fetchall() != [(0,)], table
    assert con.execute(
        "SELECT count(*) FROM outbound_file WHERE inbound_file_identifier = ?", [fid]
    ).fetchall() == [(0,)]
