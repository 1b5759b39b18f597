"""The RA state payment transfer formula of spec section 8, over the plan rows of one pool.

A *row* is one plan in one rating area (REGTAP FAQ 8487: HHS aggregates risk scores "only to
the plan level in a rating area"): PLRS, ARF, GCF, premium and billable member months are those
of the plan x rating area, and a plan's transfer is the sum over its rows.  A row with an empty
``rating_area`` stands for the plan in all its areas (a market file that knows plans only).
Inputs are used at the precision given -- never rounded before the formula (issue 13 item 2).

Pure Python with :class:`decimal.Decimal` and no DuckDB: a pool holds a handful of plans, so
the arithmetic is cheap, and exact decimals make the result reproducible to the cent (the
worked example of the spec is a test).  Per plan *i* of a state x market risk pool::

    sᵢ  = BMMᵢ / Σ BMM                                   (share of billable member months)
    P̄   = Σ sⱼ · premiumⱼ                                 (statewide average premium PMPM)
    Tᵢ  = [ PLRSᵢ·IDFᵢ·GCFᵢ / Σ sⱼ·PLRSⱼ·IDFⱼ·GCFⱼ
          - AVᵢ·ARFᵢ·IDFᵢ·GCFᵢ / Σ sⱼ·AVⱼ·ARFⱼ·IDFⱼ·GCFⱼ ] · 0.86 · P̄
    transferᵢ = Tᵢ · BMMᵢ    (positive: the plan receives; negative: the plan is charged)

Both bracketed terms are normalised by their share-weighted pool means, so Σ sᵢ·Tᵢ = 0 and
the exact transfers sum to zero.  Rounding each to the cent independently can leave the pool
a cent or two off, which a state pool must never be; :func:`round_to_zero_sum` therefore
rounds by *largest remainder on cents*: every amount is first floored to the cent, then the
cents still missing to reach the (exactly zero) pool total go, one each, to the amounts with
the largest discarded remainders (ties: the earlier row).  Every rounded amount is within one
cent of its exact value and the pool sums to exactly 0.00.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

#: Share of the premium that is claims cost: 0.86 removes the 14 % administrative share.
ADMIN_FACTOR = Decimal("0.86")

#: Working precision: far beyond the cents of a state pool's billions, so that rounding only
#: ever happens once, in :func:`round_to_zero_sum`.
PRECISION = 50

CENT = Decimal("0.01")


@dataclass(frozen=True)
class MetalFactors:
    """Induced demand factor and actuarial value of a metal level (spec section 8)."""

    idf: Decimal
    av: Decimal


#: IDF and AV by metal level.
METAL_FACTORS: dict[str, MetalFactors] = {
    "platinum": MetalFactors(Decimal("1.15"), Decimal("0.90")),
    "gold": MetalFactors(Decimal("1.08"), Decimal("0.80")),
    "silver": MetalFactors(Decimal("1.03"), Decimal("0.70")),
    "bronze": MetalFactors(Decimal("1.00"), Decimal("0.60")),
    "catastrophic": MetalFactors(Decimal("1.00"), Decimal("0.57")),
}

#: The one-letter metal codes of the DIY inputs (P/G/S/B/C) and the HIOS spellings.
_METAL_ALIASES = {metal[0]: metal for metal in METAL_FACTORS} | {
    "expanded bronze": "bronze",
    "expanded_bronze": "bronze",
}


def normalize_metal(value: str) -> str:
    """``"Silver"``, ``"S"``, ``" silver "`` -> ``"silver"``; ``ValueError`` for anything else.

    Files come from actuaries' spreadsheets as well as from the warehouse, so both the word and
    the DIY letter are accepted, case-insensitively.
    """
    text = value.strip().lower()
    metal = _METAL_ALIASES.get(text, text)
    if metal not in METAL_FACTORS:
        raise ValueError(
            f"unknown metal level {value!r} (expected one of {', '.join(METAL_FACTORS)} "
            "or P/G/S/B/C)"
        )
    return metal


def metal_factors(metal: str) -> MetalFactors:
    """IDF and AV of a metal level given as word or letter."""
    return METAL_FACTORS[normalize_metal(metal)]


@dataclass(frozen=True)
class PlanInput:
    """One plan x rating area row of a pool: what the formula needs (IDF and AV follow from
    the metal).  ``rating_area`` ``""``: the plan in all its rating areas."""

    plan_id: str
    metal: str
    billable_member_months: Decimal
    plrs: Decimal
    arf: Decimal
    gcf: Decimal
    premium_pmpm: Decimal
    rating_area: str = ""


@dataclass(frozen=True)
class PlanTransfer:
    """The formula's result for one plan.  ``transfer_pmpm`` and ``share`` are exact (to the
    working precision); ``transfer_total`` is rounded to the cent so that the pool sums to 0."""

    plan: PlanInput
    idf: Decimal
    av: Decimal
    share: Decimal
    transfer_pmpm: Decimal
    transfer_exact: Decimal
    transfer_total: Decimal


@dataclass(frozen=True)
class PoolTransfer:
    """The transfers of one pool, in the order of the input plans."""

    average_premium: Decimal
    plans: tuple[PlanTransfer, ...]

    @property
    def total(self) -> Decimal:
        """Σ transfer_total: 0.00 by construction."""
        return sum((p.transfer_total for p in self.plans), Decimal("0.00"))

    def plan_totals(self) -> dict[str, Decimal]:
        """plan id -> Σ transfer_total over its rating-area rows (first-appearance order)."""
        totals: dict[str, Decimal] = {}
        for p in self.plans:
            totals[p.plan.plan_id] = totals.get(p.plan.plan_id, Decimal("0.00")) + p.transfer_total
        return totals


class PoolError(ValueError):
    """A pool on which the formula is undefined (no billable months, zero denominators)."""


def round_to_zero_sum(amounts: Sequence[Decimal], total: Decimal = Decimal(0)) -> list[Decimal]:
    """Round ``amounts`` to the cent so that they sum to ``total`` rounded to the cent.

    Largest remainder on cents (see the module doc): floor every amount to the cent, then give
    one cent each to the amounts with the largest remainders until the target is met.  Needs
    the exact amounts to sum to ``total`` (within less than a cent per amount), which the
    transfer formula guarantees.
    """
    floors = [a.quantize(CENT, rounding=decimal.ROUND_FLOOR) for a in amounts]
    target = total.quantize(CENT, rounding=decimal.ROUND_HALF_EVEN)
    missing = int(((target - sum(floors, Decimal(0))) / CENT).to_integral_value())
    if not 0 <= missing <= len(amounts):
        raise PoolError(
            f"amounts sum to {sum(amounts, Decimal(0))}, not to {total}: cannot round to it"
        )
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] - floors[i]), i))
    for i in by_remainder[:missing]:
        floors[i] += CENT
    return floors


def pool_transfers(plans: Sequence[PlanInput]) -> PoolTransfer:
    """Apply the formula to the plans of one state x market risk pool.

    Raises :class:`PoolError` when the pool has no billable member months or a normalising
    denominator is zero (every plan with PLRS 0, or with ARF/GCF 0): the formula is undefined
    there and a silent 0 would hide a data problem.
    """
    if not plans:
        return PoolTransfer(Decimal(0), ())
    with decimal.localcontext() as ctx:
        ctx.prec = PRECISION
        total_bmm = sum((p.billable_member_months for p in plans), Decimal(0))
        if total_bmm <= 0:
            raise PoolError("the pool has no billable member months")
        factors = [metal_factors(p.metal) for p in plans]
        shares = [p.billable_member_months / total_bmm for p in plans]
        average_premium = sum(
            (s * p.premium_pmpm for s, p in zip(shares, plans, strict=True)), Decimal(0)
        )
        risk = [p.plrs * f.idf * p.gcf for p, f in zip(plans, factors, strict=True)]
        rating = [f.av * p.arf * f.idf * p.gcf for p, f in zip(plans, factors, strict=True)]
        risk_mean = sum((s * r for s, r in zip(shares, risk, strict=True)), Decimal(0))
        rating_mean = sum((s * r for s, r in zip(shares, rating, strict=True)), Decimal(0))
        if risk_mean == 0 or rating_mean == 0:
            raise PoolError(
                "the pool's mean PLRS·IDF·GCF or AV·ARF·IDF·GCF is zero: formula undefined"
            )
        pmpm = [
            (r / risk_mean - a / rating_mean) * ADMIN_FACTOR * average_premium
            for r, a in zip(risk, rating, strict=True)
        ]
        exact = [t * p.billable_member_months for t, p in zip(pmpm, plans, strict=True)]
        rounded = round_to_zero_sum(exact)
    return PoolTransfer(
        average_premium,
        tuple(
            PlanTransfer(p, f.idf, f.av, s, t, e, r)
            for p, f, s, t, e, r in zip(plans, factors, shares, pmpm, exact, rounded, strict=True)
        ),
    )
