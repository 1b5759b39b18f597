"""ESDMCE, the medical claim detail error report (spec section 5): issuer > plan > claim > line."""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.common import issuer_result, plan_result
from edge_pipeline.edge.layouts.outbound.model import DetailLayout, Recipients, ResultLevel

SERVICE_LINE = ResultLevel(
    element="includedClaimServiceLineProcessingResult",
    level="line",
    record_identifier="medicalClaimServiceLineRecordIdentifier",
)

CLAIM = ResultLevel(
    element="includedClaimProcessingResult",
    level="claim",
    record_identifier="medicalClaimRecordIdentifier",
    key="medicalClaimIdentifier",
    children=(SERVICE_LINE,),
    rejects_whole_group=True,
    doc="a failed service line rejects the claim and all its lines (spec section 4)",
)

PLAN = plan_result(CLAIM)

ESDMCE = DetailLayout(
    name="ESDMCE",
    root="issuerPlanMedicalClaimDetail",
    submission_type="M",
    file_code="MD",
    issuer=issuer_result(PLAN),
    doc="processing result of every plan, claim and service line of an ESMCS file",
    recipients=Recipients.ISSUER_ONLY,
)
