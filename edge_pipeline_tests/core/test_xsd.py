"""The shipped inbound XSDs: generated from the layouts, compilable, structural but not picky.

The XSD must reject files that cannot be read record by record (wrong namespace, unknown or
misplaced elements, broken repetition, a bad ``recordIdentifier``) and accept files whose
*values* are wrong, because those are record-level Phase 1 errors reported per record.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from xsd_support import assert_writes_the_shipped_xsds, rendered_schema

from edge_pipeline.edge.layouts import BY_NAME, INBOUND_LAYOUTS, FileLayout
from edge_pipeline.edge.xsd import load_schema, render_xsd, shipped_xsd, write_xsds

NS = "http://vo.edge.fm.cms.hhs.gov"


def _header(type_code: str) -> str:
    return (
        "<e:fileIdentifier>F00000000001</e:fileIdentifier>"
        "<e:executionZoneCode>T</e:executionZoneCode>"
        "<e:interfaceControlReleaseNumber>02.01.10</e:interfaceControlReleaseNumber>"
        "<e:generationDateTime>2025-04-01T10:00:00</e:generationDateTime>"
        f"<e:submissionTypeCode>{type_code}</e:submissionTypeCode>"
    )


ESES_DOC = f"""<e:edgeServerEnrollmentSubmission xmlns:e="{NS}">
{_header("E")}
<e:insuredMemberTotalQuantity>1</e:insuredMemberTotalQuantity>
<e:insuredMemberProfileTotalQuantity>1</e:insuredMemberProfileTotalQuantity>
<e:includedEnrollmentIssuer>
  <e:recordIdentifier>1</e:recordIdentifier>
  <e:issuerIdentifier>12345</e:issuerIdentifier>
  <e:issuerInsuredMemberTotalQuantity>1</e:issuerInsuredMemberTotalQuantity>
  <e:issuerInsuredMemberProfileTotalQuantity>1</e:issuerInsuredMemberProfileTotalQuantity>
  <e:includedInsuredMember>
    <e:recordIdentifier>2</e:recordIdentifier>
    <e:insuredMemberIdentifier>M001</e:insuredMemberIdentifier>
    <e:insuredMemberBirthDate>1980-05-17</e:insuredMemberBirthDate>
    <e:insuredMemberGenderCode>F</e:insuredMemberGenderCode>
    <e:includedInsuredMemberProfile>
      <e:recordIdentifier>3</e:recordIdentifier>
      <e:subscriberIndicator>S</e:subscriberIndicator>
      <e:subscriberIdentifier/>
      <e:insurancePlanIdentifier>12345VA001000104</e:insurancePlanIdentifier>
      <e:coverageStartDate>2025-01-01</e:coverageStartDate>
      <e:coverageEndDate>2025-12-31</e:coverageEndDate>
      <e:enrollmentMaintenanceTypeCode>021028</e:enrollmentMaintenanceTypeCode>
      <e:insurancePlanPremiumAmount>450.00</e:insurancePlanPremiumAmount>
      <e:rateAreaIdentifier>001</e:rateAreaIdentifier>
    </e:includedInsuredMemberProfile>
  </e:includedInsuredMember>
