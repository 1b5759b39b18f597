"""Concurrency with the Dagster webserver up (issue #7): the UI and a CLI reader while runs write.

A fresh project root gets the small synthetic issuer of the crash tests in its inbox (the demo's
own staging: XML files in ``data/inbox``, plan registry and code lists in ``data/issuer``) and
the real ``dagster-webserver`` is started over it (``browser_support.DagsterWebserver``).
Through its GraphQL API the test registers the files' partitions (as the inbox sensor does) and
launches the runs the sensors would request, in two batches of ``launchMultipleRuns``: an
``ingest_<type>_files`` run per file with ``refresh_reference_tables``, then a
``phase1_shadow`` run per file; the ``duckdb_writer`` pool (limit 1) serializes each batch's
writes.  While they write:

* a GraphQL poller keeps asking the webserver for the runs' status and the assets' latest
  materializations: every answer must come (no HTTP error, no GraphQL error), and neither the
  webserver nor its code server may ever have the warehouse file open;
* a read-only ``connect`` poller and ``edge-pipeline report`` invocations read the warehouse:
  each either reads or is refused cleanly (``WarehouseLockedError``, or exit 3 with the one-line
  "locked ... retry" message naming a run's process, never the webserver's), never a traceback.

Then every run must have succeeded (a failed one fails the test with its event log), the
warehouse must equal an undisturbed run of the same jobs in-process with no webserver and no
reader (``crash_support.warehouse_checksum``), the webserver must still answer
``/server_info``, and with the webserver idle a CLI writer (``edge-pipeline ingest`` of the same
files: identical re-deliveries, nothing changes) must get the lock at once: the webserver and
its code server hold no DuckDB lock.

The instance is the project's ``dagster.yaml`` (the ``duckdb_writer`` pool, limit 1) with the
default run coordinator: the project's queued coordinator needs ``dagster-daemon``, which would
also start every sensor (all RUNNING by default) over the same inbox.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pytest
from browser_support import DagsterWebserver
from crash_support import ENROLLEES, SEED, Checksum, differences, run_cli, warehouse_checksum

from edge_pipeline.base.warehouse.connection import WarehouseLockedError, connect
from edge_pipeline.demo.paths import DemoPaths
from edge_pipeline.demo.staging import stage_synthetic_issuer

REPO_ROOT = Path(__file__).resolve().parents[2]
EXIT_LOCKED = 3
LOCATION = "edge_pipeline"
REPOSITORY = "__repository__"  # the single Definitions object of a code location
#: Bounds: whole scenario, one run, the pollers' pauses and the CLI reader's attempts.
RUN_TIMEOUT_SECONDS = 90.0
SCENARIO_TIMEOUT_SECONDS = 240.0
GRAPHQL_PAUSE_SECONDS = 0.4
CONNECT_PAUSE_SECONDS = 0.1
CLI_READER_PAUSE_SECONDS = 2.0
CLI_READER_MAX_ATTEMPTS = 5
MAX_POLLS = 5000
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")

_ADD_PARTITION = """
mutation ($repository: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(
    repositorySelector: $repository, partitionsDefName: $name, partitionKey: $key
  ) {
    __typename
    ... on Error { message }
  }
}
"""
_LAUNCH_RUNS = """
mutation ($params: [ExecutionParams!]!) {
  launchMultipleRuns(executionParamsList: $params) {
    __typename
    ... on LaunchMultipleRunsResult {
      launchMultipleRunsResult {
        __typename
        ... on LaunchRunSuccess { run { runId } }
        ... on Error { message }
      }
    }
    ... on Error { message }
  }
}
"""
_RUNS = """
query ($runIds: [String]) {
  runsOrError(filter: {runIds: $runIds}) {
    __typename
    ... on Runs { results { runId jobName status } }
    ... on Error { message }
  }
}
"""
_LATEST_MATERIALIZATIONS = """
{
  assetNodes(loadMaterializations: true) {
    assetKey { path }
    assetMaterializations(limit: 1) { runId partition timestamp }
  }
}
"""
_RUN_LOGS = """
query ($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message level stepKey }
        ... on ExecutionStepFailureEvent { error { message errorChain { error { message } } } }
      }
    }
    ... on Error { message }
  }
}
"""


@dataclass
class Launched:
    """A run the test launched through the webserver."""

    job: str
    partition: str | None
    run_id: str
    status: str = "LAUNCHED"
    seconds: float = 0.0


@dataclass
class Observations:
    """What the concurrent readers saw; ``problems`` must stay empty."""

    graphql_answers: int = 0
    connect_reads: int = 0
    connect_locked: int = 0
    cli_reads: int = 0
    cli_locked: int = 0
    lock_holders: set[int] = field(default_factory=set)
    runs: list[Launched] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def summary(self) -> str:
        return (
            f"runs {', '.join(f'{r.job} {r.seconds:.1f} s' for r in self.runs)}; "
            f"graphql answers {self.graphql_answers}, connect reads {self.connect_reads} / "
            f"locked {self.connect_locked}, report reads {self.cli_reads} / locked "
            f"{self.cli_locked}, lock holders {sorted(self.lock_holders)}"
        )


def instance_settings(dagster_home: Path) -> None:
    """The project's ``dagster.yaml`` with the default run coordinator: the webserver launches a
    run at once (a queued run would wait for ``dagster-daemon``)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    settings = (REPO_ROOT / "dagster.yaml").read_text()
    assert "run_coordinator" not in settings, "dagster.yaml now sets a run coordinator"
    (dagster_home / "dagster.yaml").write_text(
        settings + "\nrun_coordinator:\n"
        "  module: dagster._core.run_coordinator\n"
        "  class: DefaultRunCoordinator\n"
    )


