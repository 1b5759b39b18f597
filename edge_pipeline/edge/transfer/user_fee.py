"""The HHS risk adjustment user fee: a charge per billable member month of each benefit year.

HHS sets the fee in each year's Notice of Benefit and Payment Parameters, so it is data, not
code: a CSV ``benefit_year,user_fee_pmpm``.  The package ships the public values
(``edge_pipeline/transfer_config/ra_user_fee.csv``: 2024 $0.21, 2025 $0.20 PMPM); a deployment
passes its own file for a newer year without a release.

The fee of each RATEE row (plan x rating area x risk pool) is ``shadow_rauf``, what the RAUF
report states: the row's billable member months x the fee PMPM, rounded to the cent (half away
from zero).  The transfer estimate takes its ``user_fee`` from there, so the two never differ.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

from edge_pipeline.base.config_csv import Column, decimal, read_config_csv, year
from edge_pipeline.base.warehouse.query import scalar
from edge_pipeline.edge.ra_runs.runs import RUN_FILTER, ScoringRun
from edge_pipeline.edge.ra_runs.schema import delete_run, ensure_phase2_schema
from edge_pipeline.edge.transfer.inputs import TransferInputError

RAUF_TABLE = "shadow_rauf"

#: The shipped default, inside the package.
DEFAULT_USER_FEE_PATH = Path(__file__).resolve().parents[2] / "transfer_config" / "ra_user_fee.csv"
#: ``benefit_year,user_fee_pmpm`` (HHS fees have been cents; a dollar bound catches typos).
USER_FEE_COLUMNS = (Column("benefit_year", year), Column("user_fee_pmpm", decimal(1000)))


def read_user_fees(path: Path | None = None) -> dict[int, Decimal]:
    """User fee PMPM by benefit year from ``path`` (default: the shipped file)."""
    path = path or DEFAULT_USER_FEE_PATH
    _, rows = read_config_csv(path, USER_FEE_COLUMNS)
    fees: dict[int, Decimal] = {}
    for row in rows:
        if row["benefit_year"] in fees:
            raise TransferInputError(
                path, row.line, "benefit_year", f"{row['benefit_year']} listed twice"
            )
        fees[row["benefit_year"]] = row["user_fee_pmpm"]
    return fees


def user_fee_pmpm(benefit_year: int, path: Path | None = None) -> Decimal:
    """The fee of ``benefit_year``; a year the file does not list is an error (a guessed fee
    would silently misstate every plan's net transfer)."""
    fees = read_user_fees(path)
    if benefit_year not in fees:
        raise TransferInputError(
            path or DEFAULT_USER_FEE_PATH,
            None,
            "benefit_year",
            f"no user fee for benefit year {benefit_year} (listed: {sorted(fees)})",
        )
    return fees[benefit_year]


def write_rauf(con: duckdb.DuckDBPyConnection, run: ScoringRun, fee_pmpm: Decimal) -> int:
    """Replace the run's ``shadow_rauf`` rows, one per ``shadow_ratee`` row, inside the caller's
    transaction (the transfer estimate's); returns how many."""
    ensure_phase2_schema(con)
    delete_run(con, (RAUF_TABLE,), *run.params)
    con.execute(
        f"""
        INSERT INTO {RAUF_TABLE} BY NAME
        SELECT benefit_year, issuer_id, execution_zone, state, risk_pool, plan_id, rating_area,
          billable_member_months, CAST($fee AS DECIMAL(12,4)) AS user_fee_pmpm,
          CAST(round(coalesce(billable_member_months, 0) * CAST($fee AS DECIMAL(12,4)), 2)
            AS DECIMAL(18,2)) AS user_fee
        FROM shadow_ratee
        WHERE benefit_year = $year AND issuer_id = $issuer AND execution_zone = $zone
        """,
        {"fee": fee_pmpm, "year": run.benefit_year, "issuer": run.issuer_id,
         "zone": run.execution_zone},
    )  # fmt: skip
    rows = scalar(con, f"SELECT count(*) FROM {RAUF_TABLE} WHERE {RUN_FILTER}", run.params)
    return int(rows or 0)
