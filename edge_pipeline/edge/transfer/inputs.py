"""The transfer's configuration CSVs: their typed columns, read by the shared reader.

Pool files, market files, geographic cost factors, age curves and user fees are edited by hand
or exported from actuaries' spreadsheets; :mod:`edge_pipeline.base.config_csv` reads them all, so
a bad cell fails with a message the person who edits the file can act on ("pool.csv line 4,
column plrs: not a number: '1,4'") rather than with a traceback from deep inside the formula.
This module holds what the transfer files share: the plan columns and their bounds.
"""

from __future__ import annotations

from edge_pipeline.base.config_csv import Column, ConfigCsvError, decimal, text
from edge_pipeline.edge.transfer.formula import PlanInput, normalize_metal

#: The transfer's input errors are the configuration CSV errors (one class, one message form).
TransferInputError = ConfigCsvError

#: Upper bounds far above any real value, far below what breaks the arithmetic (``1e308``).
MAX_MEMBER_MONTHS = 10**9
MAX_FACTOR = 100  # risk scores, rating factors, GCFs, premium ratios (real ones: 0.5 to 5)
MAX_PREMIUM_PMPM = 100_000


def metal(value: str) -> str:
    """A metal level given as word or P/G/S/B/C letter, as the normalised word."""
    return normalize_metal(value)


def _rating_area(value: str) -> str:
    """An optional rating area cell: blank (or absent) means the plan in all its areas."""
    return rating_area_code(value) if value else ""


#: The plan columns of pool and market files; ``rating_area`` is optional (one row per plan x
#: rating area, REGTAP FAQ 8487; blank or absent: the plan in all its rating areas).
PLAN_COLUMNS = (
    Column("plan_id", text),
    Column("metal", metal),
    Column("billable_member_months", decimal(MAX_MEMBER_MONTHS)),
    Column("plrs", decimal(MAX_FACTOR)),
    Column("arf", decimal(MAX_FACTOR, positive=True)),
    Column("gcf", decimal(MAX_FACTOR, positive=True)),
    Column("premium_pmpm", decimal(MAX_PREMIUM_PMPM, positive=True)),
    Column("rating_area", _rating_area, required=False),
)


def plan_input(values: dict) -> PlanInput:
    """The formula's input from a row read with :data:`PLAN_COLUMNS`."""
    fields = {c.name: values[c.name] for c in PLAN_COLUMNS if c.name != "rating_area"}
    return PlanInput(**fields, rating_area=values.get("rating_area") or "")


def rating_area_code(value: str) -> str:
    """Rating areas as ESES carries them: ``"1"`` and ``"001"`` both mean area ``001``."""
    text = value.strip()
    return text.zfill(3) if text.isdigit() else text


def check_row_key(
    path: object, seen: dict[tuple, int], line: int, plan_key: tuple, rating_area: str
) -> None:
    """Refuse a repeated plan x rating area row, and a plan given both as an "all areas" row
    (blank ``rating_area``) and per rating area (its BMM would count twice).  ``seen`` maps
    ``(*plan_key, rating_area)`` to its line and is updated."""
    plan_id = plan_key[-1]
    where = f" in rating area {rating_area}" if rating_area else ""
    if (*plan_key, rating_area) in seen:
        raise TransferInputError(
            path,
            line,
            "plan_id",
            f"{plan_id!r}{where} already on line {seen[*plan_key, rating_area]}",
        )
    clash = [
        n
        for key, n in seen.items()
        if key[:-1] == plan_key and (key[-1] == "") != (rating_area == "")
    ]
    if clash:
        raise TransferInputError(
            path, line, "rating_area", f"{plan_id!r} is on line {clash[0]} both for all rating "
            "areas (blank rating_area) and per rating area: give one or the other",
        )  # fmt: skip
    seen[*plan_key, rating_area] = line
