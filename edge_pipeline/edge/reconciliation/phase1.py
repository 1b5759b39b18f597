"""Phase 1 reconciliation: what EDGE said about a file (``reported_*``) against what it should
have said (``shadow_*``), record by record.

Both families share one shape (docs/phase1-contract.md), so every comparison is one set-based
query keyed by record identifier; nothing is compared row by row in Python, which keeps files
of millions of records cheap.

* :func:`phase1_differences` -- records (and the file itself) whose status or error codes
  differ, plus records only one side knows;
* :func:`reported_errors_without_record` -- reported statuses and errors that point to no
  inbound record of the file;
* :func:`conservation_violations` -- level counts where received != accepted + rejected;
* :func:`refresh_phase1_reconciliation` -- stores the differences of one file in
  ``phase1_reconciliation`` (and a one-row verdict in ``phase1_reconciliation_file``), replacing
  the file's previous rows in one transaction, so re-running is idempotent.

Error codes are compared as sorted lists *with* repetitions: a report that drops one of two
identical codes on a record differs.  A missing code in a report compares as ``?``.  Output
holds record identifiers, levels, statuses and codes only: never a member identifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from edge_pipeline.base.warehouse.query import first_row, table_exists
from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.layouts import BY_NAME
from edge_pipeline.edge.reconciliation.frequency import (
    FREQUENCY_DIFFERENCE_COLUMNS,
    FREQUENCY_DIFFERENCES_SQL,
    FREQUENCY_RECONCILIATION_DDL,
)
from edge_pipeline.edge.reconciliation.reports import ReportSet, select_reports

#: Kinds of ``phase1_reconciliation.difference``.
DIFFERENCE_KINDS: dict[str, str] = {
    "status": "statuses differ, error codes agree",
    "codes": "error codes differ, statuses agree",
    "status_and_codes": "statuses and error codes differ",
    "not_reported": "the shadow has the record; the detail report does not",
    "not_in_shadow": "the detail report has the record; the shadow does not",
}

RECONCILIATION_DDL: dict[str, str] = {
    "phase1_reconciliation": (
        "file_identifier VARCHAR NOT NULL, load_id BIGINT, record_identifier BIGINT, "
        "level VARCHAR, shadow_status VARCHAR, reported_status VARCHAR, "
        "shadow_codes VARCHAR[], reported_codes VARCHAR[], difference VARCHAR, "
        "reconciled_at TIMESTAMP"
    ),
    # one row per reconciled file: the verdict and the evidence it rests on
    "phase1_reconciliation_file": (
        "file_identifier VARCHAR NOT NULL, load_id BIGINT, file_status_report VARCHAR, "
        "detail_report VARCHAR, summary_report VARCHAR, shadow_status VARCHAR, "
        "reported_status VARCHAR, records_compared BIGINT, differences BIGINT, "
        "reconciled_at TIMESTAMP"
    ),
    # frequency by data element: reported vs shadow (reconciliation/frequency.py)
    "phase1_frequency_reconciliation": FREQUENCY_RECONCILIATION_DDL,
}

DIFFERENCE_COLUMNS: tuple[str, ...] = (
    "file_identifier",
    "load_id",
    "record_identifier",
    "level",
    "shadow_status",
    "reported_status",
    "shadow_codes",
    "reported_codes",
    "difference",
)

_CODES = "list_sort(list(coalesce(error_code, '?')))"

#: Parameters: $fid, $lid (attempt), $far (ESFAR), $detail (detail report, may be NULL).
_DIFFERENCES_SQL = f"""
WITH
s AS (SELECT record_identifier, level, status FROM shadow_record_status WHERE load_id = $lid),
r AS (SELECT record_identifier, level, status, TRUE AS present FROM reported_record_status
      WHERE file_identifier = $fid AND outbound_file_identifier = $detail),
se AS (SELECT record_identifier, {_CODES} AS codes FROM shadow_record_error
       WHERE load_id = $lid AND record_identifier IS NOT NULL GROUP BY ALL),