</e:includedEnrollmentIssuer>
</e:edgeServerEnrollmentSubmission>
"""

ESMCS_DOC = f"""<e:edgeServerMedicalClaimSubmission xmlns:e="{NS}">
{_header("M")}
<e:claimDetailTotalQuantity>1</e:claimDetailTotalQuantity>
<e:claimServiceLineTotalQuantity>2</e:claimServiceLineTotalQuantity>
<e:insurancePlanPaidOnFileTotalAmount>150.00</e:insurancePlanPaidOnFileTotalAmount>
<e:includedMedicalClaimIssuer>
  <e:recordIdentifier>1</e:recordIdentifier>
  <e:issuerIdentifier>12345</e:issuerIdentifier>
  <e:issuerClaimDetailTotalQuantity>1</e:issuerClaimDetailTotalQuantity>
  <e:issuerClaimServiceLineTotalQuantity>2</e:issuerClaimServiceLineTotalQuantity>
  <e:issuerPlanPaidTotalAmount>150.00</e:issuerPlanPaidTotalAmount>
  <e:includedMedicalClaimPlan>
    <e:recordIdentifier>2</e:recordIdentifier>
    <e:insurancePlanIdentifier>12345VA001000104</e:insurancePlanIdentifier>
    <e:insurancePlanClaimDetailTotalQuantity>1</e:insurancePlanClaimDetailTotalQuantity>
    <e:insurancePlanClaimServiceLineTotalQuantity>2</e:insurancePlanClaimServiceLineTotalQuantity>
    <e:insurancePlanPaidTotalAmount>150.00</e:insurancePlanPaidTotalAmount>
    <e:includedMedicalClaimDetail>
      <e:recordIdentifier>3</e:recordIdentifier>
      <e:insuredMemberIdentifier>M001</e:insuredMemberIdentifier>
      <e:formTypeCode>P</e:formTypeCode>
      <e:claimIdentifier>C001</e:claimIdentifier>
      <e:originalClaimIdentifier/>
      <e:claimProcessedDateTime>2025-03-02T08:30:00</e:claimProcessedDateTime>
      <e:billTypeCode/>
      <e:voidReplaceCode/>
      <e:diagnosisTypeCode>02</e:diagnosisTypeCode>
      <e:diagnosisCode>E119</e:diagnosisCode>
      <e:diagnosisCode>I10</e:diagnosisCode>
      <e:dischargeStatusCode/>
      <e:statementCoverFromDate>2025-03-01</e:statementCoverFromDate>
      <e:statementCoverToDate>2025-03-01</e:statementCoverToDate>
      <e:billingProviderIDQualifier>XX</e:billingProviderIDQualifier>
      <e:billingProviderIdentifier>1234567893</e:billingProviderIdentifier>
      <e:issuerClaimPaidDate>2025-03-10</e:issuerClaimPaidDate>
      <e:allowedTotalAmount>200.00</e:allowedTotalAmount>
      <e:policyPaidTotalAmount>150.00</e:policyPaidTotalAmount>
      <e:derivedServiceClaimIndicator>N</e:derivedServiceClaimIndicator>
      <e:includedDetailServiceLine>
        <e:includedServiceLine>
          <e:recordIdentifier>4</e:recordIdentifier>
          <e:serviceLineNumber>1</e:serviceLineNumber>
          <e:serviceFromDate>2025-03-01</e:serviceFromDate>
          <e:serviceToDate>2025-03-01</e:serviceToDate>
          <e:revenueCode/>
          <e:serviceTypeCode>01</e:serviceTypeCode>
          <e:serviceCode>99213</e:serviceCode>
          <e:serviceModifierCode>25</e:serviceModifierCode>
          <e:serviceFacilityTypeCode>11</e:serviceFacilityTypeCode>
          <e:renderingProviderIDQualifier/>
          <e:renderingProviderIdentifier/>
          <e:allowedAmount>120.00</e:allowedAmount>
          <e:policyPaidAmount>90.00</e:policyPaidAmount>
          <e:derivedServiceClaimIndicator>N</e:derivedServiceClaimIndicator>
        </e:includedServiceLine>
        <e:includedServiceLine>
          <e:recordIdentifier>5</e:recordIdentifier>
          <e:serviceLineNumber>2</e:serviceLineNumber>
          <e:serviceFromDate>2025-03-01</e:serviceFromDate>
          <e:serviceToDate>2025-03-01</e:serviceToDate>
          <e:revenueCode/>
          <e:serviceTypeCode>01</e:serviceTypeCode>
          <e:serviceCode>36415</e:serviceCode>
          <e:serviceFacilityTypeCode>11</e:serviceFacilityTypeCode>
          <e:allowedAmount>80.00</e:allowedAmount>
          <e:policyPaidAmount>60.00</e:policyPaidAmount>
          <e:derivedServiceClaimIndicator>N</e:derivedServiceClaimIndicator>
        </e:includedServiceLine>
      </e:includedDetailServiceLine>
    </e:includedMedicalClaimDetail>
  </e:includedMedicalClaimPlan>
