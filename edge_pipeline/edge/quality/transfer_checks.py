"""Check 2: the transfer reconciles -- RATEE against RARSD, the estimate against the formula.

Three frames per scoring run (suite ``transfer_reconciliation``), plans, pools and amounts only:

``ratee`` -- one row per RATEE key (state, risk pool, 14-character plan, rating area) of the
run's reported RATEE (``reported_ratee``) or of its RARSD (``reported_risk_score``) regrouped
the way RATEE groups enrollees: the plan is the first 14 characters of the 16-character plan
id, the rating area the enrollee's, state and risk pool the plan's (as ``shadow_ratee`` derives
them: ``ref_plan`` state, else characters 6-7 of the plan id; ``catastrophic`` for catastrophic
plans, else the registry's market, ``individual`` when it has none).  The PLRS recomputed from
RARSD is Σ(CSR-adjusted score x billable months) / Σ billable months in exact decimals, over the
enrollees with a CSR-adjusted score: one without is never scored with its raw score (a silent
CSR factor of 1.0), it is counted in ``rarsd_missing_csr_adjusted`` instead.  Expectations:

* ``in_ratee`` and ``in_rarsd`` are true (each side has every key of the other);
* ``plrs_difference`` = |RATEE PLRS - recomputed PLRS| ≤ 0.0005 (RATEE rounds to 3 places);
* ``rarsd_missing_csr_adjusted`` is 0 (every RARSD enrollee has a CSR-adjusted score);
* RATEE ``billable_member_months`` equals Σ RARSD billable member months exactly, and RATEE
  ``member_months`` Σ RARSS member months of the key (when a RARSS is loaded).

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

from edge_pipeline.edge.phase2.runs import RUN_FILTER, ScoringRun, run_filter
from edge_pipeline.edge.quality.gx_suite import Expect, Frame, QualityCheck, plain, run_suite
from edge_pipeline.edge.transfer.elements import RISK_POOL_SQL, STATE_SQL
from edge_pipeline.edge.transfer.estimate import issuer_plans
from edge_pipeline.edge.transfer.formula import PlanInput, PoolError, pool_transfers
from edge_pipeline.edge.warehouse.query import table_exists

SUITE = "transfer_reconciliation"

#: Tolerances of the issue: PLRS within 0.0005 (RATEE rounds to 3 places), money within $1.
PLRS_TOLERANCE = Decimal("0.0005")
TRANSFER_TOLERANCE = Decimal("1.00")
POOL_TOLERANCE = Decimal("1.00")

RATEE_KEY = ("state", "risk_pool", "plan_id", "rating_area")
RATEE_COLUMNS = (
    *RATEE_KEY,
    "in_ratee",
    "in_rarsd",
    "ratee_plrs",
    "rarsd_plrs",
    "plrs_difference",
    "rarsd_missing_csr_adjusted",
    "ratee_billable_member_months",
    "rarsd_billable_member_months",
    "ratee_member_months",
    "rarss_member_months",
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
  sum(s.billable_member_months) AS bmm
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


def ratee_frame(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    """RATEE against RARSD (and RARSS), one row per key of either side."""
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
    records = []
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        for key in sorted(set(ratee) | set(rarsd), key=lambda k: tuple(str(p) for p in k)):
            mine, theirs, summary = ratee.get(key), rarsd.get(key), rarss.get(key)
            recomputed = (
                theirs["weighted"] / theirs["scored_bmm"]
                if theirs and theirs["scored_bmm"]
                else None
            )
            reported = mine["plrs"] if mine else None
            difference = (
                abs(reported - recomputed)
                if reported is not None and recomputed is not None
                else None
            )
            records.append(
                {
                    **dict(zip(RATEE_KEY, key, strict=True)),
                    "in_ratee": mine is not None,
                    "in_rarsd": theirs is not None,
                    "ratee_plrs": _float(reported),
                    "rarsd_plrs": _float(
                        None if recomputed is None else recomputed.quantize(Decimal("0.000001"))
                    ),
                    "plrs_difference": _float(difference),
                    "rarsd_missing_csr_adjusted": theirs["missing_csr"] if theirs else 0,
                    "ratee_billable_member_months": _float(
                        mine["billable_member_months"] if mine else None
                    ),
                    "rarsd_billable_member_months": _float(theirs["bmm"] if theirs else None),
                    "ratee_member_months": _float(mine["member_months"] if mine else None),
                    "rarss_member_months": _float(summary["member_months"] if summary else None),
                }
            )
    return pd.DataFrame.from_records(records, columns=list(RATEE_COLUMNS))


#: Half a unit of the last place RATEE shows: a reported value this close to the estimate's
#: exact one is that value rounded.
_SHOWN_HALF_UNIT = {"plrs": Decimal("0.0005"), "arf": Decimal("0.0005"),
                    "premium_pmpm": Decimal("0.005")}  # fmt: skip


def ratee_plans(
    con: duckdb.DuckDBPyConnection, run: ScoringRun
) -> dict[tuple[str, str], list[PlanInput]]:
    """The issuer's plan x rating area rows per (state, risk pool) from the *reported* RATEE,
    read as the estimate reads the shadow's, each rounded value replaced by the estimate's
    exact one when it is that value rounded (see the module doc)."""
    exact = {
        (r["state"], r["risk_pool"], r["plan_id"], r["rating_area"]): r
        for r in _rows(
            con,
            "SELECT state, risk_pool, plan_id, coalesce(rating_area, '') AS rating_area, plrs, "
            f"arf, premium_pmpm FROM transfer_estimate WHERE {RUN_FILTER} AND source = 'issuer'",
            run.params,
        )
    }
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
    expected = {
        (r["state"], r["risk_pool"], r["plan_id"], r["rating_area"]): r
        for r in _rows(
            con,
            "SELECT state, risk_pool, plan_id, coalesce(rating_area, '') AS rating_area, source, "
            f"transfer_total FROM transfer_estimate WHERE {RUN_FILTER}",
            run.params,
        )
    }
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
    """(ratee, transfers, pools) expectations."""
    ratee = [
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "in_ratee", "value_set": [True]},
            "every plan x rating area x pool with RARSD enrollees is in the RATEE",
        ),
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "in_rarsd", "value_set": [True]},
            "every RATEE plan x rating area x pool has RARSD enrollees",
        ),
        Expect(
            "expect_column_values_to_be_between",
            {"column": "plrs_difference", "min_value": 0, "max_value": float(PLRS_TOLERANCE)},
            f"RATEE PLRS equals the PLRS recomputed from RARSD within {PLRS_TOLERANCE}",
        ),
        Expect(
            "expect_column_values_to_be_between",
            {"column": "rarsd_missing_csr_adjusted", "min_value": 0, "max_value": 0},
            "every RARSD enrollee has a CSR-adjusted score (none scored with its raw score)",
        ),
        Expect(
            "expect_column_pair_values_to_be_equal",
            {
                "column_A": "ratee_billable_member_months",
                "column_B": "rarsd_billable_member_months",
                "ignore_row_if": "either_value_is_missing",
            },
            "RATEE billable member months equal the RARSD's exactly",
        ),
        Expect(
            "expect_column_pair_values_to_be_equal",
            {
                "column_A": "ratee_member_months",
                "column_B": "rarss_member_months",
                "ignore_row_if": "either_value_is_missing",
            },
            "RATEE member months equal the RARSS's exactly",
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
    return ratee, transfers, pools


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
    ratee, transfers, pools = (
        ratee_frame(con, run),
        transfers_frame(con, run),
        pools_frame(con, run),
    )
    expect_ratee, expect_transfers, expect_pools = transfer_expectations()
    outcome = run_suite(
        SUITE,
        [
            Frame("ratee", ratee, expect_ratee),
            Frame("transfers", transfers, expect_transfers),
            Frame("pools", pools, expect_pools),
        ],
    )
    tolerance = float(PLRS_TOLERANCE)
    ratee_bad = [
        not (a and b)
        or (d is not None and d > tolerance)
        or bool(c)
        or _differs(x, y)
        or _differs(m, n)
        for a, b, d, c, x, y, m, n in zip(
            ratee["in_ratee"],
            ratee["in_rarsd"],
            ratee["plrs_difference"].astype(object).where(ratee["plrs_difference"].notna(), None),
            ratee["rarsd_missing_csr_adjusted"],
            ratee["ratee_billable_member_months"],
            ratee["rarsd_billable_member_months"],
            ratee["ratee_member_months"],
            ratee["rarss_member_months"],
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
        + _offending(transfers, transfer_bad, "transfer")
        + _offending(pools, pool_bad, "pool")
    )
    return QualityCheck(run.label, outcome, rows)


def _differs(a: Any, b: Any) -> bool:
    """Both present and different (a missing side is reported by the presence columns)."""
    return not (pd.isna(a) or pd.isna(b)) and a != b
