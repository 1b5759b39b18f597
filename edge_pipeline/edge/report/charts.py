"""The report's charts: one function per chart, PNG bytes, or None when there is nothing to draw.

matplotlib is imported lazily with the Agg backend (no display, thread-safe enough for a
Dagster step).  Charts show plans, codes, levels, months, counts and amounts only: never a
member, not even masked.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import duckdb

from edge_pipeline.edge.report import queries
from edge_pipeline.edge.report.summary import LOST_COLUMNS, monthly_summary

_TOP_CODES = 12
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_METAL_ORDER = ("catastrophic", "bronze", "silver", "gold", "platinum")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    try:
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _figure(width: float = 9.0, height: float = 4.5, ncols: int = 1) -> tuple[Any, Any]:
    return _pyplot().subplots(1, ncols, figsize=(width, height), squeeze=ncols == 1)


def _colour(index: int) -> str:
    """The palette's ``index``-th colour, cycling: series keep their colour across a chart."""
    return _PALETTE[index % len(_PALETTE)]


def _pivot(frame: Any, index: str, columns: str, values: str) -> Any:
    """``values`` summed per ``index`` row and ``columns`` column, 0 where a pair has none."""
    return frame.pivot_table(
        index=index, columns=columns, values=values, aggfunc="sum", fill_value=0
    )


def _stacked_bars(
    ax: Any,
    positions: Sequence[Any],
    layers: Iterable[tuple[Any, Sequence[Any]]],
    *,
    horizontal: bool = False,
    skip_empty: bool = False,
) -> list[Any]:
    """Draw ``layers`` (label, values) as bars stacked at ``positions``, each layer in the
    palette colour of its place in ``layers``; return the heights of the stacks.

    The stacked charts (error codes by file type, cascade losses, claim inclusion, monthly
    losses) stack the same way, so a layer's colour and legend entry mean the same in each.
    ``horizontal`` stacks left to right; ``skip_empty`` leaves out a layer of zeros (no legend
    entry) without shifting the others' colours.
    """
    stack: list[Any] = [0] * len(positions)
    draw = ax.barh if horizontal else ax.bar
    base = "left" if horizontal else "bottom"
    for i, (label, values) in enumerate(layers):
        if skip_empty and not any(values):
            continue
        draw(positions, values, **{base: stack}, label=label, color=_colour(i))
        stack = [a + b for a, b in zip(stack, values, strict=True)]
    return stack