def stage_issuer(root: Path) -> tuple[DemoPaths, list[tuple[Path, str]]]:
    """The synthetic issuer laid out as the demo does; its files with their partition keys,
    enrollment first (the order the runs are launched in)."""
    from edge_pipeline.defs.inbound.resources import InboxResource
    from edge_pipeline.demo.staging import stage_issuer_reference

    paths = DemoPaths.for_root(root)
    stage_synthetic_issuer(paths, ENROLLEES, SEED, error_rate=0.0)
    stage_issuer_reference(paths.synthetic, paths.issuer)
    instance_settings(paths.dagster_home)
    inbox = InboxResource(path=str(paths.inbox))
    files = [(path, inbox.submission(path).key) for path in inbox.xml_files()]
    assert [path.name.split(".")[1] for path, _ in files] == ["E", "M", "P", "S"], files
    return paths, files


def undisturbed_checksum(paths: DemoPaths, files: list[tuple[Path, str]], where: Path) -> Checksum:
    """The same jobs on the same inbox and issuer folders, the files ingested in the order
    given, run in-process on an ephemeral instance with no webserver and no reader, into a
    warehouse of their own."""
    import dagster as dg

    from edge_pipeline.defs.inbound.resources import InboxResource
    from edge_pipeline.demo.inbound import ingest_through_dagster
    from edge_pipeline.demo.phase1 import load_reference, run_shadow
    from edge_pipeline.demo.runs import code_location_runner

    alone = dataclasses.replace(
        paths, warehouse=where / "warehouse.duckdb", shadow_reports=where / "shadow_reports"
    )
    inbox = InboxResource(path=str(paths.inbox))
    submissions = [inbox.submission(path) for path, _ in files]
    with (
        dg.DagsterInstance.ephemeral() as instance,
        code_location_runner(instance, alone) as runner,
    ):
        ingested = ingest_through_dagster(runner, submissions)
        assert all(o.success and o.status == "loaded" for o in ingested), ingested
        assert load_reference(runner) is None
        shadow = run_shadow(runner, [key for _, key in files])
        assert all(not o.errors and not o.checks_failed for o in shadow.values()), shadow
    return warehouse_checksum(alone.warehouse)


def repository() -> dict[str, str]:
    return {"repositoryName": REPOSITORY, "repositoryLocationName": LOCATION}


def launch(
    server: DagsterWebserver, requests: list[tuple[str, str | None, dict[str, str]]]
) -> list[Launched]:
    """Launch one run per ``(job, partition, tags)`` in one ``launchMultipleRuns`` call: what
    the UI and the sensors ask the webserver for when several files land together."""
    params = []
    for job, partition, tags in requests:
        all_tags = {**tags, **({"dagster/partition": partition} if partition else {})}
        params.append(
            {
                "selector": {**repository(), "jobName": job},
                "executionMetadata": {
                    "tags": [{"key": k, "value": v} for k, v in all_tags.items()]
                },
            }
        )
    answer = server.graphql(_LAUNCH_RUNS, {"params": params})["launchMultipleRuns"]
    assert answer["__typename"] == "LaunchMultipleRunsResult", answer
    results = answer["launchMultipleRunsResult"]
    assert [r["__typename"] for r in results] == ["LaunchRunSuccess"] * len(requests), results
    return [
        Launched(job, partition, result["run"]["runId"])
        for (job, partition, _), result in zip(requests, results, strict=True)
    ]


