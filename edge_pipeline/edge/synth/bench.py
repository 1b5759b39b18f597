"""One large, clean ESMCS for the ingest benchmark (e.g. 500 MB), written with flat memory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from edge_pipeline.edge.layouts import ESMCS
from edge_pipeline.edge.synth.claims import MedicalClaimGenerator
from edge_pipeline.edge.synth.codes import load_code_sets
from edge_pipeline.edge.synth.context import SynthContext
from edge_pipeline.edge.synth.plans import build_plans
from edge_pipeline.edge.synth.population import Population
from edge_pipeline.edge.synth.schedule import FileSchedule, issuer_for
from edge_pipeline.edge.writers import SubmissionWriter

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
    return {
        "path": str(path),
        "bytes": result.bytes,
        "claims": claims,
        "lines": lines,
        "records": result.records,
        "plans": len(plans),
        "families": families,
        "seconds": round(time.perf_counter() - started, 3),
    }
