"""The Phase 2 asset checks, declared once: names, targets, what failing means.

Declared on the assets that evaluate them (``check_specs``), for the same reason as Phase 1's:
each reads what its asset just wrote, in the same warehouse connection.  Blocking checks stop
downstream assets: a risk score built on an inactive claim or a non-enrollee would flow into
the reports and, later, into the transfer estimate.
"""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.check_specs import partitioned_check_spec
from edge_pipeline.defs.reference.partitions import benefit_years

RA_CLAIM_SELECTION = dg.AssetKey("ra_claim_selection")
RISK_SCORES = dg.AssetKey("risk_scores")
SHADOW_PHASE2_REPORTS = dg.AssetKey("shadow_phase2_reports")
REPORTED_RA_REPORTS = dg.AssetKey("reported_ra_reports")
RISK_SCORE_RECONCILIATION = dg.AssetKey("risk_score_reconciliation")

RA_INCLUDED_CLAIMS_ACTIVE = "ra_included_claims_active_and_accepted"
SCORED_ENROLLEES_ENROLLED = "scored_enrollees_have_accepted_enrollment"
SCORES_MATCH_REPORTED = "reported_risk_scores_match_shadow"


def _spec(name: str, asset: dg.AssetKey, description: str, blocking: bool) -> dg.AssetCheckSpec:
    return partitioned_check_spec(
        name, asset, description, blocking=blocking, partitions_def=benefit_years
    )


ra_included_claims_active = _spec(
    RA_INCLUDED_CLAIMS_ACTIVE,
    RA_CLAIM_SELECTION,
    "Every claim RA claim selection includes is an active, accepted claim (not rejected, "
    "voided or replaced away), and every included supplemental record was accepted. "
    "Blocking: scores are not computed from claims that must not count.",
    blocking=True,
)
scored_enrollees_enrolled = _spec(
    SCORED_ENROLLEES_ENROLLED,
    RISK_SCORES,
    "Every scored enrollee x plan has accepted, active enrollment in that plan in the benefit "
    "year. Blocking: the RA reports are not written from scores of non-enrollees.",
    blocking=True,
)
scores_match_reported = _spec(
    SCORES_MATCH_REPORTED,
    RISK_SCORE_RECONCILIATION,
    "The RARSD EDGE sent agrees with the shadow scores: same enrollees x plans, same raw and "
    "CSR-adjusted scores, same HCCs and groups. Failing lists the differing rows (plan, "
    "scores, the HCCs only one side has) from risk_score_differences.",
    blocking=False,
)

TRANSFER_ELEMENTS = dg.AssetKey("transfer_elements")
TRANSFER_ESTIMATE = dg.AssetKey("transfer_estimate")
TRANSFER_RECONCILIATION = dg.AssetKey("transfer_reconciliation")

RATEE_MATCHES_SHADOW = "reported_ratee_matches_shadow"
CSR_ADJUSTED_SCORES = "csr_adjusted_scores"

csr_adjusted_scores = _spec(
    CSR_ADJUSTED_SCORES,
    TRANSFER_ELEMENTS,
    "Every scored enrollee x plan has a CSR-adjusted score. One without is left out of its "
    "plan's PLRS, never scored with its raw score in its place (a silent CSR factor of 1.0); "
    "failing lists the plan x rating area rows with how many enrollees and billable months.",
    blocking=False,
)

ratee_matches_shadow = _spec(
    RATEE_MATCHES_SHADOW,
    TRANSFER_RECONCILIATION,
    "The RATEE EDGE sent agrees with the shadow transfer elements: same plans, rating areas and "
    "risk pools, same member months, PLRS, ARF, AV, IDF, GCF and premium PMPM. Failing lists "
    "the differing rows and the columns that differ.",
    blocking=False,
)
