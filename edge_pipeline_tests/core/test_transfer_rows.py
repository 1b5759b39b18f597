"""The transfer formula on plan x rating area rows, at full precision (issue 13 items 1, 2, 6).

REGTAP FAQ 8487: HHS aggregates risk scores "only to the plan level in a rating area", so the
spec section 8 formula applies to plan x rating area rows and a plan's transfer is the sum of
its rows'.  Every expected transfer here comes from :func:`reference`, an independent
implementation of the formula in exact fractions, fed with values the test derives itself.

One warehouse for the module, written with the project's ``SubmissionWriter``, loaded,
verified, selected, scored, with transfer elements and the estimate, benefit year 2025:

* gold plan ``12345NC0010001`` in rating area 001 (A, with a diabetes claim; F_SUB and child K)
  and 002 (B, 65; B2, 66, from July): PLRS, ARF and GCF (1.05 / 1.30) all differ by area;
* silver plan ``12345NC0030001`` in area 001 (S1, S2);
* a market file of issuer 99999: plan M1 per rating area, plan M2 as one "all areas" row.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pytest
from record_builders import (
    ISSUER,
    YEAR,
    ZONE,
    enrollee,
    enrollment_period,
    medical_claim,
    service_line,
    write_submission,
)
from transfer_support import reference, verify_and_score

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.layouts import ESES, ESMCS
from edge_pipeline.edge.quality.transfer_checks import missing_csr_adjusted
from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.transfer import (
    TransferInputError,
    compute_transfer_elements,
    estimate_transfers,
    read_market,
    transfer_pool_file,
)
from edge_pipeline.edge.verification import load_reference_tables
from edge_pipeline.edge.warehouse.load import load_file

RUN = ScoringRun(YEAR, ISSUER, ZONE)
GOLD, SILVER = "12345NC001000101", "12345NC003000101"
CENT = Decimal("0.01")

MARKET = (
    "state,risk_pool,issuer_id,plan_id,metal,billable_member_months,plrs,arf,gcf,premium_pmpm,"
    "rating_area\n"
    "NC,individual,99999,99999NC0010001,silver,40,0.9,1.1,1.05,600,001\n"
    "NC,individual,99999,99999NC0010001,silver,25,1.6,2.4,1.30,900,002\n"
    "NC,individual,99999,99999NC0020001,gold,30,1.2,1.5,1.1,750,\n"
)


def _close(amount: Decimal, exact: Fraction, tolerance: str = "0.01") -> bool:
    return abs(Fraction(amount) - exact) <= Fraction(tolerance)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _enrollment() -> list:
    return [
        (
            None,
            [
                enrollee("A", [enrollment_period(GOLD, premium="500.00")], "1980-05-05"),
                enrollee("F_SUB", [enrollment_period(GOLD, premium="1500.00")], "1975-04-04"),
                enrollee("K", [enrollment_period(GOLD, subscriber="F_SUB")], "2012-02-02"),
                enrollee(
                    "B", [enrollment_period(GOLD, premium="900.00", area="002")], "1960-01-01"
                ),
                enrollee(
                    "B2",
                    [enrollment_period(GOLD, "2025-07-01", premium="950.00", area="002")],
                    "1959-03-03",
                ),
                enrollee("S1", [enrollment_period(SILVER, premium="400.00")], "1990-06-15"),
                enrollee("S2", [enrollment_period(SILVER, premium="450.00")], "1985-08-08"),
            ],
        )
    ]


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    root = tmp_path_factory.mktemp("transfer_rows")
    registry = root / "registry.csv"
    registry.write_text(
        "insurance_plan_identifier,issuer_identifier,state,market,metal,csr_variant,"
        "rating_areas,effective_start_year,effective_end_year\n"
        f"{GOLD},{ISSUER},NC,individual,gold,01,001;002,2025,2025\n"
        f"{SILVER},{ISSUER},NC,individual,silver,01,001,2025,2025\n",
        encoding="utf-8",
    )
    (root / "code_list_icd10cm.csv").write_text("code\nJ069\nE119\n", encoding="utf-8")
    con = connect(root / "warehouse.duckdb")
    load_reference_tables(con, registry, [root])
    write_submission(root / "01.xml", ESES, 1, _enrollment())
    load_file(con, root / "01.xml")
    line = service_line(1, "2025-03-02", "2025-03-02", allowed="200.00", paid="150.00")
    claim = medical_claim(
        "MC_A", "A", [line], start="2025-03-02", end="2025-03-02", processed="2025-03-10T10:00:00"
    )
    write_submission(root / "02.xml", ESMCS, 2, [(GOLD, [claim])])
    load_file(con, root / "02.xml")
    verify_and_score(con, ISSUER, ZONE)
    gcf = root / "gcf.csv"
    gcf.write_text("state,rating_area,gcf\nNC,001,1.05\nNC,002,1.30\n", encoding="utf-8")
    market = root / "market.csv"
    market.write_text(MARKET, encoding="utf-8")
    compute_transfer_elements(con, RUN, gcf_path=gcf)
    estimate_transfers(con, RUN, market_path=market)
    yield con, root
    con.close()


def _estimate(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _rows(
        con,
        "SELECT * FROM transfer_estimate WHERE benefit_year = ? AND issuer_id = ? "
        "AND execution_zone = ? ORDER BY source, plan_id, rating_area",
        list(RUN.params),
    )


def _reference_rows(estimate: list[dict]) -> list[dict[str, Any]]:
    return [
        {
            "metal": r["metal"],
            "bmm": r["billable_member_months"],
            "plrs": r["plrs"],
            "arf": r["arf"],
            "gcf": r["gcf"],
            "premium": r["premium_pmpm"],
        }
        for r in estimate
    ]


def test_one_estimate_row_per_plan_and_rating_area(built: tuple) -> None:
    con, _ = built
    keys = [(r["source"], r["plan_id"], r["rating_area"]) for r in _estimate(con)]
    assert keys == [
        ("issuer", GOLD[:14], "001"),
        ("issuer", GOLD[:14], "002"),
        ("issuer", SILVER[:14], "001"),
        ("market", "99999NC0010001", "001"),
        ("market", "99999NC0010001", "002"),
        ("market", "99999NC0020001", ""),  # one row for all its areas
    ]


def test_plrs_and_premium_enter_the_formula_unrounded(built: tuple) -> None:
    con, _ = built
    scores = _rows(
        con,
        "SELECT left(plan_id, 14) AS plan, rating_area, score_csr_adjusted AS score, "
        "billable_member_months AS bmm FROM shadow_risk_score WHERE benefit_year = ? "
        "AND issuer_id = ? AND execution_zone = ?",
        list(RUN.params),
    )
    weighted: dict[tuple, Fraction] = defaultdict(Fraction)
    months: dict[tuple, Fraction] = defaultdict(Fraction)
    for s in scores:
        weighted[s["plan"], s["rating_area"]] += Fraction(s["score"]) * Fraction(s["bmm"])
        months[s["plan"], s["rating_area"]] += Fraction(s["bmm"])
    premiums = {(GOLD[:14], "001"): 500 * 12 + 1500 * 12, (GOLD[:14], "002"): 900 * 12 + 950 * 6,
                (SILVER[:14], "001"): 400 * 12 + 450 * 12}  # fmt: skip
    ratee = {
        (r["plan_id"], r["rating_area"]): r
        for r in _rows(con, "SELECT * FROM shadow_ratee WHERE benefit_year = ?", [YEAR])
    }
    rounded_somewhere = False
    for row in (r for r in _estimate(con) if r["source"] == "issuer"):
        key = (row["plan_id"], row["rating_area"])
        plrs = weighted[key] / months[key]
        assert abs(Fraction(row["plrs"]) - plrs) < Fraction(1, 10**9)
        assert abs(Fraction(row["premium_pmpm"]) - premiums[key] / months[key]) < Fraction(1, 10**7)
        assert row["billable_member_months"] == ratee[key]["billable_member_months"]
        # RATEE shows PLRS and ARF to 3 places: the formula's are those values unrounded
        assert abs(row["plrs"] - ratee[key]["plrs"]) <= Decimal("0.0005")
        assert abs(row["arf"] - ratee[key]["arf"]) <= Decimal("0.0005")
        rounded_somewhere |= row["plrs"] != ratee[key]["plrs"] or row["arf"] != ratee[key]["arf"]
    assert rounded_somewhere  # the fixture has averages that 3 places do not hold


def test_transfer_per_row_and_per_plan(built: tuple) -> None:
    con, _ = built
    estimate = _estimate(con)
    expected = reference(_reference_rows(estimate))
    for row, exact in zip(estimate, expected, strict=True):
        assert _close(row["transfer_total"], exact), (row["plan_id"], row["rating_area"])
    assert sum(r["transfer_total"] for r in estimate) == Decimal("0.00")
    assert all(r["transfer_total"] == r["transfer_total"].quantize(CENT) for r in estimate)

    # averaging the gold plan over its two rating areas first gives another transfer
    gold = [r for r in estimate if r["plan_id"] == GOLD[:14]]
    assert {r["gcf"] for r in gold} == {Decimal("1.05"), Decimal("1.30")}
    assert len({r["plrs"] for r in gold}) == len({r["arf"] for r in gold}) == 2
    months = sum(Fraction(r["billable_member_months"]) for r in gold)

    def mean(column: str) -> Fraction:
        return (
            sum(Fraction(r[column]) * Fraction(r["billable_member_months"]) for r in gold) / months
        )

    averaged = [{"metal": "gold", "bmm": months, "plrs": mean("plrs"), "arf": mean("arf"),
                 "gcf": mean("gcf"), "premium": mean("premium_pmpm")}]  # fmt: skip
    others = [r for r in estimate if r["plan_id"] != GOLD[:14]]
    per_plan = reference(averaged + _reference_rows(others))[0]
    per_row = sum(Fraction(r["transfer_total"]) for r in gold)
    assert abs(per_row - sum(expected[:2])) <= Fraction("0.02")
    assert abs(per_row - per_plan) > 1  # dollars: the aggregation matters

    # market plan M1's transfer is the sum of its two rating-area rows
    m1 = [r for r in estimate if r["plan_id"] == "99999NC0010001"]
    assert _close(sum(r["transfer_total"] for r in m1), expected[3] + expected[4], "0.02")


def test_a_plrs_change_at_the_fourth_to_sixth_decimal_changes_the_transfer(
    built: tuple, tmp_path: Path
) -> None:
    con, root = built
    market = root / "market.csv"
    where = "benefit_year = ? AND issuer_id = ? AND execution_zone = ? AND plan_id = ? AND rating_area = '001'"  # fmt: skip
    params = [*RUN.params, GOLD[:14]]
    try:
        # a large row, so that fractions of a thousandth of PLRS are worth dollars
        con.execute(f"UPDATE shadow_ratee SET billable_member_months = 8000 WHERE {where}", params)
        totals = {}
        for plrs in ("1.234100", "1.234400", "1.234401"):  # all 1.234 on the RATEE
            con.execute(f"UPDATE shadow_ratee SET plrs = 1.234, plrs_exact = ? WHERE {where}",
                        [Decimal(plrs), *params])  # fmt: skip
            estimate_transfers(con, RUN, market_path=market)
            estimate = _estimate(con)
            expected = reference(_reference_rows(estimate))
            row = next(
                i for i, r in enumerate(estimate)
                if (r["plan_id"], r["rating_area"]) == (GOLD[:14], "001")
            )  # fmt: skip
            assert estimate[row]["plrs"] == Decimal(plrs)
            assert _close(estimate[row]["transfer_total"], expected[row])
            assert sum(r["transfer_total"] for r in estimate) == Decimal("0.00")
            totals[plrs] = (estimate[row]["transfer_total"], expected[row])
        # 0.0003 of PLRS on 8,000 BMM: ~$15 here (the row is most of the pool, whose mean
        # moves with it), the exact amount of the reference formula; 0.000001: cents
        low, high = totals["1.234100"], totals["1.234400"]
        assert high[0] - low[0] > 10
        assert abs(Fraction(high[0] - low[0]) - (high[1] - low[1])) <= Fraction("0.02")
        assert totals["1.234401"][0] != totals["1.234400"][0]
        delta = totals["1.234401"][1] - totals["1.234400"][1]
        assert abs(Fraction(totals["1.234401"][0] - totals["1.234400"][0]) - delta) <= Fraction(
            "0.02"
        )
    finally:
        compute_transfer_elements(con, RUN, gcf_path=root / "gcf.csv")
        estimate_transfers(con, RUN, market_path=market)


def test_market_file_with_rating_area_rows_and_with_plan_rows(tmp_path: Path) -> None:
    path = tmp_path / "market.csv"
    path.write_text(MARKET, encoding="utf-8")
    plans = read_market(path)
    assert [(m.plan.plan_id, m.plan.rating_area) for m in plans] == [
        ("99999NC0010001", "001"),
        ("99999NC0010001", "002"),
        ("99999NC0020001", ""),
    ]
    # the file of before: no rating_area column, one row per plan = all areas
    old = tmp_path / "old.csv"
    lines = MARKET.splitlines()
    old.write_text(
        "\n".join(line.rsplit(",", 1)[0] for line in (lines[0], lines[1], lines[3])) + "\n",
        encoding="utf-8",
    )
    assert [(m.plan.plan_id, m.plan.rating_area) for m in read_market(old)] == [
        ("99999NC0010001", ""),
        ("99999NC0020001", ""),
    ]
    # "1" is area 001, as ESES writes it; an area twice, or a plan both ways, is refused
    path.write_text("\n".join([*lines, lines[1].replace(",001", ",1")]) + "\n", encoding="utf-8")
    with pytest.raises(TransferInputError, match=r"line 5, column plan_id: .*rating area 001 already on line 2"):  # fmt: skip
        read_market(path)
    path.write_text("\n".join([*lines, lines[1].replace(",001", ",")]) + "\n", encoding="utf-8")
    with pytest.raises(TransferInputError, match=r"line 5, column rating_area: .*both for all"):
        read_market(path)


def _pool(path: Path, rows: list[dict[str, Any]], with_area: bool = True) -> None:
    columns = ["plan_id", "metal", "billable_member_months", "plrs", "arf", "gcf", "premium_pmpm"]
    columns += ["rating_area"] if with_area else []
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def test_pool_file_with_a_plan_in_two_rating_areas(tmp_path: Path) -> None:
    rows = [
        {"plan_id": "P1", "metal": "gold", "billable_member_months": "8000", "plrs": "1.412345",
         "arf": "1.21", "gcf": "0.95", "premium_pmpm": "610.50", "rating_area": "001"},
        {"plan_id": "P1", "metal": "gold", "billable_member_months": "3000", "plrs": "0.80",
         "arf": "2.05", "gcf": "1.35", "premium_pmpm": "890.00", "rating_area": "002"},
        {"plan_id": "P2", "metal": "silver", "billable_member_months": "6000", "plrs": "1.05",
         "arf": "1.6", "gcf": "1.1", "premium_pmpm": "700.00", "rating_area": "001"},
    ]  # fmt: skip
    pool, out = tmp_path / "pool.csv", tmp_path / "out.csv"
    _pool(pool, rows)
    result = transfer_pool_file(pool, out)
    written = list(csv.DictReader(out.open(encoding="utf-8")))
    expected = reference(
        [{"metal": r["metal"], "bmm": r["billable_member_months"], "plrs": r["plrs"],
          "arf": r["arf"], "gcf": r["gcf"], "premium": r["premium_pmpm"]} for r in rows]
    )  # fmt: skip
    assert [w["rating_area"] for w in written] == ["001", "002", "001"]
    for w, exact in zip(written, expected, strict=True):
        assert _close(Decimal(w["transfer_total"]), exact)
    assert sum(Decimal(w["transfer_total"]) for w in written) == Decimal("0.00")
    (totals,) = [p.plan_totals() for p in result.pools.values()]
    assert totals["P1"] == Decimal(written[0]["transfer_total"]) + Decimal(
        written[1]["transfer_total"]
    )
    # the same plan averaged over its areas first: thousands of dollars apart
    averaged = tmp_path / "averaged.csv"
    bmm = Decimal(11000)
    mean = {c: sum(Decimal(r[c]) * Decimal(r["billable_member_months"]) for r in rows[:2]) / bmm
            for c in ("plrs", "arf", "gcf", "premium_pmpm")}  # fmt: skip
    _pool(averaged, [{**rows[0], **mean, "billable_member_months": bmm}, rows[2]], False)
    transfer_pool_file(averaged, tmp_path / "averaged_out.csv")
    (p1, _) = list(csv.DictReader((tmp_path / "averaged_out.csv").open(encoding="utf-8")))
    assert abs(Decimal(p1["transfer_total"]) - totals["P1"]) > 1000

    # a PLRS 0.000005 higher moves the row's transfer by what the formula says
    _pool(pool, [{**rows[0], "plrs": "1.412350"}, *rows[1:]])
    transfer_pool_file(pool, tmp_path / "out2.csv")
    moved = list(csv.DictReader((tmp_path / "out2.csv").open(encoding="utf-8")))
    shifted = reference(
        [{"metal": r["metal"], "bmm": r["billable_member_months"], "plrs": r["plrs"],
          "arf": r["arf"], "gcf": r["gcf"], "premium": r["premium_pmpm"]}
         for r in [{**rows[0], "plrs": "1.412350"}, *rows[1:]]]
    )  # fmt: skip
    assert Decimal(moved[0]["transfer_total"]) != Decimal(written[0]["transfer_total"])
    assert _close(Decimal(moved[0]["transfer_total"]), shifted[0])


def test_a_missing_csr_adjusted_score_is_flagged_not_replaced(built: tuple) -> None:
    con, root = built
    key = [*RUN.params, "A"]
    where = "benefit_year = ? AND issuer_id = ? AND execution_zone = ? AND member_id = ?"
    (a,) = _rows(con, f"SELECT * FROM shadow_risk_score WHERE {where}", key)
    assert a["score_raw"] is not None
    try:
        con.execute(f"UPDATE shadow_risk_score SET score_csr_adjusted = NULL WHERE {where}", key)
        compute_transfer_elements(con, RUN, gcf_path=root / "gcf.csv")
        others = _rows(
            con,
            "SELECT score_csr_adjusted AS s, billable_member_months AS b FROM shadow_risk_score "
            "WHERE benefit_year = ? AND issuer_id = ? AND execution_zone = ? "
            "AND plan_id = ? AND rating_area = '001' AND member_id <> 'A'",
            [*RUN.params, GOLD],
        )
        (gold,) = _rows(
            con,
            "SELECT * FROM shadow_ratee WHERE plan_id = ? AND rating_area = '001'",
            [GOLD[:14]],
        )
        # A's months stay billable; PLRS is the others' CSR-adjusted mean, not A's raw score
        plrs = sum(Fraction(o["s"]) * Fraction(o["b"]) for o in others) / sum(
            Fraction(o["b"]) for o in others
        )
        assert gold["billable_member_months"] == Decimal(36)
        assert abs(Fraction(gold["plrs_exact"]) - plrs) < Fraction(1, 10**9)
        assert missing_csr_adjusted(con, RUN) == [
            {"state": "NC", "risk_pool": "individual", "plan_id": GOLD[:14],
             "rating_area": "001", "enrollees": 1, "billable_member_months": 12.0}
        ]  # fmt: skip
    finally:
        con.execute(
            f"UPDATE shadow_risk_score SET score_csr_adjusted = ? WHERE {where}",
            [a["score_csr_adjusted"], *key],
        )
        compute_transfer_elements(con, RUN, gcf_path=root / "gcf.csv")
    assert missing_csr_adjusted(con, RUN) == []


def test_a_warehouse_from_before_gets_the_new_columns() -> None:
    from edge_pipeline.edge.ra_runs.schema import ensure_phase2_schema
    from edge_pipeline.edge.transfer.schema import ensure_transfer_schema

    con = duckdb.connect()
    run = "benefit_year INTEGER, issuer_id VARCHAR, execution_zone VARCHAR"
    con.execute(
        f"CREATE TABLE transfer_estimate ({run}, state VARCHAR, risk_pool VARCHAR, "
        "plan_id VARCHAR, source VARCHAR, metal VARCHAR, billable_member_months DECIMAL(14,4), "
        "plrs DECIMAL(12,3), arf DECIMAL(12,3), idf DECIMAL(6,3), av DECIMAL(6,3), "
        "gcf DECIMAL(8,4), premium_pmpm DECIMAL(14,2), share DECIMAL(18,12), "
        "transfer_pmpm DECIMAL(18,6), transfer_total DECIMAL(18,2), hcrp_payment DECIMAL(18,2), "
        "user_fee DECIMAL(18,2))"
    )
    con.execute(
        f"CREATE TABLE shadow_ratee ({run}, state VARCHAR, risk_pool VARCHAR, plan_id VARCHAR, "
        "rating_area VARCHAR, plrs DECIMAL(12,3))"
    )
    con.execute("INSERT INTO transfer_estimate (plan_id, plrs) VALUES ('P', 1.234)")
    for _ in range(2):  # idempotent
        ensure_phase2_schema(con)
        ensure_transfer_schema(con)
    types = dict(
        con.execute(
            "SELECT table_name || '.' || column_name, data_type FROM duckdb_columns() "
            "WHERE column_name IN ('rating_area', 'plrs', 'plrs_exact', 'premium_pmpm')"
        ).fetchall()
    )
    assert types["transfer_estimate.rating_area"] == "VARCHAR"
    assert types["transfer_estimate.plrs"] == "DECIMAL(18,10)"
    assert types["transfer_estimate.premium_pmpm"] == "DECIMAL(18,8)"
    assert types["shadow_ratee.plrs_exact"] == types["reported_ratee.plrs_exact"]
    assert con.execute("SELECT plan_id, plrs FROM transfer_estimate").fetchall() == [
        ("P", Decimal("1.234"))
    ]
