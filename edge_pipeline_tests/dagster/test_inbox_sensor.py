"""The inbox sensor: complete files become partitions and runs, exactly once per file version."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from edge_pipeline.definitions import defs
from edge_pipeline.defs.automation.inbox import inbox_sensor
from edge_pipeline.defs.inbound.jobs import ingest_job_name, record_refused_inbound_file
from edge_pipeline.defs.inbound.partitions import (
    INBOUND_FILES_PARTITIONS_NAME,
    file_partitions_def,
    register_file_partition,
)
from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG, REFUSAL_TAG, InboxResource
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.readers.header import read_header
from edge_pipeline.edge.synth.generate import generate_issuer


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("synthetic")
    manifest = generate_issuer(out, enrollees=20, seed=11)
    return [out / e.path for e in manifest.files if e.role == "submission"]


@pytest.fixture
def inbox(tmp_path: Path, generated: list[Path]) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for path in generated:
        age(shutil.copy2(path, folder / path.name))
    return folder


@pytest.fixture
def instance() -> dg.DagsterInstance:
    with dg.instance_for_test() as instance:
        yield instance


def age(path: Path | str, seconds: float = 60) -> None:
    """Pretend the file finished landing ``seconds`` ago."""
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def tick(instance: dg.DagsterInstance, folder: Path, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"inbox": InboxResource(path=str(folder), settle_seconds=5)},
    )
    return inbox_sensor(context)


def added_keys(result: dg.SensorResult) -> list[str]:
    """The keys the tick registers in ``inbound_files`` (each also in its type's definition)."""
    return [
        k
        for r in result.dynamic_partitions_requests or []
        if r.partitions_def_name == INBOUND_FILES_PARTITIONS_NAME
        for k in r.partition_keys
    ]


def apply(instance: dg.DagsterInstance, result: dg.SensorResult) -> None:
    """Add the tick's partitions to ``instance``, as the daemon does."""
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_complete_files_become_partitions_and_runs(
    instance: dg.DagsterInstance, inbox: Path
) -> None:
    expected = {read_header(p).file_identifier: p.name for p in inbox.glob("*.xml")}
    result = tick(instance, inbox)

    assert sorted(added_keys(result)) == sorted(expected)
    runs = {r.partition_key: r for r in result.run_requests}
    assert set(runs) == set(expected)
    by_definition = {
        r.partitions_def_name: list(r.partition_keys) for r in result.dynamic_partitions_requests
    }
    for key, request in runs.items():
        path = inbox / expected[key]
        kind = read_header(path).layout.name.lower()
        # each file is a partition of its own type only (and of inbound_files, for Phase 1)
        assert by_definition[file_partitions_def(kind).name] == [key]
        assert request.job_name == ingest_job_name(kind)
        stat = path.stat()
        assert request.run_key == f"{path.name}:{stat.st_mtime_ns}:{stat.st_size}"
        assert request.tags[INBOX_FILE_TAG] == path.name
    assert json.loads(result.cursor)["requested"].keys() == set(expected.values())


def test_a_second_tick_without_changes_yields_nothing(
    instance: dg.DagsterInstance, inbox: Path
) -> None:
    first = tick(instance, inbox)
    apply(instance, first)
    second = tick(instance, inbox, first.cursor)
    assert not second.run_requests
    assert not second.dynamic_partitions_requests
    assert second.cursor == first.cursor


def test_a_file_still_being_written_waits(instance: dg.DagsterInstance, inbox: Path) -> None:
    landing = next(iter(sorted(inbox.glob("*.xml"))))
    os.utime(landing)  # modified just now: still being copied
    first = tick(instance, inbox)
    assert landing.name not in {r.tags[INBOX_FILE_TAG] for r in first.run_requests}
    assert len(first.run_requests) == 3

    with landing.open("ab") as out:  # it grew since the last tick
        out.write(b"\n")
    age(landing)
    second = tick(instance, inbox, first.cursor)
    assert not second.run_requests

    third = tick(instance, inbox, second.cursor)  # same size, old enough: complete
    assert [r.tags[INBOX_FILE_TAG] for r in third.run_requests] == [landing.name]
    assert not added_keys(third) or added_keys(third) == [third.run_requests[0].partition_key]


def test_a_replaced_file_runs_again_with_a_new_run_key(
    instance: dg.DagsterInstance, inbox: Path
) -> None:
    first = tick(instance, inbox)
    apply(instance, first)
    replaced = next(iter(sorted(inbox.glob("*.xml"))))
    replaced.write_bytes(replaced.read_bytes() + b"\n")
    age(replaced, 30)
    second = tick(instance, inbox, first.cursor)
    assert [r.tags[INBOX_FILE_TAG] for r in second.run_requests] == [replaced.name]
    assert second.run_requests[0].run_key not in {r.run_key for r in first.run_requests}
    assert not second.dynamic_partitions_requests  # the partition already exists


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00 not xml at all", "not a file of any known family"),
        (b"<?xml version='1.0'?><notAnEdgeFile/>", "header unreadable"),
    ],
)
def test_a_file_that_is_not_a_submission_gets_no_partition_but_a_refusal_run(
    instance: dg.DagsterInstance, tmp_path: Path, content: bytes, reason: str
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    bad = folder / "garbage.xml"
    bad.write_bytes(content)
    age(bad)
    result = tick(instance, folder)
    assert not result.dynamic_partitions_requests
    (request,) = result.run_requests
    assert request.job_name == record_refused_inbound_file.name
    assert request.partition_key is None
    assert request.tags[INBOX_FILE_TAG] == "garbage.xml"
    assert reason in request.tags[REFUSAL_TAG]
    # refused once per file version: the next tick asks nothing
    assert not tick(instance, folder, result.cursor).run_requests


def test_a_fresh_cursor_does_not_request_a_file_already_recorded_as_refused(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    """The first `make dev` after `make demo` (a fresh cursor): a refused file whose refusal
    ``refused_inbound_files`` already shows from the same name, mtime and size is not
    requested again; a new version of it is."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    stray = folder / "plan_directory_export.xml"
    stray.write_bytes(b"<?xml version='1.0'?><planDirectoryExport/>")
    age(stray)
    (request,) = tick(instance, folder).run_requests
    recorded = defs.resolve_job_def(request.job_name).execute_in_process(
        instance=instance,
        tags=request.tags,
        resources={
            "warehouse": WarehouseResource(database=str(tmp_path / "warehouse.duckdb")),
            "inbox": InboxResource(path=str(folder)),
        },
    )
    assert recorded.success

    again = tick(instance, folder)  # a fresh cursor
    assert not again.run_requests
    assert json.loads(again.cursor)["requested"] == {
        stray.name: f"{stray.lstat().st_mtime_ns}:{stray.lstat().st_size}"
    }

    stray.write_bytes(stray.read_bytes() + b"\n")  # another version: refused anew
    age(stray, 30)
    (anew,) = tick(instance, folder).run_requests
    assert anew.job_name == record_refused_inbound_file.name
    assert anew.run_key != request.run_key


def test_a_file_identifier_dagster_refuses_gets_no_partition(
    instance: dg.DagsterInstance, tmp_path: Path, generated: list[Path]
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    source = generated[0]
    identifier = read_header(source).file_identifier
    bad = folder / source.name
    bad.write_bytes(source.read_bytes().replace(identifier.encode(), b"A...B", 1))
    age(bad)
    result = tick(instance, folder)
    assert not result.dynamic_partitions_requests
    (request,) = result.run_requests
    assert request.job_name == record_refused_inbound_file.name
    assert "partition key" in request.tags[REFUSAL_TAG]


def test_register_file_partition_puts_a_file_in_its_type_and_inbound_files() -> None:
    with dg.instance_for_test() as instance:
        register_file_partition(instance, "eses", "E1")
        register_file_partition(instance, "eses", "E1")  # idempotent
        assert instance.get_dynamic_partitions("eses_files") == ["E1"]
        assert instance.get_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME) == ["E1"]
        assert instance.get_dynamic_partitions("esmcs_files") == []
        with pytest.raises(ValueError):
            register_file_partition(instance, "eses", "bad\tkey")
        with pytest.raises(ValueError):
            register_file_partition(instance, "nokind", "E2")


def test_the_sensor_never_opens_duckdb(
    instance: dg.DagsterInstance, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the sensor must not connect to DuckDB")

    monkeypatch.setattr(duckdb, "connect", refuse)
    assert len(tick(instance, inbox).run_requests) == 4


def test_an_empty_or_missing_inbox_skips(instance: dg.DagsterInstance, tmp_path: Path) -> None:
    result = tick(instance, tmp_path / "nowhere")
    assert not result.run_requests
    assert result.skip_reason is not None
