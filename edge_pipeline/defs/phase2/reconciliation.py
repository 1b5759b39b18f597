"""``risk_score_reconciliation``: the RARSD EDGE sent against the shadow risk scores.

Refreshes each run's rows of ``risk_score_differences`` (one per enrollee x plan whose score or
HCCs differ, or who is on one side only) and evaluates ``reported_risk_scores_match_shadow``
with the differing rows as metadata: plan, scores and the HCCs only one side has, never a
member identifier (the warehouse table has them, for the analyst who follows up).
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
from collections.abc import Callable, Iterator
from typing import TypeVar

import dagster as dg
import duckdb
import pyarrow as pa

from edge_pipeline.defs.metadata import asset_tags, owners, table_metadata
from edge_pipeline.defs.phase1.metadata import differences_check_result
from edge_pipeline.defs.phase2.checks import (
    REPORTED_RA_REPORTS,
    RISK_SCORE_RECONCILIATION,
    RISK_SCORES,
    SCORES_MATCH_REPORTED,
    scores_match_reported,
)
from edge_pipeline.defs.reference.partitions import benefit_years
from edge_pipeline.defs.resources import DUCKDB_WRITER_POOL, WarehouseResource
from edge_pipeline.edge.phase2.runs import ScoringRun, scoring_runs
from edge_pipeline.edge.reconciliation import ReportsMissing, ShadowMissing
from edge_pipeline.edge.reconciliation.phase2 import (
    RISK_DIFFERENCE_DISPLAY,
    RISK_DIFFERENCE_KINDS,
    refresh_risk_score_differences,
)

GROUP = "reconciliation"
OWNERS = owners(GROUP)
TAGS = asset_tags(GROUP, phase="phase2")
R = TypeVar("R")


def reconcile_runs(
    year: int,
    warehouse: WarehouseResource,
    refresh: Callable[[duckdb.DuckDBPyConnection, ScoringRun], R],
) -> tuple[list[R], list[str]]:
    """``refresh`` every run of the year; the results, and why the others were not compared
    (not scored, or no report loaded yet).  Fails the asset when no run could be compared:
    comparing nothing is not an agreement."""
    results: list[R] = []
    skipped: list[str] = []
    with warehouse.get_connection() as con:
        for run in scoring_runs(con, year):
            try:
                results.append(refresh(con, run))
            except (ShadowMissing, ReportsMissing) as exc:
                skipped.append(str(exc))
    if not results:
        raise dg.Failure(
            description="nothing to reconcile: " + ("; ".join(skipped) or f"no runs in BY{year}"),
            allow_retries=False,
        )
    return results, skipped


@dg.asset(
    key=RISK_SCORE_RECONCILIATION,
    partitions_def=benefit_years,
    group_name=GROUP,
    pool=DUCKDB_WRITER_POOL,
    kinds={"duckdb"},
    deps=[REPORTED_RA_REPORTS, RISK_SCORES],
    check_specs=[scores_match_reported],
    owners=OWNERS,
    tags=TAGS,
    description=(
        "Enrollee-by-enrollee comparison of EDGE's RARSD with the shadow risk scores of the "
        "benefit year, per issuer and zone, into risk_score_differences. Differences: "
        + "; ".join(f"{kind} = {text}" for kind, text in RISK_DIFFERENCE_KINDS.items())
        + "."
    ),
    metadata={"warehouse_tables": "risk_score_differences"},
)
def risk_score_reconciliation(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Compare every run of the year that has a RARSD loaded."""
    year = int(context.partition_key)
    results, skipped = reconcile_runs(year, warehouse, refresh_risk_score_differences)
    with warehouse.get_connection() as con:
        tables = table_metadata(con, ["risk_score_differences"], ("benefit_year = ?", [year]))
    differences = pa.concat_tables([r.differences for r in results])
    kinds: dict[str, int] = {}
    for result in results:
        for kind, n in result.by_kind().items():
            kinds[kind] = kinds.get(kind, 0) + n
    context.log.info(
        "BY%d: %d enrollee x plan rows compared, %d difference(s)",
        year,
        sum(r.compared for r in results),
        differences.num_rows,
    )
    yield dg.MaterializeResult(
        metadata={
            **tables,
            "runs": ", ".join(r.run.label for r in results),
            "enrollee_plan_rows_compared": sum(r.compared for r in results),
            "differences": differences.num_rows,
            **{f"differences/{kind}": n for kind, n in sorted(kinds.items())},
            **({"not_reconciled": "; ".join(skipped)} if skipped else {}),
        }
    )
    yield differences_check_result(
        SCORES_MATCH_REPORTED,
        differences,
        RISK_DIFFERENCE_DISPLAY,
        rows_name="differing_scores",
        table="risk_score_differences",
    )
