"""How the demo runs a Dagster job, and how it reads a run's outcome back.

The demo's runs are runs of the ``edge_pipeline`` code location of ``workspace.yaml``: each is
created as ``dagster job launch -w workspace.yaml`` or the UI's launchpad creates it (the code
location's origin, the job's snapshot and execution plan, the job's code origin), then
executed in the demo's own process exactly as the run worker a launcher would start executes
it (:func:`dagster._core.execution.api.execute_run` of the job reconstructed from the run's
code origin).  The UI therefore shows them on the timeline under the code location and can
re-execute them; their run config holds the demo's folders, so a re-execution reads and
writes what the demo did.  Executing in this process, one run after the other, spares a new
process (which loads the definitions again) per run: the demo takes about 40% of the time
it took through the instance's run launcher.

Every run carries ``LAUNCHED_BY_TAG`` = ``demo`` (``defs/automation/runs.py``): the run-status
sensors leave the demo's runs alone (the demo drives its own chain), and a later demo frees the
pool slots of an interrupted one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from edge_pipeline.defs.automation.runs import LAUNCHED_BY_TAG, PARTITION_TAG
from edge_pipeline.demo.paths import DemoPaths

if TYPE_CHECKING:
    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.remote_origin import RemoteRepositoryOrigin

#: The code location of ``workspace.yaml`` the demo's runs belong to.
CODE_LOCATION = "edge_pipeline"
#: The summary reports failures; the full event logs are in the UI (`make dev`).
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
#: A logger that sets itself to INFO when imported (great_expectations, imported lazily by the
#: reconciliation checks): with the CLI's root handler, its notes would print amid the summary.
_CHATTY_LOGGERS = ("great_expectations.data_context.types.base",)


class RunResult(Protocol):
    """What the demo reads of a finished run."""

    @property
    def run_id(self) -> str: ...

    @property
    def success(self) -> bool: ...

    @property
    def all_events(self) -> Sequence[dg.DagsterEvent]: ...

    def get_asset_materialization_events(self) -> Sequence[dg.DagsterEvent]: ...


@dataclass(frozen=True)
class FinishedRun:
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
    from edge_pipeline.defs.phase2 import TRANSFER_SETTINGS_KEY
    from edge_pipeline.defs.phase2.resources import TransferSettingsResource
    from edge_pipeline.defs.reference import ISSUER_REFERENCE_KEY
    from edge_pipeline.defs.reference.resources import issuer_reference_resource
    from edge_pipeline.defs.report_files import (
        OUTBOX_KEY,
        SHADOW_REPORTS_KEY,
        OutboxResource,
        ShadowReportsResource,
    )
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


class JobRunner(Protocol):
    """Runs jobs of the definitions to their end, tagged as the demo's."""

    instance: dg.DagsterInstance

    def run(
        self, job_name: str, partition_key: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RunResult: ...


@dataclass
class CodeLocationRunner:
    """Creates runs of the code location and executes each in this process (see the module
    docstring), one after the other in the order asked (the ``duckdb_writer`` pool lets one run
    write at a time anyway)."""

    instance: dg.DagsterInstance
    repository: ReconstructableRepository
    repository_origin: RemoteRepositoryOrigin
    run_config: dict[str, Any]

    def run(
        self, job_name: str, partition_key: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RunResult:
        """Create the run, execute it to its end, read its outcome back from the instance."""
        from dagster._core.events import EngineEventData
        from dagster._core.execution.api import execute_run
        from dagster._utils.hosted_user_process import recon_job_from_origin

        run = self._create(job_name, partition_key, tags or {})
        # what the run worker does with a launched run: the job from the run's code origin
        job = recon_job_from_origin(run.job_code_origin)
        self.instance.report_engine_event(
            f"Executing in the process of `make demo` (pid: {os.getpid()}).",
            run,
            EngineEventData.in_process(os.getpid()),
        )
        try:
            execute_run(job, run, self.instance)
        except BaseException:  # Ctrl-C included: the run must not stay "started" in the UI
            current = self.instance.get_run_by_id(run.run_id)
            if current is not None and not current.is_finished:
                self.instance.report_run_canceled(current, "the demo was interrupted")
            raise
        finished = self.instance.get_run_by_id(run.run_id)
        if finished is None:
            raise LookupError(f"run {run.run_id} vanished from the instance")
        events = [
            entry.dagster_event
            for entry in self.instance.all_logs(run.run_id)
            if entry.dagster_event is not None
        ]
        if any(_interrupted(event) for event in events):
            # Dagster took the Ctrl-C and failed the run; the demo stops there too
            raise KeyboardInterrupt
        return FinishedRun(run.run_id, finished.is_success, events)

    def _create(
        self, job_name: str, partition_key: str | None, tags: Mapping[str, str]
    ) -> dg.DagsterRun:
        """Create the run as ``dagster job launch`` does: the job's snapshot and execution
        plan, the code location's remote origin and the job's code origin."""
        job = self.repository.get_reconstructable_job(job_name)
        job_def = job.get_definition()
        return self.instance.create_run_for_job(
            job_def,
            run_config=self.run_config,
            tags={
                **job_def.tags,
                **tags,
                LAUNCHED_BY_TAG: "demo",
                **({PARTITION_TAG: partition_key} if partition_key else {}),
            },
            remote_job_origin=self.repository_origin.get_job_origin(job_name),
            job_code_origin=job.get_python_origin(),
        )


@contextmanager
def code_location_runner(
    instance: dg.DagsterInstance, paths: DemoPaths
) -> Iterator[CodeLocationRunner]:
    """A runner for the ``edge_pipeline`` code location of ``workspace.yaml``, with the demo's
    folders as run config.

    The location's origin is read from ``workspace.yaml`` (no code server is started: the runs
    execute in this process) and the definitions are found in its module as the code server
    finds them.  ``$EDGE_REPORTS`` is the demo's reports folder while the context lasts (the
    analyst report is written where that variable says), restored after.
    """
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.remote_origin import RemoteRepositoryOrigin
    from dagster._core.workspace.autodiscovery import loadable_targets_from_python_module
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    from edge_pipeline.base.folders import REPO_ROOT

    (origin,) = [
        found
        for found in location_origins_from_yaml_paths([str(REPO_ROOT / "workspace.yaml")])
        if found.location_name == CODE_LOCATION
    ]
    target = origin.loadable_target_origin  # type: ignore[attr-defined]  # a python_module
    working_directory = target.working_directory or os.getcwd()  # as the code server takes it
    (loadable,) = loadable_targets_from_python_module(target.module_name, working_directory)
    repository = ReconstructableRepository.for_module(
        target.module_name, loadable.attribute, working_directory
    )
    repository_origin = RemoteRepositoryOrigin(origin, repository.get_definition().name)
    for name in _CHATTY_LOGGERS:  # a filter, since its import resets the level; added once
        logging.getLogger(name).addFilter(_warnings_only)
    with _environment(EDGE_REPORTS=str(paths.reports)):
        yield CodeLocationRunner(instance, repository, repository_origin, demo_run_config(paths))


def _interrupted(event: dg.DagsterEvent) -> bool:
    """Whether the event is a run's failure by an interrupt (Ctrl-C, SIGTERM)."""
    from dagster._core.events import RunFailureReason

    data = event.event_specific_data
    return event.is_run_failure and (
        getattr(data, "failure_reason", None) == RunFailureReason.UNEXPECTED_TERMINATION
    )


def _warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


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
