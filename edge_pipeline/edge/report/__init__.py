"""The analyst report over the warehouse: charts, an Excel workbook, a self-contained HTML page
and the monthly data-quality summary (no Dagster here; ``defs/reporting`` wraps it).

``write_report(warehouse, out_dir)`` opens the warehouse read-only and writes
``edge-report.xlsx`` and ``edge-report.html``.  Nothing in them names a member: plans, files,
codes, levels, months, counts and amounts, and masked ids on the one per-member sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from edge_pipeline.edge.report import queries
from edge_pipeline.edge.report.summary import monthly_summary

WORKBOOK_NAME = "edge-report.xlsx"
HTML_NAME = "edge-report.html"


@dataclass(frozen=True)
class ReportPaths:
    """What :func:`write_report` wrote."""

    workbook: Path
    html: Path
    charts: tuple[str, ...]
    sheets: tuple[str, ...]


def report_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """The key tables, sheet name -> frame (workbook and HTML share them)."""
    return {
        "Monthly quality": monthly_summary(con),
        "Files": queries.files(con),
        "Level counts": queries.level_counts(con),
        "Errors by code": queries.errors_by_code(con),
        "Cascade losses": queries.cascade_losses(con),
        "Frequency trend": queries.frequency_trend(con),
        "Claim selection": queries.claim_selection(con),
        "Risk scores by plan": queries.risk_scores_by_plan(con),
        "Top HCCs": queries.top_hccs(con),
        "Score differences": queries.score_differences(con),
        "Orphan claims": queries.orphan_claims(con),
        "Transfer estimate": queries.transfer_estimates(con),
        "Reports and their recipients": queries.reports_and_recipients(con),
    }


def write_report_from(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    warehouse_name: str,
    generated_at: datetime | None = None,
) -> ReportPaths:
    """Write the workbook and the HTML report of the warehouse behind ``con``."""
    from edge_pipeline.edge.report.charts import chart_title, render_charts
    from edge_pipeline.edge.report.html import write_html
    from edge_pipeline.edge.report.workbook import write_workbook

    generated_at = (generated_at or datetime.now()).replace(microsecond=0)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = report_tables(con)
    charts = render_charts(con)
    workbook = write_workbook(tables, out_dir / WORKBOOK_NAME)
    page = write_html(
        {name: (chart_title(name), png) for name, png in charts.items()},
        tables,
        warehouse_name,
        generated_at,
        out_dir / HTML_NAME,
    )
    return ReportPaths(workbook, page, tuple(charts), tuple(tables))


def write_report(warehouse: Path, out_dir: Path) -> ReportPaths:
    """Open ``warehouse`` read-only and write its report into ``out_dir``
    (:class:`WarehousePathError` when it is no warehouse: missing, or not a DuckDB file)."""
    from edge_pipeline.base.warehouse.connection import open_warehouse

    con = open_warehouse(warehouse, read_only=True)
    try:
        return write_report_from(con, Path(out_dir), Path(warehouse).name)
    finally:
        con.close()


__all__ = [
    "HTML_NAME",
    "WORKBOOK_NAME",
    "ReportPaths",
    "report_tables",
    "write_report",
    "write_report_from",
]
