"""Tables of the transfer estimate (``docs/phase2-contract.md``, "Transfer").

The RATEE rows themselves (``shadow_ratee`` / ``reported_ratee``) are declared with the other
Phase 2 report tables in ``edge_pipeline.edge.ra_runs.schema``; these are what the pipeline
derives from them: the estimate per plan of each state risk pool (the issuer's plans from its
own RATEE rows, the other issuers' from the configured market file), scoped by the scoring run
and replaced with it.  The high-cost risk pool and the user fee it is written with are RA
reports of their own (HCRPSR, HCRPDE, RAUF), so their tables are with the other reports'.
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.ra_runs.schema import RUN_COLUMNS

TRANSFER_DDL: dict[str, str] = {
    # One row per plan x rating area of a state x market risk pool (the issuer's and the
    # market file's; rating_area '' = a market plan in all its areas); transfer_total sums to
    # zero per pool, a plan's transfer is the sum over its rows.  PLRS, ARF and premium PMPM
    # as the formula used them (unrounded, issue 13 item 2).
    "transfer_estimate": (
        f"{RUN_COLUMNS}, state VARCHAR, risk_pool VARCHAR, plan_id VARCHAR, "
        "rating_area VARCHAR, source VARCHAR, "
        "metal VARCHAR, billable_member_months DECIMAL(14,4), plrs DECIMAL(18,10), "
        "arf DECIMAL(18,10), idf DECIMAL(6,3), av DECIMAL(6,3), gcf DECIMAL(8,4), "
        "premium_pmpm DECIMAL(18,8), share DECIMAL(18,12), transfer_pmpm DECIMAL(18,6), "
        "transfer_total DECIMAL(18,2), hcrp_payment DECIMAL(18,2), user_fee DECIMAL(18,2)"
    ),
}


#: Columns of ``transfer_estimate`` stored with more places since issue 13.
_WIDENED = {"plrs": "DECIMAL(18,10)", "arf": "DECIMAL(18,10)", "premium_pmpm": "DECIMAL(18,8)"}


def ensure_transfer_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the transfer tables that do not exist yet."""
    for table, ddl in TRANSFER_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl})")
    # A warehouse from before plan x rating area rows at full precision: widen in place.
    con.execute("ALTER TABLE transfer_estimate ADD COLUMN IF NOT EXISTS rating_area VARCHAR")
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE table_name = 'transfer_estimate' AND schema_name = current_schema()"
        ).fetchall()
    )
    for column, kind in _WIDENED.items():
        if types.get(column) != kind:
            con.execute(f"ALTER TABLE transfer_estimate ALTER COLUMN {column} TYPE {kind}")
