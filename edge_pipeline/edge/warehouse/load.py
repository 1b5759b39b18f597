"""Load inbound files into the warehouse: one transaction per file, nothing half-loaded.

The outcome of every attempt lands in ``submission_file``:

* ``loaded``    the file's records are in the landing tables (one row per successful load);
* ``unchanged`` (not written) the same fileIdentifier with the same bytes is already loaded, so a
  re-delivery changes nothing;
* ``refused``   a different file reuses a fileIdentifier that is already loaded;
* ``failed``    the file could not be read; the row names file, line, record and element, and
  no record of the file is in any landing table.  That includes a path refused before it is
  read (gone, unreadable, not a regular file, a symlink, over the size limit, not XML at
  byte 0: :mod:`edge_pipeline.base.input_file`).

A file is opened once: its header, its sha256 and its records are read from that one open
file (:class:`PreparedFile`), so a file renamed over the path mid-load changes nothing.  All
that can be done without the warehouse (the refusals, the header, the hash) is done before
it is needed: :func:`load_path` and the Dagster asset open the warehouse, and so take its
writer lock, only once the file is hashed.

Large files are parsed by two worker processes (``readers/parallel.py``) while this process
inserts their batches, still in the file's one transaction.  If anything goes wrong in a worker
the transaction is rolled back and the file is read again serially, so outcomes and error
messages never depend on which path ran.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from edge_pipeline.base.digest import HashingReader
from edge_pipeline.base.errors import FileChangedError, InboundFormatError
from edge_pipeline.base.file_registry import FileLoadResult, FileRegistry, PreparedInput, xml_paths
from edge_pipeline.base.input_file import InputFile, read_error
from edge_pipeline.base.names import printable_name
from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.base.warehouse.transaction import noted_on, rollback
from edge_pipeline.edge.readers.header import InboundHeader, read_header
from edge_pipeline.edge.readers.parallel import (
    PARALLEL_MIN_BYTES,
    ParallelReader,
    WorkerFailedError,
    plan_split,
)
from edge_pipeline.edge.readers.stream import DEFAULT_BATCH_ROWS, InboundStreamReader
from edge_pipeline.edge.warehouse.schema import ensure_schema, stored_columns

log = logging.getLogger(__name__)

#: DuckDB's memory cap while a file loads.  Without one, the blocks a large transaction writes
#: stay cached (DuckDB's default limit is 80% of RAM) and the process grows with the file.
LOAD_MEMORY_LIMIT = "256MB"


#: The inbound registry: a fileIdentifier may be loaded once (its re-delivery is ``unchanged``).
SUBMISSION_FILES = FileRegistry(
    table="submission_file",
    id_column="load_id",
    sequence="submission_file_load_id",
    identifier_column="file_identifier",
    loaded_statuses=("loaded",),
)


@dataclass
class LoadResult(FileLoadResult):
    """What happened to one inbound file; safe to log (no member data)."""

    load_id: int | None = None
    file_identifier: str | None = None
    submission_type: str | None = None
    layout: str | None = None
    records: int = 0


class PreparedFile(PreparedInput[LoadResult, InboundHeader]):
    """An inbound file opened once, checked, its header read and hashed before the warehouse
    is needed (:class:`..file_loads.PreparedInput`).  Large files have their parse workers
    started here, so that hashing overlaps their parsing (they wait, a few batches in, until
    the load reads them); leaving the context also stops them.
    """

    def __init__(self, path: Path | str, parallel: bool | None = None) -> None:
        self.parallel = parallel
        self.workers: ParallelReader | None = None
        super().__init__(path, LoadResult)

    def _read(self, opened: InputFile) -> None:
        self._read_header(read_header)
        self.workers = _start_workers(opened, self.header, self.parallel)
        checksums = self._hash(self.workers.plan.cuts if self.workers is not None else ())
        if self.workers is not None:
            self.workers.checksums = checksums

    def close(self) -> None:
        """Stop the workers and close the file (idempotent)."""
        if self.workers is not None:
            self.workers.close()
        super().close()


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path | str,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    *,
    parallel: bool | None = None,
) -> LoadResult:
    """Load one inbound file in one transaction and record the outcome (see module doc).

    ``parallel``: ``None`` reads files of ``PARALLEL_MIN_BYTES`` or more with two workers;
    ``True``/``False`` force the choice (tests, benchmarks).  The caller's connection (and
    so the warehouse lock) is held while the file is hashed; :func:`load_path` is the
    variant that opens the warehouse only once the file is hashed.
    """
    with PreparedFile(path, parallel) as prepared:
        return load_prepared(con, prepared, batch_rows)


def load_path(
    warehouse: Path | str,
    path: Path | str,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    *,
    parallel: bool | None = None,
) -> LoadResult:
    """:func:`load_file` with the warehouse opened only for the load itself: the file is
    checked, hashed and its header read first, without the writer lock."""
    with PreparedFile(path, parallel) as prepared, closing(connect(warehouse)) as con:
        return load_prepared(con, prepared, batch_rows)


def load_prepared(
    con: duckdb.DuckDBPyConnection, prepared: PreparedFile, batch_rows: int = DEFAULT_BATCH_ROWS
) -> LoadResult:
    """Load a :class:`PreparedFile` in one transaction and record the outcome."""
    ensure_schema(con)
    result = prepared.result
    _attempt(con, prepared, batch_rows)
    log.info(
        "%s %s: %s (%d records, %.1f s)",
        result.layout or "file",
        printable_name(result.file_name),
        result.status,
        result.records,
        result.seconds,
    )
    return result


def record_refused(
    con: duckdb.DuckDBPyConnection, prepared: PreparedFile, reason: str
) -> LoadResult:
    """Record a file refused before any load (not a recognisable submission: the caller says
    why) as a ``refused`` attempt; none of its records is read or written."""
    ensure_schema(con)
    result, header = prepared.result, prepared.header
    if header is not None:
        result.file_identifier = header.file_identifier
        result.submission_type = header.submission_type
        result.layout = header.layout.name
    detail = f" ({prepared.error})" if prepared.error is not None else ""
    result.status = "refused"
    result.error = f"file {printable_name(prepared.path.name)}: {reason}{detail}"
    _record(con, result, header, status="refused")
    result.seconds = time.perf_counter() - prepared.started
    return result


def _start_workers(
    source: InputFile, header: InboundHeader | None, parallel: bool | None
) -> ParallelReader | None:
    """Two parse workers for the file if it is big enough (or ``parallel``) and splits safely;
    ``None`` means read serially.  A failure to start them is not the file's fault."""
    wanted = source.size >= PARALLEL_MIN_BYTES if parallel is None else parallel
    if not wanted or header is None or not header.file_identifier:
        return None
    try:
        split = plan_split(source.path, header.layout, source=source.file)
        return ParallelReader(split) if split is not None else None
    except OSError as exc:
        log.warning(
            "%s: parallel read not possible, reading serially: %s",
            printable_name(source.path.name),
            exc,
        )
        return None


