"""The schedules: the nightly reconciliations and the monthly data-quality review.

Nightly reconciliation: what EDGE reported is compared again with what the shadow computed.

The shadow changes after the reports were loaded (a file re-verified after the reference tables
were reloaded, a year re-scored after a late file), so each night at 02:00 (UTC, the instance's
default) the reconciliations are recomputed:

* ``nightly_reconciliation``: ``phase2_reported`` (reload the year's RA reports, an identical
  one is ``unchanged``; reconcile risk scores and transfer elements; the GX checks) for every
  supported benefit year EDGE has answered, i.e. that has a ``reported_ra_reports``
  materialization.  A year EDGE never answered would only fail ("no RA report") every night.
* ``nightly_phase1_reconciliation``: ``phase1_reconcile`` (the reconciliation alone, from what
  the warehouse holds) for every inbound file partition whose reconciliation exists.

Both read partitions from the Dagster instance only (never DuckDB).  A schedule targets one job,
hence two schedules; the ``duckdb_writer`` pool serializes their runs.

``monthly_data_quality``: on the 1st of each month at 06:00, the data-quality summary and the
analyst report (``monthly_reporting``).
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
import dagster as dg

from edge_pipeline.defs.automation.runs import AUTOMATION_TAG, materialized_partitions
from edge_pipeline.defs.inbound.partitions import INBOUND_FILES_PARTITIONS_NAME
from edge_pipeline.defs.phase1.jobs import phase1_reconcile
from edge_pipeline.defs.phase1.reconciliation import PHASE1_RECONCILIATION
from edge_pipeline.defs.phase2.jobs import phase2_reported
from edge_pipeline.defs.phase2.reported import REPORTED_RA_REPORTS
from edge_pipeline.defs.reference.partitions import registered_years
from edge_pipeline.defs.reporting.jobs import monthly_reporting

NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_RECONCILIATION = "nightly_reconciliation"
NIGHTLY_PHASE1_RECONCILIATION = "nightly_phase1_reconciliation"


def _stamp(context: dg.ScheduleEvaluationContext) -> str:
    when = context.scheduled_execution_time
    return when.strftime("%Y-%m-%dT%H%M") if when else "manual"


def reported_years(instance: dg.DagsterInstance) -> list[str]:
    """Registered benefit years whose RA reports were loaded at least once."""
    loaded = materialized_partitions(instance, REPORTED_RA_REPORTS)
    return [year for year in registered_years(instance) if year in loaded]


def reconciled_files(instance: dg.DagsterInstance) -> list[str]:
    """Registered inbound file partitions whose Phase 1 reconciliation exists."""
    reconciled = materialized_partitions(instance, PHASE1_RECONCILIATION)
    registered = instance.get_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME)
    return [key for key in registered if key in reconciled]


def _nightly_requests(
    context: dg.ScheduleEvaluationContext, schedule: str, keys: list[str], nothing: str
) -> list[dg.RunRequest] | dg.SkipReason:
    """One run per partition key, keyed by schedule, partition and tick (a tick that is
    evaluated again requests nothing twice); ``nothing`` is the skip reason when no key."""
    if not keys:
        return dg.SkipReason(nothing)
    return [
        dg.RunRequest(
            run_key=f"{schedule}:{key}:{_stamp(context)}",
            partition_key=key,
            tags={AUTOMATION_TAG: schedule},
        )
        for key in keys
    ]


@dg.schedule(
    name=NIGHTLY_RECONCILIATION,
    cron_schedule=NIGHTLY_CRON,
    job=phase2_reported,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every night at 02:00: phase2_reported (RA reports reloaded, risk scores and transfer "
        "elements reconciled, GX checks) for every benefit year EDGE has answered."
    ),
)
def nightly_reconciliation(
    context: dg.ScheduleEvaluationContext,
) -> list[dg.RunRequest] | dg.SkipReason:
    return _nightly_requests(
        context,
        NIGHTLY_RECONCILIATION,
        reported_years(context.instance),
        "no benefit year has RA reports loaded yet",
    )


@dg.schedule(
    name=NIGHTLY_PHASE1_RECONCILIATION,
    cron_schedule=NIGHTLY_CRON,
    job=phase1_reconcile,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every night at 02:00: phase1_reconcile (the Phase 1 reconciliation recomputed from the "
        "warehouse) for every inbound file that has one."
    ),
)
def nightly_phase1_reconciliation(
    context: dg.ScheduleEvaluationContext,
) -> list[dg.RunRequest] | dg.SkipReason:
    return _nightly_requests(
        context,
        NIGHTLY_PHASE1_RECONCILIATION,
        reconciled_files(context.instance),
        "no inbound file has a Phase 1 reconciliation yet",
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

SCHEDULES = [nightly_reconciliation, nightly_phase1_reconciliation, monthly_data_quality]
