"""Frequency by data element reports (FDEEAF, FDEMAF, FDEPAF, FDESAF): a hand-written report
read by the reader, validated against its shipped XSD, and the shadow's top-N rule.

The round trip (shadow -> XML -> XSD-valid -> reported rows equal to the shadow) runs with the
other Phase 1 reports in ``test_outbound_roundtrip.py``; reconciliation and tampering in
``test_reconciliation.py``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from lxml import etree

from edge_pipeline.defs.metadata import is_member_id
from edge_pipeline.edge.layouts.outbound import FDEPAF, FREQUENCY_LAYOUTS, OUTBOUND_BY_ROOT
from edge_pipeline.edge.layouts.outbound.model import FrequencyElement, FrequencyLayout, Recipients
from edge_pipeline.edge.outbound import load_outbound_file
from edge_pipeline.edge.outbound.core.xsd import load_schema
from edge_pipeline.edge.verification.frequency import frequency_sql

HAND_WRITTEN = """<?xml version="1.0" encoding="UTF-8"?>
<pharmacyClaimFrequencyByDataElement xmlns="http://vo.edge.fm.cms.hhs.gov">
  <includedFileHeader>
    <outboundFileIdentifier>P0000000000001PF20250501120000</outboundFileIdentifier>
    <outboundFileGenerationDateTime>2025-05-01T12:00:00</outboundFileGenerationDateTime>
    <inboundFileIdentifier>P0000000000001</inboundFileIdentifier>
    <interfaceControlReleaseNumber>02.01.00</interfaceControlReleaseNumber>
    <edgeServerVersion>EDGE-1</edgeServerVersion>
    <edgeServerProcessIdentifier>7</edgeServerProcessIdentifier>
    <inboundFileGenerationDateTime>2025-04-30T08:00:00</inboundFileGenerationDateTime>
    <outboundFileTypeCode>PF</outboundFileTypeCode>
    <edgeServerIdentifier>SERVER</edgeServerIdentifier>
    <issuerID>12345</issuerID>
    <inboundFileSubmissionDateTime>2025-05-01T11:00:00</inboundFileSubmissionDateTime>
    <inboundFileSubmissionType>P</inboundFileSubmissionType>
  </includedFileHeader>
  <includedDataElementFrequency>
    <dataElementName>nationalDrugCode</dataElementName>
    <dataElementValue>00002323230</dataElementValue>
    <dataElementValueFrequency>12</dataElementValueFrequency>
  </includedDataElementFrequency>
  <includedDataElementFrequency>
    <dataElementName>dispensingStatusCode</dataElementName>
    <dataElementValueFrequency>30</dataElementValueFrequency>
  </includedDataElementFrequency>
  <includedDataElementFrequency>
    <dataElementName>dispensingStatusCode</dataElementName>
    <dataElementValue>P</dataElementValue>
    <dataElementValueFrequency>2</dataElementValueFrequency>
  </includedDataElementFrequency>
</pharmacyClaimFrequencyByDataElement>
"""


def test_a_hand_written_report_is_valid_and_read_into_its_reported_twin(tmp_path: Path) -> None:
    path = tmp_path / "12345.PF.D05012025T120000.T.xml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    document = etree.parse(str(path))
    assert OUTBOUND_BY_ROOT[etree.QName(document.getroot()).localname] is FDEPAF
    schema = load_schema(FDEPAF)
    assert schema.validate(document), schema.error_log
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = load_outbound_file(con, path)
    assert result.status == "loaded", result.error
    assert result.report_type == "FDEPAF"
    rows = con.execute(
        "SELECT file_identifier, report_type, element, value, frequency "
        "FROM reported_data_element_frequency ORDER BY element, value NULLS FIRST"
    ).fetchall()
    assert rows == [
        ("P0000000000001", "FDEPAF", "dispensingStatusCode", None, 30),
        ("P0000000000001", "FDEPAF", "dispensingStatusCode", "P", 2),
        ("P0000000000001", "FDEPAF", "nationalDrugCode", "00002323230", 12),
    ]
    con.close()


def test_a_frequency_that_is_not_a_count_fails_the_load(tmp_path: Path) -> None:
    path = tmp_path / "12345.PF.D05012025T120000.T.xml"
    path.write_text(HAND_WRITTEN.replace(">12<", ">twelve<"), encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = load_outbound_file(con, path)
    assert result.status == "failed"
    assert "dataElementValueFrequency" in (result.error or "")
    con.close()


def test_every_frequency_report_is_aggregate_for_issuer_and_cms() -> None:
    assert [layout.name for layout in FREQUENCY_LAYOUTS] == ["FDEEAF", "FDEMAF", "FDEPAF", "FDESAF"]
    assert {layout.submission_type for layout in FREQUENCY_LAYOUTS} == {"E", "M", "P", "S"}
    for layout in FREQUENCY_LAYOUTS:
        assert layout.recipients is Recipients.ISSUER_AND_CMS
        # counting a member id's values would list the ids: no counted column may hold one
        assert not any(is_member_id(element.column) for element in layout.elements)


def test_the_shadow_counts_accepted_records_only_and_keeps_the_top_values() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE shadow_record_status (load_id BIGINT, file_identifier VARCHAR, "
        "record_identifier BIGINT, level VARCHAR, status VARCHAR)"
    )
    con.execute(
        "CREATE TABLE pharmacy_claim (file_identifier VARCHAR, record_identifier BIGINT, "
        "national_drug_code VARCHAR, dispensing_status_code VARCHAR)"
    )
    drugs = ["A", "A", "A", "B", "B", "C", "C", "D", "", "Z"]
    for rid, drug in enumerate(drugs, start=1):
        status = "R" if drug == "Z" else "A"  # a rejected record is never counted
        con.execute(
            "INSERT INTO shadow_record_status VALUES (1, 'P1', ?, 'claim', ?)", [rid, status]
        )
        con.execute("INSERT INTO pharmacy_claim VALUES ('P1', ?, ?, ?)", [rid, drug, drug and "P"])
    layout = FrequencyLayout(
        name="TEST",
        root="test",
        submission_type="P",
        file_code="XX",
        elements=(
            FrequencyElement("ndc", "claim", "pharmacy_claim", "national_drug_code", top=3),
            FrequencyElement("status", "claim", "pharmacy_claim", "dispensing_status_code"),
        ),
        recipients=Recipients.ISSUER_AND_CMS,
    )
    found = con.execute(frequency_sql(layout), {"lid": 1}).fetchall()
    # top 3 by frequency, ties by value (absent first): A 3, then B 2 and C 2; D and the
    # empty value (1 each) are cut
    assert found == [
        ("ndc", "A", 3),
        ("ndc", "B", 2),
        ("ndc", "C", 2),
        ("status", "P", 8),
        ("status", None, 1),
    ]
    con.close()
