"""The shadow side of Phase 1, per inbound file: verify it, then write what EDGE should send.

``shadow_phase1`` runs the verification engine on the partition's file (spec section 4) and
checks conservation; ``shadow_phase1_reports`` renders that verdict as the three Phase 1 XML
reports (spec section 5), so a person can diff them with what EDGE really sent.

The Phase 1 checks are declared on the assets that evaluate them (``check_specs``), not as
separate ``@asset_check`` ops: each reads exactly what its asset just wrote, in the same
warehouse connection, so it costs no extra lock on DuckDB.  They are partitioned by
``inbound_files``, so the UI shows each file's own result (``defs/check_specs.py``).
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import dagster as dg
import duckdb
import pyarrow.compute as pc

from edge_pipeline.base.folders import replaced_folder
from edge_pipeline.base.warehouse.query import first_row, table_exists
from edge_pipeline.defs.arrow_metadata import arrow_table_metadata
from edge_pipeline.defs.check_specs import partitioned_check_spec
from edge_pipeline.defs.inbound.assets import SUBMISSION_FILE, TABLE_GROUP_ASSETS
from edge_pipeline.defs.inbound.partitions import inbound_files
from edge_pipeline.defs.metadata import files_metadata, table_metadata
from edge_pipeline.defs.reference.assets import REFERENCE_TABLES
from edge_pipeline.defs.report_files import (
    PHASE1_LAYOUTS,
    ShadowReportsResource,
    recipients_metadata,
)
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.outbound import write_phase1_reports
from edge_pipeline.edge.ra_runs.runs import SUPPORTED_BENEFIT_YEARS, ScoringRun, scoring_runs
from edge_pipeline.edge.reconciliation import (
    ShadowMissing,
    conservation_violations,
    phase1_load_id,
)
from edge_pipeline.edge.verification import (
    ReferenceTablesMissing,
    VerificationResult,
    verify_file,
)
from edge_pipeline.edge.verification.schema import SHADOW_DDL

SHADOW_PHASE1 = dg.AssetKey("shadow_phase1")
SHADOW_PHASE1_REPORTS = dg.AssetKey("shadow_phase1_reports")

PHASE1_CONSERVATION = "phase1_conservation"
phase1_conservation = partitioned_check_spec(
    PHASE1_CONSERVATION,
    SHADOW_PHASE1,
    "Shadow level counts conserve records: received = accepted + rejected at every level "
    "(spec section 4). Blocking: shadow reports are not written from a verdict that loses "
    "records.",
    blocking=True,
    partitions_def=inbound_files,
)

CONSERVATION_COLUMNS = ("level", "received", "accepted", "rejected")
#: Metadata key of ``shadow_phase1`` materializations: the benefit years whose Phase 2 the
#: verdict can change (read by the ``phase2_after_phase1`` sensor, which must not open DuckDB).
BENEFIT_YEARS_KEY = "benefit_years"


#: Record levels in the order the layouts nest them (for readable tables).
LEVEL_ORDER = (
    "file",
    "issuer",
    "plan",
    "enrollee",
    "enrollment_period",
    "claim",
    "line",
    "supplemental",
)


def _level_sort(level: str) -> tuple[int, str]:
    return (LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER), level)


def level_counts_table(
    received: Mapping[str, int], accepted: Mapping[str, int], rejected: Mapping[str, int]
) -> dg.TableMetadataValue:
    """Received / accepted / rejected per level, as a Dagster table."""
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "level": level,
                    "received": int(received.get(level, 0)),
                    "accepted": int(accepted.get(level, 0)),
                    "rejected": int(rejected.get(level, 0)),
                }
            )
            for level in sorted(received, key=_level_sort)
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("level", "string"),
                dg.TableColumn("received", "int"),
                dg.TableColumn("accepted", "int"),
                dg.TableColumn("rejected", "int"),
            ]
        ),
    )


def verification_metadata(result: VerificationResult) -> dict[str, Any]:
    """What the shadow said about a file: status, counts per level, errors per code."""
    return {
        "file_status": result.status,
        "layout": result.layout or "unknown",
        "load_id": result.load_id,
        "records": result.records,
        "errors": result.errors,
        "levels": level_counts_table(result.received, result.accepted, result.rejected),
        **{
            f"rejected/{level}": int(count)
            for level, count in sorted(result.rejected.items(), key=lambda kv: _level_sort(kv[0]))
        },
        "error_codes": dg.MetadataValue.json(dict(sorted(result.error_codes.items()))),
        "verify_seconds": round(result.seconds, 3),
    }


def affected_benefit_years(con: duckdb.DuckDBPyConnection, load_id: int) -> list[int]:
    """The supported benefit years whose scoring a verdict of this load can change: the years
    the file's issuer and zone have active enrollment in (a scoring run exists), or already have
    a claim selection from earlier (a full ESES replacement may have removed the year)."""
    row = first_row(
        con, "SELECT issuer_id, execution_zone FROM submission_file WHERE load_id = ?", [load_id]
    )
    if not row or row[0] is None or row[1] is None:
        return []  # header unreadable or rejected: the file changes no issuer's data
    issuer, zone = row
    years = []
    for year in SUPPORTED_BENEFIT_YEARS:
        try:
            scored = ScoringRun(year, issuer, zone) in scoring_runs(con, year)
        except duckdb.CatalogException:  # no active views yet
            scored = False
        if not scored and table_exists(con, "shadow_ra_claim_selection"):
            scored = bool(
                first_row(
                    con,
                    "SELECT 1 FROM shadow_ra_claim_selection "
                    "WHERE benefit_year = ? AND issuer_id = ? AND execution_zone = ? LIMIT 1",
                    [year, issuer, zone],
                )
            )
        if scored:
            years.append(year)
    return years


@dg.asset(
    key=SHADOW_PHASE1,
    partitions_def=inbound_files,
    kinds={"duckdb"},
    deps=[
        REFERENCE_TABLES,
        SUBMISSION_FILE,
        *(dg.AssetKey(group.key) for group in TABLE_GROUP_ASSETS),
    ],
    check_specs=[phase1_conservation],
    description=(
        "Phase 1 shadow verification of the partition's file: what the EDGE server should "
        "have said (four checks, rejection cascade; docs/error-catalog.md). Replaces the "
        "file's rows of the shadow tables in one transaction."
    ),
    metadata={"warehouse_tables": ", ".join(SHADOW_DDL)},
)
def shadow_phase1(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Verify the file; report its status, counts per level and errors per code."""
    key = context.partition_key
    with warehouse.get_connection() as con:
        try:
            result = verify_file(con, key)
        except KeyError as exc:
            raise dg.Failure(
                description=f"{key}: no load attempt to verify ({exc}); ingest it first",
                allow_retries=False,
            ) from exc
        except ReferenceTablesMissing as exc:
            raise dg.Failure(
                description=f"{exc}; materialize the reference_tables asset first",
                allow_retries=False,
            ) from exc
        violations = conservation_violations(con, key, sides=("shadow",))
        tables = table_metadata(
            con,
            list(SHADOW_DDL),
            ("load_id = ?", [result.load_id]),
            preview_table="shadow_record_status",
        )
        years = affected_benefit_years(con, result.load_id)
    # this attempt's verdict only: an earlier attempt's counts are that attempt's business
    violations = violations.filter(pc.equal(violations["load_id"], result.load_id))
    context.log.info(
        "shadow verdict of %s (load %d): %s, %d records, %d errors",
        key,
        result.load_id,
        result.status,
        result.records,
        result.errors,
    )
    yield dg.MaterializeResult(
        metadata={
            **verification_metadata(result),
            **tables,
            BENEFIT_YEARS_KEY: dg.MetadataValue.json(years),
        }
    )
    yield dg.AssetCheckResult(
        check_name=PHASE1_CONSERVATION,
        passed=violations.num_rows == 0,
        metadata={
            "load_id": result.load_id,
            "violations": violations.num_rows,
            **(
                {"violating_levels": arrow_table_metadata(violations, CONSERVATION_COLUMNS)}
                if violations.num_rows
                else {}
            ),
        },
    )


