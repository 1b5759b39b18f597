"""The per-file Phase 1 jobs (partition = fileIdentifier), in-process like the ingest job."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.phase1.reconciliation import PHASE1_RECONCILIATION
from edge_pipeline.defs.phase1.reported import REPORTED_ESFAR, REPORTED_PHASE1_DETAIL
from edge_pipeline.defs.phase1.shadow import SHADOW_PHASE1, SHADOW_PHASE1_REPORTS

#: Verify one file and write the reports EDGE should send.  The reference tables are not in
#: it (``refresh_reference_tables`` loads them once for every file).
phase1_shadow = dg.define_asset_job(
    name="phase1_shadow",
    selection=dg.AssetSelection.assets(SHADOW_PHASE1, SHADOW_PHASE1_REPORTS),
    executor_def=dg.in_process_executor,
    description="Shadow Phase 1 verification of one inbound file, and its shadow reports.",
)

#: Load what EDGE reported about one file and reconcile it with the shadow verdict.
phase1_reported = dg.define_asset_job(
    name="phase1_reported",
    selection=dg.AssetSelection.assets(
        REPORTED_ESFAR, REPORTED_PHASE1_DETAIL, PHASE1_RECONCILIATION
    ),
    executor_def=dg.in_process_executor,
    description="Load one file's Phase 1 reports from the outbox and reconcile them.",
)

#: Recompute the reconciliation of one file from what the warehouse holds (no outbox read):
#: the nightly schedule's Phase 1 part, after the shadow or the reports may have changed.
phase1_reconcile = dg.define_asset_job(
    name="phase1_reconcile",
    selection=dg.AssetSelection.assets(PHASE1_RECONCILIATION),
    executor_def=dg.in_process_executor,
    description="Recompute one file's Phase 1 reconciliation from the loaded reports and shadow.",
)
