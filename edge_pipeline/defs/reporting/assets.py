"""The analyst-facing assets: the monthly data-quality summary and the analyst report.

Both read the whole warehouse (every inbound file, every benefit year), so they depend on all
partitions of their partitioned upstreams.  Charts are attached as Markdown images with
base64 data URIs; no member data is in any chart, table or metadata value.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations.
import os
from pathlib import Path

import dagster as dg
import pandas as pd

from edge_pipeline.base.folders import data_dir
from edge_pipeline.base.markdown import markdown_table
from edge_pipeline.defs.phase1.shadow import SHADOW_PHASE1
from edge_pipeline.defs.phase2.reconciliation import RISK_SCORE_RECONCILIATION
from edge_pipeline.defs.phase2.transfer import TRANSFER_ESTIMATE
from edge_pipeline.defs.resources import WarehouseResource

DATA_QUALITY_SUMMARY = dg.AssetKey("data_quality_summary")
ANALYST_REPORT = dg.AssetKey("analyst_report")

_ALL = dg.AllPartitionMapping()


def default_reports_path() -> Path:
    """``$EDGE_REPORTS`` if set, else ``<repo>/data/reports``."""
    configured = os.environ.get("EDGE_REPORTS")
    return Path(configured) if configured else data_dir() / "reports"


def _chart_markdown(title: str, png: bytes) -> str:
    from edge_pipeline.edge.report.html import data_uri

    return f"### {title}\n\n![{title}]({data_uri(png)})\n"


def _table_markdown(frame: pd.DataFrame, max_rows: int = 50) -> str:
    shown = frame.head(max_rows)
    return markdown_table(
        list(map(str, shown.columns)),
        shown.astype(object).where(shown.notna(), None).values.tolist(),
        len(frame),
    )


@dg.asset(
    key=DATA_QUALITY_SUMMARY,
    kinds={"duckdb", "pandas"},
    deps=[dg.AssetDep(SHADOW_PHASE1, partition_mapping=_ALL)],
    description=(
        "The monthly data-quality summary an issuer reviews: per month (file date) and file "
        "type, files and records received / accepted / rejected, the top error codes, and the "
        "records lost to the cascade per level (rejected without an error of their own).  "
        "Table data_quality_monthly; charts attached."
    ),
    metadata={"warehouse_tables": "data_quality_monthly"},
)
def data_quality_summary(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Recompute the summary over every verified file, replace the table, attach its charts."""
    from edge_pipeline.edge.report.charts import (
        PHASE1_CHARTS,
        chart_title,
        render_charts,
    )
    from edge_pipeline.edge.report.summary import monthly_summary, write_summary_table

    with warehouse.get_connection() as con:
        summary = monthly_summary(con)
        rows = write_summary_table(con, summary)
        charts = render_charts(con, PHASE1_CHARTS)
    context.log.info("data_quality_monthly: %d month x file type rows", rows)
    latest = summary["month"].max() if rows else None
    metadata: dict[str, object] = {
        "rows": rows,
        "months": int(summary["month"].nunique()) if rows else 0,
        "latest_month": latest or "none",
        "files_received": int(summary["files_received"].sum()) if rows else 0,
        "records_lost_to_cascade": int(summary["lost_to_cascade"].sum()) if rows else 0,
        "summary": dg.MetadataValue.md(_table_markdown(summary)),
    }
    for name, png in charts.items():
        metadata[f"chart_{name}"] = dg.MetadataValue.md(_chart_markdown(chart_title(name), png))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=ANALYST_REPORT,
    kinds={"excel", "html"},
    deps=[
        DATA_QUALITY_SUMMARY,
        dg.AssetDep(RISK_SCORE_RECONCILIATION, partition_mapping=_ALL),
        dg.AssetDep(TRANSFER_ESTIMATE, partition_mapping=_ALL),
    ],
    description=(
        "The analyst report: an Excel workbook (one sheet per key table) and a self-contained "
        "HTML page with the charts (rejections, errors, cascade losses, RA claim inclusion, "
        "risk-score distribution, top HCCs, shadow vs reported scores, transfer per plan), "
        "written to $EDGE_REPORTS (default data/reports)."
    ),
)
def analyst_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Write edge-report.xlsx and edge-report.html; attach the Phase 2 charts."""
    from edge_pipeline.edge.report import write_report_from
    from edge_pipeline.edge.report.charts import PHASE2_CHARTS, chart_title, render_charts

    out_dir = default_reports_path()
    with warehouse.get_connection() as con:
        paths = write_report_from(con, out_dir, Path(warehouse.database).name)
        charts = render_charts(con, PHASE2_CHARTS)
    context.log.info("analyst report: %s, %s", paths.workbook, paths.html)
    metadata: dict[str, object] = {
        "workbook": dg.MetadataValue.path(str(paths.workbook)),
        "html": dg.MetadataValue.path(str(paths.html)),
        "sheets": ", ".join(paths.sheets),
        "charts": len(paths.charts),
    }
    for name, png in charts.items():
        metadata[f"chart_{name}"] = dg.MetadataValue.md(_chart_markdown(chart_title(name), png))
    return dg.MaterializeResult(metadata=metadata)
