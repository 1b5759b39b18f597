"""RATEE and the transfer of two synthetic issuers, recomputed from their ESES files (issue 13).

Each issuer is generated small with the project's generator (one clean, one with
``error_rate`` > 0, so its ESES has rejected records and defect files), then run through the
real pipeline up to the transfer estimate: load, Phase 1 verification, claim selection,
scoring, ``compute_transfer_elements`` (with the generator's ``gcf.csv`` and the federal
default age curve) and ``estimate_transfers`` (with its ``market_pool.csv``).  The generator
writes few movers and no period begun in an earlier year, so before loading its ESES is
edited with lxml (:func:`_edit_eses`) to have many of both.

The test then recomputes every RATEE element per plan (14 characters) x rating area x risk
pool *independently*: the enrollment periods are read from the ESES XML itself with lxml, not
from the warehouse tables the project wrote, together with the plan registry, ``gcf.csv``,
``market_pool.csv`` and the age curve CSV, day by day in exact fractions:

* a day belongs to the latest-starting period covering it (that period's rating area, premium
  and rating date), so each month's share goes to the rating area of the period covering it;
* the rating age is the age on the period's start, or on 1 January for a period begun in an
  earlier year (45 CFR 147.102(a)(1)(iii));
* per policy (the subscriber of the enrollee's latest period in the plan) and month, a
  non-subscriber whose rating age is under 21 is a child and only the three oldest children
  (by birth date, then member id) covered in the month are billable (45 CFR 147.102(c)(1));
* PLRS = CSR-adjusted scores weighted by billable months, ARF = the age curve's factor of the
  rating age weighted by billable months, premium PMPM = Σ policy premium x member months /
  Σ billable months, AV / IDF by metal (spec section 8), GCF by rating area.

Two inputs are taken from the project on purpose, because they are not what is tested here:

* **which periods Phase 1 accepted**: the ESES with an error rate has rejected records; rather
  than re-implementing Phase 1, the accepted set is the (file, record identifier) pairs of the
  ``active_enrollment`` view (``shadow_record_status`` status ``A`` of the replacing ESES) --
  every value of those periods is still read from the XML;
* **the risk scores**: ``shadow_risk_score.score_csr_adjusted`` per enrollee x plan (scoring
  has its own tests).

The spec section 8 formula (:func:`transfer_support.reference`, exact fractions) is then
applied per pool to the recomputed plan x rating area rows plus the market file's rows, and
every plan's transfer (the sum of its rows) must be within $1 of ``transfer_estimate``.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pytest
from lxml import etree
from transfer_support import IDF_AV, reference, run_to_transfer

from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.reference import read_age_curve
from edge_pipeline.edge.synth import generate_issuer

YEAR = 2025
JAN1, DEC31 = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
#: (enrollees, seed, error rate) of the two issuers.
ISSUERS = {"clean": (300, 23, 0.0), "defects": (300, 29, 0.05)}
NS = "{http://vo.edge.fm.cms.hhs.gov}"
RUN_SQL = "benefit_year = ? AND issuer_id = ? AND execution_zone = ?"
BILLABLE_CHILDREN, CHILD_AGE = 3, 21


@dataclass(frozen=True)
class Period:
    """One accepted ESES enrollment period, as the XML has it."""

    member: str
    birth: dt.date
    subscriber: str
    is_subscriber: bool
    plan: str
    start: dt.date
    end: dt.date
    premium: Fraction
    area: str
    record: int


@dataclass
class Built:
    con: duckdb.DuckDBPyConnection
    run: ScoringRun
    folder: Path


@pytest.fixture(scope="module", params=sorted(ISSUERS))
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    enrollees, seed, error_rate = ISSUERS[request.param]
    folder = tmp_path_factory.mktemp(f"recompute_{request.param}")
    issuer = folder / "issuer"
    manifest = generate_issuer(issuer, enrollees=enrollees, seed=seed, error_rate=error_rate)
    moved, carried = _edit_eses(issuer, manifest.files[0].path)
    assert moved and carried, "the edited ESES has movers and periods begun in 2024"
    con, run, _ = run_to_transfer(issuer, manifest, folder / "warehouse.duckdb")
    yield Built(con, run, issuer)
    con.close()


def _edit_eses(issuer: Path, name: str) -> tuple[int, int]:
    """Edit the generated ESES ``name`` in place (with lxml, before it is loaded) so it has what
    the generator does not write: movers and periods begun in the previous year.  Every
    policy that renews in the year (a subscriber with two periods in a plan) moves at the
    renewal to another of the plan's rating areas, subscriber and dependents alike; every
    third policy covered from 1 January with a single period (all its members born before
    1 July 2024, none with another period) gets a period begun on 1 July 2024 instead.  Returns (policies moved, policies carried over)."""
    path = issuer / name
    areas = {
        r["insurance_plan_identifier"]: r["rating_areas"].split(";")
        for r in _csv(issuer / "plan_registry.csv")
    }
    tree = etree.parse(str(path))
    profiles = []  # (policy, start, profile element)
    born: dict[tuple[str, str], str] = {}  # policy -> its youngest member's birth date
    for member in tree.getroot().iter(f"{NS}includedInsuredMember"):
        member_id = member.findtext(f"{NS}insuredMemberIdentifier")
        birth = member.findtext(f"{NS}insuredMemberBirthDate") or "9999"
        for profile in member.iter(f"{NS}includedInsuredMemberProfile"):
            policy = (
                profile.findtext(f"{NS}subscriberIdentifier") or member_id,
                profile.findtext(f"{NS}insurancePlanIdentifier"),
            )
            profiles.append((policy, profile.findtext(f"{NS}coverageStartDate"), profile))
            born[policy] = max(born.get(policy, ""), birth)
            if len(member.findall(f"{NS}includedInsuredMemberProfile")) > 1:
                born[policy] = "9999"  # a member with other periods: left as it is
    starts: dict[tuple[str, str], set[str]] = defaultdict(set)
    for policy, start, _ in profiles:
        if start:
            starts[policy].add(start)
    moved = {p for p, s in starts.items() if len(s) == 2 and len(areas.get(p[1], [])) > 1}
    carry_start = f"{YEAR - 1}-07-01"
    single = sorted(
        p for p, s in starts.items() if s == {f"{YEAR}-01-01"} and born[p] < carry_start
    )
    carried = set(single[::3])
    for policy, start, profile in profiles:
        area = profile.find(f"{NS}rateAreaIdentifier")
        if policy in moved and start == max(starts[policy]) and area is not None and area.text:
            plan_areas = areas[policy[1]]
            area.text = plan_areas[(plan_areas.index(area.text) + 1) % len(plan_areas)]
        if policy in carried:
            profile.find(f"{NS}coverageStartDate").text = carry_start
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")
    return len(moved), len(carried)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _dicts(b: Built, sql: str) -> list[dict[str, Any]]:
    cursor = b.con.execute(sql, list(b.run.params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _round(value: Fraction, places: str) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _accepted_periods(b: Built) -> list[Period]:
    """The accepted periods of the replacing ESES, every value read from its XML."""
    accepted = b.con.execute(
        "SELECT DISTINCT file_identifier, enrollment_period_record_identifier "
        "FROM active_enrollment WHERE issuer_id = ? AND execution_zone = ?",
        [b.run.issuer_id, b.run.execution_zone],
    ).fetchall()
    files = {f for f, _ in accepted}
    records = {int(r) for _, r in accepted}
    assert len(files) == 1, files
    periods = []
    for path in sorted(b.folder.glob(f"{b.run.issuer_id}.E.*.xml")):
        root = etree.parse(str(path)).getroot()
        if root.findtext(f"{NS}fileIdentifier") not in files:
            continue
        for member in root.iter(f"{NS}includedInsuredMember"):
            member_id = member.findtext(f"{NS}insuredMemberIdentifier")
            for profile in member.iter(f"{NS}includedInsuredMemberProfile"):
                record = int(profile.findtext(f"{NS}recordIdentifier"))
                if record not in records:
                    continue
                is_subscriber = profile.findtext(f"{NS}subscriberIndicator") == "S"
                periods.append(
                    Period(
                        member=member_id,
                        birth=_date(member.findtext(f"{NS}insuredMemberBirthDate")),
                        subscriber=(profile.findtext(f"{NS}subscriberIdentifier") or member_id),
                        is_subscriber=is_subscriber,
                        plan=profile.findtext(f"{NS}insurancePlanIdentifier"),
                        start=_date(profile.findtext(f"{NS}coverageStartDate")),
                        end=_date(profile.findtext(f"{NS}coverageEndDate")),
                        premium=Fraction(profile.findtext(f"{NS}insurancePlanPremiumAmount")),
                        area=profile.findtext(f"{NS}rateAreaIdentifier"),
                        record=record,
                    )
                )
    assert len(periods) == len(records), "every accepted period found in the XML"
    return periods


def _factor(age: int, curve: dict[int, Any]) -> Fraction:
    return Fraction(str(curve[min(max(age, min(curve)), max(curve))]))


def _month_segments(
    periods: list[Period],
) -> dict[tuple[str, str], dict[int, list[tuple[Period, int]]]]:
    """Per (member, 16-character plan) and month: (covering period, days) -- each day in the
    latest-starting period covering it (ties: the later record)."""
    by_key: dict[tuple[str, str], list[Period]] = defaultdict(list)
    for p in periods:
        if p.start <= DEC31 and p.end >= JAN1 and p.start <= p.end:
            by_key[p.member, p.plan].append(p)
    months: dict[tuple[str, str], dict[int, list[tuple[Period, int]]]] = {}
    for key, own in by_key.items():
        days: dict[int, dict[Period, int]] = defaultdict(lambda: defaultdict(int))
        day = JAN1
        while day <= DEC31:
            covering = [p for p in own if p.start <= day <= p.end]
            if covering:
                days[day.month][max(covering, key=lambda p: (p.start, p.record))] += 1
            day += dt.timedelta(days=1)
        months[key] = {m: list(d.items()) for m, d in days.items()}
    return months


def _month_days(month: int) -> int:
    nxt = dt.date(YEAR + month // 12, month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day


def recompute(b: Built) -> dict[tuple[str, str, str], dict[str, Any]]:
    """RATEE rows keyed (plan14, rating area, risk pool), from the ESES XML and the CSVs."""
    periods = _accepted_periods(b)
    registry = {r["insurance_plan_identifier"]: r for r in _csv(b.folder / "plan_registry.csv")}
    gcf = {(r["state"], r["rating_area"]): Fraction(r["gcf"]) for r in _csv(b.folder / "gcf.csv")}
    curve = read_age_curve()
    scores = {
        (r["member_id"], r["plan_id"]): r["score_csr_adjusted"]
        for r in _dicts(
            b,
            f"SELECT member_id, plan_id, score_csr_adjusted FROM shadow_risk_score WHERE {RUN_SQL}",
        )
    }
    segments = _month_segments(periods)
    assert set(scores) == set(segments), "one score per enrollee x plan with coverage"
    # the policy of an enrollee x plan: the subscriber of its latest period
    policy = {
        key: max(
            (p for p in periods if (p.member, p.plan) == key), key=lambda p: (p.start, p.record)
        )
        for key in segments
    }
    # (member, plan, month, period) -> child?  and the children of each policy x month
    children: dict[tuple[str, str, int], set[tuple[dt.date, str]]] = defaultdict(set)
    for (member, plan), by_month in segments.items():
        subscriber = policy[member, plan].subscriber
        for month, parts in by_month.items():
            for period, _ in parts:
                rating_age = _age(period.birth, max(period.start, JAN1))
                if member != subscriber and rating_age < CHILD_AGE:
                    children[subscriber, plan, month].add((period.birth, member))
    billable_children = {
        key: {m for _, m in sorted(kids)[:BILLABLE_CHILDREN]} for key, kids in children.items()
    }
    # (plan14, area, pool) -> member -> [mm, bmm, factor x bmm, premium]
    sums: dict[tuple[str, str], dict[str, list[Fraction]]] = defaultdict(
        lambda: defaultdict(lambda: [Fraction(0)] * 4)
    )
    for (member, plan), by_month in segments.items():
        subscriber = policy[member, plan].subscriber
        for month, parts in by_month.items():
            for period, days in parts:
                share = Fraction(days, _month_days(month))
                rating_age = _age(period.birth, max(period.start, JAN1))
                child = member != subscriber and rating_age < CHILD_AGE
                billed = (
                    Fraction(0)
                    if child and member not in billable_children[subscriber, plan, month]
                    else share
                )
                row = sums[plan, period.area][member]
                row[0] += share
                row[1] += billed
                row[2] += _factor(rating_age, curve) * billed
                row[3] += (period.premium if period.is_subscriber else 0) * share
    expected: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (plan, area), members in sums.items():
        reg = registry[plan]
        metal = reg["metal"].lower()
        pool = (
            "catastrophic"
            if metal == "catastrophic"
            else reg["market"].strip().lower().replace(" ", "_")
        )
        row = expected.setdefault(
            (plan[:14], area, pool),
            {"metal": metal, "state": reg["state"], "members": set(), "mm": Fraction(0)}
            | {"bmm": Fraction(0), "sbmm": Fraction(0), "fw": Fraction(0), "prem": Fraction(0)}
            | {"sw": Fraction(0)},
        )
        for member, (mm, bmm, fw, prem) in members.items():
            score = scores[member, plan]
            row["members"].add(member)
            row["mm"] += mm
            row["bmm"] += bmm
            row["fw"] += fw
            row["prem"] += prem
            if score is not None:
                row["sw"] += Fraction(score) * bmm
                row["sbmm"] += bmm
    for (_, area, _), row in expected.items():
        idf, av = IDF_AV[row["metal"]]
        row["enrollees"] = len(row.pop("members"))
        row["av"], row["idf"] = av, idf
        row["gcf"] = gcf.get((row["state"], area), Fraction(1))
        row["plrs_exact"] = row["sw"] / row["sbmm"]
        row["arf_exact"] = row["fw"] / row["bmm"]
        row["premium_exact"] = row["prem"] / row["bmm"]
    return expected


@pytest.fixture(scope="module")
def recomputed(built: Built) -> dict[tuple[str, str, str], dict[str, Any]]:
    return recompute(built)


def _ratee(b: Built) -> dict[tuple[str, str, str], dict[str, Any]]:
    rows = _dicts(b, f"SELECT * FROM shadow_ratee WHERE {RUN_SQL}")
    return {(r["plan_id"], r["rating_area"], r["risk_pool"]): r for r in rows}


def _near(value: Decimal, exact: Fraction, tolerance: Fraction) -> bool:
    return abs(Fraction(value) - exact) <= tolerance


def test_the_same_rows(built: Built, recomputed: dict) -> None:
    ratee = _ratee(built)
    assert sorted(ratee) == sorted(recomputed)
    assert len(ratee) > 10
    # the issuer has children beyond the three oldest (months not billable)
    assert sum(e["mm"] - e["bmm"] for e in recomputed.values()) > 10


def test_counts_factors_and_months(built: Built, recomputed: dict) -> None:
    """Enrollees, AV, IDF, GCF exactly; member months and billable member months are the
    row's exact sums rounded once, to 4 places (issue 13 item 2: never per enrollee first)."""
    for key, r in _ratee(built).items():
        e = recomputed[key]
        assert r["enrollees"] == e["enrollees"], key
        assert (Fraction(r["av"]), Fraction(r["idf"])) == (e["av"], e["idf"]), key
        assert Fraction(r["gcf"]) == e["gcf"], key
        assert Fraction(r["member_months"]) == _round(e["mm"], "0.0001"), key
        assert Fraction(r["billable_member_months"]) == _round(e["bmm"], "0.0001"), key


