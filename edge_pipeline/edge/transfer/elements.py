"""RATEE: the transfer elements of one scoring run, per plan x rating area x risk pool.

One ``shadow_ratee`` row per 14-character HIOS standard component id (the CSR variants of a
plan are one plan for the transfer) x rating area x risk pool, computed set-based from what
scoring left in the warehouse:

* ``enrollees`` (distinct members), ``member_months`` and ``billable_member_months`` summed over
  the run's ``shadow_risk_score`` rows (one per enrollee x 16-character plan) split by the
  months of ``ra_enrollee_month``: each month (part) is in the rating area of the enrollment
  period covering it, so an enrollee who moves mid-year has its months, score weight and
  premium in each area for the months it lived there (HHS aggregates "to the plan level in a
  rating area", REGTAP FAQ 8487); children beyond the three oldest under 21 of a policy count
  in ``member_months`` but not in ``billable_member_months`` (45 CFR 147.102(c)(1), claim
  selection's rule).  The monthly shares are summed unrounded and rounded once, to 4 places,
  per RATEE row (issue 13 item 2: summing per-enrollee values already rounded to 4 places, as
  ``ra_enrollee`` and the RARSD carry them, drifts by 0.0001s); the averages below are weighted
  by the unrounded billable months.  So a RATEE row's months may differ from the sum of its
  enrollees' rounded RARSD/RARSS months by up to 0.00005 per enrollee (the reconciliation's
  tolerance).
* ``plrs`` = Σ(score x billable months) / Σ billable months, the score being
  ``score_csr_adjusted`` (spec section 8: PLRS is CSR-adjusted).  An enrollee whose
  CSR-adjusted score is NULL is *not* scored with its raw score (that would be a silent CSR
  factor of 1.0): its months stay in ``billable_member_months`` but not in the PLRS average,
  and the check ``csr_adjusted_scores`` (:mod:`edge_pipeline.edge.quality.transfer_checks`)
  flags the plan x rating area with a count (issue 13 item 6).
* ``plrs``, ``arf`` and ``premium_pmpm`` are rounded (3, 3, 2 places) as RATEE shows them;
  ``plrs_exact``, ``arf_exact`` and ``premium_pmpm_exact`` carry the same averages unrounded
  (10, 10, 8 places) into the transfer formula (issue 13 item 2).
* ``arf`` = the age rating factors weighted by billable months, each month's factor that of
  its *rating age*: the age on the covering period's start (1 January for a period that began
  in an earlier year), the age premiums are rated on (45 CFR 147.102(a)(1)(iii): the age at
  issue or renewal), looked up on the age curve (:func:`factors.age_curve`, clipped to its
  range) -- so ARF and ``premium_pmpm`` follow the same ages.  An enrollee without a birth date
  (Phase 1 rejects those, so only defensively) keeps its months in every sum but is left out
  of the ARF average rather than given a made-up age.
* ``av`` and ``idf`` by metal (spec section 8), ``gcf`` by state and rating area from the GCF
  file (1.0 when there is no file or no row: :data:`factors.DEFAULT_GCF`).
* ``premium_pmpm`` = Σ (monthly policy premium of the period covering a month x member months
  of it) / Σ billable member months.  ESES carries the policy premium on the subscriber's
  period and 0 on dependents', so this is the premium the plan collected per billable member
  month; a subscriber who moves has each month's premium in that month's rating area.
* ``risk_pool``: ``catastrophic`` for catastrophic plans (their own individual-market pool),
  else the plan's market from ``ref_plan`` (lower case, ``small group`` -> ``small_group``;
  ``individual`` when the registry does not say).  ``state``: the registry's, else characters
  6-7 of the HIOS id.

The run's rows are replaced in one transaction.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from edge_pipeline.base.warehouse.query import scalar
from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.ra_runs.runs import RUN_FILTER, ScoringRun, run_filter
from edge_pipeline.edge.ra_runs.schema import delete_run, ensure_phase2_schema
from edge_pipeline.edge.transfer.factors import DEFAULT_GCF, age_curve, read_gcf
from edge_pipeline.edge.transfer.formula import METAL_FACTORS

RATEE_TABLE = "shadow_ratee"


def _factor_tables(
    con: duckdb.DuckDBPyConnection, gcf_path: Path | None, age_curve_path: Path | None
) -> None:
    """Temp tables ``_tr_curve``, ``_tr_gcf`` and ``_tr_metal`` (read before anything is
    deleted, so a bad file leaves the previous RATEE in place)."""
    curve = age_curve(age_curve_path)
    gcf = read_gcf(gcf_path)
    con.execute("CREATE OR REPLACE TEMP TABLE _tr_curve (age INTEGER, factor DECIMAL(8,3))")
    con.executemany("INSERT INTO _tr_curve VALUES (?, ?)", list(curve.items()))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _tr_gcf (state VARCHAR, rating_area VARCHAR, "
        "gcf DECIMAL(8,4))"
    )
    if gcf:
        con.executemany(
            "INSERT INTO _tr_gcf VALUES (?, ?, ?)", [(*key, value) for key, value in gcf.items()]
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _tr_metal (metal VARCHAR, idf DECIMAL(6,3), av DECIMAL(6,3))"
    )
    con.executemany(
        "INSERT INTO _tr_metal VALUES (?, ?, ?)",
        [(metal, f.idf, f.av) for metal, f in METAL_FACTORS.items()],
    )


#: A score row's metal, state and risk pool (``s`` a ``*_risk_score`` row, ``r`` its
#: ``ref_plan`` row): shared with the checks that recompute RATEE keys from a RARSD.
METAL_SQL = "lower(coalesce(s.metal, r.metal))"
STATE_SQL = "upper(coalesce(nullif(trim(r.state), ''), substr(s.plan_id, 6, 2)))"
RISK_POOL_SQL = (
    f"CASE WHEN {METAL_SQL} = 'catastrophic' THEN 'catastrophic' "
    "ELSE coalesce(nullif(replace(lower(trim(r.market)), ' ', '_'), ''), 'individual') END"
)


def ratee_sql(run: ScoringRun) -> str:
    """The ``SELECT`` of the run's RATEE rows.  Parameters: run params for ``shadow_risk_score``
    and ``ra_enrollee_month``."""
    return f"""
