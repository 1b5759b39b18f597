"""Write the Phase 1 outbound reports of one inbound file from its shadow verification.

``write_phase1_reports`` turns ``shadow_*`` (what EDGE *should* say about a file, see
``docs/phase1-contract.md``) into the three XML reports EDGE would send: the file accept/reject
(ESFAR), the detail error report and the summary.  Uses: a simulated outbox for demos and
tests, and a reference rendering to diff against a real server's reports.

Why it is built this way:

* Element names come only from the layouts (:mod:`edge_pipeline.edge.layouts.outbound`).
* The detail report has one processing result per inbound record, so it is streamed: one
  query returns the records in document order (each record after its parent, children by
  record identifier), with each record's errors aggregated into a list, and it is fetched in
  chunks and written as text.  Memory stays flat whatever the file size.
* Output is deterministic given ``generated_at``: every query has a total order, and the
  header holds nothing but the inbound file's facts, the server identity and that timestamp.
* Every report is written, even for a header-rejected file (its records are all rejected; the
  detail report says so record by record).  A real server may send only the ESFAR then
  (assumed behaviour of this simulated server).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import duckdb

from edge_pipeline.base.warehouse.query import scalar, table_exists
from edge_pipeline.edge.layouts.outbound import FREQUENCY_BY_TYPE, PHASE1_REPORTS, Phase1Reports
from edge_pipeline.edge.layouts.outbound.common import (
    ERROR_CODE_FREQUENCY,
    FILE_HEADER,
    RECORDED_ERROR,
    STATUS,
)
from edge_pipeline.edge.layouts.outbound.frequency_common import DATA_ELEMENT_FREQUENCY
from edge_pipeline.edge.layouts.outbound.model import (
    CountsBlock,
    DetailLayout,
    FileStatusLayout,
    FormTypeCounts,
    FrequencyLayout,
    Group,
    Leaf,
    MemberMonths,
    MonthCounts,
    Rollup,
    ScopeSummary,
    SummaryLayout,
)
from edge_pipeline.edge.layouts.outbound.tree import counts_group
from edge_pipeline.edge.outbound.core.naming import (
    edge_datetime,
    outbound_file_identifier,
    outbound_file_name,
)
from edge_pipeline.edge.outbound.core.writer import FETCH_ROWS, EdgeServerInfo, fetch
from edge_pipeline.edge.outbound.core.xmlout import XmlStream
from edge_pipeline.edge.outbound.phase1.summary import (
    ATTEMPT,
    Counts,
    RollupRow,
    Scope,
    summary_content,
)


@dataclass(frozen=True)
class InboundFacts:
    """One verified load attempt of an inbound file: everything a report header states."""

    file_identifier: str
    load_id: int | None
    submission_type: str | None
    execution_zone: str | None
    issuer_id: str | None
    status: str
    icd_release: str | None
    generation_datetime: str | None
    loaded_at: datetime | None

    @property
    def attempt(self) -> dict[str, Any]:
        """Query parameters selecting this attempt's shadow rows (``summary.ATTEMPT``)."""
        return {"fid": self.file_identifier, "lid": self.load_id}

    @property
    def reports(self) -> Phase1Reports:
        reports = PHASE1_REPORTS.get(self.submission_type or "")
        if reports is None:
            raise ValueError(
                f"file {self.file_identifier}: submission type {self.submission_type!r} has no "
                "Phase 1 reports (expected E, M, P or S)"
            )
        return reports


