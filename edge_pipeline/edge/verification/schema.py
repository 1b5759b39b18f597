"""Shadow tables (docs/phase1-contract.md), the error catalog table, and the Phase 2 views.

The shadow tables carry ``load_id`` besides the contract's columns: a refused re-delivery shares
its fileIdentifier with the loaded file, and each load attempt is verified (and replaced on
re-verification) on its own.

Views for Phase 2, with typed columns (DATE, TIMESTAMP, DECIMAL):

* ``active_enrollment`` -- ESES full replacement: per issuer and execution zone, the accepted
  periods of the latest ESES that was processed (header accepted, issuer record accepted).  A
  period missing from, or rejected in, that file is inactive.
* ``accepted_medical_claim`` / ``accepted_pharmacy_claim`` -- every claim the shadow accepted;
* ``active_medical_claim`` / ``active_pharmacy_claim`` -- void/replace resolution over them: a
  claim is active unless it is a void or an accepted replacement or void names it (the chain's
  latest replacement is the active one);
* ``active_medical_claim_line`` / ``active_medical_claim_diagnosis`` -- lines and diagnoses of
  the active medical claims.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from edge_pipeline.edge.sql import as_amount, as_date, as_timestamp
from edge_pipeline.edge.verification.catalog import CATALOG

SHADOW_DDL: dict[str, str] = {
    "shadow_file_status": (
        "load_id BIGINT, file_identifier VARCHAR, submission_type VARCHAR, "
        "execution_zone VARCHAR, issuer_id VARCHAR, status VARCHAR, verified_at TIMESTAMP, "
        "layout VARCHAR, error_count BIGINT"
    ),
    "shadow_record_status": (
        "load_id BIGINT, file_identifier VARCHAR, record_identifier BIGINT, level VARCHAR, "
        "parent_record_identifier BIGINT, record_key VARCHAR, status VARCHAR, "
        "failed_self BOOLEAN, rejection_reason VARCHAR"
    ),
    "shadow_record_error": (
        "load_id BIGINT, file_identifier VARCHAR, record_identifier BIGINT, level VARCHAR, "
        "element VARCHAR, value VARCHAR, error_code VARCHAR, check_kind VARCHAR, message VARCHAR"
    ),
    "shadow_level_summary": (
        "load_id BIGINT, file_identifier VARCHAR, level VARCHAR, received BIGINT, "
        "accepted BIGINT, rejected BIGINT"
    ),
    # frequency by data element of the accepted records (verification/frequency.py)
    "shadow_data_element_frequency": (
        "load_id BIGINT, file_identifier VARCHAR, element VARCHAR, value VARCHAR, frequency BIGINT"
    ),
}

#: Accepted files of a type joined to their accepted records of a level (view building block).
_ACCEPTED = """
  JOIN shadow_file_status f ON f.file_identifier = {alias}.file_identifier AND f.status = 'A'
   AND f.submission_type = '{kind}'
  JOIN shadow_record_status s ON s.load_id = f.load_id AND s.level = '{level}'
   AND s.record_identifier = {alias}.record_identifier AND s.status = 'A'
"""


def replacing_eses_sql(before_load_id: str | None = None) -> str:
    """Per issuer and zone, the latest processed ESES (optionally loaded before a load id)."""
    before = f"AND f.load_id < {before_load_id}" if before_load_id else ""
    return f"""
SELECT load_id, file_identifier, issuer_id, execution_zone FROM (
  SELECT f.*, row_number() OVER (
    PARTITION BY f.issuer_id, f.execution_zone ORDER BY f.load_id DESC) AS n
  FROM shadow_file_status f
  WHERE f.submission_type = 'E' AND f.status = 'A' {before}
    AND EXISTS (SELECT 1 FROM shadow_record_status s WHERE s.load_id = f.load_id
                AND s.level = 'issuer' AND s.status = 'A')
) WHERE n = 1
"""


def active_enrollment_sql(before_load_id: str | None = None) -> str:
    """Accepted periods of the replacing ESES, typed."""
    return f"""
SELECT r.issuer_id, r.execution_zone, r.file_identifier, r.load_id,
  m.record_identifier AS enrollee_record_identifier,
  p.record_identifier AS enrollment_period_record_identifier,
  m.insured_member_identifier AS member_id,
  {as_date("m.insured_member_birth_date")} AS birth_date,
  m.insured_member_gender_code AS gender_code,
  p.subscriber_indicator = 'S' AS is_subscriber,
  coalesce(nullif(p.subscriber_identifier, ''), m.insured_member_identifier) AS subscriber_id,
  p.insurance_plan_identifier AS plan_id,
  {as_date("p.coverage_start_date")} AS start_date,
  {as_date("p.coverage_end_date")} AS end_date,
  p.enrollment_maintenance_type_code AS maintenance_type_code,
  {as_amount("p.insurance_plan_premium_amount")} AS premium_amount,
  p.rate_area_identifier AS rating_area
FROM ({replacing_eses_sql(before_load_id)}) r
JOIN enrollment_period p ON p.file_identifier = r.file_identifier
JOIN shadow_record_status s ON s.load_id = r.load_id AND s.level = 'enrollment_period'
  AND s.record_identifier = p.record_identifier AND s.status = 'A'
JOIN enrollee m ON m.file_identifier = r.file_identifier
  AND m.record_identifier = p.enrollee_record_identifier
