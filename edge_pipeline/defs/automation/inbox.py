"""Watch the inbox: register one partition per landed submission and request its ingest run.

A submission is registered in its type's partitions (``eses_files`` ...) and in
``inbound_files`` (``partitions.py``) and ingested by its type's job (``ingest_eses_files``
...).  A file that is not a recognisable submission (header unreadable, unknown root element,
no usable ``fileIdentifier``) gets no partition: the sensor requests a
``record_refused_inbound_file`` run for it, which records the refusal in the warehouse and
materializes ``refused_inbound_files`` with the file name and reason (the UI lists them there).

The sensor reads file headers only and never opens DuckDB, so it cannot contend with a load
for the warehouse lock.  Its cursor (JSON) remembers, per file name, the ``mtime:size``
signature already requested and the size seen on the last tick, so

* a file still being copied (modified less than ``settle_seconds`` ago, or grown since the
  last tick) waits for a later tick;
* an unchanged file is never requested twice, and a replaced file (new mtime or size) is
  requested again: the run key is name + mtime + size;
* a file the instance already loaded is not requested again when the cursor does not know it
  (a fresh sensor after ``make demo``, a reset cursor): when the partition's latest
  materialization of its type's landing asset (``eses_enrollment`` ...) loaded this very file
  (same name, same ``mtime:size`` signature, status loaded or unchanged), the file is taken as
  requested.  That is an event-log query of the Dagster instance, never DuckDB;
* likewise a refused file the cursor does not know is not requested again when one of the
  latest materializations of ``refused_inbound_files`` recorded this very file (same name, same
  ``mtime:size``): the first ``make dev`` after ``make demo`` requests nothing for the stray
  file the demo recorded as refused.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from edge_pipeline.base.names import printable_name
from edge_pipeline.defs.inbound.assets import BY_KIND, INBOX_SIGNATURE_KEY, REFUSED_INBOUND_FILES
from edge_pipeline.defs.inbound.jobs import INBOUND_JOBS, INGEST_JOBS, record_refused_inbound_file
from edge_pipeline.defs.inbound.partitions import file_partition_requests, file_partitions_def
from edge_pipeline.defs.inbound.resources import (
    INBOX_FILE_TAG,
    REFUSAL_TAG,
    InboxResource,
    NotASubmission,
)

#: Bound one tick's work; files beyond it are picked up by the next tick.
MAX_RUNS_PER_TICK = 100
CURSOR_VERSION = 1


@dataclass
class InboxCursor:
    """What the sensor remembers between ticks, keyed by file name (inbox files only)."""

    requested: dict[str, str] = field(default_factory=dict)  # name -> "mtime_ns:size"
    sizes: dict[str, int] = field(default_factory=dict)  # name -> size seen, not yet requested

    @classmethod
    def parse(cls, raw: str | None) -> "InboxCursor":
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            return cls()  # an unreadable cursor only costs re-requests, which run keys absorb
        if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
            return cls()
        return cls(requested=dict(data.get("requested", {})), sizes=dict(data.get("sizes", {})))

    def dump(self) -> str:
        return json.dumps(
            {"v": CURSOR_VERSION, "requested": self.requested, "sizes": self.sizes},
            sort_keys=True,
        )


#: Load statuses after which the same file version needs no new run.
LOADED_STATUSES = frozenset({"loaded", "unchanged"})
#: Longest refusal reason put in a run tag (the run's metadata has it in full).
MAX_REASON_CHARS = 500


def latest_metadata(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition_key: str
) -> dict[str, object] | None:
    """The plain metadata values of the latest materialization of ``asset_key`` for
    ``partition_key``, or ``None``.  Reads the instance's event log only, never DuckDB."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition_key]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    return plain_metadata(records[0].asset_materialization)


def plain_metadata(materialization: dg.AssetMaterialization) -> dict[str, object]:
    """A materialization's metadata as plain values."""
    return {key: getattr(entry, "value", entry) for key, entry in materialization.metadata.items()}


def already_ingested(
    instance: dg.DagsterInstance, file_kind: str, partition_key: str, file_name: str, signature: str
) -> bool:
    """Whether the kind's landing asset was last materialized for the partition from this file
    version (name and ``mtime:size``), successfully."""
    if not instance.has_dynamic_partition(file_partitions_def(file_kind).name, partition_key):
        return False
    metadata = latest_metadata(instance, dg.AssetKey(BY_KIND[file_kind].key), partition_key)
    return (
        metadata is not None
        and metadata.get("file_name") == file_name
        and metadata.get(INBOX_SIGNATURE_KEY) == signature
        and metadata.get("status") in LOADED_STATUSES
    )


#: Latest ``refused_inbound_files`` materializations (one per refused file version) a refused
#: file the cursor does not know is looked up in.
REFUSALS_CHECKED = 1000


