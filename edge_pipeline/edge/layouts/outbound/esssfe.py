"""ESSSFE (formerly ESSFSAR), the supplemental diagnosis summary accept/reject report of an
ESSFS file (spec section 5).

Root ``supplementalSummaryAcceptReject`` (assumed, as are all names below the common blocks):
header; counts of the file, issuer, plans and supplemental records; the issuer and each plan
with record counts per year and month; error code frequencies.

A record's year and month are those of its ``serviceFromDate`` (assumed); a record whose date
cannot be read is counted under year 0000, month 00.
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

SUPPLEMENTAL_COUNTS = CountsBlock("includedRecordCounts", "supplemental")

ESSSFE = SummaryLayout(
    name="ESSSFE",
    root="supplementalSummaryAcceptReject",
    submission_type="S",
    file_code="SS",
    counts=(FILE_COUNTS, ISSUER_COUNTS, PLAN_COUNTS, SUPPLEMENTAL_COUNTS),
    issuer=issuer_rollup_summary(
        MonthCounts(CountsBlock("includedIssuerMonthCounts", "supplemental"))
    ),
    plan=plan_rollup_summary(MonthCounts(CountsBlock("includedPlanMonthCounts", "supplemental"))),
    source=RollupSource(
        level="supplemental", table="supplemental_record", date_column="service_from_date"
    ),
    doc="supplemental diagnosis summary: counts per level, records per year and month",
    recipients=Recipients.ISSUER_AND_CMS,
    former_names=("ESSFSAR",),
)
