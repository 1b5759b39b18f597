"""The state transfer estimate of one scoring run: the issuer's plans in their state pools.

Per state x risk pool the issuer is in:

1. the issuer's rows, one per plan (14-character id) x rating area: its ``shadow_ratee`` rows
   as they are -- HHS aggregates risk scores "only to the plan level in a rating area" (REGTAP
   FAQ 8487), so PLRS, ARF, GCF, premium and billable member months are never averaged over a
   plan's rating areas -- with PLRS, ARF and premium PMPM unrounded (``*_exact``: issue 13
   item 2; RATEE shows them rounded);
2. the other issuers' rows of the same pool from the market file (:mod:`market`: per plan x
   rating area, or per plan for "all areas"); rows of the run's own issuer in that file are
   ignored, since its figures come from its own data, and pools the issuer is not in are not
   estimated;
3. the formula (:func:`formula.pool_transfers`) on those rows: share, transfer PMPM, transfer
   total rounded to the cent so that the pool sums to exactly zero; a plan's transfer is the
   sum of its rows';
4. on the issuer's rows only: ``hcrp_payment`` (Σ of the ``shadow_hcrp_enrollee`` rows of the
   plan whose enrollee's latest rating area in the plan is the row's, recomputed in the same
   transaction with the HCRPSR rows, :func:`hcrp.write_hcrp`) and ``user_fee`` = the year's
   user fee PMPM x the row's billable member months, rounded to the cent: the row's RAUF
   (``shadow_rauf``, :func:`user_fee.write_rauf`, written in the same transaction).

Without a market file the pool holds the issuer's plans alone (a within-issuer view).  The
run's ``transfer_estimate`` rows are replaced in one transaction; what is returned holds counts
and totals per pool, no member data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb

from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.ra_runs.runs import RUN_FILTER, ScoringRun, run_filter
from edge_pipeline.edge.ra_runs.schema import delete_run, ensure_phase2_schema
from edge_pipeline.edge.transfer.formula import CENT, PlanInput, PlanTransfer, pool_transfers
from edge_pipeline.edge.transfer.hcrp import write_hcrp
from edge_pipeline.edge.transfer.market import MarketPlan, read_market
from edge_pipeline.edge.transfer.schema import ensure_transfer_schema
from edge_pipeline.edge.transfer.user_fee import user_fee_pmpm, write_rauf

ESTIMATE_TABLE = "transfer_estimate"

#: Places of the ``transfer_estimate`` columns (``transfer/schema.py``): PLRS, ARF and premium
#: as the formula used them (far beyond the 3 and 2 places RATEE shows).
_PLACES = {
    "plrs": Decimal("0.0000000001"),
    "arf": Decimal("0.0000000001"),
    "gcf": Decimal("0.0001"),
    "premium_pmpm": Decimal("0.00000001"),
    "average_premium": CENT,
    "share": Decimal("0.000000000001"),
    "transfer_pmpm": Decimal("0.000001"),
}

_COLUMNS = (
    "benefit_year", "issuer_id", "execution_zone", "state", "risk_pool", "plan_id",
    "rating_area", "source",
    "metal", "billable_member_months", "plrs", "arf", "idf", "av", "gcf", "premium_pmpm",
    "share", "transfer_pmpm", "transfer_total", "hcrp_payment", "user_fee",
)  # fmt: skip


@dataclass(frozen=True)
class PoolEstimate:
    """Totals of one state risk pool (no member data); ``issuer_plans`` / ``market_plans``
    count plan x rating area rows."""

    state: str
    risk_pool: str
    issuer_plans: int
    market_plans: int
    billable_member_months: Decimal
    issuer_billable_member_months: Decimal
    average_premium: Decimal
    issuer_transfer: Decimal
    transfer_sum: Decimal  # Σ transfer_total of the pool: 0.00
    hcrp_payment: Decimal
    user_fee: Decimal


@dataclass(frozen=True)
class TransferEstimate:
    """What :func:`estimate_transfers` wrote for a run."""

    run: ScoringRun
    user_fee_pmpm: Decimal
    pools: tuple[PoolEstimate, ...]

    @property
    def rows(self) -> int:
        return sum(p.issuer_plans + p.market_plans for p in self.pools)

    @property
    def issuer_transfer(self) -> Decimal:
        """The issuer's net transfer over its pools (positive: it receives)."""
        return sum((p.issuer_transfer for p in self.pools), Decimal("0.00"))


