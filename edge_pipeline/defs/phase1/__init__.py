"""Phase 1 domain: shadow verification of each inbound file, EDGE's reports from the outbox,
and their reconciliation, partitioned by ``inbound_files`` (every recognisable inbound file,
whatever its type; the landing assets have one partitions definition per type)."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.phase1.automation import phase1_after_ingest
from edge_pipeline.defs.phase1.jobs import phase1_reconcile, phase1_reported, phase1_shadow
from edge_pipeline.defs.phase1.reconciliation import phase1_reconciliation
from edge_pipeline.defs.phase1.reported import (
    outbox_report_file,
    reported_esfar,
    reported_phase1_detail,
)
from edge_pipeline.defs.phase1.resources import outbox_resource, shadow_reports_resource
from edge_pipeline.defs.phase1.sensors import outbox_sensor
from edge_pipeline.defs.phase1.shadow import shadow_phase1, shadow_phase1_reports

OUTBOX_KEY = "outbox"
SHADOW_REPORTS_KEY = "shadow_reports"

defs = dg.Definitions(
    assets=[
        shadow_phase1,
        shadow_phase1_reports,
        outbox_report_file,
        reported_esfar,
        reported_phase1_detail,
        phase1_reconciliation,
    ],
    jobs=[phase1_shadow, phase1_reported, phase1_reconcile],
    sensors=[outbox_sensor, phase1_after_ingest],
    resources={OUTBOX_KEY: outbox_resource(), SHADOW_REPORTS_KEY: shadow_reports_resource()},
)

__all__ = ["OUTBOX_KEY", "SHADOW_REPORTS_KEY", "defs"]
