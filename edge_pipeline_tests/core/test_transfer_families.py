"""Billable children, rating ages and rating areas of hand-built families (issue 13, items 3-5).

One warehouse for the module: an ESES of benefit year 2025 written with the project's
``SubmissionWriter``, loaded, verified, selected, scored and turned into RATEE rows.  Each family
is alone in its plan (all gold, rating areas 001 and 002), so its RATEE rows are its own:

* ``TURN21``: a child turns 21 on 15 June, with three younger siblings -- its rating age stays
  20 all year, so the youngest is never billable (the old month-by-month age billed it from
  July);
* ``RENEW``: four children, the policy renewed on 1 July: the eldest turned 21 in May and is
  re-rated at the renewal, so from July it is an adult and the fourth child becomes billable;
* ``FIVE``: five children under 21, the eldest turning 21 in August: three billable all year;
* ``CARRY``: a period that began 1 July 2024: rating ages are taken on 1 January 2025, so the
  eldest (20 when the period began, 21 on 1 January) is an adult, the next (20 on 1 January,
  21 in September) a child all year, and of its four children the youngest is never billable;
* ``SPOUSE``: a spouse rated at 20 and three children: ESES has no relationship code, so the
  spouse counts as a child (by age) and the youngest child is not billable;
* ``MOVER``: a subscriber and two children who move from area 001 to 002 on 16 May; the subscriber
  turns 55 on 1 March, so its second period (from 16 May) rates it at 55;
* ``BIRTHDAY``: an adult whose policy renews on 1 July after a birthday: ARF half of each age;
* ``THIRDS``: a subscriber and two children covered 1-10 June (a third of a month each): per
  enrollee 0.3333, so the per-enrollee rounded months would sum to 0.9999; rounded once per
  RATEE row they are 1.0000.

Expected values come from :func:`_expected`, which applies the rules to the family table day by
day (not from the project's SQL): a day belongs to the latest-starting period covering it; the
rating age is the age on that period's start, or on 1 January for a period that began earlier;
per policy and month, a non-subscriber with a rating age under 21 is a child and only the three
oldest children covered in the month are billable (45 CFR 147.102(c)(1)); months are summed
exactly and rounded once, to 4 places, per plan x rating area (issue 13 item 2).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pytest
from record_builders import ISSUER, YEAR, ZONE, enrollee, enrollment_period, write_submission
from transfer_support import verify_and_score

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.layouts import ESES
from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.reference import read_age_curve
from edge_pipeline.edge.transfer import compute_transfer_elements
from edge_pipeline.edge.verification import load_reference_tables
from edge_pipeline.edge.warehouse.load import load_file

RUN = ScoringRun(YEAR, ISSUER, ZONE)
JAN1, DEC31 = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Span:
    """One enrollment period of a family: dates, rating area, the subscriber's premium."""

    start: str
    end: str
    area: str = "001"
    premium: str = "1000.00"


@dataclass(frozen=True)
class Person:
    member: str
    birth: str


