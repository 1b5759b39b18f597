"""Scoring runs: which (benefit year, issuer, execution zone) combinations Phase 2 covers.

EDGE scores one issuer's data of one benefit year in one zone at a time (data of different
zones never mix), so every Phase 2 table is scoped by that triple.  A run exists for a benefit
year when the issuer's active enrollment (the latest processed ESES) covers a day of that year.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

#: Benefit years whose DIY tables the risk model is built and tested against (the reference
#: directory may hold more; scoring another year fails naming the missing or unparsed table).
SUPPORTED_BENEFIT_YEARS: tuple[int, ...] = (2024, 2025)


@dataclass(frozen=True, order=True)
class ScoringRun:
    """One issuer's Phase 2 processing of one benefit year in one execution zone."""

    benefit_year: int
    issuer_id: str
    execution_zone: str

    @property
    def params(self) -> list[object]:
        """The run's key as SQL parameters, in ``RUN_COLUMNS`` order."""
        return [self.benefit_year, self.issuer_id, self.execution_zone]

    @property
    def label(self) -> str:
        """How logs and metadata name the run (no member data in it)."""
        return f"BY{self.benefit_year} issuer {self.issuer_id} zone {self.execution_zone}"


def run_filter(alias: str = "") -> str:
    """SQL filter selecting one run's rows (parameters: ``ScoringRun.params``)."""
    prefix = f"{alias}." if alias else ""
    return f"{prefix}benefit_year = ? AND {prefix}issuer_id = ? AND {prefix}execution_zone = ?"


#: ``run_filter()`` of an unaliased table.
RUN_FILTER = run_filter()


def scoring_runs(con: duckdb.DuckDBPyConnection, benefit_year: int) -> list[ScoringRun]:
    """The runs of ``benefit_year``: issuers and zones whose active enrollment touches it."""
    rows = con.execute(
        """
        SELECT DISTINCT issuer_id, execution_zone FROM active_enrollment
        WHERE start_date <= make_date(?, 12, 31) AND end_date >= make_date(?, 1, 1)
        ORDER BY ALL
        """,
        [benefit_year, benefit_year],
    ).fetchall()
    return [ScoringRun(benefit_year, issuer, zone) for issuer, zone in rows]
