"""Load outbound reports (Phase 1, and the Phase 2 RA reports) into ``reported_*``: one
transaction per file.

The outcome of every attempt that changes something lands in ``outbound_file``:

* ``loaded``    the report's rows are in the reported tables;
* ``unchanged`` (nothing written) the same outboundFileIdentifier with the same bytes is
  already loaded, or was loaded and since ``replaced`` (an RA snapshot still in the outbox
  after a newer one): a re-delivery changes nothing;
* ``refused``   a different file reuses an outboundFileIdentifier already loaded (the loaded
  report stays authoritative; the conflict is on record), or an RA report is older than the
  run's snapshot already loaded;
* ``failed``    the report could not be read; the row names file, line and element, and no row
  of the report is in any reported table;
* ``replaced``  (RA reports only, set on an earlier ``loaded`` row) a newer report of the same
  run and type replaced its rows (:mod:`edge_pipeline.edge.outbound.ra.load`).

Mirrors the inbound loader (:mod:`edge_pipeline.edge.warehouse.load`) on purpose, so both
registries read the same way; what they share is in :mod:`edge_pipeline.base.file_registry`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from edge_pipeline.base.digest import HashingReader
from edge_pipeline.base.errors import FileChangedError, InboundFormatError
from edge_pipeline.base.file_registry import FileLoadResult, FileRegistry, PreparedInput, xml_paths
from edge_pipeline.base.input_file import InputFile, read_error
from edge_pipeline.base.names import printable_name
from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.base.warehouse.transaction import noted_on, rollback
from edge_pipeline.edge.outbound.core.errors import OutboundFormatError
from edge_pipeline.edge.outbound.core.naming import parse_edge_datetime, parse_outbound_file_name
from edge_pipeline.edge.outbound.core.reader import ReportHeader
from edge_pipeline.edge.outbound.core.tables import arrow_schema_of
from edge_pipeline.edge.outbound.phase1.tables import arrow_schema, ensure_reported_tables
from edge_pipeline.edge.outbound.ra.load import replace_snapshot, stale_snapshot_error
from edge_pipeline.edge.outbound.ra.tables import RA_REPORTED_TABLES, ensure_ra_reported_tables
from edge_pipeline.edge.outbound.read import OutboundReportReader, read_outbound_header

log = logging.getLogger(__name__)


def reported_arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema a batch of any reported table is built with (Phase 1 or Phase 2)."""
    columns = RA_REPORTED_TABLES.get(table)
    return arrow_schema(table) if columns is None else arrow_schema_of(columns)


#: Rows buffered per table before they are inserted.
BATCH_ROWS = 50_000


#: The outbound registry: an outboundFileIdentifier may be loaded once; a ``replaced`` RA
#: snapshot still counts, so its re-delivery is ``unchanged``.
OUTBOUND_FILES = FileRegistry(
    table="outbound_file",
    id_column="outbound_load_id",
    sequence="outbound_file_load_id",
    identifier_column="outbound_file_identifier",
    loaded_statuses=("loaded", "replaced"),
)


@dataclass
class OutboundLoadResult(FileLoadResult):
    """What happened to one report file; safe to log (no member data)."""

    outbound_load_id: int | None = None
    outbound_file_identifier: str | None = None
    report_type: str | None = None
    inbound_file_identifier: str | None = None


