"""The SAS-statement parser, its evaluators and the age/sex condition texts."""

from __future__ import annotations

import duckdb
import pytest

from edge_pipeline.edge.risk.conditions import (
    AgeSexCondition,
    ConditionError,
    parse_condition,
)
from edge_pipeline.edge.risk.program_sql import quote
from edge_pipeline.edge.risk.sas import (
    AllOf,
    AnyOf,
    Assign,
    Compare,
    CountSum,
    If,
    SasSyntaxError,
    evaluate,
    expr_sql,
    parse_expr,
    parse_statements,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9 <= age <= 64", AgeSexCondition(9, 64)),
        ("age >=15", AgeSexCondition(15, None)),
        ("age = 0", AgeSexCondition(0, 0)),
        ("age < 21", AgeSexCondition(None, 20)),
        ("age > 1", AgeSexCondition(2, None)),
        ("male", AgeSexCondition(sex=1)),
        ("female", AgeSexCondition(sex=2)),
        ("", AgeSexCondition()),
        ("Male,   21 <= AGE_LAST <= 24", AgeSexCondition(21, 24, 1)),
        ("Female, 60 <= AGE_LAST", AgeSexCondition(60, None, 2)),
        ("Male,    AGE_LAST = 0", AgeSexCondition(0, 0, 1)),
        ("2 <= AGE_LAST <=  20", AgeSexCondition(2, 20)),
        ("0 = AGE_LAST", AgeSexCondition(0, 0)),
    ],
)
def test_conditions(text: str, expected: AgeSexCondition) -> None:
    assert parse_condition(text) == expected


def test_condition_evaluation_in_python_and_sql_agree() -> None:
    con = duckdb.connect()
    for text in ("9 <= age <= 64", "age < 21", "Female, 21 <= AGE_LAST <= 24", "male"):
        cond = parse_condition(text)
        for age in (0, 8, 9, 20, 21, 24, 25, 64, 65):
            for sex in (1, 2):
                sql = con.execute(f"SELECT {cond.sql(str(age), str(sex))}").fetchall()[0][0]
                assert sql == cond.matches(age, sex), (text, age, sex)


@pytest.mark.parametrize("text", ["age ~ 3", "5 <= age <= 2", "adult"])
def test_bad_conditions(text: str) -> None:
    with pytest.raises(ConditionError):
        parse_condition(text)


def test_if_then_and_do_blocks() -> None:
    (simple,) = parse_statements("if HHS_HCC002 = 1 then SEVERE = 1;")
    assert simple.cond == Compare("HHS_HCC002", "=", 1)
    assert simple.body == (Assign("SEVERE", 1),)
    (group,) = parse_statements("if HHS_HCC019   = 1 then do; HHS_HCC019   = 0; G01     = 1; end;")
    assert group.body == (Assign("HHS_HCC019", 0), Assign("G01", 1))
    (spaced,) = parse_statements("if AGE_LAST = 0 and X = 1 then do ; A = 1 ; B = 0; end;")
    assert spaced.body == (Assign("A", 1), Assign("B", 0))


def test_and_binds_tighter_than_or() -> None:
    expr = parse_expr("A = 1 and B = 1 or C = 1")
    assert expr == AnyOf(
        (AllOf((Compare("A", "=", 1), Compare("B", "=", 1))), Compare("C", "=", 1))
    )
    assert evaluate(expr, {"C": 1}) is True
    nested = parse_expr("R = 1 and (H1 = 1 or H2 = 1) and (H3 = 1 or H4 = 1)")
    assert evaluate(nested, {"R": 1, "H2": 1, "H4": 1})
    assert not evaluate(nested, {"R": 1, "H2": 1})


def test_comparisons_and_missing_values() -> None:
    expr = parse_expr("SEVERE = 1 and HCC_CNT >= 10")
    assert evaluate(expr, {"SEVERE": 1, "HCC_CNT": 10})
    assert not evaluate(expr, {"SEVERE": 1, "HCC_CNT": 9})
    assert not evaluate(parse_expr("ENROLDURATION = 1"), {"ENROLDURATION": None})
    assert evaluate(parse_expr("HHS_HCC242 = 0"), {})  # unset variables are 0


def test_count_statement() -> None:
    (count,) = parse_statements("HCC_CNT = SUM(HHS_HCC*, G*) - HHS_HCC022")
    assert count == CountSum(
        "HCC_CNT",
        ("HHS_HCC", "G"),
        ("HHS_HCC022",),
        "HCC_CNT = SUM ( HHS_HCC * , G * ) - HHS_HCC022",
    )


def test_expr_sql_matches_python() -> None:
    con = duckdb.connect()
    expr = parse_expr("A = 1 and (B = 0 or N > 2)")
    sql = expr_sql(expr, quote, lambda v: v != "N")
    for a in (0, 1):
        for b in (0, 1):
            for n in (1, 3):
                got = con.execute(
                    f'SELECT {sql} FROM (SELECT {bool(a)} AS "A", {bool(b)} AS "B", {n} AS "N")'
                ).fetchall()[0][0]
                assert got == evaluate(expr, {"A": a, "B": b, "N": n})


@pytest.mark.parametrize(
    "text",
    [
        "if A = 1 then",
        "if A = 1 then B = 2",
        "if A => 1 then B = 1;",
        "X = 1;",
        "if (A = 1 then B = 1;",
    ],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(SasSyntaxError):
        parse_statements(text)


def test_statements_keep_their_source_text() -> None:
    (statement,) = parse_statements("if RXC_06 = 1 and HHS_HCC020 = 1 then T = 1;")
    assert isinstance(statement, If)
    assert statement.text == "IF RXC_06 = 1 AND HHS_HCC020 = 1 THEN T = 1 ;"
