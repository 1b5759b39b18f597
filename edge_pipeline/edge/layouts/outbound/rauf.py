"""RAUF, RA user fee (issuer + CMS; aggregate): every element name.

One entry per row of ``shadow_rauf``: a plan (14-character HIOS standard component id) in one
rating area of one state market risk pool, as RATEE keys it, with its billable member months,
the year's user fee per billable member month and the fee, their product rounded to the cent
(``edge/transfer/user_fee.py``).  A flat list in state, risk pool, plan, rating area order, as
RATEE.  All names are this project's (assumed); the key and member-month names are RATEE's.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import (
    BILLABLE_MEMBER_MONTHS,
    RATING_AREA,
    pool_plan_leaves,
    ra_group,
    ra_leaf,
)

USER_FEE = ra_group(
    "includedUserFee",
    (
        *pool_plan_leaves(),
        ra_leaf(RATING_AREA, "rating_area", doc="absent when unknown"),
        ra_leaf(BILLABLE_MEMBER_MONTHS, "billable_member_months", "decimal", doc="BMM"),
        ra_leaf(
            "userFeePmpmAmount",
            "user_fee_pmpm",
            "decimal",
            doc="the benefit year's HHS user fee per billable member month",
        ),
        ra_leaf(
            "userFeeAmount",
            "user_fee",
            "decimal",
            doc="billable member months x the fee per month, rounded to the cent",
        ),
    ),
    doc="the RA user fee of one plan in one rating area of a state market risk pool",
)

RAUF = RaReportLayout(
    name="RAUF",
    root="raUserFee",
    file_code="UF",
    body=(USER_FEE,),
    tables=("reported_rauf",),
    doc="RA user fee: per plan, rating area and market risk pool, billable member months and "
    "the user fee",
    recipients=Recipients.ISSUER_AND_CMS,
)
