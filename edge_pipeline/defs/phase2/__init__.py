"""Phase 2 domain (risk adjustment), partitioned by benefit year: RA claim selection and risk
scores as the shadow computes them, the RA reports EDGE should send, the ones it did send, and
their reconciliation."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.phase2.automation import phase2_after_phase1
from edge_pipeline.defs.phase2.jobs import phase2_reported, phase2_scoring
from edge_pipeline.defs.phase2.reconciliation import risk_score_reconciliation
from edge_pipeline.defs.phase2.reported import outbox_ra_report, reported_ra_reports
from edge_pipeline.defs.phase2.resources import transfer_settings_resource
from edge_pipeline.defs.phase2.scoring import (
    ra_claim_selection,
    risk_scores,
    shadow_phase2_reports,
)
from edge_pipeline.defs.phase2.transfer import (
    transfer_elements,
    transfer_estimate,
    transfer_reconciliation,
)

TRANSFER_SETTINGS_KEY = "transfer_settings"

defs = dg.Definitions(
    assets=[
        ra_claim_selection,
        risk_scores,
        shadow_phase2_reports,
        outbox_ra_report,
        reported_ra_reports,
        risk_score_reconciliation,
        transfer_elements,
        transfer_estimate,
        transfer_reconciliation,
    ],
    jobs=[phase2_scoring, phase2_reported],
    sensors=[phase2_after_phase1],
    resources={TRANSFER_SETTINGS_KEY: transfer_settings_resource()},
)

__all__ = ["TRANSFER_SETTINGS_KEY", "defs"]
