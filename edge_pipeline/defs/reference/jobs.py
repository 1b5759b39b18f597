"""Reload the reference tables (unpartitioned: one snapshot serves every file's verification)."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.reference.assets import reference_tables

#: Not part of the per-file Phase 1 jobs: reloading ~100k code rows for every file would cost
#: seconds per partition and would change the reference snapshot under earlier verdicts.
refresh_reference_tables = dg.define_asset_job(
    name="refresh_reference_tables",
    selection=dg.AssetSelection.assets(reference_tables),
    executor_def=dg.in_process_executor,
    description="Reload the Phase 1 reference tables from the issuer's registry and code lists.",
)
