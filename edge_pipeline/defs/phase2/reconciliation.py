"""The Phase 2 reconciliations, per benefit year: what EDGE's RA reports say against what the
shadow computed.

``risk_score_reconciliation``: the RARSD EDGE sent against the shadow risk scores.

Refreshes each run's rows of ``risk_score_differences`` (one per enrollee x plan whose score or
HCCs differ, or who is on one side only) and evaluates ``reported_risk_scores_match_shadow``
with the differing rows as metadata: plan, scores and the HCCs only one side has, never a
member identifier (the warehouse table has them, for the analyst who follows up).

``transfer_reconciliation``: the RATEE EDGE sent against the shadow transfer elements, row by
row (plan x rating area x risk pool), into ``ratee_differences``.

``user_fee_reconciliation``: the RAUF against the shadow user fees (``rauf_differences``);
``hcrp_reconciliation``: the HCRPSR (per plan) and the HCRPDE (per enrollee) against the shadow
high-cost risk pool (``hcrpsr_differences``, ``hcrpde_differences``; member ids stay there, the
check metadata shows plans and amounts only).

``enrollee_claims_reconciliation``: the ECD's orphan claims (per inbound record) and enrollees
without claims (per enrollee x plan), and the ECS (per plan), against the shadow's, computed
by claim selection (``ecd_orphan_claim_differences``, ``ecd_enrollee_differences``,
``ecs_differences``; the check metadata shows plans, records and counts, never a member id).

:func:`reconcile_year` is the year-by-run loop, metadata and check both share.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import dagster as dg
import duckdb
import pyarrow as pa

from edge_pipeline.defs.arrow_metadata import differences_check_result
from edge_pipeline.defs.check_specs import partitioned_check_spec
from edge_pipeline.defs.metadata import table_metadata
from edge_pipeline.defs.phase2.reported import REPORTED_RA_REPORTS
from edge_pipeline.defs.phase2.scoring import RA_CLAIM_SELECTION, RISK_SCORES
from edge_pipeline.defs.phase2.transfer import TRANSFER_ESTIMATE
from edge_pipeline.defs.reference.partitions import benefit_years
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.ra_runs.runs import ScoringRun, scoring_runs
from edge_pipeline.edge.reconciliation import ReportsMissing, ShadowMissing
from edge_pipeline.edge.reconciliation.phase2 import (
    ECD_ENROLLEE_REPORT,
    ECD_ORPHAN_REPORT,
    ECS_REPORT,
    HCRPDE_REPORT,
    HCRPSR_REPORT,
    RATEE_DIFFERENCE_DISPLAY,
    RAUF_REPORT,
    RISK_DIFFERENCE_DISPLAY,
    RISK_DIFFERENCE_KINDS,
    RowReport,
    refresh_ecd_enrollee_differences,
    refresh_ecd_orphan_differences,
    refresh_ecs_differences,
    refresh_hcrpde_differences,
    refresh_hcrpsr_differences,
    refresh_ratee_differences,
    refresh_rauf_differences,
    refresh_risk_score_differences,
)

RISK_SCORE_RECONCILIATION = dg.AssetKey("risk_score_reconciliation")
TRANSFER_RECONCILIATION = dg.AssetKey("transfer_reconciliation")
USER_FEE_RECONCILIATION = dg.AssetKey("user_fee_reconciliation")
HCRP_RECONCILIATION = dg.AssetKey("hcrp_reconciliation")
ENROLLEE_CLAIMS_RECONCILIATION = dg.AssetKey("enrollee_claims_reconciliation")

SCORES_MATCH_REPORTED = "reported_risk_scores_match_shadow"
RATEE_MATCHES_SHADOW = "reported_ratee_matches_shadow"
scores_match_reported = partitioned_check_spec(
    SCORES_MATCH_REPORTED,
    RISK_SCORE_RECONCILIATION,
    "The RARSD EDGE sent agrees with the shadow scores: same enrollees x plans, same raw and "
    "CSR-adjusted scores, same HCCs and groups. Failing lists the differing rows (plan, "
    "scores, the HCCs only one side has) from risk_score_differences.",
    blocking=False,
    partitions_def=benefit_years,
)
ratee_matches_shadow = partitioned_check_spec(
    RATEE_MATCHES_SHADOW,
    TRANSFER_RECONCILIATION,
    "The RATEE EDGE sent agrees with the shadow transfer elements: same plans, rating areas and "
    "risk pools, same member months, PLRS, ARF, AV, IDF, GCF and premium PMPM. Failing lists "
    "the differing rows and the columns that differ.",
    blocking=False,
    partitions_def=benefit_years,
)


def matches_shadow_name(report: RowReport) -> str:
    """``reported_<report>_matches_shadow``, the name of a row-by-row reconciliation check."""
    return f"reported_{report.report.lower()}_matches_shadow"


def _matches_shadow(
    report: RowReport, asset: dg.AssetKey, what: str, name: str = ""
) -> dg.AssetCheckSpec:
    return partitioned_check_spec(
        name or matches_shadow_name(report),
        asset,
        f"The {report.report} EDGE sent agrees with the shadow's, row by row: {what}. Failing "
        f"lists the differing rows and the columns that differ (all rows in {report.table}).",
        blocking=False,
        partitions_def=benefit_years,
    )


rauf_matches_shadow = _matches_shadow(
    RAUF_REPORT,
    USER_FEE_RECONCILIATION,
    "same plans, rating areas and risk pools, same billable member months, fee PMPM and fee",
)
hcrpsr_matches_shadow = _matches_shadow(
    HCRPSR_REPORT,
    HCRP_RECONCILIATION,
    "same plans, enrollees over the threshold, paid claims, reimbursement, premium and charge",
)
hcrpde_matches_shadow = _matches_shadow(
    HCRPDE_REPORT,
    HCRP_RECONCILIATION,
    "same enrollees over the threshold, paid claims, amount over it and reimbursement",
)

#: The ECD's two lists are compared apart: one check each (ECS has the usual name).
ECD_ORPHANS_MATCH_SHADOW = "reported_ecd_orphan_claims_match_shadow"
ECD_ENROLLEES_MATCH_SHADOW = "reported_ecd_enrollees_without_claims_match_shadow"
ecd_orphans_matches_shadow = _matches_shadow(
    ECD_ORPHAN_REPORT,
    ENROLLEE_CLAIMS_RECONCILIATION,
    "same orphan claims (inbound record), claim, plan, service dates and reason",
    ECD_ORPHANS_MATCH_SHADOW,
)
ecd_enrollees_matches_shadow = _matches_shadow(
    ECD_ENROLLEE_REPORT,
    ENROLLEE_CLAIMS_RECONCILIATION,
    "same enrollees without claims and member months",
    ECD_ENROLLEES_MATCH_SHADOW,
)
ecs_matches_shadow = _matches_shadow(
    ECS_REPORT,
    ENROLLEE_CLAIMS_RECONCILIATION,
    "same plans, enrollees with and without claims, linked and orphan claims",
)


class RunComparison(Protocol):
    """One run's comparison of a report EDGE sent with the shadow's (``RiskScoreComparison``,
    ``RateeComparison``)."""

    @property
    def run(self) -> ScoringRun: ...

    @property
    def compared(self) -> int: ...

    @property
    def differences(self) -> pa.Table: ...


C = TypeVar("C", bound=RunComparison)


@dataclass(frozen=True)
class YearReconciliation(Generic[C]):
    """Every run of a benefit year compared into one differences ``table``: what a Phase 2
    reconciliation asset reports, so the RARSD and the RATEE reconciliations report alike."""

    table: str
    comparisons: list[C]
    skipped: list[str]  # why the other runs were not compared
    differences: pa.Table  # every run's differing rows
    tables: dict[str, Any]  # ``table_metadata`` of the year's rows of ``table``

    @property
    def compared(self) -> int:
        return sum(c.compared for c in self.comparisons)

    def metadata(self, compared_name: str, **extra: object) -> dict[str, Any]:
        """The asset's metadata: the table, the runs, ``compared_name`` (rows compared), the
        number of differences, the caller's ``extra``, and the runs not reconciled."""
        return {
            **self.tables,
            "runs": ", ".join(c.run.label for c in self.comparisons),
            compared_name: self.compared,
            "differences": self.differences.num_rows,
            **extra,
            **({"not_reconciled": "; ".join(self.skipped)} if self.skipped else {}),
        }

    def check_result(
        self, check_name: str, columns: Sequence[str], rows_name: str
    ) -> dg.AssetCheckResult:
        """The reconciliation check: passes when no run differs (see
        ``differences_check_result``)."""
        return differences_check_result(
            check_name, self.differences, columns, rows_name=rows_name, table=self.table
        )


