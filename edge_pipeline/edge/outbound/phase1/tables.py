"""DDL of the ``reported_*`` tables (what the outbound reports said) and the ``outbound_file``
registry, derived from the ``shadow_*`` tables (what EDGE should have said).

The shadow tables belong to the verification engine
(:data:`edge_pipeline.edge.verification.schema.SHADOW_DDL`, created by
:func:`~edge_pipeline.edge.verification.schema.ensure_shadow_schema`).  Reconciliation is a
join between the two families (``docs/phase1-contract.md``), so every reported table is derived
from its shadow twin here: a column the engine adds to a shadow table appears in its reported
twin automatically, and the round-trip tests fail until the reader fills it.

Reported tables carry, besides the shadow columns, the report they came from
(``outbound_file_identifier``, ``report_type``) and a few columns only a report has
(``REPORTED_EXTRA_COLUMNS``).  All their columns are nullable except the link keys: a report is
evidence, stored as written, and a missing value in it is itself a finding.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.layouts.outbound import FORMER_NAMES
from edge_pipeline.edge.outbound.core.tables import arrow_schema_of, ddl_columns
from edge_pipeline.edge.verification.schema import SHADOW_DDL

#: Shadow table -> column -> DuckDB type, as the verification engine declares them.
SHADOW_TABLES: dict[str, dict[str, str]] = {
    table: ddl_columns(ddl) for table, ddl in SHADOW_DDL.items()
}

#: Columns every reported table adds: which report a row came from.
REPORT_COLUMNS: dict[str, str] = {
    "outbound_file_identifier": "VARCHAR NOT NULL",
    "report_type": "VARCHAR NOT NULL",
}

#: Columns only a report has, per reported twin of a shadow table.
REPORTED_EXTRA_COLUMNS: dict[str, dict[str, str]] = {
    # load_id (every reported table): the inbound load attempt the report answers, matched on
    # inboundFileIdentifier and inboundFileSubmissionDateTime (see outbound/load.py).
    # offendingElementErrorTypeDetail as written (this project's writer puts the check kind there)
    "reported_record_error": {"detail": "VARCHAR"},
    # recordsResolved and newRecordsAccepted, which the shadow does not compute
    "reported_level_summary": {"resolved": "BIGINT", "new_accepted": "BIGINT"},
}

#: Summary content with no shadow twin (the shadow does not roll up; reconciliation can
#: recompute these from ``shadow_*`` and the landing tables).
SUMMARY_TABLES: dict[str, dict[str, str]] = {
    "reported_error_frequency": {
        "load_id": "BIGINT",
        "file_identifier": "VARCHAR NOT NULL",
        "error_code": "VARCHAR",
        "frequency": "BIGINT",
    },
    # status of the issuer and of each plan as the summary states it
    "reported_scope_summary": {
        "load_id": "BIGINT",
        "file_identifier": "VARCHAR NOT NULL",
        "scope_level": "VARCHAR NOT NULL",  # issuer | plan
        "scope_record_identifier": "BIGINT",  # NULL for ESES plans (not records)
        "scope_key": "VARCHAR",  # issuer id or plan id
        "status": "VARCHAR",
    },
    # counts of a scope (year and month NULL) and its year/month rollup rows (month NULL on the
    # year totals of member months)
    "reported_summary_counts": {
        "load_id": "BIGINT",
        "file_identifier": "VARCHAR NOT NULL",
        "scope_level": "VARCHAR NOT NULL",
        "scope_key": "VARCHAR",
        "year": "INTEGER",
        "month": "INTEGER",
        "form_type": "VARCHAR",
        "level": "VARCHAR",
        "received": "BIGINT",
        "accepted": "BIGINT",
        "resolved": "BIGINT",
        "rejected": "BIGINT",
        "new_accepted": "BIGINT",
        "accepted_months": "BIGINT",
        "rejected_months": "BIGINT",
    },
}

#: One row per load attempt that changed something (loaded, refused or failed); a re-delivery
#: of an already loaded report is ``unchanged`` and writes nothing.
OUTBOUND_FILE_COLUMNS: dict[str, str] = {
    "outbound_load_id": "BIGINT PRIMARY KEY",
    "outbound_file_identifier": "VARCHAR",
    "report_type": "VARCHAR",
    "file_type_code": "VARCHAR",
    "inbound_file_identifier": "VARCHAR",
    "issuer_id": "VARCHAR",
    "execution_zone": "VARCHAR",
    "generated_at": "TIMESTAMP",
    "path": "VARCHAR NOT NULL",
    "file_name": "VARCHAR NOT NULL",
    "size_bytes": "BIGINT",
    "sha256": "VARCHAR",
    "loaded_at": "TIMESTAMP NOT NULL",
    "status": "VARCHAR NOT NULL",  # loaded | refused | failed
    "error": "VARCHAR",
    "error_line": "BIGINT",
    "error_element": "VARCHAR",
    "rows_loaded": "BIGINT",
    "load_seconds": "DOUBLE",
}


def _reported(shadow: str, columns: dict[str, str]) -> tuple[str, dict[str, str]]:
    name = shadow.replace("shadow_", "reported_", 1)
    reported = {
        column: "VARCHAR NOT NULL"
        if column == "file_identifier"
        else sql_type.replace(" NOT NULL", "").replace(" PRIMARY KEY", "")
        for column, sql_type in columns.items()
    }
    return name, {**reported, **REPORTED_EXTRA_COLUMNS.get(name, {}), **REPORT_COLUMNS}


#: Reported table -> column -> DuckDB type, including the summary-only tables.
REPORTED_TABLES: dict[str, dict[str, str]] = {
    **dict(_reported(name, columns) for name, columns in SHADOW_TABLES.items()),
    **{name: {**columns, **REPORT_COLUMNS} for name, columns in SUMMARY_TABLES.items()},
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema batches of a reported table are built with (types match the DDL, so a
    batch whose column happens to be all NULL still inserts)."""
    columns = REPORTED_TABLES[table]
    return arrow_schema_of(columns)


