"""Remove every trace of given files from the warehouse, in one transaction.

Loads are append-only by design; this is the one sanctioned way to take a file back out (a
demo re-generating its synthetic files, an operator withdrawing a test-zone file), so that no
caller hand-writes DELETEs that could miss a table.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from edge_pipeline.edge.warehouse.schema import TABLES


def forget_files(con: duckdb.DuckDBPyConnection, file_identifiers: Iterable[str]) -> int:
    """Delete the files' rows from every landing table and ``submission_file``; returns the
    number of ``submission_file`` rows removed."""
    identifiers = sorted(set(file_identifiers))
    if not identifiers:
        return 0
    con.execute("BEGIN TRANSACTION")
    try:
        (removed,) = con.execute(
            "SELECT count(*) FROM submission_file WHERE list_contains(?, file_identifier)",
            [identifiers],
        ).fetchone()
        for table in TABLES:
            con.execute(
                f'DELETE FROM "{table}" WHERE list_contains(?, file_identifier)', [identifiers]
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return removed