def _attempt(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, batch_rows: int) -> None:
    """Decide what to do with the file, do it, and record the outcome in ``result``."""
    path, header, result = prepared.path, prepared.header, prepared.result
    try:
        if prepared.error is not None:
            raise prepared.error
        assert header is not None
        result.file_identifier = header.file_identifier
        result.submission_type = header.submission_type
        result.layout = header.layout.name
        if not header.file_identifier:
            raise InboundFormatError(
                path,
                "fileIdentifier is missing or empty; records could not be linked",
                element="fileIdentifier",
            )
        loaded = SUBMISSION_FILES.loaded_sha256s(con, header.file_identifier)
        if result.sha256 in loaded:
            result.status = "unchanged"
        elif loaded:
            result.status = "refused"
            result.error = (
                f"file {printable_name(path.name)}: fileIdentifier is already loaded from a "
                f"different file (sha256 {loaded[0][:12]}…); a fileIdentifier may not be reused"
            )
            _record(con, result, header, status="refused")
        else:
            _load(con, prepared, header, batch_rows)
            result.status = "loaded"
    except InboundFormatError as exc:
        result.error = str(exc)
        _record(con, result, header, status="failed", exc=exc)
    except Exception as exc:
        # An internal error (not the file's fault): record it so the file is not silently lost,
        # then let it propagate.
        result.error = f"file {printable_name(path.name)}: internal error while loading: {exc}"
        with noted_on(exc, "recording the failed load"):
            _record(con, result, header, status="failed")
        raise
    finally:
        result.seconds = time.perf_counter() - prepared.started


class _Source(Protocol):
    """Where a load's batches come from: the serial reader or the parallel workers."""

    records_read: int

    def batches(self) -> Iterator[tuple[str, pa.Table]]: ...


class _SerialSource:
    """The streaming reader over the open file, checking it still has the bytes hashed."""

    def __init__(self, prepared: PreparedFile, header: InboundHeader, batch_rows: int) -> None:
        assert prepared.input is not None
        self.prepared = prepared
        self.reader = InboundStreamReader(header.layout, prepared.path.name, batch_rows)
        self.records_read = 0

    def batches(self) -> Iterator[tuple[str, pa.Table]]:
        path, opened = self.prepared.path, self.prepared.input
        assert opened is not None
        try:
            source = HashingReader(opened.rewound())
            yield from self.reader.batches(source)
            digest = source.finish()
        except OSError as exc:
            raise read_error(path, exc) from exc
        if digest != self.prepared.result.sha256:
            raise FileChangedError(path, "the file changed while it was being loaded")
        self.records_read = self.reader.records_read


