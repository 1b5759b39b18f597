"""Invariants Phase 2 must hold before anyone relies on its numbers (the blocking checks).

* Every claim or supplemental record RA claim selection *included* is active and accepted:
  a rejected, voided or replaced-away claim that scores would inflate risk scores, and with
  them the transfer.
* Every scored enrollee x plan has accepted, active enrollment in that plan in the benefit
  year: a score without enrollment would put member months where none were billed.

Each returns the offending rows (file and record identifiers, plan; never a member id), empty
when the invariant holds.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from edge_pipeline.edge.ra_runs.runs import ScoringRun, run_filter


def included_but_not_active(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pa.Table:
    """RA-included rows whose claim is not active and accepted (or supplemental not accepted)."""
    return con.sql(
        f"""
        SELECT s.record_kind, s.category, s.file_identifier, s.record_identifier, s.plan_id
        FROM shadow_ra_claim_selection s
        WHERE {run_filter("s")} AND s.included = 'Y'
          AND NOT CASE s.record_kind
            WHEN 'medical' THEN EXISTS (
              SELECT 1 FROM active_medical_claim a
              WHERE a.file_identifier = s.file_identifier
                AND a.record_identifier = s.record_identifier
                AND a.issuer_id = s.issuer_id AND a.execution_zone = s.execution_zone)
            WHEN 'pharmacy' THEN EXISTS (
              SELECT 1 FROM active_pharmacy_claim a
              WHERE a.file_identifier = s.file_identifier
                AND a.record_identifier = s.record_identifier
                AND a.issuer_id = s.issuer_id AND a.execution_zone = s.execution_zone)
            WHEN 'supplemental' THEN EXISTS (
              SELECT 1 FROM shadow_file_status f
              JOIN shadow_record_status r ON r.load_id = f.load_id
               AND r.level = 'supplemental' AND r.status = 'A'
              WHERE f.file_identifier = s.file_identifier AND f.status = 'A'
                AND f.submission_type = 'S' AND r.record_identifier = s.record_identifier)
            ELSE FALSE END
        ORDER BY s.file_identifier, s.record_identifier
        """,
        params=run.params,
    ).to_arrow_table()


def scored_without_enrollment(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pa.Table:
    """Scored enrollee x plan rows with no active accepted enrollment period in the year."""
    return con.sql(
        f"""
        SELECT s.plan_id, s.model, s.score_raw
        FROM shadow_risk_score s
        WHERE {run_filter("s")}
          AND NOT EXISTS (
            SELECT 1 FROM active_enrollment e
            WHERE e.issuer_id = s.issuer_id AND e.execution_zone = s.execution_zone
              AND e.member_id = s.member_id AND e.plan_id = s.plan_id
              AND e.start_date <= make_date(s.benefit_year, 12, 31)
              AND e.end_date >= make_date(s.benefit_year, 1, 1))
        ORDER BY s.plan_id
        """,
        params=run.params,
    ).to_arrow_table()
