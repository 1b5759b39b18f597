"""Report names and recipients (issue 15): the summaries carry the issuer guide's acronyms, a
report or warehouse written under the former names still reads, and every layout declares who
receives it, member-level identifiers appearing only where the recipients allow them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from lxml import etree

from edge_pipeline.defs.metadata import is_member_id
from edge_pipeline.edge.layouts import BY_NAME as INBOUND_BY_NAME
from edge_pipeline.edge.layouts.outbound import (
    FORMER_NAMES,
    OUTBOUND_BY_NAME,
    OUTBOUND_LAYOUTS,
    SUMMARY_LAYOUTS,
    OutboundLayout,
    Recipients,
    current_report_type,
)
from edge_pipeline.edge.layouts.outbound.model import Group, Leaf, Node
from edge_pipeline.edge.layouts.outbound.tree import tree
from edge_pipeline.edge.outbound import REPORTED_TABLES, load_outbound_file
from edge_pipeline.edge.outbound.core.xsd import load_schema, xsd_filename
from edge_pipeline.edge.reconciliation.reports import report_role

XSD_DIR = Path(__file__).resolve().parents[2] / "edge_pipeline" / "xsd"

#: The issuer guide's distribution, as issue 15 states it.
EXPECTED_RECIPIENTS = {
    "ESFAR": Recipients.ISSUER_AND_CMS,
    "ESSEFE": Recipients.ISSUER_AND_CMS,
    "ESSMFE": Recipients.ISSUER_AND_CMS,
    "ESSPFE": Recipients.ISSUER_AND_CMS,
    "ESSSFE": Recipients.ISSUER_AND_CMS,
    "ESDEE": Recipients.ISSUER_ONLY,
    "ESDMCE": Recipients.ISSUER_ONLY,
    "ESDPCE": Recipients.ISSUER_ONLY,
    "ESDSFE": Recipients.ISSUER_ONLY,
    "RACSD": Recipients.ISSUER_ONLY,
    "RARSD": Recipients.ISSUER_ONLY,
    "RACSS": Recipients.ISSUER_AND_CMS,
    "RARSS": Recipients.ISSUER_AND_CMS,
    "RATEE": Recipients.ISSUER_AND_CMS,
    "RAUF": Recipients.ISSUER_AND_CMS,
    "HCRPSR": Recipients.ISSUER_AND_CMS,
    "HCRPDE": Recipients.ISSUER_ONLY,
    "ECD": Recipients.ISSUER_ONLY,
    "ECS": Recipients.ISSUER_AND_CMS,
    "FDEEAF": Recipients.ISSUER_AND_CMS,
    "FDEMAF": Recipients.ISSUER_AND_CMS,
    "FDEPAF": Recipients.ISSUER_AND_CMS,
    "FDESAF": Recipients.ISSUER_AND_CMS,
}

#: Element names that hold a member's identifier in the inbound files (``insuredMemberIdentifier``,
#: ``subscriberIdentifier``): an outbound leaf of the same name is a member-level identifier.
INBOUND_MEMBER_ELEMENTS = frozenset(
    element.name
    for layout in INBOUND_BY_NAME.values()
    for record, _ in layout.records()
    for element in record.fields
    if is_member_id(element.column)
)


def _leaves(node: Node) -> Iterator[Leaf]:
    if isinstance(node, Leaf):
        yield node
    elif isinstance(node, Group):
        for child in node.children:
            yield from _leaves(child)


def member_identifier_leaves(layout: OutboundLayout) -> list[str]:
    """The leaves of ``layout`` holding a member-level identifier: a member id column (as the
    UI masks them) or an element named like an inbound member identifier."""
    return sorted(
        leaf.name
        for leaf in _leaves(tree(layout))
        if leaf.name in INBOUND_MEMBER_ELEMENTS or (leaf.column and is_member_id(leaf.column))
    )


# -- names ---------------------------------------------------------------------------------------


def test_summaries_carry_the_guides_acronyms_and_remember_their_former_names() -> None:
    assert [layout.name for layout in SUMMARY_LAYOUTS] == ["ESSEFE", "ESSMFE", "ESSPFE", "ESSSFE"]
    assert FORMER_NAMES == {
        "ESESAR": "ESSEFE",
        "ESMCSAR": "ESSMFE",
        "ESPCSAR": "ESSPFE",
        "ESSFSAR": "ESSSFE",
    }
    assert current_report_type("ESMCSAR") == "ESSMFE"
    assert current_report_type("RATEE") == "RATEE"
    # root elements embed no report name: they stay as the spec states them
    assert [layout.root for layout in SUMMARY_LAYOUTS] == [
        "enrollmentSummaryAcceptReject",
        "medicalClaimSummaryAcceptReject",
        "pharmacyClaimSummaryAcceptReject",
        "supplementalSummaryAcceptReject",
    ]
    shipped = {path.name for path in XSD_DIR.glob("*.xsd")}
    assert {xsd_filename(layout) for layout in SUMMARY_LAYOUTS} <= shipped
    assert not {f"{former}.xsd" for former in FORMER_NAMES} & shipped
    # a reconciliation of a warehouse not loaded since the rename still finds its summaries
    assert {report_role(name) for name in FORMER_NAMES} == {"summary"}


#: An ESES summary as this project wrote it while it was called ESESAR (nothing in it names the
#: report: the root element and the two-letter code ``ES`` say what it is).
OLD_STYLE_SUMMARY = """<?xml version="1.0" encoding="UTF-8"?>
<enrollmentSummaryAcceptReject xmlns="http://vo.edge.fm.cms.hhs.gov">
  <includedFileHeader>
    <outboundFileIdentifier>{fid}ES20250402093015</outboundFileIdentifier>
    <outboundFileGenerationDateTime>2025-04-02T09:30:15</outboundFileGenerationDateTime>
    <inboundFileIdentifier>{fid}</inboundFileIdentifier>
    <interfaceControlReleaseNumber>02.01.10</interfaceControlReleaseNumber>
    <edgeServerVersion>edge_pipeline-shadow-1</edgeServerVersion>
    <edgeServerProcessIdentifier>1</edgeServerProcessIdentifier>
    <inboundFileGenerationDateTime>2025-04-01T08:00:00</inboundFileGenerationDateTime>
    <outboundFileTypeCode>ES</outboundFileTypeCode>
    <edgeServerIdentifier>EDGE-SHADOW</edgeServerIdentifier>
    <issuerID>12345</issuerID>
    <inboundFileSubmissionDateTime>2025-04-02T09:30:15</inboundFileSubmissionDateTime>
    <inboundFileSubmissionType>E</inboundFileSubmissionType>
  </includedFileHeader>
  <includedFileRecordCounts>
    <recordsReceived>1</recordsReceived>
    <recordsAccepted>1</recordsAccepted>
    <recordsResolved>0</recordsResolved>
    <recordsRejected>0</recordsRejected>
    <newRecordsAccepted>1</newRecordsAccepted>
  </includedFileRecordCounts>
  <includedIssuer>
    <issuerRecordIdentifier>1</issuerRecordIdentifier>
    <issuerIdentifier>12345</issuerIdentifier>
    <classifyingProcessingStatusType>
      <statusTypeCode>A</statusTypeCode>
    </classifyingProcessingStatusType>
    <includedIssuerYear>
      <issuerYear>2025</issuerYear>
      <acceptedMonths>3</acceptedMonths>
      <rejectedMonths>0</rejectedMonths>
      <includedIssuerMonth>
        <issuerMonth>1</issuerMonth>
        <acceptedMonths>3</acceptedMonths>
        <rejectedMonths>0</rejectedMonths>
      </includedIssuerMonth>
    </includedIssuerYear>
  </includedIssuer>
  <includedErrorCodeFrequency>
    <offendingElementErrorTypeCode>E105</offendingElementErrorTypeCode>
    <offendingElementErrorTypeCodeFrequency>2</offendingElementErrorTypeCodeFrequency>
  </includedErrorCodeFrequency>
  <includedPlan>
    <planIdentifier>12345NC001000101</planIdentifier>
    <classifyingProcessingStatusType>
      <statusTypeCode>A</statusTypeCode>
    </classifyingProcessingStatusType>
  </includedPlan>
