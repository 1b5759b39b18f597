"""ESDEE, the enrollment detail error report (spec section 5): issuer > enrollee > period."""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.common import issuer_result
from edge_pipeline.edge.layouts.outbound.model import DetailLayout, Recipients, ResultLevel

ENROLLMENT_PERIOD = ResultLevel(
    element="includedInsuredMemberProfileProcessingResult",
    level="enrollment_period",
    record_identifier="insuredMemberProfileRecordIdentifier",
)

ENROLLEE = ResultLevel(
    element="includedInsuredMemberProcessingResult",
    level="enrollee",
    record_identifier="insuredMemberRecordIdentifier",
    key="insuredMemberIdentifier",
    children=(ENROLLMENT_PERIOD,),
)

ESDEE = DetailLayout(
    name="ESDEE",
    root="issuerPlanEnrollmentDetail",
    submission_type="E",
    file_code="ED",
    issuer=issuer_result(ENROLLEE),
    doc="processing result of every enrollee and enrollment period of an ESES file",
    recipients=Recipients.ISSUER_ONLY,
)