</e:includedMedicalClaimIssuer>
</e:edgeServerMedicalClaimSubmission>
"""

ESPCS_DOC = f"""<e:edgeServerPharmacyClaimSubmission xmlns:e="{NS}">
{_header("P")}
<e:claimDetailTotalQuantity>1</e:claimDetailTotalQuantity>
<e:insurancePlanPaidOnFileTotalAmount>12.50</e:insurancePlanPaidOnFileTotalAmount>
<e:includedPharmacyClaimIssuer>
  <e:recordIdentifier>1</e:recordIdentifier>
  <e:issuerIdentifier>12345</e:issuerIdentifier>
  <e:issuerClaimDetailTotalQuantity>1</e:issuerClaimDetailTotalQuantity>
  <e:issuerPlanPaidTotalAmount>12.50</e:issuerPlanPaidTotalAmount>
  <e:includedPharmacyClaimInsurancePlan>
    <e:recordIdentifier>2</e:recordIdentifier>
    <e:insurancePlanIdentifier>12345VA001000104</e:insurancePlanIdentifier>
    <e:insurancePlanClaimDetailTotalQuantity>1</e:insurancePlanClaimDetailTotalQuantity>
    <e:policyPaidTotalAmount>12.50</e:policyPaidTotalAmount>
    <e:includedPharmacyClaimDetail>
      <e:recordIdentifier>3</e:recordIdentifier>
      <e:insuredMemberIdentifier>M001</e:insuredMemberIdentifier>
      <e:claimIdentifier>RX001</e:claimIdentifier>
      <e:originalClaimIdentifier/>
      <e:voidReplaceCode/>
      <e:claimProcessedDateTime>2025-03-02T08:30:00</e:claimProcessedDateTime>
      <e:prescriptionFillDate>2025-03-01</e:prescriptionFillDate>
      <e:issuerClaimPaidDate>2025-03-05</e:issuerClaimPaidDate>
      <e:prescriptionServiceReferenceNumber>RXREF1</e:prescriptionServiceReferenceNumber>
      <e:nationalDrugCode>00002143380</e:nationalDrugCode>
      <e:dispensingProviderIDQualifier>01</e:dispensingProviderIDQualifier>
      <e:dispensingProviderIdentifier>1234567893</e:dispensingProviderIdentifier>
      <e:prescriptionFillNumber>0</e:prescriptionFillNumber>
      <e:dispensingStatusCode/>
      <e:allowedTotalCostAmount>15.00</e:allowedTotalCostAmount>
      <e:policyPaidAmount>12.50</e:policyPaidAmount>
      <e:derivedServiceClaimIndicator>N</e:derivedServiceClaimIndicator>
    </e:includedPharmacyClaimDetail>
  </e:includedPharmacyClaimInsurancePlan>
