"""Enrollees as Python objects, to and from the engine's four input tables.

The baseline scorer and the tests work with one ``Enrollee`` at a time; the engine works on
tables.  ``store_enrollees`` and ``fetch_enrollees`` convert between the two, so both scorers
can be run on exactly the same data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

#: Input table DDL by ``score_population`` keyword.
INPUT_DDL = {
    "persons": (
        "person_id VARCHAR, sex INTEGER, birth_date DATE, age_last INTEGER, metal VARCHAR, "
        "csr_indicator INTEGER, enrol_duration INTEGER"
    ),
    "diagnoses": "person_id VARCHAR, icd10 VARCHAR, service_date DATE",
    "ndcs": "person_id VARCHAR, ndc VARCHAR",
    "hcpcs": "person_id VARCHAR, hcpcs VARCHAR",
}


@dataclass
class Enrollee:
    """One enrollee with its codes, as the DIY input files describe it."""

    person_id: str
    sex: int | None
    birth_date: dt.date | None
    age_last: int | None
    metal: str
    csr_indicator: int | None
    enrol_duration: int | None
    diagnoses: list[tuple[str, dt.date | None]] = field(default_factory=list)
    ndcs: list[str] = field(default_factory=list)
    hcpcs: list[str] = field(default_factory=list)


def store_enrollees(
    con: duckdb.DuckDBPyConnection, enrollees: Iterable[Enrollee], prefix: str = "in_"
) -> dict[str, str]:
    """Write ``enrollees`` into ``{prefix}persons/diagnoses/ndcs/hcpcs`` TEMP tables."""
    people = list(enrollees)
    rows = {
        "persons": [
            (
                e.person_id,
                e.sex,
                e.birth_date,
                e.age_last,
                e.metal,
                e.csr_indicator,
                e.enrol_duration,
            )
            for e in people
        ],
        "diagnoses": [(e.person_id, code, date) for e in people for code, date in e.diagnoses],
        "ndcs": [(e.person_id, code) for e in people for code in e.ndcs],
        "hcpcs": [(e.person_id, code) for e in people for code in e.hcpcs],
    }
    tables = {}
    for role, ddl in INPUT_DDL.items():
        table = f"{prefix}{role}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({ddl})")
        columns = [c.split()[0] for c in ddl.split(", ")]
        if rows[role]:
            data = pa.table({c: [r[i] for r in rows[role]] for i, c in enumerate(columns)})
            con.register("_enrollee_rows", data)
            try:
                con.execute(f"INSERT INTO {table} SELECT * FROM _enrollee_rows")
            finally:
                con.unregister("_enrollee_rows")
        tables[role] = table
    return tables


def fetch_enrollees(
    con: duckdb.DuckDBPyConnection,
    *,
    persons: str,
    diagnoses: str,
    ndcs: str,
    hcpcs: str,
    where: str = "TRUE",
) -> Iterator[Enrollee]:
    """Enrollees of the engine's input tables (``where`` filters persons), codes attached."""
    people = {
        row[0]: Enrollee(*row)
        for row in con.execute(
            f"SELECT person_id, sex, birth_date, age_last, metal, csr_indicator, enrol_duration "
            f"FROM {persons} WHERE {where}"
        ).fetchall()
    }
    chosen = f"person_id IN (SELECT person_id FROM {persons} WHERE {where})"
    for pid, code, date in con.execute(
        f"SELECT person_id, icd10, service_date FROM {diagnoses} WHERE {chosen}"
    ).fetchall():
        people[pid].diagnoses.append((code, date))
    for table, column, attr in ((ndcs, "ndc", "ndcs"), (hcpcs, "hcpcs", "hcpcs")):
        for pid, code in con.execute(
            f"SELECT person_id, {column} FROM {table} WHERE {chosen}"
        ).fetchall():
            getattr(people[pid], attr).append(code)
    yield from people.values()
