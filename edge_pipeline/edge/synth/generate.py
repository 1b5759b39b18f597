"""``generate_issuer``: one synthetic issuer's four inbound files, plan registry and manifest.

Deterministic from the seed (same arguments, byte-identical files) and streaming: families are
generated one at a time from per-family random streams, so a million enrollees never sit in
memory.  With ``error_rate > 0`` defects of every class of spec section 4 are injected and each
is recorded in ``manifest.json``, the ground truth of the Phase 1 tests.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from edge_pipeline.edge.layouts import ESES, ESMCS, ESPCS, ESSFS
from edge_pipeline.edge.synth.claims import Claim, MedicalClaimGenerator
from edge_pipeline.edge.synth.codes import load_code_sets, write_code_lists
from edge_pipeline.edge.synth.context import SynthContext
from edge_pipeline.edge.synth.extras import write_defect_files
from edge_pipeline.edge.synth.inject_claims import esmcs_injectors, espcs_injectors, essfs_injectors
from edge_pipeline.edge.synth.inject_enrollment import eses_injectors
from edge_pipeline.edge.synth.manifest import Manifest
from edge_pipeline.edge.synth.market import GCF_FILE, MARKET_FILE, write_gcf, write_market_pool
from edge_pipeline.edge.synth.passes import (
    ClaimStream,
    UnknownMembers,
    describe_medical,
    describe_pharmacy,
    describe_supplemental,
    write_claim_files,
    write_enrollment,
)
from edge_pipeline.edge.synth.pharmacy import PharmacyClaimGenerator
from edge_pipeline.edge.synth.plans import REGISTRY_FILE, build_plans, write_registry
from edge_pipeline.edge.synth.population import Family, Population
from edge_pipeline.edge.synth.schedule import FileSchedule, issuer_for
from edge_pipeline.edge.synth.supplemental import SupplementalGenerator, SupplementalRecord

log = logging.getLogger(__name__)


def generate_issuer(
    out_dir: Path,
    enrollees: int,
    seed: int,
    benefit_year: int = 2025,
    error_rate: float = 0.0,
    zone: str = "T",
) -> Manifest:
    """Write ``<issuer>.<E|M|P|S>.D<MMDDYYYY>T<HHMMSS>.<zone>.xml``, ``plan_registry.csv``,
    ``code_list_{icd10cm,ndc,hcpcs}.csv`` (everyday codes beyond the DIY tables, for Phase 1's
    reference tables), ``gcf.csv`` and ``market_pool.csv`` (the state market the transfer
    estimate needs, ``synth/market.py``) and ``manifest.json`` into ``out_dir`` and return the
    manifest.

    With ``error_rate > 0`` up to five extra files with file-level defects are written too
    (listed in the manifest with role ``defect``).  Logs carry counts only, never member data.
    """
    if enrollees < 1:
        raise ValueError("enrollees must be at least 1")
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError("error_rate must be between 0 and 1")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    issuer_id = issuer_for(seed)
    plans = build_plans(issuer_id, benefit_year)
    codes = load_code_sets(benefit_year, seed)
    ctx = SynthContext.build(seed, benefit_year, issuer_id, plans, codes)
    population = Population(seed, benefit_year, enrollees, plans, codes)
    schedule = FileSchedule(seed, issuer_id, benefit_year, zone)
    unknown = UnknownMembers(seed)
    medical = MedicalClaimGenerator(ctx)
    pharmacy = PharmacyClaimGenerator(ctx)
    supplemental = SupplementalGenerator(ctx, medical)
    rate = error_rate

    write_registry(out_dir / REGISTRY_FILE, issuer_id, plans)
    write_gcf(out_dir / GCF_FILE, seed)
    write_market_pool(out_dir / MARKET_FILE, issuer_id, seed)
    write_code_lists(out_dir, codes)

    eses, plan_index, excluded = write_enrollment(
        out_dir, schedule.next(ESES), ctx, population, rate, eses_injectors()
    )
    log.info("ESES written: %d families", population.family_count)

    def medical_items(family: Family, cache: dict[str, Any]) -> list[Claim]:
        if "medical" not in cache:
            cache["medical"] = medical.claims(family)
        return cache["medical"]

    def supplemental_items(family: Family, cache: dict[str, Any]) -> list[SupplementalRecord]:
        return supplemental.records(family, lambda: medical_items(family, cache))

    def unlinked(family: Family) -> SupplementalRecord:
        return supplemental.unlinked_record(family, family.subscriber)

    streams = [
        ClaimStream(
            schedule.next(ESMCS), medical_items, describe_medical, esmcs_injectors(), 2,
            medical.single_claim,
        ),
        ClaimStream(
            schedule.next(ESPCS), lambda family, _cache: pharmacy.claims(family),
            describe_pharmacy, espcs_injectors(), 3, pharmacy.single_claim,
        ),
        ClaimStream(
            schedule.next(ESSFS), supplemental_items, describe_supplemental, essfs_injectors(), 4,
            unlinked,
        ),
    ]  # fmt: skip
    esmcs, espcs, essfs = write_claim_files(
        out_dir, streams, ctx, population, plan_index, excluded, rate, unknown
    )
    outputs = [eses, esmcs, espcs, essfs]
    if rate > 0:
        outputs += write_defect_files(
            out_dir,
            schedule,
            ctx,
            population,
            excluded,
            medical.claims,
            pharmacy.claims,
            supplemental.records,
            unlinked,
        )

    stats: Counter[str] = Counter()
    for output in outputs[:4]:
        stats.update(output.stats)
    stats["enrollees_excluded_from_claims"] = len(excluded)
    manifest = Manifest(
        seed=seed,
        benefit_year=benefit_year,
        enrollees=enrollees,
        error_rate=error_rate,
        issuer_id=issuer_id,
        execution_zone=zone,
        plan_registry=REGISTRY_FILE,
        files=[o.entry for o in outputs],
        defects=[d for o in outputs for d in o.defects],
        plans=[
            {
                "plan_id": p.plan_id,
                "metal": p.metal,
                "csr_variant": p.csr_variant,
                "rating_areas": list(p.rating_areas),
            }
            for p in plans
        ],
        stats=dict(sorted(stats.items())),
        code_sets=codes.manifest(),
    )
    manifest.write(out_dir)
    log.info(
        "synthetic issuer written: %d enrollees, %d files, %d defects in %.1f s",
        enrollees,
        len(manifest.files),
        len(manifest.defects),
        time.perf_counter() - started,
    )
    return manifest
