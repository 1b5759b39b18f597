"""The shadow side of Phase 2, per benefit year: RA claim selection and risk scores.

Lineage: the DIY tables of the year and every file's Phase 1 verdict (the active views are
built from it) → ``ra_claim_selection`` (RACSD content and the scoring inputs) →
``risk_scores`` (RARSD content) → the transfer elements (``transfer.py``) and the RA reports EDGE
should send (``shadow_reports.py``).  A partition covers every issuer and execution zone with
enrollment in the year, one ``ScoringRun`` each, each replaced in its own transaction.
Metadata holds counts, codes and plans, never members.

The checks are declared on the assets that evaluate them (``check_specs``), for the same reason
as Phase 1's: each reads what its asset just wrote, in the same warehouse connection.  Both are
blocking: a risk score built on an inactive claim or a non-enrollee would flow into the reports
and, later, into the transfer estimate.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
from collections.abc import Iterator

import dagster as dg
import duckdb
import pyarrow as pa

from edge_pipeline.base.warehouse.query import first_row
from edge_pipeline.defs.arrow_metadata import arrow_markdown, arrow_table_metadata, counts
from edge_pipeline.defs.check_specs import partitioned_check_spec
from edge_pipeline.defs.metadata import table_metadata
from edge_pipeline.defs.phase1.shadow import SHADOW_PHASE1
from edge_pipeline.defs.reference.assets import DIY_TABLES, REFERENCE_TABLES
from edge_pipeline.defs.reference.partitions import benefit_years
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.claim_selection import SelectionResult, select_claims
from edge_pipeline.edge.claim_selection.enrollee_claims import ENROLLEE_CLAIMS_TABLES
from edge_pipeline.edge.ra_runs.integrity import included_but_not_active, scored_without_enrollment
from edge_pipeline.edge.ra_runs.runs import ScoringRun, scoring_runs
from edge_pipeline.edge.ra_runs.schema import RA_INPUT_DDL
from edge_pipeline.edge.risk.run_scores import SCORE_TABLES, score_run

RA_CLAIM_SELECTION = dg.AssetKey("ra_claim_selection")
RISK_SCORES = dg.AssetKey("risk_scores")

RA_INCLUDED_CLAIMS_ACTIVE = "ra_included_claims_active_and_accepted"
SCORED_ENROLLEES_ENROLLED = "scored_enrollees_have_accepted_enrollment"
ra_included_claims_active = partitioned_check_spec(
    RA_INCLUDED_CLAIMS_ACTIVE,
    RA_CLAIM_SELECTION,
    "Every claim RA claim selection includes is an active, accepted claim (not rejected, "
    "voided or replaced away), and every included supplemental record was accepted. "
    "Blocking: scores are not computed from claims that must not count.",
    blocking=True,
    partitions_def=benefit_years,
)
scored_enrollees_enrolled = partitioned_check_spec(
    SCORED_ENROLLEES_ENROLLED,
    RISK_SCORES,
    "Every scored enrollee x plan has accepted, active enrollment in that plan in the benefit "
    "year. Blocking: the RA reports are not written from scores of non-enrollees.",
    blocking=True,
    partitions_def=benefit_years,
)

#: Upstream Phase 1 verdicts of every inbound file (differently partitioned: all of them).
ALL_PHASE1_VERDICTS = dg.AssetDep(SHADOW_PHASE1, partition_mapping=dg.AllPartitionMapping())


def scoring_runs_of(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection
) -> list[ScoringRun]:
    """The scoring runs of the partition's benefit year (logged when there are none)."""
    year = int(context.partition_key)
    runs = scoring_runs(con, year)
    if not runs:
        context.log.info("BY%d: no issuer has active enrollment in the year; nothing to do", year)
    return runs


def _selection_counts(con: duckdb.DuckDBPyConnection, year: int) -> dg.TableMetadataValue:
    """Claims per category, kind and reason code for the year (no member data)."""
    counts = con.sql(
        """
        SELECT issuer_id, execution_zone, category, record_kind, included,
          coalesce(reason_code, '') AS reason_code, count(*) AS claims
        FROM shadow_ra_claim_selection WHERE benefit_year = ?
        GROUP BY ALL ORDER BY ALL
        """,
        params=[year],
    ).to_arrow_table()
    return arrow_table_metadata(counts, counts.column_names)