def wait_for_runs(server: DagsterWebserver, runs: list[Launched], deadline: float) -> None:
    """Poll the runs' status until all are over (bounded by ``deadline`` and a poll count); a
    run that did not succeed fails the test with its event log."""
    started = time.monotonic()
    deadline = min(deadline, started + RUN_TIMEOUT_SECONDS)
    for _ in range(MAX_POLLS):
        answer = server.graphql(_RUNS, {"runIds": [run.run_id for run in runs]})["runsOrError"]
        assert answer["__typename"] == "Runs", answer
        status = {result["runId"]: result["status"] for result in answer["results"]}
        for run in runs:
            if run.status not in FINISHED:
                run.status = status.get(run.run_id, "MISSING")
                run.seconds = time.monotonic() - started
        if all(run.status in FINISHED for run in runs) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    for run in runs:
        if run.status != "SUCCESS":
            pytest.fail(
                f"{run.job} {run.partition or ''} ({run.run_id}) ended {run.status} after "
                f"{run.seconds:.1f} s:\n{run_log(server, run.run_id)}\n"
                f"webserver log:\n{server.log_tail()}"
            )


def run_log(server: DagsterWebserver, run_id: str, lines: int = 60) -> str:
    """The run's event log as the UI shows it (messages and errors), last ``lines`` lines."""
    try:
        answer = server.graphql(_RUN_LOGS, {"runId": run_id})["logsForRun"]
    except (OSError, RuntimeError) as exc:
        return f"(no run log: {exc})"
    text = []
    for event in answer.get("events", []):
        text.append(f"{event.get('level', '')} {event.get('stepKey') or ''} {event['message']}")
        error = event.get("error")
        if error:  # the step's error and what caused it (the asset's own exception)
            text += [error["message"], *(link["error"]["message"] for link in error["errorChain"])]
    return "\n".join(text[-lines:]) or str(answer)


def server_processes(server: DagsterWebserver) -> list[psutil.Process]:
    """The webserver and the code server it spawned (``dagster api grpc``), not the runs: those
    are the code server's children and are the ones that should open the warehouse."""
    assert server.process is not None
    webserver = psutil.Process(server.process.pid)
    code_servers = [
        child
        for child in webserver.children()
        if "grpc" in " ".join(child.cmdline())  # `python -m dagster api grpc ...`
    ]
    return [webserver, *code_servers]


def opened_warehouse(processes: list[psutil.Process], warehouse: Path) -> list[str]:
    """Which of ``processes`` have the warehouse (or its WAL) open right now."""
    found = []
    for process in processes:
        try:
            files = process.open_files()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found += [f"{process.pid}: {f.path}" for f in files if f.path.startswith(str(warehouse))]
    return found


def locked_message(warehouse: Path) -> re.Pattern[str]:
    return re.compile(
        rf"the warehouse {re.escape(str(warehouse.resolve()))} is locked by another process "
        r"\(PID (?P<pid>\d+)\); retry when it has finished"
    )