def ensure_reported_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing ``reported_*`` tables and the ``outbound_file`` registry (idempotent),
    and rename report types stored under a former name (:func:`rename_former_report_types`)."""
    con.execute("CREATE SEQUENCE IF NOT EXISTS outbound_file_load_id START 1")
    for table, columns in {"outbound_file": OUTBOUND_FILE_COLUMNS, **REPORTED_TABLES}.items():
        body = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
    rename_former_report_types(con)


def rename_former_report_types(con: duckdb.DuckDBPyConnection) -> int:
    """Rename ``report_type`` values a warehouse stored under a report's former name (the
    summaries were ESESAR, ESMCSAR, ESPCSAR, ESSFSAR) to its name now, so reconciliation, the UI
    and the analyst report see one name per report.  The aliases are the layouts'
    ``former_names``.  Every loaded report has its ``outbound_file`` row, so that small table
    says whether there is anything to rename; returns the number of reports renamed."""
    former = list(FORMER_NAMES)
    if not former:
        return 0
    placeholders = ", ".join("?" for _ in former)
    found = con.execute(
        f"SELECT count(*) FROM outbound_file WHERE report_type IN ({placeholders})", former
    ).fetchone()
    if not found or not found[0]:
        return 0
    cases = " ".join("WHEN ? THEN ?" for _ in former)
    params = [value for name in former for value in (name, FORMER_NAMES[name])] + former
    con.execute("BEGIN TRANSACTION")
    try:
        for table in (*REPORTED_TABLES, "outbound_file"):
            con.execute(
                f"UPDATE {table} SET report_type = CASE report_type {cases} END "
                f"WHERE report_type IN ({placeholders})",
                params,
            )
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return int(found[0])
