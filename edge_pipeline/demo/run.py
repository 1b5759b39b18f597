"""``make demo``: a synthetic issuer's files ingested through Dagster, then Phase 1.

Steps: generate the issuer, ingest its files (one run per partition), load the reference
tables from its plan registry and code lists, verify every file and write its shadow reports,
simulate the EDGE server's answer (the shadow reports copied into the outbox, said so in the
output), then load that answer and reconcile it (``demo_phase1.py``).

The runs go through the persistent Dagster instance in ``data/dagster_home`` (the one
``make dev`` uses), so after the demo the UI shows every partition and run it made.  The
output names files, types, statuses, levels, codes and row counts only: no member data.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

#: Run tag marking runs the demo launched (lets a later demo clean up after an interrupted one).
LAUNCHED_BY_TAG = "edge/launched_by"
#: The benefit year the demo's synthetic issuer is generated for and scored in.
BENEFIT_YEAR = 2025
#: Names of the files the last demo put in the inbox, so the next one removes only those.
DEMO_FILES_RECORD = "demo_inbox_files.json"
#: Load order for readability: enrollment first, as an issuer submits.
_TYPE_ORDER = {"E": 0, "M": 1, "P": 2, "S": 3}


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo reads and writes, all under one ``data`` folder."""

    data: Path
    inbox: Path
    synthetic: Path
    warehouse: Path
    dagster_home: Path
    issuer: Path
    shadow_reports: Path
    outbox: Path

    @classmethod
    def for_root(cls, root: Path | None) -> DemoPaths:
        """Paths of a checkout; with no ``root``, ``$EDGE_INBOX``, ``$EDGE_WAREHOUSE``,
        ``$EDGE_SHADOW_REPORTS`` and ``$EDGE_OUTBOX`` apply.  The issuer folder is always
        ``data/issuer``: the demo writes its synthetic registry there and must never overwrite
        a real one that ``$EDGE_PLAN_REGISTRY`` points at."""
        from edge_pipeline.defs.inbound.resources import default_inbox_path
        from edge_pipeline.defs.phase1.resources import (
            default_outbox_path,
            default_shadow_reports_path,
        )
        from edge_pipeline.defs.resources import data_dir, default_warehouse_path

        data = data_dir(root)
        return cls(
            data=data,
            inbox=data / "inbox" if root else default_inbox_path(),
            synthetic=data / "synthetic",
            warehouse=data / "warehouse.duckdb" if root else default_warehouse_path(),
            dagster_home=data / "dagster_home",
            issuer=data / "issuer",
            shadow_reports=data / "shadow_reports" if root else default_shadow_reports_path(),
            outbox=data / "outbox" if root else default_outbox_path(),
        )


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


def prepare_dagster_home(dagster_home: Path) -> None:
    """Point Dagster at ``dagster_home`` and give it the project's instance settings."""
    from edge_pipeline.defs.resources import REPO_ROOT

    dagster_home.mkdir(parents=True, exist_ok=True)
    settings = dagster_home / "dagster.yaml"
    if not settings.exists():
        shutil.copyfile(REPO_ROOT / "dagster.yaml", settings)
    os.environ["DAGSTER_HOME"] = str(dagster_home.resolve())


@dataclass
class StagedIssuer:
    """What the demo put in the inbox, and what the previous demo had put there."""

    notes: dict[str, str]  # file name -> summary note (empty for the four submissions)
    identifiers: dict[str, str]  # file name -> fileIdentifier
    previous_identifiers: set[str]


