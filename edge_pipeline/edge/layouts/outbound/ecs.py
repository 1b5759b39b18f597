"""ECS, Enrollee Claims Summary (issuer + CMS; aggregate): every element name.

One entry per row of ``shadow_ecs``: a plan (16-character ``insurancePlanIdentifier``; absent
for claims without one) of the run's enrollees or claims of the year, with its counts
(``claim_selection/enrollee_claims.py``): enrollees = with claims + without claims; claims
linked + orphan claims = the plan's claims of the year.  The file code ``CY``, the root and
every element name are this project's (assumed).
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import (
    ENROLLEE_COUNT,
    PLAN_ID,
    ra_group,
    ra_leaf,
)

PLAN_ENROLLEE_CLAIMS = ra_group(
    "includedPlanEnrolleeClaimsSummary",
    (
        ra_leaf(PLAN_ID, "plan_id", doc="absent for claims without a plan id"),
        ra_leaf(ENROLLEE_COUNT, "enrollees", "integer", doc="enrollees of the plan in the year"),
        ra_leaf(
            "enrolleeWithClaimCount",
            "enrollees_with_claims",
            "integer",
            doc="of them, with a linked claim of the year",
        ),
        ra_leaf(
            "enrolleeWithoutClaimCount",
            "enrollees_without_claims",
            "integer",
            doc="of them, without (the ECD's enrollees without claims)",
        ),
        ra_leaf(
            "linkedClaimCount",
            "claims_linked",
            "integer",
            doc="claims of the year linked to an active enrollment period",
        ),
        ra_leaf("orphanClaimCount", "orphan_claims", "integer", doc="the ECD's orphan claims"),
    ),
    doc="enrollee and claim counts of one plan",
)

ECS = RaReportLayout(
    name="ECS",
    root="enrolleeClaimsSummary",
    file_code="CY",
    body=(PLAN_ENROLLEE_CLAIMS,),
    tables=("reported_ecs",),
    doc="enrollee claims summary: per plan, enrollees with and without claims, linked and "
    "orphan claims",
    recipients=Recipients.ISSUER_AND_CMS,
)