class Readers:
    """The three concurrent readers, each a bounded loop in a thread until ``stop``."""

    def __init__(self, server: DagsterWebserver, warehouse: Path, out: Path) -> None:
        self.server = server
        self.warehouse = warehouse
        self.out = out
        self.seen = Observations()
        self.runs = self.seen.runs
        self.stop_event = threading.Event()
        processes = server_processes(server)
        assert len(processes) == 2, processes  # the webserver and its one code server
        self.server_pids = {p.pid for p in processes}
        self.threads = [
            threading.Thread(target=self._guard, args=(f,), daemon=True)
            for f in (self.poll_graphql, self.poll_connect, self.poll_cli)
        ]

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=60)
            if thread.is_alive():
                self.seen.problem(f"reader thread {thread.name} did not stop")

    def _guard(self, poll: Any) -> None:
        try:
            poll()
        except Exception as exc:  # a bug of the poller itself must fail the test, not vanish
            self.seen.problem(f"{poll.__name__} crashed: {exc!r}")

    def _lock_holder(self, pid: int) -> None:
        self.seen.lock_holders.add(pid)
        if pid in self.server_pids:
            self.seen.problem(f"the webserver or its code server (PID {pid}) holds the lock")

    def poll_graphql(self) -> None:
        """Run status and latest materializations, as the UI's run and asset pages ask."""
        processes = server_processes(self.server)
        for index in range(MAX_POLLS):
            if self.stop_event.is_set():
                return
            try:
                if index % 2:
                    ids = [run.run_id for run in list(self.runs)]
                    answer = self.server.graphql(_RUNS, {"runIds": ids})["runsOrError"]
                    if answer["__typename"] != "Runs":
                        self.seen.problem(f"runsOrError answered {answer}")
                else:
                    nodes = self.server.graphql(_LATEST_MATERIALIZATIONS)["assetNodes"]
                    if not nodes:
                        self.seen.problem("assetNodes answered no asset")
                self.seen.graphql_answers += 1
            except Exception as exc:  # HTTP 5xx, GraphQL errors, time-outs: all are failures
                self.seen.problem(f"GraphQL query failed while runs write: {exc!r}")
            for holder in opened_warehouse(processes, self.warehouse):
                self.seen.problem(f"the webserver or its code server opened {holder}")
            self.stop_event.wait(GRAPHQL_PAUSE_SECONDS)

    def poll_connect(self) -> None:
        """Short read-only connections (a notebook, a dashboard)."""
        pattern = locked_message(self.warehouse)
        for _ in range(MAX_POLLS):
            if self.stop_event.is_set():
                return
            if self.warehouse.exists():
                try:
                    con = connect(self.warehouse, read_only=True)
                except WarehouseLockedError as exc:
                    self.seen.connect_locked += 1
                    match = pattern.fullmatch(str(exc))
                    if match is None:
                        self.seen.problem(f"unexpected lock message: {exc}")
                    else:
                        self._lock_holder(int(match["pid"]))
                except duckdb.Error as exc:
                    self.seen.problem(f"read-only connect failed: {exc!r}")
                else:
                    try:
                        con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
                        self.seen.connect_reads += 1
                    finally:
                        con.close()
            self.stop_event.wait(CONNECT_PAUSE_SECONDS)

    def poll_cli(self) -> None:
        """``edge-pipeline report``: a read, or exit 3 with the one-line retry message."""
        pattern = locked_message(self.warehouse)
        attempts = 0
        for _ in range(MAX_POLLS):
            if self.stop_event.is_set() or attempts == CLI_READER_MAX_ATTEMPTS:
                return
            if not self.warehouse.exists():  # the first ingest has not started writing yet
                self.stop_event.wait(0.1)
                continue
            attempts += 1
            out = self.out / f"report{attempts}"
            done = run_cli("report", "--warehouse", str(self.warehouse), "--out", str(out))
            stderr = [line for line in done.stderr.splitlines() if " INFO " not in line]
            if done.returncode == 0:
                self.seen.cli_reads += 1
                if not (out / "edge-report.html").is_file():
                    self.seen.problem(f"report exit 0 without its HTML: {done.stdout}")
            elif done.returncode == EXIT_LOCKED:
                self.seen.cli_locked += 1
                match = (
                    pattern.fullmatch(stderr[0].removeprefix("edge-pipeline: "))
                    if len(stderr) == 1
                    else None
                )
                if match is None:
                    self.seen.problem(f"report exit 3 without the one-line message: {stderr}")
                else:
                    self._lock_holder(int(match["pid"]))
            else:
                self.seen.problem(f"report exit {done.returncode}: {done.stderr[-2000:]}")
            self.stop_event.wait(CLI_READER_PAUSE_SECONDS)


