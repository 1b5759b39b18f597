"""Phase 2 domain (risk adjustment), partitioned by benefit year: RA claim selection and risk
scores as the shadow computes them, the transfer, the RA reports EDGE should send, the ones it
did send, and their reconciliation (shown in the ``reconciliation`` group)."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.domain import Domain
from edge_pipeline.defs.metadata import asset_tags, owners
from edge_pipeline.defs.phase2.jobs import phase2_reported, phase2_scoring
from edge_pipeline.defs.phase2.reconciliation import (
    enrollee_claims_reconciliation,
    hcrp_reconciliation,
    risk_score_reconciliation,
    transfer_reconciliation,
    user_fee_reconciliation,
)
from edge_pipeline.defs.phase2.reported import outbox_ra_report, reported_ra_reports
from edge_pipeline.defs.phase2.resources import transfer_settings_resource
from edge_pipeline.defs.phase2.scoring import ra_claim_selection, risk_scores
from edge_pipeline.defs.phase2.shadow_reports import shadow_phase2_reports
from edge_pipeline.defs.phase2.transfer import transfer_elements, transfer_estimate

TRANSFER_SETTINGS_KEY = "transfer_settings"
PHASE2 = Domain("phase2", owners=owners("phase2"), tags=asset_tags("phase2"))
PHASE2_RECONCILIATION = Domain(
    "reconciliation",
    owners=owners("reconciliation"),
    tags=asset_tags("reconciliation", phase="phase2"),
)

defs = dg.Definitions.merge(
    PHASE2.definitions(
        assets=[
            ra_claim_selection,
            risk_scores,
            shadow_phase2_reports,
            outbox_ra_report,
            reported_ra_reports,
            transfer_elements,
            transfer_estimate,
        ],
        jobs=[phase2_scoring, phase2_reported],
        resources={TRANSFER_SETTINGS_KEY: transfer_settings_resource()},
    ),
    PHASE2_RECONCILIATION.definitions(
        assets=[
            risk_score_reconciliation,
            transfer_reconciliation,
            user_fee_reconciliation,
            hcrp_reconciliation,
            enrollee_claims_reconciliation,
        ]
    ),
)

__all__ = ["TRANSFER_SETTINGS_KEY", "defs"]
