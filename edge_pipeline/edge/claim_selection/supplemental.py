"""Supplemental records (ESSFS): linkage to medical claims, voids, and their diagnoses.

A supplemental record is considered when Phase 1 accepted it (its file's header and the record
itself; ESSFS is incremental, so every accepted record of the issuer and zone stays stored).
Its facts:

* ``_linked`` -- ``originalClaimIdentifier`` names an *active* medical claim (``_cs_medical``:
  accepted, neither voided nor replaced) of the same enrollee.  A claim voided or replaced
  after the supplemental was accepted therefore unlinks it (R10): the replacement carries a
  new claim identifier, and the issuer re-attaches supplementals to it.
* ``_claim_included`` -- that claim passed R01-R08 (else R09).
* ``_voided`` -- an accepted ``V`` record of the issuer and zone names this record's
  ``supplementalDiagnosisDetailRecordIdentifier`` in ``originalSupplementalDetailID``.

Voids (this project's decision, documented in docs/phase2-contract.md): neither the ``V``
record nor the record it voids applies.  Both still get their RACSD row (every accepted record
is accounted for), ``included = 'N'``, with the first failing EDGE rule if any (an unlinked
void is R10), else the project's codes ``VOID`` (the V record itself) and ``VOIDED`` (its
target).  A void is final: voiding a V record does not revive what it voided.

Effects on ``ra_diagnosis`` (``diagnosis_sql``): included ``A`` records add their codes to the
linked claim (service date = the record's serviceToDate, else the claim's through date, plan
= the claim's plan); included ``D`` records remove the code from the linked claim: the claim's
own diagnosis and any ``A`` of that claim and code processed before the ``D`` (a later ``A``
re-adds it: a chart review that found the condition after all).
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.claim_selection.rules import SUPPLEMENTAL_RULES, reason_case
from edge_pipeline.edge.claim_selection.run import Run, create_temp
from edge_pipeline.edge.sql import as_date, as_timestamp, present


def build_supplemental(con: duckdb.DuckDBPyConnection, run: Run) -> None:
    """``_cs_supplemental_base`` (accepted records, typed) and ``_cs_supplemental`` (facts and
    reason code).  Needs ``_cs_medical``: linkage depends on the claims' own selection."""
    create_temp(
        con,
        "_cs_supplemental_base",
        f"""
SELECT f.issuer_id, f.execution_zone, f.load_id, t.file_identifier, t.record_identifier,
  pl.insurance_plan_identifier AS plan_id, t.insured_member_identifier AS member_id,
  t.supplemental_diagnosis_detail_record_identifier AS detail_id,
  nullif(trim(t.original_claim_identifier), '') AS original_claim_identifier,
  upper(trim(t.add_delete_void_code)) AS add_delete_void_code,
  nullif(trim(t.original_supplemental_detail_id), '') AS original_supplemental_detail_id,
  {as_timestamp("t.detail_record_processed_datetime")} AS processed_at,
  {as_date("t.service_from_date")} AS service_from_date,
  {as_date("t.service_to_date")} AS service_to_date
FROM supplemental_record t
JOIN shadow_file_status f ON f.file_identifier = t.file_identifier AND f.status = 'A'
  AND f.submission_type = 'S'
JOIN shadow_record_status s ON s.load_id = f.load_id AND s.level = 'supplemental'
  AND s.record_identifier = t.record_identifier AND s.status = 'A'
JOIN submission_plan pl ON pl.file_identifier = t.file_identifier
  AND pl.record_identifier = t.plan_record_identifier
WHERE {run.scope("f")}
""",
        run.params,
    )
    facts = f"""
WITH claims AS (
  SELECT claim_identifier, member_id, plan_id, file_identifier, record_identifier, _through,
    reason_code IS NULL AS included
  FROM _cs_medical
  QUALIFY row_number() OVER (
    PARTITION BY claim_identifier, member_id ORDER BY processed_at DESC, record_identifier DESC
  ) = 1
), voided AS (
  SELECT DISTINCT original_supplemental_detail_id AS detail_id
  FROM _cs_supplemental_base WHERE add_delete_void_code = 'V'
), facts AS (
  SELECT s.*,
    c.claim_identifier IS NOT NULL AS _linked,
    coalesce(c.included, FALSE) AS _claim_included,
    c.plan_id AS _claim_plan_id, c._through AS _claim_through,
    v.detail_id IS NOT NULL AS _voided
  FROM _cs_supplemental_base s
  LEFT JOIN claims c ON c.claim_identifier = s.original_claim_identifier
    AND c.member_id = s.member_id
  LEFT JOIN voided v ON v.detail_id = s.detail_id
)
SELECT *, {reason_case(SUPPLEMENTAL_RULES, run.benefit_year)} AS reason_code FROM facts
"""
    create_temp(con, "_cs_supplemental", facts, run.params)


def diagnosis_sql(run: Run) -> str:
    """Rows of ``ra_diagnosis`` (after the run columns): included claims' diagnoses plus
    supplemental adds, minus supplemental deletes, with service dates in the benefit year
    (spec section 7: only diagnoses of the benefit year feed the score)."""
    code = "upper(trim(d.{column}))"
    return f"""
WITH claim_dx AS (
  SELECT DISTINCT m.member_id, m.plan_id, {code.format(column="diagnosis_code")} AS diagnosis_code,
    m._through AS service_date, 'claim' AS source, m.claim_identifier, m.file_identifier,
    m.record_identifier, CAST(NULL AS TIMESTAMP) AS processed_at
  FROM _cs_medical m
  JOIN medical_claim_diagnosis d ON d.file_identifier = m.file_identifier
    AND d.record_identifier = m.record_identifier
  WHERE m.reason_code IS NULL AND {present("d.diagnosis_code")}
), supplemental_dx AS (
  SELECT DISTINCT s.member_id, s._claim_plan_id AS plan_id, s.add_delete_void_code AS action,
    {code.format(column="supplemental_diagnosis_code")} AS diagnosis_code,
    coalesce(s.service_to_date, s._claim_through) AS service_date,
    s.original_claim_identifier AS claim_identifier, s.file_identifier, s.record_identifier,
    s.processed_at
  FROM _cs_supplemental s
  JOIN supplemental_diagnosis d ON d.file_identifier = s.file_identifier
    AND d.record_identifier = s.record_identifier
  WHERE s.reason_code IS NULL AND s.add_delete_void_code IN ('A', 'D')
    AND {present("d.supplemental_diagnosis_code")}
), candidates AS (
  SELECT * FROM claim_dx
  UNION ALL
  SELECT member_id, plan_id, diagnosis_code, service_date, 'supplemental' AS source,
    claim_identifier, file_identifier, record_identifier, processed_at
  FROM supplemental_dx WHERE action = 'A'
)
SELECT c.member_id, c.plan_id, c.diagnosis_code, c.service_date, c.source,
  c.claim_identifier, c.file_identifier, c.record_identifier
FROM candidates c
WHERE c.service_date BETWEEN {run.first_day} AND {run.last_day}
  AND NOT EXISTS (
    SELECT 1 FROM supplemental_dx x
    WHERE x.action = 'D' AND x.member_id = c.member_id
      AND x.claim_identifier = c.claim_identifier AND x.diagnosis_code = c.diagnosis_code
      AND (c.source = 'claim' OR c.processed_at < x.processed_at))
"""
