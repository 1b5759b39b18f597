"""The reporting job: the monthly data-quality summary and the analyst report (scheduled on
the 1st of each month by ``monthly_data_quality`` in ``defs/automation/schedules.py``)."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.reporting.assets import ANALYST_REPORT, DATA_QUALITY_SUMMARY

monthly_reporting = dg.define_asset_job(
    name="monthly_reporting",
    selection=dg.AssetSelection.assets(DATA_QUALITY_SUMMARY, ANALYST_REPORT),
    executor_def=dg.in_process_executor,
    description="Recompute the monthly data-quality summary and write the analyst report.",
)
