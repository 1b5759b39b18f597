"""RA reports are snapshots: how loading one replaces the run's earlier report of its type.

A Phase 1 report answers one load of one file and is kept alongside any other.  An RA report
states the whole of a scoring run (benefit year, issuer, zone) at the time it was generated;
EDGE re-sends it after every medical load and before scoring, so the latest one is the truth
and the earlier ones are history.  So, per run and report type:

* a newer (or equally recent) report replaces the run's rows of that type, in the same
  transaction that loads it; the replaced reports' ``outbound_file`` rows become ``replaced``;
* an older report arriving after a newer one is ``refused`` (the newer stays authoritative);
* an identical re-delivery is ``unchanged`` (decided before, by the common loader).

``reported_ra_report`` says which report is each run's current snapshot of each type (an
empty report has no other trace).  The common loader (:mod:`edge_pipeline.edge.outbound.load`)
calls the two functions below; for a Phase 1 report they do nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from edge_pipeline.base.names import printable_name
from edge_pipeline.base.warehouse.query import first_row
from edge_pipeline.edge.layouts.outbound.model import RaReportLayout
from edge_pipeline.edge.outbound.core.reader import ReportHeader
from edge_pipeline.edge.outbound.ra.summary import RUN, run_params
from edge_pipeline.edge.ra_runs.runs import ScoringRun

_YEAR = re.compile(r"[0-9]{4}")


def report_run(header: ReportHeader | None) -> ScoringRun | None:
    """The scoring run an RA report's header states; ``None`` for a Phase 1 report or an
    unusable header (the reader then refuses the report with the precise reason)."""
    if header is None or not isinstance(header.layout, RaReportLayout):
        return None
    values = header.values
    year = (values.get("benefit_year") or "").strip()
    issuer, zone = values.get("issuer_id"), values.get("execution_zone")
    if not _YEAR.fullmatch(year) or not issuer or not zone:
        return None
    return ScoringRun(int(year), issuer, zone)


def stale_snapshot_error(
    con: duckdb.DuckDBPyConnection, path: Path, header: ReportHeader
) -> str | None:
    """Why an RA report must not be loaded: a report of its type and run generated later is
    already loaded.  ``None`` when it may be loaded."""
    run = report_run(header)
    if run is None or header.generated_at is None:
        return None
    newer = first_row(
        con,
        f"""
        SELECT outbound_file_identifier, generated_at FROM reported_ra_report
        WHERE {RUN} AND report_type = $type AND generated_at > $generated
        ORDER BY generated_at DESC LIMIT 1
        """,
        {**run_params(run), "type": header.report_type, "generated": header.generated_at},
    )
    if newer is None:
        return None
    return (
        f"file {printable_name(path.name)}: a newer {header.report_type} of {run.label} is already loaded "
        f"({newer[0]}, generated {newer[1]:%Y-%m-%dT%H:%M:%S}); this older snapshot is not loaded"
    )


def replace_snapshot(con: duckdb.DuckDBPyConnection, header: ReportHeader) -> None:
    """Inside the loading transaction, before the report's rows go in: remove the run's rows of
    this report type and mark the reports they came from ``replaced``."""
    run = report_run(header)
    if run is None:
        return
    assert isinstance(header.layout, RaReportLayout)
    params = {**run_params(run), "type": header.report_type}
    replaced = [
        identifier
        for (identifier,) in con.execute(
            f"SELECT outbound_file_identifier FROM reported_ra_report "
            f"WHERE {RUN} AND report_type = $type",
            params,
        ).fetchall()
    ]
    for table in (*header.layout.tables, "reported_ra_report"):
        con.execute(f"DELETE FROM {table} WHERE {RUN} AND report_type = $type", params)
    if replaced:
        con.execute(
            "UPDATE outbound_file SET status = 'replaced', "
            "error = 'replaced by the newer snapshot ' || $new "
            "WHERE status = 'loaded' AND list_contains($old, outbound_file_identifier)",
            {"new": header.outbound_file_identifier or "", "old": replaced},
        )