re AS (SELECT record_identifier, {_CODES} AS codes FROM reported_record_error
       WHERE file_identifier = $fid AND outbound_file_identifier = $detail
         AND record_identifier IS NOT NULL GROUP BY ALL),
records AS (
  SELECT coalesce(s.record_identifier, r.record_identifier) AS record_identifier,
         coalesce(s.level, r.level) AS level,
         s.status AS shadow_status, r.status AS reported_status,
         coalesce(se.codes, []::VARCHAR[]) AS shadow_codes,
         coalesce(re.codes, []::VARCHAR[]) AS reported_codes,
         s.level IS NOT NULL AS in_shadow, r.present IS NOT NULL AS in_report
  FROM s FULL JOIN r ON r.record_identifier = s.record_identifier
  LEFT JOIN se ON se.record_identifier = coalesce(s.record_identifier, r.record_identifier)
  LEFT JOIN re ON re.record_identifier = coalesce(s.record_identifier, r.record_identifier)
),
file_row AS (
  SELECT NULL::BIGINT AS record_identifier, 'file' AS level,
    (SELECT status FROM shadow_file_status WHERE load_id = $lid) AS shadow_status,
    (SELECT status FROM reported_file_status
      WHERE outbound_file_identifier = $far AND file_identifier = $fid) AS reported_status,
    coalesce((SELECT {_CODES} FROM shadow_record_error
               WHERE load_id = $lid AND record_identifier IS NULL), []::VARCHAR[])
      AS shadow_codes,
    coalesce((SELECT {_CODES} FROM reported_record_error
               WHERE outbound_file_identifier = $far AND file_identifier = $fid
                 AND record_identifier IS NULL), []::VARCHAR[]) AS reported_codes,
    TRUE AS in_shadow, TRUE AS in_report
),
compared AS (
  SELECT *, CASE
      WHEN NOT in_report THEN 'not_reported'
      WHEN NOT in_shadow THEN 'not_in_shadow'
      WHEN shadow_status IS DISTINCT FROM reported_status AND shadow_codes <> reported_codes
        THEN 'status_and_codes'
      WHEN shadow_status IS DISTINCT FROM reported_status THEN 'status'
      WHEN shadow_codes <> reported_codes THEN 'codes'
    END AS difference
  FROM (SELECT * FROM file_row UNION ALL SELECT * FROM records WHERE $detail IS NOT NULL)
)
SELECT $fid::VARCHAR AS file_identifier, $lid::BIGINT AS load_id, record_identifier, level,
       shadow_status, reported_status, shadow_codes, reported_codes, difference
FROM compared WHERE difference IS NOT NULL
ORDER BY level <> 'file', record_identifier NULLS FIRST, level
"""


def ensure_reconciliation_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the reconciliation tables when missing (idempotent)."""
    for table, ddl in RECONCILIATION_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl})")


def _params(reports: ReportSet) -> dict[str, object]:
    return {
        "fid": reports.file_identifier,
        "lid": reports.load_id,
        "far": reports.file_status,
        "detail": reports.detail,
    }


def phase1_differences(
    con: duckdb.DuckDBPyConnection, file_identifier: str, reports: ReportSet | None = None
) -> pa.Table:
    """Records of the file where shadow and report disagree (status, codes, presence), and the
    file-level row (``level`` ``file``, no record identifier) when the ESFAR's status or header
    errors disagree; columns :data:`DIFFERENCE_COLUMNS`, file row first, then by record.

    ``reports`` defaults to :func:`~edge_pipeline.edge.reconciliation.reports.select_reports`
    (which raises when the shadow or the reports are missing).
    """
    chosen = reports or select_reports(con, file_identifier)
    return con.sql(_DIFFERENCES_SQL, params=_params(chosen)).to_arrow_table()


