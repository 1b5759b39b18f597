"""Synthetic enrollees, generated family by family from the master seed.

Why per family: a family (subscriber, spouse, children, newborn) shares one policy, so its
enrollment periods, plan and rating area are drawn together.  Each family has its own random
stream, so family ``i`` can be regenerated at any time without the others: the ESES pass walks
all families once, and the claim passes regenerate only the families enrolled in the plan being
written.  Memory stays flat in the number of enrollees.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from edge_pipeline.edge.claim_selection.enrollees import BILLABLE_CHILDREN, CHILD_AGE_LIMIT
from edge_pipeline.edge.reference import read_age_curve
from edge_pipeline.edge.synth.codes import CodeSets
from edge_pipeline.edge.synth.ids import masked_member_id, month_end, ordinal, rng_for
from edge_pipeline.edge.synth.plans import AREA_FACTORS, RATING_AREAS, Plan, plan_weights

#: Enrollment maintenance type codes (assumed meanings, spec section 3).
NEW_ENROLLMENT = "021028"
RENEWAL = "021041"

_CHILD_COUNT_WEIGHTS = (34, 30, 18, 10, 5, 3)  # 1..6 children: ~18 % have more than three
_AREA_WEIGHTS = (50, 30, 20)
#: Share of families that move to another rating area of their plan mid-year (issue 13 item 5).
MOVER_SHARE = 0.015


@dataclass(slots=True)
class Period:
    """One enrollment period of one enrollee (dates are proleptic ordinals)."""

    plan: int
    start: int
    end: int
    maintenance: str
    area: str
    premium_cents: int = 0


@dataclass(slots=True)
class Member:
    """One enrollee: masked id, demographics and the periods of the family policy it is on."""

    position: int
    member_id: str
    birth: int
    gender: str
    relation: str  # subscriber, spouse, child, newborn
    periods: list[Period]
    chronic: tuple[str, ...] = ()

    def covered(self, day: int) -> Period | None:
        """The period covering ``day``, if any."""
        for period in self.periods:
            if period.start <= day <= period.end:
                return period
        return None

    def uncovered_day(self, benefit_year: int) -> int:
        """A day close to the member's coverage on which the member is not covered."""
        first = min(p.start for p in self.periods)
        candidates = [first - 20]
        for a, b in zip(self.periods, self.periods[1:], strict=False):
            if b.start - a.end > 2:
                candidates.insert(0, a.end + (b.start - a.end) // 2)
        last = max(p.end for p in self.periods)
        candidates.append(last + 20)
        for day in candidates:
            if self.covered(day) is None and day > self.birth:
                return day
        return ordinal(benefit_year + 1, 2, 1)


@dataclass(slots=True)
class Family:
    """A policy: the subscriber first, then dependents, all sharing the rating area."""

    index: int
    members: list[Member]
    area: str
    plans: tuple[int, ...] = field(default=())

    @property
    def subscriber(self) -> Member:
        return self.members[0]


@functools.lru_cache(maxsize=1)
def _age_factors() -> tuple[float, ...]:
    curve = read_age_curve()
    top = max(curve)
    return tuple(curve.get(age, curve[top]) for age in range(top + 1))


def age_on(birth: int, day: int) -> int:
    """Age in whole years on ``day`` (both ordinals)."""
    b = dt.date.fromordinal(birth)
    d = dt.date.fromordinal(day)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


class Population:
    """All families of the synthetic issuer, regenerated on demand from the seed."""

    def __init__(
        self,
        seed: int,
        benefit_year: int,
        enrollees: int,
        plans: tuple[Plan, ...],
        codes: CodeSets,
    ) -> None:
        self.seed = seed
        self.year = benefit_year
        self.enrollees = enrollees
        self.plans = plans
        self.codes = codes
        self.family_count = 0
        self.last_cap: int | None = None
        weights = plan_weights()
        self._plan_cum = [sum(weights[: i + 1]) for i in range(len(weights))]
        self._age_factors = _age_factors()

    def families(self) -> Iterator[Family]:
        """Every family in order (first pass); fixes the family count and the last cap."""
        remaining = self.enrollees
        index = 0
        while remaining > 0:
            family = self._generate(index)
            if len(family.members) > remaining:
                self.last_cap = remaining
                del family.members[remaining:]
            remaining -= len(family.members)
            index += 1
            self.family_count = index
            yield family

    def family(self, index: int) -> Family:
        """Regenerate family ``index`` exactly as the first pass produced it."""
        family = self._generate(index)
        if index == self.family_count - 1 and self.last_cap is not None:
            del family.members[self.last_cap :]
        return family

    # -- generation ---------------------------------------------------------------------------

    def _draw_plan(self, rng: random.Random, area: str, subscriber_age: int) -> int:
        for _ in range(8):
            pick = bisect.bisect_right(self._plan_cum, rng.random() * self._plan_cum[-1])
            plan = self.plans[pick]
            if area not in plan.rating_areas:
                continue
            if plan.metal == "catastrophic" and subscriber_age >= 30:
                continue
            return pick
        return next(p.index for p in self.plans if p.metal == "bronze" and area in p.rating_areas)

    def _generate(self, index: int) -> Family:
        rng = rng_for(self.seed, "family", index)
        year = self.year
        start_of_year = ordinal(year, 1, 1)
        end_of_year = ordinal(year, 12, 31)

        shape = rng.random()
        spouse = 0.36 <= shape < 0.56 or shape >= 0.70
        n_children = 0
        if shape >= 0.56:
            n_children = rng.choices(range(1, 7), _CHILD_COUNT_WEIGHTS)[0]
        sub_age = rng.randint(24, 60) if n_children else 21 + int(rng.random() ** 1.2 * 44)

        def birth_for(age: int) -> int:
            return ordinal(year - age - 1, 1, 1) + rng.randrange(365)

        people: list[tuple[str, int, str]] = []  # relation, birth, gender
        sub_gender = rng.choice("FM")
        people.append(("subscriber", birth_for(sub_age), sub_gender))
        if spouse:
            age = max(21, min(64, sub_age + rng.randint(-5, 5)))
            gender = ("M" if sub_gender == "F" else "F") if rng.random() < 0.95 else sub_gender
            people.append(("spouse", birth_for(age), gender))
        for _ in range(n_children):
            if rng.random() < 0.05 and sub_age >= 45:
                age = rng.randint(21, 25)
            elif rng.random() < 0.15:
                age = rng.randint(0, 1)
            else:
                age = rng.randint(0, max(0, min(20, sub_age - 18)))
            people.append(("child", birth_for(age), rng.choice("FM")))
        newborn_birth = None
        if n_children and rng.random() < 0.12:
            newborn_birth = start_of_year + rng.randrange(334)

        area = RATING_AREAS[rng.choices(range(3), _AREA_WEIGHTS)[0]]
        plan0 = self._draw_plan(rng, area, sub_age)
        periods = self._policy_periods(rng, plan0, area, sub_age, start_of_year, end_of_year)
        periods = self._move(index, periods, start_of_year)

        newborn_u = False
        if newborn_birth is not None:
            people.append(("newborn", newborn_birth, rng.choice("FM")))
            newborn_u = rng.random() < 0.3
        members: list[Member] = []
        for relation, birth, gender in people:
            # Nobody is covered before birth: a child born during a period joins at birth.
            own = [
                Period(p.plan, max(p.start, birth), p.end,
                       p.maintenance if p.start >= birth else NEW_ENROLLMENT, p.area)
                for p in periods
                if p.end >= birth
            ]  # fmt: skip
            if not own:
                continue  # born after the family's coverage ended
            if relation == "newborn" and newborn_u and own[0].start - birth <= 90:
                gender = "U"  # allowed only when coverage starts within 90 days of birth
            position = len(members)
            members.append(
                Member(
                    position=position,
                    member_id=masked_member_id(self.seed, index, position),
                    birth=birth,
                    gender=gender,
                    relation=relation,
                    periods=own,
                )
            )
        self._premiums(members)
        self._chronic(rng, members, end_of_year)
        plans_touched = tuple(sorted({p.plan for m in members for p in m.periods}))
        return Family(index=index, members=members, area=area, plans=plans_touched)

    def _policy_periods(
        self, rng: random.Random, plan0: int, area: str, sub_age: int, start: int, end: int
    ) -> list[Period]:
        year = self.year
        shape = rng.random()
        if shape < 0.48:  # the whole benefit year
            return [Period(plan0, start, end, NEW_ENROLLMENT, area)]
        if shape < 0.63:  # renewal from the previous year, sometimes into another plan
            month = rng.randint(1, 10)
            previous = plan0 if rng.random() < 0.8 else self._draw_plan(rng, area, sub_age)
            return [
                Period(
                    previous,
                    ordinal(year - 1, month, 1),
                    ordinal(year - 1, 12, 31),
                    NEW_ENROLLMENT,
                    area,
                ),
                Period(plan0, start, end, RENEWAL, area),
            ]
        if shape < 0.78:  # mid-year start
            return [Period(plan0, ordinal(year, rng.randint(2, 11), 1), end, NEW_ENROLLMENT, area)]
        if shape < 0.90:  # a gap, then coverage again (sometimes in another plan)
            stop = rng.randint(2, 6)
            resume = rng.randint(stop + 2, min(stop + 5, 11))
            plan1 = plan0 if rng.random() < 0.6 else self._draw_plan(rng, area, sub_age)
            return [
                Period(plan0, start, month_end(year, stop), NEW_ENROLLMENT, area),
                Period(plan1, ordinal(year, resume, 1), end, NEW_ENROLLMENT, area),
            ]
        # coverage ends mid-year
        return [Period(plan0, start, month_end(year, rng.randint(3, 10)), NEW_ENROLLMENT, area)]

    def _move(self, index: int, periods: list[Period], start_of_year: int) -> list[Period]:
        """A few families (:data:`MOVER_SHARE`) move mid-year: their last period is split on a
        day of its benefit-year part, the later part in another rating area of the same plan.

        Drawn from the family's own ``mover`` stream, so every other draw of the family (and
        of every family) is the same with or without the move; deterministic per seed.
        """
        rng = rng_for(self.seed, "mover", index)
        if rng.random() >= MOVER_SHARE:
            return periods
        last = periods[-1]
        first_day = max(last.start, start_of_year)
        others = [a for a in self.plans[last.plan].rating_areas if a != last.area]
        if not others or last.end - first_day < 60:
            return periods
        moved_on = first_day + rng.randint(30, last.end - first_day - 30)
        return [
            *periods[:-1],
            Period(last.plan, last.start, moved_on - 1, last.maintenance, last.area),
            Period(last.plan, moved_on, last.end, NEW_ENROLLMENT, rng.choice(others)),
        ]

    def _premiums(self, members: list[Member]) -> None:
        """Monthly policy premium on the subscriber's periods: base x area x age factors.

        Every member whose coverage overlaps the period is rated at its age on the period start
        (a newborn born later in the period counts as age 0); dependents' periods carry 0.  Of
        the dependents under 21 only the three oldest are charged (45 CFR 147.102(c)(1), the
        rule claim selection bills by), so a premium per billable member month is realistic.
        """
        factors = self._age_factors
        top = len(factors) - 1
        for period in members[0].periods:
            rated = [
                (member, age_on(member.birth, period.start))
                for member in members
                if any(p.start <= period.end and p.end >= period.start for p in member.periods)
            ]
            children = sorted(
                (m.birth, m.position)
                for m, age in rated
                if m is not members[0] and age < CHILD_AGE_LIMIT
            )
            uncharged = {position for _, position in children[BILLABLE_CHILDREN:]}
            total = sum(
                factors[min(top, max(0, age))]
                for member, age in rated
                if member.position not in uncharged
            )
            plan = self.plans[period.plan]
            period.premium_cents = round(
                plan.base_premium_cents * AREA_FACTORS[period.area] * total
            )

    def _chronic(self, rng: random.Random, members: list[Member], end_of_year: int) -> None:
        """Conditions a member carries all year: claims and supplementals reuse them."""
        pool = self.codes.hcc_icd10
        if not pool:
            return
        for member in members:
            age = age_on(member.birth, end_of_year)
            chance = 0.30 if age >= 21 else (0.10 if age >= 2 else 0.05)
            if rng.random() < chance:
                k = 1 if age < 21 else rng.randint(1, 3)
                member.chronic = tuple(rng.choice(pool) for _ in range(k))
