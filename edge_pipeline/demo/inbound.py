"""The ingest part of ``make demo``: one ``ingest_inbound_files`` run per inbox file, enrollment
first (as an issuer submits), and the summary of what each file's load did.

The output names files, types, statuses and row counts only: no member data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge_pipeline.demo.paths import DemoPaths
from edge_pipeline.demo.runs import JobRunner, RunResult, report_external

if TYPE_CHECKING:
    import dagster as dg

#: Load order for readability: enrollment first, as an issuer submits.
_TYPE_ORDER = {"E": 0, "M": 1, "P": 2, "S": 3}


@dataclass
class FileOutcome:
    """One file's run, as the summary reports it."""

    file_name: str
    partition_key: str
    run_id: str
    success: bool
    status: str = "not run"
    layout: str = "?"
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    note: str = ""


def ordered_inbox(paths: DemoPaths) -> list[tuple[Path, str]]:
    """Every ``*.xml`` in the inbox with its partition key, enrollment first."""
    from edge_pipeline.base.errors import InboundFormatError
    from edge_pipeline.defs.inbound.resources import InboxResource
    from edge_pipeline.edge.readers.header import read_header

    inbox = InboxResource(path=str(paths.inbox))

    def order(path: Path) -> tuple[int, str]:
        try:
            return _TYPE_ORDER.get(read_header(path).submission_type or "", 9), path.name
        except (InboundFormatError, OSError, ValueError):
            return 9, path.name

    return [(path, inbox.partition_key_for(path)) for path in sorted(inbox.xml_files(), key=order)]


def register_landed_file(instance: dg.DagsterInstance, path: Path, key: str) -> None:
    """What the inbox sensor does for a new file: add its partition; and, since the demo plays
    the issuer's systems, record the landed file (the external ``inbox_xml_file``)."""
    from edge_pipeline.defs.inbound.partitions import INBOUND_FILES_PARTITIONS_NAME

    instance.add_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME, [key])
    report_external(
        instance,
        "inbox_xml_file",
        {key: {"file_name": path.name, "bytes": path.stat().st_size}},
        "Landed in the inbox by the demo's synthetic issuer.",
    )


def ingest_through_dagster(runner: JobRunner, files: list[tuple[Path, str]]) -> list[FileOutcome]:
    """Register the partitions and run the ingest job once per file, in the order given."""
    from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG

    for key, path in {key: path for path, key in files}.items():
        register_landed_file(runner.instance, path, key)
    return [
        _outcome(runner.run("ingest_inbound_files", key, {INBOX_FILE_TAG: path.name}), path, key)
        for path, key in files
    ]


def _outcome(result: RunResult, path: Path, key: str) -> FileOutcome:
    """Read a run's outcome back from its events (what the UI shows)."""
    outcome = FileOutcome(
        file_name=path.name, partition_key=key, run_id=result.run_id, success=result.success
    )
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        outcome.status = str(metadata.get("status", outcome.status))
        outcome.layout = str(metadata.get("layout", outcome.layout))
        outcome.seconds = float(metadata.get("load_seconds", outcome.seconds))
        outcome.error = metadata.get("error") or outcome.error  # type: ignore[assignment]
        for name, value in metadata.items():
            if name.startswith("rows/") and name != "rows/submission_file":
                outcome.rows[name.removeprefix("rows/")] = int(value)
    if not result.success and outcome.error is None:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        data = failure.step_failure_data if failure is not None else None
        outcome.error = data.error.message.strip() if data and data.error else "run failed"
    if outcome.status == "not run" and not result.success:
        outcome.status = "failed"
    return outcome


def print_summary(outcomes: list[FileOutcome], seconds: float) -> None:
    """Files per type and status, rows per table, failures: counts only, no member data."""
    print(f"\nIngested {len(outcomes)} file(s) through Dagster in {seconds:.1f} s:")
    for o in outcomes:
        rows = sum(o.rows.values())
        note = f"  ({o.note})" if o.note else ""
        print(
            f"  {o.layout:5} {o.status:9} {rows:>9,} rows  {o.seconds:6.2f} s  {o.file_name}{note}"
        )
    by_type = Counter((o.layout, o.status) for o in outcomes)
    print("Files by type: " + ", ".join(f"{n} {t} {s}" for (t, s), n in sorted(by_type.items())))
    totals: Counter[str] = Counter()
    for o in outcomes:
        totals.update(o.rows)
    if totals:
        print("Rows per table (this demo's files):")
        width = max(map(len, totals))
        for table, count in sorted(totals.items()):
            print(f"  {table:<{width}} {count:>10,}")
    failures = [o for o in outcomes if not o.success]
    if failures:
        print(f"FAILURES ({len(failures)}):")
        for o in failures:
            print(f"  {o.file_name}: {o.status}: {o.error}")
    else:
        print("Failures: none")