def inbound_facts(
    con: duckdb.DuckDBPyConnection, file_identifier: str, load_id: int | None = None
) -> InboundFacts:
    """The shadow verification of one load attempt of the file (by default its latest
    verified attempt), with the facts of that attempt from ``submission_file``."""
    row = con.execute(
        """
        SELECT s.file_identifier, s.load_id,
               COALESCE(s.submission_type, f.submission_type),
               COALESCE(s.execution_zone, f.execution_zone), COALESCE(s.issuer_id, f.issuer_id),
               s.status, f.icd_release, f.generation_datetime, f.loaded_at
        FROM shadow_file_status s
        LEFT JOIN submission_file f ON f.load_id = s.load_id
        WHERE s.file_identifier = $fid AND ($lid IS NULL OR s.load_id = $lid)
        ORDER BY s.load_id DESC NULLS LAST
        LIMIT 1
        """,
        {"fid": file_identifier, "lid": load_id},
    ).fetchone()
    if row is None:
        attempt = f" load {load_id}" if load_id is not None else ""
        raise ValueError(
            f"file {file_identifier}{attempt} has no shadow verification (shadow_file_status)"
        )
    return InboundFacts(*row)


def write_phase1_reports(
    con: duckdb.DuckDBPyConnection,
    file_identifier: str,
    out_dir: Path | str,
    generated_at: datetime,
    *,
    load_id: int | None = None,
    server: EdgeServerInfo | None = None,
    fetch_rows: int = FETCH_ROWS,
) -> list[Path]:
    """Write the ESFAR, the detail report, the summary and (where the shadow holds its
    frequencies) the frequency by data element report of one inbound file into ``out_dir``.

    ``load_id`` picks the verified load attempt (default: the file's latest verified one; a
    refused re-delivery is an attempt of its own).  Returns the paths in that order.
    ``generated_at`` is the reports' generation time (it names the files and fills the
    headers), so the same inputs always give the same bytes.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    facts = inbound_facts(con, file_identifier, load_id)
    reports = facts.reports
    identity = server or EdgeServerInfo()
    stamp = generated_at.replace(microsecond=0)
    return [
        write_file_status(con, facts, reports.file_status, out, stamp, identity),
        write_detail(con, facts, reports.detail, out, stamp, identity, fetch_rows),
        write_summary(con, facts, reports.summary, out, stamp, identity),
        *write_frequencies(con, facts, out, stamp, identity),
    ]


# -- common blocks ----------------------------------------------------------------------------


def _block(out: XmlStream, group: Group, values: Mapping[str, Any]) -> None:
    """Write ``group`` with its leaves' values looked up by column (lists for repeated leaves)."""
    out.start(group.name)
    for leaf in group.children:
        assert isinstance(leaf, Leaf) and leaf.column, f"{group.name} must hold named leaves"
        value = values.get(leaf.column)
        if leaf.max_occurs != 1:
            for item in value or ():
                out.leaf(leaf.name, item)
        else:
            out.leaf(leaf.name, value)
    out.end(group.name)


def _path(facts: InboundFacts, out_dir: Path, code: str, generated_at: datetime) -> Path:
    return out_dir / outbound_file_name(facts.issuer_id, code, generated_at, facts.execution_zone)


def _header(
    out: XmlStream,
    facts: InboundFacts,
    code: str,
    generated_at: datetime,
    server: EdgeServerInfo,
) -> None:
    """``includedFileHeader``; values the inbound file lacks are written empty, not omitted."""
    process = server.process_identifier
    if process is None:
        process = "" if facts.load_id is None else str(facts.load_id)
    values = {
        "outbound_file_identifier": outbound_file_identifier(
            facts.file_identifier, code, generated_at
        ),
        "generated_at": edge_datetime(generated_at),
        "inbound_file_identifier": facts.file_identifier,
        "icd_release": facts.icd_release or "",
        "server_version": server.version,
        "server_process_identifier": process,
        "inbound_generated_at": facts.generation_datetime or "",
        "file_type_code": code,
        "server_identifier": server.server_identifier,
        "issuer_id": facts.issuer_id or "",
        "inbound_submitted_at": edge_datetime(facts.loaded_at) if facts.loaded_at else "",
        "submission_type": facts.submission_type or "",
    }
    _block(out, FILE_HEADER, values)