</e:includedPharmacyClaimIssuer>
</e:edgeServerPharmacyClaimSubmission>
"""

ESSFS_DOC = f"""<e:edgeServerSupplementalClaimSubmission xmlns:e="{NS}">
{_header("S")}
<e:fileDetailTotalQuantity>1</e:fileDetailTotalQuantity>
<e:includedSupplementalDiagnosisIssuer>
  <e:recordIdentifier>1</e:recordIdentifier>
  <e:issuerIdentifier>12345</e:issuerIdentifier>
  <e:issuerFileDetailTotalQuantity>1</e:issuerFileDetailTotalQuantity>
  <e:includedSupplementalDiagnosisPlan>
    <e:recordIdentifier>2</e:recordIdentifier>
    <e:insurancePlanIdentifier>12345VA001000104</e:insurancePlanIdentifier>
    <e:insurancePlanFileDetailTotalQuantity>1</e:insurancePlanFileDetailTotalQuantity>
    <e:includedSupplementalDiagnosisDetail>
      <e:recordIdentifier>3</e:recordIdentifier>
      <e:insuredMemberIdentifier>M001</e:insuredMemberIdentifier>
      <e:supplementalDiagnosisDetailRecordIdentifier>S001</e:supplementalDiagnosisDetailRecordIdentifier>
      <e:originalClaimIdentifier>C001</e:originalClaimIdentifier>
      <e:detailRecordProcessedDateTime>2025-04-01T09:00:00</e:detailRecordProcessedDateTime>
      <e:addDeleteVoidCode>A</e:addDeleteVoidCode>
      <e:originalSupplementalDetailID/>
      <e:serviceFromDate>2025-03-01</e:serviceFromDate>
      <e:serviceToDate>2025-03-01</e:serviceToDate>
      <e:diagnosisTypeCode>02</e:diagnosisTypeCode>
      <e:supplementalDiagnosisCode>E1122</e:supplementalDiagnosisCode>
      <e:sourceCode>MR</e:sourceCode>
    </e:includedSupplementalDiagnosisDetail>
  </e:includedSupplementalDiagnosisPlan>
