"""ESDPCE, the pharmacy claim detail error report (spec section 5): issuer > plan > claim."""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.common import issuer_result, plan_result
from edge_pipeline.edge.layouts.outbound.model import DetailLayout, Recipients, ResultLevel

CLAIM = ResultLevel(
    element="includedClaimProcessingResult",
    level="claim",
    record_identifier="pharmacyClaimRecordIdentifier",
    key="pharmacyClaimIdentifier",
)

PLAN = plan_result(CLAIM)

ESDPCE = DetailLayout(
    name="ESDPCE",
    root="issuerPlanPharmacyClaimDetail",
    submission_type="P",
    file_code="PD",
    issuer=issuer_result(PLAN),
    doc="processing result of every plan and claim of an ESPCS file",
    recipients=Recipients.ISSUER_ONLY,
)
