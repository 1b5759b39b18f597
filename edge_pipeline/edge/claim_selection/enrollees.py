"""``ra_enrollee``: one row per enrollee x plan with active coverage in the benefit year.

The DIY PERSON record (sex, birth date, AGE_LAST, metal, CSR variant, ENROLDURATION) plus the
billing facts the transfer formula needs, computed set-based over the whole enrollment:

1. the run's active periods (``_cs_enrollment``) that overlap the benefit year, clipped to it;
2. per enrollee x plan, overlapping or adjacent periods merged into islands (gaps-and-islands
   with a running maximum of the end date), so a day is never counted twice;
3. islands split by calendar month: ``member_months`` = sum of days covered / days in month;
4. billable months: per policy (the subscriber id of the enrollee's latest period in the plan)
   and month, "children" are enrollees under 21 on their first covered day of the month who
   are not the subscriber; only the three oldest of them are billable (45 CFR 147.102(c)(1)),
   the others' months still count in ``member_months`` (and in the score).

``csr_indicator`` and ``csr_factor`` are left NULL: they come from DIY table 13 and belong to
the risk model (``edge_pipeline.edge.risk``), which fills them when it scores.
"""

from __future__ import annotations

from edge_pipeline.edge.claim_selection.run import Run

#: DIY table 1 ENROLDURATION: the upper bound in days of months 1..12 (1 = 1-31 days, ...).
ENROLLMENT_MONTH_MAX_DAYS = (31, 62, 92, 123, 153, 184, 214, 245, 275, 306, 335, 366)

#: Children beyond the three oldest under 21 are not billed (family premium cap).
BILLABLE_CHILDREN = 3
CHILD_AGE_LIMIT = 21


def enrollment_months(days: int) -> int:
    """ENROLDURATION of ``days`` enrolled days (0 for none); the SQL below is the same table."""
    for months, limit in enumerate(ENROLLMENT_MONTH_MAX_DAYS, start=1):
        if days <= limit:
            return months if days > 0 else 0
    return 12


def _enrollment_months_sql(days: str) -> str:
    whens = " ".join(
        f"WHEN {days} <= {limit} THEN {months}"
        for months, limit in enumerate(ENROLLMENT_MONTH_MAX_DAYS, start=1)
    )
    return f"(CASE WHEN {days} <= 0 THEN 0 {whens} ELSE 12 END)"


def age_sql(birth: str, on: str) -> str:
    """Whole years from ``birth`` to ``on`` (both DATE); a 29 February birthday is reached on
    1 March in a common year."""
    return (
        f"(year({on}) - year({birth}) - CASE WHEN month({on}) < month({birth}) OR "
        f"(month({on}) = month({birth}) AND dayofmonth({on}) < dayofmonth({birth})) "
        "THEN 1 ELSE 0 END)"
    )


def enrollee_sql(run: Run) -> str:
    """Rows of ``ra_enrollee`` (after the run columns)."""
    first, last = run.first_day, run.last_day
    return f"""
WITH periods AS (
  SELECT member_id, plan_id, subscriber_id, birth_date, gender_code, rating_area,
    premium_amount, start_date, enrollment_period_record_identifier AS rid,
    greatest(start_date, {first}) AS s, least(end_date, {last}) AS e
  FROM _cs_enrollment
  WHERE start_date <= {last} AND end_date >= {first} AND start_date <= end_date
), ordered AS (
  SELECT member_id, plan_id, s, e,
    max(e) OVER (PARTITION BY member_id, plan_id ORDER BY s, e
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prior_end
  FROM periods
), numbered AS (
  SELECT *, sum(CASE WHEN prior_end IS NULL OR s > prior_end + 1 THEN 1 ELSE 0 END) OVER (
    PARTITION BY member_id, plan_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island
  FROM ordered
), islands AS (
  SELECT member_id, plan_id, min(s) AS s, max(e) AS e
  FROM numbered GROUP BY member_id, plan_id, island
), person AS (
  SELECT member_id, plan_id,
    arg_max(rating_area, (start_date, rid)) AS rating_area,
    arg_max(subscriber_id, (start_date, rid)) AS subscriber_id,
    max(birth_date) AS birth_date, max(gender_code) AS sex,
    sum(coalesce(premium_amount, 0)) AS premium_amount
  FROM periods GROUP BY member_id, plan_id
), spans AS (
  SELECT member_id, plan_id, min(s) AS first_day, max(e) AS last_day,
    sum(e - s + 1) AS enrollment_days
  FROM islands GROUP BY member_id, plan_id
), months AS (
  SELECT i.member_id, i.plan_id, m.month_start,
    sum(least(i.e, last_day(m.month_start)) - greatest(i.s, m.month_start) + 1) AS days,
    min(greatest(i.s, m.month_start)) AS first_covered,
    dayofmonth(last_day(m.month_start)) AS month_days
  FROM islands i,
    LATERAL (SELECT CAST(date_trunc('month', i.s) + to_months(k) AS DATE) AS month_start
             FROM range(0, datediff('month', i.s, i.e) + 1) t(k)) m
  GROUP BY i.member_id, i.plan_id, m.month_start
), ranked AS (
  SELECT mo.*, p.subscriber_id, p.birth_date,
    p.member_id <> p.subscriber_id
      AND {age_sql("p.birth_date", "mo.first_covered")} < {CHILD_AGE_LIMIT} AS child
  FROM months mo JOIN person p USING (member_id, plan_id)
), billed AS (
  SELECT *, CASE WHEN child THEN row_number() OVER (
      PARTITION BY subscriber_id, plan_id, month_start, child
      ORDER BY birth_date, member_id) END AS child_rank
  FROM ranked
), month_totals AS (
  SELECT member_id, plan_id,
    round(sum(days / month_days::DOUBLE), 4) AS member_months,
    round(sum(CASE WHEN coalesce(child_rank, 0) <= {BILLABLE_CHILDREN}
                   THEN days / month_days::DOUBLE ELSE 0 END), 4) AS billable_member_months
  FROM billed GROUP BY member_id, plan_id
)
SELECT p.member_id, p.plan_id, p.subscriber_id, p.rating_area, r.metal,
  coalesce(nullif(r.csr_variant, ''), substr(p.plan_id, 15, 2)) AS csr_variant,
  CAST(NULL AS INTEGER) AS csr_indicator, CAST(NULL AS DECIMAL(6,3)) AS csr_factor,
  p.sex, p.birth_date, {age_sql("p.birth_date", "sp.last_day")} AS age_last,
  sp.first_day, sp.last_day, sp.enrollment_days,
  {_enrollment_months_sql("sp.enrollment_days")} AS enrollment_months,
  CAST(mt.member_months AS DECIMAL(12,4)) AS member_months,
  CAST(mt.billable_member_months AS DECIMAL(12,4)) AS billable_member_months,
  CAST(p.premium_amount AS DECIMAL(18,2)) AS premium_amount
FROM person p
JOIN spans sp USING (member_id, plan_id)
JOIN month_totals mt USING (member_id, plan_id)
LEFT JOIN ref_plan r ON r.insurance_plan_identifier = p.plan_id
"""