def _generated_at(con: duckdb.DuckDBPyConnection, load_id: int) -> datetime:
    """The reports' generation time: the inbound file's submission (load) time.

    A simulated EDGE answers at once; tying the time to the submission rather than to the
    clock makes the reports of an unchanged verdict byte-identical on every rewrite, so a
    re-delivery of them is recognised as such (``unchanged``) by the outbound loader.
    """
    row = first_row(
        con,
        "SELECT coalesce(f.loaded_at, s.verified_at) FROM shadow_file_status s "
        "LEFT JOIN submission_file f ON f.load_id = s.load_id WHERE s.load_id = ?",
        [load_id],
    )
    stamp = row[0] if row and row[0] else datetime.now()
    return stamp.replace(microsecond=0)


@dg.asset(
    key=SHADOW_PHASE1_REPORTS,
    partitions_def=inbound_files,
    kinds={"xml"},
    deps=[SHADOW_PHASE1],
    description=(
        "The Phase 1 reports the EDGE server should have sent for the file (ESFAR, detail, "
        "summary), written from the shadow verdict into <shadow_reports>/<fileIdentifier>/. "
        "The folder is replaced as a whole, so it never mixes two verdicts."
    ),
    metadata=recipients_metadata(PHASE1_LAYOUTS),
)
def shadow_phase1_reports(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    shadow_reports: ShadowReportsResource,
) -> dg.MaterializeResult:
    """Write the three reports into a staging folder, then swap it in for the old one."""
    key = context.partition_key
    target = shadow_reports.partition_folder(key)
    with warehouse.get_connection() as con:
        try:
            load_id = phase1_load_id(con, key)
        except ShadowMissing as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        generated_at = _generated_at(con, load_id)
        with replaced_folder(target) as staging:
            paths = write_phase1_reports(con, key, staging, generated_at, load_id=load_id)
    names = [path.name for path in paths]
    context.log.info("shadow reports of %s: %s", key, ", ".join(names))
    return dg.MaterializeResult(
        metadata={
            **files_metadata(target, [target / name for name in names]),
            "folder": str(target),
            "files": ", ".join(names),
            "load_id": load_id,
            "generated_at": generated_at.isoformat(),
            "size_bytes": sum((target / name).stat().st_size for name in names),
        }
    )
