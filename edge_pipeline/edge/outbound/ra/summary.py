"""What RACSS and RARSS say, computed from the shadow tables of a scoring run.

The summaries' numbers are defined here once, as queries over ``shadow_*`` (and
``ra_enrollee`` for member months), so the writer renders exactly them and reconciliation can
recompute them to compare with ``reported_racss`` / ``reported_rarss``.  The definitions are
this project's (assumed; ``docs/phase2-outbound.md``):

* RACSS: per plan (NULL plan id: its own block), the number of RACSD entries per category,
  record kind, verdict and exclusion reason.
* RARSS, per plan x rating area of ``shadow_risk_score``: enrollees (distinct member ids),
  member months (``ra_enrollee`` of the same enrollee x plan) and billable member months,
  average raw and CSR-adjusted score (arithmetic mean over the enrollees with a score, exact
  decimal arithmetic, rounded half up to 3 places: :func:`mean`), and the distributions below,
  each counting distinct enrollees.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

from edge_pipeline.edge.layouts.outbound.racsd import CATEGORY_ELEMENTS
from edge_pipeline.edge.layouts.outbound.rarsd import HCC_KINDS, RXC_KINDS
from edge_pipeline.edge.ra_runs.runs import ScoringRun


def run_sql(alias: str = "") -> str:
    """Filter of one run's rows with named parameters (:func:`run_params`), so one query can
    filter several tables by it."""
    prefix = f"{alias}." if alias else ""
    return (
        f"{prefix}benefit_year = $by AND {prefix}issuer_id = $issuer "
        f"AND {prefix}execution_zone = $zone"
    )


#: :func:`run_sql` of an unaliased table.
RUN = run_sql()

#: Term kinds RARSS counts as interactions (the "interaction-group counts" of spec section 6).
INTERACTION_KINDS: tuple[str, ...] = ("rxc_interaction", "severity", "infant")

#: RARSS distribution -> the rows it counts (columns plan_id, rating_area, member_id, code).
DISTRIBUTIONS: dict[str, str] = {
    "hcc": "SELECT plan_id, rating_area, member_id, variable AS code FROM terms "
    "WHERE kind IN ({hcc})",
    "rxc": "SELECT plan_id, rating_area, member_id, variable AS code FROM terms "
    "WHERE kind IN ({rxc})",
    "csr_factor": "SELECT plan_id, rating_area, member_id, CAST(csr_factor AS VARCHAR) AS code "
    "FROM s",
    "dropped_hcc": "SELECT s.plan_id, s.rating_area, s.member_id, d.hcc AS code "
    "FROM shadow_risk_dropped_hcc d JOIN s USING (member_id, plan_id) WHERE {run_d}",
    "interaction": "SELECT plan_id, rating_area, member_id, variable AS code FROM terms "
    "WHERE kind IN ({interaction})",
}


def run_params(run: ScoringRun) -> dict[str, object]:
    return {"by": run.benefit_year, "issuer": run.issuer_id, "zone": run.execution_zone}


def sql_list(values: tuple[str, ...]) -> str:
    """``('a', 'b')`` as SQL literals (values are this module's constants, never input)."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def category_order(column: str = "category") -> str:
    """Sort key putting categories in report order (unknown ones last)."""
    whens = " ".join(f"WHEN '{name}' THEN {index}" for index, name in enumerate(CATEGORY_ELEMENTS))
    return f"(CASE {column} {whens} ELSE {len(CATEGORY_ELEMENTS)} END)"


def racss_sql() -> str:
    """One row per plan (NULL first): ``plan_id`` and ``counts``, a list of
    ``{category, record_kind, included, reason_code, claim_count}`` in report order."""
    return f"""
        WITH c AS (
            SELECT plan_id, category, record_kind, included, reason_code,
                   count(*) AS claim_count
            FROM shadow_ra_claim_selection WHERE {RUN}
            GROUP BY ALL
        )
        SELECT plan_id,
               list(struct_pack(category := category, record_kind := record_kind,
                                included := included, reason_code := reason_code,
                                claim_count := claim_count)
                    ORDER BY {category_order()}, category, record_kind NULLS FIRST,
                             included NULLS FIRST, reason_code NULLS FIRST) AS counts
        FROM c GROUP BY plan_id ORDER BY plan_id NULLS FIRST
    """


def rarss_sql() -> str:
    """One row per plan x rating area: the block's values (score sums and counts, averaged by
    :func:`mean`) and one list of ``{code, enrollee_count}`` per distribution."""
    distributions = " UNION ALL ".join(
        f"SELECT '{name}' AS distribution, * FROM ("
        + sql.format(
            hcc=sql_list(HCC_KINDS),
            rxc=sql_list(RXC_KINDS),
            interaction=sql_list(INTERACTION_KINDS),
            run_d=run_sql("d"),
        )
        + ")"
        for name, sql in DISTRIBUTIONS.items()
    )
    lists = ",\n".join(
        f"list(struct_pack(code := code, enrollee_count := enrollee_count) ORDER BY code "
        f"NULLS FIRST) FILTER (WHERE distribution = '{name}') AS {name}"
        for name in DISTRIBUTIONS
    )
    return f"""
        WITH s AS (SELECT * FROM shadow_risk_score WHERE {RUN}),
        terms AS (
            SELECT s.plan_id, s.rating_area, s.member_id, t.variable, t.kind
            FROM shadow_risk_score_term t JOIN s USING (member_id, plan_id) WHERE {run_sql("t")}
        ),
        counted AS (
            SELECT distribution, plan_id, rating_area, code,
                   count(DISTINCT member_id) AS enrollee_count
            FROM ({distributions}) GROUP BY ALL
        ),
        freq AS (SELECT plan_id, rating_area, {lists} FROM counted GROUP BY ALL),
        months AS (
            SELECT s.plan_id, s.rating_area, sum(e.member_months) AS member_months
            FROM s JOIN ra_enrollee e
              ON {run_sql("e")} AND e.member_id = s.member_id AND e.plan_id = s.plan_id
             AND e.rating_area IS NOT DISTINCT FROM s.rating_area
            GROUP BY ALL
        ),
        blocks AS (
            SELECT plan_id, rating_area, count(DISTINCT member_id) AS enrollee_count,
                   sum(billable_member_months) AS billable_member_months,
                   sum(score_raw) AS sum_raw, count(score_raw) AS n_raw,
                   sum(score_csr_adjusted) AS sum_csr, count(score_csr_adjusted) AS n_csr
            FROM s GROUP BY ALL
        )
        SELECT b.plan_id, b.rating_area, b.enrollee_count, m.member_months,
               b.billable_member_months, b.sum_raw, b.n_raw, b.sum_csr, b.n_csr,
               {", ".join(f"f.{name}" for name in DISTRIBUTIONS)}
        FROM blocks b
        LEFT JOIN months m ON m.plan_id IS NOT DISTINCT FROM b.plan_id
         AND m.rating_area IS NOT DISTINCT FROM b.rating_area
        LEFT JOIN freq f ON f.plan_id IS NOT DISTINCT FROM b.plan_id
         AND f.rating_area IS NOT DISTINCT FROM b.rating_area
        ORDER BY b.plan_id NULLS FIRST, b.rating_area NULLS FIRST
    """


_THOUSANDTH = Decimal("0.001")
#: Enough digits for any DECIMAL(38, s) sum divided by a count, so nothing rounds before the end.
_EXACT = Context(prec=80)


def mean(total: Decimal | None, count: int) -> Decimal | None:
    """``total / count`` rounded half up to 3 places, exactly (no float); ``None`` if empty."""
    if not count or total is None:
        return None
    return _EXACT.divide(Decimal(total), Decimal(count)).quantize(
        _THOUSANDTH, rounding=ROUND_HALF_UP, context=_EXACT
    )
