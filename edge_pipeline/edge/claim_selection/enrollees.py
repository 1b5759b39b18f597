"""``ra_enrollee`` and ``ra_enrollee_month``: the enrollees of the benefit year and their months.

``ra_enrollee`` is one row per enrollee x plan with active coverage in the benefit year: the DIY
PERSON record (sex, birth date, AGE_LAST, metal, CSR variant, ENROLDURATION) plus the billing
facts the transfer formula needs.  ``ra_enrollee_month`` is one row per enrollee x plan x
calendar month x period covering part of it: what the RATEE splits by rating area.  Both are
computed set-based over the whole enrollment:

1. the run's active periods (``_cs_enrollment``) that overlap the benefit year, clipped to it;
2. per enrollee x plan, the days covered cut into segments at every period start and end; a
   day covered by overlapping periods belongs to the latest-starting one (never counted
   twice), and takes that period's rating area, premium (the subscriber's periods carry the
   monthly policy premium, dependents' 0) and *rating date*;
3. segments split by calendar month: ``member_months`` = days covered / days in the month;
4. the **rating age** is the age on the rating date: the period's start, or 1 January for a
   period that began in an earlier year -- premiums are set when a policy is issued or renewed
   and the age is not re-evaluated within the period (45 CFR 147.102(a)(1)(iii): age
   determined at issue or renewal);
5. billable months: per policy (the subscriber id of the enrollee's latest period in the plan)
   and month, *children* are the enrollees who are not the subscriber and whose rating age is
   under 21 -- ESES carries no relationship code, so age is the only way to tell a child; only
   the three oldest (by birth date) are billable (45 CFR 147.102(c)(1)).  A child turning 21
   mid-period keeps rating age 20, so it still counts among the three and a fourth child does
   not become billable.  Non-billable months still count in ``member_months`` (and the score).

``ra_enrollee`` sums the months of ``ra_enrollee_month`` per enrollee x plan (rounded to 4
places); its ``rating_area`` and ``subscriber_id`` are those of the latest period.
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


def _periods(run: Run) -> str:
    """The run's enrollment periods clipped to its year (``s`` .. ``e``): what both the
    monthly rows and the per-enrollee rows start from."""
    first, last = run.first_day, run.last_day
    return f"""
  SELECT member_id, plan_id, subscriber_id, birth_date, gender_code, rating_area, is_subscriber,
    premium_amount, start_date, enrollment_period_record_identifier AS rid,
    greatest(start_date, {first}) AS s, least(end_date, {last}) AS e
  FROM _cs_enrollment
  WHERE start_date <= {last} AND end_date >= {first} AND start_date <= end_date"""


def enrollee_month_sql(run: Run) -> str:
    """Rows of ``ra_enrollee_month`` (after the run columns): one per enrollee x plan x
    calendar month x period covering part of it (see the module doc, steps 1-4)."""
    return f"""
WITH periods AS ({_periods(run)}), policy AS (
  SELECT member_id, plan_id,
    arg_max(subscriber_id, (start_date, rid)) AS subscriber_id,
    max(birth_date) AS birth_date
  FROM periods GROUP BY member_id, plan_id
), bounds AS (
  SELECT DISTINCT member_id, plan_id, b FROM (
    SELECT member_id, plan_id, s AS b FROM periods
    UNION ALL SELECT member_id, plan_id, e + 1 FROM periods)
), cuts AS (
  SELECT member_id, plan_id, b AS s,
    lead(b) OVER (PARTITION BY member_id, plan_id ORDER BY b) - 1 AS e
  FROM bounds
), segments AS (
  SELECT c.member_id, c.plan_id, c.s, c.e,
    arg_max(p.rating_area, (p.start_date, p.rid)) AS rating_area,
    arg_max(p.s, (p.start_date, p.rid)) AS rating_date,
    arg_max(CASE WHEN p.is_subscriber THEN coalesce(p.premium_amount, 0) ELSE 0 END,
            (p.start_date, p.rid)) AS premium
  FROM cuts c
  JOIN periods p ON p.member_id = c.member_id AND p.plan_id = c.plan_id
    AND p.s <= c.s AND p.e >= c.e
  WHERE c.e IS NOT NULL
  GROUP BY c.member_id, c.plan_id, c.s, c.e
), months AS (
  SELECT g.member_id, g.plan_id, g.rating_area, g.rating_date, g.premium, m.month_start,
    least(g.e, last_day(m.month_start)) - greatest(g.s, m.month_start) + 1 AS days,
    dayofmonth(last_day(m.month_start)) AS month_days
  FROM segments g,
    LATERAL (SELECT CAST(date_trunc('month', g.s) + to_months(k) AS DATE) AS month_start
             FROM range(0, datediff('month', g.s, g.e) + 1) t(k)) m
), rated AS (
  SELECT mo.*, p.subscriber_id, {age_sql("p.birth_date", "mo.rating_date")} AS rating_age,
    p.member_id <> p.subscriber_id
      AND {age_sql("p.birth_date", "mo.rating_date")} < {CHILD_AGE_LIMIT} AS child,
    p.birth_date
  FROM months mo JOIN policy p USING (member_id, plan_id)
), ranked AS (
  SELECT *, CASE WHEN child THEN dense_rank() OVER (
      PARTITION BY subscriber_id, plan_id, month_start, child
      ORDER BY birth_date, member_id) END AS child_rank
  FROM rated
)
SELECT member_id, plan_id, subscriber_id, month_start, rating_area, rating_date, rating_age,
  child, CAST(child_rank AS INTEGER) AS child_rank, CAST(days AS INTEGER) AS days,
  CAST(month_days AS INTEGER) AS month_days, days / month_days::DOUBLE AS member_months,
  CASE WHEN coalesce(child_rank, 0) <= {BILLABLE_CHILDREN}
       THEN days / month_days::DOUBLE ELSE 0 END AS billable_member_months,
  CAST(premium AS DECIMAL(18,2)) AS premium_amount
FROM ranked
"""


def enrollee_sql(run: Run) -> str:
    """Rows of ``ra_enrollee`` (after the run columns); ``ra_enrollee_month`` of the run must
    have been written first (its months are summed here)."""
    return f"""
WITH periods AS ({_periods(run)}), ordered AS (
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
), month_totals AS (
  SELECT member_id, plan_id, round(sum(member_months), 4) AS member_months,
    round(sum(billable_member_months), 4) AS billable_member_months
  FROM ra_enrollee_month
  WHERE benefit_year = {int(run.benefit_year)} AND {run.scope("ra_enrollee_month")}
  GROUP BY member_id, plan_id
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
