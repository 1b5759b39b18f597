"""The SQL behind every chart and sheet of the analyst report, one function per table.

Each function takes a DuckDB connection and returns a pandas DataFrame. A table that does not
exist yet (a fresh warehouse, Phase 2 not run) yields an empty frame with the expected columns,
so the report of a young warehouse is simply shorter.

No member data leaves these queries: plans, files, codes, levels, months, counts and amounts
only.  The one per-member table (score differences) carries a masked member id
(:func:`mask_member_id`), never the id itself, and no offending element value is ever read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import duckdb
import pandas as pd

from edge_pipeline.edge.layouts.outbound import (
    OUTBOUND_LAYOUTS,
    RaReportLayout,
    current_report_type,
    recipient_rows,
)

#: Record levels in the order the layouts nest them.
LEVELS = ("issuer", "plan", "enrollee", "enrollment_period", "claim", "line", "supplemental")

#: Month of a load attempt: the file header's generation date-time, else the load time.
_MONTH = "strftime(coalesce(try_cast(sf.generation_datetime AS TIMESTAMP), sf.loaded_at), '%Y-%m')"


def mask_member_id(member_id: object) -> str | None:
    """A stable, non-reversible stand-in for a member id: ``M-`` + 8 hex of its sha256."""
    if member_id is None or (isinstance(member_id, float) and pd.isna(member_id)):
        return None
    return "M-" + hashlib.sha256(str(member_id).encode()).hexdigest()[:8]


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views of the connection's main schema."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {name for (name,) in rows}


def _frame(
    con: duckdb.DuckDBPyConnection,
    needs: Iterable[str],
    columns: list[str],
    sql: str,
    params: list[object] | None = None,
) -> pd.DataFrame:
    """Run ``sql`` when every table it ``needs`` exists, else an empty frame of ``columns``."""
    if not set(needs) <= existing_tables(con):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frame = con.execute(sql, params or []).df()
    return frame[columns]


def files(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per load attempt: file, type, month, load and shadow status, record counts."""
    columns = [
        "load_id",
        "file_identifier",
        "file_type",
        "file_name",
        "month",
        "load_status",
        "edge_status",
        "records_received",
        "records_accepted",
        "records_rejected",
        "rejection_rate",
        "errors",
        "size_bytes",
        "loaded_at",
    ]
    have = existing_tables(con)
    if "submission_file" not in have:
        return _frame(con, ["submission_file"], columns, "")
    verified = {"shadow_file_status", "shadow_level_summary"} <= have
    status = (
        """
        LEFT JOIN shadow_file_status fs ON fs.load_id = sf.load_id
        LEFT JOIN (
          SELECT load_id, sum(received) AS received, sum(accepted) AS accepted,
            sum(rejected) AS rejected
          FROM shadow_level_summary WHERE level <> 'file' GROUP BY load_id
        ) ls ON ls.load_id = sf.load_id
        """
        if verified
        else ""
    )
    pick = (
        "fs.status, ls.received, ls.accepted, ls.rejected, fs.error_count"
        if verified
        else "NULL, NULL, NULL, NULL, NULL"
    )
    s, rec, acc, rej, err = (p.strip() for p in pick.split(","))
    sql = f"""
        SELECT sf.load_id, sf.file_identifier, coalesce(sf.layout, 'unknown') AS file_type,
          sf.file_name, {_MONTH} AS month, sf.status AS load_status,
          CASE WHEN {s} = 'A' THEN 'accepted' WHEN {s} = 'R' THEN 'rejected'
               WHEN sf.status IN ('failed', 'refused') THEN 'rejected'
               ELSE 'not verified' END AS edge_status,
          coalesce({rec}, 0)::BIGINT AS records_received,
          coalesce({acc}, 0)::BIGINT AS records_accepted,
          coalesce({rej}, 0)::BIGINT AS records_rejected,
          CASE WHEN coalesce({rec}, 0) > 0 THEN round({rej} / {rec}, 4) END AS rejection_rate,
          coalesce({err}, 0)::BIGINT AS errors, sf.size_bytes, sf.loaded_at
        FROM submission_file sf {status}
        ORDER BY sf.load_id
    """
    return _frame(con, ["submission_file"], columns, sql)


