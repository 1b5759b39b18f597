"""The file passes: ESES over all families, then ESMCS, ESPCS and ESSFS together, plan by plan.

Why plan by plan: claim records are grouped per plan and numbered in document order, and a
plan's totals precede its records.  Rather than holding claims, the claim pass walks the plans
in registry order and regenerates only the families enrolled in that plan (an index of family
numbers per plan, built in the ESES pass, is the only state kept).  The three claim files are
written side by side, so each family visit generates its medical claims once for both the
ESMCS and the supplemental records that point at them.  A family enrolled in two plans is
regenerated twice and contributes to each plan only the records of that plan.
"""

from __future__ import annotations

import itertools
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from edge_pipeline.edge.layouts import ESES
from edge_pipeline.edge.layouts.model import FileLayout
from edge_pipeline.edge.synth.context import SynthContext
from edge_pipeline.edge.synth.defects import (
    CONTROL_TOTAL,
    PLAN_REJECTED,
    DefectEntry,
    DefectPlanner,
    Injector,
    Unit,
)
from edge_pipeline.edge.synth.ids import cents, iso, masked_member_id, ordinal, rng_for
from edge_pipeline.edge.synth.manifest import FileEntry
from edge_pipeline.edge.synth.population import RENEWAL, Family, Member, Population, age_on
from edge_pipeline.edge.synth.schedule import FileSlot
from edge_pipeline.edge.writers import SubmissionWriter, WriteResult

#: Plan-level control-total defect per layout: (total column, wrong value from the right one).
PLAN_TOTAL_DEFECTS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "ESMCS": ("claim_detail_total_quantity", lambda n: n + 1),
    "ESPCS": ("plan_paid_total_amount", lambda amount: amount + Decimal("1.00")),
    "ESSFS": ("file_detail_total_quantity", lambda n: n + 2),
}


@dataclass
class PassOutput:
    """What one pass wrote: its manifest file entry, defects and statistics."""

    entry: FileEntry
    defects: list[DefectEntry]
    stats: Counter[str] = field(default_factory=Counter)


def file_entry(
    slot: FileSlot,
    result: WriteResult,
    role: str,
    effect: str,
    header: dict[str, str] | None = None,
) -> FileEntry:
    """The manifest entry of a written file (``header``: the values actually written)."""
    header = header or slot.header()
    return FileEntry(
        path=slot.name,
        file_identifier=header["file_identifier"],
        submission_type=slot.layout.submission_type,
        layout=slot.layout.name,
        role=role,
        expected_effect=effect,
        execution_zone=header["execution_zone"],
        generation_datetime=slot.generation_datetime,
        records=result.records,
        bytes=result.bytes,
        counts=dict(sorted(result.counts.items())),
        totals=result.file_totals,
    )


