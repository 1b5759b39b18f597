"""The market file: the other issuers' plans of the state risk pools, as aggregates.

An issuer sees only its own members; the transfer depends on the whole state pool.  Before
HHS publishes its summary report, issuers estimate the rest of the market from public rate
filings and prior-year reports, as one row per plan x rating area::

    state,risk_pool,issuer_id,plan_id,metal,billable_member_months,plrs,arf,gcf,premium_pmpm[,rating_area]

The formula applies to plan x rating area rows (REGTAP FAQ 8487), so the optional
``rating_area`` column gives each plan's areas a row of their own; a blank or absent
``rating_area`` is the plan in all its areas (one row per plan, as before).  A plan cannot be
given both ways, nor an area twice.

``risk_pool`` is ``individual``, ``small_group`` or ``catastrophic`` (``small group`` is read
as ``small_group``); ``metal`` is a word or a P/G/S/B/C letter.  No member data: the file holds
plan totals only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_pipeline.base.config_csv import Column, read_config_csv, text
from edge_pipeline.edge.transfer.formula import PlanInput
from edge_pipeline.edge.transfer.inputs import (
    PLAN_COLUMNS,
    TransferInputError,
    check_row_key,
    plan_input,
)

RISK_POOLS = ("individual", "small_group", "catastrophic")


def risk_pool_name(value: str) -> str:
    """``"Small Group"`` -> ``"small_group"`` (``ValueError`` for an unknown pool)."""
    name = "_".join(value.strip().lower().replace("-", " ").split())
    if name not in RISK_POOLS:
        raise ValueError(f"unknown risk pool {value!r} (expected one of {', '.join(RISK_POOLS)})")
    return name


#: The market file's columns (see the module doc).
MARKET_SPEC = (
    Column("state", text),
    Column("risk_pool", risk_pool_name),
    Column("issuer_id", text),
    *PLAN_COLUMNS,
)
MARKET_COLUMNS = tuple(column.name for column in MARKET_SPEC)


@dataclass(frozen=True)
class MarketPlan:
    """One other issuer's plan (x rating area, when the file gives one) of a state risk pool."""

    line: int
    state: str
    risk_pool: str
    issuer_id: str
    plan: PlanInput


def read_market(path: Path) -> list[MarketPlan]:
    """Every plan (x rating area) row of the market file, validated (see the module doc)."""
    _, rows = read_config_csv(path, MARKET_SPEC)
    plans: list[MarketPlan] = []
    seen: dict[tuple, int] = {}
    for row in rows:
        state, pool, plan_id = row["state"].upper(), row["risk_pool"], row["plan_id"]
        check_row_key(path, seen, row.line, (state, pool, plan_id), row["rating_area"] or "")
        metal = row["metal"]
        if (metal == "catastrophic") != (pool == "catastrophic"):
            raise TransferInputError(
                path, row.line, "risk_pool", "catastrophic plans, and only they, form the pool "
                f"'catastrophic' (metal {metal}, pool {pool})",
            )  # fmt: skip
        plans.append(
            MarketPlan(
                line=row.line,
                state=state,
                risk_pool=pool,
                issuer_id=row["issuer_id"],
                plan=plan_input(row.values),
            )
        )
    return plans
