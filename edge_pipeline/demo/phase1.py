"""The Phase 1 part of ``make demo``: reference tables, shadow verification, a simulated EDGE
server, and the reconciliation of what it "sent", all through Dagster.

There is no real EDGE server in the demo.  Its answer is simulated by copying the shadow's own
reports (what EDGE *should* send) into the outbox, under ``simulated_edge_server/``, and the
output says so; the reported side then loads them exactly as it would load EDGE's, so the
reconciliation must find no difference and every check must pass.

Runs are recorded on the same Dagster instance as the ingest runs; the output names files,
statuses, levels, counts and error codes only: no member data.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from edge_pipeline.demo import LAUNCHED_BY_TAG

if TYPE_CHECKING:
    import dagster as dg

#: Sub-folder of the outbox the simulated EDGE server writes to (the demo's own; replaced on
#: every demo run, so nothing else in the outbox is touched).
SIMULATED_EDGE_DIR = "simulated_edge_server"
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class RunRecord(Protocol):
    """What the summaries keep of a Dagster run: its checks and its failure."""

    checks_passed: int
    checks_failed: list[str]
    errors: list[str]


@dataclass
class Phase1Outcome:
    """One file's Phase 1 runs, as the summary reports them."""

    partition_key: str
    layout: str = "?"
    shadow_status: str = "?"
    rejected: dict[str, int] = field(default_factory=dict)
    reported_status: str = "?"
    differences: int | None = None
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.checks_failed and self.differences == 0


def stage_issuer_reference(synthetic: Path, issuer: Path) -> list[str]:
    """Copy the generator's plan registry, code lists and transfer settings (GCF, market file)
    into the issuer folder (what an issuer deployment configures); returns the names copied."""
    from edge_pipeline.defs.phase2.resources import GCF_FILE, MARKET_FILE
    from edge_pipeline.defs.reference.resources import CODE_LIST_GLOB, PLAN_REGISTRY_FILE

    issuer.mkdir(parents=True, exist_ok=True)
    for stale in [*issuer.glob(CODE_LIST_GLOB), issuer / GCF_FILE, issuer / MARKET_FILE]:
        stale.unlink(missing_ok=True)
    copied = []
    settings = [synthetic / name for name in (GCF_FILE, MARKET_FILE) if (synthetic / name).exists()]
    for source in [
        synthetic / PLAN_REGISTRY_FILE,
        *sorted(synthetic.glob(CODE_LIST_GLOB)),
        *settings,
    ]:
        shutil.copyfile(source, issuer / source.name)
        copied.append(source.name)
    return copied


def clean_phase1_outputs(shadow_reports: Path, outbox: Path, identifiers: set[str]) -> None:
    """Remove what an earlier demo wrote: the shadow report folders of its files and the
    simulated EDGE server's outbox folder.  Nothing else in either folder is touched."""
    from edge_pipeline.defs.phase1.resources import partition_folder_name

    for fid in identifiers:
        shutil.rmtree(shadow_reports / partition_folder_name(fid), ignore_errors=True)
    shutil.rmtree(outbox / SIMULATED_EDGE_DIR, ignore_errors=True)


def simulate_edge_server(shadow_reports: Path, outbox: Path, keys: list[str]) -> int:
    """SIMULATED: drop each file's shadow reports into the outbox as if EDGE had sent them.

    One sub-folder per file: outbound file names carry no fileIdentifier, so two files of the
    issuer answered in the same second would otherwise collide.  Returns the reports copied.
    """
    from edge_pipeline.defs.phase1.resources import partition_folder_name

    copied = 0
    for key in keys:
        source = shadow_reports / partition_folder_name(key)
        if not source.is_dir():
            continue
        target = outbox / SIMULATED_EDGE_DIR / partition_folder_name(key)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
        copied += len(list(target.glob("*.xml")))
    return copied


def run_job(
    instance: dg.DagsterInstance, job_name: str, resources: dict[str, Any], key: str | None
) -> dg.ExecuteInProcessResult:
    from edge_pipeline.definitions import defs

    return defs.resolve_job_def(job_name).execute_in_process(
        run_config=_QUIET,
        instance=instance,
        partition_key=key,
        tags={LAUNCHED_BY_TAG: "demo"},
        resources=resources,
        raise_on_error=False,
    )


def materialization_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    return {
        e.asset_key.to_user_string(): {
            k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()
        }
        for e in result.get_asset_materialization_events()
    }


def record_run(outcome: RunRecord, result: dg.ExecuteInProcessResult) -> None:
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


def run_failure(result: dg.ExecuteInProcessResult) -> str:
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


def load_reference(instance: dg.DagsterInstance, resources: dict[str, Any]) -> str | None:
    """Materialize ``reference_tables``; the error text when it failed."""
    result = run_job(instance, "refresh_reference_tables", resources, None)
    if result.success:
        return None
    failure = next((e for e in result.all_events if e.is_step_failure), None)
    data = failure.step_failure_data if failure is not None else None
    return data.error.message.strip() if data and data.error else "run failed"


def run_shadow(
    instance: dg.DagsterInstance, resources: dict[str, Any], keys: list[str]
) -> dict[str, Phase1Outcome]:
    """``phase1_shadow`` (verify, shadow reports) for every partition."""
    outcomes = {}
    for key in keys:
        outcome = Phase1Outcome(partition_key=key)
        result = run_job(instance, "phase1_shadow", resources, key)
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


def run_reported(
    instance: dg.DagsterInstance, resources: dict[str, Any], outcomes: dict[str, Phase1Outcome]
) -> None:
    """``phase1_reported`` (reports from the outbox, reconciliation) for every partition."""
    for key, outcome in outcomes.items():
        result = run_job(instance, "phase1_reported", resources, key)
        meta = materialization_metadata(result).get("phase1_reconciliation", {})
        outcome.reported_status = str(meta.get("reported_file_status", outcome.reported_status))
        if "differences" in meta:
            outcome.differences = int(meta["differences"])
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
        checks = f"{o.checks_passed} passed" + (
            f", FAILED: {', '.join(o.checks_failed)}" if o.checks_failed else ""
        )
        print(
            f"  {o.partition_key:<{width}}  shadow {o.shadow_status}  "
            f"reported {o.reported_status}  "
            f"differences {differences}  checks {checks}"
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