def _q(value: Decimal | None, column: str) -> Decimal:
    return (value or Decimal(0)).quantize(_PLACES[column], rounding=ROUND_HALF_EVEN)


def issuer_plans(
    con: duckdb.DuckDBPyConnection, run: ScoringRun, table: str = "shadow_ratee"
) -> dict[tuple[str, str], list[PlanInput]]:
    """The issuer's plan x rating area rows per (state, risk pool), from its RATEE rows, with
    PLRS, ARF and premium PMPM unrounded where the table has them (``shadow_ratee``; a loaded
    ``reported_ratee`` has only what the file showed).  Rows are not averaged over rating
    areas (REGTAP FAQ 8487).  ``table``: ``shadow_ratee`` (the estimate), or
    ``reported_ratee`` (the reconciliation check recomputing EDGE's transfer)."""
    rows = con.execute(
        f"""
        SELECT state, risk_pool, plan_id, coalesce(rating_area, '') AS rating_area, metal,
          billable_member_months, coalesce(plrs_exact, plrs), coalesce(arf_exact, arf), gcf,
          coalesce(premium_pmpm_exact, premium_pmpm)
        FROM {table} WHERE {RUN_FILTER}
        ORDER BY state, risk_pool, plan_id, rating_area
        """,
        run.params,
    ).fetchall()
    pools: dict[tuple[str, str], list[PlanInput]] = {}
    for state, pool, plan_id, area, metal, bmm, plrs, arf, gcf, premium in rows:
        if metal is None:
            raise ValueError(f"plan {plan_id} has no metal level in the run's RATEE rows")
        zero = Decimal(0)
        pools.setdefault((state, pool), []).append(
            PlanInput(
                plan_id=plan_id,
                metal=metal,
                billable_member_months=bmm or zero,
                plrs=plrs if plrs is not None else zero,
                arf=arf if arf is not None else zero,
                gcf=gcf if gcf is not None else zero,
                premium_pmpm=premium if premium is not None else zero,
                rating_area=area,
            )
        )
    return pools


