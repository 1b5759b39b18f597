"""What a claim file is verified against: the state left by the files loaded before it.

A file's result may depend only on files loaded earlier (lower ``load_id``) of the same issuer
and execution zone, so re-verifying the files in load order always gives the same result.  The
state is materialised as small temp tables before the rules run:

* ``_v_enr`` -- the accepted active enrollment (``schema.active_enrollment_sql`` as of the file);
* ``_v_stored`` -- claims of the file's type accepted in earlier files, with ``superseded`` set
  when an accepted replacement or void already names them;
* ``_v_stored_supp`` -- supplemental records accepted in earlier files (``superseded``: voided).
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.sql import as_timestamp, lit
from edge_pipeline.edge.verification.schema import active_enrollment_sql

_CLAIM_TABLES = {"ESMCS": ("medical_claim", "M"), "ESPCS": ("pharmacy_claim", "P")}


def _prior_files(kind: str) -> str:
    """Accepted files of submission type ``kind`` (a code constant) before the one verified,
    of its issuer and zone (the bound parameters ``$lid``, ``$issuer``, ``$zone``)."""
    return (
        f"f.load_id < $lid AND f.status = 'A' AND f.submission_type = {lit(kind)} "
        "AND f.issuer_id IS NOT DISTINCT FROM $issuer "
        "AND f.execution_zone IS NOT DISTINCT FROM $zone"
    )


def build_context(
    con: duckdb.DuckDBPyConnection,
    layout: str,
    load_id: int,
    issuer: str | None,
    zone: str | None,
) -> None:
    """Create the context temp tables a file of ``layout`` needs (none for an ESES)."""
    if layout == "ESES":
        return
    # The issuer and zone come from the file: bound parameters, never SQL text.
    params = {"lid": load_id, "issuer": issuer, "zone": zone}
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _v_enr AS
        SELECT member_id, plan_id, start_date, end_date FROM ({active_enrollment_sql("$lid")})
        WHERE issuer_id IS NOT DISTINCT FROM $issuer
          AND execution_zone IS NOT DISTINCT FROM $zone
          AND start_date IS NOT NULL AND end_date IS NOT NULL""",
        params,
    )
    if layout in _CLAIM_TABLES:
        table, kind = _CLAIM_TABLES[layout]
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _v_stored AS
            WITH acc AS (
              SELECT c.claim_identifier, c.insured_member_identifier AS member_id,
                {as_timestamp("c.claim_processed_datetime")} AS processed,
                c.void_replace_code, c.original_claim_identifier
              FROM {table} c
              JOIN shadow_file_status f ON f.file_identifier = c.file_identifier
              JOIN shadow_record_status s ON s.load_id = f.load_id AND s.level = 'claim'
               AND s.record_identifier = c.record_identifier AND s.status = 'A'
              WHERE {_prior_files(kind)}
            )
            SELECT a.*, EXISTS (
              SELECT 1 FROM acc b WHERE b.void_replace_code IN ('R', 'V')
                AND b.original_claim_identifier = a.claim_identifier) AS superseded
            FROM acc a""",
            params,
        )
    else:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _v_stored_supp AS
            WITH acc AS (
              SELECT c.supplemental_diagnosis_detail_record_identifier AS detail_id,
                c.insured_member_identifier AS member_id,
                {as_timestamp("c.detail_record_processed_datetime")} AS processed,
                c.add_delete_void_code AS code, c.original_supplemental_detail_id AS reference
              FROM supplemental_record c
              JOIN shadow_file_status f ON f.file_identifier = c.file_identifier
              JOIN shadow_record_status s ON s.load_id = f.load_id AND s.level = 'supplemental'
               AND s.record_identifier = c.record_identifier AND s.status = 'A'
              WHERE {_prior_files("S")}
            )
            SELECT a.*, EXISTS (
              SELECT 1 FROM acc b WHERE b.code = 'V' AND b.reference = a.detail_id) AS superseded
            FROM acc a""",
            params,
        )


def drop_context(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("_v_enr", "_v_stored", "_v_stored_supp"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
