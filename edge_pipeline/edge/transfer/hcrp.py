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
``round(HCRP_COINSURANCE x (paid - threshold), 2)``; the others get no row.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

from edge_pipeline.base.warehouse.query import scalar
from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.ra_runs.runs import RUN_FILTER, ScoringRun
from edge_pipeline.edge.ra_runs.schema import delete_run
from edge_pipeline.edge.transfer.schema import ensure_transfer_schema

HCRP_TABLE = "hcrp_enrollee"

#: Paid claims of an enrollee in a year above which the pool reimburses (spec section 8).
HCRP_THRESHOLD = Decimal("1000000")

#: Share of the paid claims above the threshold the pool reimburses.
HCRP_COINSURANCE = Decimal("0.60")


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
  CAST(round(CAST(? AS DECIMAL(6,4)) * (paid_claims - CAST(? AS DECIMAL(18,2))), 2)
    AS DECIMAL(18,2)) AS hcrp_payment
FROM totals WHERE paid_claims > CAST(? AS DECIMAL(18,2))
"""


def write_hcrp(
    con: duckdb.DuckDBPyConnection,
    run: ScoringRun,
    *,
    threshold: Decimal = HCRP_THRESHOLD,
    coinsurance: Decimal = HCRP_COINSURANCE,
) -> int:
    """Replace the run's ``hcrp_enrollee`` rows inside the caller's transaction (the transfer
    estimate writes them together with its own rows); returns how many enrollees qualify."""
    ensure_transfer_schema(con)
    scope = "?::INTEGER AS benefit_year, ? AS issuer_id, ? AS execution_zone"
    keys = [run.issuer_id, run.execution_zone]
    delete_run(con, (HCRP_TABLE,), *run.params)
    con.execute(
        f"INSERT INTO {HCRP_TABLE} BY NAME SELECT {scope}, h.* FROM ({hcrp_sql(run)}) h",
        [*run.params, *keys, *keys, coinsurance, threshold, threshold],
    )
    rows = scalar(con, f"SELECT count(*) FROM {HCRP_TABLE} WHERE {RUN_FILTER}", run.params)
    return int(rows or 0)


def compute_hcrp(
    con: duckdb.DuckDBPyConnection,
    run: ScoringRun,
    *,
    threshold: Decimal = HCRP_THRESHOLD,
    coinsurance: Decimal = HCRP_COINSURANCE,
) -> int:
    """Replace the run's ``hcrp_enrollee`` rows in one transaction and return how many
    enrollees qualify.  Needs the Phase 1 active-claim views (``verify_all`` has run)."""
    ensure_transfer_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        rows = write_hcrp(con, run, threshold=threshold, coinsurance=coinsurance)
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return rows
