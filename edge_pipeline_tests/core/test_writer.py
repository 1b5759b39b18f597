"""The layout-driven streaming writer: names and order from the layouts, numbering, totals."""

from __future__ import annotations

import importlib.util
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from edge_pipeline.edge.layouts import EDGE_NAMESPACE, ESES, ESMCS, ESPCS, FileLayout, Record
from edge_pipeline.edge.writers import SubmissionWriter, xml_escape

NS = f"{{{EDGE_NAMESPACE}}}"
HAS_XSD = importlib.util.find_spec("edge_pipeline.edge.xsd") is not None


def header(layout: FileLayout) -> dict[str, str]:
    return {
        "file_identifier": "123456789012",
        "execution_zone": "T",
        "icd_release": "02.01.10",
        "generation_datetime": "2026-04-01T08:00:00",
        "submission_type": layout.submission_type,
    }


def claim(n: int, paid: str, lines: int = 2) -> dict[str, object]:
    return {
        "insured_member_identifier": f"MEMBER{n}",
        "form_type_code": "P",
        "claim_identifier": f"C{n}",
        "original_claim_identifier": "",
        "claim_processed_datetime": "2025-03-01T10:00:00",
        "void_replace_code": "",
        "diagnosis_type_code": "02",
        "diagnosis_code": ["E119", "I10"],
        "statement_cover_from_date": "2025-02-01",
        "statement_cover_to_date": "2025-02-01",
        "billing_provider_id_qualifier": "XX",
        "billing_provider_identifier": "1234567893",
        "issuer_claim_paid_date": "2025-03-05",
        "allowed_total_amount": "100.00",
        "policy_paid_total_amount": paid,
        "derived_service_claim_indicator": "N",
        "line": [
            {
                "service_line_number": str(i + 1),
                "service_from_date": "2025-02-01",
                "service_to_date": "2025-02-01",
                "service_code": "99213",
                "service_modifier_code": ["25", "59"] if i == 0 else None,
                "allowed_amount": "50.00",
                "policy_paid_amount": "25.00",
                "derived_service_claim_indicator": "N",
            }
            for i in range(lines)
        ],
    }


def write_medical(path: Path) -> SubmissionWriter:
    with SubmissionWriter(ESMCS, path, header(ESMCS), {"issuer_identifier": "12345"}) as w:
        assert w.begin_group({"insurance_plan_identifier": "12345NC001000101"}) == 2
        assert w.write(claim(1, "10.50")) == 3
        assert w.write(claim(2, "0.25", lines=1)) == 6
        w.end_group()
        w.begin_group({"insurance_plan_identifier": "12345NC001000305"})
        w.write(claim(3, "100.00", lines=3))
        w.end_group()
    return w


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def record_ids(root: etree._Element) -> list[int]:
    return [int(e.text) for e in root.iter(f"{NS}recordIdentifier")]


def assert_layout_order(element: etree._Element, record: Record) -> None:
    """Children of a record element appear in the layout's declared order, nothing else."""
    order: list[str] = [f.name for f in record.fields]
    for child in record.children:
        order.append(child.container or child.element)
    positions = [order.index(local(c)) for c in element]
    assert positions == sorted(positions), [local(c) for c in element]
    for child_record in record.children:
        holders = (
            element.findall(f"{NS}{child_record.container}")
            if child_record.container
            else [element]
        )
        for holder in holders:
            for child in holder.findall(f"{NS}{child_record.element}"):
                assert_layout_order(child, child_record)


def test_names_order_and_namespace_come_from_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    write_medical(path)
    root = etree.parse(str(path)).getroot()
    assert root.tag == f"{NS}{ESMCS.root}"
    assert all(e.tag.startswith(NS) for e in root.iter() if isinstance(e.tag, str))
    expected_top = [e.name for e in (*ESMCS.header, *ESMCS.totals)] + [ESMCS.issuer.element]
    assert [local(c) for c in root] == expected_top
    assert_layout_order(root.find(f"{NS}{ESMCS.issuer.element}"), ESMCS.issuer)
    assert not list(tmp_path.glob(".*.part")), "temporary file left behind"


