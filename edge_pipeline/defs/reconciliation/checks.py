"""Reconciliation checks with Great Expectations 1.x, as Dagster asset checks per benefit year.

Unlike the Phase 1 and Phase 2 checks (declared on the assets that evaluate them), these are
separate ``@asset_check`` ops: each reads tables several assets wrote (Phase 1 verdicts, the RA
reports, the transfer estimate) and runs a GX suite (``edge_pipeline.edge.quality``), so they can
be re-run from the UI without re-materializing anything.  They are partitioned by benefit year
like the assets they check (a Dagster preview feature in 1.13, silenced here as in
``defs/check_specs.py``), and run in the ``duckdb_writer`` pool: DuckDB admits one process per
database file, so even a reading check must wait for the writer's slot.

A partition covers every scoring run (issuer x zone) of the year.  A run whose reports are not
loaded yet is listed under ``not_checked``; when no run of the year could be checked the check
fails with severity WARN (nothing reconciled is not a pass, but it is not a data error either).

* ``unlinked_supplemental_records_reconcile`` (on ``reported_ra_reports``, blocking: a RACSD
  that counts a supplemental with no live claim would feed scores and transfers);
* ``transfer_elements_reconcile`` (on ``transfer_reconciliation``, which follows the RA reports
  and the transfer estimate; blocking: a transfer that does not follow from the RATEE, or a pool
  that does not sum to zero, is money booked wrongly);
* ``outbound_reports_link_to_inbound`` (on ``reported_ra_reports``, not blocking: a dangling
  pointer is reported for follow-up but does not change any number).

Metadata: GX ``success`` and ``statistics``, the failed expectations (frame, type, column,
unexpected count, observed value), a sample of their rows, and the check's row list -- file and
record identifiers, plans, pools and amounts, never a member identifier.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa

from edge_pipeline.base.markdown import readable
from edge_pipeline.base.warehouse.query import scalar, table_exists
from edge_pipeline.defs.arrow_metadata import arrow_markdown, arrow_table_metadata
from edge_pipeline.defs.phase2.reconciliation import TRANSFER_RECONCILIATION
from edge_pipeline.defs.phase2.reported import REPORTED_RA_REPORTS
from edge_pipeline.defs.reference.partitions import benefit_years
from edge_pipeline.defs.resources import DUCKDB_WRITER_POOL, WarehouseResource
from edge_pipeline.edge.quality import (
    QualityCheck,
    check_outbound_linkage,
    check_transfer_elements,
    check_unlinked_supplemental,
)
from edge_pipeline.edge.ra_runs.runs import RUN_FILTER, ScoringRun, scoring_runs

UNLINKED_SUPPLEMENTAL_RECORDS_RECONCILE = "unlinked_supplemental_records_reconcile"
TRANSFER_ELEMENTS_RECONCILE = "transfer_elements_reconcile"
OUTBOUND_REPORTS_LINK_TO_INBOUND = "outbound_reports_link_to_inbound"

#: Sample rows shown per failed expectation (the outcome keeps up to 20).
SAMPLE_ROWS_SHOWN = 10

Checker = Callable[[duckdb.DuckDBPyConnection, ScoringRun], QualityCheck]


def _rows_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Plain rows as an all-string Arrow table (columns in first-seen order)."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    return pa.table(
        {c: [None if r.get(c) is None else readable(r.get(c)) for r in rows] for c in columns}
    )


def _failed_summary(checks: Sequence[QualityCheck]) -> pa.Table:
    return _rows_table(
        [
            {
                "run": check.scope,
                "frame": failed.frame,
                "expectation": failed.expectation_type,
                "column": failed.column or failed.kwargs.get("column_A") or "",
                "unexpected_count": failed.unexpected_count,
                "observed_value": failed.observed_value,
                "meaning": failed.description,
            }
            for check in checks
            for failed in check.outcome.failed
        ]
    )


def _samples_markdown(checks: Sequence[QualityCheck]) -> str:
    parts = []
    for check in checks:
        for failed in check.outcome.failed:
            title = f"**{check.scope} / {failed.frame}: {failed.expectation_type}**"
            if failed.description:
                title += f" ({failed.description})"
            if failed.unexpected_rows:
                sample = _rows_table(failed.unexpected_rows)
                body = arrow_markdown(sample, sample.column_names, max_rows=SAMPLE_ROWS_SHOWN)
            else:
                body = f"observed value: {readable(failed.observed_value)}"
            parts.append(f"{title}\n\n{body}")
    return "\n\n".join(parts)


def quality_check_result(
    check_name: str,
    checks: Sequence[QualityCheck],
    rows_name: str,
    not_checked: Sequence[str] = (),
) -> dg.AssetCheckResult:
    """One check result from the runs' GX outcomes (no GX object, no member data)."""
    if not checks:
        return dg.AssetCheckResult(
            check_name=check_name,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"runs_checked": 0, "not_checked": "; ".join(not_checked) or "no runs"},
            description="nothing to reconcile: " + ("; ".join(not_checked) or "no runs"),
        )
    success = all(c.success for c in checks)
    totals: dict[str, int] = {}
    for check in checks:
        for key in ("evaluated_expectations", "successful_expectations"):
            totals[key] = totals.get(key, 0) + int(check.outcome.statistics.get(key) or 0)
    evaluated = totals.get("evaluated_expectations", 0)
    statistics = {
        **totals,
        "unsuccessful_expectations": evaluated - totals.get("successful_expectations", 0),
        "success_percent": (
            round(100.0 * totals["successful_expectations"] / evaluated, 2) if evaluated else None
        ),
        "frame_rows": {c.scope: c.outcome.rows for c in checks},
    }
    rows = [{"run": c.scope, **row} for c in checks for row in c.rows]
    metadata: dict[str, Any] = {
        "success": success,
        "statistics": dg.MetadataValue.json(statistics),
        "runs": ", ".join(c.scope for c in checks),
        rows_name: len(rows),
    }
    if not_checked:
        metadata["not_checked"] = "; ".join(not_checked)
    if rows:
        table = _rows_table(rows)
        metadata[f"{rows_name}_table"] = arrow_table_metadata(table, table.column_names)
        metadata[f"{rows_name}_md"] = dg.MetadataValue.md(arrow_markdown(table, table.column_names))
    failed = _failed_summary(checks)
    if failed.num_rows:
        metadata["failed_expectations"] = arrow_table_metadata(failed, failed.column_names)
        metadata["failed_expectations_md"] = dg.MetadataValue.md(
            arrow_markdown(failed, failed.column_names)
        )
        metadata["failed_samples"] = dg.MetadataValue.md(_samples_markdown(checks))
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=None
        if success
        else f"{statistics['unsuccessful_expectations']} expectation(s) failed",
    )


