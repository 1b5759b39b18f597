"""``shadow_phase2_reports``: the RA reports the EDGE server should send for a benefit year.

Written from the shadow's claim selection, risk scores, transfer elements and transfer estimate
of every scoring run of the year (RACSD, RACSS, RARSD, RARSS and, when the run has them, RATEE,
RAUF, HCRPSR, HCRPDE, ECD and ECS), so a person can diff them with what EDGE really sent.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
from datetime import datetime

import dagster as dg
import duckdb

from edge_pipeline.base.folders import replaced_folder
from edge_pipeline.base.warehouse.query import first_row
from edge_pipeline.defs.metadata import files_metadata
from edge_pipeline.defs.phase2.scoring import RISK_SCORES, scoring_runs_of
from edge_pipeline.defs.phase2.transfer import TRANSFER_ELEMENTS, TRANSFER_ESTIMATE
from edge_pipeline.defs.reference.partitions import benefit_years
from edge_pipeline.defs.report_files import ShadowReportsResource, recipients_metadata
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.layouts.outbound import RA_LAYOUTS
from edge_pipeline.edge.outbound import write_phase2_reports
from edge_pipeline.edge.ra_runs.runs import ScoringRun

SHADOW_PHASE2_REPORTS = dg.AssetKey("shadow_phase2_reports")


def _generated_at(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> datetime:
    """The reports' generation time: when the run's latest inbound file was loaded.

    As for the Phase 1 shadow reports, tying the time to the data rather than to the clock
    makes the reports of unchanged data byte-identical on every rewrite, so a re-delivery of
    them is recognised as such (``unchanged``) by the outbound loader.
    """
    row = first_row(
        con,
        "SELECT max(loaded_at) FROM submission_file "
        "WHERE issuer_id = ? AND execution_zone = ? AND status = 'loaded'",
        [run.issuer_id, run.execution_zone],
    )
    stamp = row[0] if row and row[0] else datetime.now()
    return stamp.replace(microsecond=0)


@dg.asset(
    key=SHADOW_PHASE2_REPORTS,
    partitions_def=benefit_years,
    kinds={"xml"},
    deps=[RISK_SCORES, TRANSFER_ELEMENTS, TRANSFER_ESTIMATE],
    description=(
        "The RA reports the EDGE server should send for the benefit year (RACSD, RACSS, RARSD, "
        "RARSS, RATEE, RAUF, HCRPSR, HCRPDE, ECD, ECS), per issuer and zone, written into "
        "<shadow_reports>/phase2/BY<year>/. The folder is replaced as a whole."
    ),
    metadata=recipients_metadata(RA_LAYOUTS),
)
def shadow_phase2_reports(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    shadow_reports: ShadowReportsResource,
) -> dg.MaterializeResult:
    """Write each run's RA reports (the transfer reports when the run has them) into a staging
    folder, then swap it in."""
    year = int(context.partition_key)
    target = shadow_reports.phase2_folder(year)
    paths = []
    with warehouse.get_connection() as con, replaced_folder(target) as staging:
        for run in scoring_runs_of(context, con):
            run_dir = staging / f"{run.issuer_id}_{run.execution_zone}"
            paths += write_phase2_reports(
                con, run_dir, *run.params, generated_at=_generated_at(con, run)
            )
    names = [path.name for path in paths]
    context.log.info("shadow RA reports of BY%d: %s", year, ", ".join(names) or "none")
    return dg.MaterializeResult(
        metadata={
            **files_metadata(target, sorted(target.rglob("*.xml"))),
            "folder": str(target),
            "files": ", ".join(names) or "none",
            "size_bytes": sum(p.stat().st_size for p in target.rglob("*.xml")),
        }
    )
