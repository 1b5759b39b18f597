"""RATEE, RA transfer elements (spec sections 6 and 8): every element name.

One entry per row of ``shadow_ratee``: a plan (the 14-character HIOS standard component id,
which the CSR variants of a plan share) in one rating area of one state market risk pool, with
the elements the state payment transfer formula takes (billable member months, PLRS, ARF, AV,
IDF, GCF, premium PMPM) and the counts behind them (``reported_ratee``).

A flat list, not pool > plan > rating area containers: each entry states its whole key and
every value, so an entry is a ``shadow_ratee`` row as it stands (nothing needs to be consistent
across entries for the report to be lossless), and entries come in state, risk pool, plan,
rating area order, so a pool's plans are still read together.  All names are this project's
(assumed); plan, rating area, metal, enrollee and member-month names are the other RA
reports'.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import (
    BILLABLE_MEMBER_MONTHS,
    ENROLLEE_COUNT,
    MEMBER_MONTHS,
    METAL,
    RATING_AREA,
    pool_plan_leaves,
    ra_group,
    ra_leaf,
)

#: One plan x rating area x risk pool and its transfer elements.
TRANSFER_ELEMENT = ra_group(
    "includedTransferElement",
    (
        *pool_plan_leaves(),
        ra_leaf(RATING_AREA, "rating_area", doc="absent when unknown"),
        ra_leaf(METAL, "metal"),
        ra_leaf(ENROLLEE_COUNT, "enrollees", "integer", doc="distinct enrollees"),
        ra_leaf(MEMBER_MONTHS, "member_months", "decimal"),
        ra_leaf(BILLABLE_MEMBER_MONTHS, "billable_member_months", "decimal", doc="BMM"),
        ra_leaf(
            "planLiabilityRiskScore",
            "plrs",
            "decimal",
            doc="PLRS: CSR-adjusted scores weighted by billable member months",
        ),
        ra_leaf(
            "allowableRatingFactor",
            "arf",
            "decimal",
            doc="ARF: age rating factors weighted by billable member months",
        ),
        ra_leaf("actuarialValue", "av", "decimal", doc="AV of the metal level"),
        ra_leaf("inducedDemandFactor", "idf", "decimal", doc="IDF of the metal level"),
        ra_leaf("geographicCostFactor", "gcf", "decimal", doc="GCF of the rating area"),
        ra_leaf(
            "premiumPmpmAmount",
            "premium_pmpm",
            "decimal",
            doc="plan premium per billable member month",
        ),
    ),
    doc="the transfer elements of one plan in one rating area of a state market risk pool",
)

RATEE = RaReportLayout(
    name="RATEE",
    root="raTransferElementDetail",
    file_code="TE",
    body=(TRANSFER_ELEMENT,),
    tables=("reported_ratee",),
    doc="RA transfer elements: per plan, rating area and market risk pool, the inputs of the "
    "state payment transfer formula",
    recipients=Recipients.ISSUER_AND_CMS,
)
