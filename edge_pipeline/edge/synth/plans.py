"""The synthetic issuer's plans and the plan registry CSV that Phase 1 referential checks use.

One issuer, one state, one individual-market product; plans cover every metal level, the
silver CSR variants 04/05/06 and the AI/AN variants 02/03, across three rating areas.  A plan
id is the 14-character HIOS standard component id plus the 2-digit variant (spec section 2).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

RATING_AREAS = ("001", "002", "003")
STATE = "NC"
PRODUCT = "001"
REGISTRY_FILE = "plan_registry.csv"

#: Columns of ``plan_registry.csv``, in order.
REGISTRY_COLUMNS = (
    "insurance_plan_identifier",
    "hios_standard_component_id",
    "issuer_identifier",
    "state",
    "market",
    "metal",
    "csr_variant",
    "rating_areas",
    "effective_start_year",
    "effective_end_year",
    "monthly_base_premium",
)


@dataclass(frozen=True)
class Plan:
    """A plan variant as registered with HIOS (one row of the registry)."""

    index: int
    plan_id: str
    metal: str  # platinum, gold, silver, bronze, catastrophic
    csr_variant: str
    rating_areas: tuple[str, ...]
    start_year: int
    end_year: int
    base_premium_cents: int  # monthly premium of a 21-year-old in rating area 001
    paid_share: float  # share of the allowed amount the plan pays (claims realism)

    @property
    def standard_component_id(self) -> str:
        return self.plan_id[:14]


#: (plan number, metal, variant, rating areas, base premium in cents, paid share, weight)
_CATALOGUE = (
    ("0001", "platinum", "01", RATING_AREAS, 62_000, 0.90, 5),
    ("0002", "gold", "01", RATING_AREAS, 52_000, 0.80, 14),
    ("0003", "silver", "01", RATING_AREAS, 45_000, 0.70, 12),
    ("0003", "silver", "04", RATING_AREAS, 45_000, 0.73, 9),
    ("0003", "silver", "05", RATING_AREAS, 45_000, 0.87, 14),
    ("0003", "silver", "06", RATING_AREAS, 45_000, 0.94, 14),
    ("0003", "silver", "02", RATING_AREAS, 45_000, 1.00, 4),
    ("0003", "silver", "03", RATING_AREAS, 45_000, 0.85, 3),
    ("0004", "bronze", "01", RATING_AREAS, 36_000, 0.60, 20),
    ("0004", "bronze", "02", RATING_AREAS[:2], 36_000, 1.00, 2),
    ("0005", "catastrophic", "01", RATING_AREAS, 25_000, 0.45, 3),
)

#: Premium factor per rating area (area 001 = 1.00).
AREA_FACTORS = {"001": 1.00, "002": 1.08, "003": 0.94}


def build_plans(issuer_id: str, benefit_year: int) -> tuple[Plan, ...]:
    """The issuer's plan variants, effective the year before and the benefit year."""
    plans = []
    for i, (number, metal, variant, areas, premium, share, _) in enumerate(_CATALOGUE):
        plans.append(
            Plan(
                index=i,
                plan_id=f"{issuer_id}{STATE}{PRODUCT}{number}{variant}",
                metal=metal,
                csr_variant=variant,
                rating_areas=areas,
                start_year=benefit_year - 1,
                end_year=benefit_year,
                base_premium_cents=premium,
                paid_share=share,
            )
        )
    return tuple(plans)


def plan_weights() -> tuple[int, ...]:
    """Relative popularity of each plan (index order), for drawing a family's plan."""
    return tuple(entry[-1] for entry in _CATALOGUE)


def unknown_plan_id(issuer_id: str) -> str:
    """A well-formed plan id of this issuer that the registry does not hold (defects)."""
    return f"{issuer_id}{STATE}{PRODUCT}099901"


def write_registry(path: Path, issuer_id: str, plans: tuple[Plan, ...]) -> None:
    """Write the plan registry CSV (LF line ends, deterministic)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(REGISTRY_COLUMNS)
        for plan in plans:
            writer.writerow(
                (
                    plan.plan_id,
                    plan.standard_component_id,
                    issuer_id,
                    STATE,
                    "individual",
                    plan.metal,
                    plan.csr_variant,
                    ";".join(plan.rating_areas),
                    plan.start_year,
                    plan.end_year,
                    f"{plan.base_premium_cents // 100}.{plan.base_premium_cents % 100:02d}",
                )
            )
