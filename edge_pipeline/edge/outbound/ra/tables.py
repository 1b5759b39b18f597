"""DDL of the tables the Phase 2 RA reports are read into, and the Arrow types to insert them.

The ``reported_*`` twins of the Phase 2 shadow tables are declared by the Phase 2 contract
(:data:`edge_pipeline.edge.ra_runs.schema.REPORTED_PHASE2_DDL`: every shadow column plus
``outbound_file_identifier`` and ``report_type``), so reconciliation is a join.  The two
summaries and the snapshot index have no shadow twin (the shadow side is a rollup query,
:mod:`edge_pipeline.edge.outbound.ra.summary`) and are declared here.

Column types matter more than in Phase 1: the RA reports carry typed values (DECIMAL scores,
DATE birth dates), and the reader converts each value to its column's type, refusing a value
that does not fit rather than letting DuckDB round it.
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.outbound.core.tables import ddl_columns
from edge_pipeline.edge.ra_runs.schema import REPORT_COLUMNS, REPORTED_PHASE2_DDL, RUN_COLUMNS

#: The RA report tables with no shadow twin.
RA_REPORT_DDL: dict[str, str] = {
    # One row per RA report currently loaded: which report is the run's snapshot of its type
    # (an empty report leaves no other trace).  A newer report of the run replaces the row.
    "reported_ra_report": (
        f"{RUN_COLUMNS}, inbound_file_identifier VARCHAR, generated_at TIMESTAMP, {REPORT_COLUMNS}"
    ),
    # RACSS: claims per plan, category, record kind, verdict and exclusion reason.
    "reported_racss": (
        f"{RUN_COLUMNS}, plan_id VARCHAR, category VARCHAR, record_kind VARCHAR, "
        f"included VARCHAR, reason_code VARCHAR, claim_count BIGINT, {REPORT_COLUMNS}"
    ),
    # RARSS: one row per plan x rating area.
    "reported_rarss": (
        f"{RUN_COLUMNS}, plan_id VARCHAR, rating_area VARCHAR, enrollee_count BIGINT, "
        "member_months DECIMAL(18,4), billable_member_months DECIMAL(18,4), "
        f"average_score_raw DECIMAL(12,3), average_score_csr_adjusted DECIMAL(12,3), "
        f"{REPORT_COLUMNS}"
    ),
    # RARSS distributions: distribution hcc | rxc | csr_factor | dropped_hcc | interaction,
    # code the HCC / RXC / factor / term as written.
    "reported_rarss_frequency": (
        f"{RUN_COLUMNS}, plan_id VARCHAR, rating_area VARCHAR, distribution VARCHAR, "
        f"code VARCHAR, enrollee_count BIGINT, {REPORT_COLUMNS}"
    ),
}

#: Every table an RA report is read into: table -> column -> DuckDB type.
RA_REPORTED_TABLES: dict[str, dict[str, str]] = {
    table: ddl_columns(ddl) for table, ddl in {**REPORTED_PHASE2_DDL, **RA_REPORT_DDL}.items()
}


def ensure_ra_reported_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the RA report tables that do not exist yet (idempotent; not the shadow tables)."""
    for table, columns in RA_REPORTED_TABLES.items():
        body = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
