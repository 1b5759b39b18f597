"""``edge-pipeline transfer``: the formula over a pool CSV, written back with the results.

Input ``POOL.csv``: ``plan_id,metal,billable_member_months,plrs,arf,gcf,premium_pmpm``, an
optional ``pool`` column grouping rows into several pools (rows without it, or with it blank,
form one pool) and an optional ``rating_area`` column: one row per plan x rating area, the unit
the formula applies to (REGTAP FAQ 8487; blank or absent: the plan in all its areas).  Values
are used exactly as written (no rounding before the formula).  IDF and AV follow from the metal (word or P/G/S/B/C letter).  Other columns
are carried through untouched.

Output ``OUT.csv``: every input column as given, plus ``idf,av,share,transfer_pmpm,
transfer_total``, rows in input order.  ``share`` carries 12 decimals and ``transfer_pmpm``
6 (the precision of ``transfer_estimate``); ``transfer_total`` is rounded to the cent so that
each pool sums to exactly 0.00 (:func:`formula.round_to_zero_sum`).

Why a file interface: actuaries check an estimate by editing a pool in a spreadsheet and
re-running it, without a warehouse.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from edge_pipeline.base.config_csv import read_config_csv
from edge_pipeline.edge.transfer.formula import PlanInput, PoolError, PoolTransfer, pool_transfers
from edge_pipeline.edge.transfer.inputs import (
    PLAN_COLUMNS,
    TransferInputError,
    check_row_key,
    plan_input,
)

INPUT_COLUMNS = tuple(column.name for column in PLAN_COLUMNS if column.required)
POOL_COLUMN = "pool"
OUTPUT_COLUMNS = ("idf", "av", "share", "transfer_pmpm", "transfer_total")

SHARE_PLACES = Decimal("0.000000000001")
PMPM_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class PoolRow:
    """One input row: where it came from, its raw cells and the parsed plan."""

    line: int
    pool: str
    cells: dict[str, str]
    plan: PlanInput


@dataclass(frozen=True)
class PoolFileResult:
    """What the command computed: per pool, its plans' transfers (input order)."""

    pools: dict[str, PoolTransfer]

    @property
    def plans(self) -> int:
        return sum(len(p.plans) for p in self.pools.values())


def read_pool_csv(path: Path) -> tuple[list[str], list[PoolRow]]:
    """The header and parsed rows of a pool file; :class:`TransferInputError` on bad input."""
    header, rows = read_config_csv(path, PLAN_COLUMNS)
    computed = [name for name in OUTPUT_COLUMNS if name in header]
    if computed:
        raise TransferInputError(path, 1, computed[0], "is computed: remove it from the input")
    parsed: list[PoolRow] = []
    seen: dict[tuple, int] = {}
    for row in rows:
        pool, plan_id = row.cells.get(POOL_COLUMN, ""), row["plan_id"]
        check_row_key(path, seen, row.line, (pool, plan_id), row["rating_area"] or "")
        parsed.append(PoolRow(row.line, pool, row.cells, plan_input(row.values)))
    if not parsed:
        raise TransferInputError(path, None, None, "no plan rows")
    return header, parsed


def compute_pools(path: Path, rows: list[PoolRow]) -> dict[str, PoolTransfer]:
    """The formula per pool (pools in order of first appearance)."""
    pools: dict[str, list[PoolRow]] = {}
    for row in rows:
        pools.setdefault(row.pool, []).append(row)
    results = {}
    for pool, members in pools.items():
        try:
            results[pool] = pool_transfers([r.plan for r in members])
        except PoolError as exc:
            name = f"pool {pool!r}" if pool else "the pool"
            raise TransferInputError(path, members[0].line, None, f"{name}: {exc}") from None
    return results


def transfer_pool_file(pool_path: Path, out_path: Path) -> PoolFileResult:
    """Read ``pool_path``, apply the formula per pool and write ``out_path`` (see module doc).

    Nothing is written when the input is bad.
    """
    header, rows = read_pool_csv(pool_path)
    pools = compute_pools(pool_path, rows)
    position = {name: 0 for name in pools}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([*header, *OUTPUT_COLUMNS])
        for row in rows:
            result = pools[row.pool].plans[position[row.pool]]
            position[row.pool] += 1
            writer.writerow(
                [
                    *(row.cells[name] for name in header),
                    f"{result.idf:.2f}",
                    f"{result.av:.2f}",
                    f"{result.share.quantize(SHARE_PLACES)}",
                    f"{result.transfer_pmpm.quantize(PMPM_PLACES)}",
                    f"{result.transfer_total:.2f}",
                ]
            )
    return PoolFileResult(pools)
