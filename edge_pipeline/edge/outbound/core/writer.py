"""What writing any outbound report takes, whatever its family: how the simulated EDGE server
names itself (:class:`EdgeServerInfo`) and fetching a large result in rounds (:func:`fetch`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

#: Rows fetched from DuckDB per round trip while streaming a detail report.
FETCH_ROWS = 10_000


@dataclass(frozen=True)
class EdgeServerInfo:
    """How the simulated EDGE server names itself in every report header (assumed values)."""

    version: str = "edge_pipeline-shadow-1"
    server_identifier: str = "EDGE-SHADOW"
    #: ``None``: the inbound file's ``load_id``, i.e. the load that the verdict is about.
    process_identifier: str | None = None


def fetch(result: duckdb.DuckDBPyConnection, rows: int) -> Iterator[tuple[Any, ...]]:
    """The rows of ``result``, fetched ``rows`` at a time (memory bounded by ``rows``)."""
    while chunk := result.fetchmany(rows):
        yield from chunk
