"""Reporting domain: the monthly data-quality summary, the analyst report (Excel + HTML with
charts) and the monthly schedule that refreshes both."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.reporting.assets import analyst_report, data_quality_summary
from edge_pipeline.defs.reporting.schedules import monthly_data_quality, monthly_reporting

defs = dg.Definitions(
    assets=[data_quality_summary, analyst_report],
    jobs=[monthly_reporting],
    schedules=[monthly_data_quality],
)

__all__ = ["defs"]
