"""Which shadow verdict and which outbound reports a Phase 1 reconciliation compares.

A fileIdentifier can have several load attempts (a refused re-delivery is an attempt of its
own, verified on its own) and EDGE can answer an attempt more than once (a re-sent report has
a new outboundFileIdentifier).  Comparing every reported row of a file with one shadow verdict
would count each re-sent report as a difference, so reconciliation first pins down:

* the **attempt**: the file's verified load attempt that loaded its records, else its latest
  verified attempt (the rule :func:`~edge_pipeline.edge.verification.verify_file` uses to pick
  the attempt it verifies);
* per report role (file status = ESFAR, detail, summary, frequency = FDEEAF ...), the **latest loaded report** that
  answers that attempt (``reported_*.load_id``, matched by the outbound loader on
  inboundFileIdentifier + inboundFileSubmissionDateTime).  A report loaded before its inbound
  file (``load_id`` NULL) is used only when no report of that role matched the attempt.

Pure domain code: DuckDB only, no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from edge_pipeline.base.warehouse.query import first_row, table_exists
from edge_pipeline.edge.layouts.outbound import (
    DETAIL_LAYOUTS,
    ESFAR,
    FREQUENCY_LAYOUTS,
    SUMMARY_LAYOUTS,
)

#: Report role -> the reported table whose rows identify a report of that role and its attempt.
ROLE_TABLES: dict[str, str] = {
    "file_status": "reported_file_status",
    "detail": "reported_record_status",
    "summary": "reported_level_summary",
    "frequency": "reported_data_element_frequency",
}
ROLE_REPORT_TYPES: dict[str, tuple[str, ...]] = {
    "file_status": (ESFAR.name,),
    "detail": tuple(layout.name for layout in DETAIL_LAYOUTS),
    # a warehouse not loaded since the summaries were renamed still says the former names
    "summary": tuple(
        name for layout in SUMMARY_LAYOUTS for name in (layout.name, *layout.former_names)
    ),
    "frequency": tuple(layout.name for layout in FREQUENCY_LAYOUTS),
}


def report_role(report_type: str) -> str:
    """``file_status``, ``detail``, ``summary`` or ``frequency``: the role of a Phase 1 report
    type."""
    for role, types in ROLE_REPORT_TYPES.items():
        if report_type in types:
            return role
    raise ValueError(f"{report_type!r} is not a Phase 1 outbound report type")


class ShadowMissing(LookupError):
    """The file has no shadow verification to compare with (verify it first)."""


class ReportsMissing(LookupError):
    """The outbound reports reconciliation needs have not been loaded (yet)."""


@dataclass(frozen=True)
class ReportSet:
    """The attempt of a file and the reports (outboundFileIdentifiers) compared with it."""

    file_identifier: str
    load_id: int
    file_status: str | None
    detail: str | None
    summary: str | None
    reported_status: str | None  # the ESFAR's statusTypeCode
    frequency: str | None = None  # the frequency by data element report (FDEEAF ... FDESAF)

    @property
    def outbound_file_identifiers(self) -> list[str]:
        reports = (self.file_status, self.detail, self.summary, self.frequency)
        return [r for r in reports if r is not None]


def phase1_load_id(con: duckdb.DuckDBPyConnection, file_identifier: str) -> int:
    """The verified attempt Phase 1 is about: the one that loaded the file's records, else the
    latest verified one.  Raises :class:`ShadowMissing` when the file was never verified."""
    if table_exists(con, "shadow_file_status"):
        row = first_row(
            con,
            """
            SELECT s.load_id FROM shadow_file_status s
            LEFT JOIN submission_file f ON f.load_id = s.load_id
            WHERE s.file_identifier = ?
            ORDER BY coalesce(f.status = 'loaded', FALSE) DESC, s.load_id DESC
            LIMIT 1
            """,
            [file_identifier],
        )
        if row is not None:
            return int(row[0])
    raise ShadowMissing(
        f"file {file_identifier} has no shadow verification: materialize shadow_phase1 "
        "(verify_file) for it first"
    )


def _candidates_sql() -> str:
    """Reports of each role answering the attempt, ranked: matched attempt first, then the
    latest generated, then the latest loaded."""
    parts = [
        f"SELECT DISTINCT '{role}' AS role, outbound_file_identifier, load_id IS NOT NULL AS matched "
        f"FROM {table} WHERE file_identifier = $fid "
        "AND (load_id = $lid OR load_id IS NULL) "
        f"AND report_type IN ({', '.join(repr(t) for t in ROLE_REPORT_TYPES[role])})"
        for role, table in ROLE_TABLES.items()
    ]
    return f"""
SELECT role, outbound_file_identifier FROM (
  SELECT c.role, c.outbound_file_identifier, row_number() OVER (
    PARTITION BY c.role
    ORDER BY c.matched DESC, o.generated_at DESC NULLS LAST, o.outbound_load_id DESC) AS n
  FROM ({" UNION ALL ".join(parts)}) c
  JOIN outbound_file o ON o.outbound_file_identifier = c.outbound_file_identifier
   AND o.status = 'loaded'
) WHERE n = 1
"""


def select_reports(
    con: duckdb.DuckDBPyConnection, file_identifier: str, load_id: int | None = None
) -> ReportSet:
    """The attempt (``load_id``, default :func:`phase1_load_id`) and the reports to compare.

    Raises :class:`ReportsMissing` without an ESFAR for the attempt, or without a detail report
    unless the ESFAR rejected the file (EDGE may then send the ESFAR alone; only the file
    level is compared).
    """
    lid = phase1_load_id(con, file_identifier) if load_id is None else load_id
    if not all(table_exists(con, t) for t in (*ROLE_TABLES.values(), "outbound_file")):
        raise ReportsMissing(f"file {file_identifier}: no outbound report was ever loaded")
    found = dict(con.execute(_candidates_sql(), {"fid": file_identifier, "lid": lid}).fetchall())
    file_status = found.get("file_status")
    if file_status is None:
        raise ReportsMissing(
            f"file {file_identifier} (load {lid}): no ESFAR answering it is loaded; "
            "EDGE has not answered yet, or its reports are not in the outbox"
        )
    row = first_row(
        con,
        "SELECT status FROM reported_file_status WHERE outbound_file_identifier = ? "
        "AND file_identifier = ?",
        [file_status, file_identifier],
    )
    reported_status = row[0] if row else None
    if found.get("detail") is None and reported_status != "R":
        raise ReportsMissing(
            f"file {file_identifier} (load {lid}): the ESFAR is loaded but no detail report "
            "answering it is; the records cannot be compared yet"
        )
    return ReportSet(
        file_identifier=file_identifier,
        load_id=lid,
        file_status=file_status,
        detail=found.get("detail"),
        summary=found.get("summary"),
        reported_status=reported_status,
        frequency=found.get("frequency"),
    )
