"""Check 2: the transfer reconciles -- RATEE against RARSD, the estimate against the formula.

Four frames per scoring run (suite ``transfer_reconciliation``), plans, pools and amounts only.
RARSD and RARSS are regrouped the way RATEE groups enrollees: the plan is the first 14
characters of the 16-character plan id, the rating area the enrollee's, state and risk pool the
plan's (as ``shadow_ratee`` derives them: ``ref_plan`` state, else characters 6-7 of the plan
id; ``catastrophic`` for catastrophic plans, else the registry's market, ``individual`` when it
has none).  The PLRS recomputed from RARSD is Σ(CSR-adjusted score x billable months) / Σ
billable months in exact decimals, over the enrollees with a CSR-adjusted score: one without is
never scored with its raw score (a silent CSR factor of 1.0), it is counted in
``rarsd_missing_csr_adjusted`` instead.

Movers: RARSD carries one rating area per enrollee (its latest period's), while RATEE puts a
mover's months in the rating area of each period (issue 13 item 5).  So months are compared per
plan, summed over its rating areas, and per rating area only where that is meaningful:

``plans`` -- one row per (state, risk pool, 14-character plan) of either side:

* ``in_ratee`` and ``in_rarsd`` are true; ``rarsd_missing_csr_adjusted`` is 0;
* ``billable_member_months_excess`` and ``member_months_excess`` are 0: RATEE billable months
  (member months) of the plan equal Σ RARSD billable months (Σ RARSS member months, when a
  RARSS is loaded) *within the rounding* ``months_tolerance`` = 0.00005 x (the plan's RARSD
  enrollees + its RATEE rows): RARSD/RARSS round each enrollee's months to 4 places, RATEE
  rounds each row's sum once (issue 13 item 2), so an exact match is not to be expected;
* for a plan with a mover (``movers``: an enrollee of the plan whose periods in
  ``ra_enrollee_month`` have more than one rating area), ``plrs_difference`` = |Σ(RATEE PLRS x
  billable months) / Σ billable months over its rows - the PLRS recomputed from RARSD over the
  plan| ≤ 0.0006 (NULL for the other plans: their PLRS is compared per rating area).

``ratee`` -- one row per RATEE key (state, risk pool, plan, rating area) of either side, for
plans *without* a mover (a mover's months are in two areas on RATEE, one on RARSD):

* ``in_ratee`` and ``in_rarsd`` are true (each side has every key of the other);
* ``plrs_difference`` = |RATEE PLRS - recomputed PLRS| ≤ 0.0006: 0.0005 as RATEE rounds to 3
  places, 0.0001 as RARSD weights the scores by per-enrollee rounded months, RATEE by unrounded
  ones.

``transfers`` -- one row per plan x rating area of ``transfer_estimate``: the transfer
recomputed with the spec section 8 formula (:func:`edge_pipeline.edge.transfer.formula.
pool_transfers`) on the reported RATEE's plan x rating area rows (REGTAP FAQ 8487) and the
estimate's own ``market`` rows, against ``transfer_total``: both present and
``transfer_difference`` ≤ $1.  The RATEE shows PLRS and ARF to 3 places and premium PMPM to
the cent while the estimate uses them unrounded (0.0005 of PLRS is ~$1,500 on an 8,000-BMM
row), so where a reported value is the estimate's exact one as RATEE rounds it (within half a
unit of its last place) the exact value is used; any other reported value is used as sent and
its difference shows.

:func:`missing_csr_adjusted` lists, per plan x rating area, the scored enrollees without a
CSR-adjusted score (shadow or reported): the check ``csr_adjusted_scores`` of the
``transfer_elements`` asset and a line of ``edge-pipeline score``.

``pools`` -- one row per state x risk pool of ``transfer_estimate``: ``pool_total`` (Σ
transfer_total) within $1 of zero.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from edge_pipeline.base.warehouse.query import table_exists
from edge_pipeline.edge.quality.gx_suite import Expect, Frame, QualityCheck, plain, run_suite
from edge_pipeline.edge.ra_runs.runs import RUN_FILTER, ScoringRun, run_filter
from edge_pipeline.edge.transfer.elements import RISK_POOL_SQL, STATE_SQL
from edge_pipeline.edge.transfer.estimate import issuer_plans
from edge_pipeline.edge.transfer.formula import PlanInput, PoolError, pool_transfers

SUITE = "transfer_reconciliation"

#: PLRS within 0.0005 (RATEE rounds to 3 places) + 0.0001 (RARSD's rounded weights); money $1.
PLRS_TOLERANCE = Decimal("0.0006")
#: Months rounded to 4 places: RARSD/RARSS round each enrollee's, RATEE each row's once, so
#: their sums may differ by half a unit of the 4th place per enrollee and per RATEE row.
MONTHS_TOLERANCE_PER_ROW = Decimal("0.00005")
TRANSFER_TOLERANCE = Decimal("1.00")
POOL_TOLERANCE = Decimal("1.00")

RATEE_KEY = ("state", "risk_pool", "plan_id", "rating_area")
PLAN_KEY = RATEE_KEY[:3]
RATEE_COLUMNS = (*RATEE_KEY, "in_ratee", "in_rarsd", "ratee_plrs", "rarsd_plrs",
                 "plrs_difference")  # fmt: skip
PLAN_COLUMNS = (
    *PLAN_KEY,
    "movers",
    "in_ratee",
    "in_rarsd",
    "rarsd_enrollees",
    "ratee_rows",
    "months_tolerance",
    "ratee_plrs",
    "rarsd_plrs",
    "plrs_difference",
    "rarsd_missing_csr_adjusted",
    "ratee_billable_member_months",
    "rarsd_billable_member_months",
    "billable_member_months_excess",
    "ratee_member_months",
    "rarss_member_months",
    "member_months_excess",
)
TRANSFER_COLUMNS = (
    "state",
    "risk_pool",
    "plan_id",
    "rating_area",
    "source",
    "expected_transfer",
    "recomputed_transfer",
    "transfer_difference",
)
POOL_COLUMNS = ("state", "risk_pool", "plans", "pool_total")


def _rarsd_sql() -> str:
    score = "s.score_csr_adjusted"  # never the raw score in its place (issue 13 item 6)
    return f"""
