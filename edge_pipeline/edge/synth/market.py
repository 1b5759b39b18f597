"""The synthetic state market beside the issuer: geographic cost factors and other issuers.

The transfer estimate (``edge_pipeline.edge.transfer``) needs what one issuer's files do not
hold: the state's geographic cost factors per rating area (``gcf.csv``) and the other
issuers' plans of the same risk pools (``market_pool.csv``).  Both are written next to
``plan_registry.csv``, deterministic from the seed, with plausible values: GCFs within a few
percent of 1 (area 001 the reference, 1.0000), and per metal the PLRS, ARF and premium ranges
of a typical state individual market, every pool the issuer is in (individual and
catastrophic) holding other issuers' plans.
"""

from __future__ import annotations

import csv
from pathlib import Path

from edge_pipeline.edge.synth.ids import rng_for
from edge_pipeline.edge.synth.plans import PRODUCT, RATING_AREAS, STATE

GCF_FILE = "gcf.csv"
MARKET_FILE = "market_pool.csv"

#: Other issuers in the synthetic state.
OTHER_ISSUERS = 3

#: metal -> (PLRS range, ARF range, premium PMPM range, BMM range) of another issuer's plan.
_METAL_RANGES = {
    "platinum": ((1.9, 2.6), (1.55, 1.85), (720, 860), (3_000, 15_000)),
    "gold": ((1.5, 2.1), (1.50, 1.80), (600, 720), (10_000, 45_000)),
    "silver": ((1.1, 1.6), (1.45, 1.75), (500, 610), (40_000, 160_000)),
    "bronze": ((0.7, 1.1), (1.35, 1.65), (400, 500), (25_000, 110_000)),
    "catastrophic": ((0.3, 0.6), (0.95, 1.15), (230, 300), (1_000, 6_000)),
}


def _other_issuers(issuer_id: str) -> list[str]:
    ids: list[str] = []
    step = 1
    while len(ids) < OTHER_ISSUERS:
        candidate = f"{10000 + (int(issuer_id) - 10000 + 7919 * step) % 90000:05d}"
        if candidate != issuer_id and candidate not in ids:
            ids.append(candidate)
        step += 1
    return ids


def write_gcf(path: Path, seed: int) -> None:
    """``state,rating_area,gcf`` for the issuer's rating areas (a few factors != 1)."""
    rng = rng_for(seed, "market", 0)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("state", "rating_area", "gcf"))
        for i, area in enumerate(RATING_AREAS):
            factor = 1.0 if i == 0 else 1.0 + rng.choice((-1, 1)) * rng.uniform(0.02, 0.08)
            writer.writerow((STATE, area, f"{factor:.4f}"))


def write_market_pool(path: Path, issuer_id: str, seed: int) -> None:
    """``state,risk_pool,issuer_id,plan_id,metal,billable_member_months,plrs,arf,gcf,
    premium_pmpm``: each other issuer offers a plan of every metal in the individual pool, the
    first two a catastrophic plan too."""
    rng = rng_for(seed, "market", 1)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(
            ("state", "risk_pool", "issuer_id", "plan_id", "metal", "billable_member_months",
             "plrs", "arf", "gcf", "premium_pmpm")
        )  # fmt: skip
        for n, other in enumerate(_other_issuers(issuer_id)):
            for number, metal in enumerate(_METAL_RANGES, start=1):
                if metal == "catastrophic" and n >= 2:
                    continue
                plrs, arf, premium, bmm = _METAL_RANGES[metal]
                writer.writerow(
                    (
                        STATE,
                        "catastrophic" if metal == "catastrophic" else "individual",
                        other,
                        f"{other}{STATE}{PRODUCT}{number:04d}",
                        metal,
                        f"{rng.randint(*bmm)}.0000",
                        f"{rng.uniform(*plrs):.3f}",
                        f"{rng.uniform(*arf):.3f}",
                        f"{rng.uniform(0.96, 1.05):.4f}",
                        f"{rng.uniform(*premium):.2f}",
                    )
                )