def recorded_refusals(instance: dg.DagsterInstance) -> set[tuple[str, str]]:
    """``(file name, mtime:size)`` of the refused files recorded by the latest
    :data:`REFUSALS_CHECKED` materializations of ``refused_inbound_files`` (event log only)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=REFUSED_INBOUND_FILES), limit=REFUSALS_CHECKED
    ).records
    found = set()
    for record in records:
        if record.asset_materialization is not None:
            metadata = plain_metadata(record.asset_materialization)
            found.add((str(metadata.get("file_name")), str(metadata.get(INBOX_SIGNATURE_KEY))))
    return found


def run_key(path: Path, mtime_ns: int, size: int) -> str:
    """Dagster never launches two runs with one key: same name, mtime and size = same file."""
    return f"{path.name}:{mtime_ns}:{size}"


def refusal_request(path: Path, mtime_ns: int, size: int, reason: str) -> dg.RunRequest:
    """The run recording a refused file (``record_refused_inbound_file``, no partition)."""
    return dg.RunRequest(
        run_key=f"refused:{run_key(path, mtime_ns, size)}",
        job_name=record_refused_inbound_file.name,
        tags={INBOX_FILE_TAG: path.name, REFUSAL_TAG: reason[:MAX_REASON_CHARS]},
    )


@dg.sensor(
    name="inbox_sensor",
    jobs=INBOUND_JOBS,
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Registers a partition (fileIdentifier) of its type (eses_files, ...) for every complete "
        "*.xml submission in the inbox and requests its ingest run (ingest_<type>_files); a "
        "replaced file (new mtime or size) is ingested again. A file that is not a recognisable "
        "submission gets no partition: record_refused_inbound_file records it as refused."
    ),
)
def inbox_sensor(context: dg.SensorEvaluationContext, inbox: InboxResource) -> dg.SensorResult:
    """One tick: see which inbox files are new and complete, and request their runs."""
    previous = InboxCursor.parse(context.cursor)
    cursor = InboxCursor()
    now = time.time()
    new_keys: dict[str, list[str]] = {}
    run_requests: list[dg.RunRequest] = []
    waiting = loaded = refused = 0
    refusals: set[tuple[str, str]] | None = None  # read once per tick, when first needed

    for path in inbox.xml_files():
        try:
            stat = path.lstat()  # a symlink's own: it is never followed (its load refuses it)
        except FileNotFoundError:  # removed between listing and stat
            continue
        signature = f"{stat.st_mtime_ns}:{stat.st_size}"
        if previous.requested.get(path.name) == signature:
            cursor.requested[path.name] = signature
            continue
        still_written = now - stat.st_mtime < inbox.settle_seconds or (
            previous.sizes.get(path.name, stat.st_size) != stat.st_size
        )
        if still_written or len(run_requests) >= MAX_RUNS_PER_TICK:
            cursor.sizes[path.name] = stat.st_size
            waiting += 1
            continue
        cursor.requested[path.name] = signature  # a refused file waits until it changes

        try:
            submission = inbox.submission(path)
        except NotASubmission as exc:
            if refusals is None:
                refusals = recorded_refusals(context.instance)
            if (path.name, signature) in refusals:
                loaded += 1
                continue
            context.log.warning("%s: refused, no partition: %s", printable_name(path.name), exc)
            run_requests.append(refusal_request(path, stat.st_mtime_ns, stat.st_size, str(exc)))
            refused += 1
            continue
        except Exception as exc:  # never fail the tick (and the other files) on one file
            context.log.warning("%s: not requested, its header read failed: %s", path.name, exc)
            continue
        kind, key = submission.kind, submission.key
        if already_ingested(context.instance, kind, key, path.name, signature):
            loaded += 1
            continue
        kind_keys = new_keys.setdefault(kind, [])
        if key not in kind_keys and not context.instance.has_dynamic_partition(
            file_partitions_def(kind).name, key
        ):
            kind_keys.append(key)
        run_requests.append(
            dg.RunRequest(
                run_key=run_key(path, stat.st_mtime_ns, stat.st_size),
                job_name=INGEST_JOBS[kind].name,
                partition_key=key,
                tags={INBOX_FILE_TAG: path.name},
            )
        )

    if waiting:
        context.log.info(
            "%d inbox file(s) still being written or deferred to the next tick", waiting
        )
    if loaded:
        context.log.info(
            "%d inbox file(s) already loaded or recorded as refused by an earlier run: "
            "not requested",
            loaded,
        )
    if not run_requests:
        return dg.SensorResult(
            skip_reason="no new complete files in the inbox", cursor=cursor.dump()
        )
    context.log.info(
        "requesting ingest of %d file(s), %d refused",
        len(run_requests) - refused,
        refused,
    )
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[
            request
            for kind, keys in new_keys.items()
            for request in file_partition_requests(kind, keys)
        ],
        cursor=cursor.dump(),
    )
