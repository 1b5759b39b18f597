"""Synthetic pharmacy claims (ESPCS) of one family: prescriptions, refills, voids, replacements.

A prescription is filled first (``prescriptionFillNumber`` 0) and refilled about monthly while
the member stays covered; every fill is one claim.  NDCs mix RXC drugs from DIY table 10a
(members with chronic conditions get them more often) with everyday drugs that map to no RXC.
"""

from __future__ import annotations

import random
from typing import Any

from edge_pipeline.edge.synth.claims import Claim
from edge_pipeline.edge.synth.context import SynthContext
from edge_pipeline.edge.synth.ids import cents, iso, iso_datetime, rng_for
from edge_pipeline.edge.synth.population import Family, Member, age_on

PHARMACY_NPI_QUALIFIER = "01"
MAX_FILLS = 12


class PharmacyClaimGenerator:
    """Builds the pharmacy claims of a family; one instance per generation run."""

    def __init__(self, ctx: SynthContext) -> None:
        self.ctx = ctx
        self.cutoff = ctx.cutoff

    def claims(self, family: Family) -> list[Claim]:
        ctx = self.ctx
        rng = rng_for(ctx.seed, "pharmacy", family.index)
        claims: list[Claim] = []
        counter = 0
        rx_number = 0
        for member in family.members:
            age = age_on(member.birth, member.periods[-1].end)
            mean = 0.5 if age < 21 else 0.8
            if member.chronic:
                mean += 0.8
            for _ in range(min(int(rng.expovariate(1.0 / mean)), 6)):
                rx_number += 1
                counter = self._prescription(rng, family, member, rx_number, counter, claims)
        return claims

    def single_claim(self, family: Family) -> Claim:
        """One first fill of the subscriber from a stream of its own (filler record)."""
        rng = rng_for(self.ctx.seed, "pharmacy", (1 << 40) + family.index)
        claims: list[Claim] = []
        while not claims:
            self._prescription(rng, family, family.subscriber, 999, 9000, claims)
        return claims[0]

    def _prescription(
        self,
        rng: random.Random,
        family: Family,
        member: Member,
        rx_number: int,
        counter: int,
        claims: list[Claim],
    ) -> int:
        codes = self.ctx.codes
        rxc_chance = 0.5 if member.chronic else 0.2
        ndc = rng.choice(codes.rxc_ndc if rng.random() < rxc_chance else codes.non_rxc_ndc)
        periods = member.periods
        period = periods[0] if len(periods) == 1 else rng.choice(periods)
        first = period.start + rng.randrange(period.end - period.start + 1)
        maintenance = rng.random() < 0.45
        fills = 1 + (min(int(rng.expovariate(1 / 3.0)), MAX_FILLS - 1) if maintenance else 0)
        unit_cost = rng.randint(400, 45000)
        share = self.ctx.plans[period.plan].paid_share
        pharmacy = rng.choice(self.ctx.pharmacies)
        reference = f"{family.index:08d}{rx_number:03d}"
        day = first
        for fill in range(fills):
            if fill:
                day += rng.randint(28, 32)
            if day > period.end or day > self.cutoff:
                break
            counter += 1
            processed = (day, rng.randrange(7 * 3600, 21 * 3600))
            allowed = unit_cost + rng.randint(0, 300)
            paid = int(allowed * share)
            claim_id = f"RX{family.index:08d}{counter:04d}"
            values: dict[str, Any] = {
                "insured_member_identifier": member.member_id,
                "claim_identifier": claim_id,
                "original_claim_identifier": "",
                "void_replace_code": "",
                "claim_processed_datetime": iso_datetime(*processed),
                "prescription_fill_date": iso(day),
                "issuer_claim_paid_date": iso(min(day + rng.randint(0, 14), self.cutoff)),
                "prescription_service_reference_number": reference,
                "national_drug_code": ndc,
                "dispensing_provider_id_qualifier": PHARMACY_NPI_QUALIFIER,
                "dispensing_provider_identifier": pharmacy,
                "prescription_fill_number": str(fill),
                "dispensing_status_code": None,
                "allowed_total_cost_amount": cents(allowed),
                "policy_paid_amount": cents(paid),
                "derived_service_claim_indicator": "N",
            }
            claim = Claim(claim_id, member, period.plan, "pharmacy", values, day, day, processed)
            claims.append(claim)
            roll = rng.random()
            if roll < 0.03:
                counter = self._follow(
                    rng, family, claim, "R" if roll < 0.02 else "V", counter, claims, share
                )
        return counter

    def _follow(
        self,
        rng: random.Random,
        family: Family,
        previous: Claim,
        code: str,
        counter: int,
        claims: list[Claim],
        share: float,
    ) -> int:
        """A reprocessed (``R``) or reversed (``V``) fill, processed strictly later."""
        day = min(previous.processed[0] + rng.randint(1, 20), self.cutoff)
        processed = (day, rng.randrange(7 * 3600, 21 * 3600))
        if processed <= previous.processed:
            return counter
        counter += 1
        claim_id = f"RX{family.index:08d}{counter:04d}"
        values = dict(previous.values)
        values.update(
            claim_identifier=claim_id,
            original_claim_identifier=previous.claim_id,
            void_replace_code=code,
            claim_processed_datetime=iso_datetime(*processed),
            issuer_claim_paid_date=iso(min(day + rng.randint(0, 7), self.cutoff)),
        )
        if code == "R":
            allowed = rng.randint(400, 45000)
            values["allowed_total_cost_amount"] = cents(allowed)
            values["policy_paid_amount"] = cents(int(allowed * share))
        previous.successor = True
        claims.append(
            Claim(
                claim_id,
                previous.member,
                previous.plan,
                "pharmacy",
                values,
                previous.start,
                previous.end,
                processed,
                code,
                previous,
            )
        )
        return counter
