"""The HHS risk adjustment user fee: a charge per billable member month of each benefit year.

HHS sets the fee in each year's Notice of Benefit and Payment Parameters, so it is data, not
code: a CSV ``benefit_year,user_fee_pmpm``.  The package ships the public values
(``edge_pipeline/transfer_config/ra_user_fee.csv``: 2024 $0.21, 2025 $0.20 PMPM); a deployment
passes its own file for a newer year without a release.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from edge_pipeline.base.config_csv import Column, decimal, read_config_csv, year
from edge_pipeline.edge.transfer.inputs import TransferInputError

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
