"""The market file: the other issuers' plans of the state risk pools, as aggregates.

An issuer sees only its own members; the transfer depends on the whole state pool.  Before
HHS publishes its summary report, issuers estimate the rest of the market from public rate
filings and prior-year reports, as one row per plan::

    state,risk_pool,issuer_id,plan_id,metal,billable_member_months,plrs,arf,gcf,premium_pmpm

``risk_pool`` is ``individual``, ``small_group`` or ``catastrophic`` (``small group`` is read
as ``small_group``); ``metal`` is a word or a P/G/S/B/C letter.  No member data: the file holds
plan totals only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_pipeline.edge.transfer.formula import PlanInput
from edge_pipeline.edge.transfer.inputs import (
    TransferInputError,
    decimal_cell,
    metal_cell,
    read_csv,
    text_cell,
)

MARKET_COLUMNS = (
    "state",
    "risk_pool",
    "issuer_id",
    "plan_id",
    "metal",
    "billable_member_months",
    "plrs",
    "arf",
    "gcf",
    "premium_pmpm",
)

RISK_POOLS = ("individual", "small_group", "catastrophic")


@dataclass(frozen=True)
class MarketPlan:
    """One other issuer's plan of a state risk pool."""

    line: int
    state: str
    risk_pool: str
    issuer_id: str
    plan: PlanInput


def risk_pool_name(value: str) -> str:
    """``"Small Group"`` -> ``"small_group"`` (``ValueError`` for an unknown pool)."""
    name = "_".join(value.strip().lower().replace("-", " ").split())
    if name not in RISK_POOLS:
        raise ValueError(f"unknown risk pool {value!r} (expected one of {', '.join(RISK_POOLS)})")
    return name


def read_market(path: Path) -> list[MarketPlan]:
    """Every plan row of the market file, validated (see the module doc)."""
    _, rows = read_csv(path, MARKET_COLUMNS)
    plans: list[MarketPlan] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in rows:
        state = text_cell(path, line, row, "state").upper()
        try:
            pool = risk_pool_name(text_cell(path, line, row, "risk_pool"))
        except ValueError as exc:
            raise TransferInputError(path, line, "risk_pool", str(exc)) from None
        plan_id = text_cell(path, line, row, "plan_id")
        if (state, pool, plan_id) in seen:
            raise TransferInputError(
                path, line, "plan_id", f"{plan_id!r} already on line {seen[state, pool, plan_id]}"
            )
        seen[state, pool, plan_id] = line
        metal = metal_cell(path, line, row)
        if (metal == "catastrophic") != (pool == "catastrophic"):
            raise TransferInputError(
                path, line, "risk_pool", "catastrophic plans, and only they, form the pool "
                f"'catastrophic' (metal {metal}, pool {pool})",
            )  # fmt: skip
        plans.append(
            MarketPlan(
                line=line,
                state=state,
                risk_pool=pool,
                issuer_id=text_cell(path, line, row, "issuer_id"),
                plan=PlanInput(
                    plan_id=plan_id,
                    metal=metal,
                    billable_member_months=decimal_cell(path, line, row, "billable_member_months"),
                    plrs=decimal_cell(path, line, row, "plrs"),
                    arf=decimal_cell(path, line, row, "arf", positive=True),
                    gcf=decimal_cell(path, line, row, "gcf", positive=True),
                    premium_pmpm=decimal_cell(path, line, row, "premium_pmpm", positive=True),
                ),
            )
        )
    return plans