def _inbound_records_sql(con: duckdb.DuckDBPyConnection, file_identifier: str) -> str:
    """(record_identifier, level) of every inbound record of the file, from its landing tables
    (nothing when no attempt of it loaded its records)."""
    row = first_row(
        con,
        "SELECT layout FROM submission_file WHERE file_identifier = ? AND status = 'loaded' "
        "ORDER BY load_id DESC LIMIT 1",
        [file_identifier],
    )
    layout = BY_NAME.get(row[0]) if row and row[0] else None
    if layout is None:
        return "SELECT NULL::BIGINT AS record_identifier, NULL::VARCHAR AS level WHERE FALSE"
    return " UNION ALL ".join(
        f"SELECT record_identifier, '{record.level}' AS level FROM {record.table} "
        "WHERE file_identifier = $fid"
        for record, _ in layout.records()
    )


def reported_errors_without_record(
    con: duckdb.DuckDBPyConnection, file_identifier: str
) -> pa.Table:
    """Reported statuses (``kind`` status) and errors (``kind`` error) of any loaded report of
    the file whose record identifier and level are not an inbound record of that file.

    Header-level errors (level ``file``) have no record by design and are not listed.
    """
    if not table_exists(con, "reported_record_status") or not table_exists(con, "submission_file"):
        return _empty(_POINTER_SCHEMA)
    sql = f"""
WITH inbound AS ({_inbound_records_sql(con, file_identifier)}),
reported AS (
  SELECT report_type, outbound_file_identifier, 'status' AS kind, record_identifier, level,
         NULL::VARCHAR AS error_code
  FROM reported_record_status WHERE file_identifier = $fid
  UNION ALL
  SELECT report_type, outbound_file_identifier, 'error', record_identifier, level, error_code
  FROM reported_record_error WHERE file_identifier = $fid AND level IS DISTINCT FROM 'file'
)
SELECT r.* FROM reported r
ANTI JOIN inbound i ON i.record_identifier = r.record_identifier AND i.level = r.level
ORDER BY outbound_file_identifier, record_identifier NULLS FIRST, kind DESC, error_code
"""
    return con.sql(sql, params={"fid": file_identifier}).to_arrow_table()


_POINTER_SCHEMA = pa.schema(
    [
        ("report_type", pa.string()),
        ("outbound_file_identifier", pa.string()),
        ("kind", pa.string()),
        ("record_identifier", pa.int64()),
        ("level", pa.string()),
        ("error_code", pa.string()),
    ]
)
_CONSERVATION_SCHEMA = pa.schema(
    [
        ("side", pa.string()),
        ("load_id", pa.int64()),
        ("outbound_file_identifier", pa.string()),
        ("level", pa.string()),
        ("received", pa.int64()),
        ("accepted", pa.int64()),
        ("rejected", pa.int64()),
    ]
)


def _empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def conservation_violations(
    con: duckdb.DuckDBPyConnection,
    file_identifier: str,
    sides: tuple[str, ...] = ("shadow", "reported"),
) -> pa.Table:
    """Level counts of the file where received != accepted + rejected (a missing count is a
    violation too): every shadow attempt (``side`` shadow, its ``load_id``) and every loaded
    summary report (``side`` reported, its ``outbound_file_identifier``).

    Conservation must hold for every verdict and every report, so nothing is selected here:
    a wrong count in a superseded report is still a wrong count.
    """
    queries = []
    if "shadow" in sides and table_exists(con, "shadow_level_summary"):
        queries.append(
            "SELECT 'shadow' AS side, load_id, NULL::VARCHAR AS outbound_file_identifier, level, "
            "received, accepted, rejected FROM shadow_level_summary WHERE file_identifier = $fid"
        )
    if "reported" in sides and table_exists(con, "reported_level_summary"):
        queries.append(
            "SELECT 'reported' AS side, load_id, outbound_file_identifier, level, received, "
            "accepted, rejected FROM reported_level_summary WHERE file_identifier = $fid"
        )
    if not queries:
        return _empty(_CONSERVATION_SCHEMA)
    sql = (
        f"SELECT * FROM ({' UNION ALL '.join(queries)}) "
        "WHERE received IS DISTINCT FROM accepted + rejected "
        "ORDER BY side DESC, load_id, outbound_file_identifier, level"
    )
    return con.sql(sql, params={"fid": file_identifier}).to_arrow_table()


