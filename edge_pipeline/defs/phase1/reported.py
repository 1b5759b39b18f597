"""The reported side of Phase 1, per inbound file: what EDGE really sent, loaded from the outbox.

Lineage as the UI shows it: ``outbox_report_file`` (external, observed by ``outbox_sensor``)
→ ``reported_esfar`` (the file accept/reject) → ``reported_phase1_detail`` (detail and summary
reports) → ``phase1_reconciliation``.  Reports are found by their header's
``inboundFileIdentifier`` (the partition key) and loaded by the outbound loader, one
transaction per report; an identical re-delivery is ``unchanged`` and writes nothing.  A file
modified less than the outbox's ``settle_seconds`` ago is still being written and is left for
a later run (the sensor requests one once it is complete).

When the reports are not (all) there yet:

* no ESFAR for the file: ``reported_esfar`` **fails**, saying so.  EDGE always sends the ESFAR
  first, and the sensor only starts a run once a report of the file has landed, so this means
  a manual run for a file EDGE has not answered (or whose reports were moved).
* an ESFAR but no detail report: ``reported_phase1_detail`` is **skipped** (not materialized;
  ``phase1_reconciliation`` is skipped with it) while the ESFAR accepts the file: the detail is
  still to come and its arrival starts a new run.  When the ESFAR rejects the file it is
  materialized without one (EDGE may send only the ESFAR for a header-rejected file) and the
  reconciliation compares the file level only.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
from collections.abc import Iterator

import dagster as dg
import duckdb

from edge_pipeline.defs.arrow_metadata import arrow_table_metadata
from edge_pipeline.defs.check_specs import partitioned_check_spec
from edge_pipeline.defs.inbound.partitions import inbound_files
from edge_pipeline.defs.metadata import table_metadata
from edge_pipeline.defs.report_files import (
    OutboxResource,
    fail_on_bad_loads,
    load_metadata,
    load_reports,
    loaded_signatures,
    no_reports_failure,
    prepared_reports,
    recipients_metadata,
)
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.layouts.outbound import DETAIL_LAYOUTS, ESFAR, SUMMARY_LAYOUTS
from edge_pipeline.edge.outbound import OutboundLoadResult
from edge_pipeline.edge.reconciliation import (
    conservation_violations,
    reported_errors_without_record,
)

REPORTED_ESFAR = dg.AssetKey("reported_esfar")
REPORTED_PHASE1_DETAIL = dg.AssetKey("reported_phase1_detail")

REPORTED_ERRORS_POINT_TO_RECORDS = "reported_errors_point_to_records"
REPORTED_COUNTS_CONSERVED = "reported_counts_conserved"
reported_errors_point_to_records = partitioned_check_spec(
    REPORTED_ERRORS_POINT_TO_RECORDS,
    REPORTED_PHASE1_DETAIL,
    "Every status and error of the file's detail reports names an inbound record of the file "
    "(record identifier and level); header errors excepted.",
    blocking=False,
    partitions_def=inbound_files,
)
reported_counts_conserved = partitioned_check_spec(
    REPORTED_COUNTS_CONSERVED,
    REPORTED_PHASE1_DETAIL,
    "The summary reports' level counts conserve records: recordsReceived = recordsAccepted + "
    "recordsRejected at every level.",
    blocking=False,
    partitions_def=inbound_files,
)

ESFAR_TABLES = ("reported_file_status", "reported_record_error", "outbound_file")
DETAIL_TABLES = (
    "reported_record_status",
    "reported_record_error",
    "reported_level_summary",
    "reported_error_frequency",
    "reported_scope_summary",
    "reported_summary_counts",
    "reported_data_element_frequency",
)
POINTER_COLUMNS = ("report_type", "kind", "record_identifier", "level", "error_code")
CONSERVATION_COLUMNS = ("outbound_file_identifier", "level", "received", "accepted", "rejected")

#: The reports EDGE dropped in the outbox: produced outside Dagster, observed by the sensor.
outbox_report_file = dg.AssetSpec(
    "outbox_report_file",
    description=(
        "Phase 1 outbound reports (ESFAR, detail, summary) the EDGE server dropped in the "
        "outbox about an inbound file. External: Dagster does not produce them; the outbox "
        "sensor starts a run for the file they answer (their inboundFileIdentifier)."
    ),
    kinds={"xml"},
    partitions_def=inbound_files,
)


def partition_tables(
    con: duckdb.DuckDBPyConnection, tables: tuple[str, ...], file_identifier: str
) -> dict[str, object]:
    """Row count, schema and preview of the reported tables' rows about one inbound file."""
    where = {table: ("file_identifier = ?", [file_identifier]) for table in tables}
    where["outbound_file"] = ("inbound_file_identifier = ?", [file_identifier])
    return table_metadata(con, tables, where, partitioned=True)


def latest_reported_status(con: duckdb.DuckDBPyConnection, file_identifier: str) -> str | None:
    """The statusTypeCode of the file's most recently generated loaded ESFAR, if any."""
    rows = con.execute(
        """
        SELECT r.status FROM reported_file_status r
        JOIN outbound_file o ON o.outbound_file_identifier = r.outbound_file_identifier
         AND o.status = 'loaded'
        WHERE r.file_identifier = ?
        ORDER BY o.generated_at DESC NULLS LAST, o.outbound_load_id DESC LIMIT 1
        """,
        [file_identifier],
    ).fetchall()
    return rows[0][0] if rows else None