def load_order(warehouse: Path, files: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """``files`` in the order the warehouse's ``submission_file`` loaded them."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = [
            key
            for (key,) in con.execute(
                "SELECT file_identifier FROM submission_file ORDER BY load_id"
            ).fetchall()
        ]
    finally:
        con.close()
    assert sorted(loaded) == sorted(key for _, key in files), loaded  # each file once
    by_key = {key: path for path, key in files}
    return [(by_key[key], key) for key in loaded]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[DagsterWebserver, DemoPaths, list, Checksum]]:
    """The staged root, the webserver over it (started while the undisturbed reference of the
    files in name order is computed) and that reference; the webserver is always stopped."""
    paths, files = stage_issuer(tmp_path / "root")
    server = DagsterWebserver(
        workspace=REPO_ROOT / "workspace.yaml",
        data=paths.data,
        log_path=tmp_path / "dagster-webserver.log",
    )
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # exits only once start() returned
            starting = pool.submit(server.start, 90)
            reference = undisturbed_checksum(paths, files, tmp_path / "alone")
            starting.result()
        server.wait_for_code_locations(timeout=90)
        yield server, paths, files, reference
    finally:
        server.stop()


def test_webserver_and_cli_readers_while_runs_write(served, tmp_path: Path):
    from edge_pipeline.defs.inbound.jobs import ingest_job_name
    from edge_pipeline.defs.inbound.partitions import (
        file_partition_requests,
    )
    from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG, InboxResource

    server, paths, files, reference = served
    inbox = InboxResource(path=str(paths.inbox))
    kinds = {key: inbox.submission(path).kind for path, key in files}
    warehouse = paths.warehouse
    assert not warehouse.exists()
    deadline = time.monotonic() + SCENARIO_TIMEOUT_SECONDS
    for _, key in files:  # what the inbox sensor does when a file lands
        for request in file_partition_requests(kinds[key], [key]):
            added = server.graphql(
                _ADD_PARTITION,
                {"repository": repository(), "name": request.partitions_def_name, "key": key},
            )["addDynamicPartition"]
            assert added["__typename"] == "AddDynamicPartitionSuccess", added

    # the four files land together and the reference tables are refreshed: five runs at once,
    # which the `duckdb_writer` pool serializes; then the four Phase 1 runs at once
    stages = [
        [
            *(
                (ingest_job_name(kinds[key]), key, {INBOX_FILE_TAG: path.name})
                for path, key in files
            ),
            ("refresh_reference_tables", None, {}),
        ],
        [("phase1_shadow", key, {}) for _, key in files],
    ]
    with Readers(server, warehouse, tmp_path / "reports") as readers:
        for requests in stages:
            runs = launch(server, requests)
            readers.runs.extend(runs)
            wait_for_runs(server, runs, deadline)
    seen = readers.seen
    runs = readers.runs

    problems = list(dict.fromkeys(seen.problems))  # each distinct problem once, in order
    assert not problems, "\n".join(problems[:20]) + "\n" + seen.summary()
    assert [run.status for run in runs] == ["SUCCESS"] * sum(map(len, stages))
    # the readers did overlap the writers: the lock was met, and reads got through
    assert seen.connect_locked > 0 and seen.connect_reads > 0, seen.summary()
    assert seen.cli_reads + seen.cli_locked > 0, seen.summary()
    assert seen.graphql_answers >= 10, seen.summary()  # the UI was asked throughout

    # the same work undisturbed, the files loaded in the order the pool let the runs in (the
    # launch order, unless a run started late)
    order = load_order(warehouse, files)
    if order != files:
        reference = undisturbed_checksum(paths, order, tmp_path / "alone_in_load_order")
    assert differences(warehouse_checksum(warehouse), reference) == {}, seen.summary()

    # the webserver is healthy and shows what the runs recorded
    with urllib.request.urlopen(f"{server.url}/server_info", timeout=10) as response:
        assert response.status == 200
    latest = {
        "/".join(node["assetKey"]["path"]): node["assetMaterializations"]
        for node in server.graphql(_LATEST_MATERIALIZATIONS)["assetNodes"]
    }
    ours = {run.run_id for run in runs}
    for asset in ("submission_file", "reference_tables", "shadow_phase1"):
        assert latest[asset] and latest[asset][0]["runId"] in ours, (asset, latest[asset])

    # idle webserver: a CLI writer gets the lock at once; identical re-deliveries change nothing
    assert not opened_warehouse(server_processes(server), warehouse)
    done = run_cli("ingest", str(paths.inbox), "--warehouse", str(warehouse))
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    statuses = [line.split()[0] for line in done.stdout.splitlines()]
    assert statuses == ["unchanged"] * len(files), done.stdout
    assert differences(warehouse_checksum(warehouse), reference) == {}
    assert server.process is not None and server.process.poll() is None, server.log_tail()
