"""Verify loaded files: the shadow of what the EDGE server should have said about each one.

One load attempt at a time (``submission_file.load_id``), in load order, because a file is
judged against the state its predecessors left (accepted enrollment, stored claims).  All
checks are set-based SQL over the file's landing rows (``rules.py``, ``header.py``,
``inventory.py``, ``chains.py``), the cascade is ``cascade.py``, and the results replace the
attempt's rows of the four shadow tables in one transaction, so re-verifying is idempotent.

Logs carry counts and file identifiers only, never member data.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from edge_pipeline.base.warehouse.query import table_exists
from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.layouts import BY_NAME, FileLayout
from edge_pipeline.edge.sql import DATETIME_RE, bound, lit
from edge_pipeline.edge.verification.cascade import compute_status
from edge_pipeline.edge.verification.catalog import CHECK_KINDS, entry
from edge_pipeline.edge.verification.chains import resolve_chains
from edge_pipeline.edge.verification.context import build_context, drop_context
from edge_pipeline.edge.verification.frequency import FREQUENCY_TABLE, store_frequencies
from edge_pipeline.edge.verification.header import header_source
from edge_pipeline.edge.verification.inventory import SEQUENCE_SOURCE, build_inventory
from edge_pipeline.edge.verification.reference_tables import reference_tables_loaded
from edge_pipeline.edge.verification.rules import Source, sources
from edge_pipeline.edge.verification.schema import ensure_shadow_schema

log = logging.getLogger(__name__)

_TYPE_TO_LAYOUT = {"E": "ESES", "M": "ESMCS", "P": "ESPCS", "S": "ESSFS"}


class ReferenceTablesMissing(RuntimeError):
    """Verification needs ``load_reference_tables`` first (the referential checks)."""


@dataclass
class VerificationResult:
    """What the shadow said about one load attempt; safe to log (no member data)."""

    load_id: int
    file_identifier: str | None
    layout: str | None
    status: str  # A accepted, R rejected (header level)
    received: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(v for k, v in self.received.items() if k != "file")


def verify_file(con: duckdb.DuckDBPyConnection, file_identifier: str) -> VerificationResult:
    """Verify the loaded file ``file_identifier`` (earlier unverified attempts first).

    When no attempt of that identifier loaded its records, the latest attempt is verified.
    A warehouse that never loaded anything says so the same way (``KeyError``), not with a
    missing-table error from DuckDB.
    """
    if not table_exists(con, "submission_file"):
        raise KeyError(f"file {file_identifier} was never loaded (nothing was ingested yet)")
    rows = con.execute(
        "SELECT load_id FROM submission_file WHERE file_identifier = ? "
        "ORDER BY status = 'loaded' DESC, load_id DESC LIMIT 1",
        [file_identifier],
    ).fetchall()
    if not rows:
        raise KeyError(f"file {file_identifier} was never loaded")
    return verify_load(con, rows[0][0])


@dataclass(frozen=True)
class VerificationFailure:
    """A load attempt whose verification raised (a defect of ours, not of the file: every
    defect of a file is an error code).  ``reason`` names the exception class only, since a
    DuckDB message may quote a value of the file."""

    load_id: int
    file_identifier: str | None
    reason: str


def verify_all(
    con: duckdb.DuckDBPyConnection, failures: list[VerificationFailure] | None = None
) -> list[VerificationResult]:
    """Verify every load attempt with a file identifier, in load order.

    ``failures``: when given, an attempt whose verification raises is appended there (and has
    no shadow rows, so later files see it as not accepted) and the others are still verified;
    otherwise the first such error propagates.
    """
    _prepare(con)
    ids = [r[0] for r in con.execute(_ATTEMPTS_SQL + " ORDER BY load_id").fetchall()]
    results = []
    for load_id in ids:
        if failures is None:
            results.append(_verify(con, load_id))
            continue
        outcome = _verify_or_failure(con, load_id)
        if isinstance(outcome, VerificationFailure):
            failures.append(outcome)
        else:
            results.append(outcome)
    return results


def verify_load(con: duckdb.DuckDBPyConnection, load_id: int) -> VerificationResult:
    """Verify one load attempt; unverified earlier attempts are verified first (load order).

    An earlier attempt whose verification raises is logged and left unverified: one file's
    failure does not stop the verification of the files after it.
    """
    _prepare(con)
    earlier = con.execute(
        _ATTEMPTS_SQL + " AND load_id < ? AND load_id NOT IN "
        "(SELECT load_id FROM shadow_file_status) ORDER BY load_id",
        [load_id],
    ).fetchall()
    for (previous,) in earlier:
        _verify_or_failure(con, previous)
    return _verify(con, load_id)


def _verify_or_failure(
    con: duckdb.DuckDBPyConnection, load_id: int
) -> VerificationResult | VerificationFailure:
    try:
        return _verify(con, load_id)
    except Exception as exc:  # one file's failure must not stop the others
        fid = con.execute(
            "SELECT file_identifier FROM submission_file WHERE load_id = ?", [load_id]
        ).fetchall()
        failure = VerificationFailure(
            load_id, fid[0][0] if fid else None, f"internal error {type(exc).__name__}"
        )
        log.warning("verification of load %d failed: %s", load_id, failure.reason)
        log.debug("verification of load %d failed", load_id, exc_info=True)
        return failure


#: Attempts that can be verified: loaded, refused (reused identifier) or failed with a header.
_ATTEMPTS_SQL = (
    "SELECT load_id FROM submission_file WHERE file_identifier IS NOT NULL "
    "AND status IN ('loaded', 'refused', 'failed')"
)


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    if not reference_tables_loaded(con):
        raise ReferenceTablesMissing(
            "reference tables are missing: call load_reference_tables(con, registry_csv) first"
        )
    ensure_shadow_schema(con)


def infer_layout(con: duckdb.DuckDBPyConnection, load_id: int) -> str | None:
    """The layout of a load attempt: its root element as the loader recorded it, else (a file
    whose root could not be read) its header's submissionTypeCode; ``None`` when nothing tells."""
    row = con.execute(
        "SELECT layout, submission_type FROM submission_file WHERE load_id = ?", [load_id]
    ).fetchall()
    if not row:
        raise KeyError(f"no load attempt {load_id}")
    layout, submission_type = row[0]
    return layout or _TYPE_TO_LAYOUT.get(submission_type or "")


