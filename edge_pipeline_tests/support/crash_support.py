"""Support for the crash-safety and concurrency tests: the CLI pipeline as subprocesses, a way
to SIGKILL it at a chosen point, and a checksum of the warehouse's content.

The checksum (:func:`warehouse_checksum`) is ``{table: (row_count, hash)}`` over every base
table, order-insensitive (the md5 of the sorted md5s of the rows, so duplicated rows count).
What it leaves out, because an interrupted-then-repeated run legitimately differs there:

* ``submission_file.loaded_at``, ``submission_file.load_seconds`` and
  ``shadow_file_status.verified_at``: wall-clock times and durations of the attempt;
* ``load_id`` values (``submission_file`` and the ``shadow_*`` tables that carry it): the
  sequence ``submission_file_load_id`` is not rolled back with a killed transaction, so a file
  re-loaded after a kill may get a higher number.  Each ``load_id`` is replaced by its rank in
  ``submission_file`` (``load_seq``), so load order and the links between tables are still
  compared; an extra attempt row (a stale or ``failed`` one) changes the counts and the ranks.

Everything else, including ``submission_file.status``, ``path`` and ``error``, must be equal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cli_support
import duckdb

BENEFIT_YEAR = 2025
ENROLLEES = 200
SEED = 7
#: Phase 1 report names carry this timestamp, so every run writes the same report files.
GENERATED_AT = "2025-06-01T00:00:00"

#: (table, column) pairs the checksum leaves out: times and durations of an attempt.
VOLATILE_COLUMNS = frozenset(
    {
        ("submission_file", "loaded_at"),
        ("submission_file", "load_seconds"),
        ("shadow_file_status", "verified_at"),
    }
)

Checksum = dict[str, tuple[int, str]]


def cli(*args: str) -> list[str]:
    """argv of ``edge-pipeline ARGS`` in this interpreter (``-v``: progress logs on stderr)."""
    return [sys.executable, "-m", "edge_pipeline.cli", "-v", *args]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return cli_support.run_cli("-v", *args, timeout=timeout)


def synth(out: Path) -> Path:
    """The small synthetic issuer every test of these modules runs (deterministic for SEED)."""
    done = run_cli("synth", "--out", str(out), "--enrollees", str(ENROLLEES), "--seed", str(SEED))
    assert done.returncode == 0, done.stderr
    return out


def pipeline(inbox: Path, warehouse: Path, out: Path) -> list[list[str]]:
    """The operator's pipeline: ``validate`` (ingest + Phase 1 + reports), then ``score``."""
    return [
        cli(
            "validate",
            str(inbox),
            "--warehouse",
            str(warehouse),
            "--out",
            str(out),
            "--generated-at",
            GENERATED_AT,
        ),
        cli("score", "--warehouse", str(warehouse), "--benefit-year", str(BENEFIT_YEAR)),
    ]


def run_pipeline(stages: list[list[str]], log_dir: Path) -> float:
    """Run every stage to completion (each must exit 0); the seconds it took."""
    started = time.monotonic()
    log_dir.mkdir(parents=True, exist_ok=True)
    for index, argv in enumerate(stages):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=180)
        (log_dir / f"stage{index}.log").write_text(done.stdout + done.stderr)
        assert done.returncode == 0, f"stage {index} exit {done.returncode}: {done.stderr}"
    return time.monotonic() - started


@dataclass(frozen=True)
class KillPoint:
    """When to SIGKILL the pipeline: ``delay`` seconds after it started, or once the output of
    stage ``stage`` holds ``pattern`` ``count`` times (or, with ``pattern`` None, the
    warehouse file exists), then ``after`` seconds more."""

    name: str
    delay: float | None = None
    stage: int = 0
    pattern: str | None = None
    count: int = 1
    after: float = 0.0


@dataclass(frozen=True)
class Killed:
    point: KillPoint
    stage: int | None  # the stage that was killed; None: the pipeline finished first
    seconds: float

    def __str__(self) -> str:
        where = "finished before the kill" if self.stage is None else f"stage {self.stage}"
        return f"{self.point.name}: {where} at {self.seconds:.2f} s"


