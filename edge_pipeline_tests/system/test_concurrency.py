"""Concurrency: readers and writers of one warehouse file in separate processes.

DuckDB lets one process open a database file read-write, or any number of processes open it
read-only, never both.  What this verifies:

* a process that cannot get the file lock is refused cleanly: the CLI exits 3 with one line on
  stderr naming the warehouse and the process holding it and saying to retry (no traceback, no
  "internal error"), and nothing was read or written;
* readers polling the warehouse while ``validate`` and ``score`` run (read-only connections
  through ``connect`` and ``edge-pipeline report``) either read or get that refusal; the run is
  not disturbed (a command that found a reader holding the file exits 3 and succeeds when run
  again) and the warehouse ends identical to an undisturbed run (``warehouse_checksum``);
* the Dagster ``WarehouseResource`` waits for the lock: with the lock held for a second it
  retries and connects; when its wait expires it raises ``WarehouseLockedError`` with the same
  one-line message and the time it waited.

The Dagster webserver itself is not started here (``test_webserver_concurrency.py`` starts it,
launches runs through it and reads the warehouse while they write); the assets it launches open
the warehouse through ``WarehouseResource``, which the last tests cover.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pytest
from crash_support import (
    LockHolder,
    Reference,
    pipeline,
    reference,
    run_cli,
    warehouse_checksum,
)

from edge_pipeline.base.warehouse.connection import WarehouseLockedError, connect
from edge_pipeline.base.warehouse.path import WarehousePathError
from edge_pipeline.defs.resources import WarehouseResource, _connect_with_retry

EXIT_LOCKED = 3


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    return reference(tmp_path_factory.mktemp)


def assert_locked_refusal(done: subprocess.CompletedProcess[str], warehouse: Path, pid: int):
    """Exit 3, one line naming the warehouse, the holder and what to do."""
    assert done.returncode == EXIT_LOCKED, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0] == (
        f"edge-pipeline: the warehouse {warehouse.resolve()} is locked by another process "
        f"(PID {pid}); retry when it has finished"
    )


def test_cli_commands_refuse_cleanly_while_another_process_writes(ref: Reference, tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(ref.warehouse, warehouse)
    with LockHolder(warehouse) as writer:
        for args in (
            ("report", "--warehouse", str(warehouse), "--out", str(tmp_path / "report")),
            ("score", "--warehouse", str(warehouse), "--benefit-year", "2025"),
            ("ingest", str(ref.inbox), "--warehouse", str(warehouse)),
        ):
            assert_locked_refusal(run_cli(*args), warehouse, writer.proc.pid)
        # our own read-only connection says the same
        with pytest.raises(WarehouseLockedError, match="retry when it has finished"):
            connect(warehouse, read_only=True)
    assert not (tmp_path / "report").exists() or not any((tmp_path / "report").iterdir())
    assert warehouse_checksum(warehouse) == ref.checksum  # nothing changed
    done = run_cli("report", "--warehouse", str(warehouse), "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr  # retrying once the writer is gone works


def test_a_run_that_finds_a_reader_is_refused_and_the_retry_gives_the_same_warehouse(
    ref: Reference, tmp_path: Path
):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()  # an empty warehouse a reader (the UI) has open
    stages = pipeline(ref.inbox, warehouse, tmp_path / "out")
    with LockHolder(warehouse, read_only=True) as reader:
        done = subprocess.run(stages[0], capture_output=True, text=True, timeout=120)
        assert_locked_refusal(
            subprocess.CompletedProcess(done.args, done.returncode, "", _without_logs(done)),
            warehouse,
            reader.proc.pid,
        )
    for argv in stages:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
    assert warehouse_checksum(warehouse) == ref.checksum


def _without_logs(done: subprocess.CompletedProcess[str]) -> str:
    """stderr without the ``-v`` log lines (the pipeline's commands run verbose)."""
    return "\n".join(line for line in done.stderr.splitlines() if " INFO " not in line)


def test_readers_during_a_run_do_not_disturb_it(ref: Reference, tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    stages = pipeline(ref.inbox, warehouse, tmp_path / "out")
    outcomes: dict[str, int] = {"read": 0, "locked": 0, "cli locked": 0, "retried": 0}
    stop = threading.Event()

    def poll_with_connect() -> None:  # a notebook or the UI: short read-only connections
        while not stop.is_set():
            try:
                con = connect(warehouse, read_only=True)
            except WarehouseLockedError:
                outcomes["locked"] += 1
            except (duckdb.IOException, WarehousePathError):
                pass  # the file does not exist yet
            else:
                con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
                con.close()
                outcomes["read"] += 1
            time.sleep(0.05)

    poller = threading.Thread(target=poll_with_connect, daemon=True)
    poller.start()
    try:
        for index, argv in enumerate(stages):
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if index == 0:  # a CLI reader while the writer certainly holds the file
                while not warehouse.exists() and proc.poll() is None:
                    time.sleep(0.01)
                report = run_cli(
                    "report", "--warehouse", str(warehouse), "--out", str(tmp_path / "rep")
                )
                if report.returncode == EXIT_LOCKED:
                    outcomes["cli locked"] += 1
                    assert "retry when it has finished" in report.stderr
                else:  # the writer had already finished
                    assert report.returncode == 0, report.stderr
            _, err = proc.communicate(timeout=180)
            attempts = 0
            while proc.returncode == EXIT_LOCKED and attempts < 20:
                # a poller held the file when the command opened it: retry, as the message says
                assert "retry when it has finished" in err
                outcomes["retried"] += 1
                attempts += 1
                time.sleep(0.2)
                proc = subprocess.Popen(
                    argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
                _, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
    finally:
        stop.set()
        poller.join(timeout=10)
    assert outcomes["locked"] > 0, outcomes  # the readers did run while the writer held it
    assert warehouse_checksum(warehouse) == ref.checksum, outcomes


def test_resource_waits_for_the_lock_then_connects(ref: Reference, tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(ref.warehouse, warehouse)
    holder = LockHolder(warehouse)
    releaser = threading.Timer(1.0, holder.release)
    started = time.monotonic()
    releaser.start()
    try:
        with WarehouseResource(database=str(warehouse)).get_connection() as con:
            waited = time.monotonic() - started
            assert con.execute("SELECT count(*) FROM submission_file").fetchall()[0][0] == 4
    finally:
        releaser.join()
        holder.release()
    assert waited >= 0.9  # it was refused at first and retried until the lock was released


def test_resource_gives_a_clear_error_when_its_wait_expires(ref: Reference, tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(ref.warehouse, warehouse)
    attempts = []

    def open_connection() -> duckdb.DuckDBPyConnection:
        attempts.append(time.monotonic())
        return connect(warehouse)

    with LockHolder(warehouse) as writer, pytest.raises(WarehouseLockedError) as raised:
        _connect_with_retry(open_connection, wait_seconds=0.7)
    assert len(attempts) >= 2  # retried before giving up
    assert str(raised.value) == (
        f"the warehouse {warehouse.resolve()} is locked by another process "
        f"(PID {writer.proc.pid}); retry when it has finished (waited 0.7 s)"
    )
    assert isinstance(raised.value, duckdb.IOException)  # existing handlers still catch it