WITH scored AS (
  SELECT s.member_id, s.plan_id, left(s.plan_id, 14) AS plan14, m.rating_area,
    {METAL_SQL} AS metal,
    s.score_csr_adjusted AS score,
    m.member_months, m.billable_member_months AS bmm, m.rating_age,
    m.premium_amount * m.member_months AS premium,
    {STATE_SQL} AS state,
    {RISK_POOL_SQL} AS risk_pool
  FROM shadow_risk_score s
  JOIN ra_enrollee_month m ON m.member_id = s.member_id AND m.plan_id = s.plan_id
    AND {run_filter("m")}
  LEFT JOIN ref_plan r ON r.insurance_plan_identifier = s.plan_id
  WHERE {run_filter("s")}
), curve AS (
  SELECT min(age) AS low, max(age) AS high FROM _tr_curve
), rated AS (
  SELECT x.*, c.factor FROM scored x
  CROSS JOIN curve
  LEFT JOIN _tr_curve c ON c.age = least(greatest(x.rating_age, curve.low), curve.high)
), enrollee_area AS (
  -- one enrollee x plan x rating area, its months unrounded (rounded once per RATEE row)
  SELECT state, risk_pool, plan14, rating_area, member_id, plan_id,
    any_value(metal) AS metal, any_value(score) AS score,
    sum(member_months) AS member_months,
    sum(bmm) AS bmm,
    sum(factor * bmm) AS factor_bmm,
    sum(bmm) FILTER (WHERE factor IS NOT NULL) AS rated_bmm,
    sum(premium) AS premium
  FROM rated GROUP BY state, risk_pool, plan14, rating_area, member_id, plan_id
), ratee_rows AS (
SELECT x.state, x.risk_pool, x.plan14 AS plan_id, x.rating_area, min(x.metal) AS metal,
  CAST(count(DISTINCT x.member_id) AS INTEGER) AS enrollees,
  CAST(round(sum(x.member_months), 4) AS DECIMAL(12,4)) AS member_months,
  CAST(round(sum(x.bmm), 4) AS DECIMAL(12,4)) AS billable_member_months,
  any_value(m.av) AS av, any_value(m.idf) AS idf,
  coalesce(any_value(g.gcf), {DEFAULT_GCF}) AS gcf,
  -- unrounded (weighted by the unrounded BMM) for the formula; the RATEE shows them rounded
  CAST(sum(x.score * x.bmm) / nullif(sum(x.bmm) FILTER (WHERE x.score IS NOT NULL), 0)
    AS DECIMAL(18,10)) AS plrs_exact,
  CAST(sum(x.factor_bmm) / nullif(sum(x.rated_bmm), 0) AS DECIMAL(18,10)) AS arf_exact,
  CAST(sum(coalesce(x.premium, 0)) / nullif(sum(x.bmm), 0) AS DECIMAL(18,8))
    AS premium_pmpm_exact
FROM enrollee_area x
LEFT JOIN _tr_metal m ON m.metal = x.metal
LEFT JOIN _tr_gcf g ON g.state = x.state AND g.rating_area = x.rating_area
GROUP BY x.state, x.risk_pool, x.plan14, x.rating_area
)
SELECT *,
  -- shown values rounded from the exact decimals: a half-cent tie rounds up, as in decimal
  CAST(round(plrs_exact, 3) AS DECIMAL(12,3)) AS plrs,
  CAST(round(arf_exact, 3) AS DECIMAL(12,3)) AS arf,
  CAST(round(premium_pmpm_exact, 2) AS DECIMAL(14,2)) AS premium_pmpm
FROM ratee_rows
"""


def compute_transfer_elements(
    con: duckdb.DuckDBPyConnection,
    run: ScoringRun,
    *,
    gcf_path: Path | None,
    age_curve_path: Path | None = None,
) -> int:
    """Replace the run's ``shadow_ratee`` rows (see the module doc) and return how many.

    ``gcf_path``: CSV ``state,rating_area,gcf`` (``None``: every GCF 1.0).  ``age_curve_path``:
    a state's age curve ``age,premium_ratio`` (``None``: the federal default curve from the
    reference directory).  Scoring (``score_run``) must have run for ``run``.
    """
    ensure_phase2_schema(con)
    _factor_tables(con, gcf_path, age_curve_path)
    scope = "?::INTEGER AS benefit_year, ? AS issuer_id, ? AS execution_zone"
    con.execute("BEGIN TRANSACTION")
    try:
        delete_run(con, (RATEE_TABLE,), *run.params)
        con.execute(
            f"INSERT INTO {RATEE_TABLE} BY NAME SELECT {scope}, r.* FROM ({ratee_sql(run)}) r",
            [*run.params, *run.params, *run.params],
        )
        rows = scalar(con, f"SELECT count(*) FROM {RATEE_TABLE} WHERE {RUN_FILTER}", run.params)
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return int(rows or 0)