#: RATEE column of each average: (exact column, shown column, places shown).
AVERAGES = {
    "plrs": ("plrs_exact", "plrs", "0.001"),
    "arf": ("arf_exact", "arf", "0.001"),
    "premium": ("premium_pmpm_exact", "premium_pmpm", "0.01"),
}


def _tie(exact: Fraction, places: str) -> bool:
    """``exact`` is exactly half-way between two values shown to ``places``."""
    return (exact / Fraction(places)).denominator == 2


def _average_mismatches(built: Built, recomputed: dict, name: str) -> list:
    """Rows whose ``name`` differs from the recomputation: the exact column by more than 1e-6,
    or the shown column not equal to the recomputation rounded half up."""
    exact_column, shown_column, places = AVERAGES[name]
    wrong = []
    for key, r in sorted(_ratee(built).items()):
        exact = recomputed[key][f"{name}_exact"]
        if not _near(r[exact_column], exact, Fraction(1, 1_000_000)):
            wrong.append((key, exact_column, r[exact_column], float(exact)))
        elif r[shown_column] != _round(exact, places):
            wrong.append((key, shown_column, r[shown_column], float(exact)))
    return wrong


def test_plrs(built: Built, recomputed: dict) -> None:
    assert _average_mismatches(built, recomputed, "plrs") == []


