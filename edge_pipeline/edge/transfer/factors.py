"""Rating factors the RATEE needs besides the scores: the age curve and geographic cost factors.

* **Age curve** (allowable rating factor, ARF): the federal default standard age curve from the
  reference directory (:func:`edge_pipeline.edge.reference.read_age_curve`, never copied into
  the repository), or a state's own curve given as a CSV of the same shape
  (``age,premium_ratio``).  Ages below the curve's first age take its first factor (the curve
  starts at 0 anyway, with 0-14 sharing one factor); ages above its last take the last (64 and
  older: 3.000).
* **Geographic cost factors** (GCF): a CSV ``state,rating_area,gcf``.  HHS publishes them per
  state and rating area each year; a pair the file does not list, or no file at all, means
  1.0 -- the neutral factor, which leaves the formula as if costs were uniform in the state.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from edge_pipeline.base.config_csv import Column, decimal, read_config_csv, text, whole
from edge_pipeline.edge.reference import read_age_curve
from edge_pipeline.edge.transfer.inputs import MAX_FACTOR, TransferInputError, rating_area_code

#: ``age,premium_ratio`` of a state age curve.
AGE_CURVE_COLUMNS = (
    Column("age", whole(0, 130, "a whole age")),
    Column("premium_ratio", decimal(MAX_FACTOR, positive=True)),
)
#: ``state,rating_area,gcf`` of the geographic cost factors.
GCF_COLUMNS = (
    Column("state", text),
    Column("rating_area", text),
    Column("gcf", decimal(MAX_FACTOR, positive=True)),
)

#: GCF of a (state, rating area) the file does not list, and of every pair without a file.
DEFAULT_GCF = Decimal("1.0")


def age_curve(path: Path | None = None) -> dict[int, Decimal]:
    """Premium ratio by age: a state curve from ``path``, else the federal default curve.

    The curve must list every age from its first to its last (a gap would leave enrollees of
    that age without a factor).
    """
    if path is None:
        # 3-decimal ratios read as floats: str() restores the published decimal exactly
        return {age: Decimal(str(ratio)) for age, ratio in read_age_curve().items()}
    _, rows = read_config_csv(path, AGE_CURVE_COLUMNS)
    curve: dict[int, Decimal] = {}
    for row in rows:
        if row["age"] in curve:
            raise TransferInputError(path, row.line, "age", f"age {row['age']} listed twice")
        curve[row["age"]] = row["premium_ratio"]
    if not curve:
        raise TransferInputError(path, None, None, "no ages")
    missing = sorted(set(range(min(curve), max(curve) + 1)) - set(curve))
    if missing:
        raise TransferInputError(path, None, "age", f"ages missing from the curve: {missing}")
    return curve


def read_gcf(path: Path | None) -> dict[tuple[str, str], Decimal]:
    """GCF by (state, rating area) from ``path`` (``{}`` without a file: every GCF 1.0).

    States are upper-cased and all-digit rating areas zero-padded to ESES's three characters,
    so ``nc,1,1.05`` and ``NC,001,1.05`` mean the same.
    """
    if path is None:
        return {}
    _, rows = read_config_csv(path, GCF_COLUMNS)
    factors: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (row["state"].upper(), rating_area_code(row["rating_area"]))
        if key in factors:
            raise TransferInputError(path, row.line, "rating_area", f"{key} listed twice")
        factors[key] = row["gcf"]
    return factors
