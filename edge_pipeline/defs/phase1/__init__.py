"""Phase 1 domain: shadow verification of each inbound file, EDGE's reports from the outbox,
and their reconciliation, partitioned by ``inbound_files`` (every recognisable inbound file,
whatever its type; the landing assets have one partitions definition per type).

The reconciliation is shown in the ``reconciliation`` group with Phase 2's (what EDGE said
against what the shadow computed); the encounter-data team owns it, as the rest of Phase 1.
"""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.domain import Domain
from edge_pipeline.defs.metadata import asset_tags, owners
from edge_pipeline.defs.phase1.jobs import phase1_reconcile, phase1_reported, phase1_shadow
from edge_pipeline.defs.phase1.reconciliation import phase1_reconciliation
from edge_pipeline.defs.phase1.reported import (
    outbox_report_file,
    reported_esfar,
    reported_phase1_detail,
)
from edge_pipeline.defs.phase1.shadow import shadow_phase1, shadow_phase1_reports

PHASE1 = Domain("phase1", owners=owners("phase1"), tags=asset_tags("phase1"))
PHASE1_RECONCILIATION = Domain(
    "reconciliation", owners=owners("phase1"), tags=asset_tags("reconciliation", phase="phase1")
)

defs = dg.Definitions.merge(
    PHASE1.definitions(
        assets=[
            shadow_phase1,
            shadow_phase1_reports,
            outbox_report_file,
            reported_esfar,
            reported_phase1_detail,
        ],
        jobs=[phase1_shadow, phase1_reported, phase1_reconcile],
    ),
    PHASE1_RECONCILIATION.definitions(assets=[phase1_reconciliation]),
)

__all__ = ["defs"]
