"""The Phase 2 part of ``make demo``: RA claim selection, risk scores, the RA reports, a
simulated EDGE answer and the reconciliations (RARSD, RATEE, RAUF, HCRPSR, HCRPDE, ECD, ECS), all
through Dagster.

As in Phase 1 there is no real EDGE server: the shadow's own RA reports (what EDGE *should*
send) are copied into the outbox under ``simulated_edge_server/phase2/`` and the output says
so; the reported side loads them exactly as it would load EDGE's, so the reconciliation must
find no difference and every check must pass.  The output holds counts, reason codes, plans and
mean scores only: no member data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_pipeline.demo.paths import DemoPaths
from edge_pipeline.demo.runs import (
    JobRunner,
    materialization_metadata,
    record_run,
    report_external,
)
from edge_pipeline.demo.simulated_edge import (
    PHASE2_DIR,
    SIMULATED_EDGE_DIR,
    simulate_edge_ra_reports,
)


@dataclass
class Phase2Outcome:
    """One benefit year's Phase 2 runs, as the summary reports them."""

    benefit_year: int
    selection: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    transfer: dict[str, Any] = field(default_factory=dict)
    reports: str = ""
    differences: int | None = None
    ratee_differences: int | None = None
    #: RAUF, HCRPSR, HCRPDE vs the shadow (``user_fee_reconciliation``, ``hcrp_reconciliation``)
    transfer_report_differences: dict[str, int | None] = field(
        default_factory=lambda: dict.fromkeys(("RAUF", "HCRPSR", "HCRPDE"))
    )
    #: ECD, ECS vs the shadow (``enrollee_claims_reconciliation``)
    enrollee_claims_differences: dict[str, int | None] = field(
        default_factory=lambda: dict.fromkeys(("ECD", "ECS"))
    )
    #: orphan claims and enrollees without claims the ECD lists (counts only)
    enrollee_claims: dict[str, int] = field(default_factory=dict)
    reports_loaded: str = ""
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and not self.checks_failed
            and self.differences == 0
            and self.ratee_differences == 0
            and all(n == 0 for n in self.transfer_report_differences.values())
            and all(n == 0 for n in self.enrollee_claims_differences.values())
        )


def run_phase2(
    runner: JobRunner, shadow_reports: Path, outbox: Path, benefit_year: int
) -> tuple[Phase2Outcome, int]:
    """``phase2_scoring``, the simulated answer, then ``phase2_reported`` for the year."""
    from edge_pipeline.defs.reference.partitions import register_benefit_year

    key = str(benefit_year)
    outcome = Phase2Outcome(benefit_year)
    register_benefit_year(runner.instance, benefit_year)
    result = runner.run("phase2_scoring", key)
    meta = materialization_metadata(result)
    outcome.selection = meta.get("ra_claim_selection", {})
    outcome.scores = meta.get("risk_scores", {})
    outcome.transfer = meta.get("transfer_estimate", {})
    outcome.reports = str(meta.get("shadow_phase2_reports", {}).get("files", ""))
    record_run(outcome, result)
    copied = 0
    if result.success:
        copied = simulate_edge_ra_reports(shadow_reports, outbox, benefit_year)
        report_external(
            runner.instance,
            "outbox_ra_report",
            {key: {"reports": copied}},
            "SIMULATED: the shadow's RA reports, dropped in the outbox by the demo.",
        )
        result = runner.run("phase2_reported", key)
        meta = materialization_metadata(result)
        scores = meta.get("risk_score_reconciliation", {})
        if "differences" in scores:
            outcome.differences = int(scores["differences"])
        ratee = meta.get("transfer_reconciliation", {})
        if "differences" in ratee:
            outcome.ratee_differences = int(ratee["differences"])
        outcome.reports_loaded = str(meta.get("reported_ra_reports", {}).get("report_types", ""))
        fees = meta.get("user_fee_reconciliation", {})
        if "differences" in fees:
            outcome.transfer_report_differences["RAUF"] = int(fees["differences"])
        hcrp = meta.get("hcrp_reconciliation", {})
        for report in ("HCRPSR", "HCRPDE"):
            if f"differences/{report}" in hcrp:
                outcome.transfer_report_differences[report] = int(hcrp[f"differences/{report}"])
        claims = meta.get("enrollee_claims_reconciliation", {})
        if "differences" in claims:
            outcome.enrollee_claims_differences["ECD"] = int(
                claims["differences/ECD orphan claims"]
            ) + int(claims["differences/ECD enrollees"])
            outcome.enrollee_claims_differences["ECS"] = int(claims["differences/ECS"])
            outcome.enrollee_claims = {
                "orphan claims": int(claims["orphan_claims_compared"]),
                "enrollees without claims": int(claims["enrollees_without_claims_compared"]),
            }
        record_run(outcome, result)
    return outcome, copied


def _table_rows(value: Any) -> list[dict[str, Any]]:
    """Rows of a Dagster table metadata value as plain dicts."""
    records = getattr(value, "records", None) or []
    return [dict(record.data) for record in records]