def _load(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedFile,
    header: InboundHeader,
    batch_rows: int,
) -> None:
    """Load in parallel when planned; on any worker problem, roll back and read serially."""
    result, started, workers = prepared.result, prepared.started, prepared.workers
    if workers is not None:
        try:
            # The workers have the cores; DuckDB's own second thread would only compete.
            with _settings(con, memory_limit=LOAD_MEMORY_LIMIT, threads=1):
                _load_in_transaction(con, header, result, started, workers)
            return
        except WorkerFailedError as exc:
            log.warning(
                "%s: parallel read failed, reading serially: %s",
                printable_name(prepared.path.name),
                exc,
            )
    with _settings(con, memory_limit=LOAD_MEMORY_LIMIT):
        source = _SerialSource(prepared, header, batch_rows)
        _load_in_transaction(con, header, result, started, source)


@contextmanager
def _settings(con: duckdb.DuckDBPyConnection, **settings: object) -> Iterator[None]:
    """Apply DuckDB settings for the duration of a load, then restore the previous values."""
    saved = {name: _setting(con, name) for name in settings}
    for name, value in settings.items():
        con.execute(f"SET {name} = '{value}'")
    try:
        yield
    finally:
        for name, value in saved.items():
            # RESET first: the rounded text of a default (e.g. '18.8 GiB') is not the default.
            con.execute(f"RESET {name}")
            if _setting(con, name) != value:
                con.execute(f"SET {name} = '{value}'")


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return str(con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0])


def _load_in_transaction(
    con: duckdb.DuckDBPyConnection,
    header: InboundHeader,
    result: LoadResult,
    started: float,
    source: _Source,
) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        result.load_id = _insert_file_row(con, result, header, status="loaded")
        stored = stored_columns(con)
        with closing(source.batches()) as batches:  # closing stops parallel workers at once
            for table, batch in batches:
                _insert_batch(con, table, stored[table], batch, header.file_identifier)
                result.rows[table] = result.rows.get(table, 0) + batch.num_rows
        result.records = source.records_read
        con.execute(
            "UPDATE submission_file SET records_loaded = ?, load_seconds = ? WHERE load_id = ?",
            [result.records, time.perf_counter() - started, result.load_id],
        )
        con.execute("COMMIT")
    except BaseException:
        result.rows = {}
        result.records = 0
        result.load_id = None
        rollback(con)
        raise


def _insert_batch(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[tuple[str, str]],
    batch: pa.Table,
    file_identifier: str | None,
) -> None:
    """Append one Arrow batch, columns matched by name, ``file_identifier`` added.

    Through a relation rather than ``con.register``: a registered object stays alive until the
    transaction ends, which would hold every batch of a multi-GB file in memory until commit.
    A relation inserts by position, so it is projected onto the table's stored ``columns``
    (an older warehouse keeps the columns added since at the end, not where ``TABLES`` has
    them); stored columns the batch lacks are NULL.
    """
    present = set(batch.column_names)
    projection = [
        duckdb.ConstantExpression(file_identifier).alias(name)
        if name == "file_identifier"
        else duckdb.ColumnExpression(name)
        if name in present
        else duckdb.ConstantExpression(None).cast(duckdb.sqltype(sql_type)).alias(name)
        for name, sql_type in columns
    ]
    con.from_arrow(batch).project(*projection).insert_into(table)


def _insert_file_row(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    header: InboundHeader | None,
    status: str,
    exc: InboundFormatError | None = None,
) -> int:
    values: dict[str, object] = {}
    if header is not None:
        values.update({k: v for k, v in header.values.items() if v is not None})
        values["issuer_id"] = header.issuer_id
        values["layout"] = header.layout.name
    if exc is not None:
        values.update(
            error_line=exc.line,
            error_record=exc.record,
            error_record_identifier=exc.record_identifier,
            error_element=exc.element,
        )
    return SUBMISSION_FILES.insert_attempt(con, result, status, values)


def _record(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    header: InboundHeader | None,
    status: str,
    exc: InboundFormatError | None = None,
) -> None:
    """Record a refused or failed attempt in its own transaction (nothing else was written)."""
    result.load_id = _insert_file_row(con, result, header, status, exc)


def load_paths(paths: Iterable[Path | str], warehouse: Path | str) -> list[LoadResult]:
    """Load every file named (directories mean their ``*.xml``); each file is independent,
    and the warehouse is opened for each load only once its file is hashed."""
    return [load_path(warehouse, path) for path in xml_paths(paths)]
