"""The RA transfer, per benefit year: RATEE transfer elements and the state transfer estimate.

Lineage: ``risk_scores`` → ``transfer_elements`` (``shadow_ratee``: per plan x rating area x
risk pool, written into the RATEE by ``shadow_phase2_reports``) → ``transfer_estimate`` (the
spec section 8 formula per state risk pool, the issuer's plans with the market file's, plus
high-cost risk pool payments and the RA user fee, written with their report rows: HCRPSR,
HCRPDE, RAUF), which ``transfer_reconciliation``, ``hcrp_reconciliation`` and
``user_fee_reconciliation`` (``reconciliation.py``) compare with EDGE's RATEE, HCRPSR, HCRPDE
and RAUF.  Metadata holds plans, pools, rating areas
and money: no member data.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
from collections.abc import Iterator

import dagster as dg

from edge_pipeline.base.markdown import markdown_table
from edge_pipeline.defs.arrow_metadata import MAX_ROWS, arrow_table_metadata
from edge_pipeline.defs.check_specs import partitioned_check_spec
from edge_pipeline.defs.metadata import table_metadata
from edge_pipeline.defs.phase2.resources import TransferFiles, TransferSettingsResource
from edge_pipeline.defs.phase2.scoring import RISK_SCORES
from edge_pipeline.defs.reference.partitions import benefit_years
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.quality.transfer_checks import MISSING_CSR_COLUMNS, missing_csr_adjusted
from edge_pipeline.edge.ra_runs.runs import scoring_runs
from edge_pipeline.edge.transfer.elements import compute_transfer_elements
from edge_pipeline.edge.transfer.estimate import TransferEstimate, estimate_transfers

TRANSFER_ELEMENTS = dg.AssetKey("transfer_elements")
TRANSFER_ESTIMATE = dg.AssetKey("transfer_estimate")

#: What ``transfer_estimate`` writes: the estimate, and the shadow of RAUF, HCRPSR and HCRPDE.
ESTIMATE_TABLES = (
    "transfer_estimate",
    "shadow_rauf",
    "shadow_hcrp_summary",
    "shadow_hcrp_enrollee",
)

CSR_ADJUSTED_SCORES = "csr_adjusted_scores"
csr_adjusted_scores = partitioned_check_spec(
    CSR_ADJUSTED_SCORES,
    TRANSFER_ELEMENTS,
    "Every scored enrollee x plan has a CSR-adjusted score. One without is left out of its "
    "plan's PLRS, never scored with its raw score in its place (a silent CSR factor of 1.0); "
    "failing lists the plan x rating area rows with how many enrollees and billable months.",
    blocking=False,
    partitions_def=benefit_years,
)


def estimate_summary(estimate: TransferEstimate) -> str:
    """One run's transfer estimate in a line: per state risk pool the plan x rating area rows
    (the issuer's and the market's), the issuer's transfer and the pool's sum (zero)."""
    pools = "; ".join(
        f"{pool.state} {pool.risk_pool}: {pool.issuer_plans} issuer + {pool.market_plans} market "
        f"rows, issuer transfer {pool.issuer_transfer:,.2f}, pool sum {pool.transfer_sum:,.2f}"
        for pool in estimate.pools
    )
    return (
        f"issuer transfer {estimate.issuer_transfer:,.2f} over {len(estimate.pools)} risk "
        f"pool(s) (user fee {estimate.user_fee_pmpm} PMPM): {pools or 'no pools'}"
    )


def _files(settings: TransferSettingsResource) -> TransferFiles:
    try:
        return settings.files()
    except FileNotFoundError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc


@dg.asset(
    key=TRANSFER_ELEMENTS,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[RISK_SCORES],
    check_specs=[csr_adjusted_scores],
    description=(
        "RATEE transfer elements of the benefit year per plan x rating area x risk pool "
        "(spec section 8): billable member months (at most the three oldest children under 21 "
        "of a policy), PLRS (CSR-adjusted scores only), ARF (age rating curve), AV and IDF by "
        "metal, GCF by rating area, premium PMPM; shown rounded, kept exact for the formula."
    ),
    metadata={"warehouse_tables": "shadow_ratee"},
)
def transfer_elements(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    transfer_settings: TransferSettingsResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Compute the RATEE rows of every run of the year; check that no enrollee lacks a
    CSR-adjusted score (one that does is left out of PLRS, and said so here)."""
    year = int(context.partition_key)
    files = _files(transfer_settings)
    with warehouse.get_connection() as con:
        runs = scoring_runs(con, year)
        rows = sum(
            compute_transfer_elements(con, run, gcf_path=files.gcf, age_curve_path=files.age_curve)
            for run in runs
        )
        missing = [
            {"run": run.label, **row} for run in runs for row in missing_csr_adjusted(con, run)
        ]
        table = con.sql(
            """
            SELECT issuer_id, execution_zone, state, risk_pool, plan_id, rating_area, metal,
              enrollees, billable_member_months, plrs, arf, gcf, premium_pmpm
            FROM shadow_ratee WHERE benefit_year = ? ORDER BY ALL
            """,
            params=[year],
        ).to_arrow_table()
        tables = table_metadata(con, ["shadow_ratee"], ("benefit_year = ?", [year]))
    context.log.info("BY%d: %d RATEE rows", year, rows)
    unscored = sum(row["enrollees"] for row in missing)
    if unscored:
        context.log.warning(
            "BY%d: %d enrollee x plan rows without a CSR-adjusted score, left out of PLRS in "
            "%d plan x rating area rows (check %s)",
            year,
            unscored,
            len(missing),
            CSR_ADJUSTED_SCORES,
        )
    yield dg.MaterializeResult(
        metadata={
            **tables,
            "ratee_rows": rows,
            "gcf_file": str(files.gcf or "none (GCF 1.0)"),
            "age_curve": str(files.age_curve or "federal default"),
            "transfer_elements": arrow_table_metadata(table, table.column_names),
            "enrollees_without_csr_adjusted_score": unscored,
        }
    )
    columns = ("run", *MISSING_CSR_COLUMNS)
    shown = [[row[c] for c in columns] for row in missing[:MAX_ROWS]]
    yield dg.AssetCheckResult(
        check_name=CSR_ADJUSTED_SCORES,
        passed=not missing,
        metadata={
            "enrollees_without_csr_adjusted_score": unscored,
            **(
                {"rows": dg.MetadataValue.md(markdown_table(columns, shown, len(missing)))}
                if missing
                else {}
            ),
        },
    )


