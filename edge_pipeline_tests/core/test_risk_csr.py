"""CSR_INDICATOR of a plan variant, CSR factors, and ENROLDURATION from days (tables 1, 13)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from edge_pipeline.edge.reference import diy_dir
from edge_pipeline.edge.risk import (
    csr_indicator_for,
    enrollment_months,
    enrollment_months_sql,
    load_diy_model,
)
from edge_pipeline.edge.risk.csr import CsrFormulaError, parse_csr_rule
from edge_pipeline.edge.risk.enrollment import DAY_RANGES


def test_2025_indicator_from_table_13() -> None:
    assert csr_indicator_for(2025, "S", "01") == 1
    assert csr_indicator_for(2025, "silver", 2) == 10
    assert csr_indicator_for(2025, "B", "02") == 4
    assert csr_indicator_for(2025, "P", "03") == 7
    assert csr_indicator_for(2025, "G", "03") == 9
    assert csr_indicator_for(2025, "S", "04") == 1
    assert csr_indicator_for(2025, "S", "05") == csr_indicator_for(2025, "S", "06") == 3
    assert csr_indicator_for(2025, "G", 42) == 2
    assert csr_indicator_for(2025, "G", 43) == 9
    with pytest.raises(ValueError, match="no CSR_INDICATOR for variant 02 of a catastrophic"):
        csr_indicator_for(2025, "C", "02")


#: 2024 has no table 13: the mapping derived from table 1's text, stated explicitly.
EXPECTED_2024 = {
    ("S", 0): 1,
    ("S", 1): 1,
    ("P", 2): 1,
    ("P", 3): 1,
    ("G", 2): 2,
    ("G", 3): 2,
    ("S", 2): 3,
    ("S", 3): 3,
    ("B", 2): 4,
    ("B", 3): 4,
    ("S", 4): 1,
    ("S", 5): 3,
    ("S", 6): 3,
    ("S", 30): 3,
    ("S", 31): 3,
    ("S", 36): 3,
    ("G", 42): 1,  # table 1 lists the gold state subsidy plan with 1, then with 2
    ("G", 43): 2,
}


def test_2024_indicator_from_table_1_text() -> None:
    for (metal, variant), indicator in EXPECTED_2024.items():
        assert csr_indicator_for(2024, metal, variant) == indicator, (metal, variant)
    lines = load_diy_model(2024).csr_indicator_text
    # the text the mapping comes from
    assert (
        "CSR_INDICATOR = 2 for enrollees in Zero Cost Sharing Plan Variation of Gold Level QHP"
        in lines
    )
    platinum = "Zero Cost Sharing Plan Variation of Platinum Level Qualified Health Plan (QHP)"
    assert f"CSR_INDICATOR = 1 for enrollees in {platinum}" in lines
    gold = [ln for ln in lines if "State Subsidy Plan of Gold Level" in ln]
    assert [re.findall(r"= (\d+)", ln) for ln in gold] == [["1"], ["2"]]
    with pytest.raises(ValueError, match="assigns no CSR_INDICATOR"):
        csr_indicator_for(2024, "C", "02")


def test_the_table_1_reading_reproduces_table_13_for_gold_state_subsidies() -> None:
    from edge_pipeline.edge.risk.csr import indicator_from_table1

    lines = load_diy_model(2025).csr_indicator_text
    assert indicator_from_table1(lines, 42, "G") == csr_indicator_for(2025, "G", 42)
    assert indicator_from_table1(lines, 43, "G") == csr_indicator_for(2025, "G", 43)


def test_csr_factor_rules() -> None:
    rule = load_diy_model(2025).csr["adult"]
    assert rule.indicators == list(range(1, 12))
    assert rule.factor(10, "S") == Decimal("1.46")
    assert rule.factor(10, "G") is None  # SAS leaves another metal's adjusted score missing
    assert rule.factor(1, "B") == rule.factor(99, "B") == Decimal("1.00")  # the else branch
    assert load_diy_model(2024).csr["child"].indicators == [1, 2, 3, 4]
    assert load_diy_model(2024).csr["infant"].factor(4, "B") == Decimal("1.15")


def test_csr_formula_without_else_is_refused() -> None:
    with pytest.raises(CsrFormulaError, match="incomplete"):
        parse_csr_rule(
            ["if CSR_INDICATOR = 2 then CSR_ADJUSTED_SCORE_ADULT_GOLD = SCORE_ADULT_GOLD x 1.07;"]
        )


@pytest.mark.parametrize("year", [2024, 2025])
def test_enrollment_day_ranges_are_table_1s(year: int) -> None:
    rows = json.loads((diy_dir(year) / "table_1.json").read_text(encoding="utf-8"))
    text = next(
        r["definition"]
        for r in rows
        if r["variable(s)"] == "ENROLDURATION" and r["model"] == "Adult"
    )
    found = [tuple(map(int, m)) for m in re.findall(r"(\d+) = (\d+)\D(\d+) days", text)]
    assert found == list(DAY_RANGES)


def test_enrollment_months() -> None:
    assert [enrollment_months(d) for d in (1, 31, 32, 184, 185, 335, 336, 366)] == [
        1, 1, 2, 6, 7, 11, 12, 12,
    ]  # fmt: skip
    with pytest.raises(ValueError):
        enrollment_months(0)
    import duckdb

    con = duckdb.connect()
    got = con.execute(
        f"SELECT list({enrollment_months_sql('d')} ORDER BY d) FROM range(0, 368) t(d)"
    ).fetchall()[0][0]
    assert got == [None] + [enrollment_months(d) for d in range(1, 367)] + [None]
