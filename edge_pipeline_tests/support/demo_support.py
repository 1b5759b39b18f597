"""The shared demo run (the ``demo`` fixture of ``conftest.py``): ``make demo`` once, in a
temporary root, with everything it logged and printed, and every event Dagster recorded.

Built once per test session (per xdist worker: the modules using it are one work unit, see
``conftest.DEMO_MODULES``) because a demo is the most expensive fixture there is; the modules
using it only read what it left (``root/data``: warehouse, Dagster home, reports, outbox).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge_pipeline.edge.report import write_report

#: A population large enough to scan for PHI, with Phase 1 defects on (detail reports carry
#: offending values).
ENROLLEES, SEED, ERROR_RATE = 120, 20250607, 0.02


@dataclass(frozen=True)
class DemoRun:
    """What one demo run left: its root (``root/data`` is its data folder) and what it said."""

    root: Path
    exit_code: int
    logs: str  # every log record (root and dagster loggers at DEBUG)
    printed: str  # stdout and stderr
    events: list[tuple[str, str]]  # (where, serialised run or event) of every Dagster run

    @property
    def data(self) -> Path:
        return self.root / "data"


def dagster_events(dagster_home: Path) -> list[tuple[str, str]]:
    """Every run of the instance in ``dagster_home`` and every event of each, serialised."""
    import dagster as dg
    from dagster._serdes import serialize_value

    events = []
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for run in instance.get_runs():
            events.append(
                (f"run {run.run_id[:8]} ({run.job_name}) config/tags", serialize_value(run))
            )
            for entry in instance.all_logs(run.run_id):
                kind = entry.dagster_event_type.value if entry.dagster_event_type else "log"
                where = f"run {run.run_id[:8]} ({run.job_name}) {kind} event"
                events.append((where, serialize_value(entry)))
    return events


def run_captured_demo(root: Path) -> DemoRun:
    """``run_demo`` in ``root``, then the analyst report into ``data/reports``, capturing every
    log record and everything printed; ``DAGSTER_HOME`` and the loggers are restored after."""
    from edge_pipeline.demo import run_demo

    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(), logging.getLogger("dagster")]  # dagster's may not propagate
    levels = [lg.level for lg in loggers]
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as env:
        # run_demo points DAGSTER_HOME at root/data/dagster_home; restored on exit
        env.setenv("DAGSTER_HOME", os.environ.get("DAGSTER_HOME", str(root / "unused")))
        env.setenv("GX_ANALYTICS_ENABLED", "false")
        for lg in loggers:
            lg.addHandler(handler)
            lg.setLevel(logging.DEBUG)
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                code = run_demo(root=root, enrollees=ENROLLEES, seed=SEED, error_rate=ERROR_RATE)
                write_report(root / "data" / "warehouse.duckdb", root / "data" / "reports")
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.removeHandler(handler)
                lg.setLevel(level)
        events = dagster_events(root / "data" / "dagster_home")
    return DemoRun(root, code, logs.getvalue(), printed.getvalue(), events)
