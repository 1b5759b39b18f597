"""``make demo``: a synthetic issuer's files through every asset of the definitions.

Steps: generate the issuer (and beside its files in the inbox a stray file that is not a
submission), ingest its files (one run per partition; the stray file recorded as refused, as
the inbox sensor would), load the reference tables from its plan registry and code lists,
verify every file and write its shadow reports, simulate the EDGE server's answer (the shadow
reports copied into the outbox, said so in the output), load that answer and reconcile it;
then Phase 2 for the benefit year (claim selection, scores, transfer, RA reports, their
simulated answer and reconciliation); then the data-quality summary and the analyst report.

The runs are runs of the ``edge_pipeline`` code location (:mod:`edge_pipeline.demo.runs`) on
the persistent Dagster instance in ``data/dagster_home`` (the one ``make dev`` uses), so after
the demo the UI shows every partition and run it made, re-executable.  The output names files,
types, statuses, levels, codes and row counts only: no member data.
"""

from __future__ import annotations

import time
from pathlib import Path

from edge_pipeline.demo.inbound import (
    ingest_through_dagster,
    ordered_inbox,
    print_summary,
    record_refused_through_dagster,
)
from edge_pipeline.demo.paths import BENEFIT_YEAR, DemoPaths, prepare_dagster_home
from edge_pipeline.demo.phase1 import phase1_through_dagster
from edge_pipeline.demo.phase2 import phase2_through_dagster
from edge_pipeline.demo.reports import reports_through_dagster
from edge_pipeline.demo.runs import code_location_runner, free_stale_pool_slots
from edge_pipeline.demo.staging import (
    forget_superseded_demo_loads,
    stage_stray_file,
    stage_synthetic_issuer,
)


def run_demo(
    root: Path | None = None,
    enrollees: int = 2000,
    seed: int = 20250101,
    error_rate: float = 0.02,
) -> int:
    """Generate, ingest, verify, reconcile, score, report through Dagster, summarise.  Exit
    code 0 when every file ingested and every run and check succeeded."""
    paths = DemoPaths.for_root(root)
    prepare_dagster_home(paths.dagster_home)
    started = time.perf_counter()
    staged = stage_synthetic_issuer(paths, enrollees, seed, error_rate)
    stage_stray_file(paths.inbox)
    print(
        f"Generated a synthetic issuer: {enrollees:,} enrollees, seed {seed}, "
        f"error rate {error_rate:g}: {len(staged.notes)} files into {paths.inbox}"
    )
    forgotten = forget_superseded_demo_loads(paths, staged)
    if forgotten:
        print(
            f"Removed {forgotten} earlier demo file(s) from the warehouse: same fileIdentifier, "
            "different content (other parameters or generator version)."
        )

    import dagster as dg  # after DAGSTER_HOME is set, and only when the demo really runs

    with dg.DagsterInstance.get() as instance:
        freed = free_stale_pool_slots(instance)
        if freed:
            print(f"Freed {freed} warehouse pool slot(s) left by interrupted runs.")
        with code_location_runner(instance, paths) as runner:
            inbox = ordered_inbox(paths)
            outcomes = ingest_through_dagster(runner, inbox.submissions)
            for outcome in outcomes:
                outcome.note = staged.notes.get(outcome.file_name, "")
            print_summary(outcomes, time.perf_counter() - started)
            refused_ok = record_refused_through_dagster(runner, inbox.refused)
            phase1_ok = refused_ok and phase1_through_dagster(runner, paths, staged, outcomes)
            phase2_ok = phase1_ok and phase2_through_dagster(runner, paths, BENEFIT_YEAR)
            reports_ok = phase2_ok and reports_through_dagster(runner, paths)
    print(f"\nDemo finished in {time.perf_counter() - started:.1f} s.")
    print(f"Warehouse: {paths.warehouse}")
    print(
        f"Dagster runs recorded in {paths.dagster_home}: runs of the code location "
        "`edge_pipeline`; browse and re-execute them with `make dev`."
    )
    return 0 if outcomes and all(o.success for o in outcomes) and reports_ok else 1
