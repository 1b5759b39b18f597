"""The HHS risk adjustment user fee: a charge per billable member month of each benefit year.

HHS sets the fee in each year's Notice of Benefit and Payment Parameters, so it is data, not
code: a CSV ``benefit_year,user_fee_pmpm``.  The package ships the public values
(``edge_pipeline/transfer_config/ra_user_fee.csv``: 2024 $0.21, 2025 $0.20 PMPM); a deployment
passes its own file for a newer year without a release.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from edge_pipeline.edge.transfer.inputs import TransferInputError, decimal_cell, read_csv

#: The shipped default, inside the package.
DEFAULT_USER_FEE_PATH = Path(__file__).resolve().parents[2] / "transfer_config" / "ra_user_fee.csv"


def read_user_fees(path: Path | None = None) -> dict[int, Decimal]:
    """User fee PMPM by benefit year from ``path`` (default: the shipped file)."""
    path = path or DEFAULT_USER_FEE_PATH
    _, rows = read_csv(path, ("benefit_year", "user_fee_pmpm"))
    fees: dict[int, Decimal] = {}
    for line, row in rows:
        year_text = row["benefit_year"]
        if not (year_text.isdigit() and len(year_text) == 4):
            raise TransferInputError(path, line, "benefit_year", f"not a year: {year_text!r}")
        year = int(year_text)
        if year in fees:
            raise TransferInputError(path, line, "benefit_year", f"{year} listed twice")
        fees[year] = decimal_cell(path, line, row, "user_fee_pmpm")
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