@dg.asset(
    key=TRANSFER_ESTIMATE,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[TRANSFER_ELEMENTS],
    description=(
        "State transfer estimate per plan x rating area of each state risk pool (REGTAP FAQ "
        "8487): the issuer's rows (from its RATEE, PLRS and ARF unrounded) with the other "
        "issuers' (the market file), the spec section 8 formula (pools sum to zero), high-cost risk pool payments (60 % of paid claims above $1M) and the RA "
        "user fee per billable member month."
    ),
    metadata={"warehouse_tables": ", ".join(ESTIMATE_TABLES)},
)
def transfer_estimate(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    transfer_settings: TransferSettingsResource,
) -> dg.MaterializeResult:
    """Estimate the transfer of every run of the year."""
    year = int(context.partition_key)
    files = _files(transfer_settings)
    with warehouse.get_connection() as con:
        for run in scoring_runs(con, year):
            estimate = estimate_transfers(
                con, run, market_path=files.market_pool, user_fee_path=files.user_fee
            )
            context.log.info("transfer estimate %s: %s", run.label, estimate_summary(estimate))
        table = con.sql(
            """
            SELECT state, risk_pool, plan_id, rating_area, source, metal, billable_member_months,
              round(plrs, 3) AS plrs, round(arf, 3) AS arf, gcf,
              round(premium_pmpm, 2) AS premium_pmpm, round(share, 6) AS share,
              round(transfer_pmpm, 2) AS transfer_pmpm, transfer_total, hcrp_payment, user_fee
            FROM transfer_estimate WHERE benefit_year = ?
            ORDER BY state, risk_pool, source, plan_id, rating_area
            """,
            params=[year],
        ).to_arrow_table()
        tables = table_metadata(con, list(ESTIMATE_TABLES), ("benefit_year = ?", [year]))
    issuer_rows = [row for row in table.to_pylist() if row["source"] == "issuer"]
    return dg.MaterializeResult(
        metadata={
            **tables,
            "market_file": str(files.market_pool or "none (issuer's plans only)"),
            "plans": table.num_rows,
            "issuer_transfer_total": float(sum(r["transfer_total"] for r in issuer_rows)),
            "issuer_hcrp_payments": float(sum(r["hcrp_payment"] or 0 for r in issuer_rows)),
            "issuer_user_fee": float(sum(r["user_fee"] or 0 for r in issuer_rows)),
            "transfer_estimate": arrow_table_metadata(table, table.column_names),
        }
    )
