"""The monthly data-quality summary an issuer reviews: per month and file type, files and
records received, accepted and rejected, the top error codes, and the records lost to the
cascade (rejected for an ancestor's or their children's error, not their own) per level.

The month of a file is its header's generation date-time (its load time when that is not a
date).  A load attempt that failed or was refused counts as a received, rejected file.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.report import queries

#: Table the Dagster asset writes the summary into.
SUMMARY_TABLE = "data_quality_monthly"
#: Error codes named per month and file type.
TOP_CODES = 3

LOST_COLUMNS = [f"lost_{level}" for level in queries.LEVELS]
COLUMNS = [
    "month",
    "file_type",
    "files_received",
    "files_accepted",
    "files_rejected",
    "records_received",
    "records_accepted",
    "records_rejected",
    "record_rejection_rate",
    "errors",
    "top_error_codes",
    "lost_to_cascade",
    *LOST_COLUMNS,
]


def monthly_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per month x file type (see the module docstring), months ascending."""
    files = queries.files(con)
    if files.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    files = files.assign(
        accepted=(files["edge_status"] == "accepted").astype(int),
        rejected=(files["edge_status"] == "rejected").astype(int),
    )
    summary = (
        files.groupby(["month", "file_type"], as_index=False)
        .agg(
            files_received=("load_id", "count"),
            files_accepted=("accepted", "sum"),
            files_rejected=("rejected", "sum"),
            records_received=("records_received", "sum"),
            records_accepted=("records_accepted", "sum"),
            records_rejected=("records_rejected", "sum"),
            errors=("errors", "sum"),
        )
        .sort_values(["month", "file_type"])
    )
    # files neither accepted nor rejected (loaded, not yet verified) are received only
    summary["record_rejection_rate"] = [
        round(rej / rec, 4) if rec else None
        for rej, rec in zip(summary["records_rejected"], summary["records_received"], strict=True)
    ]

    errors = queries.errors_by_file(con)
    top: dict[tuple[str, str], str] = {}
    if not errors.empty:
        by_code = (
            errors.groupby(["month", "file_type", "error_code"], as_index=False)["errors"]
            .sum()
            .sort_values(["errors", "error_code"], ascending=[False, True])
        )
        for (month, file_type), group in by_code.groupby(["month", "file_type"]):
            top[(month, file_type)] = ", ".join(
                f"{code} ({n})"
                for code, n in group.head(TOP_CODES)[["error_code", "errors"]].values
            )
    summary["top_error_codes"] = [
        top.get((m, t), "") for m, t in zip(summary["month"], summary["file_type"], strict=True)
    ]

    lost = queries.cascade_losses(con)
    for column, level in zip(LOST_COLUMNS, queries.LEVELS, strict=True):
        per = lost[lost["level"] == level].groupby(["month", "file_type"])["records"].sum()
        summary[column] = [
            int(per.get((m, t), 0))
            for m, t in zip(summary["month"], summary["file_type"], strict=True)
        ]
    summary["lost_to_cascade"] = summary[LOST_COLUMNS].sum(axis=1)
    for column in COLUMNS:
        if column.startswith(("files_", "records_", "lost_")) or column == "errors":
            summary[column] = summary[column].astype("int64")
    return summary[COLUMNS].reset_index(drop=True)


def write_summary_table(con: duckdb.DuckDBPyConnection, summary: pd.DataFrame) -> int:
    """Replace :data:`SUMMARY_TABLE` with ``summary`` in one transaction; its row count."""
    con.register("_data_quality_frame", summary)
    try:
        con.execute("BEGIN")
        try:
            con.execute(
                f"CREATE OR REPLACE TABLE {SUMMARY_TABLE} AS SELECT * FROM _data_quality_frame"
            )
            con.execute("COMMIT")
        except Exception:
            rollback(con)
            raise
    finally:
        con.unregister("_data_quality_frame")
    return len(summary)
