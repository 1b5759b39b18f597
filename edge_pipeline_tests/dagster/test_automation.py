"""Automation: the sensors and schedules that chain file arrival to reconciliation.

Real runs on a real (temporary) Dagster instance: a small synthetic issuer is ingested, its
reference tables loaded and every file verified through the project's jobs, and the run-status
sensors are evaluated on those very runs (``dg.build_run_status_sensor_context``).  The
schedules are evaluated with ``dg.build_schedule_context``; the inbox sensor with
``dg.build_sensor_context``.  Nothing touches ``data/``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import StepMaterializationData
from dagster_support import ingest as ingest_file

from edge_pipeline.definitions import defs
from edge_pipeline.defs.automation.inbox import InboxCursor, inbox_sensor
from edge_pipeline.defs.automation.phase1 import PHASE1_AFTER_INGEST, phase1_after_ingest
from edge_pipeline.defs.automation.phase2 import PHASE2_AFTER_PHASE1, phase2_after_phase1
from edge_pipeline.defs.automation.runs import AUTOMATION_TAG, LAUNCHED_BY_TAG, TRIGGERED_BY_TAG
from edge_pipeline.defs.automation.schedules import (
    NIGHTLY_CRON,
    nightly_phase1_reconciliation,
    nightly_reconciliation,
)
from edge_pipeline.defs.inbound.partitions import INBOUND_FILES_PARTITIONS_NAME
from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG, InboxResource
from edge_pipeline.defs.phase1.shadow import BENEFIT_YEARS_KEY
from edge_pipeline.defs.reference.partitions import (
    BENEFIT_YEARS_PARTITIONS_NAME,
    register_benefit_year,
)
from edge_pipeline.defs.reference.resources import IssuerReferenceResource
from edge_pipeline.defs.report_files import OutboxResource, ShadowReportsResource
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.demo.runs import LAUNCHED_BY_TAG as DEMO_LAUNCHED_BY_TAG
from edge_pipeline.edge.synth import generate_issuer

YEAR = "2025"


@dataclass
class Chain:
    """A small issuer after ingest, reference tables and ``phase1_shadow`` of every file."""

    instance: dg.DagsterInstance
    inbox: Path
    resources: dict[str, object]
    keys: dict[str, str]  # fileIdentifier -> inbox file name
    ingest: dict[str, dg.ExecuteInProcessResult]
    shadow: dict[str, dg.ExecuteInProcessResult]


def run(chain_or_instance, job: str, key: str | None, res: dict, tags: dict | None = None):
    instance = getattr(chain_or_instance, "instance", chain_or_instance)
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        partition_key=key,
        resources=res,
        tags=tags or {},
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    root = tmp_path_factory.mktemp("automation")
    synthetic = root / "synthetic"
    manifest = generate_issuer(synthetic, enrollees=25, seed=9)
    inbox = root / "inbox"
    inbox.mkdir()
    keys = {}
    for entry in manifest.files:
        if entry.role == "submission":
            target = inbox / Path(entry.path).name
            shutil.copy2(synthetic / entry.path, target)
            stamp = time.time() - 60  # landed a minute ago: settled for the sensor
            os.utime(target, (stamp, stamp))
            keys[entry.file_identifier] = target.name
    res = {
        "warehouse": WarehouseResource(database=str(root / "warehouse.duckdb")),
        "inbox": InboxResource(path=str(inbox)),
        "issuer_reference": IssuerReferenceResource(
            plan_registry=str(synthetic / "plan_registry.csv"), code_lists=str(synthetic)
        ),
        "outbox": OutboxResource(path=str(root / "outbox"), settle_seconds=0),
        "shadow_reports": ShadowReportsResource(path=str(root / "shadow_reports")),
    }
    with dg.instance_for_test() as instance:
        ingest = {
            key: ingest_file(instance, res, key, {INBOX_FILE_TAG: name})
            for key, name in keys.items()
        }
        assert all(r.success for r in ingest.values())
        assert run(instance, "refresh_reference_tables", None, res).success
        shadow = {key: run(instance, "phase1_shadow", key, res) for key in keys}
        assert all(r.success for r in shadow.values())
        yield Chain(instance, inbox, res, keys, ingest, shadow)


def status_context(
    name: str, instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult
) -> dg.RunStatusSensorContext:
    event = result.get_run_success_event() if result.success else result.get_run_failure_event()
    return dg.build_run_status_sensor_context(
        sensor_name=name,
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )


def requests_of(returned: object) -> list[dg.RunRequest]:
    if isinstance(returned, dg.RunRequest):
        return [returned]
    if isinstance(returned, dg.SensorResult):
        return list(returned.run_requests or [])
    if returned is None or isinstance(returned, dg.SkipReason):
        return []
    return [r for r in returned if isinstance(r, dg.RunRequest)]


# --------------------------------------------------------------------------- definitions


def test_automation_is_defined_running_and_targets_the_right_jobs() -> None:
    dg.Definitions.validate_loadable(defs)
    phase1 = defs.resolve_sensor_def(PHASE1_AFTER_INGEST)
    assert isinstance(phase1, dg.RunStatusSensorDefinition)
    assert phase1.default_status == dg.DefaultSensorStatus.RUNNING
    assert phase1.job_name == "phase1_shadow"
    phase2 = defs.resolve_sensor_def(PHASE2_AFTER_PHASE1)
    assert isinstance(phase2, dg.RunStatusSensorDefinition)
    assert phase2.default_status == dg.DefaultSensorStatus.RUNNING
    assert phase2.job_name == "phase2_scoring"
    for name, job in (
        ("nightly_reconciliation", "phase2_reported"),
        ("nightly_phase1_reconciliation", "phase1_reconcile"),
    ):
        schedule = defs.resolve_schedule_def(name)
        assert schedule.cron_schedule == NIGHTLY_CRON == "0 2 * * *"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        assert schedule.job_name == job
    for name in ("inbox_sensor", "outbox_sensor"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    # the run-status sensors recognise the demo's runs by the demo's own tag
    assert LAUNCHED_BY_TAG == DEMO_LAUNCHED_BY_TAG


# --------------------------------------------------------------------------- ingest -> phase 1


def test_a_succeeded_ingest_run_requests_phase1_shadow_for_its_partition(chain: Chain) -> None:
    for key, result in chain.ingest.items():
        context = status_context(PHASE1_AFTER_INGEST, chain.instance, result)
        (request,) = requests_of(phase1_after_ingest(context))
        assert request.partition_key == key
        assert request.run_key == f"phase1_shadow:{result.run_id}"
        assert request.tags[AUTOMATION_TAG] == PHASE1_AFTER_INGEST
        assert request.tags[TRIGGERED_BY_TAG] == result.run_id


def test_a_failed_ingest_run_requests_nothing(chain: Chain) -> None:
    failed = ingest_file(chain.instance, chain.resources, "NOSUCHFILE01", kind="esmcs")
    assert not failed.success
    context = status_context(PHASE1_AFTER_INGEST, chain.instance, failed)
    assert not requests_of(phase1_after_ingest(context))


def test_a_demo_run_is_left_to_the_demo(chain: Chain) -> None:
    key, name = next(iter(chain.keys.items()))
    demo = ingest_file(
        chain.instance, chain.resources, key, {INBOX_FILE_TAG: name, LAUNCHED_BY_TAG: "demo"}
    )
    assert demo.success
    assert not requests_of(phase1_after_ingest(status_context("x", chain.instance, demo)))


# --------------------------------------------------------------------------- phase 1 -> phase 2


def test_shadow_phase1_records_the_benefit_years_it_affects(chain: Chain) -> None:
    for key, result in chain.shadow.items():
        (event,) = [
            e
            for e in result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey("shadow_phase1")
        ]
        assert event.materialization.metadata[BENEFIT_YEARS_KEY].value == [int(YEAR)], key


def test_a_succeeded_phase1_run_requests_phase2_scoring_for_its_benefit_year(
    chain: Chain,
) -> None:
    for result in chain.shadow.values():
        context = status_context(PHASE2_AFTER_PHASE1, chain.instance, result)
        (request,) = requests_of(phase2_after_phase1(context))
        assert request.partition_key == YEAR
        assert request.run_key == f"phase2_scoring:{YEAR}:{result.run_id}"
        assert request.tags[TRIGGERED_BY_TAG] == result.run_id


def test_a_benefit_year_becomes_a_partition_when_it_first_gets_data() -> None:
    with dg.instance_for_test() as instance:
        job = defs.resolve_job_def("phase1_shadow")
        shadow_run = instance.create_run_for_job(
            job, status=dg.DagsterRunStatus.SUCCESS, tags={"dagster/partition": "F1"}
        )
        instance.store_event(_materialization(shadow_run, [2025, 1999]))
        context = dg.build_run_status_sensor_context(
            sensor_name=PHASE2_AFTER_PHASE1,
            dagster_event=_success_event(shadow_run),
            dagster_instance=instance,
            dagster_run=shadow_run,
        )
        result = phase2_after_phase1(context)
        assert [r.partition_key for r in result.run_requests] == ["2025"]  # 1999: unsupported
        (added,) = result.dynamic_partitions_requests
        assert added.partitions_def_name == BENEFIT_YEARS_PARTITIONS_NAME
        assert list(added.partition_keys) == ["2025"]
        register_benefit_year(instance, 2025)  # as the daemon applies it
        assert not phase2_after_phase1(context).dynamic_partitions_requests
        with pytest.raises(ValueError):
            register_benefit_year(instance, 1999)


def _materialization(run: dg.DagsterRun, years: list[int]) -> dg.EventLogEntry:
    """A ``shadow_phase1`` materialization in ``run``'s own event log."""
    event = dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.ASSET_MATERIALIZATION.value,
        job_name=run.job_name,
        event_specific_data=StepMaterializationData(
            dg.AssetMaterialization(
                "shadow_phase1", partition="F1", metadata={"benefit_years": years}
            )
        ),
    )
    return dg.EventLogEntry(
        error_info=None,
        level="debug",
        user_message="",
        run_id=run.run_id,
        timestamp=time.time(),
        dagster_event=event,
    )