def level_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Received / accepted / rejected per file and level (shadow Phase 1)."""
    columns = [
        "load_id",
        "file_identifier",
        "file_type",
        "level",
        "received",
        "accepted",
        "rejected",
    ]
    order = ", ".join(f"'{level}'" for level in ("file", *LEVELS))
    return _frame(
        con,
        ["shadow_level_summary", "submission_file"],
        columns,
        f"""
        SELECT ls.load_id, ls.file_identifier, coalesce(sf.layout, 'unknown') AS file_type,
          ls.level, ls.received, ls.accepted, ls.rejected
        FROM shadow_level_summary ls LEFT JOIN submission_file sf USING (load_id)
        ORDER BY ls.load_id, coalesce(list_position([{order}], ls.level), 99), ls.level
        """,
    )


def errors_by_code(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every error code the shadow raised: how often, in how many files, what it means."""
    columns = ["error_code", "check_kind", "level", "errors", "files", "file_types", "message"]
    have = existing_tables(con)
    message = (
        "(SELECT min(ec.message) FROM error_catalog ec WHERE ec.error_code = e.error_code)"
        if "error_catalog" in have
        else "NULL"
    )
    return _frame(
        con,
        ["shadow_record_error", "submission_file"],
        columns,
        f"""
        SELECT e.error_code, min(e.check_kind) AS check_kind, min(e.level) AS level,
          count(*) AS errors, count(DISTINCT e.load_id) AS files,
          string_agg(DISTINCT coalesce(sf.layout, 'unknown'), ', ' ORDER BY coalesce(sf.layout, 'unknown')) AS file_types,
          {message} AS message
        FROM shadow_record_error e LEFT JOIN submission_file sf USING (load_id)
        GROUP BY e.error_code ORDER BY errors DESC, e.error_code
        """,
    )