#: Family -> (plan, subscriber, dependents, the policy's periods).
FAMILIES: dict[str, tuple[str, Person, list[Person], list[Span]]] = {
    "TURN21": (
        "12345NC001000101",
        Person("T_SUB", "1975-04-04"),
        [
            Person("T_KID1", "2004-06-15"),  # 20 on 1 January, 21 on 15 June
            Person("T_KID2", "2008-01-10"),
            Person("T_KID3", "2011-05-05"),
            Person("T_KID4", "2015-09-09"),
        ],
        [Span("2025-01-01", "2025-12-31", premium="2000.00")],
    ),
    "RENEW": (
        "12345NC001000201",
        Person("R_SUB", "1978-08-08"),
        [
            Person("R_KID1", "2004-05-10"),  # 20 on 1 January, 21 on the 1 July renewal
            Person("R_KID2", "2007-02-02"),
            Person("R_KID3", "2010-03-03"),
            Person("R_KID4", "2014-04-04"),
        ],
        [
            Span("2025-01-01", "2025-06-30", premium="1500.00"),
            Span("2025-07-01", "2025-12-31", premium="1600.00"),
        ],
    ),
    "FIVE": (
        "12345NC001000301",
        Person("F_SUB", "1972-02-02"),
        [
            Person("F_KID1", "2004-08-20"),  # 21 on 20 August
            Person("F_KID2", "2007-06-06"),
            Person("F_KID3", "2010-07-07"),
            Person("F_KID4", "2013-08-08"),
            Person("F_KID5", "2019-09-09"),
        ],
        [Span("2025-01-01", "2025-12-31", premium="2400.00")],
    ),
    "CARRY": (
        "12345NC001000401",
        Person("C_SUB", "1976-03-03"),
        [
            Person("C_KID0", "2003-10-01"),  # 20 on 1 July 2024, 21 on 1 January 2025
            Person("C_KID1", "2004-09-01"),  # 20 on 1 January 2025, 21 on 1 September
            Person("C_KID2", "2009-03-03"),
            Person("C_KID3", "2012-04-04"),
            Person("C_KID4", "2016-05-05"),
        ],
        [Span("2024-07-01", "2025-12-31", premium="1900.00")],
    ),
    "SPOUSE": (
        "12345NC001000501",
        Person("S_SUB", "2002-01-15"),
        [
            Person("S_SPOUSE", "2004-07-07"),  # 20 on 1 January (21 on 7 July): a child
            Person("S_KID1", "2020-02-02"),
            Person("S_KID2", "2022-03-03"),
            Person("S_KID3", "2024-04-04"),
        ],
        [Span("2025-01-01", "2025-12-31", premium="1300.00")],
    ),
    "MOVER": (
        "12345NC001000601",
        Person("M_SUB", "1970-03-01"),  # 54 on 1 January, 55 on 16 May
        [Person("M_KID", "2012-06-01"), Person("M_KID2", "2016-01-01")],
        [
            Span("2025-01-01", "2025-05-15", area="001", premium="700.00"),
            Span("2025-05-16", "2025-12-31", area="002", premium="760.00"),
        ],
    ),
    "BIRTHDAY": (
        "12345NC001000701",
        Person("B_SUB", "1985-03-15"),  # 39 on 1 January, 40 on the 1 July renewal
        [],
        [
            Span("2025-01-01", "2025-06-30", premium="450.00"),
            Span("2025-07-01", "2025-12-31", premium="480.00"),
        ],
    ),
    "THIRDS": (
        "12345NC001000801",
        Person("H_SUB", "1980-01-01"),
        [Person("H_KID1", "2012-02-02"), Person("H_KID2", "2015-03-03")],
        [Span("2025-06-01", "2025-06-10", premium="900.00")],
    ),
}


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@functools.cache
def _factor(age: int) -> Decimal:
    """The federal default curve's factor of ``age``, clipped to the curve's ages."""
    curve = read_age_curve()
    return Decimal(str(curve[min(max(age, min(curve)), max(curve))]))