def _has_rows(con: duckdb.DuckDBPyConnection, table: str, run: ScoringRun) -> bool:
    if not table_exists(con, table):
        return False
    return bool(scalar(con, f"SELECT count(*) FROM {table} WHERE {RUN_FILTER}", run.params))


def _has_view(con: duckdb.DuckDBPyConnection, view: str) -> bool:
    """Whether Phase 1 built ``view`` (a fresh warehouse has no active views yet)."""
    return bool(scalar(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [view]))


def _evaluate(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    check_name: str,
    checker: Checker,
    needs: Sequence[str],
    rows_name: str,
) -> dg.AssetCheckResult:
    """Run ``checker`` on every run of the partition's year that has rows in ``needs``."""
    year = int(context.partition_key)
    checks: list[QualityCheck] = []
    not_checked: list[str] = []
    with warehouse.get_connection() as con:
        runs = scoring_runs(con, year) if _has_view(con, "active_enrollment") else []
        for run in runs:
            missing = [table for table in needs if not _has_rows(con, table, run)]
            if missing:
                not_checked.append(f"{run.label}: nothing in {', '.join(missing)}")
                continue
            check = checker(con, run)
            statistics = check.outcome.statistics
            context.log.info(
                "%s %s: %s, %s of %s expectation(s) met",
                check_name,
                run.label,
                "passed" if check.success else "failed",
                statistics.get("successful_expectations", "?"),
                statistics.get("evaluated_expectations", "?"),
            )
            checks.append(check)
    if not runs:
        not_checked.append(f"BY{year}: no issuer has active enrollment in the year")
    return quality_check_result(check_name, checks, rows_name, not_checked)