def _hcrp_by_row(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> dict[tuple[str, str], Decimal]:
    """(plan, rating area) -> Σ HCRP payments of the plan's enrollees whose latest rating area
    in the plan is that one (an enrollee's payment is not split: the pool pays per enrollee)."""
    rows = con.execute(
        f"""
        SELECT h.plan_id, coalesce(a.rating_area, '') AS rating_area, sum(h.hcrp_payment)
        FROM shadow_hcrp_enrollee h
        LEFT JOIN (
          SELECT member_id, left(plan_id, 14) AS plan14,
            arg_max(rating_area, (last_day, plan_id)) AS rating_area
          FROM ra_enrollee WHERE {RUN_FILTER} GROUP BY ALL
        ) a ON a.member_id = h.member_id AND a.plan14 = h.plan_id
        WHERE {run_filter("h")}
        GROUP BY ALL
        """,
        [*run.params, *run.params],
    ).fetchall()
    return {(plan, area): total for plan, area, total in rows}


def _fee_by_row(
    con: duckdb.DuckDBPyConnection, run: ScoringRun
) -> dict[tuple[str, str, str, str], Decimal]:
    """(state, risk pool, plan, rating area) -> the row's RA user fee (``shadow_rauf``)."""
    rows = con.execute(
        f"SELECT state, risk_pool, plan_id, coalesce(rating_area, ''), user_fee "
        f"FROM shadow_rauf WHERE {RUN_FILTER}",
        run.params,
    ).fetchall()
    return {(state, pool, plan, area): fee for state, pool, plan, area, fee in rows}


def _row(
    run: ScoringRun,
    pool: tuple[str, str],
    result: PlanTransfer,
    source: str,
    hcrp: Decimal | None,
    fee: Decimal | None,
) -> tuple:
    plan = result.plan
    return (
        *run.params, *pool, plan.plan_id, plan.rating_area, source, plan.metal, plan.billable_member_months,
        _q(plan.plrs, "plrs"), _q(plan.arf, "arf"), result.idf, result.av, _q(plan.gcf, "gcf"),
        _q(plan.premium_pmpm, "premium_pmpm"), _q(result.share, "share"),
        _q(result.transfer_pmpm, "transfer_pmpm"), result.transfer_total, hcrp, fee,
    )  # fmt: skip


def _pool_rows(
    run: ScoringRun,
    own: dict[tuple[str, str], list[PlanInput]],
    market: list[MarketPlan],
    hcrp: dict[tuple[str, str], Decimal],
    user_fees: dict[tuple[str, str, str, str], Decimal],
) -> tuple[list[tuple], list[PoolEstimate]]:
    """The formula per pool: the rows to store and the pool totals."""
    rows: list[tuple] = []
    pools: list[PoolEstimate] = []
    for key, plans in own.items():
        others = [m.plan for m in market if (m.state, m.risk_pool) == key]
        result = pool_transfers([*plans, *others])
        issuer_results = result.plans[: len(plans)]
        fees = [user_fees[(*key, p.plan_id, p.rating_area)] for p in plans]
        payments = [hcrp.get((p.plan_id, p.rating_area), Decimal("0.00")) for p in plans]
        rows += [
            _row(run, key, r, "issuer", payment, fee)
            for r, payment, fee in zip(issuer_results, payments, fees, strict=True)
        ]
        rows += [_row(run, key, r, "market", None, None) for r in result.plans[len(plans) :]]
        pools.append(
            PoolEstimate(
                state=key[0],
                risk_pool=key[1],
                issuer_plans=len(plans),
                market_plans=len(others),
                billable_member_months=sum(
                    (p.plan.billable_member_months for p in result.plans), Decimal(0)
                ),
                issuer_billable_member_months=sum(
                    (p.billable_member_months for p in plans), Decimal(0)
                ),
                average_premium=_q(result.average_premium, "average_premium"),
                issuer_transfer=sum((r.transfer_total for r in issuer_results), Decimal("0.00")),
                transfer_sum=result.total,
                hcrp_payment=sum(payments, Decimal("0.00")),
                user_fee=sum(fees, Decimal("0.00")),
            )
        )
    return rows, pools


def estimate_transfers(
    con: duckdb.DuckDBPyConnection,
    run: ScoringRun,
    *,
    market_path: Path | None,
    user_fee_path: Path | None = None,
) -> TransferEstimate:
    """Replace the run's ``transfer_estimate``, RAUF and HCRP rows, in one transaction
    (see the module doc).

    ``market_path``: the market file (``None``: the issuer's plans only).  ``user_fee_path``:
    ``benefit_year,user_fee_pmpm`` (``None``: the shipped HHS values).  The run's RATEE
    (:func:`elements.compute_transfer_elements`) must have been computed; the high-cost risk
    pool is recomputed here (:func:`hcrp.write_hcrp`) so its payments always match the claims
    the estimate was made from.  Input files are read before anything is written: a bad file
    leaves the previous estimate in place.
    """
    ensure_phase2_schema(con)
    ensure_transfer_schema(con)
    fee_pmpm = user_fee_pmpm(run.benefit_year, user_fee_path)
    own = issuer_plans(con, run)
    market = [
        m
        for m in (read_market(market_path) if market_path else [])
        if (m.state, m.risk_pool) in own and m.issuer_id != run.issuer_id
    ]
    placeholders = ", ".join("?" for _ in _COLUMNS)
    con.execute("BEGIN TRANSACTION")
    try:
        write_hcrp(con, run)
        write_rauf(con, run, fee_pmpm)
        rows, pools = _pool_rows(run, own, market, _hcrp_by_row(con, run), _fee_by_row(con, run))
        delete_run(con, (ESTIMATE_TABLE,), *run.params)
        if rows:
            con.executemany(
                f"INSERT INTO {ESTIMATE_TABLE} ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
                rows,
            )
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return TransferEstimate(run, fee_pmpm, tuple(pools))
