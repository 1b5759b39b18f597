"""Resources shared by every domain: where the project's data lives, and the DuckDB warehouse.

DuckDB allows one writing process per database file, so every asset that writes the warehouse
runs in the ``duckdb_writer`` concurrency pool, which ``dagster.yaml`` limits to one slot (each
domain puts its assets in it: ``defs/domain.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from edge_pipeline.base.folders import configured_folder

#: Concurrency pool of every asset that writes DuckDB (limit 1: see ``dagster.yaml``).
DUCKDB_WRITER_POOL = "duckdb_writer"

#: Resource key under which the warehouse is bound.
WAREHOUSE_KEY = "warehouse"

#: How long to wait for another process (a CLI ingest, a notebook) to release the file lock.
_LOCK_WAIT_SECONDS = 30.0


def default_warehouse_path() -> Path:
    """``$EDGE_WAREHOUSE`` if set, else ``<repo>/data/warehouse.duckdb``."""
    return configured_folder("EDGE_WAREHOUSE", "warehouse.duckdb")


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse, opened per use and always closed, also when the load fails.

    ``DuckDBResource.get_connection`` leaves the connection open when the body raises; a failed
    load would then keep DuckDB's file lock until the process exits and block the next run.
    The connection is opened with the loader's own settings (bounded memory for large loads).
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        from edge_pipeline.base.warehouse.connection import connect

        con = _connect_with_retry(lambda: connect(self.database, create_folder=True))
        try:
            yield con
        finally:
            con.close()


def _connect_with_retry(
    open_connection: Callable[[], duckdb.DuckDBPyConnection],
    wait_seconds: float = _LOCK_WAIT_SECONDS,
) -> duckdb.DuckDBPyConnection:
    """Retry while another process holds the database lock, then give up with its error
    (a lock conflict as the one-line ``WarehouseLockedError``, saying how long it waited)."""
    from edge_pipeline.base.warehouse.connection import WarehouseLockedError, lock_conflict

    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    while True:
        try:
            return open_connection()
        except duckdb.IOException as exc:
            if time.monotonic() >= deadline:
                locked = lock_conflict(exc)
                if locked is None:
                    raise
                raise WarehouseLockedError(f"{locked} (waited {wait_seconds:g} s)") from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def warehouse_resource(database: Path | str | None = None) -> WarehouseResource:
    """The warehouse at ``database`` (default: :func:`default_warehouse_path`)."""
    return WarehouseResource(database=str(database or default_warehouse_path()))


defs = dg.Definitions(resources={WAREHOUSE_KEY: warehouse_resource()})
