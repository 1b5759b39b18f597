"""Phase 2 reconciliation: the risk scores EDGE reported (RARSD) against the shadow scores,
and the transfer elements it reported (RATEE) against the shadow's.

An analyst's first question about a RARSD is "whose score differs from ours, and why": so the
comparison is per enrollee x plan, and a differing row carries the HCCs (and groups) only one
side has, which usually names the claim or supplemental record to look at.  Rows:

* ``score``: both sides scored the enrollee, the raw or CSR-adjusted score differs;
* ``hccs``: the scores agree but the HCC / group sets differ (offsetting differences);
* ``not_reported``: we scored the enrollee, the RARSD does not have them;
* ``not_in_shadow``: the RARSD scores an enrollee x plan we did not.

The run's rows of ``risk_score_differences`` are replaced in one transaction; no rows after a
refresh means EDGE and the shadow agree.  The reports whose entries are shadow rows are
compared row by row on their key (:class:`RowReport`): RATEE and RAUF (plan x rating area x
risk pool) into ``ratee_differences`` and ``rauf_differences``, HCRPSR (plan) into
``hcrpsr_differences``, HCRPDE (enrollee x plan) into ``hcrpde_differences``, the ECD's orphan
claims (record kind x inbound file x record) into ``ecd_orphan_claim_differences`` and its
enrollees without claims (enrollee x plan) into ``ecd_enrollee_differences``, ECS (plan) into
``ecs_differences``, each row
``values`` (the columns that differ are listed), ``not_reported`` or ``not_in_shadow``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from edge_pipeline.base.warehouse.query import first_row, table_exists
from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.outbound.core.tables import ddl_columns
from edge_pipeline.edge.ra_runs.runs import RUN_FILTER, ScoringRun, run_filter
from edge_pipeline.edge.ra_runs.schema import (
    RUN_COLUMNS,
    SHADOW_PHASE2_DDL,
    delete_run,
    ensure_phase2_schema,
    reported_name,
)
from edge_pipeline.edge.reconciliation.reports import ReportsMissing, ShadowMissing

RISK_DIFFERENCE_KINDS: dict[str, str] = {
    "score": "raw or CSR-adjusted score differs",
    "hccs": "scores agree, HCC/group sets differ",
    "not_reported": "scored by the shadow, missing from the RARSD",
    "not_in_shadow": "in the RARSD, not scored by the shadow",
}

RISK_DIFFERENCES_DDL = (
    f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, difference VARCHAR, "
    "shadow_score_raw DECIMAL(12,3), reported_score_raw DECIMAL(12,3), "
    "shadow_score_csr_adjusted DECIMAL(12,3), reported_score_csr_adjusted DECIMAL(12,3), "
    "hccs_only_in_shadow VARCHAR, hccs_only_in_reported VARCHAR, reconciled_at TIMESTAMP"
)

#: Columns safe to show in logs and Dagster metadata (no member identifier).
RISK_DIFFERENCE_DISPLAY = (
    "plan_id",
    "difference",
    "shadow_score_raw",
    "reported_score_raw",
    "shadow_score_csr_adjusted",
    "reported_score_csr_adjusted",
    "hccs_only_in_shadow",
    "hccs_only_in_reported",
)


@dataclass(frozen=True)
class RiskScoreComparison:
    """Outcome of one run's comparison."""

    run: ScoringRun
    compared: int  # enrollee x plan rows on either side
    differences: pa.Table  # the run's rows of risk_score_differences

    @property
    def agrees(self) -> bool:
        return self.differences.num_rows == 0

    def by_kind(self) -> dict[str, int]:
        kinds = self.differences["difference"].to_pylist()
        return {kind: kinds.count(kind) for kind in RISK_DIFFERENCE_KINDS if kind in kinds}


