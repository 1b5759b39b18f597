"""ESSPFE (formerly ESPCSAR), the pharmacy claim summary accept/reject report of an ESPCS file
(spec section 5).

Root ``pharmacyClaimSummaryAcceptReject`` (assumed, as are all names below the common blocks):
header; counts of the file, issuer, plans and claims; the issuer and each plan with claim
counts per year and month; error code frequencies.

A claim's year and month are those of its ``prescriptionFillDate`` (assumed); a claim whose
date cannot be read is counted under year 0000, month 00.
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
    MonthCounts,
    Recipients,
    RollupSource,
    SummaryLayout,
)

CLAIM_COUNTS = CountsBlock("includedRecordCounts", "claim")

ESSPFE = SummaryLayout(
    name="ESSPFE",
    root="pharmacyClaimSummaryAcceptReject",
    submission_type="P",
    file_code="PS",
    counts=(FILE_COUNTS, ISSUER_COUNTS, PLAN_COUNTS, CLAIM_COUNTS),
    issuer=issuer_rollup_summary(MonthCounts(CountsBlock("includedIssuerMonthCounts", "claim"))),
    plan=plan_rollup_summary(
        MonthCounts(CountsBlock("includedPlanMonthCounts", "claim")), year="planCalendarYear"
    ),
    source=RollupSource(
        level="claim", table="pharmacy_claim", date_column="prescription_fill_date"
    ),
    doc="pharmacy claim summary: counts per level, claims per year and month",
    recipients=Recipients.ISSUER_AND_CMS,
    former_names=("ESPCSAR",),
)