def errors_by_file(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Error count per file and code."""
    return _frame(
        con,
        ["shadow_record_error", "submission_file"],
        ["load_id", "file_identifier", "file_type", "month", "error_code", "errors"],
        f"""
        SELECT e.load_id, e.file_identifier, coalesce(sf.layout, 'unknown') AS file_type,
          {_MONTH} AS month, e.error_code, count(*) AS errors
        FROM shadow_record_error e LEFT JOIN submission_file sf USING (load_id)
        GROUP BY ALL ORDER BY e.load_id, errors DESC, e.error_code
        """,
    )


def cascade_losses(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Records rejected for an ancestor's (or their children's) error, not their own: per
    month, file type, level and rejection reason."""
    columns = ["month", "file_type", "level", "rejection_reason", "records"]
    return _frame(
        con,
        ["shadow_record_status", "submission_file"],
        columns,
        f"""
        SELECT {_MONTH} AS month, coalesce(sf.layout, 'unknown') AS file_type, rs.level,
          rs.rejection_reason, count(*) AS records
        FROM shadow_record_status rs JOIN submission_file sf USING (load_id)
        WHERE rs.status = 'R' AND rs.rejection_reason IS NOT NULL
          AND rs.rejection_reason <> 'own_error'
        GROUP BY ALL ORDER BY ALL
        """,
    )


def claim_selection(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """RA claim selection (RACSD) per benefit year, record kind, inclusion and reason code."""
    return _frame(
        con,
        ["shadow_ra_claim_selection"],
        [
            "benefit_year",
            "issuer_id",
            "record_kind",
            "included",
            "reason_code",
            "category",
            "records",
        ],
        """
        SELECT benefit_year, issuer_id, record_kind, included,
          coalesce(reason_code, 'included') AS reason_code, category, count(*) AS records
        FROM shadow_ra_claim_selection GROUP BY ALL
        ORDER BY benefit_year, issuer_id, included DESC, reason_code, record_kind
        """,
    )


def risk_scores(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per scored enrollee x plan with no member id: plan, metal, model, scores."""
    return _frame(
        con,
        ["shadow_risk_score"],
        [
            "benefit_year",
            "plan_id",
            "metal",
            "model",
            "billable_member_months",
            "score_raw",
            "score_csr_adjusted",
        ],
        """
        SELECT benefit_year, plan_id, coalesce(metal, 'unknown') AS metal, model,
          billable_member_months::DOUBLE AS billable_member_months,
          score_raw::DOUBLE AS score_raw, score_csr_adjusted::DOUBLE AS score_csr_adjusted
        FROM shadow_risk_score ORDER BY ALL
        """,
    )


def risk_scores_by_plan(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Risk-score distribution per plan (16-character id, CSR variant included) and metal."""
    return _frame(
        con,
        ["shadow_risk_score"],
        [
            "benefit_year",
            "plan_id",
            "metal",
            "enrollees",
            "billable_member_months",
            "mean_score_raw",
            "mean_score_csr_adjusted",
            "min_score",
            "median_score",
            "p90_score",
            "max_score",
        ],
        """
        SELECT benefit_year, plan_id, coalesce(metal, 'unknown') AS metal, count(*) AS enrollees,
          round(sum(billable_member_months), 2)::DOUBLE AS billable_member_months,
          round(avg(score_raw), 3)::DOUBLE AS mean_score_raw,
          round(avg(score_csr_adjusted), 3)::DOUBLE AS mean_score_csr_adjusted,
          min(score_csr_adjusted)::DOUBLE AS min_score,
          round(median(score_csr_adjusted), 3)::DOUBLE AS median_score,
          round(quantile_cont(score_csr_adjusted, 0.9), 3)::DOUBLE AS p90_score,
          max(score_csr_adjusted)::DOUBLE AS max_score
        FROM shadow_risk_score GROUP BY ALL ORDER BY ALL
        """,
    )


def top_hccs(con: duckdb.DuckDBPyConnection, limit: int = 25) -> pd.DataFrame:
    """The HCCs (after hierarchies) most often in the scores: enrollees and coefficient."""
    return _frame(
        con,
        ["shadow_risk_score_term"],
        ["benefit_year", "hcc", "enrollees", "mean_coefficient", "total_coefficient"],
        """
        SELECT benefit_year, variable AS hcc, count(*) AS enrollees,
          round(avg(coefficient), 3)::DOUBLE AS mean_coefficient,
          round(sum(coefficient), 3)::DOUBLE AS total_coefficient
        FROM shadow_risk_score_term WHERE kind = 'hcc'
        GROUP BY ALL ORDER BY enrollees DESC, total_coefficient DESC, hcc LIMIT ?
        """,
        [limit],
    )


def score_comparison(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Shadow against reported (RARSD) CSR-adjusted score per enrollee x plan, member id
    dropped: plan, metal and the two scores (NULL where one side lacks the enrollee)."""
    return _frame(
        con,
        ["shadow_risk_score", "reported_risk_score"],
        ["benefit_year", "plan_id", "metal", "shadow_score", "reported_score", "difference"],
        """
        WITH reported AS (
          SELECT DISTINCT ON (benefit_year, issuer_id, execution_zone, member_id, plan_id)
            benefit_year, issuer_id, execution_zone, member_id, plan_id, score_csr_adjusted
          FROM reported_risk_score
        )
        SELECT coalesce(s.benefit_year, r.benefit_year) AS benefit_year,
          coalesce(s.plan_id, r.plan_id) AS plan_id, coalesce(s.metal, 'unknown') AS metal,
          s.score_csr_adjusted::DOUBLE AS shadow_score,
          r.score_csr_adjusted::DOUBLE AS reported_score,
          (s.score_csr_adjusted - r.score_csr_adjusted)::DOUBLE AS difference
        FROM shadow_risk_score s FULL JOIN reported r
          USING (benefit_year, issuer_id, execution_zone, member_id, plan_id)
        ORDER BY ALL
        """,
    )


def score_differences(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``risk_score_differences`` (the reconciliation's disagreeing enrollees), member id
    masked with :func:`mask_member_id`."""
    columns = [
        "benefit_year",
        "issuer_id",
        "plan_id",
        "member",
        "difference",
        "shadow_score_raw",
        "reported_score_raw",
        "shadow_score_csr_adjusted",
        "reported_score_csr_adjusted",
        "hccs_only_in_shadow",
        "hccs_only_in_reported",
    ]
    have = existing_tables(con)
    if "risk_score_differences" not in have:
        return _frame(con, ["risk_score_differences"], columns, "")
    frame = con.execute(
        """
        SELECT benefit_year, issuer_id, plan_id, member_id, difference,
          shadow_score_raw::DOUBLE AS shadow_score_raw,
          reported_score_raw::DOUBLE AS reported_score_raw,
          shadow_score_csr_adjusted::DOUBLE AS shadow_score_csr_adjusted,
          reported_score_csr_adjusted::DOUBLE AS reported_score_csr_adjusted,
          hccs_only_in_shadow, hccs_only_in_reported
        FROM risk_score_differences ORDER BY ALL
        """
    ).df()
    frame["member"] = frame.pop("member_id").map(mask_member_id)
    return frame[columns]


def orphan_claims(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The ECD's orphan claims as the shadow computed them (``shadow_ecd_orphan_claim``):
    claims of the year no active enrollment period of their enrollee and plan covers, located
    by inbound file and record, member id masked with :func:`mask_member_id`."""
    columns = [
        "benefit_year",
        "issuer_id",
        "execution_zone",
        "record_kind",
        "file_identifier",
        "record_identifier",
        "plan_id",
        "member",
        "service_from_date",
        "service_to_date",
        "orphan_reason",
    ]
    if "shadow_ecd_orphan_claim" not in existing_tables(con):
        return _frame(con, ["shadow_ecd_orphan_claim"], columns, "")
    frame = con.execute(
        """
        SELECT benefit_year, issuer_id, execution_zone, record_kind, file_identifier,
          record_identifier, plan_id, member_id, service_from_date, service_to_date,
          orphan_reason
        FROM shadow_ecd_orphan_claim ORDER BY ALL
        """
    ).df()
    frame["member"] = frame.pop("member_id").map(mask_member_id)
    return frame[columns]


def transfer_estimates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The state transfer estimate per plan x rating area (issuer's and market's) of each risk
    pool: the rows the formula applies to (REGTAP FAQ 8487)."""
    return _frame(
        con,
        ["transfer_estimate"],
        [
            "benefit_year",
            "state",
            "risk_pool",
            "plan_id",
            "rating_area",
            "source",
            "metal",
            "billable_member_months",
            "plrs",
            "arf",
            "idf",
            "av",
            "gcf",
            "premium_pmpm",
            "share",
            "transfer_pmpm",
            "transfer_total",
            "hcrp_payment",
            "user_fee",
        ],
        """
        SELECT benefit_year, state, risk_pool, plan_id, rating_area, source, metal,
          billable_member_months::DOUBLE AS billable_member_months, plrs::DOUBLE AS plrs,
          arf::DOUBLE AS arf, idf::DOUBLE AS idf, av::DOUBLE AS av, gcf::DOUBLE AS gcf,
          premium_pmpm::DOUBLE AS premium_pmpm, round(share, 6)::DOUBLE AS share,
          round(transfer_pmpm, 2)::DOUBLE AS transfer_pmpm,
          transfer_total::DOUBLE AS transfer_total, hcrp_payment::DOUBLE AS hcrp_payment,
          user_fee::DOUBLE AS user_fee
        FROM transfer_estimate
        ORDER BY benefit_year, state, risk_pool, source, plan_id, rating_area
        """,
    )


def frequency_trend(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Frequency by data element (FDEEAF ... FDESAF, from the shadow) month over month: per
    file type, data element and value, its frequency over the month's files, its share of the
    element's counted records that month, and the change of that share since the element's
    previous month.  A share that moves is a systematic data pattern no record-level error
    shows.  NDC counts add up each file's top values only."""
    columns = [
        "month",
        "file_type",
        "element",
        "value",
        "frequency",
        "files",
        "share",
        "previous_share",
        "share_change",
    ]
    return _frame(
        con,
        ["shadow_data_element_frequency", "submission_file"],
        columns,
        f"""
        WITH monthly AS (
          SELECT {_MONTH} AS month, coalesce(sf.layout, 'unknown') AS file_type,
                 d.element, d.value, sum(d.frequency) AS frequency,
                 count(DISTINCT d.load_id) AS files
          FROM shadow_data_element_frequency d JOIN submission_file sf USING (load_id)
          GROUP BY ALL
        ),
        shared AS (
          SELECT *, frequency / sum(frequency) OVER (PARTITION BY month, file_type, element)
                    AS share_exact
          FROM monthly
        ),
        trended AS (
          SELECT *, lag(share_exact) OVER (
                      PARTITION BY file_type, element, value ORDER BY month) AS previous_exact
          FROM shared
        )
        SELECT month, file_type, element, coalesce(value, '(absent)') AS value, frequency, files,
               round(share_exact, 4) AS share, round(previous_exact, 4) AS previous_share,
               round(share_exact - previous_exact, 4) AS share_change
        FROM trended
        ORDER BY file_type, element, month, frequency DESC, value
        """,
    )


def reports_and_recipients(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per outbound report type: its phase, what it holds, who receives it (its
    layout's recipient class), whether it may carry member ids, and how many reports of the
    type EDGE sent that the warehouse holds (a former name counts under the name now)."""
    loaded: dict[str, int] = {}
    if "outbound_file" in existing_tables(con):
        rows = con.execute(
            "SELECT report_type, count(*) FROM outbound_file "
            "WHERE status IN ('loaded', 'replaced') AND report_type IS NOT NULL GROUP BY 1"
        ).fetchall()
        for report_type, count in rows:
            name = current_report_type(report_type)
            loaded[name] = loaded.get(name, 0) + int(count)
    rows = recipient_rows(OUTBOUND_LAYOUTS)
    return pd.DataFrame(
        [
            {
                **row,
                "phase": "Phase 2 (RA)" if isinstance(layout, RaReportLayout) else "Phase 1",
                "holds": layout.doc.split(":")[0],
                "reports_loaded": loaded.get(layout.name, 0),
            }
            for layout, row in zip(OUTBOUND_LAYOUTS, rows, strict=True)
        ],
        columns=["report", "phase", "holds", "recipients", "content", "reports_loaded"],
    )
