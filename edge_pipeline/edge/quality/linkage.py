"""Check 3: every outbound report points at inbound data we have.

Two frames per scoring run (issuer and execution zone; RA rows of the run's benefit year):

``reports`` -- one row per loaded outbound report (``outbound_file``, status ``loaded``) of the
issuer and zone, Phase 1 and RA alike: its ``inboundFileIdentifier``, whether that names a file
we received (``inbound_known``: a ``submission_file`` row, whatever its load status, since EDGE
answers a rejected file too) and, when it does, whether one of those rows is of the report's
zone (``same_zone``; NULL for an unknown file, so the two expectations below never report the
same row twice).

``records`` -- one row per (report, inbound file, record, level) a report cites:

* Phase 1 detail reports (``reported_record_status`` / ``reported_record_error``): the
  unknown ones are :func:`~edge_pipeline.edge.reconciliation.phase1.reported_errors_without_record`
  (record and level not among the file's inbound records; header errors excluded), reused
  per cited file;
* RACSD (``reported_ra_claim_selection``): the record must be in the landing table of its kind
  (``medical_claim``, ``pharmacy_claim``, ``supplemental_record``) under that fileIdentifier.

Expectations (suite ``outbound_linkage``): ``inbound_known`` true, ``same_zone`` true (reports);
``record_exists`` true (records).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from edge_pipeline.base.warehouse.query import table_exists
from edge_pipeline.edge.quality.gx_suite import Expect, Frame, QualityCheck, plain, run_suite
from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.reconciliation.phase1 import reported_errors_without_record

SUITE = "outbound_linkage"

REPORT_COLUMNS = (
    "outbound_file_identifier",
    "report_type",
    "execution_zone",
    "inbound_file_identifier",
    "inbound_known",
    "inbound_zones",
    "same_zone",
)
RECORD_COLUMNS = (
    "outbound_file_identifier",
    "report_type",
    "file_identifier",
    "record_identifier",
    "level",
    "record_exists",
)

#: Landing table of each RACSD record kind.
RACSD_LANDING: dict[str, str] = {
    "medical": "medical_claim",
    "pharmacy": "pharmacy_claim",
    "supplemental": "supplemental_record",
}

_REPORTS_SQL = """
WITH inbound AS (
  SELECT file_identifier, list(DISTINCT execution_zone ORDER BY execution_zone) AS zones
  FROM submission_file GROUP BY file_identifier
)
SELECT o.outbound_file_identifier, o.report_type, o.execution_zone, o.inbound_file_identifier,
  i.file_identifier IS NOT NULL AS inbound_known,
  array_to_string(i.zones, ' ') AS inbound_zones,
  CASE WHEN i.file_identifier IS NOT NULL THEN list_contains(i.zones, o.execution_zone) END
    AS same_zone
FROM outbound_file o
LEFT JOIN inbound i ON i.file_identifier = o.inbound_file_identifier
WHERE o.status = 'loaded' AND o.issuer_id = $issuer AND o.execution_zone = $zone
ORDER BY o.outbound_load_id
"""


def _params(run: ScoringRun) -> dict[str, object]:
    return {"issuer": run.issuer_id, "zone": run.execution_zone}


def reports_frame(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    """One row per loaded outbound report of the run's issuer and zone."""
    frame = con.sql(_REPORTS_SQL, params=_params(run)).df()
    return frame[list(REPORT_COLUMNS)].reset_index(drop=True)


def _phase1_cited_sql() -> str:
    """Distinct records cited by the zone's loaded Phase 1 detail reports (header errors,
    level ``file``, have no record by design)."""
    return """
SELECT DISTINCT r.outbound_file_identifier, r.report_type, r.file_identifier,
  r.record_identifier, r.level
FROM (
  SELECT outbound_file_identifier, report_type, file_identifier, record_identifier, level
  FROM reported_record_status
  UNION ALL
  SELECT outbound_file_identifier, report_type, file_identifier, record_identifier, level
  FROM reported_record_error WHERE level IS DISTINCT FROM 'file'
) r
JOIN outbound_file o ON o.outbound_file_identifier = r.outbound_file_identifier
  AND o.status = 'loaded' AND o.issuer_id = $issuer AND o.execution_zone = $zone
"""