def test_arf(built: Built, recomputed: dict) -> None:
    assert _average_mismatches(built, recomputed, "arf") == []


def test_premium_pmpm(built: Built, recomputed: dict) -> None:
    """Premium PMPM = Σ policy premium x member months / Σ billable months, both unrounded."""
    assert _average_mismatches(built, recomputed, "premium") == []


def test_premium_pmpm_half_cent_ties_round_half_up(built: Built, recomputed: dict) -> None:
    """A row whose exact premium PMPM is a half cent shows it rounded half up, like the
    DECIMAL columns (``premium_pmpm_exact`` and the 3-place averages) are."""
    rows = _ratee(built)
    ties = [k for k, e in recomputed.items() if _tie(e["premium_exact"], "0.01")]
    if not ties:
        pytest.skip("no half-cent tie among this issuer's rows")
    shown = {k: rows[k]["premium_pmpm"] for k in ties}
    assert shown == {k: _round(recomputed[k]["premium_exact"], "0.01") for k in ties}


def test_transfer_per_plan_within_a_dollar(built: Built, recomputed: dict) -> None:
    market = [
        r for r in _csv(built.folder / "market_pool.csv") if r["issuer_id"] != built.run.issuer_id
    ]
    pools: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for (plan, _area, pool), e in recomputed.items():
        pools[e["state"], pool].append(
            (
                plan,
                {"metal": e["metal"], "bmm": _round(e["bmm"], "0.0001")}
                | {"plrs": e["plrs_exact"], "arf": e["arf_exact"], "gcf": e["gcf"]}
                | {"premium": e["premium_exact"]},
            )
        )
    for r in market:
        key = (r["state"], r["risk_pool"])
        if key in pools:
            pools[key].append(
                (
                    r["plan_id"],
                    {"metal": r["metal"].lower(), "bmm": r["billable_member_months"]}
                    | {"plrs": r["plrs"], "arf": r["arf"], "gcf": r["gcf"]}
                    | {"premium": r["premium_pmpm"]},
                )
            )
    expected: dict[str, Fraction] = defaultdict(Fraction)
    for rows in pools.values():
        for (plan, _), amount in zip(rows, reference([r for _, r in rows]), strict=True):
            expected[plan] += amount
    actual: dict[str, Decimal] = defaultdict(Decimal)
    for r in _dicts(
        built, f"SELECT plan_id, transfer_total FROM transfer_estimate WHERE {RUN_SQL}"
    ):
        actual[r["plan_id"]] += r["transfer_total"]
    assert sorted(actual) == sorted(expected)
    off = {p: float(Fraction(actual[p]) - expected[p]) for p in expected}
    assert all(abs(v) <= 1 for v in off.values()), off
