"""Elements shared by the four inbound layouts: the file header (spec section 2)."""

from __future__ import annotations

from edge_pipeline.edge.layouts.model import Element

#: First children of every inbound root, in this order.
HEADER: tuple[Element, ...] = (
    Element("fileIdentifier", "file_identifier", "code", doc="exactly 12 characters", length=12),
    Element("executionZoneCode", "execution_zone", "code", doc="T, P or V"),
    Element("interfaceControlReleaseNumber", "icd_release", "code", doc="NN.NN.NN", length=8),
    Element("generationDateTime", "generation_datetime", "datetime", length=19),
    Element("submissionTypeCode", "submission_type", "code", doc="E, M, P or S"),
)

RECORD_IDENTIFIER = Element(
    "recordIdentifier",
    "record_identifier",
    "integer",
    doc="starts at 1, +1 per record in document order across the whole file",
)
ISSUER_IDENTIFIER = Element(
    "issuerIdentifier", "issuer_identifier", "code", doc="5-digit HIOS id", length=5
)
PLAN_IDENTIFIER = Element(
    "insurancePlanIdentifier", "insurance_plan_identifier", "code", doc="16 characters", length=16
)
MEMBER_IDENTIFIER = Element(
    "insuredMemberIdentifier", "insured_member_identifier", doc="masked, issuer-unique"
)
