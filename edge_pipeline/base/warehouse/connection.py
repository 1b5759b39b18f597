"""Opening the warehouse: the one place a DuckDB file is connected to, for every family.

DuckDB admits one writing process per file; a second one fails with a long IOException that
names the lock holder.  Turned here into :class:`WarehouseLockedError` with one line a user can
act on, and a path that cannot be a warehouse is refused before DuckDB sees it
(:mod:`edge_pipeline.base.warehouse.path`).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from edge_pipeline.base.warehouse.path import check_warehouse_path, not_a_database


class WarehouseLockedError(duckdb.IOException):
    """Another process holds the warehouse's file lock (DuckDB allows one writing process, or
    any number of read-only ones): nothing was read or written, retry when it has finished."""


_LOCK_CONFLICT = re.compile(r'Could not set lock on file "(?P<file>[^"]*)": Conflicting lock')
_LOCK_HOLDER = re.compile(r"\(PID (?P<pid>\d+)\)")


def lock_conflict(exc: BaseException) -> WarehouseLockedError | None:
    """``exc`` as a one-line :class:`WarehouseLockedError` if it is DuckDB's file-lock conflict,
    else ``None``."""
    if isinstance(exc, WarehouseLockedError):
        return exc
    match = _LOCK_CONFLICT.search(str(exc)) if isinstance(exc, duckdb.IOException) else None
    if match is None:
        return None
    holder = _LOCK_HOLDER.search(str(exc))
    by = f"another process (PID {holder['pid']})" if holder else "another process"
    return WarehouseLockedError(
        f"the warehouse {match['file']} is locked by {by}; retry when it has finished"
    )


def connect(
    warehouse: Path | str, read_only: bool = False, *, create_folder: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with settings that keep large loads' memory bounded
    (:func:`open_warehouse` says what it refuses)."""
    con = open_warehouse(warehouse, read_only, create_folder=create_folder)
    con.execute("SET preserve_insertion_order = false")
    return con


def open_warehouse(
    warehouse: Path | str, read_only: bool = False, *, create_folder: bool = False
) -> duckdb.DuckDBPyConnection:
    """The warehouse's DuckDB connection, DuckDB's own settings.

    Raises :class:`WarehousePathError` when the path cannot be a warehouse (not ``.duckdb`` or
    ``.db``, a directory, a missing folder unless ``create_folder``, a file that is not a DuckDB
    database: see :mod:`edge_pipeline.base.warehouse.path`) and :class:`WarehouseLockedError` when another process
    holds the file lock.
    """
    if create_folder and not read_only:
        Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    check_warehouse_path(warehouse, read_only=read_only)
    try:
        return duckdb.connect(str(warehouse), read_only=read_only)
    except duckdb.IOException as exc:
        locked = lock_conflict(exc)
        if locked is not None:
            raise locked from exc
        if "not a valid DuckDB database file" in str(exc):
            raise not_a_database(warehouse) from exc
        raise
