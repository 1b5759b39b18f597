"""Reporting domain: the monthly data-quality summary and the analyst report (Excel + HTML with
charts), shown in the ``reconciliation`` group for the risk-adjustment analysts; the schedule
that refreshes them monthly is ``monthly_data_quality`` (``defs/automation/schedules.py``)."""

from __future__ import annotations

from edge_pipeline.defs.domain import Domain
from edge_pipeline.defs.metadata import asset_tags, owners
from edge_pipeline.defs.reporting.assets import analyst_report, data_quality_summary
from edge_pipeline.defs.reporting.jobs import monthly_reporting

REPORTING = Domain(
    "reconciliation",
    owners=owners("reconciliation"),
    tags=asset_tags("reporting", audience="analyst"),
)

defs = REPORTING.definitions(
    assets=[data_quality_summary, analyst_report],
    jobs=[monthly_reporting],
)

__all__ = ["defs"]
