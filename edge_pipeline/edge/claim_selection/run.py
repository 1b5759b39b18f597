"""The scoring run a selection belongs to, and the temporary tables it works in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from edge_pipeline.edge.sql import bound


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

    @property
    def params(self) -> dict[str, object]:
        """The bound values of ``$issuer`` and ``$zone`` (they come from the files loaded, so
        they reach DuckDB as parameters, never as SQL text)."""
        return {"issuer": self.issuer_id, "zone": self.execution_zone}

    def scope(self, alias: str) -> str:
        """Predicate keeping ``alias``'s rows of this issuer and zone (uses :attr:`params`)."""
        return f"{alias}.issuer_id = $issuer AND {alias}.execution_zone = $zone"

    def columns(self) -> str:
        """The run columns, for ``INSERT ... SELECT`` (uses :attr:`params`)."""
        return (
            f"{int(self.benefit_year)} AS benefit_year, $issuer::VARCHAR AS issuer_id, "
            "$zone::VARCHAR AS execution_zone"
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


def create_temp(
    con: duckdb.DuckDBPyConnection, name: str, sql: str, params: Mapping[str, object] | None = None
) -> None:
    """Materialise ``sql`` once: the active-claim views are re-evaluated at every reference,
    and the rules read each fact table several times.  ``params``: the ``$name`` values it may
    use (``Run.params``)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", bound(sql, params or {}))


def drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for name in TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")