@dg.asset(
    key=RA_CLAIM_SELECTION,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[DIY_TABLES, REFERENCE_TABLES, ALL_PHASE1_VERDICTS],
    check_specs=[ra_included_claims_active],
    description=(
        "RA claim selection of the benefit year (spec section 6, reason codes R01-R14): every "
        "active medical and pharmacy claim and accepted supplemental record, included Y/N with "
        "its first exclusion reason in the nine RACSD categories; plus the scoring inputs "
        "(enrollee x plan, diagnoses after supplemental adds/deletes, NDC/HCPCS), and the "
        "shadow of ECD/ECS (orphan claims, enrollees without claims, per-plan summary)."
    ),
    metadata={
        "warehouse_tables": ", ".join(
            ["shadow_ra_claim_selection", *RA_INPUT_DDL, *ENROLLEE_CLAIMS_TABLES]
        )
    },
)
def ra_claim_selection(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Select claims for every run of the year, then check every included claim counts."""
    year = int(context.partition_key)
    offending = []
    with warehouse.get_connection() as con:
        runs = scoring_runs_of(context, con)
        for run in runs:
            result = select_claims(con, run.benefit_year, run.issuer_id, run.execution_zone)
            context.log.info("claim selection %s: %s", run.label, selection_summary(result))
            offending.append(included_but_not_active(con, run))
        counts = _selection_counts(con, year) if runs else None
        totals = first_row(
            con,
            "SELECT count(*), count(*) FILTER (WHERE included = 'Y') "
            "FROM shadow_ra_claim_selection WHERE benefit_year = ?",
            [year],
        )
        tables = table_metadata(
            con, ["shadow_ra_claim_selection", *RA_INPUT_DDL], ("benefit_year = ?", [year])
        )
    considered, included = totals if totals else (0, 0)
    yield dg.MaterializeResult(
        metadata={
            **tables,
            "runs": ", ".join(run.label for run in runs) or "none",
            "records_considered": considered,
            "records_included": included,
            **({"by_category_and_reason": counts} if counts is not None else {}),
        }
    )
    bad = [row for table in offending for row in table.to_pylist()]
    yield dg.AssetCheckResult(
        check_name=RA_INCLUDED_CLAIMS_ACTIVE,
        passed=not bad,
        metadata={
            "offending_records": len(bad),
            **({"offending": _rows_metadata(offending)} if bad else {}),
        },
    )


def selection_summary(result: SelectionResult) -> str:
    """One run's claim selection in a line: records considered and included per kind, the
    exclusions per reason code, the time taken (counts only)."""
    return (
        f"{result.total:,} records considered ({counts(result.considered)}), "
        f"{sum(result.included.values()):,} included ({counts(result.included)}); "
        f"excluded by reason: {counts(result.reasons)}; {result.seconds:.2f} s"
    )


def _rows_metadata(tables: list[pa.Table]) -> dg.MetadataValue:
    """The first rows of several same-shaped Arrow tables, as one markdown table."""
    table = pa.concat_tables(tables)
    return dg.MetadataValue.md(arrow_markdown(table, table.column_names))


@dg.asset(
    key=RISK_SCORES,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[RA_CLAIM_SELECTION, DIY_TABLES],
    check_specs=[scored_enrollees_enrolled],
    description=(
        "HHS-HCC risk scores of every enrollee x plan of the benefit year, as the CMS DIY "
        "software computes them (spec section 7): model, HCCs with the diagnoses and claims "
        "behind them, RXCs, groups, interactions, raw and CSR-adjusted score."
    ),
    metadata={"warehouse_tables": ", ".join(SCORE_TABLES)},
)
def risk_scores(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Score every run of the year; check every scored enrollee is enrolled."""
    year = int(context.partition_key)
    offending = []
    summaries = []
    with warehouse.get_connection() as con:
        for run in scoring_runs_of(context, con):
            summary = score_run(con, run)
            summaries.append(summary)
            context.log.info(
                "risk scores %s: %d enrollee x plan rows, mean raw %.3f",
                run.label,
                summary.enrollees,
                summary.mean_score_raw or 0.0,
            )
            offending.append(scored_without_enrollment(con, run))
        by_plan = con.sql(
            """
            SELECT issuer_id, execution_zone, plan_id, metal, count(*) AS enrollees,
              round(avg(score_raw), 3) AS mean_raw, round(avg(score_csr_adjusted), 3) AS mean_csr
            FROM shadow_risk_score WHERE benefit_year = ? GROUP BY ALL ORDER BY ALL
            """,
            params=[year],
        ).to_arrow_table()
        tables = table_metadata(con, SCORE_TABLES, ("benefit_year = ?", [year]))
    enrollees = sum(s.enrollees for s in summaries)
    yield dg.MaterializeResult(
        metadata={
            **tables,
            "enrollee_plan_rows": enrollees,
            "hcc_and_group_terms": sum(s.hccs for s in summaries),
            **{
                f"enrollees/{model}": sum(s.by_model.get(model, 0) for s in summaries)
                for model in ("adult", "child", "infant")
            },
            "by_plan": arrow_table_metadata(by_plan, by_plan.column_names),
        }
    )
    bad = sum(table.num_rows for table in offending)
    yield dg.AssetCheckResult(
        check_name=SCORED_ENROLLEES_ENROLLED,
        passed=bad == 0,
        metadata={
            "scored_without_enrollment": bad,
            **({"offending": _rows_metadata(offending)} if bad else {}),
        },
    )