def rejection_rate_by_file(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """Share of each file's records the shadow rejected, by file (coloured by type)."""
    files = queries.files(con)
    files = files[files["records_received"] > 0]
    if files.empty:
        return None
    fig, ax = _figure(max(6.0, 0.6 * len(files) + 3), 4.5)
    types = sorted(files["file_type"].unique())
    colours = {t: _colour(i) for i, t in enumerate(types)}
    labels = [
        f"{fid}\n({t})" for fid, t in zip(files["file_identifier"], files["file_type"], strict=True)
    ]
    rates = (files["records_rejected"] / files["records_received"] * 100).tolist()
    ax.bar(range(len(files)), rates, color=[colours[t] for t in files["file_type"]])
    ax.set_xticks(range(len(files)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("records rejected (%)")
    ax.set_xlabel("file (type)")
    ax.set_ylim(0, 105)
    ax.set_title("Record rejection rate per file (shadow Phase 1)")
    for t in types:
        ax.bar([], [], color=colours[t], label=t)
    ax.legend(title="file type", fontsize=8)
    return _png(fig)


def top_error_codes(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """The most frequent error codes, stacked by file type."""
    errors = queries.errors_by_file(con)
    if errors.empty:
        return None
    pivot = _pivot(errors, "error_code", "file_type", "errors")
    pivot = pivot.loc[pivot.sum(axis=1).sort_values(ascending=False).index[:_TOP_CODES]]
    pivot = pivot.iloc[::-1]
    fig, ax = _figure(8, max(3.0, 0.35 * len(pivot) + 1.5))
    _stacked_bars(ax, pivot.index, pivot.items(), horizontal=True)
    ax.set_xlabel("errors")
    ax.set_ylabel("error code")
    ax.set_title(f"Top {len(pivot)} error codes (shadow Phase 1)")
    ax.legend(title="file type", fontsize=8)
    return _png(fig)


def rejection_trend(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """Per month and file type: record rejection rate, and errors raised."""
    summary = monthly_summary(con)
    summary = summary[summary["records_received"] > 0]
    if summary.empty:
        return None
    fig, axes = _pyplot().subplots(1, 2, figsize=(11, 4.5))
    rate_ax, err_ax = axes
    months = sorted(summary["month"].unique())
    for i, (file_type, group) in enumerate(summary.groupby("file_type")):
        colour = _colour(i)
        group = group.set_index("month").reindex(months)
        rate = group["records_rejected"] / group["records_received"] * 100
        rate_ax.plot(months, rate, marker="o", label=file_type, color=colour)
        err_ax.plot(months, group["errors"], marker="o", label=file_type, color=colour)
    rate_ax.set_title("Record rejection rate by month")
    rate_ax.set_ylabel("records rejected (%)")
    err_ax.set_title("Errors raised by month")
    err_ax.set_ylabel("errors")
    for ax in axes:
        ax.set_xlabel("month (file date)")
        ax.legend(title="file type", fontsize=8)
        ax.tick_params(axis="x", rotation=45)
    return _png(fig)


#: Values drawn per data element in the frequency trend (the most frequent overall).
_TREND_VALUES = 5


def frequency_trend(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """Frequency by data element month over month: one panel per file type and data element,
    the share of each of its most frequent values per month."""
    trend = queries.frequency_trend(con)
    if trend.empty:
        return None
    panels = list(trend.groupby(["file_type", "element"], sort=True))
    columns = min(4, len(panels))
    rows = -(-len(panels) // columns)
    fig, axes = _pyplot().subplots(
        rows, columns, figsize=(3.2 * columns, 2.8 * rows), squeeze=False
    )
    months = sorted(trend["month"].unique())
    for ax, ((file_type, element), group) in zip(axes.flat, panels, strict=False):
        top = group.groupby("value")["frequency"].sum().nlargest(_TREND_VALUES).index
        for i, value in enumerate(top):
            series = group[group["value"] == value].set_index("month").reindex(months)
            ax.plot(months, series["share"] * 100, marker="o", label=value, color=_colour(i))
        ax.set_title(f"{file_type} {element}", fontsize=9)
        ax.set_ylabel("share (%)", fontsize=8)
        ax.set_ylim(0, 100)
        ax.tick_params(axis="x", rotation=45, labelsize=7)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    return _png(fig)


def cascade_losses(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """Records rejected for another record's error, per level and rejection reason."""
    lost = queries.cascade_losses(con)
    if lost.empty:
        return None
    pivot = _pivot(lost, "level", "rejection_reason", "records")
    order = [level for level in queries.LEVELS if level in pivot.index]
    pivot = pivot.loc[order + [lvl for lvl in pivot.index if lvl not in order]]
    fig, ax = _figure(9, 4.5)
    _stacked_bars(ax, pivot.index, pivot.items())
    ax.set_xlabel("record level")
    ax.set_ylabel("records rejected without an error of their own")
    ax.set_title("Records lost to the cascade, by level and reason")
    ax.legend(title="rejection reason", fontsize=8)
    ax.tick_params(axis="x", rotation=20)
    return _png(fig)


def monthly_quality(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """The monthly data-quality summary: file acceptance per type, cascade losses per level."""
    summary = monthly_summary(con)
    if summary.empty:
        return None
    fig, axes = _pyplot().subplots(1, 2, figsize=(12, 4.5))
    accept_ax, lost_ax = axes
    months = sorted(summary["month"].unique())
    types = sorted(summary["file_type"].unique())
    width = 0.8 / max(1, len(types))
    for i, file_type in enumerate(types):
        group = summary[summary["file_type"] == file_type].set_index("month").reindex(months)
        rate = (group["files_accepted"] / group["files_received"] * 100).fillna(0)
        accept_ax.bar(
            [m + (i - (len(types) - 1) / 2) * width for m in range(len(months))],
            rate,
            width=width,
            label=file_type,
            color=_colour(i),
        )
    accept_ax.set_xticks(range(len(months)), months, rotation=45)
    accept_ax.set_ylim(0, 105)
    accept_ax.set_ylabel("files accepted (%)")
    accept_ax.set_xlabel("month (file date)")
    accept_ax.set_title("File acceptance by month and type")
    accept_ax.legend(title="file type", fontsize=8)
    per_month = summary.groupby("month")[LOST_COLUMNS].sum().reindex(months)
    lost = [(column.removeprefix("lost_"), per_month[column].tolist()) for column in LOST_COLUMNS]
    bottom = _stacked_bars(lost_ax, range(len(months)), lost, skip_empty=True)
    lost_ax.set_xticks(range(len(months)), months, rotation=45)
    lost_ax.set_ylabel("records")
    lost_ax.set_xlabel("month (file date)")
    lost_ax.set_title("Records lost to the cascade by level")
    if any(bottom):
        lost_ax.legend(title="level", fontsize=8)
    return _png(fig)


def claim_inclusion(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """RA claim selection: records included, and excluded per reason code, by record kind."""
    selection = queries.claim_selection(con)
    if selection.empty:
        return None
    pivot = _pivot(selection, "reason_code", "record_kind", "records")
    order = ["included", *sorted(r for r in pivot.index if r != "included")]
    pivot = pivot.loc[[r for r in order if r in pivot.index]]
    fig, ax = _figure(9, 4.5)
    _stacked_bars(ax, pivot.index, pivot.items())
    ax.set_xlabel("RA inclusion (reason code of the first failing rule)")
    ax.set_ylabel("claims / supplemental records")
    ax.set_title("RA claim selection (RACSD) by reason code")
    ax.legend(title="record kind", fontsize=8)
    return _png(fig)


def risk_score_distribution(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """CSR-adjusted risk scores: box plots per metal and per plan."""
    scores = queries.risk_scores(con)
    if scores.empty:
        return None
    fig, axes = _pyplot().subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1, 2]})
    metal_ax, plan_ax = axes
    metals = sorted(
        scores["metal"].unique(),
        key=lambda m: (_METAL_ORDER.index(m) if m in _METAL_ORDER else 99, m),
    )
    metal_ax.boxplot(
        [scores.loc[scores["metal"] == m, "score_csr_adjusted"] for m in metals], showfliers=True
    )
    metal_ax.set_xticks(range(1, len(metals) + 1), metals)
    metal_ax.set_xlabel("metal level")
    metal_ax.set_title("by metal")
    plans = sorted(scores["plan_id"].unique())
    plan_ax.boxplot(
        [scores.loc[scores["plan_id"] == p, "score_csr_adjusted"] for p in plans], showfliers=True
    )
    plan_ax.set_xticks(range(1, len(plans) + 1), plans, rotation=45, ha="right", fontsize=8)
    plan_ax.set_xlabel("plan (with CSR variant)")
    plan_ax.set_title("by plan")
    for ax in axes:
        ax.set_ylabel("CSR-adjusted risk score")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(bottom=0)
    fig.suptitle("Risk-score distribution (shadow RARSD)")
    return _png(fig)


def top_hccs(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """The HCCs most often in the scores."""
    hccs = queries.top_hccs(con, limit=20)
    if hccs.empty:
        return None
    hccs = hccs.groupby("hcc", as_index=False)["enrollees"].sum()
    hccs = hccs.sort_values(["enrollees", "hcc"], ascending=[True, False]).tail(20)
    fig, ax = _figure(8, max(3.0, 0.3 * len(hccs) + 1.5))
    ax.barh(hccs["hcc"], hccs["enrollees"], color=_PALETTE[0])
    ax.set_xlabel("enrollees with the HCC (after hierarchies)")
    ax.set_ylabel("HCC")
    ax.set_title(f"Top {len(hccs)} HCCs")
    return _png(fig)


def score_differences(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """Shadow minus reported CSR-adjusted score (RARSD), histogram; enrollees on one side only
    are counted in the title."""
    comparison = queries.score_comparison(con)
    if comparison.empty:
        return None
    both = comparison.dropna(subset=["shadow_score", "reported_score"])
    only_shadow = int(comparison["reported_score"].isna().sum())
    only_reported = int(comparison["shadow_score"].isna().sum())
    differing = int((both["difference"].abs() > 0.0005).sum())
    fig, ax = _figure(9, 4.5)
    if both.empty:
        ax.text(0.5, 0.5, "no enrollee scored on both sides", ha="center", va="center")
    else:
        ax.hist(both["difference"], bins=min(40, max(5, len(both) // 5)), color=_PALETTE[0])
    ax.set_xlabel("shadow - reported CSR-adjusted score")
    ax.set_ylabel("enrollees")
    ax.set_title(
        f"Shadow vs reported risk scores: {differing} of {len(both)} differ; "
        f"{only_shadow} only in shadow, {only_reported} only reported",
        fontsize=10,
    )
    return _png(fig)


def transfer_per_plan(con: duckdb.DuckDBPyConnection) -> bytes | None:
    """The issuer's estimated transfer per plan (positive = receives), per pool: the sum of
    the plan's rating-area rows."""
    estimate = queries.transfer_estimates(con)
    estimate = estimate[estimate["source"] == "issuer"]
    if estimate.empty:
        return None
    keys = ["benefit_year", "state", "risk_pool", "plan_id", "metal"]
    estimate = estimate.groupby(keys, as_index=False, sort=True)["transfer_total"].sum()
    labels = [
        f"{plan}\n{metal} · {pool}"
        + (f" · BY{year}" if estimate["benefit_year"].nunique() > 1 else "")
        for plan, metal, pool, year in zip(
            estimate["plan_id"],
            estimate["metal"],
            estimate["risk_pool"],
            estimate["benefit_year"],
            strict=True,
        )
    ]
    values = estimate["transfer_total"].fillna(0).tolist()
    fig, ax = _figure(max(6.0, 0.9 * len(values) + 3), 4.8)
    ax.bar(range(len(values)), values, color=["#2ca02c" if v >= 0 else "#d62728" for v in values])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(values)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("transfer total ($; + receives, - pays)")
    ax.set_xlabel("plan (metal · risk pool)")
    ax.set_title("Estimated RA transfer per plan")
    ax.yaxis.set_major_formatter(_pyplot().FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return _png(fig)


#: Every chart: name -> (title, function).  Order = the HTML report's order.
CHARTS: dict[str, tuple[str, Callable[[duckdb.DuckDBPyConnection], bytes | None]]] = {
    "monthly_quality": ("Monthly data quality", monthly_quality),
    "rejection_rate_by_file": ("Rejection rate per file", rejection_rate_by_file),
    "rejection_trend": ("Rejections and errors over time", rejection_trend),
    "top_error_codes": ("Top error codes", top_error_codes),
    "cascade_losses": ("Records lost to the cascade", cascade_losses),
    "frequency_trend": ("Frequency by data element over time", frequency_trend),
    "claim_inclusion": ("RA claim inclusion by reason code", claim_inclusion),
    "risk_score_distribution": (
        "Risk-score distribution by plan and metal",
        risk_score_distribution,
    ),
    "top_hccs": ("Top HCCs", top_hccs),
    "score_differences": ("Shadow vs reported risk scores", score_differences),
    "transfer_per_plan": ("Transfer estimate per plan", transfer_per_plan),
}

PHASE1_CHARTS = (
    "monthly_quality",
    "rejection_rate_by_file",
    "rejection_trend",
    "top_error_codes",
    "cascade_losses",
    "frequency_trend",
)
PHASE2_CHARTS = (
    "claim_inclusion",
    "risk_score_distribution",
    "top_hccs",
    "score_differences",
    "transfer_per_plan",
)


def render_charts(
    con: duckdb.DuckDBPyConnection, names: tuple[str, ...] | None = None
) -> dict[str, bytes]:
    """PNG of every chart (or those ``names``) that has data, in :data:`CHARTS` order."""
    out: dict[str, bytes] = {}
    for name, (_title, function) in CHARTS.items():
        if names is not None and name not in names:
            continue
        png = function(con)
        if png is not None:
            out[name] = png
    return out


def chart_title(name: str) -> str:
    return CHARTS[name][0]


__all__ = ["CHARTS", "PHASE1_CHARTS", "PHASE2_CHARTS", "chart_title", "render_charts"]