def _errors(out: XmlStream, errors: Sequence[Mapping[str, Any]] | None) -> None:
    """One ``recordedError`` per offending element and value, listing every error found on it.

    ``errors`` must be sorted by element and value.  A missing element name or message is
    written empty (the element is required, the lists run in parallel); the reader reads empty
    text back as missing.
    """
    for (element, value), found in groupby(errors or (), key=lambda e: (e["element"], e["value"])):
        entries = list(found)
        _block(
            out,
            RECORDED_ERROR,
            {
                "element": element or "",
                "value": value,
                "error_code": [e["code"] for e in entries],
                "message": [e["message"] or "" for e in entries],
                "detail": [e["kind"] or "" for e in entries],
            },
        )


# -- ESFAR ------------------------------------------------------------------------------------


def write_file_status(
    con: duckdb.DuckDBPyConnection,
    facts: InboundFacts,
    layout: FileStatusLayout,
    out_dir: Path,
    generated_at: datetime,
    server: EdgeServerInfo,
) -> Path:
    """The ESFAR: the file's status and its header-level errors (shadow errors with no record)."""
    code = layout.file_codes[facts.reports.submission_type]
    errors = con.execute(
        f"""
        SELECT element, value, error_code AS code, message, check_kind AS kind
        FROM shadow_record_error
        WHERE {ATTEMPT} AND record_identifier IS NULL
        ORDER BY element NULLS FIRST, value NULLS FIRST, error_code, message NULLS FIRST,
                 check_kind NULLS FIRST
        """,
        facts.attempt,
    ).fetchall()
    names = ("element", "value", "code", "message", "kind")
    with XmlStream(_path(facts, out_dir, code, generated_at), layout.root) as out:
        _header(out, facts, code, generated_at, server)
        _block(out, STATUS, {"status": facts.status})
        _errors(out, [dict(zip(names, row, strict=True)) for row in errors])
        return out.finish()


# -- detail reports ---------------------------------------------------------------------------


def _detail_query(layout: DetailLayout, repeated_ids: bool = False) -> str:
    """Records of the layout's levels in document order, each with its error list.

    A recursive walk from the issuer down the layout's level edges gives every record the
    path of record identifiers from the issuer; ordering by that path puts every record right
    after its parent and siblings in record-identifier order, whatever order the identifiers
    were assigned in.  Records whose parent chain does not reach the issuer are not reached;
    the caller compares counts so none goes missing silently.

    ``repeated_ids``: records of the file share identifiers (H405), so a child's parent link
    names several parents.  Each record row is then numbered and the walk de-duplicated
    (``UNION``), so every record is still reached once; other files keep the cheaper
    ``UNION ALL``.
    """
    number = ", row_number() OVER () AS n" if repeated_ids else ""
    carry = "n, " if repeated_ids else ""
    union = "UNION" if repeated_ids else "UNION ALL"
    edges = ", ".join(
        f"('{parent.level}', '{child.level}')"
        for parent, _ in layout.levels()
        for child in parent.children
    )
    return f"""
        WITH RECURSIVE
        s AS (
            SELECT record_identifier, level, parent_record_identifier, record_key, status
              {number}
            FROM shadow_record_status WHERE {ATTEMPT}
        ),
        edges(parent_level, child_level) AS (VALUES {edges}),
        tree AS (
            SELECT {carry}record_identifier, level, record_key, status,
                   [record_identifier] AS path
            FROM s WHERE level = '{layout.issuer.level}'
            {union}
            SELECT {"c.n, " if repeated_ids else ""}c.record_identifier, c.level, c.record_key,
                   c.status, list_append(t.path, c.record_identifier)
            FROM tree t
            JOIN edges e ON e.parent_level = t.level
            JOIN s c ON c.parent_record_identifier = t.record_identifier
                    AND c.level = e.child_level
        ),
        errs AS (
            SELECT record_identifier,
                   list(struct_pack(element := element, value := value, code := error_code,
                                    message := message, kind := check_kind)
                        ORDER BY element NULLS FIRST, value NULLS FIRST, error_code,
                                 message NULLS FIRST, check_kind NULLS FIRST) AS errors,
                   count(*) AS n_errors
            FROM shadow_record_error
            WHERE {ATTEMPT} AND record_identifier IS NOT NULL
            GROUP BY record_identifier
        )
        SELECT t.level, t.record_identifier, t.record_key, t.status, len(t.path) - 1,
               errs.errors, COALESCE(errs.n_errors, 0)
        FROM tree t LEFT JOIN errs USING (record_identifier)
        ORDER BY t.path
    """


