"""ESSMFE (formerly ESMCSAR), the medical claim summary accept/reject report of an ESMCS file
(spec section 5).

Root ``medicalClaimSummaryAcceptReject`` (assumed, as are all names below the common blocks):
header; counts of the file, issuer, plans, claims and service lines; the issuer and each plan
with claim counts per year, month and form type; error code frequencies.

A claim's year and month are those of its ``statementCoverFromDate`` (assumed); a claim whose
date cannot be read is counted under year 0000, month 00, so the rollup always adds up to the
claim counts.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.common import (
    FILE_COUNTS,
    ISSUER_COUNTS,
    PLAN_COUNTS,
    issuer_rollup_summary,
    plan_rollup_summary,
)
from edge_pipeline.edge.layouts.outbound.model import (
    CountsBlock,
    FormTypeCounts,
    Recipients,
    RollupSource,
    SummaryLayout,
)

CLAIM_COUNTS = CountsBlock("claimHeaderCounts", "claim")
LINE_COUNTS = CountsBlock("claimServiceLineCounts", "line")

ESSMFE = SummaryLayout(
    name="ESSMFE",
    root="medicalClaimSummaryAcceptReject",
    submission_type="M",
    file_code="MS",
    counts=(FILE_COUNTS, ISSUER_COUNTS, PLAN_COUNTS, CLAIM_COUNTS, LINE_COUNTS),
    issuer=issuer_rollup_summary(
        FormTypeCounts(
            "includedIssuerFormType",
            "formTypeCode",
            CountsBlock("includedIssuerClaimCounts", "claim"),
        )
    ),
    plan=plan_rollup_summary(
        FormTypeCounts(
            "includedPlanFormType",
            "formTypeCode",
            CountsBlock("includedPlanClaimCounts", "claim"),
        )
    ),
    source=RollupSource(
        level="claim",
        table="medical_claim",
        date_column="statement_cover_from_date",
        form_type_column="form_type_code",
    ),
    doc="medical claim summary: counts per level, claims per year, month and form type",
    recipients=Recipients.ISSUER_AND_CMS,
    former_names=("ESMCSAR",),
)
