"""ESDSFE, the supplemental diagnosis detail error report (spec section 5): issuer > plan >
supplemental record.  The spec marks the root as assumed; the plan and issuer levels mirror
ESDPCE (assumed)."""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import DetailLayout, ResultLevel

SUPPLEMENTAL = ResultLevel(
    element="includedSupplementalDiagnosisProcessingResult",
    level="supplemental",
    record_identifier="supplementalDiagnosisRecordIdentifier",
    key="supplementalDiagnosisIdentifier",
    doc="key: the issuer's supplementalDiagnosisDetailRecordIdentifier",
)

PLAN = ResultLevel(
    element="includedPlanProcessingResult",
    level="plan",
    record_identifier="planRecordIdentifier",
    key="insurancePlanIdentifier",
    children=(SUPPLEMENTAL,),
    assumed=True,
)

ESDSFE = DetailLayout(
    name="ESDSFE",
    root="issuerPlanSupplementalDiagnosisDetail",
    submission_type="S",
    file_code="SD",
    issuer=ResultLevel(
        element="includedIssuerProcessingResult",
        level="issuer",
        record_identifier="issuerRecordIdentifier",
        key="issuerIdentifier",
        children=(PLAN,),
        max_occurs=1,
        assumed=True,
    ),
    doc="processing result of every plan and supplemental record of an ESSFS file",
    assumed_root=True,
)
