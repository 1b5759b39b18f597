"""RARSS, risk score summary (spec section 6): every element name.

One block per plan x rating area of the run's scores (``reported_rarss``) with its frequency
distributions (``reported_rarss_frequency``, one ``distribution`` per list below).  All names,
and the definitions in ``docs/phase2-outbound.md``, are this project's (assumed).
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import Group, LeafKind, RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import (
    BILLABLE_MEMBER_MONTHS,
    ENROLLEE_COUNT,
    FACTOR_ID,
    HCC_ID,
    MEMBER_MONTHS,
    PLAN_ID,
    RATING_AREA,
    RXC_ID,
    ra_group,
    ra_leaf,
)


def _frequency(element: str, key: str, kind: LeafKind, doc: str) -> Group:
    return ra_group(
        element,
        (
            ra_leaf(key, "code", kind, doc="absent when unknown"),
            ra_leaf(ENROLLEE_COUNT, "enrollee_count", "integer", required=True),
        ),
        doc=doc,
    )


#: ``reported_rarss_frequency.distribution`` -> its list element, in report order.
FREQUENCIES: dict[str, Group] = {
    "hcc": _frequency(
        "includedHccFrequency", HCC_ID, "code", "enrollees with the HCC or group (a payment term)"
    ),
    "rxc": _frequency("includedRxcFrequency", RXC_ID, "code", "enrollees with the RXC"),
    "csr_factor": _frequency(
        "includedCsrFactorFrequency", "csrFactor", "decimal", "enrollees per CSR factor"
    ),
    "dropped_hcc": _frequency(
        "includedDroppedHccFrequency", HCC_ID, "code", "enrollees whose HCC or RXC was dropped"
    ),
    "interaction": _frequency(
        "includedInteractionFrequency",
        FACTOR_ID,
        "code",
        "enrollees with the interaction term (rxc_interaction, severity, infant)",
    ),
}

PLAN_RATING_AREA = ra_group(
    "includedPlanRatingAreaSummary",
    (
        ra_leaf(PLAN_ID, "plan_id", required=True),
        ra_leaf(RATING_AREA, "rating_area", doc="absent when unknown"),
        ra_leaf(ENROLLEE_COUNT, "enrollee_count", "integer", required=True),
        ra_leaf(MEMBER_MONTHS, "member_months", "decimal", doc="from ra_enrollee"),
        ra_leaf(BILLABLE_MEMBER_MONTHS, "billable_member_months", "decimal"),
        ra_leaf("averageRiskScore", "average_score_raw", "decimal", doc="mean raw score"),
        ra_leaf(
            "averageCsrAdjustedRiskScore",
            "average_score_csr_adjusted",
            "decimal",
            doc="mean CSR-adjusted score",
        ),
        *FREQUENCIES.values(),
    ),
    doc="the scores of one plan in one rating area",
)

RARSS = RaReportLayout(
    name="RARSS",
    root="raRiskScoreSummary",
    file_code="RS",
    body=(PLAN_RATING_AREA,),
    tables=("reported_rarss", "reported_rarss_frequency"),
    doc="risk score summary: per plan and rating area, counts, averages and distributions",
    recipients=Recipients.ISSUER_AND_CMS,
)
