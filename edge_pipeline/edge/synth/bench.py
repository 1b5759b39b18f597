"""Files for the ingest benchmark, written with flat memory: one large, clean ESMCS (e.g.
500 MB), and the hostile-values files (values as long as the layout allows, and longer)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from edge_pipeline.edge.layouts import ESMCS, Element, Record
from edge_pipeline.edge.layouts.common import RECORD_IDENTIFIER
from edge_pipeline.edge.synth.claims import MedicalClaimGenerator
from edge_pipeline.edge.synth.codes import load_code_sets
from edge_pipeline.edge.synth.context import SynthContext
from edge_pipeline.edge.synth.plans import build_plans
from edge_pipeline.edge.synth.population import Population
from edge_pipeline.edge.synth.schedule import FileSchedule, issuer_for
from edge_pipeline.edge.writers import SubmissionWriter, WriteResult

BENCH_YEAR = 2025


def write_bench_esmcs(path: Path, target_bytes: int, seed: int) -> dict[str, Any]:
    """Write one clean ESMCS of at least ``target_bytes`` to ``path``; returns counts.

    Claims are the regular synthetic claims of consecutive families.  Each plan receives an
    equal share of the target, filled with the claims of the next families (whatever plan they
    were drawn for: the file is for load throughput, not for referential checks), so the file
    has realistic records and several plans while being written in a single pass.
    """
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    issuer_id = issuer_for(seed)
    plans = build_plans(issuer_id, BENCH_YEAR)
    codes = load_code_sets(BENCH_YEAR, seed)
    ctx = SynthContext.build(seed, BENCH_YEAR, issuer_id, plans, codes)
    population = Population(seed, BENCH_YEAR, 1 << 62, plans, codes)
    medical = MedicalClaimGenerator(ctx)
    slot = FileSchedule(seed, issuer_id, BENCH_YEAR, "T").next(ESMCS)
    header = {**slot.header()}
    claims = lines = families = 0
    family_iter = population.families()
    with SubmissionWriter(ESMCS, path, header, {"issuer_identifier": issuer_id}) as w:
        for i, plan in enumerate(plans):
            goal = target_bytes * (i + 1) // len(plans)
            w.begin_group({"insurance_plan_identifier": plan.plan_id})
            wrote = False
            while not wrote or w.bytes_written < goal:
                family = next(family_iter)
                families += 1
                for claim in medical.claims(family):
                    w.write(claim.values)
                    claims += 1
                    lines += len(claim.values["line"])
                    wrote = True
            w.end_group()
        result = w.close()
    return _summary(
        path, result, started, claims=claims, lines=lines, plans=len(plans), families=families
    )


# -- hostile values: as long as the layout allows, and longer ------------------------------------

#: Diagnosis codes per claim and service lines per claim in the hostile-values files.
_HOSTILE_DIAGNOSES = 12
_HOSTILE_LINES = 2


def values_at_limit(record: Record, n: int, repeats: int = 1) -> dict[str, Any]:
    """Values for every element of ``record`` (but recordIdentifier), each exactly as long as
    the element's load limit allows (``Element.max_length``), distinct per ``n``; a repeated
    element gets ``repeats`` values."""
    values: dict[str, Any] = {}
    for element in record.fields:
        if element.name == RECORD_IDENTIFIER.name:
            continue
        if element.repeated:
            count = min(repeats, element.max_occurs)
            values[element.column] = [_at_limit(element, n + k) for k in range(count)]
        else:
            values[element.column] = _at_limit(element, n)
    return values


def _at_limit(element: Element, n: int) -> str:
    return f"{n:012d}".ljust(element.max_length, "v")


def _hostile_claim(n: int) -> dict[str, Any]:
    claim = ESMCS.issuer.children[0].children[0]
    line = claim.children[0]
    lines = [values_at_limit(line, n * _HOSTILE_LINES + k) for k in range(_HOSTILE_LINES)]
    return {**values_at_limit(claim, n, _HOSTILE_DIAGNOSES), line.level: lines}


def write_long_values_esmcs(
    path: Path, target_bytes: int, seed: int, *, over_limit_at_end: bool = False
) -> dict[str, Any]:
    """An ESMCS of at least ``target_bytes`` whose every claim and service-line value is as
    long as its element allows: the most memory a well-formed file can ask of the loader, and
    it loads.  With ``over_limit_at_end`` the last claim's identifier is one character over
    its limit, so the file is refused after nearly all of it was read."""
    return _write_claims(path, seed, lambda w: w.bytes_written < target_bytes, over_limit_at_end)


def write_oversized_values_esmcs(
    path: Path, values: int, value_bytes: int, seed: int
) -> dict[str, Any]:
    """An ESMCS of ``values`` claims whose claimIdentifier holds ``value_bytes`` characters
    (the files that drove DuckDB out of memory before values had a limit): it is refused at
    the first one, whatever follows.

    Written with flat memory: a small template with a placeholder identifier, then copied line
    by line with each placeholder replaced (the submission writer buffers whole parts, which
    with megabyte values would hold hundreds of MB)."""
    started = time.perf_counter()
    path = Path(path)
    template = path.with_name(f".{path.name}.template")
    counter = iter(range(values))
    info = _write_claims(
        template, seed, lambda _: next(counter, None) is not None, claim_identifier=_PLACEHOLDER
    )
    big = b"m" * value_bytes
    part = path.with_name(f".{path.name}.part")
    with open(template, "rb") as source, open(part, "wb") as out:
        for line in source:
            out.write(line.replace(_PLACEHOLDER.encode(), big))
    os.replace(part, path)
    template.unlink()
    seconds = round(time.perf_counter() - started, 3)
    return {**info, "path": str(path), "bytes": path.stat().st_size, "seconds": seconds}


#: Stands for a multi-MB value in the template of ``write_oversized_values_esmcs``.
_PLACEHOLDER = "@@OVERSIZED-VALUE@@"


def _write_claims(
    path: Path,
    seed: int,
    more: Any,
    over_limit_at_end: bool = False,
    claim_identifier: str | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    issuer_id = issuer_for(seed)
    plan_id = f"{issuer_id}VA0010001{seed % 100:02d}"[:16].ljust(16, "0")
    header = FileSchedule(seed, issuer_id, BENCH_YEAR, "T").next(ESMCS).header()
    claims = 0
    with SubmissionWriter(ESMCS, path, {**header}, {"issuer_identifier": issuer_id}) as w:
        w.begin_group({"insurance_plan_identifier": plan_id})
        last: dict[str, Any] | None = None
        while more(w):
            if last is not None:
                w.write(last)
                claims += 1
            last = _hostile_claim(claims)
            if claim_identifier is not None:
                last["claim_identifier"] = claim_identifier
        if last is not None:
            if over_limit_at_end:
                claim = ESMCS.issuer.children[0].children[0]
                limit = next(f for f in claim.fields if f.column == "claim_identifier").max_length
                last["claim_identifier"] = "o" * (limit + 1)
            w.write(last)
            claims += 1
        w.end_group()
        result = w.close()
    return _summary(path, result, started, claims=claims)


def _summary(path: Path, result: WriteResult, started: float, **counts: int) -> dict[str, Any]:
    """What a bench file writer reports: the file, its bytes and records, the writer's own
    ``counts`` and the seconds it took."""
    return {
        "path": str(path),
        "bytes": result.bytes,
        **counts,
        "records": result.records,
        "seconds": round(time.perf_counter() - started, 3),
    }
