"""ESDPCE, the pharmacy claim detail error report (spec section 5): issuer > plan > claim."""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import DetailLayout, ResultLevel

CLAIM = ResultLevel(
    element="includedClaimProcessingResult",
    level="claim",
    record_identifier="pharmacyClaimRecordIdentifier",
    key="pharmacyClaimIdentifier",
)

PLAN = ResultLevel(
    element="includedPlanProcessingResult",
    level="plan",
    record_identifier="planRecordIdentifier",
    key="insurancePlanIdentifier",
    children=(CLAIM,),
)

ESDPCE = DetailLayout(
    name="ESDPCE",
    root="issuerPlanPharmacyClaimDetail",
    submission_type="P",
    file_code="PD",
    issuer=ResultLevel(
        element="includedIssuerProcessingResult",
        level="issuer",
        record_identifier="issuerRecordIdentifier",
        key="issuerIdentifier",
        children=(PLAN,),
        max_occurs=1,
    ),
    doc="processing result of every plan and claim of an ESPCS file",
)