def test_record_identifiers_run_in_document_order(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    write_medical(path)
    ids = record_ids(etree.parse(str(path)).getroot())
    assert ids == list(range(1, len(ids) + 1))
    # issuer + 2 plans + 3 claims + 6 lines
    assert len(ids) == 12


def test_totals_at_file_issuer_and_plan_level(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    w = write_medical(path)
    root = etree.parse(str(path)).getroot()
    assert root.findtext(f"{NS}claimDetailTotalQuantity") == "3"
    assert root.findtext(f"{NS}claimServiceLineTotalQuantity") == "6"
    assert root.findtext(f"{NS}insurancePlanPaidOnFileTotalAmount") == "110.75"
    issuer = root.find(f"{NS}includedMedicalClaimIssuer")
    assert issuer.findtext(f"{NS}issuerClaimDetailTotalQuantity") == "3"
    assert issuer.findtext(f"{NS}issuerPlanPaidTotalAmount") == "110.75"
    plans = issuer.findall(f"{NS}includedMedicalClaimPlan")
    assert [p.findtext(f"{NS}insurancePlanClaimDetailTotalQuantity") for p in plans] == ["2", "1"]
    assert [p.findtext(f"{NS}insurancePlanClaimServiceLineTotalQuantity") for p in plans] == [
        "3",
        "3",
    ]
    assert [p.findtext(f"{NS}insurancePlanPaidTotalAmount") for p in plans] == ["10.75", "100.00"]
    assert w.result is not None
    assert w.result.counts == {"plan": 2, "claim": 3, "line": 6}
    assert w.result.bytes == path.stat().st_size


def test_none_omits_empty_string_writes_empty_element_and_lists_repeat(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    write_medical(path)
    root = etree.parse(str(path)).getroot()
    first = root.find(f".//{NS}includedMedicalClaimDetail")
    assert first.find(f"{NS}billTypeCode") is None  # None: omitted
    original = first.find(f"{NS}originalClaimIdentifier")
    assert original is not None and original.text is None  # "": empty element
    assert [d.text for d in first.findall(f"{NS}diagnosisCode")] == ["E119", "I10"]
    line = first.find(f".//{NS}includedServiceLine")
    assert [m.text for m in line.findall(f"{NS}serviceModifierCode")] == ["25", "59"]
    containers = first.findall(f"{NS}includedDetailServiceLine")
    assert len(containers) == 1 and len(containers[0]) == 2


def test_text_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    values = claim(1, "1.00")
    values["claim_identifier"] = "A&B<C>"
    with SubmissionWriter(ESMCS, path, header(ESMCS), {"issuer_identifier": "12345"}) as w:
        w.begin_group({"insurance_plan_identifier": "12345NC001000101"})
        w.write(values)
        w.end_group()
    root = etree.parse(str(path)).getroot()
    assert root.findtext(f".//{NS}claimIdentifier") == "A&B<C>"
    assert xml_escape("a&<>") == "a&amp;&lt;&gt;"


def test_record_identifier_override_and_numbering_continues(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    with SubmissionWriter(ESMCS, path, header(ESMCS), {"issuer_identifier": "12345"}) as w:
        w.begin_group({"insurance_plan_identifier": "12345NC001000101"})
        w.write(claim(1, "1.00", lines=1))  # 3, line 4
        skipped = claim(2, "1.00", lines=1)
        skipped["record_identifier"] = 6  # 5 expected
        assert w.write(skipped) == 6
        w.write(claim(3, "1.00", lines=1))
        w.end_group()
    ids = record_ids(etree.parse(str(path)).getroot())
    assert ids == [1, 2, 3, 4, 6, 7, 8, 9]


def test_total_overrides_fixed_and_computed(tmp_path: Path) -> None:
    path = tmp_path / "p.xml"
    pharmacy = {
        "insured_member_identifier": "M1",
        "claim_identifier": "RX1",
        "policy_paid_amount": "12.34",
        "prescription_fill_number": "0",
    }
    with SubmissionWriter(ESPCS, path, header(ESPCS), {"issuer_identifier": "12345"}) as w:
        w.begin_group({"insurance_plan_identifier": "12345NC001000101"})
        w.write(pharmacy)
        w.write({**pharmacy, "claim_identifier": "RX2"})
        written = w.end_group({"plan_paid_total_amount": lambda total: total + Decimal("1.00")})
        assert written == {"claim_detail_total_quantity": "2", "plan_paid_total_amount": "25.68"}
        w.close(file_totals={"claim_detail_total_quantity": "7"})
    root = etree.parse(str(path)).getroot()
    assert root.findtext(f"{NS}claimDetailTotalQuantity") == "7"
    assert root.findtext(f"{NS}insurancePlanPaidOnFileTotalAmount") == "24.68"
    assert root.findtext(f".//{NS}issuerClaimDetailTotalQuantity") == "2"


def test_enrollment_without_groups(tmp_path: Path) -> None:
    path = tmp_path / "e.xml"
    period = {
        "subscriber_indicator": "S",
        "subscriber_identifier": "",
        "insurance_plan_identifier": "12345NC001000101",
        "coverage_start_date": "2025-01-01",
        "coverage_end_date": "2025-12-31",
    }
    with SubmissionWriter(ESES, path, header(ESES), {"issuer_identifier": "12345"}) as w:
        w.write({"insured_member_identifier": "A", "enrollment_period": [period, period]})
        w.write({"insured_member_identifier": "B", "enrollment_period": [period]})
    root = etree.parse(str(path)).getroot()
    assert root.findtext(f"{NS}insuredMemberTotalQuantity") == "2"
    assert root.findtext(f"{NS}insuredMemberProfileTotalQuantity") == "3"
    assert record_ids(root) == [1, 2, 3, 4, 5, 6]
    assert_layout_order(root.find(f"{NS}{ESES.issuer.element}"), ESES.issuer)


def test_failure_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    with (
        pytest.raises(RuntimeError),
        SubmissionWriter(ESMCS, path, header(ESMCS), {"issuer_identifier": "1"}) as w,
    ):
        w.begin_group({"insurance_plan_identifier": "X"})
        raise RuntimeError("generation failed")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_memory_stays_flat_while_streaming(tmp_path: Path) -> None:
    """Thousands of claims (~10 MB) are written with a small, bounded heap."""
    path = tmp_path / "big.xml"
    template = claim(0, "10.00", lines=3)
    tracemalloc.start()
    try:
        with SubmissionWriter(ESMCS, path, header(ESMCS), {"issuer_identifier": "12345"}) as w:
            for plan in range(3):
                w.begin_group({"insurance_plan_identifier": f"12345NC00100010{plan}"})
                for n in range(1500):
                    w.write({**template, "claim_identifier": f"C{plan}-{n}"})
                w.end_group()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = path.stat().st_size
    assert size > 8_000_000
    assert peak < size / 3, (peak, size)
    ids = record_ids(etree.parse(str(path)).getroot())
    assert ids == list(range(1, len(ids) + 1))


@pytest.mark.skipif(not HAS_XSD, reason="edge_pipeline.edge.xsd not available")
def test_written_files_validate_against_the_layout_xsd(tmp_path: Path) -> None:
    from edge_pipeline.edge.xsd import load_schema

    path = tmp_path / "m.xml"
    write_medical(path)
    schema = load_schema(ESMCS)
    assert schema.validate(etree.parse(str(path))), schema.error_log
