"""Fact tables of medical and pharmacy claims: every join a rule needs, resolved to a column.

Each fact table is one row per active accepted claim of the run's issuer and zone, carrying
the claim's typed columns (from the ``active_*`` views) plus the facts ``rules.py`` predicates
read, and finally the ``reason_code`` (first failing rule; NULL = included).  Everything is one
``CREATE TEMP TABLE ... AS SELECT`` per table over the whole population: lookups are hash
joins against DISTINCT key sets, never correlated per-row subqueries or Python loops.

Facts of medical claims:

* ``_inpatient`` -- institutional with a bill type of facility/classification ``11``;
* ``_from`` / ``_through`` -- statement-covers dates (the lines' earliest from / latest to date
  when the header lacks one);
* ``_has_eligible_code`` -- a line's service code is on DIY table 2 of the benefit year;
* ``_plan_active_in_from_year`` -- the plan is registered and effective in ``year(_from)``;
* ``_enrolled`` -- an active period of the same enrollee and plan overlaps the service span;
* ``_covered_in_year`` -- the enrollee is in ``_cs_coverage`` for the claim's plan.

Facts of pharmacy claims: ``_plan_active_in_fill_year``, ``_ndc_maps_to_rxc`` (DIY table 10a
of the benefit year), ``_enrolled_in_active_area`` (``_cs_coverage`` for the claim's plan),
``_enrolled`` (an active period of the same enrollee and plan contains the fill date; no rule
reads it, ECD does: ``enrollee_claims.py``).
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.claim_selection.rules import MEDICAL_RULES, PHARMACY_RULES, reason_case
from edge_pipeline.edge.claim_selection.run import Run, create_temp
from edge_pipeline.edge.sql import as_date


def plan_effective(plan: str, year: str) -> str:
    """The registry row ``plan`` (LEFT JOINed; NULL = not registered) is effective in the
    calendar year ``year`` (an INTEGER expression; a NULL year is never effective).  The
    registry stores effective years as their first and last days; empty = open."""
    return (
        f"coalesce({plan}.insurance_plan_identifier IS NOT NULL "
        f"AND coalesce(year({plan}.effective_start_date) <= {year}, {year} IS NOT NULL) "
        f"AND coalesce(year({plan}.effective_end_date) >= {year}, {year} IS NOT NULL), FALSE)"
    )


def build_enrollment(con: duckdb.DuckDBPyConnection, run: Run) -> None:
    """``_cs_enrollment``: the run's active enrollment periods (latest ESES, accepted).

    ``_cs_coverage``: (member, plan) pairs with a period overlapping the benefit year whose plan
    is effective that year and whose rating area is one of the plan's (R08, R14).
    """
    create_temp(
        con,
        "_cs_enrollment",
        f"SELECT * FROM active_enrollment e WHERE {run.scope('e')}",
        run.params,
    )
    create_temp(
        con,
        "_cs_coverage",
        f"""
SELECT DISTINCT e.member_id, e.plan_id
FROM _cs_enrollment e
JOIN ref_plan r ON r.insurance_plan_identifier = e.plan_id
WHERE e.start_date <= {run.last_day} AND e.end_date >= {run.first_day}
  AND {plan_effective("r", str(run.benefit_year))}
  AND (r.rating_areas IS NULL OR len(r.rating_areas) = 0
       OR list_contains(r.rating_areas, e.rating_area))
