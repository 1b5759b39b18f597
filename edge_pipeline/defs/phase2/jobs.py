"""The per-benefit-year Phase 2 jobs, in-process like the Phase 1 jobs."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.phase2.checks import (
    RA_CLAIM_SELECTION,
    REPORTED_RA_REPORTS,
    RISK_SCORE_RECONCILIATION,
    RISK_SCORES,
    SHADOW_PHASE2_REPORTS,
    TRANSFER_ELEMENTS,
    TRANSFER_ESTIMATE,
    TRANSFER_RECONCILIATION,
)
from edge_pipeline.defs.reference import DIY_TABLES

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
        REPORTED_RA_REPORTS, RISK_SCORE_RECONCILIATION, TRANSFER_RECONCILIATION
    ),
    executor_def=dg.in_process_executor,
    description=(
        "Load the year's RA reports from the outbox; reconcile the risk scores and the "
        "transfer elements."
    ),
)
