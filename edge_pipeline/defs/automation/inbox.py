"""Watch the inbox: register one partition per landed file and request its ingest run.

The sensor reads file headers only and never opens DuckDB, so it cannot contend with a load
for the warehouse lock.  Its cursor (JSON) remembers, per file name, the ``mtime:size``
signature already requested and the size seen on the last tick, so

* a file still being copied (modified less than ``settle_seconds`` ago, or grown since the
  last tick) waits for a later tick;
* an unchanged file is never requested twice, and a replaced file (new mtime or size) is
  requested again: the run key is name + mtime + size;
* a file the instance already loaded is not requested again when the cursor does not know it
  (a fresh sensor after ``make demo``, a reset cursor): when the partition's latest
  ``submission_file`` materialization loaded this very file (same name, same ``mtime:size``
  signature, status loaded or unchanged), the file is taken as requested.  That is an event-log
  query of the Dagster instance, never DuckDB.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from edge_pipeline.defs.inbound.assets import INBOX_SIGNATURE_KEY, SUBMISSION_FILE
from edge_pipeline.defs.inbound.jobs import ingest_inbound_files
from edge_pipeline.defs.inbound.partitions import (
    INBOUND_FILES_PARTITIONS_NAME,
    valid_partition_key,
)
from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG, InboxResource

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


def already_ingested(
    instance: dg.DagsterInstance, partition_key: str, file_name: str, signature: str
) -> bool:
    """Whether the partition's latest ``submission_file`` materialization loaded this file
    version (name and ``mtime:size``), successfully.  Reads the instance's event log only."""
    if not instance.has_dynamic_partition(INBOUND_FILES_PARTITIONS_NAME, partition_key):
        return False
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=SUBMISSION_FILE, asset_partitions=[partition_key]),
        limit=1,
    ).records
    if not records or records[0].asset_materialization is None:
        return False
    metadata = records[0].asset_materialization.metadata

    def value(key: str) -> object:
        entry = metadata.get(key)
        return getattr(entry, "value", entry)

    return (
        value("file_name") == file_name
        and value(INBOX_SIGNATURE_KEY) == signature
        and value("status") in LOADED_STATUSES
    )


def run_key(path: Path, mtime_ns: int, size: int) -> str:
    """Dagster never launches two runs with one key: same name, mtime and size = same file."""
    return f"{path.name}:{mtime_ns}:{size}"


@dg.sensor(
    name="inbox_sensor",
    job=ingest_inbound_files,
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Registers a partition (fileIdentifier) for every complete *.xml file in the inbox and "
        "requests its ingest run; a replaced file (new mtime or size) is ingested again."
    ),
)
def inbox_sensor(context: dg.SensorEvaluationContext, inbox: InboxResource) -> dg.SensorResult:
    """One tick: see which inbox files are new and complete, and request their runs."""
    previous = InboxCursor.parse(context.cursor)
    cursor = InboxCursor()
    now = time.time()
    new_keys: list[str] = []
    run_requests: list[dg.RunRequest] = []
    waiting = loaded = 0

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

        try:
            key = inbox.partition_key_for(path)
        except Exception as exc:  # never fail the tick (and the other files) on one file
            context.log.warning("%s: not requested, its header read failed: %s", path.name, exc)
            cursor.requested[path.name] = signature  # until it changes
            continue
        if not valid_partition_key(key):
            context.log.warning(
                "%s: not requested, neither its fileIdentifier nor its name can be a "
                "partition key (rename the file)",
                path.name,
            )
            cursor.requested[path.name] = signature
            continue
        if already_ingested(context.instance, key, path.name, signature):
            cursor.requested[path.name] = signature
            loaded += 1
            continue
        if key not in new_keys and not context.instance.has_dynamic_partition(
            INBOUND_FILES_PARTITIONS_NAME, key
        ):
            new_keys.append(key)
        run_requests.append(
            dg.RunRequest(
                run_key=run_key(path, stat.st_mtime_ns, stat.st_size),
                partition_key=key,
                tags={INBOX_FILE_TAG: path.name},
            )
        )
        cursor.requested[path.name] = signature

    if waiting:
        context.log.info(
            "%d inbox file(s) still being written or deferred to the next tick", waiting
        )
    if loaded:
        context.log.info("%d inbox file(s) already loaded by an earlier run: not requested", loaded)
    if not run_requests:
        return dg.SensorResult(
            skip_reason="no new complete files in the inbox", cursor=cursor.dump()
        )
    context.log.info("requesting ingest of %d file(s)", len(run_requests))
    requests = (
        [dg.AddDynamicPartitionsRequest(INBOUND_FILES_PARTITIONS_NAME, new_keys)]
        if new_keys
        else []
    )
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=requests,
        cursor=cursor.dump(),
    )
