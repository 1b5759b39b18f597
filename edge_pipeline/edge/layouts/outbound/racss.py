"""RACSS, RA claim selection summary (spec section 6): every element name.

The plan-level rollup of RACSD: per plan, one count per category, record kind, verdict and
exclusion reason (``reported_racss``).  All names are this project's (assumed).
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import (
    INCLUDED,
    PLAN_ID,
    REASON,
    RECORD_KIND,
    ra_group,
    ra_leaf,
)

#: Claims of one category, kind, verdict and reason.
CLAIM_SELECTION_COUNT = ra_group(
    "includedClaimSelectionCount",
    (
        ra_leaf(
            "claimSelectionCategoryCode",
            "category",
            required=True,
            doc="the RACSD category: calendar_year, plan, bill_type, service_code, reason_code, "
            "pharmacy_claim, unlinked_supplemental, medical_claim or supplemental_claim",
        ),
        ra_leaf(RECORD_KIND, "record_kind", required=True, doc="medical, pharmacy or supplemental"),
        ra_leaf(INCLUDED, "included", required=True, doc="Y included, N excluded"),
        ra_leaf(REASON, "reason_code", doc="absent for included claims"),
        ra_leaf("claimCount", "claim_count", "integer", required=True),
    ),
    doc="number of RACSD entries of the plan with these values",
)

#: One plan's block; claims with no plan id are counted in a block without one.
PLAN_SUMMARY = ra_group(
    "includedPlanClaimSelectionSummary",
    (
        ra_leaf(PLAN_ID, "plan_id", doc="absent for claims whose plan is unknown"),
        CLAIM_SELECTION_COUNT,
    ),
)

RACSS = RaReportLayout(
    name="RACSS",
    root="raClaimSelectionSummary",
    file_code="CS",
    body=(PLAN_SUMMARY,),
    tables=("reported_racss",),
    doc="RA claim selection summary: per plan, claims included and excluded by reason",
    recipients=Recipients.ISSUER_AND_CMS,
)
