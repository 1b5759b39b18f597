"""Synthetic supplemental diagnosis records (ESSFS) of one family.

Adds (``A``) attach a diagnosis, typically a chronic condition from a chart review, to an
active medical claim of the member; deletes (``D``) remove a diagnosis the claim carries; voids
(``V``) cancel an earlier add and name it in ``originalSupplementalDetailID``.  Some records are
*unlinked*: their ``originalClaimIdentifier`` names no claim at all (valid, stored, scores
nothing).  The decisions are drawn before the family's medical claims are regenerated, so
families without supplemental activity cost nothing in the ESSFS pass.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge_pipeline.edge.synth.claims import DIAGNOSIS_TYPE_ICD10, Claim, MedicalClaimGenerator
from edge_pipeline.edge.synth.context import SynthContext
from edge_pipeline.edge.synth.ids import iso, iso_datetime, rng_for
from edge_pipeline.edge.synth.population import Family, Member

SOURCES = ("MR", "EDI")


@dataclass(slots=True)
class SupplementalRecord:
    """One supplemental record and what defect injection and the manifest need about it."""

    detail_id: str
    member: Member
    plan: int
    code: str  # A, D or V
    values: dict[str, Any]
    start: int
    end: int
    linked: bool
    processed: tuple[int, int] = (0, 0)
    successor: bool = False  # voided by a later V record of this file


class SupplementalGenerator:
    """Builds the supplemental records of a family; one instance per generation run."""

    def __init__(self, ctx: SynthContext, medical: MedicalClaimGenerator) -> None:
        self.ctx = ctx
        self.medical = medical
        self.cutoff = ctx.cutoff

    def records(
        self, family: Family, claims: Callable[[], list[Claim]] | None = None
    ) -> list[SupplementalRecord]:
        """The family's supplemental records.

        ``claims`` returns the family's medical claims when they are already at hand; otherwise
        they are regenerated, and only for families that have supplemental activity at all.
        """
        rng = rng_for(self.ctx.seed, "supplemental", family.index)
        plans = []
        for member in family.members:
            adds = rng.random() < (0.25 if member.chronic else 0.05)
            deletes = rng.random() < 0.03
            unlinked = rng.random() < 0.02
            plans.append((member, adds, deletes, unlinked))
        if not any(a or d or u for _, a, d, u in plans):
            return []
        claim_list = claims() if claims is not None else self.medical.claims(family)
        records: list[SupplementalRecord] = []
        counter = [0]
        for member, adds, deletes, unlinked in plans:
            active = [c for c in claim_list if c.member.position == member.position and c.active]
            if adds and active:
                for _ in range(rng.randint(1, 2)):
                    claim = rng.choice(active)
                    add = self._record(
                        rng, family, member, claim, "A", self._add_codes(rng, member), counter
                    )
                    records.append(add)
                    if rng.random() < 0.25:
                        records.append(self._void(rng, family, add, counter))
            with_dx = [c for c in active if c.diagnoses]
            if deletes and with_dx:
                claim = rng.choice(with_dx)
                records.append(
                    self._record(
                        rng, family, member, claim, "D", [rng.choice(claim.diagnoses)], counter
                    )
                )
            if unlinked:
                records.append(self._unlinked(rng, family, member, counter))
        return records

    def unlinked_record(self, family: Family, member: Member) -> SupplementalRecord:
        """One unlinked add for ``member`` outside the family's own stream (filler records)."""
        rng = rng_for(self.ctx.seed, "supplemental", (1 << 40) + family.index)
        return self._unlinked(rng, family, member, [900])

    def _add_codes(self, rng: random.Random, member: Member) -> list[str]:
        if member.chronic and rng.random() < 0.8:
            return list(dict.fromkeys(member.chronic[: rng.randint(1, len(member.chronic))]))
        return [rng.choice(self.ctx.codes.hcc_icd10)]

    def _next_id(self, family: Family, counter: list[int]) -> str:
        counter[0] += 1
        return f"SD{family.index:08d}{counter[0]:03d}"

    def _values(
        self,
        detail_id: str,
        member: Member,
        claim_id: str,
        processed: tuple[int, int],
        code: str,
        start: int,
        end: int,
        diagnoses: list[str],
        source: str,
        original_detail: str | None = None,
    ) -> dict[str, Any]:
        return {
            "insured_member_identifier": member.member_id,
            "supplemental_diagnosis_detail_record_identifier": detail_id,
            "original_claim_identifier": claim_id,
            "detail_record_processed_datetime": iso_datetime(*processed),
            "add_delete_void_code": code,
            "original_supplemental_detail_id": original_detail,
            "service_from_date": iso(start),
            "service_to_date": iso(end),
            "diagnosis_type_code": DIAGNOSIS_TYPE_ICD10,
            "supplemental_diagnosis_code": diagnoses,
            "source_code": source,
        }

    def _record(
        self,
        rng: random.Random,
        family: Family,
        member: Member,
        claim: Claim,
        code: str,
        diagnoses: list[str],
        counter: list[int],
    ) -> SupplementalRecord:
        day = min(claim.processed[0] + rng.randint(30, 120), self.cutoff)
        processed = (day, rng.randrange(6 * 3600, 22 * 3600))
        detail_id = self._next_id(family, counter)
        values = self._values(
            detail_id,
            member,
            claim.claim_id,
            processed,
            code,
            claim.start,
            claim.end,
            diagnoses,
            rng.choice(SOURCES),
        )
        return SupplementalRecord(
            detail_id,
            member,
            claim.plan,
            code,
            values,
            claim.start,
            claim.end,
            linked=True,
            processed=processed,
        )

    def _void(
        self, rng: random.Random, family: Family, add: SupplementalRecord, counter: list[int]
    ) -> SupplementalRecord:
        detail_id = self._next_id(family, counter)
        values = dict(add.values)
        day = min(add.processed[0] + rng.randint(1, 30), self.cutoff)
        processed = (day, rng.randrange(6 * 3600, 22 * 3600))
        if processed <= add.processed:
            processed = (add.processed[0], add.processed[1] + 1)
        values.update(
            detail_record_processed_datetime=iso_datetime(*processed),
            supplemental_diagnosis_detail_record_identifier=detail_id,
            add_delete_void_code="V",
            original_supplemental_detail_id=add.detail_id,
        )
        add.successor = True
        return SupplementalRecord(
            detail_id, add.member, add.plan, "V", values, add.start, add.end, add.linked, processed
        )

    def _unlinked(
        self, rng: random.Random, family: Family, member: Member, counter: list[int]
    ) -> SupplementalRecord:
        periods = member.periods
        period = periods[0] if len(periods) == 1 else rng.choice(periods)
        day = period.start + rng.randrange(period.end - period.start + 1)
        processed = (min(day + rng.randint(30, 120), self.cutoff), rng.randrange(6 * 3600, 79200))
        detail_id = self._next_id(family, counter)
        claim_id = f"MCU{family.index:08d}{counter[0]:03d}"  # names no claim of any file
        values = self._values(
            detail_id,
            member,
            claim_id,
            processed,
            "A",
            day,
            day,
            self._add_codes(rng, member),
            rng.choice(SOURCES),
        )
        return SupplementalRecord(
            detail_id, member, period.plan, "A", values, day, day, linked=False, processed=processed
        )