class PreparedReport(PreparedInput[OutboundLoadResult, ReportHeader]):
    """A report opened once, checked, its header read and hashed, before the warehouse is
    needed (:class:`..file_loads.PreparedInput`)."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, OutboundLoadResult)

    def _read(self, opened: InputFile) -> None:
        self._read_header(read_outbound_header)
        self._hash()


def load_outbound_file(
    con: duckdb.DuckDBPyConnection, path: Path | str, batch_rows: int = BATCH_ROWS
) -> OutboundLoadResult:
    """Load one outbound report in one transaction and record the outcome (see module doc).
    The caller's connection (the warehouse lock) is held while the report is hashed;
    :func:`load_outbound_path` opens the warehouse only once it is."""
    with PreparedReport(path) as prepared:
        return load_prepared_report(con, prepared, batch_rows)


def load_outbound_path(
    warehouse: Path | str, path: Path | str, batch_rows: int = BATCH_ROWS
) -> OutboundLoadResult:
    """:func:`load_outbound_file` with the warehouse opened only for the load itself."""
    with PreparedReport(path) as prepared, closing(connect(warehouse)) as con:
        return load_prepared_report(con, prepared, batch_rows)


def load_prepared_report(
    con: duckdb.DuckDBPyConnection, prepared: PreparedReport, batch_rows: int = BATCH_ROWS
) -> OutboundLoadResult:
    """Load a :class:`PreparedReport` in one transaction and record the outcome."""
    ensure_reported_tables(con)
    ensure_ra_reported_tables(con)
    path, header, result = prepared.path, prepared.header, prepared.result
    name = printable_name(path.name)
    try:
        if prepared.error is not None:
            raise prepared.error
        assert header is not None
        result.outbound_file_identifier = header.outbound_file_identifier
        result.report_type = header.report_type
        result.inbound_file_identifier = header.inbound_file_identifier
        loaded = OUTBOUND_FILES.loaded_sha256s(con, header.outbound_file_identifier)
        if result.sha256 in loaded:
            result.status = "unchanged"
        elif loaded:
            result.status = "refused"
            result.error = (
                f"file {name}: outboundFileIdentifier is already loaded from a different "
                f"file (sha256 {loaded[0][:12]}…); the loaded report is kept"
            )
            result.outbound_load_id = _insert_file_row(con, path, result, header, "refused")
        elif (stale := stale_snapshot_error(con, path, header)) is not None:
            result.status = "refused"
            result.error = stale
            result.outbound_load_id = _insert_file_row(con, path, result, header, "refused")
        else:
            _load(con, prepared, header, batch_rows)
            result.status = "loaded"
    except InboundFormatError as exc:
        result.error = str(exc)
        result.outbound_load_id = _insert_file_row(con, path, result, header, "failed", exc)
    except Exception as exc:
        # Not the file's fault: record it so the report is not silently lost, then propagate.
        result.error = f"file {name}: internal error while loading: {exc}"
        with noted_on(exc, "recording the failed load"):
            result.outbound_load_id = _insert_file_row(con, path, result, header, "failed")
        raise
    finally:
        result.seconds = time.perf_counter() - prepared.started
        log.info(
            "%s %s: %s (%d rows, %.1f s)",
            result.report_type or "outbound report",
            name,
            result.status,
            sum(result.rows.values()),
            result.seconds,
        )
    return result


def _load(
    con: duckdb.DuckDBPyConnection, prepared: PreparedReport, header: ReportHeader, batch_rows: int
) -> None:
    path, result, started, opened = prepared.path, prepared.result, prepared.started, prepared.input
    assert opened is not None
    name = parse_outbound_file_name(path.name)
    reader = OutboundReportReader(
        path.name, zone=name.zone if name else None, load_id=_inbound_load_id(con, header)
    )
    con.execute("BEGIN TRANSACTION")
    try:
        result.outbound_load_id = _insert_file_row(con, path, result, header, "loaded")
        replace_snapshot(con, header)  # RA reports only: the run's earlier snapshot goes
        buffers: dict[str, list[dict[str, Any]]] = {}
        try:
            source = HashingReader(opened.rewound())
            for table, row in reader.rows(source):
                buffer = buffers.setdefault(table, [])
                buffer.append(row)
                if len(buffer) >= batch_rows:
                    _insert(con, table, buffer, result)
                    buffer.clear()
            digest = source.finish()
        except OSError as exc:
            raise read_error(path, exc) from exc
        if digest != result.sha256:
            raise FileChangedError(path, "the file changed while it was being loaded")
        for table, buffer in buffers.items():
            if buffer:
                _insert(con, table, buffer, result)
        con.execute(
            "UPDATE outbound_file SET rows_loaded = ?, load_seconds = ? WHERE outbound_load_id = ?",
            [sum(result.rows.values()), time.perf_counter() - started, result.outbound_load_id],
        )
        con.execute("COMMIT")
    except BaseException:
        result.rows = {}
        result.outbound_load_id = None
        rollback(con)
        raise


def _inbound_load_id(con: duckdb.DuckDBPyConnection, header: ReportHeader) -> int | None:
    """The inbound load attempt a report answers: the attempt of its inboundFileIdentifier
    whose load time is the report's inboundFileSubmissionDateTime, else the latest loaded
    attempt, else the latest attempt.  ``None`` when the inbound registry does not exist."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'submission_file'"
    ).fetchone()
    if not exists or not exists[0]:
        return None
    submitted = parse_edge_datetime(header.values.get("inbound_submitted_at"))
    found = con.execute(
        """
        SELECT load_id FROM submission_file WHERE file_identifier = $fid
        ORDER BY date_trunc('second', loaded_at) IS NOT DISTINCT FROM $submitted DESC,
                 status = 'loaded' DESC, load_id DESC
        LIMIT 1
        """,
        {"fid": header.inbound_file_identifier, "submitted": submitted},
    ).fetchone()
    return found[0] if found else None


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: list[dict[str, Any]],
    result: OutboundLoadResult,
) -> None:
    """Append rows as one Arrow batch, found by DuckDB's replacement scan (see the inbound
    loader for why it is not registered)."""
    try:
        edge_batch = pa.Table.from_pylist(rows, schema=reported_arrow_schema(table))
    except (OverflowError, pa.ArrowInvalid) as exc:
        # the structure checker lets any digits through as an integer; the column may be
        # narrower (a 30-digit recordIdentifier, an 11-digit year): the report's fault
        raise OutboundFormatError(
            result.file_name, f"a value does not fit its {table} column: {exc}"
        ) from exc
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM edge_batch")
    result.rows[table] = result.rows.get(table, 0) + edge_batch.num_rows
    del edge_batch


def _insert_file_row(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    result: OutboundLoadResult,
    header: ReportHeader | None,
    status: str,
    exc: InboundFormatError | None = None,
) -> int:
    name = parse_outbound_file_name(path.name)
    values: dict[str, object] = {"execution_zone": name.zone if name else None}
    if header is not None and header.values.get("execution_zone"):
        values["execution_zone"] = header.values["execution_zone"]  # RA reports state it
    if header is not None:
        values.update(
            outbound_file_identifier=header.outbound_file_identifier,
            report_type=header.report_type,
            file_type_code=header.values.get("file_type_code"),
            inbound_file_identifier=header.inbound_file_identifier,
            issuer_id=header.values.get("issuer_id"),
            generated_at=header.generated_at,
        )
    if exc is not None:
        values.update(error_line=exc.line, error_element=exc.element)
    return OUTBOUND_FILES.insert_attempt(con, result, status, values)


def load_outbound_paths(
    paths: Iterable[Path | str], warehouse: Path | str
) -> list[OutboundLoadResult]:
    """Load every report named (directories mean their ``*.xml``); each file is independent,
    and the warehouse is opened for each load only once its file is hashed."""
    return [load_outbound_path(warehouse, path) for path in xml_paths(paths)]