def write_detail(
    con: duckdb.DuckDBPyConnection,
    facts: InboundFacts,
    layout: DetailLayout,
    out_dir: Path,
    generated_at: datetime,
    server: EdgeServerInfo,
    fetch_rows: int = FETCH_ROWS,
) -> Path:
    """The detail error report: every record's status and own errors, nested as in the file."""
    params = facts.attempt
    levels = [result.level for result, _ in layout.levels()]
    marks = ", ".join(f"'{level}'" for level in levels)
    expected_records, expected_errors = con.execute(
        f"""
        SELECT
          (SELECT count(*) FROM shadow_record_status
            WHERE {ATTEMPT} AND level IN ({marks})),
          (SELECT count(*) FROM shadow_record_error
            WHERE {ATTEMPT} AND record_identifier IS NOT NULL)
        """,
        params,
    ).fetchone()
    by_level = {result.level: result for result, _ in layout.levels()}
    records = errors = 0
    with XmlStream(_path(facts, out_dir, layout.file_code, generated_at), layout.root) as out:
        _header(out, facts, layout.file_code, generated_at, server)
        _block(out, STATUS, {"status": facts.status})
        open_results: list[str] = []
        repeated = bool(  # H405: records of the file share identifiers
            scalar(
                con,
                f"SELECT count(*) FROM shadow_record_error WHERE {ATTEMPT} AND error_code = 'H405'",
                params,
            )
        )
        for level, rid, key, status, depth, record_errors, n_errors in fetch(
            con.execute(_detail_query(layout, repeated), params), fetch_rows
        ):
            while len(open_results) > depth:
                out.end(open_results.pop())
            result = by_level[level]
            out.start(result.element)
            open_results.append(result.element)
            out.leaf(result.record_identifier, rid)
            if result.key:
                out.leaf(result.key, key)
            _block(out, STATUS, {"status": status})
            _errors(out, record_errors)
            records += 1
            errors += n_errors
        while open_results:
            out.end(open_results.pop())
        if (records, errors) != (expected_records, expected_errors):
            raise ValueError(
                f"file {facts.file_identifier}: {expected_records - records} record(s) and "
                f"{expected_errors - errors} error(s) of shadow_* are not reachable from the "
                f"issuer through {layout.name}'s levels (broken parent links?); report not written"
            )
        return out.finish()


# -- summaries --------------------------------------------------------------------------------


def _counts(out: XmlStream, element: str, level: str, counts: Counts) -> None:
    _block(out, counts_group(CountsBlock(element, level)), counts.columns())


def _rollup(out: XmlStream, rollup: Rollup, rows: list[RollupRow]) -> None:
    """Year > month (> form type) blocks from rollup rows sorted by year, month, form type."""
    measure = rollup.measure
    for year, in_year in groupby(rows, key=lambda row: row.year):
        out.start(rollup.year_element)
        out.leaf(rollup.year, f"{year:04d}")
        months = list(in_year)
        if isinstance(measure, MemberMonths):
            total = next(row for row in months if row.month is None)
            out.leaf(measure.accepted, total.accepted_months)
            out.leaf(measure.rejected, total.rejected_months)
            months = [row for row in months if row.month is not None]
        for month, in_month in groupby(months, key=lambda row: row.month):
            out.start(rollup.month_element)
            out.leaf(rollup.month, f"{month:02d}")
            entries = list(in_month)
            if isinstance(measure, MemberMonths):
                (row,) = entries
                out.leaf(measure.accepted, row.accepted_months)
                out.leaf(measure.rejected, row.rejected_months)
            elif isinstance(measure, MonthCounts):
                (row,) = entries
                assert row.counts is not None
                _counts(out, measure.counts.element, measure.counts.level, row.counts)
            else:
                assert isinstance(measure, FormTypeCounts)
                for row in entries:
                    assert row.counts is not None
                    out.start(measure.element)
                    out.leaf(measure.code, row.form_type or "")
                    _counts(out, measure.counts.element, measure.counts.level, row.counts)
                    out.end(measure.element)
            out.end(rollup.month_element)
        out.end(rollup.year_element)


