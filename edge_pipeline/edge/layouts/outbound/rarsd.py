"""RARSD, risk score detail (spec section 6; issuer only): every element name.

One entry per enrollee x plan enrollment scored in the run (``shadow_risk_score``), holding
everything behind its score:

* each HCC the enrollee has (``shadow_risk_score_term`` of kind ``hcc`` or ``group``, with its
  coefficient) with the diagnoses that produced it (``shadow_risk_hcc_source`` whose ``hcc`` is
  the HCC's identifier).  An HCC with sources but no coefficient of its own (one folded into a
  group) is listed without a factor type and coefficient, so every source has a place;
* each RXC likewise (``kind`` ``rxc``; ``shadow_risk_rxc_source``);
* the HCCs and RXCs a hierarchy dropped (``shadow_risk_dropped_hcc``);
* every other term with its coefficient (demographic, interactions, severity, enrollment
  duration, infant), then the raw and CSR-adjusted score.

All names are this project's (assumed); member, plan, gender and birth date reuse the inbound
ESES names.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import (
    BILLABLE_MEMBER_MONTHS,
    COEFFICIENT,
    FACTOR_ID,
    FACTOR_KIND,
    HCC_ID,
    MEMBER_ID,
    METAL,
    PLAN_ID,
    RATING_AREA,
    RXC_ID,
    ra_group,
    ra_leaf,
    source_leaves,
)

#: Term kinds reported inside ``includedHcc`` and ``includedRxc``; every other kind is an
#: ``includedRiskScoreTerm``.
HCC_KINDS: tuple[str, ...] = ("hcc", "group")
RXC_KINDS: tuple[str, ...] = ("rxc",)


def _factor(identifier: str, doc: str) -> tuple:
    """Identifier, factor type and coefficient of a term (type and coefficient absent when the
    HCC or RXC carries no coefficient of its own)."""
    return (
        ra_leaf(identifier, "variable", required=True, doc=doc),
        ra_leaf(FACTOR_KIND, "kind", doc="term kind; absent when no coefficient of its own"),
        ra_leaf(COEFFICIENT, "coefficient", "decimal", doc="coefficient of the enrollee's metal"),
    )


HCC_SOURCE = ra_group(
    "includedHccDiagnosisSource",
    (
        ra_leaf("diagnosisCode", "diagnosis_code", required=True, doc="ICD-10-CM, no dot"),
        ra_leaf("diagnosisSourceCode", "source", doc="claim or supplemental"),
        *source_leaves(),
    ),
    doc="a diagnosis that produced the HCC",
)

HCC = ra_group(
    "includedHcc",
    (*_factor(HCC_ID, "HCC or group variable"), HCC_SOURCE),
    doc="an HCC (after hierarchies) or HCC group of the enrollee",
)

RXC_SOURCE = ra_group(
    "includedRxcDrugSource",
    (
        ra_leaf("drugCodeTypeCode", "code_type", doc="NDC or HCPCS"),
        ra_leaf("drugCode", "code", required=True),
        *source_leaves(),
    ),
    doc="an NDC or HCPCS code that produced the RXC",
)

RXC = ra_group(
    "includedRxc",
    (*_factor(RXC_ID, "RXC variable"), RXC_SOURCE),
    doc="an RXC (after the RXC hierarchy) of the enrollee",
)

DROPPED_HCC = ra_group(
    "includedDroppedHcc",
    (
        ra_leaf(HCC_ID, "hcc", required=True, doc="HCC or RXC set to 0 by a hierarchy"),
        ra_leaf("droppedByIdentifier", "dropped_by", doc="the HCC or RXC that dropped it"),
    ),
)

TERM = ra_group(
    "includedRiskScoreTerm",
    (
        ra_leaf(FACTOR_ID, "variable", required=True),
        ra_leaf(
            FACTOR_KIND,
            "kind",
            required=True,
            doc="demographic, rxc_interaction, severity, enrollment_duration, infant, ...",
        ),
        ra_leaf(COEFFICIENT, "coefficient", "decimal"),
    ),
    doc="any other term of the score with its coefficient",
)

ENROLLEE = ra_group(
    "includedEnrolleeRiskScore",
    (
        ra_leaf(MEMBER_ID, "member_id", required=True),
        ra_leaf(PLAN_ID, "plan_id", required=True, doc="16-character plan id"),
        ra_leaf(RATING_AREA, "rating_area"),
        ra_leaf(METAL, "metal"),
        ra_leaf("csrVariantCode", "csr_variant", doc="last two characters of the plan id"),
        ra_leaf("csrIndicator", "csr_indicator", "integer", doc="DIY CSR_INDICATOR"),
        ra_leaf("csrFactor", "csr_factor", "decimal", doc="DIY table 13"),
        ra_leaf("insuredMemberGenderCode", "sex", doc="M, F or U"),
        ra_leaf("insuredMemberBirthDate", "birth_date", "date"),
        ra_leaf("ageLast", "age_last", "integer", doc="AGE_LAST"),
        ra_leaf("riskAdjustmentModelCode", "model", doc="adult, child or infant"),
        ra_leaf("enrollmentDays", "enrollment_days", "integer"),
        ra_leaf("enrollmentMonths", "enrollment_months", "integer", doc="ENROLDURATION"),
        ra_leaf(BILLABLE_MEMBER_MONTHS, "billable_member_months", "decimal"),
        HCC,
        RXC,
        DROPPED_HCC,
        TERM,
        ra_leaf("riskScore", "score_raw", "decimal", doc="raw risk score"),
        ra_leaf("csrAdjustedRiskScore", "score_csr_adjusted", "decimal"),
    ),
    doc="one enrollee x plan enrollment of the benefit year and its risk score",
)

RARSD = RaReportLayout(
    name="RARSD",
    root="raRiskScoreDetail",
    file_code="RD",
    body=(ENROLLEE,),
    tables=(
        "reported_risk_score",
        "reported_risk_score_term",
        "reported_risk_hcc_source",
        "reported_risk_rxc_source",
        "reported_risk_dropped_hcc",
    ),
    doc="risk score detail: every enrollee x plan score with its HCCs, RXCs and terms",
    recipients=Recipients.ISSUER_ONLY,
)
