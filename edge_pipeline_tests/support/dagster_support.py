"""Test support for the tests that run the project's Dagster jobs and sensors in process.

The Phase 1 and Phase 2 domain tests (and the metadata tests) drive the same definitions the
same way: the jobs' resources over one temporary root, a job run on a test instance, the
events read back as materialization metadata and check evaluations, the warehouse queried
read-only, and the outbox sensor ticked with files aged past its settle time.  One copy here,
so the tests of each domain differ only in what they assert.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from edge_pipeline.definitions import defs
from edge_pipeline.defs.automation.outbox import outbox_sensor
from edge_pipeline.defs.inbound.jobs import ingest_job_name
from edge_pipeline.defs.inbound.partitions import register_file_partition
from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG, InboxResource
from edge_pipeline.defs.reference.partitions import benefit_years, register_benefit_year
from edge_pipeline.defs.reference.resources import IssuerReferenceResource
from edge_pipeline.defs.report_files import OutboxResource, ShadowReportsResource
from edge_pipeline.defs.resources import WarehouseResource


def resources(
    root: Path, issuer_folder: Path, warehouse: Path, outbox: Path, shadow_reports: Path
) -> dict[str, object]:
    """The jobs' resources: inbox ``root/inbox``, the plan registry and code lists the
    generator wrote in ``issuer_folder``, and an outbox read at once (no settle time)."""
    return {
        "warehouse": WarehouseResource(database=str(warehouse)),
        "inbox": InboxResource(path=str(root / "inbox")),
        "issuer_reference": IssuerReferenceResource(
            plan_registry=str(issuer_folder / "plan_registry.csv"), code_lists=str(issuer_folder)
        ),
        "outbox": OutboxResource(path=str(outbox), settle_seconds=0),
        "shadow_reports": ShadowReportsResource(path=str(shadow_reports)),
    }


def run(
    job: str, instance: dg.DagsterInstance, res: dict, key: str | None = None
) -> dg.ExecuteInProcessResult:
    """Run ``job`` (partition ``key``) on ``instance``; a failure is returned, not raised.

    A benefit-year job's year is registered first, as the sensor that requests it would
    (``benefit_years`` is dynamic)."""
    job_def = defs.resolve_job_def(job)
    if key is not None and job_def.partitions_def == benefit_years:
        register_benefit_year(instance, key)
    return job_def.execute_in_process(
        instance=instance, partition_key=key, resources=res, raise_on_error=False
    )


def ingest(
    instance: dg.DagsterInstance,
    res: dict,
    key: str,
    tags: dict[str, str] | None = None,
    *,
    kind: str | None = None,
) -> dg.ExecuteInProcessResult:
    """Register partition ``key`` of its file's type (``register_file_partition``, as the
    sensor does) and run that type's ingest job; ``kind`` when the inbox has no such file.
    A failure is returned, not raised."""
    if kind is None:
        inbox: InboxResource = res["inbox"]
        path = inbox.find_file(key, (tags or {}).get(INBOX_FILE_TAG))
        kind = inbox.submission(path).kind
    register_file_partition(instance, kind, key)
    return defs.resolve_job_def(ingest_job_name(kind)).execute_in_process(
        instance=instance, partition_key=key, resources=res, tags=tags, raise_on_error=False
    )


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    """Per asset the run materialized, its metadata as plain values."""
    return {
        e.asset_key.to_user_string(): {
            k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()
        }
        for e in result.get_asset_materialization_events()
    }


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    """Per check name, the run's evaluation of it."""
    return {
        e.asset_check_evaluation_data.asset_check_key.name: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """``sql``'s rows from the warehouse, opened read-only and closed again (a job may run
    next and needs the write lock)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def age(path: Path, seconds: float = 60) -> None:
    """Date ``path`` ``seconds`` back, so a sensor takes it as completely written."""
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def tick(
    instance: dg.DagsterInstance,
    outbox: Path,
    cursor: str | None = None,
    *,
    settle_seconds: float = 0,
) -> dg.SensorResult:
    """One evaluation of the outbox sensor over ``outbox``, from ``cursor``."""
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"outbox": OutboxResource(path=str(outbox), settle_seconds=settle_seconds)},
    )
    return outbox_sensor(context)


def forbid_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make opening DuckDB fail the test: a sensor decides from the files alone, so it never
    waits for the warehouse lock a running job holds."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the sensor must not connect to DuckDB")

    monkeypatch.setattr(duckdb, "connect", refuse)
