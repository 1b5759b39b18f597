"""HCRPDE, high-cost risk pool enrollee detail (issuer only): every element name.

One entry per row of ``shadow_hcrp_enrollee``: an enrollee x plan (14-character HIOS standard
component id) whose paid claims of the benefit year exceed the threshold, with those paid
claims, the amount above the threshold and the reimbursement (``edge/transfer/hcrp.py``).  The
enrollee is the issuer's own (masked) ``insuredMemberIdentifier``, as in RARSD.  All names are
this project's (assumed); the member id is the inbound ESES name.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import (
    MEMBER_ID,
    ra_group,
    ra_leaf,
    standard_component_leaf,
)

ENROLLEE_HCRP = ra_group(
    "includedEnrolleeHighCostRiskPool",
    (
        ra_leaf(MEMBER_ID, "member_id", required=True),
        standard_component_leaf(),
        ra_leaf("paidClaimsAmount", "paid_claims", "decimal", doc="paid claims of the year"),
        ra_leaf("amountOverThreshold", "amount_over_threshold", "decimal", doc="paid - threshold"),
        ra_leaf(
            "hcrpReimbursementAmount",
            "hcrp_payment",
            "decimal",
            doc="coinsurance rate x the amount over the threshold, to the cent",
        ),
    ),
    doc="an enrollee whose paid claims exceed the high-cost risk pool threshold",
)

HCRPDE = RaReportLayout(
    name="HCRPDE",
    root="highCostRiskPoolEnrolleeDetail",
    file_code="HE",
    body=(ENROLLEE_HCRP,),
    tables=("reported_hcrp_enrollee",),
    doc="high-cost risk pool enrollee detail (issuer only): paid claims, amount over the "
    "threshold and reimbursement of each enrollee over it",
    recipients=Recipients.ISSUER_ONLY,
)
