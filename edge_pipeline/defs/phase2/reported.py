"""The reported side of Phase 2, per benefit year: the RA reports EDGE sent, from the outbox.

``outbox_ra_report`` (external, observed by ``outbox_sensor``) → ``reported_ra_reports`` →
``risk_score_reconciliation``.  RA reports are found by their header's ``benefitYear`` and
loaded by the outbound loader, one transaction per report; an RA report is a snapshot of its
run (issuer, zone, year), so a newer one replaces the run's rows of that report type, an
identical re-delivery is ``unchanged`` and an older one arriving late is refused.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
import dagster as dg

from edge_pipeline.defs.metadata import table_metadata
from edge_pipeline.defs.reference.partitions import benefit_years
from edge_pipeline.defs.report_files import (
    OutboxResource,
    fail_on_bad_loads,
    load_metadata,
    load_reports,
    loaded_signatures,
    no_reports_failure,
    prepared_reports,
    recipients_metadata,
)
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.layouts.outbound import RA_LAYOUTS
from edge_pipeline.edge.outbound import RA_REPORTED_TABLES

REPORTED_RA_REPORTS = dg.AssetKey("reported_ra_reports")

#: The RA reports EDGE dropped in the outbox: produced outside Dagster, seen by the sensor.
outbox_ra_report = dg.AssetSpec(
    "outbox_ra_report",
    description=(
        "Phase 2 RA reports (RACSD, RACSS, RARSD, RARSS, RATEE, RAUF, HCRPSR, HCRPDE, ECD, ECS) "
        "the EDGE server dropped in the outbox for a benefit year. External: Dagster does not produce them; the outbox sensor starts "
        "a phase2_reported run for the year they cover (their benefitYear)."
    ),
    kinds={"xml"},
    partitions_def=benefit_years,
)


@dg.asset(
    key=REPORTED_RA_REPORTS,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[outbox_ra_report],
    description=(
        "EDGE's RA reports of the benefit year loaded from the outbox into the reported_* twins "
        "of the shadow Phase 2 tables (and the RACSS / RARSS summary tables); every attempt is "
        "on record in outbound_file."
    ),
    metadata={
        "warehouse_tables": ", ".join(RA_REPORTED_TABLES),
        **recipients_metadata(RA_LAYOUTS),
    },
)
def reported_ra_reports(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, outbox: OutboxResource
) -> dg.MaterializeResult:
    """Load the year's RA reports; fail when the outbox holds none."""
    year = int(context.partition_key)
    reports, landing = outbox.ra_reports_for(year)
    if not reports:
        raise no_reports_failure(
            f"RA report of benefit year {year}",
            outbox,
            "EDGE has not sent the year's RA reports yet, or they were moved",
            landing,
        )
    with prepared_reports(reports) as prepared, warehouse.get_connection() as con:
        results = load_reports(context, con, prepared)
        tables = table_metadata(
            con,
            list(RA_REPORTED_TABLES),
            ("benefit_year = ?", [year]),
            preview_table="reported_risk_score",
        )
    fail_on_bad_loads(results)
    return dg.MaterializeResult(
        metadata={
            **load_metadata(results),
            **tables,
            **loaded_signatures(outbox, reports, results),
            "report_types": ", ".join(sorted({r.report_type for r in reports})),
        }
    )