def stage_synthetic_issuer(
    paths: DemoPaths, enrollees: int, seed: int, error_rate: float
) -> StagedIssuer:
    """Generate the issuer into ``synthetic`` and move its XML files into the inbox.

    The manifest and plan registry stay in ``synthetic``: only ``*.xml`` in the inbox is
    ingested.  The previous demo's inbox files are removed first, so a re-run is idempotent;
    files someone else dropped in the inbox are left alone.  A non-zero ``error_rate`` adds
    extra files with file-level defects; their note says what EDGE would do with them.
    """
    from edge_pipeline.edge.synth.generate import generate_issuer

    record = paths.synthetic / DEMO_FILES_RECORD
    previous: dict[str, str] = {}
    if record.exists():
        loaded = json.loads(record.read_text())
        previous = loaded if isinstance(loaded, dict) else {}
        for name in previous:
            (paths.inbox / Path(name).name).unlink(missing_ok=True)
    shutil.rmtree(paths.synthetic, ignore_errors=True)
    paths.synthetic.mkdir(parents=True)
    paths.inbox.mkdir(parents=True, exist_ok=True)

    manifest = generate_issuer(
        paths.synthetic,
        enrollees=enrollees,
        seed=seed,
        error_rate=error_rate,
        benefit_year=BENEFIT_YEAR,
    )
    staged = StagedIssuer(notes={}, identifiers={}, previous_identifiers=set(previous.values()))
    for entry in manifest.files:
        source = paths.synthetic / entry.path  # manifest paths are relative to the output dir
        shutil.move(source, paths.inbox / source.name)
        staged.identifiers[source.name] = entry.file_identifier
        staged.notes[source.name] = (
            "" if entry.role == "submission" else f"defect file, EDGE: {entry.expected_effect}"
        )
    record.write_text(json.dumps(staged.identifiers, indent=2, sort_keys=True) + "\n")
    return staged


def forget_superseded_demo_loads(paths: DemoPaths, staged: StagedIssuer) -> int:
    """Remove an earlier demo's loads that this demo's files would collide with.

    The generator derives fileIdentifiers from the seed, so a demo with other parameters (or
    after a generator change) produces different bytes under identifiers already loaded, and
    the loader rightly refuses a reused identifier.  Only identifiers the previous demo itself
    staged, and only when their loaded bytes differ from this demo's file, are removed: a
    re-run with the same parameters still shows the loader's "unchanged" path, and nothing
    that did not come from the demo is touched.
    """
    from edge_pipeline.defs.resources import warehouse_resource
    from edge_pipeline.edge.digest import sha256_file
    from edge_pipeline.edge.warehouse.forget import forget_files
    from edge_pipeline.edge.warehouse.schema import ensure_schema

    if not staged.previous_identifiers or not paths.warehouse.exists():
        return 0
    current = {
        staged.identifiers[name]: sha256_file(paths.inbox / name) for name in staged.identifiers
    }
    with warehouse_resource(paths.warehouse).get_connection() as con:
        ensure_schema(con)
        loaded = con.execute(
            "SELECT DISTINCT file_identifier, sha256 FROM submission_file WHERE status = 'loaded'"
        ).fetchall()
        stale = sorted(
            {
                fid
                for fid, sha in loaded
                if fid in staged.previous_identifiers and current.get(fid) != sha
            }
        )
        forget_files(con, stale)
    return len(stale)


def _ordered_inbox(paths: DemoPaths) -> list[tuple[Path, str]]:
    """Every ``*.xml`` in the inbox with its partition key, enrollment first."""
    from edge_pipeline.defs.inbound.resources import InboxResource
    from edge_pipeline.edge.errors import InboundFormatError
    from edge_pipeline.edge.readers.header import read_header

    inbox = InboxResource(path=str(paths.inbox))

    def order(path: Path) -> tuple[int, str]:
        try:
            return _TYPE_ORDER.get(read_header(path).submission_type or "", 9), path.name
        except (InboundFormatError, OSError, ValueError):
            return 9, path.name

    return [(path, inbox.partition_key_for(path)) for path in sorted(inbox.xml_files(), key=order)]


