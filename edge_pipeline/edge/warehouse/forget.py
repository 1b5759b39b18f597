"""Remove every trace of given files from the warehouse, in one transaction.

Loads are append-only by design; this is the one sanctioned way to take a file back out (a
demo re-generating its synthetic files, an operator withdrawing a test-zone file), so that no
caller hand-writes DELETEs that could miss a table.

"Every trace" includes what was derived from the file: its shadow verdict, the outbound reports
about it and their reconciliation.  Those tables belong to later layers, so they are found by
their columns, not imported: every table with a ``file_identifier`` column, and the outbound
registry by ``inbound_file_identifier``.  A table added by a later layer is covered as soon as
it follows the convention.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.warehouse.schema import TABLES

#: Registries that name the file in another column (the outbound reports answering it).
_LINKED_COLUMNS: dict[str, str] = {"outbound_file": "inbound_file_identifier"}


def _tables_naming_files(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Table -> column holding the inbound fileIdentifier, for every table of the warehouse."""
    found = {table: "file_identifier" for table in TABLES}
    rows = con.execute(
        "SELECT c.table_name, c.column_name FROM duckdb_columns() c "
        "JOIN duckdb_tables() t ON t.table_name = c.table_name AND t.schema_name = c.schema_name "
        "WHERE c.schema_name = 'main' AND NOT t.temporary"
    ).fetchall()
    for table, column in rows:
        if column == "file_identifier" or _LINKED_COLUMNS.get(table) == column:
            found[table] = column
    return found


def forget_files(con: duckdb.DuckDBPyConnection, file_identifiers: Iterable[str]) -> int:
    """Delete the files' rows from every landing table, ``submission_file`` and every table
    derived from them; returns the number of ``submission_file`` rows removed."""
    identifiers = sorted(set(file_identifiers))
    if not identifiers:
        return 0
    tables = _tables_naming_files(con)
    con.execute("BEGIN TRANSACTION")
    try:
        (removed,) = con.execute(
            "SELECT count(*) FROM submission_file WHERE list_contains(?, file_identifier)",
            [identifiers],
        ).fetchall()[0]
        for table, column in sorted(tables.items()):
            con.execute(f'DELETE FROM "{table}" WHERE list_contains(?, "{column}")', [identifiers])
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return removed
