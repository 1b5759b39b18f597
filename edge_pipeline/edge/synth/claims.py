"""Synthetic medical claims (ESMCS) of one family, regenerated deterministically on demand.

Claims are built directly as writer value dicts (layout column -> text) because the ESMCS is the
large file: no intermediate objects per leaf.  Each claim also carries the few facts that defect
injection and the supplemental generator need (member, plan, dates, chain position).

Realism that downstream checks rely on:
* service dates fall inside the member's coverage; the claim's plan is the plan covering them;
* institutional claims carry bill types (including some not acceptable for risk adjustment) and
  inpatient discharge statuses; professional claims carry a place of service;
* diagnoses mix HCC codes from DIY table 3 (chronic conditions recur across a member's claims)
  with everyday codes that map to no HCC; service codes mix RA-eligible (table 2) and
  non-eligible codes;
* void and replace chains: a replacement or void names the previous claim of the chain in
  ``original_claim_identifier`` and is processed later; institutional replacements use bill-type
  frequency 7, voids 8.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from edge_pipeline.edge.synth.context import SynthContext
from edge_pipeline.edge.synth.ids import cents, iso, iso_datetime, ordinal, rng_for
from edge_pipeline.edge.synth.population import Family, Member, Period, age_on

#: Acceptable for RA (spec section 6) with their relative frequency, and some that are not.
OUTPATIENT_BILL_TYPES = (("131", 70), ("851", 8), ("711", 7), ("761", 5), ("771", 5))
OTHER_BILL_TYPES = ("121", "141", "221", "321", "831", "181")
DISCHARGE_STATUSES = (("01", 70), ("06", 10), ("03", 8), ("02", 4), ("07", 3), ("20", 2), ("30", 3))
PLACES_OF_SERVICE = (("11", 60), ("22", 10), ("23", 8), ("02", 7), ("81", 7), ("20", 5), ("21", 3))
MODIFIERS = ("25", "59", "95", "GT", "LT", "RT")
NPI_QUALIFIER = "XX"
SERVICE_TYPE_QUALIFIER = "HC"
DIAGNOSIS_TYPE_ICD10 = "02"
MAX_CLAIMS_PER_FAMILY = 899

#: Families ``i`` with ``i % HIGH_COST_EVERY in HIGH_COST_FAMILIES`` get one catastrophic
#: inpatient stay paid above $1,000,000 (the high-cost risk pool threshold): a population of
#: 200 enrollees already has such families, a million has a few hundred high-cost enrollees.
HIGH_COST_EVERY = 5000
HIGH_COST_FAMILIES = (3, 4)
HIGH_COST_PAID_DOLLARS = (1_150_000, 1_600_000)


@dataclass(slots=True)
class Claim:
    """One medical or pharmacy claim record with the facts defect injection needs."""

    claim_id: str
    member: Member
    plan: int
    kind: str
    values: dict[str, Any]
    start: int
    end: int
    processed: tuple[int, int]
    void_replace: str = ""
    original: Claim | None = None
    successor: bool = False
    diagnoses: tuple[str, ...] = field(default=())

    @property
    def active(self) -> bool:
        """Neither replaced nor voided, and not itself a void: may carry supplementals."""
        return not self.successor and self.void_replace != "V"


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in table], [w for _, w in table])[0]


def _processed(rng: random.Random, after: int, cutoff: int, low: int, high: int) -> tuple[int, int]:
    day = min(after + rng.randint(low, high), cutoff)
    return day, rng.randrange(6 * 3600, 22 * 3600)


def _diagnoses(rng: random.Random, ctx: SynthContext, member: Member, extra: int) -> list[str]:
    codes = ctx.codes
    found: list[str] = []
    if member.chronic and rng.random() < 0.6:
        found.extend(member.chronic[: rng.randint(1, len(member.chronic))])
    if rng.random() < 0.05 and codes.hcc_icd10:
        found.append(rng.choice(codes.hcc_icd10))
    while len(found) < 1 + extra:
        found.append(rng.choice(codes.non_hcc_icd10))
    return list(dict.fromkeys(found))


def _pick_day(rng: random.Random, member: Member) -> tuple[Period, int]:
    """A covered day, periods weighted by their length."""
    periods = member.periods
    lengths = [p.end - p.start + 1 for p in periods]
    period = periods[0] if len(periods) == 1 else rng.choices(periods, lengths)[0]
    return period, period.start + rng.randrange(period.end - period.start + 1)


def _line(
    number: int,
    start: int,
    end: int,
    allowed: int,
    share: float,
    *,
    revenue: str | None = None,
    code: str | None = None,
    modifiers: list[str] | None = None,
    pos: str | None = None,
    rendering: str | None = None,
    derived: str = "N",
) -> dict[str, Any]:
    paid = 0 if derived == "Y" else int(allowed * share)
    return {
        "service_line_number": str(number),
        "service_from_date": iso(start),
        "service_to_date": iso(end),
        "revenue_code": revenue,
        "service_type_code": SERVICE_TYPE_QUALIFIER if code else None,
        "service_code": code,
        "service_modifier_code": modifiers,
        "service_facility_type_code": pos,
        "rendering_provider_id_qualifier": NPI_QUALIFIER if rendering else None,
        "rendering_provider_identifier": rendering,
        "allowed_amount": cents(allowed),
        "policy_paid_amount": cents(paid),
        "derived_service_claim_indicator": derived,
        "_allowed": allowed,
        "_paid": paid,
    }


class MedicalClaimGenerator:
    """Builds the medical claims of a family; one instance per generation run."""

    def __init__(self, ctx: SynthContext) -> None:
        self.ctx = ctx
        self.cutoff = ctx.cutoff

    def claims(self, family: Family) -> list[Claim]:
        """Every medical claim of the family in generation (and document) order."""
        ctx = self.ctx
        rng = rng_for(ctx.seed, "medical", family.index)
        claims: list[Claim] = []
        counter = [0]
        for member in family.members:
            age = age_on(member.birth, member.periods[-1].end)
            mean = 2.0 if age < 2 else (1.0 if age < 21 else 1.4)
            if member.chronic:
                mean += 1.2
            count = min(int(rng.expovariate(1.0 / mean)), 20)
            for _ in range(count):
                if len(claims) + 4 > MAX_CLAIMS_PER_FAMILY:
                    break
                original = self._claim(rng, family, member, counter)
                claims.append(original)
                self._chain(rng, family, original, claims, counter)
        if (
            family.index % HIGH_COST_EVERY in HIGH_COST_FAMILIES
            and counter[0] < MAX_CLAIMS_PER_FAMILY  # ids above it belong to filler claims
        ):
            high_cost = self._high_cost(family, counter)
            if high_cost is not None:
                claims.append(high_cost)
        return claims

    def single_claim(self, family: Family) -> Claim:
        """One original claim of the subscriber from a stream of its own (filler record)."""
        rng = rng_for(self.ctx.seed, "medical", (1 << 40) + family.index)
        return self._claim(rng, family, family.subscriber, [MAX_CLAIMS_PER_FAMILY])

    # -- one claim ----------------------------------------------------------------------------

    def _next_id(self, family: Family, counter: list[int]) -> str:
        counter[0] += 1
        return f"MC{family.index:08d}{counter[0]:03d}"

    def _claim(
        self, rng: random.Random, family: Family, member: Member, counter: list[int]
    ) -> Claim:
        period, day = _pick_day(rng, member)
        roll = rng.random()
        if roll < 0.74:
            return self._professional(rng, family, member, period, day, counter)
        if roll < 0.91:
            return self._outpatient(rng, family, member, period, day, counter, other=False)
        if roll < 0.96:
            return self._inpatient(rng, family, member, period, day, counter)
        return self._outpatient(rng, family, member, period, day, counter, other=True)

    def _original(
        self,
        rng: random.Random,
        family: Family,
        member: Member,
        plan: int,
        counter: list[int],
        kind: str,
        form: str,
        start: int,
        end: int,
        billing: str,
        diagnoses: list[str],
        lines: list[dict[str, Any]],
        bill_type: str | None = None,
        discharge: str | None = None,
    ) -> Claim:
        """An original claim of ``kind`` covering ``start`` to ``end`` with its service ``lines``.

        Every kind of claim (professional, outpatient, inpatient, the high-cost stay) gets its
        header the same way: processed after ``end``, paid up to a week later (both drawn from
        ``rng`` in this order, so a seed's files stay the same) and totals summed from the lines.
        """
        processed = _processed(rng, end, self.cutoff, 5, 45)
        paid_day = min(processed[0] + rng.randint(0, 7), self.cutoff)
        allowed = sum(line["_allowed"] for line in lines)
        paid = sum(line["_paid"] for line in lines)
        claim_id = self._next_id(family, counter)
        values = {
            "insured_member_identifier": member.member_id,
            "form_type_code": form,
            "claim_identifier": claim_id,
            "original_claim_identifier": "",
            "claim_processed_datetime": iso_datetime(*processed),
            "bill_type_code": bill_type,
            "void_replace_code": "",
            "diagnosis_type_code": DIAGNOSIS_TYPE_ICD10,
            "diagnosis_code": diagnoses,
            "discharge_status_code": discharge,
            "statement_cover_from_date": iso(start),
            "statement_cover_to_date": iso(end),
            "billing_provider_id_qualifier": NPI_QUALIFIER,
            "billing_provider_identifier": billing,
            "issuer_claim_paid_date": iso(paid_day),
            "allowed_total_amount": cents(allowed),
            "policy_paid_total_amount": cents(paid),
            "derived_service_claim_indicator": lines[0]["derived_service_claim_indicator"],
            "line": lines,
        }
        return Claim(
            claim_id,
            member,
            plan,
            kind,
            values,
            start,
            end,
            processed,
            diagnoses=tuple(diagnoses),
        )

    def _professional(
        self,
        rng: random.Random,
        family: Family,
        member: Member,
        period: Period,
        day: int,
        counter: list[int],
    ) -> Claim:
        ctx = self.ctx
        codes = ctx.codes
        share = ctx.plans[period.plan].paid_share
        derived = "Y" if rng.random() < 0.02 else "N"
        pos = _weighted(rng, PLACES_OF_SERVICE)
        rendering = rng.choice(ctx.professionals)
        n_lines = 1 + (rng.random() < 0.5) + (rng.random() < 0.3) + (rng.random() < 0.15)
        lines = []
        end = day
        for i in range(n_lines):
            line_day = min(day + (rng.randint(0, 2) if i and rng.random() < 0.2 else 0), period.end)
            end = max(end, line_day)
            if i == 0 and rng.random() < 0.75:
                code = rng.choice(codes.eligible_em)
            elif rng.random() < 0.45:
                code = rng.choice(codes.eligible_hcpcs)
            else:
                code = rng.choice(codes.non_eligible_hcpcs)
            modifiers = [rng.choice(MODIFIERS)] if rng.random() < 0.12 else None
            lines.append(
                _line(
                    i + 1,
                    line_day,
                    line_day,
                    rng.randint(1500, 28000),
                    share,
                    code=code,
                    modifiers=modifiers,
                    pos=pos,
                    rendering=rendering,
                    derived=derived,
                )
            )
        diagnoses = _diagnoses(rng, ctx, member, rng.randint(0, 2))
        billing = rendering if rng.random() < 0.4 else rng.choice(ctx.professionals)
        return self._original(
            rng,
            family,
            member,
            period.plan,
            counter,
            "professional",
            "P",
            day,
            end,
            billing,
            diagnoses,
            lines,
        )

    def _outpatient(
        self,
        rng: random.Random,
        family: Family,
        member: Member,
        period: Period,
        day: int,
        counter: list[int],
        *,
        other: bool,
    ) -> Claim:
        ctx = self.ctx
        codes = ctx.codes
        share = ctx.plans[period.plan].paid_share
        bill_type = rng.choice(OTHER_BILL_TYPES) if other else _weighted(rng, OUTPATIENT_BILL_TYPES)
        lines = []
        for i in range(rng.randint(1, 5)):
            roll = rng.random()
            if roll < 0.3:
                revenue, code = "0450", rng.choice(codes.eligible_em)
            elif roll < 0.55:
                revenue, code = "0300", rng.choice(codes.non_eligible_hcpcs)
            elif roll < 0.7:
                revenue, code = "0320", rng.choice(codes.non_eligible_hcpcs)
            elif roll < 0.85:
                revenue, code = "0510", rng.choice(codes.eligible_hcpcs)
            else:
                revenue, code = "0360", rng.choice(codes.surgical_hcpcs)
            lines.append(
                _line(i + 1, day, day, rng.randint(3000, 120000), share, revenue=revenue, code=code)
            )
        diagnoses = _diagnoses(rng, ctx, member, rng.randint(0, 3))
        return self._original(
            rng,
            family,
            member,
            period.plan,
            counter,
            "institutional_other" if other else "outpatient",
            "I",
            day,
            day,
            rng.choice(ctx.facilities),
            diagnoses,
            lines,
            bill_type=bill_type,
        )

    def _inpatient(
        self,
        rng: random.Random,
        family: Family,
        member: Member,
        period: Period,
        day: int,
        counter: list[int],
    ) -> Claim:
        ctx = self.ctx
        codes = ctx.codes
        share = ctx.plans[period.plan].paid_share
        discharge_day = min(day + rng.randint(1, 8), period.end)
        stay = max(1, discharge_day - day)
        lines = [
            _line(
                1,
                day,
                max(day, discharge_day - 1),
                stay * rng.randint(180000, 400000),
                share,
                revenue=rng.choice(("0110", "0120")),
            ),
            _line(2, day, discharge_day, rng.randint(5000, 90000), share, revenue="0250"),
            _line(
                3,
                day,
                discharge_day,
                rng.randint(5000, 60000),
                share,
                revenue="0300",
                code=rng.choice(codes.non_eligible_hcpcs),
            ),
        ]
        if rng.random() < 0.5:
            lines.append(
                _line(
                    4,
                    day,
                    day,
                    rng.randint(200000, 2500000),
                    share,
                    revenue="0360",
                    code=rng.choice(codes.surgical_hcpcs),
                )
            )
        diagnoses = _diagnoses(rng, ctx, member, rng.randint(2, 6))
        return self._original(
            rng,
            family,
            member,
            period.plan,
            counter,
            "inpatient",
            "I",
            day,
            discharge_day,
            rng.choice(ctx.facilities),
            diagnoses,
            lines,
            bill_type="111",
            discharge=_weighted(rng, DISCHARGE_STATUSES),
        )

    def _high_cost(self, family: Family, counter: list[int]) -> Claim | None:
        """An inpatient stay of the first member covered in the benefit year whose plan pays
        more than $1,000,000 (own random stream: the family's other claims do not change)."""
        ctx = self.ctx
        rng = rng_for(ctx.seed, "high_cost", family.index)
        first, last = ordinal(ctx.benefit_year, 1, 1), ordinal(ctx.benefit_year, 12, 31)
        for member in family.members:
            for period in member.periods:
                start, end = max(period.start, first), min(period.end, last)
                if end - start >= 2:
                    break
            else:
                continue
            day = start + rng.randrange(end - start - 1)
            discharge_day = min(day + rng.randint(10, 40), end)
            share = ctx.plans[period.plan].paid_share
            paid_cents = rng.randint(*HIGH_COST_PAID_DOLLARS) * 100
            lines = [
                _line(
                    1, day, discharge_day - 1, int(paid_cents / share) + 1, share, revenue="0200"
                ),
                _line(2, day, discharge_day, rng.randint(50000, 400000), share, revenue="0250"),
            ]
            diagnoses = _diagnoses(rng, ctx, member, rng.randint(2, 6))
            return self._original(
                rng, family, member, period.plan, counter, "inpatient", "I", day, discharge_day,
                rng.choice(ctx.facilities), diagnoses, lines, bill_type="111", discharge="01",
            )  # fmt: skip
        return None

    # -- void / replace chains ----------------------------------------------------------------

    def _chain(
        self,
        rng: random.Random,
        family: Family,
        original: Claim,
        claims: list[Claim],
        counter: list[int],
    ) -> None:
        if rng.random() < 0.05:
            previous = original
            for _ in range(3):
                replacement = self._follow(rng, family, previous, "R", counter)
                if replacement is None:
                    break
                claims.append(replacement)
                previous = replacement
                if rng.random() >= 0.3:
                    break
            if rng.random() < 0.25:
                void = self._follow(rng, family, previous, "V", counter)
                if void is not None:
                    claims.append(void)
        elif rng.random() < 0.025:
            void = self._follow(rng, family, original, "V", counter)
            if void is not None:
                claims.append(void)

    def _follow(
        self, rng: random.Random, family: Family, previous: Claim, code: str, counter: list[int]
    ) -> Claim | None:
        """A replacement (``R``) or void (``V``) of ``previous``, processed strictly later."""
        processed = _processed(rng, previous.processed[0], self.cutoff, 7, 60)
        if processed <= previous.processed:
            return None  # no room before the cut-off: keep the chain shorter
        values = dict(previous.values)
        lines = [dict(line) for line in previous.values["line"]]
        if code == "R":
            share = self.ctx.plans[previous.plan].paid_share
            for line in lines:
                allowed = max(100, int(line["_allowed"] * rng.uniform(0.85, 1.15)))
                paid = 0 if line["derived_service_claim_indicator"] == "Y" else int(allowed * share)
                line.update(
                    _allowed=allowed,
                    _paid=paid,
                    allowed_amount=cents(allowed),
                    policy_paid_amount=cents(paid),
                )
        claim_id = self._next_id(family, counter)
        values.update(
            claim_identifier=claim_id,
            original_claim_identifier=previous.claim_id,
            void_replace_code=code,
            claim_processed_datetime=iso_datetime(*processed),
            issuer_claim_paid_date=iso(min(processed[0] + rng.randint(0, 7), self.cutoff)),
            allowed_total_amount=cents(sum(line["_allowed"] for line in lines)),
            policy_paid_total_amount=cents(sum(line["_paid"] for line in lines)),
            line=lines,
        )
        bill_type = values.get("bill_type_code")
        if bill_type:
            values["bill_type_code"] = bill_type[:2] + ("7" if code == "R" else "8")
        previous.successor = True
        return Claim(
            claim_id,
            previous.member,
            previous.plan,
            previous.kind,
            values,
            previous.start,
            previous.end,
            processed,
            code,
            previous,
            diagnoses=previous.diagnoses,
        )
