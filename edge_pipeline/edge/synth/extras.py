"""Extra files carrying file-level defects (error_rate > 0 only).

A header failure rejects a whole file and an issuer-level failure rejects every record of the
issuer, which would hide every other defect of the file.  Those defects therefore go into small
extra files, written after the four submissions, each documented in the manifest with its
expected effect:

* ESES with a badly formatted ``interfaceControlReleaseNumber`` -> file rejected;
* ESPCS with an 11-character ``fileIdentifier`` -> file rejected;
* ESSFS with execution zone ``X`` -> file rejected;
* ESMCS whose file-level claim count is one too high -> file rejected;
* ESPCS whose issuer-level claim count is one too high -> issuer (all its records) rejected.

Their records reuse the first families' data with claim and supplemental ids renamed (first
letter ``X``), so even a loader that wrongly accepted them would not meet duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from edge_pipeline.edge.layouts import ESES, ESMCS, ESPCS, ESSFS
from edge_pipeline.edge.layouts.model import Element, FileLayout
from edge_pipeline.edge.synth.context import SynthContext
from edge_pipeline.edge.synth.defects import (
    CONTROL_TOTAL,
    FILE_REJECTED,
    HEADER,
    ISSUER_REJECTED,
    DefectEntry,
)
from edge_pipeline.edge.synth.passes import PassOutput, enrollee_values, file_entry
from edge_pipeline.edge.synth.population import Population
from edge_pipeline.edge.synth.schedule import FileSchedule, FileSlot
from edge_pipeline.edge.writers import SubmissionWriter

_MAX_ITEMS = 6
_MAX_FAMILIES = 200
_RENAMED = (
    "claim_identifier",
    "supplemental_diagnosis_detail_record_identifier",
    "original_supplemental_detail_id",
)


def _element(elements: Iterable[Element], column: str) -> str:
    return next(e.name for e in elements if e.column == column)


def _renamed(values: dict[str, Any], layout: FileLayout) -> dict[str, Any]:
    values = dict(values)
    columns = list(_RENAMED)
    if layout is not ESSFS:  # supplementals keep pointing at the real medical claims
        columns.append("original_claim_identifier")
    for column in columns:
        text = values.get(column)
        if text:
            values[column] = "X" + text[1:]
    return values


def _collect(
    population: Population, excluded: set[tuple[int, int]], produce: Callable[[Any], Iterable[Any]]
) -> list[Any]:
    found: list[Any] = []
    for index in range(min(population.family_count, _MAX_FAMILIES)):
        family = population.family(index)
        for item in produce(family):
            if (index, item.member.position) not in excluded:
                found.append(item)
            if len(found) >= _MAX_ITEMS:
                return found
    return found


def _write_claim_file(
    out_dir: Path,
    slot: FileSlot,
    header: dict[str, str],
    ctx: SynthContext,
    items: list[Any],
    file_totals: dict[str, Any] | None = None,
    issuer_totals: dict[str, Any] | None = None,
) -> Any:
    layout = slot.layout
    issuer = {"issuer_identifier": ctx.issuer_id}
    with SubmissionWriter(layout, out_dir / slot.name, header, issuer) as w:
        for plan in ctx.plans:
            mine = [item for item in items if item.plan == plan.index]
            if not mine:
                continue
            w.begin_group({"insurance_plan_identifier": plan.plan_id})
            for item in mine:
                w.write(_renamed(item.values, layout))
            w.end_group()
        return w.close(file_totals=file_totals, issuer_totals=issuer_totals)


def _entry(
    slot: FileSlot,
    record_identifier: int | None,
    level: str,
    element: str,
    defect_class: str,
    check: str,
    value: Any,
    effect: str,
    variant: str,
) -> DefectEntry:
    return DefectEntry(
        file=slot.name,
        file_identifier=slot.file_identifier,
        record_identifier=record_identifier,
        level=level,
        element=element,
        defect_class=defect_class,
        check=check,
        value=None if value is None else str(value),
        expected_effect=effect,
        variant=variant,
    )


def write_defect_files(
    out_dir: Path,
    schedule: FileSchedule,
    ctx: SynthContext,
    population: Population,
    excluded: set[tuple[int, int]],
    medical: Callable[[Any], Iterable[Any]],
    pharmacy: Callable[[Any], Iterable[Any]],
    supplemental: Callable[[Any], Iterable[Any]],
    unlinked: Callable[[Any], Any],
) -> list[PassOutput]:
    """Write the five extra files; returns their manifest entries and defects."""
    outputs: list[PassOutput] = []

    # 1. ESES, interfaceControlReleaseNumber not NN.NN.NN.
    slot = schedule.next(ESES)
    header = {**slot.header(), "icd_release": "2.1.10"}
    with SubmissionWriter(
        ESES, out_dir / slot.name, header, {"issuer_identifier": ctx.issuer_id}
    ) as w:
        for index in range(min(2, population.family_count)):
            family = population.family(index)
            for member in family.members:
                w.write(enrollee_values(member, family.subscriber.member_id, ctx))
    assert w.result is not None
    element = _element(ESES.header, "icd_release")
    outputs.append(
        PassOutput(
            file_entry(slot, w.result, "defect", FILE_REJECTED, header),
            [
                _entry(
                    slot,
                    None,
                    "file",
                    element,
                    HEADER,
                    "face",
                    "2.1.10",
                    FILE_REJECTED,
                    "header_release_number_format",
                )
            ],
        )
    )

    pharmacy_items = _collect(population, excluded, pharmacy)
    medical_items = _collect(population, excluded, medical)

    # 2. ESPCS, fileIdentifier of 11 characters (skipped when no family has a pharmacy claim).
    if pharmacy_items:
        slot = schedule.next(ESPCS)
        header = {**slot.header(), "file_identifier": slot.file_identifier[:11]}
        result = _write_claim_file(out_dir, slot, header, ctx, pharmacy_items)
        entry = _entry(
            slot,
            None,
            "file",
            _element(ESPCS.header, "file_identifier"),
            HEADER,
            "face",
            header["file_identifier"],
            FILE_REJECTED,
            "header_file_identifier_11_characters",
        )
        entry.file_identifier = header["file_identifier"]
        outputs.append(
            PassOutput(file_entry(slot, result, "defect", FILE_REJECTED, header), [entry])
        )

    # 3. ESSFS, execution zone X.
    slot = schedule.next(ESSFS)
    header = {**slot.header(), "execution_zone": "X"}
    items = _collect(population, excluded, supplemental)
    if not items:
        items = [unlinked(population.family(0))]
    result = _write_claim_file(out_dir, slot, header, ctx, items)
    outputs.append(
        PassOutput(
            file_entry(slot, result, "defect", FILE_REJECTED, header),
            [
                _entry(
                    slot,
                    None,
                    "file",
                    _element(ESSFS.header, "execution_zone"),
                    HEADER,
                    "face",
                    "X",
                    FILE_REJECTED,
                    "header_execution_zone_x",
                )
            ],
        )
    )

    # 4. ESMCS, file-level claim count one too high.
    column = "claim_detail_total_quantity"
    if medical_items:
        slot = schedule.next(ESMCS)
        result = _write_claim_file(
            out_dir, slot, slot.header(), ctx, medical_items, file_totals={column: lambda n: n + 1}
        )
        outputs.append(
            PassOutput(
                file_entry(slot, result, "defect", FILE_REJECTED),
                [
                    _entry(
                        slot,
                        None,
                        "file",
                        _element(ESMCS.totals, column),
                        CONTROL_TOTAL,
                        "logical",
                        result.file_totals[column],
                        FILE_REJECTED,
                        "file_total_wrong",
                    )
                ],
            )
        )

    # 5. ESPCS, issuer-level claim count one too high.
    if pharmacy_items:
        slot = schedule.next(ESPCS)
        result = _write_claim_file(
            out_dir,
            slot,
            slot.header(),
            ctx,
            pharmacy_items,
            issuer_totals={column: lambda n: n + 1},
        )
        outputs.append(
            PassOutput(
                file_entry(slot, result, "defect", ISSUER_REJECTED),
                [
                    _entry(
                        slot,
                        1,
                        "issuer",
                        _element(ESPCS.issuer.fields, column),
                        CONTROL_TOTAL,
                        "logical",
                        result.issuer_totals[column],
                        ISSUER_REJECTED,
                        "issuer_total_wrong",
                    )
                ],
            )
        )
    return outputs
