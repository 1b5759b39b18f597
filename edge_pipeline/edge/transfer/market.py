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

from edge_pipeline.edge.config_csv import Column, read_config_csv, text
from edge_pipeline.edge.transfer.formula import PlanInput
from edge_pipeline.edge.transfer.inputs import PLAN_COLUMNS, TransferInputError, plan_input

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
    """One other issuer's plan of a state risk pool."""

    line: int
    state: str
    risk_pool: str
    issuer_id: str
    plan: PlanInput


def read_market(path: Path) -> list[MarketPlan]:
    """Every plan row of the market file, validated (see the module doc)."""
    _, rows = read_config_csv(path, MARKET_SPEC)
    plans: list[MarketPlan] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows:
        state, pool, plan_id = row["state"].upper(), row["risk_pool"], row["plan_id"]
        if (state, pool, plan_id) in seen:
            raise TransferInputError(
                path,
                row.line,
                "plan_id",
                f"{plan_id!r} already on line {seen[state, pool, plan_id]}",
            )
        seen[state, pool, plan_id] = row.line
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
