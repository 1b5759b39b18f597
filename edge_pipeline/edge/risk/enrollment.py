"""ENROLDURATION: months enrolled in the benefit year from days enrolled (DIY table 1).

Table 1 defines month n by a day range (1 = 1-31 days, 2 = 32-62, …, 12 = 336-366).  The
ranges are not 30.5-day steps, so they are stated here once, as the table prints them, and
``test_risk_enrollment`` checks them against the table text of every benefit year.
"""

from __future__ import annotations

#: (months, first day, last day) exactly as DIY table 1 lists them.
DAY_RANGES: tuple[tuple[int, int, int], ...] = (
    (1, 1, 31),
    (2, 32, 62),
    (3, 63, 92),
    (4, 93, 123),
    (5, 124, 153),
    (6, 154, 184),
    (7, 185, 214),
    (8, 215, 245),
    (9, 246, 275),
    (10, 276, 306),
    (11, 307, 335),
    (12, 336, 366),
)


def enrollment_months(days: int) -> int:
    """ENROLDURATION for ``days`` enrolled in the benefit year (1-366, else ValueError)."""
    for months, first, last in DAY_RANGES:
        if first <= days <= last:
            return months
    raise ValueError(f"enrolled days {days} outside 1-366")


def enrollment_months_sql(col: str) -> str:
    """The same mapping as a SQL expression over an integer column (NULL outside 1-366)."""
    whens = " ".join(
        f"WHEN {col} BETWEEN {first} AND {last} THEN {months}" for months, first, last in DAY_RANGES
    )
    return f"(CASE {whens} END)"
