"""How the demo runs a Dagster job, and how it reads a run's outcome back.

The demo's runs are runs of the ``edge_pipeline`` code location of ``workspace.yaml``, as if
launched from the UI's launchpad or with ``dagster job launch -w workspace.yaml``: the demo
loads the workspace (which starts the code server), creates each run from the code location's
remote job, launches it with the instance's run launcher (a subprocess of the code server per
run) and waits for it.  The UI therefore shows them on the timeline and can re-execute them;
their run config holds the demo's folders, so a re-execution reads and writes what the demo did.

Every run carries ``LAUNCHED_BY_TAG``: the run-status sensors leave the demo's runs alone (the
demo drives its own chain), and a later demo frees the pool slots of an interrupted one.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from edge_pipeline.demo.paths import DemoPaths

if TYPE_CHECKING:
    import dagster as dg
    from dagster._core.remote_representation.code_location import CodeLocation
    from dagster._core.workspace.context import WorkspaceRequestContext

#: Run tag marking runs the demo launched (lets a later demo clean up after an interrupted one;
#: the run-status sensors leave such runs alone: ``defs/automation.py``).
LAUNCHED_BY_TAG = "edge/launched_by"
#: The code location of ``workspace.yaml`` the demo's runs belong to.
CODE_LOCATION = "edge_pipeline"
#: Dagster's tag of a run's partition (what the launchpad sets for a partitioned job).
PARTITION_TAG = "dagster/partition"
#: Runs of one step the demo launches at once when their order does not matter (the
#: instance's ``max_concurrent_runs`` in ``dagster.yaml``); the ``duckdb_writer`` pool still lets
#: one of them write at a time.  Overlapping them hides each run's start-up (a fresh process).
MAX_CONCURRENT_RUNS = 4
#: The summary reports failures; the full event logs are in the UI (`make dev`).
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
_POLL_SECONDS = 0.05


class RunResult(Protocol):
    """What the demo reads of a finished run (``ExecuteInProcessResult`` has the same shape)."""

    @property
    def run_id(self) -> str: ...

    @property
    def success(self) -> bool: ...

    @property
    def all_events(self) -> Sequence[dg.DagsterEvent]: ...

    def get_asset_materialization_events(self) -> Sequence[dg.DagsterEvent]: ...


class JobRunner(Protocol):
    """Runs jobs of the definitions to their end, tagged as the demo's."""

    instance: dg.DagsterInstance

    def run(
        self, job_name: str, partition_key: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RunResult: ...

    def run_partitions(self, job_name: str, keys: Sequence[str]) -> list[RunResult]:
        """One run per partition, for partitions whose runs may run in any order."""
        ...


@dataclass(frozen=True)
class LaunchedRun:
    """A finished run of the code location, its events read back from the instance."""

    run_id: str
    success: bool
    all_events: list[dg.DagsterEvent]

    def get_asset_materialization_events(self) -> list[dg.DagsterEvent]:
        return [e for e in self.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]


def demo_resources(paths: DemoPaths) -> dict[str, Any]:
    """The resources every demo run binds: the demo's own folders, not the environment's."""
    from edge_pipeline.defs.inbound import INBOX_KEY
    from edge_pipeline.defs.inbound.resources import InboxResource
    from edge_pipeline.defs.phase1 import OUTBOX_KEY, SHADOW_REPORTS_KEY
    from edge_pipeline.defs.phase2 import TRANSFER_SETTINGS_KEY
    from edge_pipeline.defs.phase2.resources import TransferSettingsResource
    from edge_pipeline.defs.reference import ISSUER_REFERENCE_KEY
    from edge_pipeline.defs.reference.resources import issuer_reference_resource
    from edge_pipeline.defs.report_files import OutboxResource, ShadowReportsResource
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


def demo_run_config(paths: DemoPaths) -> dict[str, Any]:
    """:func:`demo_resources` as run config (every field spelled out), quiet console."""
    resources = {
        key: {"config": resource.model_dump()} for key, resource in demo_resources(paths).items()
    }
    return {**QUIET, "resources": resources}


@dataclass
class InProcessRunner:
    """Runs jobs in this process with ``resources`` bound: for an ephemeral instance, which
    no run launcher's subprocess can reach (tests)."""

    instance: dg.DagsterInstance
    resources: dict[str, Any]

    def run(
        self, job_name: str, partition_key: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RunResult:
        from edge_pipeline.definitions import defs

        return defs.resolve_job_def(job_name).execute_in_process(
            run_config=QUIET,
            instance=self.instance,
            partition_key=partition_key,
            tags={**(tags or {}), LAUNCHED_BY_TAG: "demo"},
            resources=self.resources,
            raise_on_error=False,
        )

    def run_partitions(self, job_name: str, keys: Sequence[str]) -> list[RunResult]:
        return [self.run(job_name, key) for key in keys]


@dataclass
class CodeLocationRunner:
    """Launches runs of the code location and waits for each (see the module docstring)."""

    instance: dg.DagsterInstance
    workspace: WorkspaceRequestContext
    location: CodeLocation
    run_config: dict[str, Any]

    def run(
        self, job_name: str, partition_key: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RunResult:
        return self._launch_and_wait([(job_name, partition_key, tags or {})], window=1)[0]

    def run_partitions(self, job_name: str, keys: Sequence[str]) -> list[RunResult]:
        requests = [(job_name, key, {}) for key in keys]
        return list(self._launch_and_wait(requests, window=MAX_CONCURRENT_RUNS))

    def _launch_and_wait(
        self, requests: list[tuple[str, str | None, Mapping[str, str]]], window: int
    ) -> list[LaunchedRun]:
        """Launch the requests' runs, at most ``window`` at a time, the next as soon as one
        is over; wait for all of them and read back their events, in the requests' order."""
        waiting = list(requests)
        run_ids: list[str] = []
        running: set[str] = set()
        finished: dict[str, dg.DagsterRun] = {}
        try:
            while waiting or running:
                while waiting and len(running) < window:
                    run_ids.append(self._create(*waiting.pop(0)))
                    self.instance.launch_run(run_ids[-1], self.workspace)
                    running.add(run_ids[-1])
                time.sleep(_POLL_SECONDS)
                for run_id in list(running):
                    run = self.instance.get_run_by_id(run_id)
                    if run is None:
                        raise LookupError(f"run {run_id} vanished from the instance")
                    if run.is_finished:
                        finished[run_id] = run
                        running.discard(run_id)
        except BaseException:  # Ctrl-C included: no run may outlive the demo
            for run_id in running:
                with contextlib.suppress(Exception):
                    self.instance.run_launcher.terminate(run_id)
            raise
        return [self._result(finished[run_id]) for run_id in run_ids]

    def _result(self, run: dg.DagsterRun) -> LaunchedRun:
        events = [
            entry.dagster_event
            for entry in self.instance.all_logs(run.run_id)
            if entry.dagster_event is not None
        ]
        return LaunchedRun(run.run_id, run.is_success, events)

    def _create(self, job_name: str, partition_key: str | None, tags: Mapping[str, str]) -> str:
        """Create the run as ``dagster job launch`` does: from the remote job, with its
        execution plan, snapshots and remote origin."""
        from dagster._core.definitions.selector import JobSubsetSelector

        (repository,) = self.location.get_repositories().values()
        selector = JobSubsetSelector(
            location_name=self.location.name,
            repository_name=repository.name,
            job_name=job_name,
            op_selection=None,
        )
        remote_job = self.location.get_job(selector)
        plan = self.location.get_execution_plan(
            remote_job,
            self.run_config,
            step_keys_to_execute=None,
            known_state=None,
            instance=self.instance,
        ).execution_plan_snapshot
        run_tags = {
            **remote_job.tags,
            **tags,
            LAUNCHED_BY_TAG: "demo",
            **({PARTITION_TAG: partition_key} if partition_key else {}),
        }
        run = self.instance.create_run(
            job_name=job_name,
            run_id=None,
            run_config=self.run_config,
            resolved_op_selection=remote_job.resolved_op_selection,
            step_keys_to_execute=plan.step_keys_to_execute,
            op_selection=None,
            status=None,
            root_run_id=None,
            parent_run_id=None,
            tags=run_tags,
            job_snapshot=remote_job.job_snapshot,
            execution_plan_snapshot=plan,
            parent_job_snapshot=remote_job.parent_job_snapshot,
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
            asset_selection=None,
            asset_check_selection=None,
            asset_graph=repository.asset_graph,
        )
        return run.run_id


@contextmanager
def code_location_runner(
    instance: dg.DagsterInstance, paths: DemoPaths
) -> Iterator[CodeLocationRunner]:
    """Load ``workspace.yaml`` (its code server lives as long as the context) and yield a
    runner for its code location, with the demo's folders as run config.

    The code server, and each run it starts, inherit this process's environment at start-up:
    ``$EDGE_REPORTS`` is set to the demo's reports folder for them (the analyst report is
    written where that variable says), and restored here at once.
    """
    import dagster as dg
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    from edge_pipeline.base.folders import REPO_ROOT

    target = WorkspaceFileTarget(paths=[str(REPO_ROOT / "workspace.yaml")])
    with _environment(EDGE_REPORTS=str(paths.reports)):
        context = WorkspaceProcessContext(
            instance, target, version=dg.__version__, code_server_log_level="WARNING"
        )
    with context:
        workspace = context.create_request_context()
        location = workspace.get_code_location(CODE_LOCATION)
        yield CodeLocationRunner(instance, workspace, location, demo_run_config(paths))


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def free_stale_pool_slots(instance: dg.DagsterInstance) -> int:
    """Free warehouse pool slots still held by runs that are over or were an interrupted demo.

    A run killed mid-step (Ctrl-C) keeps its slot; with a limit of one, every later ingest
    would wait for it forever.  ``dagster dev``'s run monitoring frees such slots for runs it
    launched; the demo has no daemon, so it cleans up after itself here.
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


def report_external(
    instance: dg.DagsterInstance,
    asset_key: str,
    partitions: Mapping[str, Mapping[str, Any]],
    description: str,
) -> None:
    """Record that files of an external asset (produced outside Dagster: the issuer's inbound
    files, EDGE's reports) landed, one materialization per partition with ``partitions[key]``
    as its metadata: the demo plays the systems that produce them."""
    import dagster as dg

    for partition, metadata in partitions.items():
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=asset_key,
                partition=partition,
                description=description,
                metadata=dict(metadata),
            )
        )


class RunRecord(Protocol):
    """What the summaries keep of a Dagster run: its checks and its failure."""

    checks_passed: int
    checks_failed: list[str]
    errors: list[str]


def materialization_metadata(result: RunResult) -> dict[str, dict[str, Any]]:
    """Plain metadata values of each asset the run materialized, by asset key."""
    return {
        e.asset_key.to_user_string(): {
            k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()
        }
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }


def record_run(outcome: RunRecord, result: RunResult) -> None:
    """Fold a run's checks and failure (if any) into an outcome."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.asset_check_evaluation_data
            if evaluation.passed:
                outcome.checks_passed += 1
            else:
                outcome.checks_failed.append(evaluation.asset_check_key.name)
    if not result.success:
        outcome.errors.append(run_failure(result))


def run_failure(result: RunResult) -> str:
    """The first failed step's error, unwrapped to the exception the asset raised (Dagster
    wraps it in a step-execution error that only says which op failed)."""
    failure = next((e for e in result.all_events if e.is_step_failure), None)
    data = failure.step_failure_data if failure is not None else None
    error = data.error if data else None
    if error is None:
        return "run failed"
    while error.cause is not None and error.cls_name == "DagsterExecutionStepExecutionError":
        error = error.cause
    return f"{error.cls_name}: {error.message.strip()}"