def print_transfer(transfer: dict[str, Any]) -> None:
    """The transfer estimate per plan x rating area of each risk pool (the issuer's plans and
    the market's; area blank: a market plan given for all its areas)."""
    rows = _table_rows(transfer.get("transfer_estimate"))
    if not rows:
        print("  transfer estimate: none")
        return
    print(
        "  transfer estimate per plan x rating area "
        f"(market file: {transfer.get('market_file', '?')}):"
    )
    print(
        f"    {'pool':<22} {'plan':<15} {'area':<4} {'source':<7} {'metal':<12} {'BMM':>10} {'PLRS':>6}"
        f" {'ARF':>6} {'GCF':>6} {'premium':>8} {'PMPM':>9} {'transfer':>15} {'HCRP':>12}"
        f" {'user fee':>10}"
    )
    for row in rows:
        pool = f"{row.get('state')} {row.get('risk_pool')}"
        print(
            f"    {pool:<22} {row.get('plan_id')!s:<15} {row.get('rating_area') or '':<4} "
            f"{row.get('source')!s:<7} "
            f"{row.get('metal')!s:<12} {float(row.get('billable_member_months') or 0):>10,.1f}"
            f" {float(row.get('plrs') or 0):>6.3f} {float(row.get('arf') or 0):>6.3f}"
            f" {float(row.get('gcf') or 0):>6.3f} {float(row.get('premium_pmpm') or 0):>8.2f}"
            f" {float(row.get('transfer_pmpm') or 0):>9.2f}"
            f" {float(row.get('transfer_total') or 0):>15,.2f}"
            f" {_money(row.get('hcrp_payment')):>12} {_money(row.get('user_fee')):>10}"
        )


def _money(value: Any) -> str:
    """An amount, blank where there is none (market plans carry no HCRP or user fee; a NULL
    reaches Dagster metadata tables as an empty string)."""
    return "" if value in (None, "") else f"{float(value):,.2f}"


def print_phase2_summary(outcome: Phase2Outcome, outbox: Path, copied: int, seconds: float) -> None:
    """Claims included and excluded by reason, scores by plan, the reconciliation."""
    print(f"\nPhase 2 (benefit year {outcome.benefit_year}) through Dagster ({seconds:.1f} s):")
    selection = outcome.selection
    print(
        f"  RA claim selection: {int(selection.get('records_considered', 0)):,} records "
        f"considered, {int(selection.get('records_included', 0)):,} included"
    )
    reasons: dict[str, int] = {}
    for row in _table_rows(selection.get("by_category_and_reason")):
        if row.get("reason_code"):
            reasons[row["reason_code"]] = reasons.get(row["reason_code"], 0) + int(row["claims"])
    if reasons:
        print(
            "  excluded by reason: " + ", ".join(f"{r} {n:,}" for r, n in sorted(reasons.items()))
        )
    scores = outcome.scores
    models = ", ".join(
        f"{model} {int(scores.get(f'enrollees/{model}', 0)):,}"
        for model in ("adult", "child", "infant")
    )
    print(f"  risk scores: {int(scores.get('enrollee_plan_rows', 0)):,} enrollee x plan ({models})")
    for row in _table_rows(scores.get("by_plan")):
        print(
            f"    {row.get('plan_id')}  {row.get('metal')!s:12} {int(row.get('enrollees', 0)):>6,}"
            f"  mean raw {row.get('mean_raw')}  mean CSR-adjusted {row.get('mean_csr')}"
        )
    print_transfer(outcome.transfer)
    print(f"  RA reports written: {outcome.reports or 'none'}")
    print(
        f"SIMULATED EDGE SERVER: the shadow's RA reports ({copied} files) were copied into "
        f"{outbox / SIMULATED_EDGE_DIR / PHASE2_DIR} as if EDGE had sent them."
    )
    scores = "?" if outcome.differences is None else str(outcome.differences)
    ratee = "?" if outcome.ratee_differences is None else str(outcome.ratee_differences)
    checks = f"{outcome.checks_passed} passed" + (
        f", FAILED: {', '.join(outcome.checks_failed)}" if outcome.checks_failed else ""
    )
    print(f"  RA reports read back from the outbox: {outcome.reports_loaded or 'none'}")
    others = ", ".join(
        f"{report} {'?' if n is None else n}"
        for report, n in outcome.transfer_report_differences.items()
    )
    claims = ", ".join(
        f"{report} {'?' if n is None else n}"
        for report, n in outcome.enrollee_claims_differences.items()
    )
    if outcome.enrollee_claims:
        print(
            "  enrollee claims (ECD): "
            + ", ".join(f"{n:,} {what}" for what, n in outcome.enrollee_claims.items())
        )
    print(
        f"Phase 2 reconciliation: risk scores (RARSD vs shadow) differences {scores}, "
        f"transfer elements (RATEE vs shadow) differences {ratee}, "
        f"user fee and high-cost risk pool (vs shadow) differences {others}, "
        f"enrollee claims (vs shadow) differences {claims}; checks {checks}"
    )
    if outcome.errors:
        print(f"PHASE 2 FAILURES ({len(outcome.errors)}):")
        for error in outcome.errors:
            print(f"  {error}")
    else:
        print("Phase 2 failures: none")


def phase2_through_dagster(runner: JobRunner, paths: DemoPaths, benefit_year: int) -> bool:
    """Claim selection, scores, RA reports, simulated EDGE answer, reconciliation; prints the
    Phase 2 summary.  True when every run succeeded and every check passed."""
    started = time.perf_counter()
    outcome, copied = run_phase2(runner, paths.shadow_reports, paths.outbox, benefit_year)
    print_phase2_summary(outcome, paths.outbox, copied, time.perf_counter() - started)
    return outcome.ok
