"""ECD and ECS: orphan claims, enrollees without claims, and their per-plan summary.

Computed inside claim selection (``select.py``), from the same fact tables the rules read, so
"linked to an enrollment" means exactly what R06 means and is never computed twice:

* a **claim of the year** is an active accepted medical claim whose statement-covers-through
  date is in the benefit year (R07 passes) or an active accepted pharmacy claim filled in it
  (R11 passes), whatever the other rules say;
* it is an **orphan** when no active enrollment period (latest ESES) of the same enrollee and
  plan covers its service: for a medical claim ``_enrolled`` (R06: a period overlaps the
  service span), for a pharmacy claim ``_enrolled`` of ``_cs_pharmacy`` (a period contains the
  fill date).  ``orphan_reason``: ``not_enrolled_in_plan`` (the enrollee has no active period
  of the plan at all) or ``outside_enrollment_period`` (periods of the plan, none covering it);
* an **enrollee without claims** is an enrollee x plan of ``ra_enrollee`` (active coverage in
  the benefit year) with no linked claim of the year in that plan.

``shadow_ecs`` per plan (of the enrollees and of the claims of the year): ``enrollees`` =
``enrollees_with_claims`` + ``enrollees_without_claims``; ``claims_linked`` +
``orphan_claims`` = the plan's claims of the year.  Recipients: ECD issuer only (member and
claim ids), ECS issuer + CMS (counts).
"""

from __future__ import annotations

from edge_pipeline.edge.claim_selection.run import Run

#: The shadow tables of ECD and ECS, in the order they are written (ECS reads the other two).
ENROLLEE_CLAIMS_TABLES = (
    "shadow_ecd_orphan_claim",
    "shadow_ecd_enrollee_without_claim",
    "shadow_ecs",
)

#: ``orphan_reason`` values.
NOT_ENROLLED_IN_PLAN = "not_enrolled_in_plan"
OUTSIDE_ENROLLMENT_PERIOD = "outside_enrollment_period"


def year_claims_sql(run: Run) -> str:
    """One row per claim of the year (medical by through date, pharmacy by fill date) with
    ``linked`` (an active period of the same enrollee and plan covers its service)."""
    first, last = run.first_day, run.last_day
    return f"""
  SELECT 'medical' AS record_kind, claim_identifier, file_identifier, record_identifier,
    member_id, plan_id, _from AS service_from_date, _through AS service_to_date,
    _enrolled AS linked
  FROM _cs_medical WHERE _through BETWEEN {first} AND {last}
  UNION ALL
  SELECT 'pharmacy', claim_identifier, file_identifier, record_identifier, member_id, plan_id,
    prescription_fill_date, prescription_fill_date, _enrolled
  FROM _cs_pharmacy WHERE prescription_fill_date BETWEEN {first} AND {last}"""


def orphan_claim_sql(run: Run) -> str:
    """``shadow_ecd_orphan_claim`` rows (without the run columns)."""
    return f"""
SELECT c.record_kind, c.claim_identifier, c.file_identifier, c.record_identifier, c.member_id,
  c.plan_id, c.service_from_date, c.service_to_date,
  CASE WHEN p.member_id IS NULL THEN '{NOT_ENROLLED_IN_PLAN}'
       ELSE '{OUTSIDE_ENROLLMENT_PERIOD}' END AS orphan_reason
FROM ({year_claims_sql(run)}) c
LEFT JOIN (SELECT DISTINCT member_id, plan_id FROM _cs_enrollment) p
  ON p.member_id = c.member_id AND p.plan_id = c.plan_id
WHERE NOT c.linked"""


def enrollee_without_claim_sql(run: Run) -> str:
    """``shadow_ecd_enrollee_without_claim`` rows: enrollees x plans of the run's
    ``ra_enrollee`` (written before) without a linked claim of the year."""
    return f"""
SELECT e.member_id, e.plan_id, e.member_months
FROM ra_enrollee e
WHERE e.benefit_year = {int(run.benefit_year)} AND {run.scope("e")}
  AND NOT EXISTS (
    SELECT 1 FROM ({year_claims_sql(run)}) c
    WHERE c.linked AND c.member_id = e.member_id AND c.plan_id = e.plan_id)"""


def ecs_sql(run: Run) -> str:
    """``shadow_ecs`` rows: per plan of the year's enrollees or claims, the counts (reads the
    run's ``ra_enrollee`` and ``shadow_ecd_*`` rows, written before)."""
    year = int(run.benefit_year)
    scope = f"benefit_year = {year} AND issuer_id = $issuer AND execution_zone = $zone"
    return f"""
WITH enrollees AS (
  SELECT plan_id, count(*) AS enrollees FROM ra_enrollee WHERE {scope} GROUP BY plan_id
), without AS (
  SELECT plan_id, count(*) AS n FROM shadow_ecd_enrollee_without_claim WHERE {scope}
  GROUP BY plan_id
), claims AS (
  SELECT plan_id, count(*) FILTER (WHERE linked) AS linked,
    count(*) FILTER (WHERE NOT linked) AS orphans
  FROM ({year_claims_sql(run)}) GROUP BY plan_id
), plans AS (SELECT plan_id FROM enrollees UNION SELECT plan_id FROM claims)
SELECT p.plan_id, coalesce(e.enrollees, 0) AS enrollees,
  coalesce(e.enrollees, 0) - coalesce(w.n, 0) AS enrollees_with_claims,
  coalesce(w.n, 0) AS enrollees_without_claims,
  coalesce(c.linked, 0) AS claims_linked, coalesce(c.orphans, 0) AS orphan_claims
FROM plans p
LEFT JOIN enrollees e ON e.plan_id IS NOT DISTINCT FROM p.plan_id
LEFT JOIN without w ON w.plan_id IS NOT DISTINCT FROM p.plan_id
LEFT JOIN claims c ON c.plan_id IS NOT DISTINCT FROM p.plan_id"""


def enrollee_claims_sql(run: Run) -> tuple[tuple[str, str], ...]:
    """(table, SELECT) of each ECD/ECS shadow table, in :data:`ENROLLEE_CLAIMS_TABLES` order."""
    return (
        ("shadow_ecd_orphan_claim", orphan_claim_sql(run)),
        ("shadow_ecd_enrollee_without_claim", enrollee_without_claim_sql(run)),
        ("shadow_ecs", ecs_sql(run)),
    )