SELECT {STATE_SQL} AS state, {RISK_POOL_SQL} AS risk_pool, left(s.plan_id, 14) AS plan_id, s.rating_area,
  sum({score} * s.billable_member_months) AS weighted,
  sum(s.billable_member_months) FILTER (WHERE {score} IS NOT NULL) AS scored_bmm,
  count(*) FILTER (WHERE {score} IS NULL) AS missing_csr,
  sum(s.billable_member_months) AS bmm,
  count(DISTINCT s.member_id) AS enrollees
FROM reported_risk_score s
LEFT JOIN ref_plan r ON r.insurance_plan_identifier = s.plan_id
WHERE {run_filter("s")}
GROUP BY ALL
"""


def _rarss_sql() -> str:
    # RARSS rows carry no metal: the plan's comes from the registry (as it does on RARSD).
    return f"""
SELECT {STATE_SQL} AS state, {RISK_POOL_SQL} AS risk_pool, left(s.plan_id, 14) AS plan_id, s.rating_area,
  sum(s.member_months) AS member_months
FROM (SELECT *, NULL::VARCHAR AS metal FROM reported_rarss WHERE {RUN_FILTER}) s
LEFT JOIN ref_plan r ON r.insurance_plan_identifier = s.plan_id
GROUP BY ALL
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: object) -> list[dict[str, Any]]:
    """Rows as dicts with their DECIMAL values kept exact (``fetchall``, never ``fetchone``)."""
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _mover_plans(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> set[str]:
    """14-character plans with an enrollee whose periods have more than one rating area."""
    if not table_exists(con, "ra_enrollee_month"):
        return set()
    rows = con.execute(
        f"""
        SELECT DISTINCT left(plan_id, 14) FROM ra_enrollee_month WHERE {RUN_FILTER}
        GROUP BY member_id, left(plan_id, 14) HAVING count(DISTINCT rating_area) > 1
        """,
        run.params,
    ).fetchall()
    return {plan for (plan,) in rows}


def _plrs(weighted: Decimal | None, weight: Decimal | None) -> Decimal | None:
    return weighted / weight if weighted is not None and weight else None


def _difference(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return abs(a - b) if a is not None and b is not None else None


def _excess(a: Decimal | None, b: Decimal | None, tolerance: Decimal) -> Decimal | None:
    """How far |a - b| goes beyond ``tolerance`` (0 within it; None when a side is missing)."""
    difference = _difference(a, b)
    return None if difference is None else max(difference - tolerance, Decimal(0))


def _sum(rows: Iterable[dict[str, Any]], name: str) -> Decimal | None:
    values = [r[name] for r in rows if r[name] is not None]
    return sum(values, Decimal(0)) if values else None


def _frames(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per rating area, per plan) frames of RATEE against RARSD and RARSS (module doc)."""
    ratee = {
        tuple(r[k] for k in RATEE_KEY): r
        for r in _rows(
            con,
            "SELECT state, risk_pool, plan_id, rating_area, plrs, billable_member_months, "
            f"member_months FROM reported_ratee WHERE {RUN_FILTER}",
            run.params,
        )
    }
    rarsd = {tuple(r[k] for k in RATEE_KEY): r for r in _rows(con, _rarsd_sql(), run.params)}
    rarss = (
        {tuple(r[k] for k in RATEE_KEY): r for r in _rows(con, _rarss_sql(), run.params)}
        if table_exists(con, "reported_rarss")
        else {}
    )
    enrollees = {
        tuple(r[k] for k in PLAN_KEY): r["enrollees"]
        for r in _rows(
            con,
            f"SELECT {STATE_SQL} AS state, {RISK_POOL_SQL} AS risk_pool, "
            "left(s.plan_id, 14) AS plan_id, count(DISTINCT s.member_id) AS enrollees "
            "FROM reported_risk_score s LEFT JOIN ref_plan r "
            f"ON r.insurance_plan_identifier = s.plan_id WHERE {run_filter('s')} GROUP BY ALL",
            run.params,
        )
    }
    movers = _mover_plans(con, run)
    plans: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for key in set(ratee) | set(rarsd) | set(rarss):
        plans[key[:3]].append(key)
    areas, totals = [], []
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        for plan_key in sorted(plans, key=lambda k: tuple(str(p) for p in k)):
            keys = plans[plan_key]
            mine = [ratee[k] for k in keys if k in ratee]
            theirs = [rarsd[k] for k in keys if k in rarsd]
            summary = [rarss[k] for k in keys if k in rarss]
            moved = plan_key[2] in movers
            if not moved:
                for key in sorted(keys, key=lambda k: str(k[3])):
                    row, other = ratee.get(key), rarsd.get(key)
                    if row is None and other is None:
                        continue  # a RARSS-only key: shown in the plan frame
                    reported = row["plrs"] if row else None
                    recomputed = _plrs(other["weighted"], other["scored_bmm"]) if other else None
                    areas.append(
                        {
                            **dict(zip(RATEE_KEY, key, strict=True)),
                            "in_ratee": row is not None,
                            "in_rarsd": other is not None,
                            "ratee_plrs": _float(reported),
                            "rarsd_plrs": _float(_quantized(recomputed)),
                            "plrs_difference": _float(_difference(reported, recomputed)),
                        }
                    )
            count = enrollees.get(plan_key, 0)
            tolerance = MONTHS_TOLERANCE_PER_ROW * (count + len(mine))
            # the plan's PLRS only where the per-area rows are not compared (a mover)
            reported = _weighted_plrs(mine) if moved else None
            recomputed = (
                _plrs(_sum(theirs, "weighted"), _sum(theirs, "scored_bmm")) if moved else None
            )
            ratee_bmm, rarsd_bmm = _sum(mine, "billable_member_months"), _sum(theirs, "bmm")
            ratee_mm, rarss_mm = _sum(mine, "member_months"), _sum(summary, "member_months")
            totals.append(
                {
                    **dict(zip(PLAN_KEY, plan_key, strict=True)),
                    "movers": moved,
                    "in_ratee": bool(mine),
                    "in_rarsd": bool(theirs),
                    "rarsd_enrollees": count,
                    "ratee_rows": len(mine),
                    "months_tolerance": _float(tolerance),
                    "ratee_plrs": _float(_quantized(reported)),
                    "rarsd_plrs": _float(_quantized(recomputed)),
                    "plrs_difference": _float(_difference(reported, recomputed)),
                    "rarsd_missing_csr_adjusted": sum(r["missing_csr"] for r in theirs),
                    "ratee_billable_member_months": _float(ratee_bmm),
                    "rarsd_billable_member_months": _float(rarsd_bmm),
                    "billable_member_months_excess": _float(
                        _excess(ratee_bmm, rarsd_bmm, tolerance)
                    ),
                    "ratee_member_months": _float(ratee_mm),
                    "rarss_member_months": _float(rarss_mm),
                    "member_months_excess": _float(_excess(ratee_mm, rarss_mm, tolerance)),
                }
            )
    return (
        pd.DataFrame.from_records(areas, columns=list(RATEE_COLUMNS)),
        pd.DataFrame.from_records(totals, columns=list(PLAN_COLUMNS)),
    )


def _weighted_plrs(rows: list[dict[str, Any]]) -> Decimal | None:
    """Σ(PLRS x billable months) / Σ billable months of a plan's RATEE rows."""
    scored = [r for r in rows if r["plrs"] is not None and r["billable_member_months"]]
    weight = sum((r["billable_member_months"] for r in scored), Decimal(0))
    weighted = sum((r["plrs"] * r["billable_member_months"] for r in scored), Decimal(0))
    return _plrs(weighted, weight)


def _quantized(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.000001"))


def ratee_frame(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    """RATEE against RARSD per plan x rating area, for the plans without a mover."""
    return _frames(con, run)[0]


def plans_frame(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    """RATEE against RARSD and RARSS per plan, summed over its rating areas."""
    return _frames(con, run)[1]


#: Half a unit of the last place RATEE shows: a reported value this close to the estimate's
#: exact one is that value rounded.
_SHOWN_HALF_UNIT = {"plrs": Decimal("0.0005"), "arf": Decimal("0.0005"),
                    "premium_pmpm": Decimal("0.005")}  # fmt: skip


def _estimate_rows(
    con: duckdb.DuckDBPyConnection, run: ScoringRun, columns: str, where: str = ""
) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """The run's ``transfer_estimate`` rows (``columns``, a constant of this module, and the
    key) by (state, risk pool, plan, rating area); ``where``: a further constant condition."""
    return {
        (r["state"], r["risk_pool"], r["plan_id"], r["rating_area"]): r
        for r in _rows(
            con,
            "SELECT state, risk_pool, plan_id, coalesce(rating_area, '') AS rating_area, "
            f"{columns} FROM transfer_estimate WHERE {RUN_FILTER} {where}",
            run.params,
        )
    }


def ratee_plans(
    con: duckdb.DuckDBPyConnection, run: ScoringRun
) -> dict[tuple[str, str], list[PlanInput]]:
    """The issuer's plan x rating area rows per (state, risk pool) from the *reported* RATEE,
    read as the estimate reads the shadow's, each rounded value replaced by the estimate's
    exact one when it is that value rounded (see the module doc)."""
    exact = _estimate_rows(con, run, "plrs, arf, premium_pmpm", "AND source = 'issuer'")
    pools = issuer_plans(con, run, table="reported_ratee")
    for key, plans in pools.items():
        for i, plan in enumerate(plans):
            mine = exact.get((*key, plan.plan_id, plan.rating_area))
            if mine is None:
                continue
            refined = {
                name: mine[name]
                for name, half in _SHOWN_HALF_UNIT.items()
                if mine[name] is not None and abs(getattr(plan, name) - mine[name]) <= half
            }
            plans[i] = replace(plan, **refined)
    return pools


def _market_plans(
    con: duckdb.DuckDBPyConnection, run: ScoringRun
) -> dict[tuple[str, str], list[PlanInput]]:
    rows = con.execute(
        f"""
        SELECT state, risk_pool, plan_id, metal, billable_member_months, plrs, arf, gcf,
          premium_pmpm, coalesce(rating_area, '')
        FROM transfer_estimate WHERE {RUN_FILTER} AND source = 'market'
        ORDER BY state, risk_pool, plan_id, rating_area
        """,
        run.params,
    ).fetchall()
    pools: dict[tuple[str, str], list[PlanInput]] = defaultdict(list)
    for state, pool, plan_id, metal, bmm, plrs, arf, gcf, premium, area in rows:
        pools[state, pool].append(PlanInput(plan_id, metal, bmm, plrs, arf, gcf, premium, area))
    return dict(pools)


def recomputed_transfers(
    con: duckdb.DuckDBPyConnection, run: ScoringRun
) -> tuple[dict[tuple[str, str, str, str], Decimal | None], dict[tuple[str, str], str]]:
    """(state, pool, plan, rating area) -> transfer from the reported RATEE and the estimate's
    market rows; and the pools on which the formula is undefined, with the reason."""
    issuer, market = ratee_plans(con, run), _market_plans(con, run)
    transfers: dict[tuple[str, str, str, str], Decimal | None] = {}
    errors: dict[tuple[str, str], str] = {}
    for key in sorted(set(issuer) | set(market)):
        plans = [*issuer.get(key, []), *market.get(key, [])]
        try:
            result = pool_transfers(plans)
        except (PoolError, ValueError) as exc:
            errors[key] = str(exc)
            transfers.update({(*key, p.plan_id, p.rating_area): None for p in plans})
            continue
        transfers.update(
            {(*key, p.plan.plan_id, p.plan.rating_area): p.transfer_total for p in result.plans}
        )
    return transfers, errors


def transfers_frame(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    """``transfer_estimate`` against the transfer recomputed from the reported RATEE."""
    expected = _estimate_rows(con, run, "source, transfer_total")
    recomputed, _ = recomputed_transfers(con, run)
    records = []
    for key in sorted(set(expected) | set(recomputed)):
        row, mine = expected.get(key), recomputed.get(key)
        total = row["transfer_total"] if row else None
        records.append(
            {
                "state": key[0],
                "risk_pool": key[1],
                "plan_id": key[2],
                "rating_area": key[3],
                "source": row["source"] if row else None,
                "expected_transfer": _float(total),
                "recomputed_transfer": _float(mine),
                "transfer_difference": _float(
                    abs(total - mine) if total is not None and mine is not None else None
                ),
            }
        )
    return pd.DataFrame.from_records(records, columns=list(TRANSFER_COLUMNS))


def pools_frame(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    """Σ transfer_total per state x risk pool of ``transfer_estimate``."""
    rows = _rows(
        con,
        "SELECT state, risk_pool, count(*) AS plans, sum(transfer_total) AS pool_total "
        f"FROM transfer_estimate WHERE {RUN_FILTER} GROUP BY ALL ORDER BY ALL",
        run.params,
    )
    for row in rows:
        row["pool_total"] = _float(row["pool_total"])
    return pd.DataFrame.from_records(rows, columns=list(POOL_COLUMNS))


def transfer_expectations() -> tuple[list[Expect], list[Expect], list[Expect]]:
    """(ratee, plans, transfers, pools) expectations."""
    plrs = Expect(
        "expect_column_values_to_be_between",
        {"column": "plrs_difference", "min_value": 0, "max_value": float(PLRS_TOLERANCE)},
        f"RATEE PLRS equals the PLRS recomputed from RARSD within {PLRS_TOLERANCE}",
    )
    ratee = [
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "in_ratee", "value_set": [True]},
            "every plan x rating area x pool with RARSD enrollees is in the RATEE "
            "(plans without a mover)",
        ),
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "in_rarsd", "value_set": [True]},
            "every RATEE plan x rating area x pool has RARSD enrollees (plans without a mover)",
        ),
        plrs,
    ]
    plans = [
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "in_ratee", "value_set": [True]},
            "every plan x pool with RARSD enrollees is in the RATEE",
        ),
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "in_rarsd", "value_set": [True]},
            "every RATEE plan x pool has RARSD enrollees",
        ),
        plrs,
        Expect(
            "expect_column_values_to_be_between",
            {"column": "rarsd_missing_csr_adjusted", "min_value": 0, "max_value": 0},
            "every RARSD enrollee has a CSR-adjusted score (none scored with its raw score)",
        ),
        Expect(
            "expect_column_values_to_be_between",
            {"column": "billable_member_months_excess", "min_value": 0, "max_value": 0},
            "RATEE billable member months of a plan equal the RARSD's within the rounding "
            "of its enrollees' and rows' months (0.00005 each)",
        ),
        Expect(
            "expect_column_values_to_be_between",
            {"column": "member_months_excess", "min_value": 0, "max_value": 0},
            "RATEE member months of a plan equal the RARSS's within the rounding of its "
            "enrollees' and rows' months (0.00005 each)",
        ),
    ]
    transfers = [
        Expect(
            "expect_column_values_to_not_be_null",
            {"column": "expected_transfer"},
            "every plan the RATEE prices is in transfer_estimate",
        ),
        Expect(
            "expect_column_values_to_not_be_null",
            {"column": "recomputed_transfer"},
            "every plan of transfer_estimate can be recomputed from the RATEE and market rows",
        ),
        Expect(
            "expect_column_values_to_be_between",
            {
                "column": "transfer_difference",
                "min_value": 0,
                "max_value": float(TRANSFER_TOLERANCE),
            },
            f"the transfer recomputed from the RATEE equals the estimate within "
            f"${TRANSFER_TOLERANCE}",
        ),
    ]
    pools = [
        Expect(
            "expect_column_values_to_be_between",
            {
                "column": "pool_total",
                "min_value": -float(POOL_TOLERANCE),
                "max_value": float(POOL_TOLERANCE),
            },
            f"every state risk pool's transfers sum to zero within ${POOL_TOLERANCE}",
        ),
    ]
    return ratee, plans, transfers, pools