def _scope(out: XmlStream, declared: ScopeSummary, scope: Scope) -> None:
    out.start(declared.element)
    if declared.record_identifier:
        out.leaf(declared.record_identifier, scope.record_identifier)
    out.leaf(declared.key, scope.key if scope.key is not None else "")
    _block(out, STATUS, {"status": scope.status or ""})
    for block in declared.counts:
        if block.level in scope.counts:
            _counts(out, block.element, block.level, scope.counts[block.level])
    _rollup(out, declared.rollup, scope.rollup)
    out.end(declared.element)


def write_summary(
    con: duckdb.DuckDBPyConnection,
    facts: InboundFacts,
    layout: SummaryLayout,
    out_dir: Path,
    generated_at: datetime,
    server: EdgeServerInfo,
) -> Path:
    """The summary: counts per level, issuer and plan status and rollups, error frequencies."""
    content = summary_content(con, layout, facts.file_identifier, facts.load_id)
    with XmlStream(_path(facts, out_dir, layout.file_code, generated_at), layout.root) as out:
        _header(out, facts, layout.file_code, generated_at, server)
        for block in layout.counts:
            if block.level in content.counts:
                _counts(out, block.element, block.level, content.counts[block.level])
        if content.issuer is not None:
            _scope(out, layout.issuer, content.issuer)
        for code, frequency in content.frequencies:
            _block(out, ERROR_CODE_FREQUENCY, {"error_code": code, "frequency": frequency})
        for plan in content.plans:
            _scope(out, layout.plan, plan)
        return out.finish()


# -- frequency by data element ----------------------------------------------------------------


def write_frequencies(
    con: duckdb.DuckDBPyConnection,
    facts: InboundFacts,
    out_dir: Path,
    generated_at: datetime,
    server: EdgeServerInfo,
) -> list[Path]:
    """The frequency by data element report of the attempt (FDEEAF ... FDESAF), written from
    ``shadow_data_element_frequency`` in the shadow's order.  None when the submission type has
    no such report or the warehouse predates the shadow table (verify the file again)."""
    layout = FREQUENCY_BY_TYPE.get(facts.submission_type or "")
    if layout is None or not table_exists(con, "shadow_data_element_frequency"):
        return []
    return [write_frequency(con, facts, layout, out_dir, generated_at, server)]


def write_frequency(
    con: duckdb.DuckDBPyConnection,
    facts: InboundFacts,
    layout: FrequencyLayout,
    out_dir: Path,
    generated_at: datetime,
    server: EdgeServerInfo,
) -> Path:
    """One frequency by data element report: an entry per (data element, value)."""
    order = {element.element: position for position, element in enumerate(layout.elements)}
    rows = con.execute(
        f"""
        SELECT element, value, frequency FROM shadow_data_element_frequency
        WHERE {ATTEMPT}
        ORDER BY element, frequency DESC, value NULLS FIRST
        """,
        facts.attempt,
    ).fetchall()
    rows.sort(key=lambda row: order.get(row[0], len(order)))  # stable: keeps frequency order
    with XmlStream(_path(facts, out_dir, layout.file_code, generated_at), layout.root) as out:
        _header(out, facts, layout.file_code, generated_at, server)
        for element, value, frequency in rows:
            _block(
                out,
                DATA_ELEMENT_FREQUENCY,
                {"element": element, "value": value, "frequency": frequency},
            )
        return out.finish()
