"""The monthly data-quality review: on the 1st of each month at 06:00."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.reporting.assets import ANALYST_REPORT, DATA_QUALITY_SUMMARY

monthly_reporting = dg.define_asset_job(
    name="monthly_reporting",
    selection=dg.AssetSelection.assets(DATA_QUALITY_SUMMARY, ANALYST_REPORT),
    executor_def=dg.in_process_executor,
    description="Recompute the monthly data-quality summary and write the analyst report.",
)

monthly_data_quality = dg.ScheduleDefinition(
    name="monthly_data_quality",
    job=monthly_reporting,
    cron_schedule="0 6 1 * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "The data-quality summary an issuer reviews each month (acceptance and error trends "
        "per file type, records lost to the cascade) and the analyst report."
    ),
)
