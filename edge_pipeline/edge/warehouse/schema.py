"""Warehouse DDL, derived from the layouts so a renamed element never drifts from its column.

Landing tables keep every value as the raw text the issuer sent (VARCHAR); identifiers that
link records (``record_identifier`` and the ancestors' ``*_record_identifier``) are BIGINT.
Tables shared by several file types (``submission_issuer``, ``submission_plan``) get the union
of their columns; ``file_identifier`` says which file a row came from.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from edge_pipeline.edge.layouts import INBOUND_LAYOUTS, FileLayout
from edge_pipeline.edge.readers.stream import record_columns, repeated_columns

_DUCKDB_TYPES = {pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.string(): "VARCHAR"}

#: Columns of the file registry that are not taken from a layout's header or totals.
SUBMISSION_FILE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "BIGINT PRIMARY KEY"),
    ("file_identifier", "VARCHAR"),
    ("submission_type", "VARCHAR"),  # as the header says (may itself be a defect)
    ("layout", "VARCHAR"),  # ESES/ESMCS/ESPCS/ESSFS, from the root element
    ("execution_zone", "VARCHAR"),
    ("icd_release", "VARCHAR"),
    ("generation_datetime", "VARCHAR"),
    ("issuer_id", "VARCHAR"),
    ("path", "VARCHAR NOT NULL"),
    ("file_name", "VARCHAR NOT NULL"),
    ("size_bytes", "BIGINT"),
    ("sha256", "VARCHAR"),
    ("loaded_at", "TIMESTAMP NOT NULL"),
    ("status", "VARCHAR NOT NULL"),  # loaded | failed | refused
    ("error", "VARCHAR"),
    ("error_line", "BIGINT"),
    ("error_record", "VARCHAR"),
    ("error_record_identifier", "BIGINT"),
    ("error_element", "VARCHAR"),
    ("records_loaded", "BIGINT"),
    ("load_seconds", "DOUBLE"),
)

#: Layout name -> the warehouse tables a file of that type fills (besides ``submission_file``).
TABLE_GROUPS: dict[str, tuple[str, ...]] = {
    layout.name: layout.tables() for layout in INBOUND_LAYOUTS
}


def _table_columns(layouts: tuple[FileLayout, ...]) -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for layout in layouts:
        for record, ancestors in layout.records():
            columns = tables.setdefault(record.table, {"file_identifier": "VARCHAR NOT NULL"})
            for name, arrow_type in record_columns(record, ancestors):
                columns.setdefault(name, _DUCKDB_TYPES[arrow_type])
            for element in record.repeated_fields:
                columns = tables.setdefault(
                    element.table or "", {"file_identifier": "VARCHAR NOT NULL"}
                )
                for name, arrow_type in repeated_columns(record, ancestors, element):
                    columns.setdefault(name, _DUCKDB_TYPES[arrow_type])
    file_columns = dict(SUBMISSION_FILE_COLUMNS)
    for layout in layouts:
        for element in layout.totals:
            file_columns.setdefault(element.column, "VARCHAR")
    return {"submission_file": file_columns, **tables}


#: Table name -> column name -> DuckDB type, for every warehouse landing table.
TABLES: dict[str, dict[str, str]] = _table_columns(INBOUND_LAYOUTS)


def stored_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """Table name -> (column, DuckDB type) in the order the warehouse stores them.

    That order is ``TABLES``'s for a warehouse created by this release; in an older one, the
    columns ``ensure_schema`` added come last.  Positional inserts must follow it.
    """
    stored: dict[str, list[tuple[str, str]]] = {}
    for table, column, sql_type in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ).fetchall():
        stored.setdefault(table, []).append((column, sql_type))
    return stored


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing landing tables and add columns a newer release declares (idempotent;
    safe to call at the start of every load, so an existing warehouse keeps working)."""
    con.execute("CREATE SEQUENCE IF NOT EXISTS submission_file_load_id START 1")
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for table, columns in TABLES.items():
        if table not in existing:
            body = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
            continue
        for name, sql_type in columns.items():
            if name not in existing[table]:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type.split()[0]}")