def _verify(con: duckdb.DuckDBPyConnection, load_id: int) -> VerificationResult:
    started = time.perf_counter()
    fid, status, zone, issuer, generated, received = con.execute(
        "SELECT file_identifier, status, execution_zone, issuer_id, generation_datetime, "
        "loaded_at FROM submission_file WHERE load_id = ?",
        [load_id],
    ).fetchall()[0]
    layout_name = infer_layout(con, load_id)
    params: dict[str, object] = {
        "fid": fid,
        "lid": load_id,
        "issuer": issuer,
        "received": received,
        "generated": _generated(generated),
    }
    try:
        result = _run(con, load_id, fid, status, zone, issuer, layout_name, params)
    finally:  # also after a failure, so the next file starts clean
        for table in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    result.seconds = time.perf_counter() - started
    log.info(
        "verified %s (%s): %s, %d records, %d rejected, %d errors in %.2f s",
        fid,
        layout_name or "?",
        result.status,
        result.records,
        sum(v for k, v in result.rejected.items() if k != "file"),
        result.errors,
        result.seconds,
    )
    return result


#: Every temp table one verification creates (context and chain tables included).
_TEMP_TABLES = (
    "_v_err", "_v_rec", "_v_status", "_v_enr", "_v_stored", "_v_stored_supp", "_v_chain",
    "_v_round",
)  # fmt: skip


def _run(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    fid: str | None,
    status: str,
    zone: str | None,
    issuer: str | None,
    layout_name: str | None,
    params: dict[str, object],
) -> VerificationResult:
    """The checks, the cascade and the stored result of one load attempt."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _v_err (record_identifier BIGINT, level VARCHAR, "
        "error_code VARCHAR, element VARCHAR, value VARCHAR)"
    )
    loaded = status == "loaded" and layout_name is not None
    evaluate(con, header_source(layout_name if loaded else None), params, layout_name)
    header_failed = con.execute("SELECT count(*) FROM _v_err").fetchall()[0][0] > 0
    if loaded:
        assert layout_name is not None
        build_inventory(con, layout_name, fid)
        if not header_failed:
            build_context(con, layout_name, load_id, issuer, zone)
            for source in sources(layout_name):
                evaluate(con, source, params, layout_name)
            evaluate(con, SEQUENCE_SOURCE, params, layout_name)
            resolve_chains(con, layout_name, fid)
            drop_context(con)
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _v_rec (record_identifier BIGINT, level VARCHAR, "
            "depth INTEGER, parent_record_identifier BIGINT, record_key VARCHAR, k1 BIGINT, "
            "k2 BIGINT, k3 BIGINT, k4 BIGINT)"
        )
    compute_status(con, layout_name or "?", header_failed)
    _store(con, load_id, fid, layout_name, zone, issuer, header_failed)
    return _result(con, load_id, fid, layout_name, header_failed)


def _generated(text: str | None) -> datetime | None:
    """The header's generationDateTime as a timestamp (None when malformed)."""
    if text is None or not re.fullmatch(DATETIME_RE, text):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None


def _column(layout: FileLayout, level: str, element: str) -> str:
    """The landing column of ``element`` on records of ``level`` (header/totals for ``file``)."""
    if level == "file":
        fields = (*layout.header, *layout.totals)
    else:
        fields = next(r.fields for r, _ in layout.records() if r.level == level)
    for item in fields:
        if item.name == element:
            return item.column
    raise KeyError(f"{layout.name} {level} has no element {element}")