"""


def _accepted_claims_sql(table: str, kind: str, typed: str) -> str:
    return f"""
SELECT f.issuer_id, f.execution_zone, f.load_id, c.file_identifier, c.record_identifier,
  c.plan_record_identifier, pl.insurance_plan_identifier AS plan_id,
  c.insured_member_identifier AS member_id, c.claim_identifier,
  nullif(c.original_claim_identifier, '') AS original_claim_identifier,
  nullif(c.void_replace_code, '') AS void_replace_code,
  {as_timestamp("c.claim_processed_datetime")} AS processed_at, {typed}
FROM {table} c
{_ACCEPTED.format(alias="c", kind=kind, level="claim")}
JOIN submission_plan pl ON pl.file_identifier = c.file_identifier
  AND pl.record_identifier = c.plan_record_identifier
"""


_MEDICAL_TYPED = ", ".join(
    [
        "c.form_type_code",
        "c.bill_type_code",
        "c.diagnosis_type_code",
        "c.discharge_status_code",
        f"{as_date('c.statement_cover_from_date')} AS statement_cover_from_date",
        f"{as_date('c.statement_cover_to_date')} AS statement_cover_to_date",
        "c.billing_provider_identifier",
        f"{as_date('c.issuer_claim_paid_date')} AS issuer_claim_paid_date",
        f"{as_amount('c.allowed_total_amount')} AS allowed_total_amount",
        f"{as_amount('c.policy_paid_total_amount')} AS policy_paid_total_amount",
        "c.derived_service_claim_indicator",
    ]
)
_PHARMACY_TYPED = ", ".join(
    [
        f"{as_date('c.prescription_fill_date')} AS prescription_fill_date",
        f"{as_date('c.issuer_claim_paid_date')} AS issuer_claim_paid_date",
        "c.prescription_service_reference_number",
        "c.national_drug_code",
        "c.dispensing_provider_identifier",
        "CAST(c.prescription_fill_number AS INTEGER) AS prescription_fill_number",
        "c.dispensing_status_code",
        f"{as_amount('c.allowed_total_cost_amount')} AS allowed_total_cost_amount",
        f"{as_amount('c.policy_paid_amount')} AS policy_paid_amount",
        "c.derived_service_claim_indicator",
    ]
)


def _active_sql(accepted_view: str) -> str:
    return f"""
SELECT a.* FROM {accepted_view} a
WHERE a.void_replace_code IS DISTINCT FROM 'V'
  AND NOT EXISTS (
    SELECT 1 FROM {accepted_view} b
    WHERE b.issuer_id = a.issuer_id AND b.execution_zone = a.execution_zone
      AND b.void_replace_code IN ('R', 'V') AND b.original_claim_identifier = a.claim_identifier)
"""


VIEWS: dict[str, str] = {
    "active_enrollment": active_enrollment_sql(),
    "accepted_medical_claim": _accepted_claims_sql("medical_claim", "M", _MEDICAL_TYPED),
    "accepted_pharmacy_claim": _accepted_claims_sql("pharmacy_claim", "P", _PHARMACY_TYPED),
    "active_medical_claim": _active_sql("accepted_medical_claim"),
    "active_pharmacy_claim": _active_sql("accepted_pharmacy_claim"),
    "active_medical_claim_line": f"""
SELECT a.issuer_id, a.execution_zone, a.claim_identifier, l.file_identifier,
  l.record_identifier, l.claim_record_identifier,
  TRY_CAST(l.service_line_number AS INTEGER) AS service_line_number,
  {as_date("l.service_from_date")} AS service_from_date,
  {as_date("l.service_to_date")} AS service_to_date,
  l.revenue_code, l.service_type_code, l.service_code, l.service_facility_type_code,
  {as_amount("l.allowed_amount")} AS allowed_amount,
  {as_amount("l.policy_paid_amount")} AS policy_paid_amount, l.derived_service_claim_indicator
FROM active_medical_claim a
JOIN medical_claim_line l ON l.file_identifier = a.file_identifier
  AND l.claim_record_identifier = a.record_identifier
""",
    "active_medical_claim_diagnosis": """
SELECT a.issuer_id, a.execution_zone, a.claim_identifier, a.member_id, d.file_identifier,
  d.record_identifier AS claim_record_identifier, d.diagnosis_sequence, d.diagnosis_code,
  a.statement_cover_from_date, a.statement_cover_to_date
FROM active_medical_claim a
JOIN medical_claim_diagnosis d ON d.file_identifier = a.file_identifier
  AND d.record_identifier = a.record_identifier
""",
}


def ensure_shadow_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shadow tables, refresh ``error_catalog`` and (re)create the views."""
    from edge_pipeline.edge.warehouse.schema import ensure_schema

    ensure_schema(con)
    for table, ddl in SHADOW_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl})")
    catalog = pa.table(
        {
            "error_code": [e.code for e in CATALOG],
            "check_kind": [e.check for e in CATALOG],
            "file_types": [", ".join(e.file_types) for e in CATALOG],
            "level": [e.level for e in CATALOG],
            "element": [e.element for e in CATALOG],
            "message": [e.message for e in CATALOG],
        }
    )
    con.register("_catalog_rows", catalog)
    try:
        con.execute("CREATE OR REPLACE TABLE error_catalog AS SELECT * FROM _catalog_rows")
    finally:
        con.unregister("_catalog_rows")
    for name, sql in VIEWS.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