def test_a_failed_phase1_run_requests_nothing(chain: Chain) -> None:
    chain.instance.add_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME, ["NOSUCHFILE01"])
    failed = run(chain, "phase1_shadow", "NOSUCHFILE01", chain.resources)
    assert not failed.success
    context = status_context(PHASE2_AFTER_PHASE1, chain.instance, failed)
    assert not requests_of(phase2_after_phase1(context))


def test_a_year_with_a_scoring_run_waiting_is_not_requested_again() -> None:
    with dg.instance_for_test() as instance:
        # a phase1_shadow "run" of this instance whose verdict recorded 2025
        job = defs.resolve_job_def("phase1_shadow")
        shadow_run = instance.create_run_for_job(
            job, status=dg.DagsterRunStatus.SUCCESS, tags={"dagster/partition": "F1"}
        )
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                "shadow_phase1", partition="F1", metadata={BENEFIT_YEARS_KEY: [2025]}
            )
        )
        # the metadata is read from the run's own event log: a runless event is not the run's
        context = dg.build_run_status_sensor_context(
            sensor_name=PHASE2_AFTER_PHASE1,
            dagster_event=_success_event(shadow_run),
            dagster_instance=instance,
            dagster_run=shadow_run,
        )
        assert not requests_of(phase2_after_phase1(context))  # no metadata, no year registered
        for year in ("2024", "2025"):
            register_benefit_year(instance, year)
        requested = requests_of(phase2_after_phase1(context))
        assert {r.partition_key for r in requested} == {"2024", "2025"}  # no metadata: all

        instance.create_run_for_job(
            defs.resolve_job_def("phase2_scoring"),
            status=dg.DagsterRunStatus.NOT_STARTED,  # QUEUED needs a code location
            tags={"dagster/partition": "2025"},
        )
        requested = requests_of(phase2_after_phase1(context))
        assert {r.partition_key for r in requested} == {"2024"}