def _phase1_records(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    empty = pd.DataFrame(columns=list(RECORD_COLUMNS))
    if not table_exists(con, "reported_record_status"):
        return empty
    cited = con.sql(_phase1_cited_sql(), params=_params(run)).to_arrow_table()
    files = sorted(set(cited["file_identifier"].to_pylist()))
    # What the Phase 1 reconciliation already knows how to find: reported rows without record.
    missing = [reported_errors_without_record(con, fid) for fid in files]
    unknown = {
        (row["outbound_file_identifier"], fid, row["record_identifier"], row["level"])
        for fid, table in zip(files, missing, strict=True)
        for row in table.select(
            ["outbound_file_identifier", "record_identifier", "level"]
        ).to_pylist()
    }
    frame = cited.to_pandas()
    if frame.empty:
        return empty
    frame["record_exists"] = [
        (o, f, r, lv) not in unknown
        for o, f, r, lv in zip(
            frame["outbound_file_identifier"],
            frame["file_identifier"],
            frame["record_identifier"],
            frame["level"],
            strict=True,
        )
    ]
    return frame


def _racsd_records(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    if not table_exists(con, "reported_ra_claim_selection"):
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    exists = " ".join(
        f"WHEN '{kind}' THEN EXISTS (SELECT 1 FROM {table} t "
        "WHERE t.file_identifier = c.file_identifier "
        "AND t.record_identifier = c.record_identifier)"
        for kind, table in RACSD_LANDING.items()
    )
    sql = f"""
SELECT DISTINCT c.outbound_file_identifier, c.report_type, c.file_identifier,
  c.record_identifier, c.record_kind AS level,
  coalesce(CASE c.record_kind {exists} END, FALSE) AS record_exists
FROM reported_ra_claim_selection c
WHERE c.benefit_year = $year AND c.issuer_id = $issuer AND c.execution_zone = $zone
"""
    return con.sql(sql, params={**_params(run), "year": run.benefit_year}).df()


def records_frame(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    """One row per inbound record a loaded report of the run cites, with ``record_exists``."""
    parts = [p for p in (_phase1_records(con, run), _racsd_records(con, run)) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    frame = pd.concat([p[list(RECORD_COLUMNS)] for p in parts], ignore_index=True)
    frame["record_exists"] = frame["record_exists"].astype(bool)
    return frame.sort_values(
        ["report_type", "outbound_file_identifier", "file_identifier", "record_identifier"],
        kind="stable",
        ignore_index=True,
    )


def linkage_expectations() -> tuple[list[Expect], list[Expect]]:
    """(reports expectations, records expectations)."""
    reports = [
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "inbound_known", "value_set": [True]},
            "the report's inboundFileIdentifier names an inbound file we received",
        ),
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "same_zone", "value_set": [True]},
            "the inbound file it names is of the report's execution zone",
        ),
    ]
    records = [
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "record_exists", "value_set": [True]},
            "every record identifier a report cites is a record of the inbound file it names",
        ),
    ]
    return reports, records


def check_outbound_linkage(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> QualityCheck:
    """Run the suite for one run; ``rows`` lists the reports and records that point nowhere."""
    for table in ("outbound_file", "submission_file"):
        if not table_exists(con, table):
            raise LookupError(f"{run.label}: table {table} is missing (load reports first)")
    reports, records = reports_frame(con, run), records_frame(con, run)
    report_expectations, record_expectations = linkage_expectations()
    outcome = run_suite(
        SUITE,
        [
            Frame("reports", reports, report_expectations),
            Frame("records", records, record_expectations),
        ],
    )
    bad_reports = reports[~reports["inbound_known"] | (reports["same_zone"] == False)]  # noqa: E712
    bad_records = records[~records["record_exists"]]
    rows = [{"kind": "report", **_plain_row(row)} for row in bad_reports.to_dict("records")] + [
        {"kind": "record", **_plain_row(row)} for row in bad_records.to_dict("records")
    ]
    return QualityCheck(run.label, outcome, rows)


def _plain_row(row: dict) -> dict:
    return {k: plain(v) for k, v in row.items()}