</enrollmentSummaryAcceptReject>
"""


def _old_style(folder: Path, file_identifier: str, second: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"12345.ES.D040220250930{second:02d}.T.xml"
    path.write_text(OLD_STYLE_SUMMARY.format(fid=file_identifier), encoding="utf-8")
    return path


def _report_types(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    return {
        table: {
            row[0] for row in con.execute(f"SELECT DISTINCT report_type FROM {table}").fetchall()
        }
        for table in ("outbound_file", *REPORTED_TABLES)
    }


def test_a_summary_written_under_the_former_name_loads_under_the_new_one(
    tmp_path: Path,
) -> None:
    path = _old_style(tmp_path / "outbox", "E00000000001", 15)
    load_schema(OUTBOUND_BY_NAME["ESSEFE"]).assertValid(etree.parse(str(path)))
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    result = load_outbound_file(con, path)
    assert (result.status, result.report_type) == ("loaded", "ESSEFE"), result.error
    assert con.execute("SELECT report_type, file_type_code FROM outbound_file").fetchall() == [
        ("ESSEFE", "ES")
    ]
    assert con.execute(
        "SELECT report_type, scope_level, scope_key, status FROM reported_scope_summary "
        "ORDER BY scope_level"
    ).fetchall() == [
        ("ESSEFE", "issuer", "12345", "A"),
        ("ESSEFE", "plan", "12345NC001000101", "A"),
    ]
    assert con.execute(
        "SELECT report_type, error_code, frequency FROM reported_error_frequency"
    ).fetchall() == [("ESSEFE", "E105", 2)]


def test_a_warehouse_holding_the_former_names_is_renamed_on_the_next_load(
    tmp_path: Path,
) -> None:
    """A warehouse the previous version filled stores ``ESESAR`` as the report type; the next
    outbound load renames every such value, in every reported table and the registry."""
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    assert load_outbound_file(con, _old_style(tmp_path / "a", "E00000000001", 15)).ok
    for table in ("outbound_file", *REPORTED_TABLES):  # as the previous version stored it
        con.execute(f"UPDATE {table} SET report_type = 'ESESAR' WHERE report_type = 'ESSEFE'")
    stored = _report_types(con)
    assert stored["outbound_file"] == {"ESESAR"}
    assert stored["reported_summary_counts"] == {"ESESAR"}

    result = load_outbound_file(con, _old_style(tmp_path / "b", "E00000000002", 16))
    assert result.status == "loaded", result.error
    assert {table: types for table, types in _report_types(con).items() if types} == {
        table: {"ESSEFE"}
        for table in (
            "outbound_file",
            "reported_level_summary",
            "reported_error_frequency",
            "reported_scope_summary",
            "reported_summary_counts",
        )
    }
    counts = con.execute(
        "SELECT file_identifier, count(*) FROM reported_scope_summary GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert counts == [("E00000000001", 2), ("E00000000002", 2)]


# -- recipients ----------------------------------------------------------------------------------


def test_every_layout_declares_its_recipients_as_the_guide_distributes_them() -> None:
    assert {layout.name: layout.recipients for layout in OUTBOUND_LAYOUTS} == EXPECTED_RECIPIENTS
    assert all(isinstance(layout.recipients, Recipients) for layout in OUTBOUND_LAYOUTS)
    assert str(Recipients.ISSUER_AND_CMS_BY_EXCEPTION) == "issuer + CMS by exception"


@pytest.mark.parametrize("layout", OUTBOUND_LAYOUTS, ids=lambda layout: layout.name)
def test_member_level_identifiers_only_in_reports_whose_recipients_allow_them(
    layout: OutboundLayout,
) -> None:
    """Every report CMS receives as aggregate holds no member-level identifier leaf; member ids
    appear only in issuer-only detail reports (and, by exception, in RADV extracts)."""
    found = member_identifier_leaves(layout)
    if not layout.recipients.member_level:
        assert found == [], f"{layout.name} goes to {layout.recipients} but carries {found}"


def test_the_member_identifier_check_can_fail() -> None:
    """Negative control: the issuer-only detail reports that carry member ids are seen to."""
    carrying = {layout.name for layout in OUTBOUND_LAYOUTS if member_identifier_leaves(layout)}
    assert {"ESDEE", "RACSD", "RARSD"} <= carrying
    assert {"insuredMemberIdentifier", "subscriberIdentifier"} <= INBOUND_MEMBER_ELEMENTS