def _success_event(run: dg.DagsterRun) -> dg.DagsterEvent:
    return dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_SUCCESS.value,
        job_name=run.job_name,
        message="run succeeded",
    )


# --------------------------------------------------------------------------- nightly schedule


def test_the_nightly_schedules_request_every_reconciled_partition() -> None:
    with dg.instance_for_test() as instance:
        when = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
        assert isinstance(nightly_reconciliation(context), dg.SkipReason)
        assert isinstance(nightly_phase1_reconciliation(context), dg.SkipReason)

        instance.add_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME, ["F1", "F2", "F3"])
        for key in ("F1", "F3"):
            instance.report_runless_asset_event(
                dg.AssetMaterialization("phase1_reconciliation", partition=key)
            )
        register_benefit_year(instance, YEAR)
        instance.report_runless_asset_event(
            dg.AssetMaterialization("reported_ra_reports", partition=YEAR)
        )

        phase2 = requests_of(nightly_reconciliation(context))
        assert [r.partition_key for r in phase2] == [YEAR]
        assert phase2[0].run_key == f"nightly_reconciliation:{YEAR}:2025-06-02T0200"
        assert phase2[0].tags[AUTOMATION_TAG] == "nightly_reconciliation"
        phase1 = requests_of(nightly_phase1_reconciliation(context))
        assert [r.partition_key for r in phase1] == ["F1", "F3"]
        assert len({r.run_key for r in phase1}) == 2


# --------------------------------------------------------------------------- inbox sensor


def tick(chain: Chain, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=chain.instance,
        cursor=cursor,
        resources={"inbox": InboxResource(path=str(chain.inbox), settle_seconds=5)},
    )
    return inbox_sensor(context)


def test_a_fresh_inbox_cursor_does_not_request_files_already_ingested(chain: Chain) -> None:
    result = tick(chain)  # a fresh cursor: `make dev` after `make demo`
    assert not result.run_requests
    assert set(InboxCursor.parse(result.cursor).requested) == set(chain.keys.values())


def test_a_changed_file_is_requested_even_if_its_partition_was_ingested(
    chain: Chain, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(chain.inbox, inbox)  # copytree keeps mtimes
    changed = sorted(inbox.glob("*.xml"))[0]
    changed.write_bytes(changed.read_bytes() + b"\n")
    stamp = time.time() - 60
    os.utime(changed, (stamp, stamp))
    context = dg.build_sensor_context(
        instance=chain.instance,
        resources={"inbox": InboxResource(path=str(inbox), settle_seconds=5)},
    )
    result = inbox_sensor(context)
    assert [r.tags[INBOX_FILE_TAG] for r in result.run_requests] == [changed.name]


def test_the_skip_reads_the_instance_not_duckdb(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("sensors must not connect to DuckDB")

    monkeypatch.setattr(duckdb, "connect", refuse)
    assert not tick(chain).run_requests
    for result in chain.shadow.values():
        phase2_after_phase1(status_context(PHASE2_AFTER_PHASE1, chain.instance, result))