def run_and_kill(
    stages: list[list[str]], warehouse: Path, point: KillPoint, log_dir: Path
) -> Killed:
    """Run the stages in sequence and SIGKILL the running one (its whole process group) at
    ``point``.  Stages before it must succeed."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for index, argv in enumerate(stages):
        log = log_dir / f"stage{index}.log"
        with open(log, "w") as sink:
            proc = subprocess.Popen(
                argv, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
            fire_at: float | None = None
            while True:
                now = time.monotonic()
                if fire_at is None and _reached(point, index, now - started, log, warehouse):
                    fire_at = now + point.after
                if fire_at is not None and now >= fire_at:
                    os.killpg(proc.pid, signal.SIGKILL)  # the group: workers die with it
                    proc.wait()
                    return Killed(point, index, now - started)
                if proc.poll() is not None:
                    break
                time.sleep(0.005)
        assert proc.returncode == 0, f"stage {index} exit {proc.returncode}: {log.read_text()}"
    return Killed(point, None, time.monotonic() - started)


def _reached(point: KillPoint, stage: int, elapsed: float, log: Path, warehouse: Path) -> bool:
    if point.delay is not None:
        return elapsed >= point.delay
    if stage != point.stage:
        return False
    if point.pattern is None:
        return warehouse.exists()
    return log.read_text(errors="replace").count(point.pattern) >= point.count


def warehouse_checksum(warehouse: Path) -> Checksum:
    """``{table: (rows, hash)}`` of every base table; see the module doc for what is left out."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
        ]
        return {table: _table_checksum(con, table) for table in tables}
    finally:
        con.close()


def _table_checksum(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, str]:
    columns = [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        if (table, name) not in VOLATILE_COLUMNS
    ]
    values = ["m.load_seq" if c == "load_id" else f't."{c}"' for c in columns]
    join = (
        "LEFT JOIN (SELECT load_id, row_number() OVER (ORDER BY load_id) AS load_seq "
        "FROM submission_file) m ON m.load_id = t.load_id"
        if "load_id" in columns
        else ""
    )
    rows = (
        f"SELECT md5(CAST(list_value({', '.join(f'CAST({v} AS VARCHAR)' for v in values)}) "
        f'AS VARCHAR)) AS h FROM "{table}" t {join}'
    )
    count, digest = con.execute(
        f"SELECT count(*), coalesce(md5(string_agg(h, ',' ORDER BY h)), '') FROM ({rows})"
    ).fetchall()[0]
    return count, digest


def differences(actual: Checksum, expected: Checksum) -> dict[str, tuple[object, object]]:
    """Tables whose (rows, hash) differ, as ``{table: (actual, expected)}``."""
    return {
        t: (actual.get(t), expected.get(t))
        for t in sorted(set(actual) | set(expected))
        if actual.get(t) != expected.get(t)
    }


@dataclass
class Reference:
    """An uninterrupted run of the pipeline on the shared synthetic issuer."""

    inbox: Path
    warehouse: Path
    out: Path
    seconds: float
    checksum: Checksum


_REFERENCE: Reference | None = None


def reference(make_dir: Callable[[str], Path]) -> Reference:
    """The reference run, made once per test session (``make_dir``: ``tmp_path_factory.mktemp``)
    and shared by the crash-safety and concurrency tests."""
    global _REFERENCE
    if _REFERENCE is None:
        root = make_dir("crash_reference")
        inbox = synth(root / "inbox")
        warehouse, out = root / "warehouse.duckdb", root / "out"
        seconds = run_pipeline(pipeline(inbox, warehouse, out), root / "logs")
        _REFERENCE = Reference(inbox, warehouse, out, seconds, warehouse_checksum(warehouse))
    return _REFERENCE


class LockHolder:
    """A separate process holding the warehouse open (read-write by default) until released:
    the other writer, or the reader, a test needs."""

    def __init__(self, warehouse: Path, read_only: bool = False) -> None:
        code = (
            "import sys, duckdb\n"
            f"con = duckdb.connect({str(warehouse)!r}, read_only={read_only!r})\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n"
            "con.close()\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", f"lock holder did not start: {line!r}"

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)

    def __enter__(self) -> LockHolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
