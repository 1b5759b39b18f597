"""The high-cost risk pool: 60 % of an enrollee's paid claims above $1,000,000 in the year.

Per enrollee x plan (the 14-character HIOS standard component id, the grain of RATEE and of the
transfer estimate, so an enrollee who changed CSR variant is not split below the threshold),
the policy paid amounts of the run's active accepted claims of the benefit year are summed:

* medical claims (``active_medical_claim.policy_paid_total_amount``) whose
  statement-covers-through date falls in the year -- the date EDGE assigns a claim's year by;
* pharmacy claims (``active_pharmacy_claim.policy_paid_amount``) filled in the year.

Unlike risk scoring, HCRP does not depend on RA claim selection: every paid claim counts,
eligible for risk adjustment or not; voided and replaced-away claims never do (the active
views resolve them).  Enrollees above :data:`HCRP_THRESHOLD` get
``round(HCRP_COINSURANCE x (paid - threshold), 2)``; the others get no row.  These rows are
``shadow_hcrp_enrollee``, what the issuer-only HCRPDE report states.

The HCRPSR report's shadow (``shadow_hcrp_summary``) rolls them up per plan, one row for every
plan of the run's RATEE (and any other plan an enrollee over the threshold is in): the
enrollees over the threshold, their paid claims, the amount above the threshold, the
reimbursement, and the plan's *charge*, :data:`HCRP_CHARGE_RATE` x the plan's premium (the
monthly policy premiums of ``ra_enrollee_month`` x the member months they cover, the premiums
RATEE's premium PMPM is made of), both rounded to the cent; ``net_amount`` = reimbursement -
charge.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

from edge_pipeline.base.warehouse.query import scalar
from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.ra_runs.runs import RUN_FILTER, ScoringRun, run_filter
from edge_pipeline.edge.ra_runs.schema import delete_run, ensure_phase2_schema

#: Per enrollee over the threshold (HCRPDE) and per plan (HCRPSR).
HCRP_TABLE = "shadow_hcrp_enrollee"
HCRP_SUMMARY_TABLE = "shadow_hcrp_summary"

#: Paid claims of an enrollee in a year above which the pool reimburses (spec section 8).
HCRP_THRESHOLD = Decimal("1000000")

#: Share of the paid claims above the threshold the pool reimburses.
HCRP_COINSURANCE = Decimal("0.60")

#: The charge funding the pool, as a share of a plan's premium (assumed: the spec says only "a
#: percentage-of-premium charge"; 0.3 % is the cap on total HCRP payments HHS set with the pool
#: in the 2018 Payment Notice, the year's actual percentage is published after the benefit
#: year, so the charge here is an estimate).
HCRP_CHARGE_RATE = Decimal("0.003")


def hcrp_sql(run: ScoringRun) -> str:
    """``member_id, plan_id, paid_claims, hcrp_payment`` of the enrollees above the threshold
    (parameters: issuer and zone twice, then threshold, coinsurance, threshold)."""
    year = int(run.benefit_year)
    return f"""
