"""HCRPSR, high-cost risk pool summary (issuer + CMS; aggregate): every element name.

One entry per row of ``shadow_hcrp_summary``: a plan (14-character HIOS standard component id)
with its state market risk pool, the enrollees whose paid claims of the benefit year exceed the
threshold, their paid claims and the amount above it, the threshold and coinsurance rate
applied, the reimbursement, the plan's premium, the charge rate and the charge, and the net
amount (reimbursement - charge) (``edge/transfer/hcrp.py``).  All names are this project's
(assumed); no member identifier is in it.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import pool_plan_leaves, ra_group, ra_leaf

PLAN_HCRP = ra_group(
    "includedPlanHighCostRiskPool",
    (
        # a plan of an enrollee over the threshold but absent from the RATEE has no pool
        *pool_plan_leaves(pool_required=False),
        ra_leaf(
            "enrolleeOverThresholdCount",
            "enrollees_over_threshold",
            "integer",
            doc="enrollees whose paid claims exceed the threshold",
        ),
        ra_leaf("paidClaimsAmount", "paid_claims", "decimal", doc="their paid claims"),
        ra_leaf("amountOverThreshold", "amount_over_threshold", "decimal", doc="paid - threshold"),
        ra_leaf("thresholdAmount", "threshold", "decimal", doc="$1,000,000 (spec section 8)"),
        ra_leaf("coinsuranceRate", "coinsurance_rate", "decimal", doc="0.60 (spec section 8)"),
        ra_leaf(
            "hcrpReimbursementAmount",
            "hcrp_payment",
            "decimal",
            doc="coinsurance rate x the amount over the threshold, per enrollee to the cent",
        ),
        ra_leaf("premiumAmount", "premium", "decimal", doc="the plan's premium of the year"),
        ra_leaf("hcrpChargeRate", "charge_rate", "decimal", doc="charge as a share of premium"),
        ra_leaf("hcrpChargeAmount", "hcrp_charge", "decimal", doc="charge rate x premium"),
        ra_leaf("hcrpNetAmount", "net_amount", "decimal", doc="reimbursement - charge"),
    ),
    doc="the high-cost risk pool of one plan: reimbursement and charge",
)

HCRPSR = RaReportLayout(
    name="HCRPSR",
    root="highCostRiskPoolSummary",
    file_code="HS",
    body=(PLAN_HCRP,),
    tables=("reported_hcrp_summary",),
    doc="high-cost risk pool summary: per plan, claims over the threshold, the reimbursement "
    "at the coinsurance rate and the charge",
    recipients=Recipients.ISSUER_AND_CMS,
)
