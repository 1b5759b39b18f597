"""Loading outbound reports: registry, idempotent re-delivery, refusals and failures.

A report that cannot be read leaves no row in any reported table and a ``failed`` row in
``outbound_file`` naming file, line and element; the structure the loader enforces is the one
the shipped XSD publishes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from lxml import etree
from outbound_support import VERIFIED_AT, Err, Scenario, prepare

from edge_pipeline.edge.layouts.outbound import ESDMCE, OUTBOUND_BY_ROOT
from edge_pipeline.edge.outbound import (
    REPORTED_TABLES,
    load_outbound_file,
    load_outbound_paths,
    write_phase1_reports,
)
from edge_pipeline.edge.outbound.core.xsd import load_schema

SCENARIO = Scenario(
    "M",
    "M00000000007",
    record_errors={7: [Err("serviceCode", "XXXXX", "M301", "referential")]},
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """ESFAR, ESDMCE and summary of one medical file (written once, copied by each test)."""
    base = tmp_path_factory.mktemp("reports")
    con = duckdb.connect()
    prepare(con, base / "inbox", SCENARIO)
    paths = write_phase1_reports(con, SCENARIO.file_identifier, base / "outbox", VERIFIED_AT)
    con.close()
    return paths


@pytest.fixture
def outbox(tmp_path: Path, reports: list[Path]) -> list[Path]:
    out = tmp_path / "outbox"
    out.mkdir()
    return [Path(shutil.copy(path, out / path.name)) for path in reports]


def _digest(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {
        table: sorted(map(repr, con.execute(f"SELECT * FROM {table}").fetchall()))
        for table in REPORTED_TABLES
    }


def _reported_rows(con: duckdb.DuckDBPyConnection) -> int:
    return sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in REPORTED_TABLES)


def test_directory_load_registers_each_report(tmp_path: Path, outbox: list[Path]) -> None:
    warehouse = tmp_path / "wh.duckdb"
    results = load_outbound_paths([outbox[0].parent], warehouse)
    assert [r.status for r in results] == ["loaded"] * 4
    assert sorted(r.report_type for r in results) == ["ESDMCE", "ESFAR", "ESSMFE", "FDEMAF"]
    con = duckdb.connect(str(warehouse))
    registry = con.execute(
        "SELECT report_type, file_type_code, inbound_file_identifier, issuer_id, execution_zone, "
        "generated_at, status, rows_loaded > 0, sha256 = ? FROM outbound_file ORDER BY 1",
        [results[0].sha256],
    ).fetchall()
    assert [row[:8] for row in registry] == [
        (kind, code, SCENARIO.file_identifier, "12345", "T", VERIFIED_AT, "loaded", True)
        for kind, code in (("ESDMCE", "MD"), ("ESFAR", "MH"), ("ESSMFE", "MS"), ("FDEMAF", "MF"))
    ]


def test_identical_redelivery_changes_nothing(tmp_path: Path, outbox: list[Path]) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    first = [load_outbound_file(con, path) for path in outbox]
    assert [r.status for r in first] == ["loaded"] * 4
    before = _digest(con)
    registry = con.execute("SELECT count(*) FROM outbound_file").fetchone()
    again = [load_outbound_file(con, path) for path in outbox]
    assert [r.status for r in again] == ["unchanged"] * 4
    assert all(r.ok for r in again)
    assert _digest(con) == before
    assert con.execute("SELECT count(*) FROM outbound_file").fetchone() == registry


def test_reused_outbound_identifier_is_refused(tmp_path: Path, outbox: list[Path]) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    assert load_outbound_file(con, outbox[1]).status == "loaded"
    before = _digest(con)
    changed = tmp_path / outbox[1].name
    changed.write_bytes(
        outbox[1].read_bytes().replace(b"<statusTypeCode>R<", b"<statusTypeCode>A<")
    )
    result = load_outbound_file(con, changed)
    assert result.status == "refused"
    assert "already loaded from a different file" in result.error
    after = _digest(con)
    assert {t: rows for t, rows in after.items() if t != "outbound_file"} == {
        t: rows for t, rows in before.items() if t != "outbound_file"
    }
    statuses = con.execute("SELECT status FROM outbound_file ORDER BY outbound_load_id").fetchall()
    assert statuses == [("loaded",), ("refused",)]


def _mutate(path: Path, old: str, new: str, count: int = 1) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


DETAIL_MUTATIONS = {
    "non_integer_record_identifier": (
        "<medicalClaimRecordIdentifier>6</medicalClaimRecordIdentifier>",
        "<medicalClaimRecordIdentifier>six</medicalClaimRecordIdentifier>",
        "medicalClaimRecordIdentifier",
        "must be an unsigned integer",
    ),
    "unknown_element": (
        "<medicalClaimIdentifier>C002</medicalClaimIdentifier>",
        "<medicalClaimIdentifier>C002</medicalClaimIdentifier><favouriteColour/>",
        "favouriteColour",
        "is not expected here",
    ),
    "missing_status": (
        "<medicalClaimIdentifier>C003</medicalClaimIdentifier>\n"
        "        <classifyingProcessingStatusType>\n"
        "          <statusTypeCode>A</statusTypeCode>\n"
        "        </classifyingProcessingStatusType>",
        "<medicalClaimIdentifier>C003</medicalClaimIdentifier>",
        "classifyingProcessingStatusType",
        "is missing",
    ),
    "elements_out_of_order": (
        "<planRecordIdentifier>2</planRecordIdentifier>\n"
        "      <insurancePlanIdentifier>12345NC001000101</insurancePlanIdentifier>",
        "<insurancePlanIdentifier>12345NC001000101</insurancePlanIdentifier>\n"
        "      <planRecordIdentifier>2</planRecordIdentifier>",
        "planRecordIdentifier",
        "is missing before",
    ),
    "two_issuers": (
        "</includedIssuerProcessingResult>",
        "</includedIssuerProcessingResult><includedIssuerProcessingResult>"
        "<issuerRecordIdentifier>99</issuerRecordIdentifier><classifyingProcessingStatusType>"
        "<statusTypeCode>A</statusTypeCode></classifyingProcessingStatusType>"
        "</includedIssuerProcessingResult>",
        "includedIssuerProcessingResult",
        "occurs more than 1",
    ),
    "empty_inbound_identifier": (
        f"<inboundFileIdentifier>{SCENARIO.file_identifier}</inboundFileIdentifier>",
        "<inboundFileIdentifier/>",
        "inboundFileIdentifier",
        "cannot be linked",
    ),
}


@pytest.mark.parametrize("case", list(DETAIL_MUTATIONS))
def test_malformed_report_fails_with_place_and_no_rows(
    tmp_path: Path, outbox: list[Path], case: str
) -> None:
    old, new, element, reason = DETAIL_MUTATIONS[case]
    path = _mutate(outbox[1], old, new)
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    result = load_outbound_file(con, path, batch_rows=2)
    assert result.status == "failed"
    assert result.error.startswith(f"file {path.name}, line ")
    assert f"element {element}" in result.error and reason in result.error
    assert _reported_rows(con) == 0
    row = con.execute(
        "SELECT status, error, error_line, error_element FROM outbound_file"
    ).fetchall()
    assert len(row) == 1 and row[0][0] == "failed" and row[0][1] == result.error
    assert row[0][2] > 1 and row[0][3] == element
    # the loader refuses what the published XSD refuses (the empty identifier is a value the
    # schema leaves to the loader)
    if case != "empty_inbound_identifier":
        assert not load_schema(ESDMCE).validate(etree.parse(str(path)))


def test_valid_reports_pass_schema_and_loader_alike(tmp_path: Path, outbox: list[Path]) -> None:
    con = duckdb.connect()
    for path in outbox:
        document = etree.parse(str(path))
        layout = OUTBOUND_BY_ROOT[etree.QName(document.getroot()).localname]
        assert load_schema(layout).validate(document)
        assert load_outbound_file(con, path).status == "loaded"


def test_truncated_report_fails_after_rows_were_inserted(
    tmp_path: Path, outbox: list[Path]
) -> None:
    """A break near the end, after batches went in: the transaction leaves nothing behind."""
    path = outbox[1]
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex("</includedIssuerProcessingResult>")], encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    result = load_outbound_file(con, path, batch_rows=1)
    assert result.status == "failed"
    assert "not well-formed XML" in result.error and "line" in result.error
    assert _reported_rows(con) == 0
    assert result.rows == {}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "boom">]>\n'
            '<fileProcessingResultStatus xmlns="http://vo.edge.fm.cms.hhs.gov">&e;'
            "</fileProcessingResultStatus>",
            "DOCTYPE",
        ),
        (
            '<fileProcessingResultStatus xmlns="http://example.org/other"/>',
            "namespace",
        ),
        (
            '<edgeServerMedicalClaimSubmission xmlns="http://vo.edge.fm.cms.hhs.gov"/>',
            "unknown root element edgeServerMedicalClaimSubmission",
        ),
        ("", "file"),
    ],
    ids=["doctype", "namespace", "inbound_root", "empty"],
)
def test_hostile_or_foreign_files_are_refused(tmp_path: Path, document: str, reason: str) -> None:
    path = tmp_path / "12345.MH.D04022025T093015.T.xml"
    path.write_text(document, encoding="utf-8")
    con = duckdb.connect()
    result = load_outbound_file(con, path)
    assert result.status == "failed"
    assert reason in result.error
    assert "boom" not in result.error
    assert _reported_rows(con) == 0
    assert con.execute("SELECT status FROM outbound_file").fetchall() == [("failed",)]


def test_failed_file_can_be_loaded_once_fixed(tmp_path: Path, outbox: list[Path]) -> None:
    good = outbox[0].read_bytes()
    _mutate(outbox[0], "<statusTypeCode>A</statusTypeCode>", "<statusTypeCode>A</statusTypeCod>")
    con = duckdb.connect()
    assert load_outbound_file(con, outbox[0]).status == "failed"
    outbox[0].write_bytes(good)
    assert load_outbound_file(con, outbox[0]).status == "loaded"
    assert con.execute("SELECT count(*) FROM reported_file_status").fetchone() == (1,)


@pytest.mark.parametrize(
    ("old", "new", "element", "reason"),
    [
        (
            "<classifyingProcessingStatusType>\n    <statusTypeCode>A</statusTypeCode>\n"
            "  </classifyingProcessingStatusType>",
            "",
            "classifyingProcessingStatusType",
            "required child classifyingProcessingStatusType (1..1) is missing",
        ),
        (
            "<classifyingProcessingStatusType>",
            "<classifyingProcessingStatusType>accepted",
            "classifyingProcessingStatusType",
            "holds elements only",
        ),
    ],
    ids=["status_missing_at_end", "text_in_block"],
)
def test_malformed_file_status_report(
    tmp_path: Path, outbox: list[Path], old: str, new: str, element: str, reason: str
) -> None:
    path = _mutate(outbox[0], old, new)
    con = duckdb.connect()
    result = load_outbound_file(con, path)
    assert result.status == "failed"
    assert f"element {element}" in result.error and reason in result.error, result.error
    assert _reported_rows(con) == 0
