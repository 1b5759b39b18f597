"""ECD, Enrollee Claims Detail (issuer only): every element name.

Two flat lists of a scoring run (``claim_selection/enrollee_claims.py``):

* ``includedOrphanClaim``, one per row of ``shadow_ecd_orphan_claim``: an active accepted
  medical (statement-covers-through in the benefit year) or pharmacy (filled in it) claim that
  no active enrollment period of the same enrollee and plan covers, with why;
* ``includedEnrolleeWithoutClaim``, one per row of ``shadow_ecd_enrollee_without_claim``: an
  enrollee x plan enrolled in the year with no linked claim of the year.

Member and claim ids are the issuer's own (masked ``insuredMemberIdentifier``, as in RACSD):
hence issuer only.  The file code ``EC``, the root and every element name are this project's
(assumed); the claim and member names are RACSD's.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import (
    MEMBER_ID,
    MEMBER_MONTHS,
    PLAN_ID,
    RECORD_KIND,
    ra_group,
    ra_leaf,
    source_leaves,
)

ORPHAN_CLAIM = ra_group(
    "includedOrphanClaim",
    (
        ra_leaf(RECORD_KIND, "record_kind", required=True, doc="medical or pharmacy"),
        *source_leaves(),
        ra_leaf(MEMBER_ID, "member_id", doc="the enrollee the claim names"),
        ra_leaf(PLAN_ID, "plan_id", doc="the plan the claim names (16 characters)"),
        ra_leaf(
            "serviceFromDate",
            "service_from_date",
            "date",
            doc="medical: statement covers from (earliest line date without it); pharmacy: fill",
        ),
        ra_leaf(
            "serviceToDate",
            "service_to_date",
            "date",
            doc="medical: statement covers through (latest line date without it); pharmacy: fill",
        ),
        ra_leaf(
            "orphanReasonCode",
            "orphan_reason",
            doc="not_enrolled_in_plan (no active period of the enrollee in the plan) or "
            "outside_enrollment_period (none of them covers the service)",
        ),
    ),
    doc="a claim of the year not linked to an active enrollment period of its enrollee and plan",
)

ENROLLEE_WITHOUT_CLAIM = ra_group(
    "includedEnrolleeWithoutClaim",
    (
        ra_leaf(MEMBER_ID, "member_id", required=True),
        ra_leaf(PLAN_ID, "plan_id", required=True),
        ra_leaf(MEMBER_MONTHS, "member_months", "decimal", doc="member months in the year"),
    ),
    doc="an enrollee x plan enrolled in the benefit year without a linked claim of the year",
)

#: Table of each ECD entry (the writer and the reader take both from here).
ECD_ENTRIES = (
    (ORPHAN_CLAIM, "shadow_ecd_orphan_claim"),
    (ENROLLEE_WITHOUT_CLAIM, "shadow_ecd_enrollee_without_claim"),
)

ECD = RaReportLayout(
    name="ECD",
    root="enrolleeClaimsDetail",
    file_code="EC",
    body=(ORPHAN_CLAIM, ENROLLEE_WITHOUT_CLAIM),
    tables=("reported_ecd_orphan_claim", "reported_ecd_enrollee_without_claim"),
    doc="enrollee claims detail (issuer only): orphan claims and enrollees without claims",
    recipients=Recipients.ISSUER_ONLY,
)