def reconcile_year(
    year: int,
    warehouse: WarehouseResource,
    refresh: Callable[[duckdb.DuckDBPyConnection, ScoringRun], C],
    table: str,
) -> YearReconciliation[C]:
    """``refresh`` every run of the year (each replaces its rows of ``table``), and keep why
    the others were not compared (not scored, or no report loaded yet).  Fails the asset when
    no run could be compared: comparing nothing is not an agreement."""
    comparisons: list[C] = []
    skipped: list[str] = []
    with warehouse.get_connection() as con:
        for run in scoring_runs(con, year):
            try:
                comparisons.append(refresh(con, run))
            except (ShadowMissing, ReportsMissing) as exc:
                skipped.append(str(exc))
        if not comparisons:
            raise dg.Failure(
                description="nothing to reconcile: "
                + ("; ".join(skipped) or f"no runs in BY{year}"),
                allow_retries=False,
            )
        tables = table_metadata(con, [table], ("benefit_year = ?", [year]))
    differences = pa.concat_tables([c.differences for c in comparisons])
    return YearReconciliation(table, comparisons, skipped, differences, tables)


@dg.asset(
    key=RISK_SCORE_RECONCILIATION,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[REPORTED_RA_REPORTS, RISK_SCORES],
    check_specs=[scores_match_reported],
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
    reconciled = reconcile_year(
        year, warehouse, refresh_risk_score_differences, "risk_score_differences"
    )
    kinds: dict[str, int] = {}
    for comparison in reconciled.comparisons:
        for kind, n in comparison.by_kind().items():
            kinds[kind] = kinds.get(kind, 0) + n
    context.log.info(
        "BY%d: %d enrollee x plan rows compared, %d difference(s)",
        year,
        reconciled.compared,
        reconciled.differences.num_rows,
    )
    yield dg.MaterializeResult(
        metadata=reconciled.metadata(
            "enrollee_plan_rows_compared",
            **{f"differences/{kind}": n for kind, n in sorted(kinds.items())},
        )
    )
    yield reconciled.check_result(
        SCORES_MATCH_REPORTED, RISK_DIFFERENCE_DISPLAY, rows_name="differing_scores"
    )


@dg.asset(
    key=TRANSFER_RECONCILIATION,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[REPORTED_RA_REPORTS, TRANSFER_ESTIMATE],
    check_specs=[ratee_matches_shadow],
    description=(
        "EDGE's RATEE against the shadow transfer elements of the benefit year, row by row "
        "(plan x rating area x risk pool), into ratee_differences."
    ),
    metadata={"warehouse_tables": "ratee_differences"},
)
def transfer_reconciliation(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Compare every run of the year that has a RATEE loaded."""
    year = int(context.partition_key)
    reconciled = reconcile_year(year, warehouse, refresh_ratee_differences, "ratee_differences")
    yield dg.MaterializeResult(metadata=reconciled.metadata("ratee_rows_compared"))
    yield reconciled.check_result(
        RATEE_MATCHES_SHADOW, RATEE_DIFFERENCE_DISPLAY, rows_name="differing_transfer_elements"
    )


@dg.asset(
    key=USER_FEE_RECONCILIATION,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[REPORTED_RA_REPORTS, TRANSFER_ESTIMATE],
    check_specs=[rauf_matches_shadow],
    description=(
        "EDGE's RAUF against the shadow RA user fees of the benefit year, row by row (plan x "
        "rating area x risk pool), into rauf_differences."
    ),
    metadata={"warehouse_tables": RAUF_REPORT.table},
)
def user_fee_reconciliation(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Compare every run of the year that has a RAUF loaded."""
    year = int(context.partition_key)
    reconciled = reconcile_year(year, warehouse, refresh_rauf_differences, RAUF_REPORT.table)
    yield dg.MaterializeResult(metadata=reconciled.metadata("rauf_rows_compared"))
    yield reconciled.check_result(
        matches_shadow_name(RAUF_REPORT), RAUF_REPORT.display, rows_name="differing_user_fees"
    )


@dg.asset(
    key=HCRP_RECONCILIATION,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[REPORTED_RA_REPORTS, TRANSFER_ESTIMATE],
    check_specs=[hcrpsr_matches_shadow, hcrpde_matches_shadow],
    description=(
        "EDGE's high-cost risk pool reports against the shadow's of the benefit year: HCRPSR "
        "per plan into hcrpsr_differences, HCRPDE per enrollee into hcrpde_differences."
    ),
    metadata={"warehouse_tables": f"{HCRPSR_REPORT.table}, {HCRPDE_REPORT.table}"},
)
def hcrp_reconciliation(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Compare every run of the year that has an HCRPSR and an HCRPDE loaded."""
    year = int(context.partition_key)
    summary = reconcile_year(year, warehouse, refresh_hcrpsr_differences, HCRPSR_REPORT.table)
    detail = reconcile_year(year, warehouse, refresh_hcrpde_differences, HCRPDE_REPORT.table)
    yield dg.MaterializeResult(
        metadata={
            **summary.metadata("hcrpsr_rows_compared"),
            **detail.tables,
            "hcrpde_rows_compared": detail.compared,
            "differences": summary.differences.num_rows + detail.differences.num_rows,
            "differences/HCRPSR": summary.differences.num_rows,
            "differences/HCRPDE": detail.differences.num_rows,
        }
    )
    yield summary.check_result(
        matches_shadow_name(HCRPSR_REPORT), HCRPSR_REPORT.display, rows_name="differing_plans"
    )
    yield detail.check_result(
        matches_shadow_name(HCRPDE_REPORT), HCRPDE_REPORT.display, rows_name="differing_enrollees"
    )


@dg.asset(
    key=ENROLLEE_CLAIMS_RECONCILIATION,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    deps=[REPORTED_RA_REPORTS, RA_CLAIM_SELECTION],
    check_specs=[ecd_orphans_matches_shadow, ecd_enrollees_matches_shadow, ecs_matches_shadow],
    description=(
        "EDGE's enrollee claims reports against the shadow's of the benefit year: the ECD's "
        "orphan claims per inbound record into ecd_orphan_claim_differences, its enrollees "
        "without claims per enrollee into ecd_enrollee_differences, the ECS per plan into "
        "ecs_differences."
    ),
    metadata={
        "warehouse_tables": ", ".join(
            spec.table for spec in (ECD_ORPHAN_REPORT, ECD_ENROLLEE_REPORT, ECS_REPORT)
        )
    },
)
def enrollee_claims_reconciliation(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Compare every run of the year that has an ECD and an ECS loaded."""
    year = int(context.partition_key)
    orphans = reconcile_year(
        year, warehouse, refresh_ecd_orphan_differences, ECD_ORPHAN_REPORT.table
    )
    enrollees = reconcile_year(
        year, warehouse, refresh_ecd_enrollee_differences, ECD_ENROLLEE_REPORT.table
    )
    summary = reconcile_year(year, warehouse, refresh_ecs_differences, ECS_REPORT.table)
    parts = {"ECD orphan claims": orphans, "ECD enrollees": enrollees, "ECS": summary}
    yield dg.MaterializeResult(
        metadata={
            **summary.metadata("ecs_rows_compared"),
            **orphans.tables,
            **enrollees.tables,
            "orphan_claims_compared": orphans.compared,
            "enrollees_without_claims_compared": enrollees.compared,
            "differences": sum(p.differences.num_rows for p in parts.values()),
            **{f"differences/{name}": p.differences.num_rows for name, p in parts.items()},
        }
    )
    yield orphans.check_result(
        ECD_ORPHANS_MATCH_SHADOW, ECD_ORPHAN_REPORT.display, rows_name="differing_orphan_claims"
    )
    yield enrollees.check_result(
        ECD_ENROLLEES_MATCH_SHADOW, ECD_ENROLLEE_REPORT.display, rows_name="differing_enrollees"
    )
    yield summary.check_result(
        matches_shadow_name(ECS_REPORT), ECS_REPORT.display, rows_name="differing_plans"
    )
