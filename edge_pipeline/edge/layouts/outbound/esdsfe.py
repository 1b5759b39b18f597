"""ESDSFE, the supplemental diagnosis detail error report (spec section 5): issuer > plan >
supplemental record.  The spec marks the root as assumed; the plan and issuer levels mirror
ESDPCE (assumed)."""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.common import issuer_result, plan_result
from edge_pipeline.edge.layouts.outbound.model import DetailLayout, Recipients, ResultLevel

SUPPLEMENTAL = ResultLevel(
    element="includedSupplementalDiagnosisProcessingResult",
    level="supplemental",
    record_identifier="supplementalDiagnosisRecordIdentifier",
    key="supplementalDiagnosisIdentifier",
    doc="key: the issuer's supplementalDiagnosisDetailRecordIdentifier",
)

PLAN = plan_result(SUPPLEMENTAL, assumed=True)

ESDSFE = DetailLayout(
    name="ESDSFE",
    root="issuerPlanSupplementalDiagnosisDetail",
    submission_type="S",
    file_code="SD",
    issuer=issuer_result(PLAN, assumed=True),
    doc="processing result of every plan and supplemental record of an ESSFS file",
    assumed_root=True,
    recipients=Recipients.ISSUER_ONLY,
)