def ensure_risk_reconciliation_schema(con: duckdb.DuckDBPyConnection) -> None:
    ensure_phase2_schema(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS risk_score_differences ({RISK_DIFFERENCES_DDL})")


def _hcc_sets(table: str) -> str:
    """Per enrollee x plan, the sorted HCC and group variables of ``table`` (one run)."""
    return f"""
SELECT member_id, plan_id, list(variable ORDER BY variable) AS hccs
FROM {table} WHERE {RUN_FILTER} AND kind IN ('hcc', 'group')
GROUP BY member_id, plan_id
"""


def _count(con: duckdb.DuckDBPyConnection, table: str, run: ScoringRun) -> int:
    row = first_row(con, f"SELECT count(*) FROM {table} WHERE {RUN_FILTER}", run.params)
    return int(row[0]) if row else 0


def refresh_risk_score_differences(
    con: duckdb.DuckDBPyConnection, run: ScoringRun
) -> RiskScoreComparison:
    """Compare the run's shadow scores with its reported RARSD; replace its difference rows.

    Raises ``ShadowMissing`` when the run was not scored and ``ReportsMissing`` when no RARSD
    of the run has been loaded: comparing with nothing would report every enrollee.
    """
    ensure_risk_reconciliation_schema(con)
    if not _count(con, "shadow_risk_score", run):
        raise ShadowMissing(f"{run.label}: no shadow risk scores (run risk scoring first)")
    if not _count(con, "reported_risk_score", run):
        raise ReportsMissing(f"{run.label}: no RARSD loaded from the outbox")
    params = run.params
    con.execute("BEGIN TRANSACTION")
    try:
        delete_run(con, ["risk_score_differences"], *params)
        con.execute(
            f"""
            INSERT INTO risk_score_differences BY NAME
            WITH s AS (SELECT * FROM shadow_risk_score WHERE {RUN_FILTER}),
            r AS (SELECT * FROM reported_risk_score WHERE {RUN_FILTER}),
            sh AS ({_hcc_sets("shadow_risk_score_term")}),
            rh AS ({_hcc_sets("reported_risk_score_term")}),
            joined AS (
              SELECT coalesce(s.member_id, r.member_id) AS member_id,
                coalesce(s.plan_id, r.plan_id) AS plan_id,
                s.member_id IS NOT NULL AS in_shadow, r.member_id IS NOT NULL AS in_reported,
                s.score_raw AS shadow_score_raw, r.score_raw AS reported_score_raw,
                s.score_csr_adjusted AS shadow_score_csr_adjusted,
                r.score_csr_adjusted AS reported_score_csr_adjusted
              FROM s FULL OUTER JOIN r ON r.member_id = s.member_id AND r.plan_id = s.plan_id
            ),
            compared AS (
              SELECT j.*,
                list_filter(coalesce(sh.hccs, []), lambda x: NOT list_contains(coalesce(rh.hccs, []), x))
                  AS only_shadow,
                list_filter(coalesce(rh.hccs, []), lambda x: NOT list_contains(coalesce(sh.hccs, []), x))
                  AS only_reported
              FROM joined j
              LEFT JOIN sh ON sh.member_id = j.member_id AND sh.plan_id = j.plan_id
              LEFT JOIN rh ON rh.member_id = j.member_id AND rh.plan_id = j.plan_id
            )
            SELECT ?::INTEGER AS benefit_year, ? AS issuer_id, ? AS execution_zone,
              member_id, plan_id,
              CASE WHEN NOT in_reported THEN 'not_reported'
                   WHEN NOT in_shadow THEN 'not_in_shadow'
                   WHEN shadow_score_raw IS DISTINCT FROM reported_score_raw
                     OR shadow_score_csr_adjusted IS DISTINCT FROM reported_score_csr_adjusted
                     THEN 'score'
                   ELSE 'hccs' END AS difference,
              shadow_score_raw, reported_score_raw,
              shadow_score_csr_adjusted, reported_score_csr_adjusted,
              nullif(array_to_string(only_shadow, ' '), '') AS hccs_only_in_shadow,
              nullif(array_to_string(only_reported, ' '), '') AS hccs_only_in_reported,
              ?::TIMESTAMP AS reconciled_at
            FROM compared
            WHERE NOT in_reported OR NOT in_shadow
              OR shadow_score_raw IS DISTINCT FROM reported_score_raw
              OR shadow_score_csr_adjusted IS DISTINCT FROM reported_score_csr_adjusted
              OR len(only_shadow) > 0 OR len(only_reported) > 0
            """,
            # the run filter of s, r, sh and rh, then the run columns and the time
            [*params * 5, dt.datetime.now().replace(microsecond=0)],
        )
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    compared = first_row(
        con,
        f"""
        SELECT count(*) FROM (
          SELECT member_id, plan_id FROM shadow_risk_score WHERE {RUN_FILTER}
          UNION SELECT member_id, plan_id FROM reported_risk_score WHERE {RUN_FILTER})
        """,
        [*params, *params],
    )
    differences = con.sql(
        f"SELECT * FROM risk_score_differences WHERE {run_filter()} "
        "ORDER BY plan_id, difference, member_id",
        params=params,
    ).to_arrow_table()
    return RiskScoreComparison(run, int(compared[0]) if compared else 0, differences)


# -- RATEE, RAUF, HCRPSR, HCRPDE: one row per key ---------------------------------------------


@dataclass(frozen=True)
class RowReport:
    """A report whose entries are shadow rows, compared row by row on ``key``: what differs in
    ``values`` is listed by column name; ``shown`` columns are carried from both sides
    (``shadow_<c>``, ``reported_<c>``) into the ``table`` of differences."""

    report: str
    shadow: str
    key: tuple[str, ...]
    values: tuple[str, ...]
    table: str
    shown: tuple[str, ...]
    #: The run's rows here mean the shadow computed the report (its own table may be empty:
    #: an HCRPDE with nobody over the threshold).
    computed_in: str = ""

    @property
    def reported(self) -> str:
        return reported_name(self.shadow)

    @property
    def ddl(self) -> str:
        types = ddl_columns(SHADOW_PHASE2_DDL[self.shadow])
        carried = ", ".join(
            f"{side}_{c} {types[c]}" for c in self.shown for side in ("shadow", "reported")
        )
        return (
            f"{RUN_COLUMNS}, {', '.join(f'{k} {types[k]}' for k in self.key)}, "
            f"difference VARCHAR, differing_columns VARCHAR, "
            f"{carried + ', ' if carried else ''}reconciled_at TIMESTAMP"
        )

    @property
    def display(self) -> tuple[str, ...]:
        """Columns safe for logs and Dagster metadata: the key without a member id, the
        difference and the carried values."""
        carried = tuple(f"{side}_{c}" for c in self.shown for side in ("shadow", "reported"))
        return (
            *(k for k in self.key if k != "member_id"),
            "difference",
            "differing_columns",
            *carried,
        )


RATEE_REPORT = RowReport(
    report="RATEE",
    shadow="shadow_ratee",
    key=("state", "risk_pool", "plan_id", "rating_area"),
    values=(
        "metal",
        "enrollees",
        "member_months",
        "billable_member_months",
        "plrs",
        "arf",
        "av",
        "idf",
        "gcf",
        "premium_pmpm",
    ),
    table="ratee_differences",
    shown=("billable_member_months", "plrs"),
)
RAUF_REPORT = RowReport(
    report="RAUF",
    shadow="shadow_rauf",
    key=RATEE_REPORT.key,
    values=("billable_member_months", "user_fee_pmpm", "user_fee"),
    table="rauf_differences",
    shown=("user_fee",),
)
HCRPSR_REPORT = RowReport(
    report="HCRPSR",
    shadow="shadow_hcrp_summary",
    key=("plan_id",),
    values=(
        "state",
        "risk_pool",
        "enrollees_over_threshold",
        "paid_claims",
        "amount_over_threshold",
        "threshold",
        "coinsurance_rate",
        "hcrp_payment",
        "premium",
        "charge_rate",
        "hcrp_charge",
        "net_amount",
    ),
    table="hcrpsr_differences",
    shown=("hcrp_payment", "hcrp_charge"),
)
HCRPDE_REPORT = RowReport(
    report="HCRPDE",
    shadow="shadow_hcrp_enrollee",
    key=("member_id", "plan_id"),
    values=("paid_claims", "amount_over_threshold", "hcrp_payment"),
    table="hcrpde_differences",
    shown=("hcrp_payment",),
    computed_in="shadow_hcrp_summary",
)

ECD_ORPHAN_REPORT = RowReport(
    report="ECD",
    shadow="shadow_ecd_orphan_claim",
    key=("record_kind", "file_identifier", "record_identifier"),
    values=(
        "claim_identifier",
        "member_id",
        "plan_id",
        "service_from_date",
        "service_to_date",
        "orphan_reason",
    ),
    table="ecd_orphan_claim_differences",
    shown=("orphan_reason",),
    computed_in="shadow_ecs",
)
ECD_ENROLLEE_REPORT = RowReport(
    report="ECD",
    shadow="shadow_ecd_enrollee_without_claim",
    key=("member_id", "plan_id"),
    values=("member_months",),
    table="ecd_enrollee_differences",
    shown=("member_months",),
    computed_in="shadow_ecs",
)
ECS_REPORT = RowReport(
    report="ECS",
    shadow="shadow_ecs",
    key=("plan_id",),
    values=(
        "enrollees",
        "enrollees_with_claims",
        "enrollees_without_claims",
        "claims_linked",
        "orphan_claims",
    ),
    table="ecs_differences",
    shown=("enrollees_without_claims", "orphan_claims"),
)

#: Kept for callers of the RATEE comparison.
RATEE_KEY = RATEE_REPORT.key
RATEE_VALUES = RATEE_REPORT.values
RATEE_DIFFERENCES_DDL = RATEE_REPORT.ddl
RATEE_DIFFERENCE_DISPLAY = RATEE_REPORT.display


@dataclass(frozen=True)
class RowComparison:
    """Outcome of one run's comparison of a :class:`RowReport`."""

    run: ScoringRun
    compared: int
    differences: pa.Table


RateeComparison = RowComparison


def _loaded(con: duckdb.DuckDBPyConnection, report: str, run: ScoringRun) -> bool:
    """Whether a report of this type is the run's current snapshot (loaded, maybe empty)."""
    if not table_exists(con, "reported_ra_report"):
        return False
    row = first_row(
        con,
        f"SELECT count(*) FROM reported_ra_report WHERE {RUN_FILTER} AND report_type = ?",
        [*run.params, report],
    )
    return bool(row and row[0])


def refresh_row_differences(
    con: duckdb.DuckDBPyConnection, run: ScoringRun, spec: RowReport
) -> RowComparison:
    """Compare the run's shadow rows of ``spec`` with the reported ones; replace its rows of
    ``spec.table`` (one per key that differs or is on one side only: ``values`` (the columns
    that differ are listed), ``not_reported``, ``not_in_shadow``).

    Raises ``ShadowMissing`` when the shadow has not computed the report for the run and
    ``ReportsMissing`` when no report of the type is loaded for it: comparing with nothing
    would list every row."""
    ensure_phase2_schema(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS {spec.table} ({spec.ddl})")
    if not _count(con, spec.computed_in or spec.shadow, run):
        raise ShadowMissing(f"{run.label}: no shadow {spec.report} rows (compute them first)")
    if not _loaded(con, spec.report, run):
        raise ReportsMissing(f"{run.label}: no {spec.report} loaded from the outbox")
    on = " AND ".join(f"r.{k} IS NOT DISTINCT FROM s.{k}" for k in spec.key)
    differing = ", ".join(
        f"CASE WHEN s.{c} IS DISTINCT FROM r.{c} THEN '{c}' END" for c in spec.values
    )
    carried = "".join(f"s.{c} AS shadow_{c}, r.{c} AS reported_{c}, " for c in spec.shown)
    carried_names = "".join(f"shadow_{c}, reported_{c}, " for c in spec.shown)
    params = run.params
    con.execute("BEGIN TRANSACTION")
    try:
        delete_run(con, [spec.table], *params)
        con.execute(
            f"""
            INSERT INTO {spec.table} BY NAME
            WITH s AS (SELECT *, TRUE AS here FROM {spec.shadow} WHERE {RUN_FILTER}),
            r AS (SELECT *, TRUE AS here FROM {spec.reported} WHERE {RUN_FILTER}),
            joined AS (
              SELECT {", ".join(f"coalesce(s.{k}, r.{k}) AS {k}" for k in spec.key)},
                s.here IS NOT NULL AS in_shadow, r.here IS NOT NULL AS in_reported,
                {carried}concat_ws(' ', {differing}) AS differing_columns
              FROM s FULL OUTER JOIN r ON {on}
            )
            SELECT ?::INTEGER AS benefit_year, ? AS issuer_id, ? AS execution_zone,
              {", ".join(spec.key)},
              CASE WHEN NOT in_reported THEN 'not_reported'
                   WHEN NOT in_shadow THEN 'not_in_shadow' ELSE 'values' END AS difference,
              CASE WHEN in_shadow AND in_reported THEN differing_columns END AS differing_columns,
              {carried_names}?::TIMESTAMP AS reconciled_at
            FROM joined
            WHERE NOT in_shadow OR NOT in_reported OR differing_columns <> ''
            """,
            [*params * 3, dt.datetime.now().replace(microsecond=0)],
        )
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    keys = ", ".join(spec.key)
    compared = first_row(
        con,
        f"""
        SELECT count(*) FROM (
          SELECT {keys} FROM {spec.shadow} WHERE {RUN_FILTER}
          UNION SELECT {keys} FROM {spec.reported} WHERE {RUN_FILTER})
        """,
        [*params, *params],
    )
    differences = con.sql(
        f"SELECT * FROM {spec.table} WHERE {RUN_FILTER} ORDER BY ALL", params=params
    ).to_arrow_table()
    return RowComparison(run, int(compared[0]) if compared else 0, differences)


def refresh_ratee_differences(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> RowComparison:
    """The RATEE rows (plan x rating area x risk pool) into ``ratee_differences``."""
    return refresh_row_differences(con, run, RATEE_REPORT)


def refresh_rauf_differences(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> RowComparison:
    """The RAUF rows (plan x rating area x risk pool) into ``rauf_differences``."""
    return refresh_row_differences(con, run, RAUF_REPORT)


def refresh_hcrpsr_differences(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> RowComparison:
    """The HCRPSR rows (plan) into ``hcrpsr_differences``."""
    return refresh_row_differences(con, run, HCRPSR_REPORT)


def refresh_hcrpde_differences(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> RowComparison:
    """The HCRPDE rows (enrollee x plan) into ``hcrpde_differences`` (member ids stay in the
    warehouse: ``HCRPDE_REPORT.display`` leaves them out)."""
    return refresh_row_differences(con, run, HCRPDE_REPORT)


def refresh_ecd_orphan_differences(
    con: duckdb.DuckDBPyConnection, run: ScoringRun
) -> RowComparison:
    """The ECD's orphan claims (record kind x inbound file x record) into
    ``ecd_orphan_claim_differences`` (claim and member ids stay out of ``display``)."""
    return refresh_row_differences(con, run, ECD_ORPHAN_REPORT)


def refresh_ecd_enrollee_differences(
    con: duckdb.DuckDBPyConnection, run: ScoringRun
) -> RowComparison:
    """The ECD's enrollees without claims (enrollee x plan) into ``ecd_enrollee_differences``."""
    return refresh_row_differences(con, run, ECD_ENROLLEE_REPORT)


def refresh_ecs_differences(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> RowComparison:
    """The ECS rows (plan) into ``ecs_differences``."""
    return refresh_row_differences(con, run, ECS_REPORT)
