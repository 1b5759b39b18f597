"""A scanner for the synthetic population's PHI in text: member ids, subscriber ids, birth dates.

The tokens come from the warehouse a demo filled (so the scan needs no knowledge of the
generator).  Short or ambiguous tokens are left out, since they would match innocent text:
ids shorter than :data:`MIN_ID_LENGTH`, and birth dates that are not ``YYYY-MM-DD`` or that the
warehouse also holds as a date of another kind (a coverage, service or file date, printed
legitimately).  The layouts declare no names, so there are none to look for.

A hit is reported by where it was found and a masked form of the token (its kind, first two
characters and length), never the token itself.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from edge_pipeline.edge.layouts import INBOUND_LAYOUTS
from edge_pipeline.edge.layouts.common import HEADER

MIN_ID_LENGTH = 6
BIRTH_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: (table, column) holding member and subscriber ids in the landing tables.
ID_COLUMNS = (
    ("enrollee", "insured_member_identifier"),
    ("enrollment_period", "subscriber_identifier"),
    ("medical_claim", "insured_member_identifier"),
    ("pharmacy_claim", "insured_member_identifier"),
    ("supplemental_record", "insured_member_identifier"),
)


def _other_date_columns() -> list[tuple[str, str]]:
    """Every date or date-time column of the landing tables but the birth date: a birth date
    equal to one of their values is ambiguous (it may be printed as, say, a coverage date) and
    is not looked for."""
    columns = [("submission_file", e.column) for e in HEADER if e.kind in ("date", "datetime")]
    for layout in INBOUND_LAYOUTS:
        for record, _ in layout.records():
            columns += [
                (record.table, f.column)
                for f in record.value_fields
                if f.kind in ("date", "datetime") and f.column != "insured_member_birth_date"
            ]
    # the plan registry's effective dates are printed in the reference tables' metadata
    columns += [("ref_plan", "effective_start_date"), ("ref_plan", "effective_end_date")]
    return sorted(set(columns))


@dataclass(frozen=True)
class Hit:
    where: str
    kind: str
    masked: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} {self.masked}"


def mask(token: str) -> str:
    return f"{token[:2]}…({len(token)} chars)"


class PhiScanner:
    """Finds any of ``tokens`` (kind -> values) in text or bytes."""

    def __init__(self, tokens: dict[str, set[str]]) -> None:
        self.kind = {value: kind for kind, values in tokens.items() for value in values}
        # ids match anywhere (they are long random hex); dates must not be part of a longer
        # number, or 1990-01-01 would match inside 11990-01-012
        self.bounded = {
            t: re.compile(rf"(?<!\d){re.escape(t)}(?!\d)")
            for t in self.kind
            if BIRTH_DATE.fullmatch(t)
        }

    def __len__(self) -> int:
        return len(self.kind)

    def scan(self, text: str | bytes, where: str) -> list[Hit]:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        # ``in`` per token (C speed) rather than one big alternation regex
        found = [
            t
            for t in self.kind
            if t in text and (t not in self.bounded or self.bounded[t].search(text))
        ]
        return [Hit(where, self.kind[t], mask(t)) for t in sorted(found)]


def _values(con: duckdb.DuckDBPyConnection, columns: Iterable[tuple[str, str]]) -> set[str]:
    values: set[str] = set()
    for table, column in columns:
        rows = con.execute(f'SELECT DISTINCT "{column}"::VARCHAR FROM {table}').fetchall()
        values.update(str(v).strip() for (v,) in rows if v is not None)
    return values


def population_tokens(warehouse: Path) -> dict[str, set[str]]:
    """Member ids, subscriber ids and birth dates of the population in ``warehouse``."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ids = {v for v in _values(con, ID_COLUMNS) if len(v) >= MIN_ID_LENGTH}
        births = _values(con, [("enrollee", "insured_member_birth_date")])
        others = {v[:10] for v in _values(con, _other_date_columns())}
    finally:
        con.close()
    dates = {d for d in births if BIRTH_DATE.fullmatch(d) and d not in others}
    return {"member or subscriber id": ids, "birth date": dates}


def xlsx_parts(path: Path) -> Iterator[tuple[str, bytes]]:
    """Every XML part of a workbook (sheets, shared strings, ...), by member name."""
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if name.endswith((".xml", ".rels")):
                yield name, book.read(name)