""",
        run.params,
    )


def build_medical(con: duckdb.DuckDBPyConnection, run: Run) -> None:
    """``_cs_medical_base`` (the run's active claims), ``_cs_line`` (their lines, typed) and
    ``_cs_medical`` (facts and reason code)."""
    create_temp(
        con,
        "_cs_medical_base",
        f"SELECT * FROM active_medical_claim a WHERE {run.scope('a')}",
        run.params,
    )
    create_temp(
        con,
        "_cs_line",
        f"""
SELECT l.file_identifier, l.record_identifier, l.claim_record_identifier,
  nullif(trim(l.service_code), '') AS service_code, l.service_type_code,
  {as_date("l.service_from_date")} AS service_from_date,
  {as_date("l.service_to_date")} AS service_to_date
FROM _cs_medical_base m
JOIN medical_claim_line l ON l.file_identifier = m.file_identifier
  AND l.claim_record_identifier = m.record_identifier
""",
        run.params,
    )
    facts = f"""
WITH lines AS (
  SELECT l.file_identifier, l.claim_record_identifier,
    min(l.service_from_date) AS line_from, max(l.service_to_date) AS line_to,
    bool_or(s.code IS NOT NULL) AS has_eligible
  FROM _cs_line l
  LEFT JOIN (SELECT DISTINCT code FROM ra_ref_service_code
             WHERE benefit_year = {run.benefit_year}) s ON s.code = l.service_code
  GROUP BY l.file_identifier, l.claim_record_identifier
), c AS (
  SELECT m.*,
    coalesce(m.form_type_code = 'I' AND substr(m.bill_type_code, 1, 2) = '11', FALSE)
      AS _inpatient,
    coalesce(m.statement_cover_from_date, l.line_from) AS _from,
    coalesce(m.statement_cover_to_date, l.line_to) AS _through,
    coalesce(l.has_eligible, FALSE) AS _has_eligible_code
  FROM _cs_medical_base m
  LEFT JOIN lines l ON l.file_identifier = m.file_identifier
    AND l.claim_record_identifier = m.record_identifier
), enrolled AS (
  SELECT DISTINCT c.file_identifier, c.record_identifier
  FROM c JOIN _cs_enrollment e ON e.member_id = c.member_id AND e.plan_id = c.plan_id
   AND e.start_date <= coalesce(c._through, c._from)
   AND e.end_date >= coalesce(c._from, c._through)
), facts AS (
  SELECT c.*,
    {plan_effective("r", "year(c._from)")} AS _plan_active_in_from_year,
    n.record_identifier IS NOT NULL AS _enrolled,
    v.member_id IS NOT NULL AS _covered_in_year
  FROM c
  LEFT JOIN ref_plan r ON r.insurance_plan_identifier = c.plan_id
  LEFT JOIN enrolled n ON n.file_identifier = c.file_identifier
    AND n.record_identifier = c.record_identifier
  LEFT JOIN _cs_coverage v ON v.member_id = c.member_id AND v.plan_id = c.plan_id
)
SELECT *, {reason_case(MEDICAL_RULES, run.benefit_year)} AS reason_code FROM facts
"""
    create_temp(con, "_cs_medical", facts, run.params)


def build_pharmacy(con: duckdb.DuckDBPyConnection, run: Run) -> None:
    """``_cs_pharmacy``: the run's active pharmacy claims with facts and reason code."""
    facts = f"""
WITH enrolled AS (
  SELECT DISTINCT a.file_identifier, a.record_identifier
  FROM active_pharmacy_claim a
  JOIN _cs_enrollment e ON e.member_id = a.member_id AND e.plan_id = a.plan_id
   AND a.prescription_fill_date BETWEEN e.start_date AND e.end_date
  WHERE {run.scope("a")}
), facts AS (
  SELECT a.*,
    {plan_effective("r", "year(a.prescription_fill_date)")} AS _plan_active_in_fill_year,
    x.ndc IS NOT NULL AS _ndc_maps_to_rxc,
    v.member_id IS NOT NULL AS _enrolled_in_active_area,
    n.record_identifier IS NOT NULL AS _enrolled
  FROM active_pharmacy_claim a
  LEFT JOIN ref_plan r ON r.insurance_plan_identifier = a.plan_id
  LEFT JOIN (SELECT DISTINCT ndc FROM ra_ref_ndc WHERE benefit_year = {run.benefit_year}) x
    ON x.ndc = a.national_drug_code
  LEFT JOIN _cs_coverage v ON v.member_id = a.member_id AND v.plan_id = a.plan_id
  LEFT JOIN enrolled n ON n.file_identifier = a.file_identifier
    AND n.record_identifier = a.record_identifier
  WHERE {run.scope("a")}
)
SELECT *, {reason_case(PHARMACY_RULES, run.benefit_year)} AS reason_code FROM facts
"""
    create_temp(con, "_cs_pharmacy", facts, run.params)