def evaluate(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    params: dict[str, object],
    layout_name: str | None,
) -> None:
    """Evaluate every rule of ``source`` in one pass and append the failures to ``_v_err``.

    ``params``: the file's values the rules use as ``$name`` parameters (bound, never spliced).

    For ESSFS, a referential or logical rule is skipped on a row where a required or face rule
    of the same element (in the same source) fails.
    """
    layout = BY_NAME.get(layout_name or "", BY_NAME["ESES"])
    essfs = layout_name == "ESSFS"
    items = []
    for rule in source.rules:
        item = entry(rule.code)
        fails = rule.fails
        if essfs and item.check in ("referential", "logical"):
            guards = [
                other.fails
                for other in source.rules
                if entry(other.code).element == item.element
                and entry(other.code).check in CHECK_KINDS[:2]
            ]
            if guards:
                fails = f"({fails}) AND NOT coalesce({' OR '.join(guards)}, FALSE)"
        value = rule.value or _column(layout, source.level, item.element)
        element = rule.element or lit(item.element)
        items.append(
            f"CASE WHEN coalesce({fails}, FALSE) THEN {{'code': {lit(rule.code)}, "
            f"'element': {element}, 'value': CAST({value} AS VARCHAR)}} END"
        )
    level = "level" if source.level == "*" else lit(source.level)
    sql = (
        "INSERT INTO _v_err SELECT record_identifier, lvl, e.code, e.element, e.value FROM ("
        f"SELECT record_identifier, {level} AS lvl, unnest(list_filter([{', '.join(items)}], "
        f"lambda x: x IS NOT NULL)) AS e FROM ({source.sql}) src)"
    )
    con.execute(sql, bound(sql, params))


def _store(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    fid: str | None,
    layout_name: str | None,
    zone: str | None,
    issuer: str | None,
    header_failed: bool,
) -> None:
    """Replace the attempt's shadow rows in one transaction."""
    submission_type = BY_NAME[layout_name].submission_type if layout_name else None
    con.execute("BEGIN TRANSACTION")
    try:
        for table in (
            "shadow_file_status",
            "shadow_record_status",
            "shadow_record_error",
            "shadow_level_summary",
            FREQUENCY_TABLE,
        ):
            con.execute(f"DELETE FROM {table} WHERE load_id = ?", [load_id])
        con.execute(
            "INSERT INTO shadow_file_status SELECT ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, "
            "(SELECT count(*) FROM _v_err)",
            [
                load_id,
                fid,
                submission_type,
                zone,
                issuer,
                "R" if header_failed else "A",
                layout_name,
            ],
        )
        con.execute(
            "INSERT INTO shadow_record_status SELECT ?, ?, record_identifier, level, "
            "parent_record_identifier, record_key, "
            "CASE WHEN rejection_reason IS NULL THEN 'A' ELSE 'R' END, failed_self, "
            "rejection_reason FROM _v_status",
            [load_id, fid],
        )
        con.execute(
            "INSERT INTO shadow_record_error SELECT ?, ?, e.record_identifier, e.level, "
            "e.element, e.value, e.error_code, c.check_kind, c.message FROM _v_err e "
            "JOIN error_catalog c ON c.error_code = e.error_code",
            [load_id, fid],
        )
        con.execute(
            "INSERT INTO shadow_level_summary SELECT ?, ?, 'file', 1, ?, ?",
            [load_id, fid, 0 if header_failed else 1, 1 if header_failed else 0],
        )
        con.execute(
            "INSERT INTO shadow_level_summary SELECT ?, ?, level, count(*), "
            "count(*) FILTER (WHERE rejection_reason IS NULL), "
            "count(*) FILTER (WHERE rejection_reason IS NOT NULL) "
            "FROM _v_status GROUP BY level",
            [load_id, fid],
        )
        store_frequencies(con, load_id, fid, submission_type)
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise


def _result(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    fid: str | None,
    layout_name: str | None,
    header_failed: bool,
) -> VerificationResult:
    result = VerificationResult(load_id, fid, layout_name, "R" if header_failed else "A")
    for level, received, accepted, rejected in con.execute(
        "SELECT level, received, accepted, rejected FROM shadow_level_summary WHERE load_id = ?",
        [load_id],
    ).fetchall():
        result.received[level] = received
        result.accepted[level] = accepted
        result.rejected[level] = rejected
    codes = Counter(
        dict(
            con.execute(
                "SELECT error_code, count(*) FROM shadow_record_error WHERE load_id = ? "
                "GROUP BY 1 ORDER BY 1",
                [load_id],
            ).fetchall()
        )
    )
    result.error_codes = dict(codes)
    result.errors = sum(codes.values())
    return result
