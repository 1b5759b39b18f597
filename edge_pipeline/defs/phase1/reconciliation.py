"""``phase1_reconciliation``: the shadow verdict of a file against what EDGE reported about it.

Refreshes the file's rows of ``phase1_reconciliation`` (one per disagreeing record, plus the
file row when the ESFAR disagrees) and ``phase1_reconciliation_file`` (the verdict), and
evaluates ``shadow_matches_reported`` with the differing records as table and markdown
metadata: record identifier, level, statuses and codes, never a member identifier.  It is in
the ``reconciliation`` group with the Phase 2 reconciliations (what EDGE said against what the
shadow computed); the encounter-data team owns it, as the rest of Phase 1.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
from collections.abc import Iterator

import dagster as dg

from edge_pipeline.defs.arrow_metadata import differences_check_result
from edge_pipeline.defs.check_specs import partitioned_check_spec
from edge_pipeline.defs.inbound.partitions import inbound_files
from edge_pipeline.defs.metadata import table_metadata
from edge_pipeline.defs.phase1.reported import REPORTED_PHASE1_DETAIL
from edge_pipeline.defs.phase1.shadow import SHADOW_PHASE1
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.reconciliation import (
    DIFFERENCE_KINDS,
    RECONCILIATION_DDL,
    ReportsMissing,
    ShadowMissing,
    refresh_phase1_reconciliation,
)
from edge_pipeline.edge.reconciliation.frequency import FREQUENCY_DIFFERENCE_COLUMNS

PHASE1_RECONCILIATION = dg.AssetKey("phase1_reconciliation")

SHADOW_MATCHES_REPORTED = "shadow_matches_reported"
shadow_matches_reported = partitioned_check_spec(
    SHADOW_MATCHES_REPORTED,
    PHASE1_RECONCILIATION,
    "EDGE's Phase 1 reports say what the shadow verification says: same file status and "
    "header errors, and for every record the same status and error codes. Failing lists the "
    "differing records (identifier, level, statuses, codes).",
    blocking=False,
    partitions_def=inbound_files,
)
FREQUENCIES_MATCH_REPORTED = "frequencies_match_reported"
frequencies_match_reported = partitioned_check_spec(
    FREQUENCIES_MATCH_REPORTED,
    PHASE1_RECONCILIATION,
    "EDGE's frequency by data element report (FDEEAF, FDEMAF, FDEPAF, FDESAF) states, for "
    "every data element and value, the frequency the shadow counts over the file's accepted "
    "records. Failing lists the differing (element, value) pairs with both frequencies.",
    blocking=False,
    partitions_def=inbound_files,
)
FREQUENCY_DIFF_COLUMNS = FREQUENCY_DIFFERENCE_COLUMNS[2:]
DIFF_COLUMNS = (
    "record_identifier",
    "level",
    "shadow_status",
    "reported_status",
    "shadow_codes",
    "reported_codes",
    "difference",
)


@dg.asset(
    key=PHASE1_RECONCILIATION,
    partitions_def=inbound_files,
    kinds={"duckdb"},
    deps=[REPORTED_PHASE1_DETAIL, SHADOW_PHASE1],
    check_specs=[shadow_matches_reported, frequencies_match_reported],
    description=(
        "Record-by-record comparison of the shadow verdict with EDGE's Phase 1 reports for the "
        "file: statuses and error codes of the file and of every record. Differences: "
        + "; ".join(f"{kind} = {text}" for kind, text in DIFFERENCE_KINDS.items())
        + "."
    ),
    metadata={"warehouse_tables": ", ".join(RECONCILIATION_DDL)},
)
def phase1_reconciliation(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Refresh the file's reconciliation and say whether EDGE and the shadow agree."""
    key = context.partition_key
    with warehouse.get_connection() as con:
        try:
            result = refresh_phase1_reconciliation(con, key)
        except (ShadowMissing, ReportsMissing) as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        tables = table_metadata(con, list(RECONCILIATION_DDL), ("file_identifier = ?", [key]))
    reports = result.reports
    differences = result.differences
    frequencies = result.frequency_differences
    assert frequencies is not None  # refresh_phase1_reconciliation always compares them
    context.log.info(
        "%s (load %d): shadow %s, reported %s, %d records compared, %d difference(s)",
        key,
        reports.load_id,
        result.shadow_status,
        reports.reported_status,
        result.records_compared,
        differences.num_rows,
    )
    yield dg.MaterializeResult(
        metadata={
            **tables,
            "load_id": reports.load_id,
            "shadow_file_status": result.shadow_status or "unknown",
            "reported_file_status": reports.reported_status or "unknown",
            "records_compared": result.records_compared,
            "differences": differences.num_rows,
            **{f"differences/{kind}": n for kind, n in sorted(result.by_kind.items())},
            "reports_compared": ", ".join(reports.outbound_file_identifiers),
            "records_compared_with": reports.detail or "none (file level only)",
            "frequency_differences": frequencies.num_rows,
            "frequencies_compared_with": reports.frequency or "none (no frequency report)",
        }
    )
    yield differences_check_result(
        SHADOW_MATCHES_REPORTED,
        differences,
        DIFF_COLUMNS,
        rows_name="differing_records",
        table="phase1_reconciliation",
    )
    yield differences_check_result(
        FREQUENCIES_MATCH_REPORTED,
        frequencies,
        FREQUENCY_DIFF_COLUMNS,
        rows_name="differing_frequencies",
        table="phase1_frequency_reconciliation",
    )
