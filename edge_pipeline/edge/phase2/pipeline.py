"""Phase 2 of one benefit year in one call: what the CLI runs (``edge-pipeline score``).

The Dagster assets run the same steps one asset each (``ra_claim_selection``,
``risk_scores``, ``transfer_elements``, ``transfer_estimate``, ``shadow_phase2_reports``) so
the UI shows each with its checks; this module chains them for a warehouse that Phase 1 has
verified (``edge-pipeline validate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from edge_pipeline.edge.claim_selection import SelectionResult, select_claims
from edge_pipeline.edge.claim_selection.select import check_inputs
from edge_pipeline.edge.quality.transfer_checks import missing_csr_adjusted
from edge_pipeline.edge.ra_runs.runs import ScoringRun, scoring_runs
from edge_pipeline.edge.risk.run_scores import RunScores, score_run
from edge_pipeline.edge.transfer import (
    TransferEstimate,
    compute_transfer_elements,
    estimate_transfers,
)
from edge_pipeline.edge.transfer.factors import age_curve, read_gcf
from edge_pipeline.edge.transfer.market import read_market
from edge_pipeline.edge.transfer.user_fee import user_fee_pmpm


@dataclass(frozen=True)
class TransferInputs:
    """The issuer's transfer files (``None``: the documented default of each)."""

    gcf: Path | None = None
    market_pool: Path | None = None
    user_fee: Path | None = None
    age_curve: Path | None = None

    def check(self, benefit_year: int) -> None:
        """Read every given file now, so that a bad cell is refused (naming file, line and
        column) before the hours of claim selection and scoring, not after them."""
        if self.gcf is not None:
            read_gcf(self.gcf)
        if self.age_curve is not None:
            age_curve(self.age_curve)
        if self.market_pool is not None:
            read_market(self.market_pool)
        if self.user_fee is not None:
            user_fee_pmpm(benefit_year, self.user_fee)


@dataclass(frozen=True)
class Phase2Run:
    """One run's outcome: selection and score summaries, and the RA reports written."""

    run: ScoringRun
    selection: SelectionResult
    scores: RunScores
    ratee_rows: int
    transfer: TransferEstimate
    reports: list[Path]
    #: Scored enrollee x plan rows without a CSR-adjusted score: left out of PLRS, never
    #: scored with the raw score (check ``csr_adjusted_scores``).
    without_csr_adjusted: int = 0


def run_phase2(
    con: duckdb.DuckDBPyConnection,
    benefit_year: int,
    out_dir: Path | None = None,
    generated_at: datetime | None = None,
    transfer: TransferInputs | None = None,
) -> list[Phase2Run]:
    """Select RA claims, score, compute the transfer elements and the transfer estimate of
    every run of ``benefit_year``; with ``out_dir``, write each run's RA reports into
    ``out_dir/<issuer>_<zone>/``."""
    from edge_pipeline.edge.outbound import write_phase2_reports

    files = transfer or TransferInputs()
    files.check(benefit_year)
    check_inputs(con)  # a warehouse never verified has no active enrollment to find runs in
    outcomes = []
    for run in scoring_runs(con, benefit_year):
        selection = select_claims(con, *run.params)
        scores = score_run(con, run)
        ratee_rows = compute_transfer_elements(
            con, run, gcf_path=files.gcf, age_curve_path=files.age_curve
        )
        estimate = estimate_transfers(
            con, run, market_path=files.market_pool, user_fee_path=files.user_fee
        )
        reports = []
        if out_dir is not None:
            reports = write_phase2_reports(
                con,
                out_dir / f"{run.issuer_id}_{run.execution_zone}",
                *run.params,
                generated_at=generated_at,
            )
        unscored = sum(row["enrollees"] for row in missing_csr_adjusted(con, run))
        outcomes.append(Phase2Run(run, selection, scores, ratee_rows, estimate, reports, unscored))
    return outcomes