@dataclass
class ReconciliationResult:
    """One file's reconciliation; safe to log (record identifiers and codes only)."""

    reports: ReportSet
    shadow_status: str | None
    records_compared: int
    differences: pa.Table
    by_kind: dict[str, int] = field(default_factory=dict)
    #: (data element, value) pairs whose frequency differs (``phase1_frequency_reconciliation``)
    frequency_differences: pa.Table | None = None

    @property
    def file_identifier(self) -> str:
        return self.reports.file_identifier

    @property
    def agrees(self) -> bool:
        frequencies = self.frequency_differences
        return self.differences.num_rows == 0 and (frequencies is None or not frequencies.num_rows)


def refresh_phase1_reconciliation(
    con: duckdb.DuckDBPyConnection, file_identifier: str
) -> ReconciliationResult:
    """Replace the file's rows of ``phase1_reconciliation`` and ``phase1_reconciliation_file``
    with a fresh comparison, in one transaction (raises, writing nothing, when the shadow or
    the reports are missing)."""
    ensure_reconciliation_schema(con)
    reports = select_reports(con, file_identifier)
    params = _params(reports)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in RECONCILIATION_DDL:
            con.execute(f"DELETE FROM {table} WHERE file_identifier = ?", [file_identifier])
        con.execute(
            f"INSERT INTO phase1_reconciliation SELECT *, now()::TIMESTAMP "
            f"FROM ({_DIFFERENCES_SQL})",
            params,
        )
        con.execute(
            "INSERT INTO phase1_frequency_reconciliation SELECT *, now()::TIMESTAMP "
            f"FROM ({FREQUENCY_DIFFERENCES_SQL})",
            {"fid": file_identifier, "lid": reports.load_id, "frequency": reports.frequency},
        )
        con.execute(
            """
            INSERT INTO phase1_reconciliation_file SELECT
              $fid, $lid, $far, $detail, $summary,
              (SELECT status FROM shadow_file_status WHERE load_id = $lid), $reported_status,
              (SELECT count(*) FROM shadow_record_status WHERE load_id = $lid),
              (SELECT count(*) FROM phase1_reconciliation WHERE file_identifier = $fid)
              + (SELECT count(*) FROM phase1_frequency_reconciliation
                 WHERE file_identifier = $fid),
              now()::TIMESTAMP
            """,
            {**params, "summary": reports.summary, "reported_status": reports.reported_status},
        )
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    differences = con.sql(
        f"SELECT {', '.join(DIFFERENCE_COLUMNS)} FROM phase1_reconciliation "
        "WHERE file_identifier = $fid ORDER BY level <> 'file', record_identifier NULLS FIRST, "
        "level",
        params={"fid": file_identifier},
    ).to_arrow_table()
    verdict = first_row(
        con,
        "SELECT shadow_status, records_compared FROM phase1_reconciliation_file "
        "WHERE file_identifier = ?",
        [file_identifier],
    )
    assert verdict is not None  # written in the transaction above
    shadow_status, records = verdict
    by_kind: dict[str, int] = {}
    for kind in differences.column("difference").to_pylist():
        by_kind[kind] = by_kind.get(kind, 0) + 1
    frequencies = con.sql(
        f"SELECT {', '.join(FREQUENCY_DIFFERENCE_COLUMNS)} FROM phase1_frequency_reconciliation "
        "WHERE file_identifier = $fid ORDER BY element, value NULLS FIRST",
        params={"fid": file_identifier},
    ).to_arrow_table()
    return ReconciliationResult(
        reports, shadow_status, int(records), differences, by_kind, frequencies
    )