def _round(value: Fraction, places: str) -> Decimal:
    """``value`` (exact) rounded half up to ``places`` ("0.0001")."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


@functools.cache
def _expected() -> dict[tuple[str, str], dict[str, Any]]:
    """Per (14-character plan, rating area): enrollees, member months, billable months, ARF and
    premium PMPM by the rules of the module doc, computed day by day from :data:`FAMILIES` in
    exact fractions."""
    # (plan, area, member) -> [member months, billable months, factor x billable, premium]
    sums: dict[tuple[str, str, str], list[Fraction]] = defaultdict(lambda: [Fraction(0)] * 4)
    for plan, subscriber, dependents, spans in FAMILIES.values():
        people = [subscriber, *dependents]
        for month in range(1, 13):
            first = dt.date(YEAR, month, 1)
            last = dt.date(YEAR + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
            share = Fraction(1, last.day)
            # member -> [(area, rating age, premium) of each covered day]
            days: dict[str, list[tuple[str, int, Fraction]]] = defaultdict(list)
            day = first
            while day <= last:
                covering = [s for s in spans if _date(s.start) <= day <= _date(s.end)]
                if covering:
                    span = max(covering, key=lambda s: s.start)
                    rated_on = max(_date(span.start), JAN1)
                    for person in people:
                        age = _age(_date(person.birth), rated_on)
                        premium = Fraction(span.premium) if person is subscriber else Fraction(0)
                        days[person.member].append((span.area, age, premium))
                day += dt.timedelta(days=1)
            children = sorted(
                (p for p in dependents if any(age < 21 for _, age, _ in days[p.member])),
                key=lambda p: p.birth,
            )
            unbilled = {p.member for p in children[3:]}
            for member, covered in days.items():
                for area, age, premium in covered:
                    billed = Fraction(0) if member in unbilled and age < 21 else share
                    row = sums[plan[:14], area, member]
                    row[0] += share
                    row[1] += billed
                    row[2] += Fraction(_factor(age)) * billed
                    row[3] += premium * share
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for (plan, area, _), (months, billed, weighted, premium) in sums.items():
        row = totals.setdefault(
            (plan, area),
            {"enrollees": 0, "mm": Fraction(0)}
            | {"exact": Fraction(0), "fw": Fraction(0), "prem": Fraction(0)},
        )
        row["enrollees"] += 1
        row["mm"] += months
        row["exact"] += billed
        row["fw"] += weighted
        row["prem"] += premium
    for row in totals.values():
        # months rounded once per row; ARF and premium PMPM weighted by the exact billable months
        row["mm"] = _round(row["mm"], "0.0001")
        row["bmm"] = _round(row["exact"], "0.0001")
        row["arf"] = _round(row.pop("fw") / row["exact"], "0.001")
        row["premium_pmpm"] = _round(row.pop("prem") / row.pop("exact"), "0.01")
    return totals


def _registry(folder: Path) -> Path:
    path = folder / "registry.csv"
    rows = "".join(
        f"{plan},{ISSUER},NC,individual,gold,01,001;002,2024,2025\n"
        for plan, *_ in FAMILIES.values()
    )
    path.write_text(
        "insurance_plan_identifier,issuer_identifier,state,market,metal,csr_variant,"
        "rating_areas,effective_start_year,effective_end_year\n" + rows,
        encoding="utf-8",
    )
    (folder / "code_list_icd10cm.csv").write_text("code\nJ069\nE119\n", encoding="utf-8")
    return path


def _eses() -> list[dict[str, Any]]:
    records = []
    for plan, subscriber, dependents, spans in FAMILIES.values():
        records.append(
            enrollee(
                subscriber.member,
                [
                    enrollment_period(plan, s.start, s.end, premium=s.premium, area=s.area)
                    for s in spans
                ],
                subscriber.birth,
            )
        )
        records.extend(
            enrollee(
                person.member,
                [
                    enrollment_period(
                        plan, s.start, s.end, subscriber=subscriber.member, area=s.area
                    )
                    for s in spans
                ],
                person.birth,
            )
            for person in dependents
        )
    return records


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("transfer_families")
    connection = connect(root / "warehouse.duckdb")
    load_reference_tables(connection, _registry(root), [root])
    path = root / "01.xml"
    write_submission(path, ESES, 1, [(None, _eses())])
    load_file(connection, path)
    verify_and_score(connection, ISSUER, ZONE)
    compute_transfer_elements(connection, RUN, gcf_path=None)
    yield connection
    connection.close()


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    result = con.execute(sql, params)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _ratee(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict[str, Any]]:
    rows = _query(
        con,
        "SELECT * FROM shadow_ratee WHERE benefit_year = ? AND issuer_id = ? "
        "AND execution_zone = ?",
        list(RUN.params),
    )
    return {(r["plan_id"], r["rating_area"]): r for r in rows}


def _billable(con: duckdb.DuckDBPyConnection, family: str) -> dict[str, Decimal]:
    """Billable member months of each member of ``family`` (``ra_enrollee``)."""
    plan = FAMILIES[family][0]
    rows = con.execute(
        "SELECT member_id, billable_member_months FROM ra_enrollee WHERE benefit_year = ? "
        "AND issuer_id = ? AND execution_zone = ? AND plan_id = ?",
        [*RUN.params, plan],
    ).fetchall()
    return dict(rows)


def test_fixture_files_were_accepted(con: duckdb.DuckDBPyConnection) -> None:
    rejected = con.execute("SELECT count(*) FROM shadow_record_status WHERE status <> 'A'")
    assert rejected.fetchall() == [(0,)]
    people = sum(1 + len(dependents) for _, _, dependents, _ in FAMILIES.values())
    assert con.execute("SELECT count(*) FROM ra_enrollee").fetchall() == [(people,)]


def test_child_turning_21_mid_year_keeps_three_billable_children(
    con: duckdb.DuckDBPyConnection,
) -> None:
    billable = _billable(con, "TURN21")
    # T_KID1 is rated at 20 all year: it stays one of the three oldest, T_KID4 is never billed
    assert billable == {
        "T_SUB": 12,
        "T_KID1": 12,
        "T_KID2": 12,
        "T_KID3": 12,
        "T_KID4": 0,
    }
    row = _ratee(con)["12345NC0010001", "001"]
    assert (row["member_months"], row["billable_member_months"]) == (60, 48)
    assert row["premium_pmpm"] == Decimal("2000") * 12 / 48  # 500.00, not 2000 x 12 / 54


def test_renewal_re_rates_the_eldest_child_as_an_adult(con: duckdb.DuckDBPyConnection) -> None:
    billable = _billable(con, "RENEW")
    # to 30 June R_KID1 is a child (20) and R_KID4 the fourth; from the 1 July renewal R_KID1
    # is rated at 21 (an adult, billable) and R_KID4 one of three children: billed 6 months
    assert billable == {"R_SUB": 12, "R_KID1": 12, "R_KID2": 12, "R_KID3": 12, "R_KID4": 6}


def test_five_children_three_billable(con: duckdb.DuckDBPyConnection) -> None:
    billable = _billable(con, "FIVE")
    assert billable == {
        "F_SUB": 12,
        "F_KID1": 12,  # rated at 20 all year though 21 from 20 August
        "F_KID2": 12,
        "F_KID3": 12,
        "F_KID4": 0,
        "F_KID5": 0,
    }


def test_period_from_an_earlier_year_is_rated_on_january_first(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # C_KID0 was 20 when the period began (July 2024) but 21 on 1 January 2025: an adult;
    # C_KID1, 20 on 1 January, stays a child after its September birthday
    billable = _billable(con, "CARRY")
    assert billable == {
        "C_SUB": 12,
        "C_KID0": 12,
        "C_KID1": 12,
        "C_KID2": 12,
        "C_KID3": 12,
        "C_KID4": 0,
    }


def test_a_dependent_under_21_is_a_child_whatever_its_relationship(
    con: duckdb.DuckDBPyConnection,
) -> None:
    billable = _billable(con, "SPOUSE")
    assert billable == {"S_SUB": 12, "S_SPOUSE": 12, "S_KID1": 12, "S_KID2": 12, "S_KID3": 0}


def test_mover_months_bmm_score_weight_and_premium_split_by_rating_area(
    con: duckdb.DuckDBPyConnection,
) -> None:
    ratee = _ratee(con)
    before, after = ratee["12345NC0010006", "001"], ratee["12345NC0010006", "002"]
    early, late = Fraction(4) + Fraction(15, 31), Fraction(7) + Fraction(16, 31)
    assert (before["enrollees"], after["enrollees"]) == (3, 3)
    # rounded once per row: 13.4516 (three enrollees' rounded 4.4839 would sum to 13.4517)
    assert before["member_months"] == before["billable_member_months"] == Decimal("13.4516")
    assert _round(3 * early, "0.0001") == Decimal("13.4516")
    assert after["member_months"] == after["billable_member_months"] == _round(3 * late, "0.0001")
    # the subscriber's premium of each period in that period's area, per billable month
    assert before["premium_pmpm"] == _round(700 * early / (3 * early), "0.01")
    assert after["premium_pmpm"] == _round(760 * late / (3 * late), "0.01")
    # the same two scores weighted by the same months in each area
    scores = dict(
        con.execute(
            "SELECT member_id, score_csr_adjusted FROM shadow_risk_score WHERE benefit_year = ? "
            "AND issuer_id = ? AND execution_zone = ? AND plan_id = ?",
            [*RUN.params, FAMILIES["MOVER"][0]],
        ).fetchall()
    )
    mean = sum(scores.values()) / 3
    assert before["plrs"] == after["plrs"] == mean.quantize(Decimal("0.001"), ROUND_HALF_UP)
    # ARF: the subscriber rated at 54 until 15 May, at 55 from its 16 May period; children 12, 9
    for row, age in ((before, 54), (after, 55)):
        arf = (_factor(age) + _factor(12) + _factor(9)) / 3
        assert row["arf"] == arf.quantize(Decimal("0.001"), ROUND_HALF_UP)


def test_arf_by_rating_age_per_period_weighted_by_billable_months(
    con: duckdb.DuckDBPyConnection,
) -> None:
    row = _ratee(con)["12345NC0010007", "001"]
    assert _factor(39) != _factor(40)
    expected = (_factor(39) * 6 + _factor(40) * 6) / 12
    assert row["arf"] == expected.quantize(Decimal("0.001"), ROUND_HALF_UP)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_ratee_element_matches_the_rules(con: duckdb.DuckDBPyConnection, family: str) -> None:
    plan = FAMILIES[family][0][:14]
    expected = {key: row for key, row in _expected().items() if key[0] == plan}
    actual = {key: row for key, row in _ratee(con).items() if key[0] == plan}
    assert sorted(actual) == sorted(expected)
    for key, want in expected.items():
        got = actual[key]
        assert got["enrollees"] == want["enrollees"], key
        assert got["member_months"] == want["mm"], key
        assert got["billable_member_months"] == want["bmm"], key
        assert got["arf"] == want["arf"], key
        assert got["premium_pmpm"] == want["premium_pmpm"], key


def test_months_rounded_once_per_ratee_row(con: duckdb.DuckDBPyConnection) -> None:
    row = _ratee(con)["12345NC0010008", "001"]
    third = Fraction(10, 30)  # 1-10 June
    per_enrollee = 3 * _round(third, "0.0001")  # what summing rounded RARSD values gives
    once = _round(3 * third, "0.0001")
    assert (per_enrollee, once) == (Decimal("0.9999"), Decimal("1.0000"))
    assert row["enrollees"] == 3
    assert row["member_months"] == row["billable_member_months"] == once
    # the premium of the 10 days per billable month, weighted by the unrounded months
    assert row["premium_pmpm"] == _round(900 * third / (3 * third), "0.01")  # 300.00
