"""What a Phase 1 summary report says about one inbound file, computed from the warehouse.

Summaries are small (one block per plan, one row per plan, month and form type), so their
content is computed in full by a few aggregate queries over ``shadow_*`` and the landing
tables, then written; the detail report is the one that has to stream.

The same flat rows (:meth:`SummaryContent.count_rows`, :meth:`SummaryContent.scope_rows`) are
what the reader recovers from a summary file into ``reported_summary_counts`` and
``reported_scope_summary``, so a round trip can be checked row for row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from edge_pipeline.edge.layouts.outbound.model import MemberMonths, SummaryLayout

#: Year and month of a record whose date cannot be read (assumed): counted, never dropped.
UNKNOWN_PERIOD = 0


@dataclass(frozen=True)
class Counts:
    """One ``ClaimCountMessageType`` block."""

    received: int
    accepted: int
    rejected: int
    #: Not computed by Phase 1 verification of a single file (assumed 0, see the layout).
    resolved: int = 0
    #: ``None`` means "the accepted count" (assumed: every accepted record is new to Phase 1).
    new_accepted: int | None = None

    @property
    def new_records_accepted(self) -> int:
        return self.accepted if self.new_accepted is None else self.new_accepted

    def columns(self) -> dict[str, int]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "resolved": self.resolved,
            "rejected": self.rejected,
            "new_accepted": self.new_records_accepted,
        }


@dataclass(frozen=True)
class RollupRow:
    """One year (``month`` None: member-month totals of the year) or one month of a rollup."""

    year: int
    month: int | None
    form_type: str | None = None
    counts: Counts | None = None
    accepted_months: int | None = None
    rejected_months: int | None = None


@dataclass
class Scope:
    """The issuer or one plan: identity, status, own counts, rollup rows (sorted)."""

    scope_level: str
    record_identifier: int | None
    key: str | None
    status: str | None
    counts: dict[str, Counts] = field(default_factory=dict)
    rollup: list[RollupRow] = field(default_factory=list)


@dataclass
class SummaryContent:
    """Everything one summary report states."""

    layout: SummaryLayout
    counts: dict[str, Counts]
    issuer: Scope | None
    plans: list[Scope]
    frequencies: list[tuple[str, int]]

    def scopes(self) -> list[Scope]:
        return ([self.issuer] if self.issuer else []) + self.plans

    def scope_rows(self) -> list[dict[str, Any]]:
        """Rows of ``reported_scope_summary`` (without file and report columns)."""
        return [
            {
                "scope_level": scope.scope_level,
                "scope_record_identifier": scope.record_identifier,
                "scope_key": scope.key,
                "status": scope.status,
            }
            for scope in self.scopes()
        ]

    def count_rows(self) -> list[dict[str, Any]]:
        """Rows of ``reported_summary_counts`` (without file and report columns)."""
        rows: list[dict[str, Any]] = []
        level = self.layout.source.level
        for scope in self.scopes():
            base = {"scope_level": scope.scope_level, "scope_key": scope.key}
            for counted, counts in scope.counts.items():
                rows.append(_count_row(base, None, None, None, counted, counts, None, None))
            for row in scope.rollup:
                rows.append(
                    _count_row(
                        base,
                        row.year,
                        row.month,
                        row.form_type,
                        level,
                        row.counts,
                        row.accepted_months,
                        row.rejected_months,
                    )
                )
        return rows


def _count_row(
    base: dict[str, Any],
    year: int | None,
    month: int | None,
    form_type: str | None,
    level: str,
    counts: Counts | None,
    accepted_months: int | None,
    rejected_months: int | None,
) -> dict[str, Any]:
    values = counts.columns() if counts else dict.fromkeys(Counts(0, 0, 0).columns())
    return {
        **base,
        "year": year,
        "month": month,
        "form_type": form_type,
        "level": level,
        **values,
        "accepted_months": accepted_months,
        "rejected_months": rejected_months,
    }


#: The shadow rows of one verified load attempt (a refused re-delivery shares its
#: fileIdentifier with the loaded file, so the load id tells the attempts apart).
ATTEMPT = "file_identifier = $fid AND load_id IS NOT DISTINCT FROM $lid"


def summary_content(
    con: duckdb.DuckDBPyConnection,
    layout: SummaryLayout,
    file_identifier: str,
    load_id: int | None = None,
) -> SummaryContent:
    """Compute the summary of one verified load attempt of ``file_identifier`` from
    ``shadow_*`` and the landing tables."""
    params = {"fid": file_identifier, "lid": load_id}
    counts = {
        level: Counts(received, accepted, rejected)
        for level, received, accepted, rejected in con.execute(
            "SELECT level, received, accepted, rejected FROM shadow_level_summary "
            f"WHERE {ATTEMPT} ORDER BY level",
            params,
        ).fetchall()
    }
    undeclared = sorted(level for level in counts if layout.counts_for(level) is None)
    if undeclared:
        raise ValueError(
            f"{layout.name} declares no counts block for level(s) {', '.join(undeclared)} "
            f"of file {file_identifier}: add them to the layout"
        )
    frequencies = [
        (code, int(n))
        for code, n in con.execute(
            f"SELECT error_code, count(*) FROM shadow_record_error WHERE {ATTEMPT} "
            "AND error_code IS NOT NULL GROUP BY error_code ORDER BY error_code",
            params,
        ).fetchall()
    ]
    issuers = _record_scopes(con, "issuer", params)
    if len(issuers) > 1:
        raise ValueError(f"file {file_identifier} has {len(issuers)} issuer records; EDGE has 1")
    issuer = issuers[0] if issuers else None
    if isinstance(layout.issuer.rollup.measure, MemberMonths):
        plans = _enrollment_plans(con, layout, params)
        by_key, overall = _member_months(con, layout, params)
        if issuer is not None:
            issuer.rollup = _with_year_totals(overall)
        for plan in plans:
            plan.rollup = _with_year_totals(by_key.get(plan.key, []))
    else:
        plans = _record_scopes(con, "plan", params)
        by_plan, overall = _record_rollups(con, layout, params)
        if issuer is not None:
            issuer.rollup = overall
        for plan in plans:
            plan.rollup = by_plan.get(plan.record_identifier, [])
    return SummaryContent(layout, counts, issuer, plans, frequencies)


def _record_scopes(
    con: duckdb.DuckDBPyConnection, level: str, attempt: dict[str, Any]
) -> list[Scope]:
    rows = con.execute(
        "SELECT record_identifier, record_key, status FROM shadow_record_status "
        f"WHERE {ATTEMPT} AND level = $level ORDER BY record_identifier",
        {**attempt, "level": level},
    ).fetchall()
    return [Scope(level, rid, key, status) for rid, key, status in rows]


def _record_rollups(
    con: duckdb.DuckDBPyConnection, layout: SummaryLayout, attempt: dict[str, Any]
) -> tuple[dict[int, list[RollupRow]], list[RollupRow]]:
    """Counts of the counted records per plan (by the record's parent) and overall, per year,
    month and (medical) form type."""
    source = layout.source
    form = f"COALESCE(i.{source.form_type_column}, '')" if source.form_type_column else "NULL"
    rows = con.execute(
        f"""
        WITH r AS (
            SELECT s.status, s.parent_record_identifier AS plan_rid, {form} AS form_type,
                   TRY_STRPTIME(i.{source.date_column}, '%Y-%m-%d') AS d
            FROM shadow_record_status s
            LEFT JOIN {source.table} i
              ON i.file_identifier = s.file_identifier AND i.record_identifier = s.record_identifier
            WHERE s.file_identifier = $fid AND s.load_id IS NOT DISTINCT FROM $lid
              AND s.level = $level
        )
        SELECT GROUPING(plan_rid) AS overall, plan_rid,
               COALESCE(year(d), {UNKNOWN_PERIOD}) AS y, COALESCE(month(d), {UNKNOWN_PERIOD}) AS m,
               form_type, count(*) AS received,
               count(*) FILTER (WHERE status = 'A') AS accepted,
               count(*) FILTER (WHERE status IS DISTINCT FROM 'A') AS rejected
        FROM r
        GROUP BY GROUPING SETS ((plan_rid, y, m, form_type), (y, m, form_type))
        ORDER BY overall, plan_rid, y, m, form_type
        """,
        {**attempt, "level": source.level},
    ).fetchall()
    by_plan: dict[int, list[RollupRow]] = {}
    overall: list[RollupRow] = []
    for is_overall, plan_rid, year, month, form_type, received, accepted, rejected in rows:
        row = RollupRow(year, month, form_type, Counts(received, accepted, rejected))
        if is_overall:
            overall.append(row)
        elif plan_rid is not None:
            by_plan.setdefault(plan_rid, []).append(row)
    return by_plan, overall


_PERIODS = """
    SELECT s.record_identifier, s.parent_record_identifier, s.status,
           i.{plan} AS plan_key,
           CAST(TRY_STRPTIME(i.{start}, '%Y-%m-%d') AS DATE) AS start_d,
           CAST(TRY_STRPTIME(i.{end}, '%Y-%m-%d') AS DATE) AS end_d
    FROM shadow_record_status s
    LEFT JOIN {table} i
      ON i.file_identifier = s.file_identifier AND i.record_identifier = s.record_identifier
    WHERE s.file_identifier = $fid AND s.load_id IS NOT DISTINCT FROM $lid AND s.level = $level
"""


def _periods_sql(layout: SummaryLayout) -> str:
    source = layout.source
    return _PERIODS.format(
        plan=source.plan_column,
        start=source.date_column,
        end=source.end_column,
        table=source.table,
    )


def _enrollment_plans(
    con: duckdb.DuckDBPyConnection, layout: SummaryLayout, attempt: dict[str, Any]
) -> list[Scope]:
    """ESES plans: the distinct plan ids of the periods, with enrollee and period counts."""
    enrollee_level = next(b.level for b in layout.plan.counts if b.level != layout.source.level)
    rows = con.execute(
        f"""
        WITH p AS ({_periods_sql(layout)}),
        e AS (
            SELECT DISTINCT p.plan_key, e.record_identifier, e.status
            FROM p JOIN shadow_record_status e
              ON e.file_identifier = $fid AND e.load_id IS NOT DISTINCT FROM $lid
             AND e.level = $enrollee
             AND e.record_identifier = p.parent_record_identifier
        ),
        period_counts AS (
            SELECT plan_key, count(*) AS received,
                   count(*) FILTER (WHERE status = 'A') AS accepted,
                   count(*) FILTER (WHERE status IS DISTINCT FROM 'A') AS rejected
            FROM p GROUP BY plan_key
        ),
        enrollee_counts AS (
            SELECT plan_key, count(*) AS received,
                   count(*) FILTER (WHERE status = 'A') AS accepted,
                   count(*) FILTER (WHERE status IS DISTINCT FROM 'A') AS rejected
            FROM e GROUP BY plan_key
        )
        SELECT pc.plan_key, pc.accepted > 0, pc.received, pc.accepted, pc.rejected,
               COALESCE(ec.received, 0), COALESCE(ec.accepted, 0), COALESCE(ec.rejected, 0)
        FROM period_counts pc
        LEFT JOIN enrollee_counts ec ON pc.plan_key IS NOT DISTINCT FROM ec.plan_key
        ORDER BY pc.plan_key NULLS FIRST
        """,
        {**attempt, "level": layout.source.level, "enrollee": enrollee_level},
    ).fetchall()
    plans = []
    for key, any_accepted, p_in, p_ok, p_no, e_in, e_ok, e_no in rows:
        counts = {
            enrollee_level: Counts(e_in, e_ok, e_no),
            layout.source.level: Counts(p_in, p_ok, p_no),
        }
        plans.append(Scope("plan", None, key, "A" if any_accepted else "R", counts))
    return plans


def _member_months(
    con: duckdb.DuckDBPyConnection, layout: SummaryLayout, attempt: dict[str, Any]
) -> tuple[dict[str | None, list[RollupRow]], list[RollupRow]]:
    """Accepted and rejected member months per month, per plan id (``None`` for periods without
    one) and overall."""
    rows = con.execute(
        f"""
        WITH p AS ({_periods_sql(layout)}),
        m AS (
            SELECT plan_key, status,
                   unnest(generate_series(date_trunc('month', start_d), date_trunc('month', end_d),
                                          INTERVAL 1 MONTH)) AS month_start
            FROM p WHERE start_d IS NOT NULL AND end_d IS NOT NULL AND start_d <= end_d
        )
        SELECT GROUPING(plan_key) AS overall, plan_key, year(month_start) AS y,
               month(month_start) AS mo,
               count(*) FILTER (WHERE status = 'A') AS accepted,
               count(*) FILTER (WHERE status IS DISTINCT FROM 'A') AS rejected
        FROM m
        GROUP BY GROUPING SETS ((plan_key, y, mo), (y, mo))
        ORDER BY overall, plan_key NULLS FIRST, y, mo
        """,
        {**attempt, "level": layout.source.level},
    ).fetchall()
    by_key: dict[str | None, list[RollupRow]] = {}
    overall: list[RollupRow] = []
    for is_overall, key, year, month, accepted, rejected in rows:
        row = RollupRow(year, month, accepted_months=accepted, rejected_months=rejected)
        (overall if is_overall else by_key.setdefault(key, [])).append(row)
    return by_key, overall


def _with_year_totals(months: list[RollupRow]) -> list[RollupRow]:
    """Member-month rows with a total row (``month`` None) ahead of each year's months."""
    rows: list[RollupRow] = []
    for year in sorted({row.year for row in months}):
        in_year = [row for row in months if row.year == year]
        rows.append(
            RollupRow(
                year,
                None,
                accepted_months=sum(row.accepted_months or 0 for row in in_year),
                rejected_months=sum(row.rejected_months or 0 for row in in_year),
            )
        )
        rows.extend(in_year)
    return rows
