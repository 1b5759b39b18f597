"""Watch the outbox: start a ``phase1_reported`` run for every inbound file EDGE answered, and
a ``phase2_reported`` run for every benefit year it sent RA reports about.

Same rules as the inbox sensor (and the same cursor): headers only, never DuckDB; a report
still being written (modified less than ``settle_seconds`` ago, or grown since the last tick)
waits; a report is requested once per ``mtime:size``.  The partition key is the report's
``inboundFileIdentifier``, registered when new.  The reports of one file that become complete
in the same tick share one run (EDGE drops three per file), keyed by the file and the
signatures of those reports.  A report whose header cannot be read links to no file: it is
logged and skipped until it changes.

The Phase 1 partition is registered in ``inbound_files`` only: a report does not say the type
of the file it answers, and the landing assets' partitions (``eses_files`` ...) are the inbox
sensor's business.  An RA report registers its benefit year (``benefit_years`` is dynamic:
only years with data appear); a year the risk model does not support is refused as before.

A report the instance already shows loaded is not requested again, even with a fresh cursor
(the first ``make dev`` after ``make demo``): the reported assets record in their metadata
(``outbox_signatures``) the path, mtime and size of every report they loaded, and a file's or
year's reports that are all among those of its latest materializations are skipped.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
import hashlib
import time

import dagster as dg

from edge_pipeline.defs.automation.inbox import InboxCursor, latest_metadata
from edge_pipeline.defs.inbound.partitions import (
    INBOUND_FILES_PARTITIONS_NAME,
    valid_partition_key,
)
from edge_pipeline.defs.phase1.jobs import phase1_reported
from edge_pipeline.defs.phase1.reported import REPORTED_ESFAR, REPORTED_PHASE1_DETAIL
from edge_pipeline.defs.phase2.jobs import phase2_reported
from edge_pipeline.defs.phase2.reported import REPORTED_RA_REPORTS
from edge_pipeline.defs.reference.partitions import (
    SUPPORTED_YEAR_KEYS,
    benefit_year_requests,
    supported_year,
)
from edge_pipeline.defs.report_files import OUTBOX_SIGNATURES_KEY, OutboxReport, OutboxResource

#: Bound one tick's work; reports beyond it are picked up by the next tick.
MAX_REPORTS_PER_TICK = 300
#: The assets whose materializations record the report versions they loaded, per side.
PHASE1_ASSETS = (REPORTED_ESFAR, REPORTED_PHASE1_DETAIL)
PHASE2_ASSETS = (REPORTED_RA_REPORTS,)
#: Run tag naming how many reports the sensor saw land for the run's file.
OUTBOX_REPORTS_TAG = "edge/outbox_reports"


def run_key(partition_key: str, signatures: list[str]) -> str:
    """One key per file and set of report versions: a replaced report gets a new key."""
    digest = hashlib.sha256("\n".join(sorted(signatures)).encode()).hexdigest()[:16]
    return f"{partition_key}:{digest}"


def loaded_signatures(
    instance: dg.DagsterInstance, asset_keys: tuple[dg.AssetKey, ...], partition_key: str
) -> set[str]:
    """The report versions the latest materializations of ``asset_keys`` for the partition
    loaded (their ``outbox_signatures`` metadata): the instance's event log, never DuckDB."""
    found: set[str] = set()
    for asset_key in asset_keys:
        metadata = latest_metadata(instance, asset_key, partition_key) or {}
        found.update(str(s) for s in metadata.get(OUTBOX_SIGNATURES_KEY) or [])
    return found


def already_loaded(
    instance: dg.DagsterInstance,
    grouped: dict[str, list[str]],
    asset_keys: tuple[dg.AssetKey, ...],
) -> list[str]:
    """The partitions of ``grouped`` (key -> report signatures) whose every report the
    instance shows loaded already, with the same content (path, mtime and size)."""
    return [
        key
        for key, signatures in grouped.items()
        if set(signatures) <= loaded_signatures(instance, asset_keys, key)
    ]


def _unroutable(report: OutboxReport) -> str | None:
    """Why no run can be requested for ``report`` (its partition would not exist, and a run
    request for it would fail the whole tick), or ``None``."""
    if report.is_risk_adjustment:
        if not supported_year(report.benefit_year):
            return (
                f"benefit year {report.benefit_year} is not a supported benefit year "
                f"({', '.join(SUPPORTED_YEAR_KEYS)})"
            )
    elif not valid_partition_key(report.inbound_file_identifier):
        return "its inboundFileIdentifier cannot be a partition key"
    return None


