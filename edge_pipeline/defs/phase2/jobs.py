"""The per-benefit-year Phase 2 jobs, in-process like the Phase 1 jobs."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.phase2.reconciliation import (
    ENROLLEE_CLAIMS_RECONCILIATION,
    HCRP_RECONCILIATION,
    RISK_SCORE_RECONCILIATION,
    TRANSFER_RECONCILIATION,
    USER_FEE_RECONCILIATION,
)
from edge_pipeline.defs.phase2.reported import REPORTED_RA_REPORTS
from edge_pipeline.defs.phase2.scoring import RA_CLAIM_SELECTION, RISK_SCORES
from edge_pipeline.defs.phase2.shadow_reports import SHADOW_PHASE2_REPORTS
from edge_pipeline.defs.phase2.transfer import TRANSFER_ELEMENTS, TRANSFER_ESTIMATE
from edge_pipeline.defs.reference.assets import DIY_TABLES

#: What CMS's "risk score and transfer extract" command makes EDGE do, done by the shadow.
phase2_scoring = dg.define_asset_job(
    name="phase2_scoring",
    selection=dg.AssetSelection.assets(
        DIY_TABLES,
        RA_CLAIM_SELECTION,
        RISK_SCORES,
        TRANSFER_ELEMENTS,
        TRANSFER_ESTIMATE,
        SHADOW_PHASE2_REPORTS,
    ),
    executor_def=dg.in_process_executor,
    description=(
        "Load the year's DIY tables, select RA claims, score, compute the transfer elements and "
        "the transfer estimate, write the shadow RA reports."
    ),
)

#: Load the RA reports EDGE sent for a year and reconcile them with the shadow.
phase2_reported = dg.define_asset_job(
    name="phase2_reported",
    selection=dg.AssetSelection.assets(
        REPORTED_RA_REPORTS,
        RISK_SCORE_RECONCILIATION,
        TRANSFER_RECONCILIATION,
        USER_FEE_RECONCILIATION,
        HCRP_RECONCILIATION,
        ENROLLEE_CLAIMS_RECONCILIATION,
    ),
    executor_def=dg.in_process_executor,
    description=(
        "Load the year's RA reports from the outbox; reconcile the risk scores, the transfer "
        "elements, the user fees, the high-cost risk pool and the enrollee claims reports."
    ),
)