MISSING_CSR_COLUMNS = ("state", "risk_pool", "plan_id", "rating_area", "enrollees",
                       "billable_member_months")  # fmt: skip


def missing_csr_adjusted(
    con: duckdb.DuckDBPyConnection, run: ScoringRun, table: str = "shadow_risk_score"
) -> list[dict[str, Any]]:
    """Per plan x rating area, the scored enrollees x plans with no CSR-adjusted score (their
    count and billable months): left out of PLRS, never scored with the raw score in its
    place.  ``table``: ``shadow_risk_score`` or ``reported_risk_score``.  No member data."""
    if not table_exists(con, table):
        return []
    rows = _rows(
        con,
        f"""
        SELECT {STATE_SQL} AS state, {RISK_POOL_SQL} AS risk_pool, left(s.plan_id, 14) AS plan_id,
          s.rating_area, CAST(count(*) AS INTEGER) AS enrollees,
          sum(s.billable_member_months) AS billable_member_months
        FROM {table} s LEFT JOIN ref_plan r ON r.insurance_plan_identifier = s.plan_id
        WHERE {run_filter("s")} AND s.score_csr_adjusted IS NULL
        GROUP BY ALL ORDER BY ALL
        """,
        run.params,
    )
    for row in rows:
        row["billable_member_months"] = _float(row["billable_member_months"])
    return rows


