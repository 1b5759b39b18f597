"""Crash safety: the pipeline killed with SIGKILL at any point, then re-run, gives the warehouse
an uninterrupted run gives.

The pipeline is what an operator runs, as subprocesses: ``edge-pipeline validate INBOX``
(ingest, reference tables, Phase 1 verification, Phase 1 reports) then ``edge-pipeline score``
(RA claim selection, risk scores, transfer), on a 200-enrollee synthetic issuer.  Each kill
point starts it on a fresh warehouse, SIGKILLs the running process group at that point, then
re-runs the whole pipeline on the same warehouse and inbox to completion (the recovery: send
the same files again and run again), and compares :func:`warehouse_checksum` with the
reference run's, table by table.

Kill points: delays spread over the reference run's duration (one in each third, drawn from a
seeded generator, so the same on every run of the suite relative to the machine's speed), and
points found by watching the pipeline's log: after the second file is loaded (mid ingest),
after the first file is verified (mid Phase 1) and after RA claim selection (mid scoring).

What this verifies:

* a killed load leaves no rows and no ``submission_file`` row behind (one transaction; DuckDB
  replays or discards its WAL when the file is next opened), so the re-run loads the file as new;
* a killed verification or scoring step leaves the previous state of its rows, and the re-run
  replaces them (each step deletes and inserts its load's or run's rows in one transaction);
* nothing else differs: no duplicated rows, no stale ``failed`` attempt, the same load order;
* the re-run writes every Phase 1 report, byte for byte as the uninterrupted run did (but
  ``inboundFileSubmissionDateTime``, the load time of a re-loaded file), also for files it
  finds already loaded (``unchanged``), and leaves no partial report behind.

What the checksum leaves out is documented in ``crash_support``: attempt times and durations,
and ``load_id`` numbers (compared as their rank, since a killed load consumes sequence values).
"""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from crash_support import (
    KillPoint,
    Reference,
    differences,
    pipeline,
    reference,
    run_and_kill,
    run_pipeline,
    warehouse_checksum,
)

from edge_pipeline.edge.verification.schema import SHADOW_DDL

KILL_SEED = 20250101
#: Timed kill points; each costs a killed run plus a full re-run (about 10 s).  Raise it with
#: ``EDGE_CRASH_TIMED_KILLS=20`` for a longer soak.
TIMED_KILLS = int(os.environ.get("EDGE_CRASH_TIMED_KILLS", "1"))


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    return reference(tmp_path_factory.mktemp)


def kill_points(duration: float) -> list[KillPoint]:
    """Timed points (one per equal slice of ``duration``, seeded) and log-watched points."""
    rng = random.Random(KILL_SEED)
    slices = [(k / TIMED_KILLS, (k + 1) / TIMED_KILLS) for k in range(TIMED_KILLS)]
    timed = [
        KillPoint(f"after {d:.2f} s", delay=d)
        for d in (round(rng.uniform(lo, hi) * duration * 0.95, 2) for lo, hi in slices)
    ]
    watched = [
        KillPoint("2 files loaded", stage=0, pattern=": loaded (", count=2),
        KillPoint("1 file verified", stage=0, pattern="verification.engine: verified", count=1),
        KillPoint("RA claims selected", stage=1, pattern="RA claim selection", after=0.2),
    ]
    return timed + watched


#: When the inbound file was received (its load time): a re-load after a kill is later.
_SUBMITTED = re.compile(rb"<inboundFileSubmissionDateTime>[^<]*</inboundFileSubmissionDateTime>")


def report_files(folder: Path) -> dict[str, bytes]:
    """Every file of a report folder (hidden ``.part`` leftovers too) with its bytes, the
    inbound file's submission time blanked."""
    return {p.name: _SUBMITTED.sub(b"", p.read_bytes()) for p in sorted(folder.iterdir())}


def test_checksum_ignores_attempt_times_but_sees_every_row(ref: Reference, tmp_path: Path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(ref.warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute("UPDATE submission_file SET loaded_at = loaded_at + INTERVAL 1 DAY")
    con.execute("UPDATE shadow_file_status SET verified_at = verified_at + INTERVAL 1 DAY")
    # renumber the loads as a re-run after a killed load would: ranks are unchanged
    for table in SHADOW_DDL:  # every shadow table names its load attempt
        con.execute(f"UPDATE {table} SET load_id = load_id + 100")
    con.execute("UPDATE submission_file SET load_id = load_id + 100")
    con.close()
    assert warehouse_checksum(copy) == ref.checksum

    con = duckdb.connect(str(copy))
    con.execute("INSERT INTO enrollee SELECT * FROM enrollee LIMIT 1")  # one duplicated row
    con.execute("UPDATE shadow_file_status SET load_id = load_id + 1 WHERE load_id = 101")
    con.close()
    changed = differences(warehouse_checksum(copy), ref.checksum)
    assert set(changed) == {"enrollee", "shadow_file_status"}
    assert changed["enrollee"][0][0] == changed["enrollee"][1][0] + 1


def test_the_pipeline_is_deterministic_and_covers_every_step(ref: Reference):
    """The reference is worth comparing with: every step wrote rows."""
    for table in (
        "submission_file",
        "enrollee",
        "medical_claim",
        "ref_icd10cm",
        "shadow_record_status",
        "shadow_ra_claim_selection",
        "shadow_risk_score",
        "shadow_ratee",
        "transfer_estimate",
    ):
        assert ref.checksum[table][0] > 0, table


def test_kill_at_any_point_then_rerun_gives_the_uninterrupted_warehouse(
    ref: Reference, tmp_path: Path
):
    outcomes, failures = [], []
    for index, point in enumerate(kill_points(ref.seconds)):
        root = tmp_path / f"kill{index}"
        warehouse, out = root / "warehouse.duckdb", root / "out"
        stages = pipeline(ref.inbox, warehouse, out)
        killed = run_and_kill(stages, warehouse, point, root / "killed")
        outcomes.append(killed)
        run_pipeline(stages, root / "rerun")  # the operator's recovery: run it all again
        changed = differences(warehouse_checksum(warehouse), ref.checksum)
        if changed:
            failures.append(f"{killed}: warehouse differs: {changed}")
        if report_files(out) != report_files(ref.out):
            failures.append(f"{killed}: Phase 1 reports differ")
    assert not failures, "\n".join(failures)
    # the points did interrupt both commands, not only runs that had already finished
    stages_hit = {k.stage for k in outcomes}
    assert {0, 1} <= stages_hit, [str(k) for k in outcomes]
    print("\n".join(str(k) for k in outcomes))