def free_stale_pool_slots(instance: dg.DagsterInstance) -> int:
    """Free warehouse pool slots still held by runs that are over or were an interrupted demo.

    An in-process run killed mid-step (Ctrl-C) keeps its slot; with a limit of one, every later
    ingest would wait for it forever.  ``dagster dev``'s run monitoring frees such slots for
    runs it launched; the demo has no daemon, so it cleans up after itself here.
    """
    from edge_pipeline.defs.resources import DUCKDB_WRITER_POOL

    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return 0
    freed = 0
    for run_id in storage.get_concurrency_info(DUCKDB_WRITER_POOL).active_run_ids:
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            if run.tags.get(LAUNCHED_BY_TAG) != "demo":
                continue  # a live run of `dagster dev`: leave it alone
            instance.report_run_failed(run, "interrupted demo run (its process is gone)")
        storage.free_concurrency_slots_for_run(run_id)
        freed += 1
    return freed


def ingest_through_dagster(
    instance: dg.DagsterInstance, paths: DemoPaths, files: list[tuple[Path, str]]
) -> list[FileOutcome]:
    """Register the partitions and run the ingest job once per file, recorded on ``instance``."""
    from edge_pipeline.definitions import defs
    from edge_pipeline.defs.inbound import INBOX_KEY
    from edge_pipeline.defs.inbound.partitions import INBOUND_FILES_PARTITIONS_NAME
    from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG, InboxResource
    from edge_pipeline.defs.resources import WAREHOUSE_KEY, warehouse_resource

    keys = list(dict.fromkeys(key for _, key in files))
    instance.add_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME, keys)
    job = defs.resolve_job_def("ingest_inbound_files")
    resources = {
        WAREHOUSE_KEY: warehouse_resource(paths.warehouse),
        INBOX_KEY: InboxResource(path=str(paths.inbox)),
    }
    # The summary reports failures; the full event logs are in the UI (`make dev`).
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    outcomes = []
    for path, key in files:
        result = job.execute_in_process(
            run_config=quiet,
            instance=instance,
            partition_key=key,
            tags={INBOX_FILE_TAG: path.name, LAUNCHED_BY_TAG: "demo"},
            resources=resources,
            raise_on_error=False,
        )
        outcomes.append(_outcome(result, path, key))
    return outcomes


def _outcome(result: dg.ExecuteInProcessResult, path: Path, key: str) -> FileOutcome:
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


def print_summary(outcomes: list[FileOutcome], paths: DemoPaths, seconds: float) -> None:
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


def demo_resources(paths: DemoPaths) -> dict[str, Any]:
    """The resources every demo run binds: the demo's own folders, not the environment's."""
    from edge_pipeline.defs.inbound import INBOX_KEY
    from edge_pipeline.defs.inbound.resources import InboxResource
    from edge_pipeline.defs.phase1 import OUTBOX_KEY, SHADOW_REPORTS_KEY
    from edge_pipeline.defs.phase1.resources import OutboxResource, ShadowReportsResource
    from edge_pipeline.defs.phase2 import TRANSFER_SETTINGS_KEY
    from edge_pipeline.defs.phase2.resources import TransferSettingsResource
    from edge_pipeline.defs.reference import ISSUER_REFERENCE_KEY
    from edge_pipeline.defs.reference.resources import issuer_reference_resource
    from edge_pipeline.defs.resources import WAREHOUSE_KEY, warehouse_resource

    return {
        WAREHOUSE_KEY: warehouse_resource(paths.warehouse),
        INBOX_KEY: InboxResource(path=str(paths.inbox)),
        ISSUER_REFERENCE_KEY: issuer_reference_resource(
            paths.issuer / "plan_registry.csv", paths.issuer
        ),
        SHADOW_REPORTS_KEY: ShadowReportsResource(path=str(paths.shadow_reports)),
        # the generator's GCF and market files in the demo's issuer folder, nothing else
        TRANSFER_SETTINGS_KEY: TransferSettingsResource(issuer_dir=str(paths.issuer)),
        # the simulated answers are copied just before they are read: nothing is still landing
        OUTBOX_KEY: OutboxResource(path=str(paths.outbox), settle_seconds=0),
    }