with warnings.catch_warnings():
    # Partitioned asset checks are a preview feature in Dagster 1.13 (see check_specs.py).
    warnings.simplefilter("ignore", dg.PreviewWarning)

    @dg.asset_check(
        asset=REPORTED_RA_REPORTS,
        name=UNLINKED_SUPPLEMENTAL_RECORDS_RECONCILE,
        blocking=True,
        partitions_def=benefit_years,
        pool=DUCKDB_WRITER_POOL,
        description=(
            "Every accepted ESSFS record either links to an active accepted ESMCS claim of the "
            "same enrollee or is in the RACSD as unlinked (R10), and the number of unlinked "
            "records equals the RACSD's unlinked category (Great Expectations suite). Metadata "
            "lists the unlinked records by fileIdentifier and recordIdentifier. Blocking: a "
            "RACSD that counts a supplemental with no live claim corrupts scores and transfers."
        ),
    )
    def unlinked_supplemental_records_reconcile(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        return _evaluate(
            context,
            warehouse,
            UNLINKED_SUPPLEMENTAL_RECORDS_RECONCILE,
            check_unlinked_supplemental,
            ("reported_ra_claim_selection",),
            "unlinked_records",
        )

    @dg.asset_check(
        asset=TRANSFER_RECONCILIATION,
        name=TRANSFER_ELEMENTS_RECONCILE,
        blocking=True,
        partitions_def=benefit_years,
        pool=DUCKDB_WRITER_POOL,
        description=(
            "The RATEE EDGE sent agrees with its RARSD (PLRS recomputed from the scores within "
            "0.0005, billable member months exactly, member months as in the RARSS), the "
            "transfer recomputed from the RATEE with the spec section 8 formula equals "
            "transfer_estimate within $1 per plan x rating area, and every state risk pool sums to zero "
            "within $1 (Great Expectations suite). Blocking: transfers are money."
        ),
    )
    def transfer_elements_reconcile(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        return _evaluate(
            context,
            warehouse,
            TRANSFER_ELEMENTS_RECONCILE,
            check_transfer_elements,
            ("reported_ratee", "transfer_estimate"),
            "disagreeing_rows",
        )

    @dg.asset_check(
        asset=REPORTED_RA_REPORTS,
        name=OUTBOUND_REPORTS_LINK_TO_INBOUND,
        blocking=False,
        partitions_def=benefit_years,
        pool=DUCKDB_WRITER_POOL,
        description=(
            "Every loaded outbound report (Phase 1 and RA) of the year's issuers and zones "
            "names, in inboundFileIdentifier, an inbound file we received in the same "
            "execution zone, and every record identifier it cites (Phase 1 statuses and "
            "errors, RACSD entries) is a record of that inbound file (Great Expectations "
            "suite)."
        ),
    )
    def outbound_reports_link_to_inbound(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        return _evaluate(
            context,
            warehouse,
            OUTBOUND_REPORTS_LINK_TO_INBOUND,
            check_outbound_linkage,
            (),
            "dangling_pointers",
        )


RECONCILIATION_CHECKS = [
    unlinked_supplemental_records_reconcile,
    transfer_elements_reconcile,
    outbound_reports_link_to_inbound,
]
