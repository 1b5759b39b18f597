"""The reporting part of ``make demo``: the data-quality summary and the analyst report, by the
``monthly_reporting`` job the monthly schedule runs, written to the demo's reports folder."""

from __future__ import annotations

import time
from pathlib import Path

from edge_pipeline.demo.paths import DemoPaths
from edge_pipeline.demo.runs import JobRunner, materialization_metadata, run_failure


def reports_through_dagster(runner: JobRunner, paths: DemoPaths) -> bool:
    """Materialize ``data_quality_summary`` and ``analyst_report``; prints where the report
    went.  True when the run succeeded."""
    started = time.perf_counter()
    result = runner.run("monthly_reporting")
    meta = materialization_metadata(result)
    summary = meta.get("data_quality_summary", {})
    report = meta.get("analyst_report", {})
    print(
        f"\nData-quality summary and analyst report through Dagster "
        f"({time.perf_counter() - started:.1f} s):"
    )
    print(
        f"  data_quality_monthly: {int(summary.get('rows', 0)):,} month x file type rows, "
        f"{int(summary.get('records_lost_to_cascade', 0)):,} records lost to the cascade"
    )
    written = [Path(str(report[name])).name for name in ("workbook", "html") if name in report]
    print(f"  analyst report: {', '.join(written) or 'none'} in {paths.reports}")
    if not result.success:
        print(f"REPORTING FAILED: {run_failure(result)}")
    return result.success