@dg.asset(
    key=REPORTED_ESFAR,
    partitions_def=inbound_files,
    kinds={"duckdb"},
    deps=[outbox_report_file],
    description=(
        "EDGE's file accept/reject (ESFAR) of the partition's file, loaded from the outbox into "
        "reported_file_status and reported_record_error (header errors); every attempt is on "
        "record in outbound_file."
    ),
    metadata={
        "warehouse_tables": "reported_file_status, reported_record_error, outbound_file",
        **recipients_metadata([ESFAR]),
    },
)
def reported_esfar(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, outbox: OutboxResource
) -> Iterator[dg.MaterializeResult]:
    """Load the file's ESFAR(s); fail when the outbox holds none."""
    key = context.partition_key
    reports, landing = outbox.reports_for(key, roles=("file_status",))
    if not reports:
        raise no_reports_failure(
            f"ESFAR answering {key}",
            outbox,
            "EDGE has not answered this file yet, or its reports were moved",
            landing,
        )
    with prepared_reports(reports) as prepared, warehouse.get_connection() as con:
        results = load_reports(context, con, prepared)
        status = latest_reported_status(con, key)
        tables = partition_tables(con, ESFAR_TABLES, key)
    yield dg.MaterializeResult(
        metadata={
            **load_metadata(results),
            **tables,
            **loaded_signatures(outbox, reports, results),
            "reported_file_status": status or "unknown",
        }
    )
    fail_on_bad_loads(results)


#: A multi-asset of one asset only because a plain ``@asset`` cannot skip: its check outputs
#: are required, and only a subsettable multi-asset makes them optional.
@dg.multi_asset(
    name="reported_phase1_detail",
    specs=[
        dg.AssetSpec(
            REPORTED_PHASE1_DETAIL,
            deps=[REPORTED_ESFAR],
            partitions_def=inbound_files,
            kinds={"duckdb"},
            skippable=True,
            description=(
                "EDGE's detail and summary reports of the partition's file, loaded from the "
                "outbox into reported_record_status, reported_record_error, "
                "reported_level_summary and the summary tables. Skipped while the detail report "
                "of an accepted file has not arrived."
            ),
            metadata={
                "warehouse_tables": (
                    "reported_record_status, reported_record_error, reported_level_summary, "
                    "reported_error_frequency, reported_scope_summary, reported_summary_counts"
                ),
                **recipients_metadata((*DETAIL_LAYOUTS, *SUMMARY_LAYOUTS)),
            },
        )
    ],
    check_specs=[reported_errors_point_to_records, reported_counts_conserved],
    partitions_def=inbound_files,
    can_subset=True,
)
def reported_phase1_detail(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, outbox: OutboxResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Load the detail and summary reports, then check they point to records and conserve.

    Run for its checks only (a subset from the UI), it re-evaluates them on what is loaded.
    """
    key = context.partition_key
    materialize = REPORTED_PHASE1_DETAIL in context.selected_asset_keys
    selected_checks = {check.name for check in context.selected_asset_check_keys}
    results: list[OutboundLoadResult] = []
    has_detail = True
    reports, landing = (
        outbox.reports_for(key, roles=("detail", "summary", "frequency"))
        if materialize
        else ([], 0)
    )
    with prepared_reports(reports) as prepared, warehouse.get_connection() as con:
        if materialize:
            if landing:
                context.log.info(
                    "%d outbox file(s) still being written are left for a later run", landing
                )
            has_detail = any(r.role == "detail" for r in reports)
            status = latest_reported_status(con, key)
            if not has_detail and status != "R":
                context.log.info(
                    "%s: the ESFAR is loaded (status %s) but no detail report is in the outbox "
                    "yet; skipped until it lands (the outbox sensor starts a new run then)",
                    key,
                    status or "unknown",
                )
                return
            results = load_reports(context, con, prepared)
        pointers = reported_errors_without_record(con, key)
        violations = conservation_violations(con, key, sides=("reported",))
        tables = partition_tables(con, DETAIL_TABLES, key) if materialize else {}
    if materialize:
        metadata = {
            **(load_metadata(results) if results else {"files": "none"}),
            **tables,
            **loaded_signatures(outbox, reports if results else [], results),
        }
        if not has_detail:
            metadata["note"] = (
                "no detail report: the ESFAR rejected the file, and EDGE may send only the "
                "ESFAR then; the reconciliation compares the file level only"
            )
        yield dg.MaterializeResult(asset_key=REPORTED_PHASE1_DETAIL, metadata=metadata)
    if REPORTED_ERRORS_POINT_TO_RECORDS in selected_checks:
        yield dg.AssetCheckResult(
            asset_key=REPORTED_PHASE1_DETAIL,
            check_name=REPORTED_ERRORS_POINT_TO_RECORDS,
            passed=pointers.num_rows == 0,
            metadata={
                "unlinked_rows": pointers.num_rows,
                **(
                    {"unlinked": arrow_table_metadata(pointers, POINTER_COLUMNS)}
                    if pointers.num_rows
                    else {}
                ),
            },
        )
    if REPORTED_COUNTS_CONSERVED in selected_checks:
        yield dg.AssetCheckResult(
            asset_key=REPORTED_PHASE1_DETAIL,
            check_name=REPORTED_COUNTS_CONSERVED,
            passed=violations.num_rows == 0,
            metadata={
                "violations": violations.num_rows,
                **(
                    {"violating_levels": arrow_table_metadata(violations, CONSERVATION_COLUMNS)}
                    if violations.num_rows
                    else {}
                ),
            },
        )
    fail_on_bad_loads(results)
