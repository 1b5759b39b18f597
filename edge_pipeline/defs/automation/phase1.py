"""``phase1_after_ingest``: a file ingested successfully is verified by the shadow at once.

A run-status sensor on the ingest jobs (``ingest_eses_files`` ..., one per file type): every run
of them that succeeds (the file loaded, or was an identical re-delivery) requests
``phase1_shadow`` for the same fileIdentifier (in ``inbound_files``, where the sensor that
started the ingest registered it too), keyed by the ingest run so a run is followed once.  A
failed ingest (unreadable, refused or missing file) triggers nothing.  Runs ``make demo`` made
are left alone: the demo runs the verification itself, as its next step.
The sensor reads the run's tags only; it never opens DuckDB.
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
)
from edge_pipeline.defs.inbound.jobs import INGEST_JOBS
from edge_pipeline.defs.phase1.jobs import phase1_shadow

PHASE1_AFTER_INGEST = "phase1_after_ingest"


@dg.run_status_sensor(
    name=PHASE1_AFTER_INGEST,
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=list(INGEST_JOBS.values()),
    request_job=phase1_shadow,
    minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "After an ingest run (ingest_<type>_files) succeeds, requests phase1_shadow for the "
        "same fileIdentifier. Failed ingests and the demo's own runs trigger nothing."
    ),
)
def phase1_after_ingest(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    run = context.dagster_run
    key = run.tags.get(PARTITION_TAG)
    if run.status != dg.DagsterRunStatus.SUCCESS:
        return dg.SkipReason(f"run {run.run_id} did not succeed ({run.status.value})")
    if launched_by_demo(run):
        return dg.SkipReason(f"run {run.run_id} was launched by the demo, which verifies itself")
    if not key:
        return dg.SkipReason(f"run {run.run_id} has no partition")
    return dg.RunRequest(
        run_key=f"{phase1_shadow.name}:{run.run_id}",
        partition_key=key,
        tags={AUTOMATION_TAG: PHASE1_AFTER_INGEST, TRIGGERED_BY_TAG: run.run_id},
    )