@dg.sensor(
    name="outbox_sensor",
    jobs=[phase1_reported, phase2_reported],
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts a phase1_reported run (partition = the report's inboundFileIdentifier, "
        "registered when new) for every inbound file with new complete Phase 1 reports in the "
        "outbox, and a phase2_reported run (partition = the benefit year) for every year with "
        "new complete RA reports; a replaced report runs again."
    ),
)
def outbox_sensor(context: dg.SensorEvaluationContext, outbox: OutboxResource) -> dg.SensorResult:
    """One tick: group the outbox's new complete reports by file and request their runs."""
    previous = InboxCursor.parse(context.cursor)
    cursor = InboxCursor()
    now = time.time()
    by_key: dict[str, list[str]] = {}
    by_year: dict[str, list[str]] = {}
    waiting = unreadable = taken = 0

    for path in outbox.xml_files():
        name = outbox.relative(path).as_posix()
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed between listing and stat
            continue
        signature = f"{stat.st_mtime_ns}:{stat.st_size}"
        if previous.requested.get(name) == signature:
            cursor.requested[name] = signature
            continue
        still_written = now - stat.st_mtime < outbox.settle_seconds or (
            previous.sizes.get(name, stat.st_size) != stat.st_size
        )
        if still_written or taken >= MAX_REPORTS_PER_TICK:
            cursor.sizes[name] = stat.st_size
            waiting += 1
            continue
        cursor.requested[name] = signature  # a bad report is skipped until it changes
        versioned = outbox.signature(path) or f"{name}:{signature}"
        taken += 1
        try:
            report = outbox.report(path)
        except Exception as exc:  # never fail the tick (and the other reports) on one file
            context.log.warning("%s: outbox report skipped, unreadable: %s", name, exc)
            unreadable += 1
            continue
        if report is None:
            unreadable += 1
            continue
        refusal = _unroutable(report)
        if refusal:
            context.log.warning("%s: outbox report skipped: %s", name, refusal)
            unreadable += 1
            continue
        if report.is_risk_adjustment:
            by_year.setdefault(str(report.benefit_year), []).append(versioned)
        else:
            by_key.setdefault(report.inbound_file_identifier, []).append(versioned)

    # a fresh cursor (after `make demo`) must not reload what the instance shows loaded
    loaded = [
        *already_loaded(context.instance, by_key, PHASE1_ASSETS),
        *already_loaded(context.instance, by_year, PHASE2_ASSETS),
    ]
    for key in loaded:
        by_key.pop(key, None)
        by_year.pop(key, None)
    if loaded:
        context.log.info(
            "already loaded from the same reports, not requested: %s", ", ".join(loaded)
        )

    if waiting:
        context.log.info("%d outbox report(s) still being written or deferred", waiting)
    if unreadable:
        context.log.warning(
            "%d outbox file(s) are not reports a run can be requested for (unreadable header, "
            "unknown report type or benefit year); skipped until they change",
            unreadable,
        )
    if not by_key and not by_year:
        return dg.SensorResult(
            skip_reason="no new complete reports in the outbox", cursor=cursor.dump()
        )
    new_keys = [
        key
        for key in by_key
        if not context.instance.has_dynamic_partition(INBOUND_FILES_PARTITIONS_NAME, key)
    ]
    context.log.info(
        "requesting Phase 1 reconciliation of %d file(s), Phase 2 of %d benefit year(s)",
        len(by_key),
        len(by_year),
    )
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key(key, signatures),
                job_name=phase1_reported.name,
                partition_key=key,
                tags={OUTBOX_REPORTS_TAG: str(len(signatures))},
            )
            for key, signatures in by_key.items()
        ]
        + [
            dg.RunRequest(
                run_key=run_key(f"BY{year}", signatures),
                job_name=phase2_reported.name,
                partition_key=year,
                tags={OUTBOX_REPORTS_TAG: str(len(signatures))},
            )
            for year, signatures in by_year.items()
        ],
        dynamic_partitions_requests=(
            [dg.AddDynamicPartitionsRequest(INBOUND_FILES_PARTITIONS_NAME, new_keys)]
            if new_keys
            else []
        )
        + benefit_year_requests(context.instance, list(by_year)),
        cursor=cursor.dump(),
    )
