"""``phase2_after_phase1``: a new Phase 1 verdict re-scores the benefit years it can change.

A run-status sensor on ``phase1_shadow``.  Which benefit years?  The sensor must not open
DuckDB, and a file's header does not name a benefit year, so the ``shadow_phase1`` asset, which
has the warehouse open anyway, records in its materialization metadata (``benefit_years``) the
supported years whose scoring the verdict can change: the years the file's issuer and zone have
active enrollment in, or were already scored in.  The sensor reads that materialization from the
succeeded run's event log (the Dagster instance) and requests ``phase2_scoring`` for each year.
A header-rejected file changes no issuer's data: no year, no request.  A run without the
metadata (an older run) falls back to every year already registered.  A year requested for the
first time is registered as a ``benefit_years`` partition in the same tick (the partitions are
dynamic: only years with data appear, ``defs/reference/partitions.py``).

Files arrive in bursts (the four of a submission, or many more): a year that already has a
``phase2_scoring`` run waiting to start is not requested again, since that run will see this
verdict too.  A failed ``phase1_shadow`` run (a blocking check failed, or no reference tables)
triggers nothing; runs ``make demo`` launched are left alone.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
import dagster as dg

from edge_pipeline.defs.automation.runs import (
    AUTOMATION_TAG,
    MINIMUM_INTERVAL_SECONDS,
    PARTITION_TAG,
    TRIGGERED_BY_TAG,
    launched_by_demo,
    run_materializations,
)
from edge_pipeline.defs.phase1.jobs import phase1_shadow
from edge_pipeline.defs.phase1.shadow import BENEFIT_YEARS_KEY, SHADOW_PHASE1
from edge_pipeline.defs.phase2.jobs import phase2_scoring
from edge_pipeline.defs.reference.partitions import (
    SUPPORTED_YEAR_KEYS,
    benefit_year_requests,
    registered_years,
)

PHASE2_AFTER_PHASE1 = "phase2_after_phase1"
#: Statuses of a run that has not started executing yet (it will read the newest verdicts).
WAITING_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
]


def affected_years(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The benefit-year partitions the run's ``shadow_phase1`` verdict can change (supported
    years only; without the metadata, the years already registered)."""
    supported = SUPPORTED_YEAR_KEYS
    materializations = run_materializations(instance, run_id, SHADOW_PHASE1)
    recorded = [m[BENEFIT_YEARS_KEY] for m in materializations if BENEFIT_YEARS_KEY in m]
    if not recorded:
        return registered_years(instance)
    years = {str(year) for value in recorded for year in (value or [])}
    return [key for key in supported if key in years]


def waiting_scoring_run(instance: dg.DagsterInstance, year: str) -> bool:
    """Whether a ``phase2_scoring`` run of ``year`` is queued and has not started yet."""
    return bool(
        instance.get_run_ids(
            filters=dg.RunsFilter(
                job_name=phase2_scoring.name,
                statuses=WAITING_STATUSES,
                tags={PARTITION_TAG: year},
            ),
            limit=1,
        )
    )


@dg.run_status_sensor(
    name=PHASE2_AFTER_PHASE1,
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[phase1_shadow],
    request_job=phase2_scoring,
    minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "After a phase1_shadow run succeeds, requests phase2_scoring for every benefit year the "
        "verdict can change (the benefit_years metadata of shadow_phase1), unless a scoring run "
        "of that year is already waiting to start."
    ),
)
def phase2_after_phase1(context: dg.RunStatusSensorContext) -> dg.SensorResult | dg.SkipReason:
    run = context.dagster_run
    if run.status != dg.DagsterRunStatus.SUCCESS:
        return dg.SkipReason(f"run {run.run_id} did not succeed ({run.status.value})")
    if launched_by_demo(run):
        return dg.SkipReason(f"run {run.run_id} was launched by the demo, which scores itself")
    years = affected_years(context.instance, run.run_id)
    if not years:
        return dg.SkipReason(
            f"the verdict of {run.tags.get(PARTITION_TAG)} changes no benefit year's scoring"
        )
    requested = [year for year in years if not waiting_scoring_run(context.instance, year)]
    if not requested:
        return dg.SkipReason(f"a scoring run of {', '.join(years)} is already waiting to start")
    return dg.SensorResult(
        # a year gets its partition when it first has data (this verdict's years)
        dynamic_partitions_requests=benefit_year_requests(context.instance, requested),
        run_requests=[
            dg.RunRequest(
                run_key=f"{phase2_scoring.name}:{year}:{run.run_id}",
                partition_key=year,
                tags={AUTOMATION_TAG: PHASE2_AFTER_PHASE1, TRIGGERED_BY_TAG: run.run_id},
            )
            for year in requested
        ],
    )
