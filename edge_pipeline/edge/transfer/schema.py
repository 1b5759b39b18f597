"""Tables of the transfer estimate (``docs/phase2-contract.md``, "Transfer").

The RATEE rows themselves (``shadow_ratee`` / ``reported_ratee``) are declared with the other
Phase 2 report tables in ``edge_pipeline.edge.phase2.schema``; these are what the pipeline
derives from them: the estimate per plan of each state risk pool (the issuer's plans from its
own RATEE rows, the other issuers' from the configured market file), and the high-cost risk
pool payments per enrollee.  Both are scoped by the scoring run and replaced with it.
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.phase2.schema import RUN_COLUMNS

TRANSFER_DDL: dict[str, str] = {
    # One row per plan of a state x market risk pool (plans of the issuer and of the market
    # file); transfer_total sums to zero per pool.
    "transfer_estimate": (
        f"{RUN_COLUMNS}, state VARCHAR, risk_pool VARCHAR, plan_id VARCHAR, source VARCHAR, "
        "metal VARCHAR, billable_member_months DECIMAL(14,4), plrs DECIMAL(12,3), "
        "arf DECIMAL(12,3), idf DECIMAL(6,3), av DECIMAL(6,3), gcf DECIMAL(8,4), "
        "premium_pmpm DECIMAL(14,2), share DECIMAL(18,12), transfer_pmpm DECIMAL(18,6), "
        "transfer_total DECIMAL(18,2), hcrp_payment DECIMAL(18,2), user_fee DECIMAL(18,2)"
    ),
    # Enrollees whose paid claims in the benefit year exceed the high-cost threshold.
    "hcrp_enrollee": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, paid_claims DECIMAL(18,2), "
        "hcrp_payment DECIMAL(18,2)"
    ),
}


def ensure_transfer_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the transfer tables that do not exist yet."""
    for table, ddl in TRANSFER_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl})")