def _offending(frame: pd.DataFrame, mask: Iterable[bool], kind: str) -> list[dict[str, Any]]:
    return [{"kind": kind, **{k: plain(v) for k, v in row.items()}}
            for row in frame[list(mask)].to_dict("records")]  # fmt: skip


def check_transfer_elements(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> QualityCheck:
    """Run the suite for one run; ``rows`` lists the keys, plans and pools that disagree."""
    for table in ("reported_ratee", "reported_risk_score", "transfer_estimate"):
        if not table_exists(con, table):
            raise LookupError(f"{run.label}: table {table} is missing")
    (ratee, plans), transfers, pools = (
        _frames(con, run),
        transfers_frame(con, run),
        pools_frame(con, run),
    )
    expect_ratee, expect_plans, expect_transfers, expect_pools = transfer_expectations()
    outcome = run_suite(
        SUITE,
        [
            Frame("ratee", ratee, expect_ratee),
            Frame("plans", plans, expect_plans),
            Frame("transfers", transfers, expect_transfers),
            Frame("pools", pools, expect_pools),
        ],
    )
    ratee_bad = [
        not (a and b) or _beyond(d, PLRS_TOLERANCE)
        for a, b, d in zip(
            ratee["in_ratee"], ratee["in_rarsd"], ratee["plrs_difference"], strict=True
        )
    ]
    plan_bad = [
        not (a and b)
        or _beyond(d, PLRS_TOLERANCE)
        or bool(c)
        or _beyond(x, Decimal(0))
        or _beyond(m, Decimal(0))
        for a, b, d, c, x, m in zip(
            plans["in_ratee"],
            plans["in_rarsd"],
            plans["plrs_difference"],
            plans["rarsd_missing_csr_adjusted"],
            plans["billable_member_months_excess"],
            plans["member_months_excess"],
            strict=True,
        )
    ]
    transfer_bad = [
        pd.isna(e) or pd.isna(r) or d > float(TRANSFER_TOLERANCE)
        for e, r, d in zip(
            transfers["expected_transfer"],
            transfers["recomputed_transfer"],
            transfers["transfer_difference"],
            strict=True,
        )
    ]
    pool_bad = [abs(t) > float(POOL_TOLERANCE) for t in pools["pool_total"].fillna(0.0)]
    rows = (
        _offending(ratee, ratee_bad, "ratee")
        + _offending(plans, plan_bad, "plan")
        + _offending(transfers, transfer_bad, "transfer")
        + _offending(pools, pool_bad, "pool")
    )
    return QualityCheck(run.label, outcome, rows)


def _beyond(value: Any, limit: Decimal) -> bool:
    """Present and above ``limit`` (a missing value is reported by the presence columns)."""
    return not pd.isna(value) and value > float(limit)