def phase1_through_dagster(
    instance: dg.DagsterInstance,
    paths: DemoPaths,
    staged: StagedIssuer,
    outcomes: list[FileOutcome],
) -> bool:
    """Reference tables, shadow verification, simulated EDGE answer, reconciliation; prints
    the Phase 1 summary.  True when every run succeeded and every check passed."""
    from edge_pipeline.demo_phase1 import (
        clean_phase1_outputs,
        load_reference,
        print_phase1_summary,
        run_reported,
        run_shadow,
        simulate_edge_server,
        stage_issuer_reference,
    )

    started = time.perf_counter()
    keys = list(dict.fromkeys(o.partition_key for o in outcomes if o.success))
    clean_phase1_outputs(
        paths.shadow_reports, paths.outbox, staged.previous_identifiers | set(keys)
    )
    stage_issuer_reference(paths.synthetic, paths.issuer)
    resources = demo_resources(paths)
    error = load_reference(instance, resources)
    if error is not None:
        print(f"\nReference tables FAILED: {error}")
        return False
    phase1 = run_shadow(instance, resources, keys)
    copied = simulate_edge_server(paths.shadow_reports, paths.outbox, keys)
    run_reported(instance, resources, phase1)
    print_phase1_summary(phase1, paths.outbox, copied, time.perf_counter() - started)
    return all(o.ok for o in phase1.values())


def phase2_through_dagster(
    instance: dg.DagsterInstance, paths: DemoPaths, benefit_year: int
) -> bool:
    """Claim selection, scores, RA reports, simulated EDGE answer, reconciliation; prints the
    Phase 2 summary.  True when every run succeeded and every check passed."""
    from edge_pipeline.demo_phase2 import print_phase2_summary, run_phase2

    started = time.perf_counter()
    outcome, copied = run_phase2(
        instance, demo_resources(paths), paths.shadow_reports, paths.outbox, benefit_year
    )
    print_phase2_summary(outcome, paths.outbox, copied, time.perf_counter() - started)
    return outcome.ok


def run_demo(
    root: Path | None = None,
    enrollees: int = 2000,
    seed: int = 20250101,
    error_rate: float = 0.02,
) -> int:
    """Generate, ingest, verify, reconcile through Dagster, summarise.  Exit code 0 when every
    file ingested and every Phase 1 run and check succeeded."""
    paths = DemoPaths.for_root(root)
    prepare_dagster_home(paths.dagster_home)
    started = time.perf_counter()
    staged = stage_synthetic_issuer(paths, enrollees, seed, error_rate)
    print(
        f"Generated a synthetic issuer: {enrollees:,} enrollees, seed {seed}, "
        f"error rate {error_rate:g}: {len(staged.notes)} files into {paths.inbox}"
    )
    forgotten = forget_superseded_demo_loads(paths, staged)
    if forgotten:
        print(
            f"Removed {forgotten} earlier demo file(s) from the warehouse: same fileIdentifier, "
            "different content (other parameters or generator version)."
        )

    import dagster as dg  # after DAGSTER_HOME is set, and only when the demo really runs

    with dg.DagsterInstance.get() as instance:
        freed = free_stale_pool_slots(instance)
        if freed:
            print(f"Freed {freed} warehouse pool slot(s) left by interrupted runs.")
        outcomes = ingest_through_dagster(instance, paths, _ordered_inbox(paths))
        for outcome in outcomes:
            outcome.note = staged.notes.get(outcome.file_name, "")
        print_summary(outcomes, paths, time.perf_counter() - started)
        phase1_ok = phase1_through_dagster(instance, paths, staged, outcomes)
        phase2_ok = phase1_ok and phase2_through_dagster(instance, paths, BENEFIT_YEAR)
    print(f"\nDemo finished in {time.perf_counter() - started:.1f} s.")
    print(f"Warehouse: {paths.warehouse}")
    print(f"Dagster runs recorded in {paths.dagster_home}; browse them with `make dev`.")
    return 0 if outcomes and all(o.success for o in outcomes) and phase2_ok else 1


if __name__ == "__main__":
    sys.exit(run_demo())
