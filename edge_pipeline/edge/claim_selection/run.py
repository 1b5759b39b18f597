"""The scoring run a selection belongs to, and the temporary tables it works in."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from edge_pipeline.edge.verification.sql import lit


@dataclass(frozen=True)
class Run:
    """``benefit_year`` x ``issuer_id`` x ``execution_zone``: the scope of every Phase 2 row
    (data of different zones never mix)."""

    benefit_year: int
    issuer_id: str
    execution_zone: str

    @property
    def first_day(self) -> str:
        """The benefit year's first day as a SQL DATE literal."""
        return f"DATE '{self.benefit_year}-01-01'"

    @property
    def last_day(self) -> str:
        return f"DATE '{self.benefit_year}-12-31'"

    def scope(self, alias: str) -> str:
        """Predicate keeping ``alias``'s rows of this issuer and zone."""
        return (
            f"{alias}.issuer_id = {lit(self.issuer_id)} "
            f"AND {alias}.execution_zone = {lit(self.execution_zone)}"
        )

    def columns(self) -> str:
        """The run columns as literals, for ``INSERT ... SELECT``."""
        return (
            f"{self.benefit_year} AS benefit_year, {lit(self.issuer_id)} AS issuer_id, "
            f"{lit(self.execution_zone)} AS execution_zone"
        )


#: Temporary tables of one selection, in creation order (dropped when it ends).
TEMP_TABLES = (
    "_cs_enrollment",
    "_cs_coverage",
    "_cs_medical_base",
    "_cs_line",
    "_cs_medical",
    "_cs_pharmacy",
    "_cs_supplemental_base",
    "_cs_supplemental",
)


def create_temp(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    """Materialise ``sql`` once: the active-claim views are re-evaluated at every reference,
    and the rules read each fact table several times."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")


def drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for name in TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")
