"""The ingest part of ``make demo``: each submission in the inbox registered in its type's
partitions and loaded by its type's ingest job (``ingest_eses_files`` ...), enrollment first (as
an issuer submits); each file that is not a submission recorded as refused, as the inbox sensor
does; and the summary of what each file's load did.

The output names files, types, statuses and row counts only: no member data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge_pipeline.demo.paths import DemoPaths
from edge_pipeline.demo.runs import JobRunner, RunResult, report_external, run_failure

if TYPE_CHECKING:
    import dagster as dg

    from edge_pipeline.defs.inbound.resources import InboxSubmission


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


@dataclass(frozen=True)
class RefusedFile:
    """An inbox file that is not a submission, and why (``InboxResource.submission``)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class InboxContents:
    """The inbox as the sensor sees it: submissions (enrollment first) and refused files."""

    submissions: list[InboxSubmission]
    refused: list[RefusedFile]


def ordered_inbox(paths: DemoPaths) -> InboxContents:
    """Every ``*.xml`` in the inbox: the submissions, enrollment first then by type and name,
    and the files that are not submissions (no partition for them)."""
    from edge_pipeline.defs.inbound.partitions import FILE_KINDS
    from edge_pipeline.defs.inbound.resources import InboxResource, NotASubmission

    inbox = InboxResource(path=str(paths.inbox))
    submissions, refused = [], []
    for path in inbox.xml_files():
        try:
            submissions.append(inbox.submission(path))
        except NotASubmission as exc:
            refused.append(RefusedFile(path, str(exc)))
    submissions.sort(key=lambda s: (FILE_KINDS.index(s.kind), s.path.name))
    return InboxContents(submissions, refused)


def register_landed_file(instance: dg.DagsterInstance, submission: InboxSubmission) -> None:
    """What the inbox sensor does for a new submission: add its partition (its type's and
    ``inbound_files``); and, since the demo plays the issuer's systems, record the landed file
    (the external ``inbox_xml_file``)."""
    from edge_pipeline.defs.inbound.partitions import register_file_partition

    register_file_partition(instance, submission.kind, submission.key)
    report_external(
        instance,
        "inbox_xml_file",
        {
            submission.key: {
                "file_name": submission.path.name,
                "bytes": submission.path.stat().st_size,
            }
        },
        "Landed in the inbox by the demo's synthetic issuer.",
    )


def ingest_through_dagster(
    runner: JobRunner, submissions: list[InboxSubmission]
) -> list[FileOutcome]:
    """Register the partitions and run the type's ingest job once per file, in the order
    given."""
    from edge_pipeline.defs.inbound.jobs import ingest_job_name
    from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG

    for submission in {s.key: s for s in submissions}.values():
        register_landed_file(runner.instance, submission)
    return [
        _outcome(
            runner.run(ingest_job_name(s.kind), s.key, {INBOX_FILE_TAG: s.path.name}),
            s.path,
            s.key,
        )
        for s in submissions
    ]


def record_refused_through_dagster(runner: JobRunner, refused: list[RefusedFile]) -> bool:
    """Record each refused file as the inbox sensor does: no partition, a
    ``record_refused_inbound_file`` run with the sensor's tags (``refusal_request``), which
    materializes ``refused_inbound_files``.  Prints one line per file; True when every run
    succeeded."""
    from edge_pipeline.defs.automation.inbox import refusal_request

    ok = True
    for file in refused:
        stat = file.path.lstat()
        request = refusal_request(file.path, stat.st_mtime_ns, stat.st_size, file.reason)
        result = runner.run(request.job_name, tags=request.tags)
        print(
            f"Refused, not a submission (no partition; in refused_inbound_files): "
            f"{file.path.name}: {file.reason}"
        )
        if not result.success:
            print(f"  RECORDING THE REFUSAL FAILED: {run_failure(result)}")
            ok = False
    return ok


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