</e:includedSupplementalDiagnosisIssuer>
</e:edgeServerSupplementalClaimSubmission>
"""

VALID_DOCS = {"ESES": ESES_DOC, "ESMCS": ESMCS_DOC, "ESPCS": ESPCS_DOC, "ESSFS": ESSFS_DOC}
LAYOUT_IDS = [layout.name for layout in INBOUND_LAYOUTS]

CLAIM_DIAGNOSES = (
    "<e:diagnosisCode>E119</e:diagnosisCode>\n      <e:diagnosisCode>I10</e:diagnosisCode>"
)
DIAGNOSIS_TYPE = "<e:diagnosisTypeCode>02</e:diagnosisTypeCode>"
CLAIM_RECORD_ID = "<e:recordIdentifier>3</e:recordIdentifier>"


def _is_valid(layout: FileLayout, text: str) -> bool:
    return load_schema(layout).validate(etree.fromstring(text.encode()))


def _rejection(layout: FileLayout, text: str) -> str:
    """Why the schema rejects ``text`` (asserting that it does), to pin down the reason."""
    schema = load_schema(layout)
    assert not schema.validate(etree.fromstring(text.encode())), "document unexpectedly valid"
    return "\n".join(error.message for error in schema.error_log)


def _medical(old: str, new: str) -> str:
    """The valid ESMCS document with one fragment replaced (which must be present exactly once)."""
    assert ESMCS_DOC.count(old) == 1, old
    return ESMCS_DOC.replace(old, new)


def _diagnoses(count: int) -> str:
    return "".join(f"<e:diagnosisCode>A{n:03d}</e:diagnosisCode>" for n in range(count))


@pytest.mark.parametrize("layout", INBOUND_LAYOUTS, ids=LAYOUT_IDS)
def test_shipped_xsd_is_the_rendered_layout(layout: FileLayout) -> None:
    assert shipped_xsd(layout) == render_xsd(layout), (
        f"{layout.name}.xsd is stale: run `python -m edge_pipeline.edge.xsd`"
    )


@pytest.mark.parametrize("layout", INBOUND_LAYOUTS, ids=LAYOUT_IDS)
def test_render_is_deterministic_and_compiles(layout: FileLayout) -> None:
    rendered_schema(render_xsd, layout)
    assert isinstance(load_schema(layout), etree.XMLSchema)
    assert load_schema(layout) is load_schema(layout)


@pytest.mark.parametrize("layout", INBOUND_LAYOUTS, ids=LAYOUT_IDS)
def test_minimal_document_validates(layout: FileLayout) -> None:
    schema = load_schema(layout)
    assert schema.validate(etree.fromstring(VALID_DOCS[layout.name].encode())), schema.error_log


@pytest.mark.parametrize("layout", INBOUND_LAYOUTS, ids=LAYOUT_IDS)
def test_annotations_document_the_layout(layout: FileLayout) -> None:
    schema_doc = etree.fromstring(render_xsd(layout).encode())
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    for record, _ in layout.records():
        type_name = record.element[0].upper() + record.element[1:] + "Type"
        (complex_type,) = schema_doc.xpath(f"xs:complexType[@name='{type_name}']", namespaces=xs)
        declared = complex_type.xpath("xs:sequence/xs:element", namespaces=xs)
        names = [node.get("name") for node in declared]
        children = [child.container or child.element for child in record.children]
        assert names == [leaf.name for leaf in record.fields] + children
        for leaf, node in zip(record.fields, declared, strict=False):
            documentation = node.findtext("xs:annotation/xs:documentation", namespaces=xs)
            assert documentation.startswith(f"kind: {leaf.kind}; requirement: {leaf.requirement}")
            assert leaf.doc in documentation
            if leaf.repeated:
                assert node.get("maxOccurs") == str(leaf.max_occurs)


def test_write_xsds_and_module_entry(tmp_path: Path) -> None:
    assert_writes_the_shipped_xsds(
        tmp_path, INBOUND_LAYOUTS, write_xsds, shipped_xsd, "edge_pipeline.edge.xsd"
    )


def test_wrong_namespace_fails() -> None:
    reason = _rejection(BY_NAME["ESMCS"], ESMCS_DOC.replace(NS, "http://example.org/edge"))
    assert "No matching global declaration" in reason


def test_unqualified_elements_fail() -> None:
    document = etree.fromstring(ESPCS_DOC.encode())
    for node in document.iterdescendants():
        node.tag = etree.QName(node).localname
    schema = load_schema(BY_NAME["ESPCS"])
    assert not schema.validate(document)
    assert "Element 'fileIdentifier': This element is not expected" in str(schema.error_log)


def test_other_root_fails() -> None:
    assert "No matching global declaration" in _rejection(BY_NAME["ESPCS"], ESMCS_DOC)


def test_unknown_element_fails() -> None:
    text = _medical(DIAGNOSIS_TYPE, DIAGNOSIS_TYPE + "<e:favouriteColour/>")
    assert "favouriteColour': This element is not expected" in _rejection(BY_NAME["ESMCS"], text)


def test_elements_out_of_order_fail() -> None:
    swapped_header = ESMCS_DOC.replace(
        "<e:fileIdentifier>F00000000001</e:fileIdentifier>"
        "<e:executionZoneCode>T</e:executionZoneCode>",
        "<e:executionZoneCode>T</e:executionZoneCode>"
        "<e:fileIdentifier>F00000000001</e:fileIdentifier>",
    )
    assert swapped_header != ESMCS_DOC
    reason = _rejection(BY_NAME["ESMCS"], swapped_header)
    assert "fileIdentifier': This element is not expected" in reason
    # a diagnosis after the discharge status: each leaf has one place in its record
    moved = _medical(CLAIM_DIAGNOSES, "").replace(
        "<e:dischargeStatusCode/>", "<e:dischargeStatusCode/>" + _diagnoses(1)
    )
    assert "diagnosisCode': This element is not expected" in _rejection(BY_NAME["ESMCS"], moved)


def test_record_identifier_must_be_digits() -> None:
    for bad in ("three", "3.0", "", "-3", "+3"):
        text = _medical(CLAIM_RECORD_ID, f"<e:recordIdentifier>{bad}</e:recordIdentifier>")
        reason = _rejection(BY_NAME["ESMCS"], text)
        assert "recordIdentifier" in reason
        assert any(word in reason for word in ("RecordIdentifierType", "nonNegative", "[0-9]+"))


def test_missing_record_identifier_fails() -> None:
    reason = _rejection(BY_NAME["ESMCS"], _medical(CLAIM_RECORD_ID, ""))
    assert "recordIdentifier" in reason


def test_diagnosis_repetition_is_capped_at_99() -> None:
    assert _is_valid(BY_NAME["ESMCS"], _medical(CLAIM_DIAGNOSES, _diagnoses(99)))
    reason = _rejection(BY_NAME["ESMCS"], _medical(CLAIM_DIAGNOSES, _diagnoses(100)))
    assert "diagnosisCode': This element is not expected" in reason


def test_modifier_repetition_is_capped_at_4() -> None:
    modifier = "<e:serviceModifierCode>25</e:serviceModifierCode>"
    assert _is_valid(BY_NAME["ESMCS"], _medical(modifier, modifier * 4))
    reason = _rejection(BY_NAME["ESMCS"], _medical(modifier, modifier * 5))
    assert "serviceModifierCode': This element is not expected" in reason


def test_one_issuer_per_file() -> None:
    start = ESSFS_DOC.index("<e:includedSupplementalDiagnosisIssuer>")
    end = ESSFS_DOC.index("</e:edgeServerSupplementalClaimSubmission>")
    twice = ESSFS_DOC[:end] + ESSFS_DOC[start:end] + ESSFS_DOC[end:]
    reason = _rejection(BY_NAME["ESSFS"], twice)
    assert "includedSupplementalDiagnosisIssuer': This element is not expected" in reason


def test_claim_without_service_lines_fails() -> None:
    start = ESMCS_DOC.index("<e:includedDetailServiceLine>")
    end = ESMCS_DOC.index("</e:includedDetailServiceLine>") + len("</e:includedDetailServiceLine>")
    reason = _rejection(BY_NAME["ESMCS"], ESMCS_DOC[:start] + ESMCS_DOC[end:])
    assert "Missing child element(s)" in reason
    empty_container = ESMCS_DOC[:start] + "<e:includedDetailServiceLine/>" + ESMCS_DOC[end:]
    assert "Missing child element(s)" in _rejection(BY_NAME["ESMCS"], empty_container)


def test_service_lines_outside_their_container_fail() -> None:
    text = _medical("<e:includedDetailServiceLine>", "").replace(
        "</e:includedDetailServiceLine>", ""
    )
    assert "includedServiceLine': This element is not expected" in _rejection(
        BY_NAME["ESMCS"], text
    )


def test_bad_values_are_left_to_phase_1() -> None:
    """Bad dates, amounts, codes, empty or missing leaves: record-level errors, not XSD ones."""
    text = _medical(
        "<e:statementCoverFromDate>2025-03-01</e:statementCoverFromDate>",
        "<e:statementCoverFromDate>04/01/2025</e:statementCoverFromDate>",
    )
    text = text.replace(
        "<e:allowedTotalAmount>200.00</e:allowedTotalAmount>",
        "<e:allowedTotalAmount>1,200.005</e:allowedTotalAmount>",
    )
    text = text.replace("<e:formTypeCode>P</e:formTypeCode>", "<e:formTypeCode/>")
    text = text.replace("<e:claimIdentifier>C001</e:claimIdentifier>", "")
    text = text.replace("<e:fileIdentifier>F00000000001</e:fileIdentifier>", "")
    assert _is_valid(BY_NAME["ESMCS"], text)

    eses = ESES_DOC.replace(
        "<e:insuredMemberBirthDate>1980-05-17</e:insuredMemberBirthDate>",
        "<e:insuredMemberBirthDate>04/01/2025</e:insuredMemberBirthDate>",
    ).replace("<e:insuredMemberTotalQuantity>1</", "<e:insuredMemberTotalQuantity>one</")
    assert _is_valid(BY_NAME["ESES"], eses)
