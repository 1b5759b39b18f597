"""Load inbound files into the warehouse: one transaction per file, nothing half-loaded.

The outcome of every attempt lands in ``submission_file``:

* ``loaded``    the file's records are in the landing tables (one row per successful load);
* ``unchanged`` (not written) the same fileIdentifier with the same bytes is already loaded, so a
  re-delivery changes nothing;
* ``refused``   a different file reuses a fileIdentifier that is already loaded;
* ``failed``    the file could not be read; the row names file, line, record and element, and
  no record of the file is in any landing table.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import duckdb

from edge_pipeline.edge.errors import FileChangedError, InboundFormatError
from edge_pipeline.edge.readers.header import InboundHeader, read_header
from edge_pipeline.edge.readers.stream import DEFAULT_BATCH_ROWS, InboundStreamReader
from edge_pipeline.edge.warehouse.schema import ensure_schema

log = logging.getLogger(__name__)

_HASH_CHUNK = 1 << 20


@dataclass
class LoadResult:
    """What happened to one file; safe to log (no member data)."""

    status: str  # loaded | unchanged | refused | failed
    path: str
    file_name: str
    size_bytes: int
    sha256: str
    load_id: int | None = None
    file_identifier: str | None = None
    submission_type: str | None = None
    layout: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    records: int = 0
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("loaded", "unchanged")


class _HashingReader:
    """File wrapper that hashes exactly the bytes the parser consumes."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.digest.update(chunk)
        return chunk

    def finish(self) -> str:
        """Hash whatever the parser left unread (trailing whitespace) and return the digest."""
        while chunk := self.raw.read(_HASH_CHUNK):
            self.digest.update(chunk)
        return self.digest.hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def connect(warehouse: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with settings that keep large loads' memory bounded."""
    if not read_only:
        Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), read_only=read_only)
    con.execute("SET preserve_insertion_order = false")
    return con


def load_file(
    con: duckdb.DuckDBPyConnection, path: Path | str, batch_rows: int = DEFAULT_BATCH_ROWS
) -> LoadResult:
    """Load one inbound file in one transaction and record the outcome (see module doc)."""
    started = time.perf_counter()
    path = Path(path).resolve()
    ensure_schema(con)
    result = LoadResult(
        status="failed",
        path=str(path),
        file_name=path.name,
        size_bytes=path.stat().st_size,
        sha256=sha256_file(path),
    )
    header: InboundHeader | None = None
    try:
        header = read_header(path)
        result.file_identifier = header.file_identifier
        result.submission_type = header.submission_type
        result.layout = header.layout.name
        if not header.file_identifier:
            raise InboundFormatError(
                path,
                "fileIdentifier is missing or empty; records could not be linked",
                element="fileIdentifier",
            )
        previous = con.execute(
            "SELECT sha256 FROM submission_file WHERE status = 'loaded' AND file_identifier = ?",
            [header.file_identifier],
        ).fetchall()
        if any(sha == result.sha256 for (sha,) in previous):
            result.status = "unchanged"
        elif previous:
            result.status = "refused"
            result.error = (
                f"file {path.name}: fileIdentifier is already loaded from a different file "
                f"(sha256 {previous[0][0][:12]}…); a fileIdentifier may not be reused"
            )
            _record(con, result, header, status="refused")
        else:
            _load_in_transaction(con, path, header, result, batch_rows, started)
            result.status = "loaded"
    except InboundFormatError as exc:
        result.error = str(exc)
        _record(con, result, header, status="failed", exc=exc)
    except Exception as exc:
        # An internal error (not the file's fault): record it so the file is not silently lost,
        # then let it propagate.
        result.error = f"file {path.name}: internal error while loading: {exc}"
        _record(con, result, header, status="failed")
        raise
    finally:
        result.seconds = time.perf_counter() - started
    log.info(
        "%s %s: %s (%d records, %.1f s)",
        result.layout or "file",
        result.file_name,
        result.status,
        result.records,
        result.seconds,
    )
    return result


def _load_in_transaction(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    header: InboundHeader,
    result: LoadResult,
    batch_rows: int,
    started: float,
) -> None:
    reader = InboundStreamReader(header.layout, path.name, batch_rows)
    con.execute("BEGIN TRANSACTION")
    try:
        result.load_id = _insert_file_row(con, result, header, status="loaded")
        with open(path, "rb") as raw:
            source = _HashingReader(raw)
            for table, batch in reader.batches(source):
                con.register("edge_batch", batch)
                try:
                    con.execute(
                        f"INSERT INTO {table} BY NAME "
                        "SELECT $fid AS file_identifier, * FROM edge_batch",
                        {"fid": header.file_identifier},
                    )
                finally:
                    con.unregister("edge_batch")
                result.rows[table] = result.rows.get(table, 0) + batch.num_rows
            if source.finish() != result.sha256:
                raise FileChangedError(path, "the file changed while it was being loaded")
        result.records = reader.records_read
        con.execute(
            "UPDATE submission_file SET records_loaded = ?, load_seconds = ? WHERE load_id = ?",
            [result.records, time.perf_counter() - started, result.load_id],
        )
        con.execute("COMMIT")
    except BaseException:
        result.rows = {}
        result.records = 0
        result.load_id = None
        con.execute("ROLLBACK")
        raise


def _insert_file_row(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    header: InboundHeader | None,
    status: str,
    exc: InboundFormatError | None = None,
) -> int:
    values: dict[str, object] = {
        "path": result.path,
        "file_name": result.file_name,
        "size_bytes": result.size_bytes,
        "sha256": result.sha256,
        "loaded_at": datetime.now(),
        "status": status,
        "error": result.error,
    }
    if header is not None:
        values.update({k: v for k, v in header.values.items() if v is not None})
        values["issuer_id"] = header.issuer_id
    if exc is not None:
        values.update(
            error_line=exc.line,
            error_record=exc.record,
            error_record_identifier=exc.record_identifier,
            error_element=exc.element,
        )
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    (load_id,) = con.execute(
        f"INSERT INTO submission_file (load_id, {names}) "
        f"VALUES (nextval('submission_file_load_id'), {marks}) RETURNING load_id",
        list(values.values()),
    ).fetchone()
    return load_id


def _record(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    header: InboundHeader | None,
    status: str,
    exc: InboundFormatError | None = None,
) -> None:
    """Record a refused or failed attempt in its own transaction (nothing else was written)."""
    result.load_id = _insert_file_row(con, result, header, status, exc)


def inbound_paths(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Expand directories into their ``*.xml`` files (sorted, so loads are reproducible)."""
    for item in map(Path, paths):
        if item.is_dir():
            yield from sorted(p for p in item.glob("*.xml") if p.is_file())
        else:
            yield item


def load_paths(paths: Iterable[Path | str], warehouse: Path | str) -> list[LoadResult]:
    """Load every file named (directories mean their ``*.xml``); each file is independent."""
    con = connect(warehouse)
    try:
        return [load_file(con, path) for path in inbound_paths(paths)]
    finally:
        con.close()