WITH paid AS (
  SELECT member_id, left(plan_id, 14) AS plan_id, policy_paid_total_amount AS amount
  FROM active_medical_claim
  WHERE issuer_id = ? AND execution_zone = ? AND year(statement_cover_to_date) = {year}
  UNION ALL
  SELECT member_id, left(plan_id, 14), policy_paid_amount
  FROM active_pharmacy_claim
  WHERE issuer_id = ? AND execution_zone = ? AND year(prescription_fill_date) = {year}
), totals AS (
  SELECT member_id, plan_id, CAST(sum(coalesce(amount, 0)) AS DECIMAL(18,2)) AS paid_claims
  FROM paid GROUP BY member_id, plan_id
)
SELECT member_id, plan_id, paid_claims,
  CAST(paid_claims - CAST(? AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS amount_over_threshold,
  CAST(round(CAST(? AS DECIMAL(6,4)) * (paid_claims - CAST(? AS DECIMAL(18,2))), 2)
    AS DECIMAL(18,2)) AS hcrp_payment
FROM totals WHERE paid_claims > CAST(? AS DECIMAL(18,2))
"""


def hcrp_summary_sql() -> str:
    """The run's HCRPSR rows (parameters: the run three times for ``shadow_ratee``,
    ``shadow_hcrp_enrollee`` and ``ra_enrollee_month``, then threshold, coinsurance and charge
    rate)."""
    return f"""
WITH plans AS (
  SELECT plan_id, min(state) AS state, min(risk_pool) AS risk_pool
  FROM shadow_ratee WHERE {RUN_FILTER} GROUP BY plan_id
), pool AS (
  SELECT plan_id, count(*) AS enrollees, sum(paid_claims) AS paid_claims,
    sum(amount_over_threshold) AS over, sum(hcrp_payment) AS payment
  FROM {HCRP_TABLE} WHERE {RUN_FILTER} GROUP BY plan_id
), premiums AS (
  SELECT left(plan_id, 14) AS plan_id,
    CAST(round(sum(premium_amount * member_months), 2) AS DECIMAL(18,2)) AS premium
  FROM ra_enrollee_month WHERE {run_filter()} GROUP BY ALL
), rows AS (
  SELECT coalesce(p.plan_id, h.plan_id) AS plan_id, p.state, p.risk_pool,
    CAST(coalesce(h.enrollees, 0) AS INTEGER) AS enrollees_over_threshold,
    CAST(coalesce(h.paid_claims, 0) AS DECIMAL(18,2)) AS paid_claims,
    CAST(coalesce(h.over, 0) AS DECIMAL(18,2)) AS amount_over_threshold,
    CAST(coalesce(h.payment, 0) AS DECIMAL(18,2)) AS hcrp_payment
  FROM plans p FULL JOIN pool h ON h.plan_id = p.plan_id
), charged AS (
  SELECT r.*, CAST(? AS DECIMAL(18,2)) AS threshold,
    CAST(? AS DECIMAL(6,4)) AS coinsurance_rate,
    CAST(coalesce(m.premium, 0) AS DECIMAL(18,2)) AS premium,
    CAST(? AS DECIMAL(8,6)) AS charge_rate
  FROM rows r LEFT JOIN premiums m ON m.plan_id = r.plan_id
)
SELECT *, CAST(round(c.charge_rate * c.premium, 2) AS DECIMAL(18,2)) AS hcrp_charge,
  CAST(c.hcrp_payment - round(c.charge_rate * c.premium, 2) AS DECIMAL(18,2)) AS net_amount
FROM charged c
"""


def write_hcrp(
    con: duckdb.DuckDBPyConnection,
    run: ScoringRun,
    *,
    threshold: Decimal = HCRP_THRESHOLD,
    coinsurance: Decimal = HCRP_COINSURANCE,
    charge_rate: Decimal = HCRP_CHARGE_RATE,
) -> int:
    """Replace the run's ``shadow_hcrp_enrollee`` and ``shadow_hcrp_summary`` rows inside the
    caller's transaction (the transfer estimate writes them together with its own rows; the
    run's RATEE must be computed); returns how many enrollees qualify."""
    ensure_phase2_schema(con)
    scope = "?::INTEGER AS benefit_year, ? AS issuer_id, ? AS execution_zone"
    keys = [run.issuer_id, run.execution_zone]
    delete_run(con, (HCRP_TABLE, HCRP_SUMMARY_TABLE), *run.params)
    con.execute(
        f"INSERT INTO {HCRP_TABLE} BY NAME SELECT {scope}, h.* FROM ({hcrp_sql(run)}) h",
        [*run.params, *keys, *keys, threshold, coinsurance, threshold, threshold],
    )
    con.execute(
        f"INSERT INTO {HCRP_SUMMARY_TABLE} BY NAME "
        f"SELECT {scope}, h.* FROM ({hcrp_summary_sql()}) h",
        [*run.params, *run.params * 3, threshold, coinsurance, charge_rate],
    )
    rows = scalar(con, f"SELECT count(*) FROM {HCRP_TABLE} WHERE {RUN_FILTER}", run.params)
    return int(rows or 0)


def compute_hcrp(
    con: duckdb.DuckDBPyConnection,
    run: ScoringRun,
    *,
    threshold: Decimal = HCRP_THRESHOLD,
    coinsurance: Decimal = HCRP_COINSURANCE,
    charge_rate: Decimal = HCRP_CHARGE_RATE,
) -> int:
    """Replace the run's HCRP rows (:func:`write_hcrp`) in one transaction and return how many
    enrollees qualify.  Needs the Phase 1 active-claim views (``verify_all`` has run)."""
    ensure_phase2_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        rows = write_hcrp(
            con, run, threshold=threshold, coinsurance=coinsurance, charge_rate=charge_rate
        )
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return rows