class UnknownMembers:
    """Well-formed enrollee ids that are on no file (referential defects), all distinct."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return masked_member_id(self.seed, (1 << 40) + self.count, 0)


def enrollee_values(member: Member, subscriber_id: str, ctx: SynthContext) -> dict[str, Any]:
    """Writer values of one ESES enrollee with its periods (subscriber carries the premium)."""
    subscriber = member.relation == "subscriber"
    return {
        "insured_member_identifier": member.member_id,
        "insured_member_birth_date": iso(member.birth),
        "insured_member_gender_code": member.gender,
        "enrollment_period": [
            {
                "subscriber_indicator": "S" if subscriber else "",
                "subscriber_identifier": "" if subscriber else subscriber_id,
                "insurance_plan_identifier": ctx.plans[p.plan].plan_id,
                "coverage_start_date": iso(p.start),
                "coverage_end_date": iso(p.end),
                "enrollment_maintenance_type_code": p.maintenance,
                "insurance_plan_premium_amount": cents(p.premium_cents) if subscriber else "0.00",
                "rate_area_identifier": p.area,
            }
            for p in member.periods
        ],
    }


def _family_stats(stats: Counter[str], family: Family, year: int) -> None:
    """Counts that show the population has the shapes the issue asks for."""
    year_start = ordinal(year, 1, 1)
    stats["families"] += 1
    children = [m for m in family.members if m.relation in ("child", "newborn")]
    if sum(age_on(m.birth, m.periods[-1].end) < 21 for m in children) > 3:
        stats["families_with_more_than_3_children_under_21"] += 1
    for member in family.members:
        stats["enrollees"] += 1
        stats[f"relation_{member.relation}"] += 1
        age = age_on(member.birth, member.periods[-1].end)
        stats["age_0_1" if age < 2 else ("age_2_20" if age < 21 else "age_21_plus")] += 1
        if member.gender == "U":
            stats["gender_u_newborns"] += 1
        periods = member.periods
        stats["enrollment_periods"] += len(periods)
        if any(p.maintenance == RENEWAL for p in periods):
            stats["enrollees_with_renewal"] += 1
        if any(b.start - a.end > 1 for a, b in itertools.pairwise(periods)):
            stats["enrollees_with_gap"] += 1
        if any(p.start > year_start for p in periods):
            stats["enrollees_with_mid_year_start"] += 1
        if len({p.plan for p in periods}) > 1:
            stats["enrollees_with_plan_change"] += 1


def write_enrollment(
    out_dir: Path,
    slot: FileSlot,
    ctx: SynthContext,
    population: Population,
    rate: float,
    injectors: list[Injector],
) -> tuple[PassOutput, list[array], set[tuple[int, int]]]:
    """Write the ESES; returns the pass output, the per-plan family index and excluded members.

    Excluded members (hit by an enrollment defect) get no claims, so no claim is rejected for a
    reason the manifest does not list.
    """
    planner = DefectPlanner(
        ESES, slot.name, slot.file_identifier, rate, rng_for(ctx.seed, "defects", 1), injectors
    )
    plan_index = [array("I") for _ in ctx.plans]
    excluded: set[tuple[int, int]] = set()
    stats: Counter[str] = Counter()
    extras = {"issuer_id": ctx.issuer_id, "benefit_year": ctx.benefit_year}
    first = True
    with SubmissionWriter(
        ESES, out_dir / slot.name, slot.header(), {"issuer_identifier": ctx.issuer_id}
    ) as w:
        for family in population.families():
            for plan in family.plans:
                plan_index[plan].append(family.index)
            _family_stats(stats, family, ctx.benefit_year)
            subscriber_id = family.subscriber.member_id
            family_hit = False
            for member in family.members:
                values = enrollee_values(member, subscriber_id, ctx)
                eligible = (
                    not first
                    and not family_hit
                    and (member.relation != "subscriber" or len(family.members) == 1)
                )
                first = False
                hit = None
                if eligible and planner.active:
                    unit = Unit(dict(values), w.next_record_identifier, member, extras)
                    hit = planner.consider(unit)
                    if hit is not None:
                        values = unit.values
                rid = w.write(values)
                if hit is None:
                    continue
                family_hit = True
                excluded.add((family.index, member.position))
                if hit.duplicate:
                    rid = w.write(enrollee_values(member, subscriber_id, ctx))
                planner.resolve(hit, rid)
    assert w.result is not None
    entry = file_entry(slot, w.result, "submission", "processed")
    return PassOutput(entry, planner.entries, stats), plan_index, excluded


@dataclass
class ClaimStream:
    """One claim file of the combined claim pass (ESMCS, ESPCS or ESSFS).

    ``produce(family, cache)`` returns the family's records (objects with ``plan``, ``member``,
    ``values`` and ``successor``); ``cache`` is shared by the streams for one family visit, so
    the supplemental stream reuses the medical claims just generated.
    """

    slot: FileSlot
    produce: Callable[[Family, dict[str, Any]], Iterable[Any]]
    describe: Callable[[Any, Counter[str]], None]
    injectors: list[Injector]
    stream: int
    #: One record for a family, used only when the population produced none of this type, so
    #: that every file has at least one plan with one record (as the layout requires).
    fallback: Callable[[Family], Any]


class _StreamState:
    """Writer, planner and per-plan bookkeeping of one claim file during the combined pass."""

    def __init__(self, spec: ClaimStream, ctx: SynthContext, rate: float, out_dir: Path) -> None:
        slot = spec.slot
        self.spec = spec
        self.layout: FileLayout = slot.layout
        self.planner = DefectPlanner(
            self.layout,
            slot.name,
            slot.file_identifier,
            rate,
            rng_for(ctx.seed, "defects", spec.stream),
            spec.injectors,
        )
        self.writer = SubmissionWriter(
            self.layout, out_dir / slot.name, slot.header(), {"issuer_identifier": ctx.issuer_id}
        )
        self.stats: Counter[str] = Counter()
        self.total_pending = self.planner.active
        self.group_rid: int | None = None
        self.total_target = False
        self.first = True
        self.wrote_any = False
        self.groups = 0


def write_claim_files(
    out_dir: Path,
    streams: list[ClaimStream],
    ctx: SynthContext,
    population: Population,
    plan_index: list[array],
    excluded: set[tuple[int, int]],
    rate: float,
    unknown: UnknownMembers,
) -> list[PassOutput]:
    """Write the claim files together, plan by plan, visiting each family once per plan.

    Every file gets its own plan groups (opened at the plan's first record, so a plan without
    records of that type is left out), its own defect planner, and the plan-level control-total
    defect on its second plan group (which then gets no record-level defects).
    """
    states = [_StreamState(spec, ctx, rate, out_dir) for spec in streams]
    extras = {"issuer_id": ctx.issuer_id, "benefit_year": ctx.benefit_year, "unknown_member_id": ""}
    try:
        for plan in ctx.plans:
            for state in states:
                state.group_rid = None
            for family_index in plan_index[plan.index]:
                family = population.family(family_index)
                cache: dict[str, Any] = {}
                for state in states:
                    for item in state.spec.produce(family, cache):
                        if item.plan != plan.index:
                            continue
                        if (family_index, item.member.position) in excluded:
                            continue
                        _write_item(state, item, plan.plan_id, extras, unknown)
            for state in states:
                _end_plan(state)
        for state in states:
            if not state.wrote_any:  # a tiny population without records of this type
                item = state.spec.fallback(population.family(0))
                state.group_rid = None
                _write_item(state, item, ctx.plans[item.plan].plan_id, extras, unknown)
                _end_plan(state)
        outputs = []
        for state in states:
            result = state.writer.close()
            entry = file_entry(state.spec.slot, result, "submission", "processed")
            outputs.append(PassOutput(entry, state.planner.entries, state.stats))
        return outputs
    except BaseException:
        for state in states:
            state.writer.abort()
        raise


def _write_item(
    state: _StreamState, item: Any, plan_id: str, extras: dict[str, Any], unknown: UnknownMembers
) -> None:
    writer = state.writer
    if state.group_rid is None:
        state.group_rid = writer.begin_group({"insurance_plan_identifier": plan_id})
        state.groups += 1
        # The second plan carries the plan-total defect: with a single plan, rejecting it
        # would reject the issuer too, which the manifest would not say.
        state.total_target = state.total_pending and state.groups == 2
        state.first = True
    state.wrote_any = True
    state.spec.describe(item, state.stats)
    values = item.values
    hit = None
    planner = state.planner
    if planner.active and not state.first and not state.total_target and not item.successor:
        extras["unknown_member_id"] = unknown.next()
        unit = Unit(dict(values), writer.next_record_identifier, item, extras)
        hit = planner.consider(unit)
        if hit is not None:
            values = unit.values
    state.first = False
    rid = writer.write(values)
    if hit is not None:
        planner.resolve(hit, rid)


def _end_plan(state: _StreamState) -> None:
    if state.group_rid is None:
        return
    if not state.total_target:
        state.writer.end_group()
        return
    column, wrong = PLAN_TOTAL_DEFECTS[state.layout.name]
    written = state.writer.end_group({column: wrong})
    plan_level = state.layout.issuer.children[0].level
    state.planner.add(
        state.group_rid,
        plan_level,
        state.planner.element_name(plan_level, column),
        CONTROL_TOTAL,
        "logical",
        written[column],
        PLAN_REJECTED,
        "plan_total_wrong",
        note="the plan's other totals and its records are right",
    )
    state.total_pending = False


# -- statistics of the claim files --------------------------------------------------------------


def describe_medical(claim: Any, stats: Counter[str]) -> None:
    stats["medical_claims"] += 1
    stats[f"medical_{claim.kind}"] += 1
    stats["medical_lines"] += len(claim.values["line"])
    if claim.void_replace == "R":
        stats["medical_replacements"] += 1
    elif claim.void_replace == "V":
        stats["medical_voids"] += 1


def describe_pharmacy(claim: Any, stats: Counter[str]) -> None:
    stats["pharmacy_claims"] += 1
    if claim.values["prescription_fill_number"] != "0":
        stats["pharmacy_refills"] += 1
    if claim.void_replace == "R":
        stats["pharmacy_replacements"] += 1
    elif claim.void_replace == "V":
        stats["pharmacy_voids"] += 1


def describe_supplemental(record: Any, stats: Counter[str]) -> None:
    stats["supplemental_records"] += 1
    stats[f"supplemental_{record.code}"] += 1
    if not record.linked:
        stats["supplemental_unlinked"] += 1
