"""Small query helpers every part of the core shares.

Why they exist: DuckDB keeps a partly fetched result open (``fetchone`` on any query) and then
refuses the connection's next relation query (``con.sql``) until it is drained.  Fetching
whole results, however small, keeps every connection usable for whatever runs next.
"""

from __future__ import annotations

import duckdb


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple | None:
    """The query's first row (``fetchall``, never ``fetchone``: see the module doc)."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> object:
    """The first column of the query's first row (``None`` when there is no row)."""
    row = first_row(con, sql, params)
    return row[0] if row else None


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` exists (queries degrade to "nothing there" on a fresh warehouse)."""
    return bool(scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]))
