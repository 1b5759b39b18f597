"""Where the public CMS reference data lives, and small readers for the DIY tables.

Reference data (the HHS-HCC "Do It Yourself" tables, the federal default age curve) is read at
run time from a configurable directory and never copied into the repository: a deployment
points ``EDGE_REFERENCE_DIR`` at its own copy (for example after importing the official DIY
workbook of a new benefit year) without touching code.  In this workspace the data sits beside
the checkout in ``../shared/reference``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

#: Environment variable naming the reference directory; it wins over the workspace default.
ENV_VAR = "EDGE_REFERENCE_DIR"

#: The workspace default, relative to the folder that holds the repository checkout.
_WORKSPACE_RELATIVE = Path("shared") / "reference"

#: Folder of the DIY tables inside the reference directory, one ``cyYYYY`` folder per year.
DIY_FOLDER = "hhs_hcc_diy"

AGE_CURVE_FILE = "federal_default_age_curve.csv"


def reference_dir() -> Path:
    """The reference directory: ``$EDGE_REFERENCE_DIR`` if set, else ``../shared/reference``.

    Raises ``FileNotFoundError`` naming the setting, so a misconfigured deployment fails at the
    first read with an actionable message rather than deep inside a scoring step.
    """
    configured = os.environ.get(ENV_VAR)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"{ENV_VAR}={configured} is not a directory")
        return path
    repo_root = Path(__file__).resolve().parents[2]
    default = repo_root.parent / _WORKSPACE_RELATIVE
    if default.is_dir():
        return default
    raise FileNotFoundError(
        f"reference data not found: set {ENV_VAR} to the directory holding {DIY_FOLDER}/ "
        f"(looked for {default})"
    )


def available_benefit_years() -> list[int]:
    """Benefit years for which DIY tables are present, ascending."""
    root = reference_dir() / DIY_FOLDER
    years = []
    if root.is_dir():
        for child in root.iterdir():
            if child.is_dir() and child.name.startswith("cy") and child.name[2:].isdigit():
                years.append(int(child.name[2:]))
    return sorted(years)


def diy_dir(benefit_year: int, fallback_year: int | None = None) -> Path:
    """Folder of the DIY tables of ``benefit_year``.

    Risk scoring must use the tables of the scored year, so by default a missing year is an
    error.  Callers for whom any recent code set will do (the synthetic data generator) pass a
    ``fallback_year``.
    """
    root = reference_dir() / DIY_FOLDER
    path = root / f"cy{benefit_year}"
    if path.is_dir():
        return path
    if fallback_year is not None and (root / f"cy{fallback_year}").is_dir():
        return root / f"cy{fallback_year}"
    raise FileNotFoundError(
        f"no DIY tables for benefit year {benefit_year} in {root} "
        f"(available: {available_benefit_years()}; setting {ENV_VAR})"
    )


def diy_table_path(benefit_year: int, table: str, fallback_year: int | None = None) -> Path:
    """Path of one DIY table file, e.g. ``diy_table_path(2025, "table_3.csv")``."""
    path = diy_dir(benefit_year, fallback_year) / table
    if not path.is_file():
        raise FileNotFoundError(f"DIY table {table} missing in {path.parent}")
    return path


def read_diy_rows(
    benefit_year: int, table: str, fallback_year: int | None = None
) -> list[dict[str, str]]:
    """Rows of a DIY CSV table as dicts of raw strings (no type guessing: codes keep zeros)."""
    with diy_table_path(benefit_year, table, fallback_year).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def age_curve_path() -> Path:
    """The federal default age rating curve (premium ratio by age)."""
    path = reference_dir() / AGE_CURVE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{AGE_CURVE_FILE} missing in {path.parent}")
    return path


def read_age_curve() -> dict[int, float]:
    """Premium ratio by age from the federal default curve (64 and older share one factor)."""
    with age_curve_path().open(newline="", encoding="utf-8") as f:
        return {int(row["age"]): float(row["premium_ratio"]) for row in csv.DictReader(f)}
