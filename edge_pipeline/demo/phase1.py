"""The Phase 1 part of ``make demo``: reference tables, shadow verification, a simulated EDGE
server, and the reconciliation of what it "sent", all through Dagster.

There is no real EDGE server in the demo: see :mod:`edge_pipeline.demo.simulated_edge`.  The
output names files, statuses, levels, counts and error codes only: no member data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge_pipeline.demo.paths import DemoPaths
from edge_pipeline.demo.runs import (
    JobRunner,
    materialization_metadata,
    record_run,
    report_external,
    run_failure,
)
from edge_pipeline.demo.simulated_edge import SIMULATED_EDGE_DIR, simulate_edge_server
from edge_pipeline.demo.staging import (
    StagedIssuer,
    clean_phase1_outputs,
    stage_issuer_reference,
)

if TYPE_CHECKING:
    from edge_pipeline.demo.inbound import FileOutcome


@dataclass
class Phase1Outcome:
    """One file's Phase 1 runs, as the summary reports them."""

    partition_key: str
    layout: str = "?"
    shadow_status: str = "?"
    rejected: dict[str, int] = field(default_factory=dict)
    reported_status: str = "?"
    differences: int | None = None
    #: (data element, value) pairs whose FDE frequency differs from the shadow's
    frequency_differences: int | None = None
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and not self.checks_failed
            and self.differences == 0
            and not self.frequency_differences
        )


def load_reference(runner: JobRunner) -> str | None:
    """Materialize ``reference_tables``; the error text when it failed."""
    result = runner.run("refresh_reference_tables")
    return None if result.success else run_failure(result)


def run_shadow(runner: JobRunner, keys: list[str]) -> dict[str, Phase1Outcome]:
    """``phase1_shadow`` (verify, shadow reports) for every partition."""
    outcomes = {}
    for key in keys:
        result = runner.run("phase1_shadow", key)
        outcome = Phase1Outcome(partition_key=key)
        meta = materialization_metadata(result).get("shadow_phase1", {})
        outcome.layout = str(meta.get("layout", outcome.layout))
        outcome.shadow_status = str(meta.get("file_status", outcome.shadow_status))
        outcome.rejected = {
            name.removeprefix("rejected/"): int(value)
            for name, value in meta.items()
            if name.startswith("rejected/") and int(value)
        }
        record_run(outcome, result)
        outcomes[key] = outcome
    return outcomes


def run_reported(runner: JobRunner, outcomes: dict[str, Phase1Outcome]) -> None:
    """``phase1_reported`` (reports from the outbox, reconciliation) for every partition."""
    for key, outcome in outcomes.items():
        result = runner.run("phase1_reported", key)
        meta = materialization_metadata(result).get("phase1_reconciliation", {})
        outcome.reported_status = str(meta.get("reported_file_status", outcome.reported_status))
        if "differences" in meta:
            outcome.differences = int(meta["differences"])
        if "frequency_differences" in meta:
            outcome.frequency_differences = int(meta["frequency_differences"])
        record_run(outcome, result)


def print_phase1_summary(
    outcomes: dict[str, Phase1Outcome], outbox: Path, copied: int, seconds: float
) -> None:
    """Per file: shadow status and rejected records per level, then the reconciliation."""
    width = max((len(key) for key in outcomes), default=0)
    print(f"\nPhase 1 shadow verification through Dagster ({seconds:.1f} s):")
    for o in outcomes.values():
        rejected = ", ".join(f"{level} {n:,}" for level, n in o.rejected.items()) or "none"
        print(
            f"  {o.partition_key:<{width}}  {o.layout:5} status {o.shadow_status}  "
            f"rejected: {rejected}"
        )
    print(
        f"\nSIMULATED EDGE SERVER: there is no real EDGE server in the demo; the shadow's own "
        f"reports ({copied} files) were copied into {outbox / SIMULATED_EDGE_DIR} as if EDGE "
        "had sent them, so the reconciliation below must agree."
    )
    print("Phase 1 reconciliation (reported vs shadow):")
    for o in outcomes.values():
        differences = "?" if o.differences is None else f"{o.differences}"
        frequencies = "?" if o.frequency_differences is None else f"{o.frequency_differences}"
        checks = f"{o.checks_passed} passed" + (
            f", FAILED: {', '.join(o.checks_failed)}" if o.checks_failed else ""
        )
        print(
            f"  {o.partition_key:<{width}}  shadow {o.shadow_status}  "
            f"reported {o.reported_status}  "
            f"differences {differences}  frequency differences {frequencies}  checks {checks}"
        )
    passed = sum(o.checks_passed for o in outcomes.values())
    failed = sum(len(o.checks_failed) for o in outcomes.values())
    print(f"Checks: {passed} passed, {failed} failed.")
    errors = [(o.partition_key, e) for o in outcomes.values() for e in o.errors]
    if errors:
        print(f"PHASE 1 FAILURES ({len(errors)}):")
        for key, error in errors:
            print(f"  {key}: {error}")
    else:
        print("Phase 1 failures: none")


def phase1_through_dagster(
    runner: JobRunner, paths: DemoPaths, staged: StagedIssuer, outcomes: list[FileOutcome]
) -> bool:
    """Reference tables, shadow verification, simulated EDGE answer, reconciliation; prints
    the Phase 1 summary.  True when every run succeeded and every check passed."""
    started = time.perf_counter()
    keys = list(dict.fromkeys(o.partition_key for o in outcomes if o.success))
    clean_phase1_outputs(
        paths.shadow_reports, paths.outbox, staged.previous_identifiers | set(keys)
    )
    stage_issuer_reference(paths.synthetic, paths.issuer)
    error = load_reference(runner)
    if error is not None:
        print(f"\nReference tables FAILED: {error}")
        return False
    phase1 = run_shadow(runner, keys)
    copied = simulate_edge_server(paths.shadow_reports, paths.outbox, keys)
    report_external(
        runner.instance,
        "outbox_report_file",
        {key: {"reports": n} for key, n in copied.items()},
        "SIMULATED: the shadow's Phase 1 reports, dropped in the outbox by the demo.",
    )
    run_reported(runner, phase1)
    print_phase1_summary(phase1, paths.outbox, sum(copied.values()), time.perf_counter() - started)
    return all(o.ok for o in phase1.values())
