"""Defect variants of the ESES (enrollee and enrollment-period records)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from edge_pipeline.edge.synth.defects import (
    BAD_FORMAT,
    DUPLICATE_ENROLLEE,
    ENROLLEE_REJECTED,
    LOGICAL_DATE,
    LOGICAL_VALUE,
    MISSING_REQUIRED,
    RECORD_REJECTED,
    UNKNOWN_REFERENCE,
    Hit,
    Injector,
    Unit,
)
from edge_pipeline.edge.synth.inject_common import (
    NewValue,
    child_sequence_skip,
    on_record,
    sequence_skip,
    three_decimals,
    truncate_11,
    us_format,
)
from edge_pipeline.edge.synth.plans import unknown_plan_id

PERIODS = "enrollment_period"
PREMIUM = "insurance_plan_premium_amount"
#: A 6-digit maintenance code outside the 834 code set: the two halves of 021028 swapped.
BAD_MAINTENANCE_CODE = "028021"


def _period_effect(unit: Unit) -> str:
    """A failed period rejects the enrollee when it is the enrollee's only period."""
    return ENROLLEE_REJECTED if len(unit.values[PERIODS]) == 1 else RECORD_REJECTED


def _periods(unit: Unit) -> list[dict[str, Any]]:
    periods = [dict(p) for p in unit.values[PERIODS]]
    unit.values[PERIODS] = periods
    return periods


def _unknown_plan(_current: str, unit: Unit) -> str:
    return unknown_plan_id(unit.extras["issuer_id"])


def on_period(variant: str, defect_class: str, check: str, column: str, new: NewValue) -> Injector:
    """Set (or omit) one leaf of one of the enrollee's periods."""

    def apply(unit: Unit, rng: random.Random) -> Hit | None:
        periods = _periods(unit)
        i = rng.randrange(len(periods))
        value = new(periods[i][column], unit) if callable(new) else new
        periods[i][column] = value
        effect = _period_effect(unit)
        return Hit(variant, defect_class, check, PERIODS, column, value, effect, child=i)

    return Injector(defect_class, variant, apply)


def _start_after_end(unit: Unit, rng: random.Random) -> Hit | None:
    periods = _periods(unit)
    candidates = [
        i for i, p in enumerate(periods) if p["coverage_start_date"] < p["coverage_end_date"]
    ]
    if not candidates:
        return None
    i = rng.choice(candidates)
    p = periods[i]
    p["coverage_start_date"], p["coverage_end_date"] = (
        p["coverage_end_date"],
        p["coverage_start_date"],
    )
    return Hit(
        "period_start_after_end", LOGICAL_DATE, "logical", PERIODS, "coverage_start_date",
        p["coverage_start_date"], _period_effect(unit), child=i,
    )  # fmt: skip


def _premium(subscriber: bool, variant: str) -> Callable[[Unit, random.Random], Hit | None]:
    """The policy premium where it does not belong: 0 on the subscriber's period, or an
    amount on a dependent's period (spec section 3: "0 for dependents")."""

    def apply(unit: Unit, rng: random.Random) -> Hit | None:
        if (unit.subject.relation == "subscriber") != subscriber:
            return None
        periods = _periods(unit)
        i = rng.randrange(len(periods))
        value = "0.00" if subscriber else f"{rng.randint(120, 900)}.{rng.randint(0, 99):02d}"
        periods[i][PREMIUM] = value
        return Hit(
            variant, LOGICAL_VALUE, "logical", PERIODS, PREMIUM, value, _period_effect(unit),
            child=i,
        )  # fmt: skip

    return apply


def _duplicate(unit: Unit, rng: random.Random) -> Hit | None:
    return Hit(
        "enrollee_repeated", DUPLICATE_ENROLLEE, "logical", "enrollee",
        "insured_member_identifier", unit.values["insured_member_identifier"], ENROLLEE_REJECTED,
        duplicate=True, note="second occurrence of an enrollee already in the file (first clean)",
    )  # fmt: skip


def eses_injectors() -> list[Injector]:
    """Every ESES variant; enrollee-level ones reject the enrollee with all its periods."""
    enrollee = [
        ("birth_date_missing", MISSING_REQUIRED, "required", "insured_member_birth_date", None),
        ("birth_date_mm_dd_yyyy", BAD_FORMAT, "face", "insured_member_birth_date", us_format),
        ("gender_x", BAD_FORMAT, "face", "insured_member_gender_code", "X"),
    ]
    period = [
        ("coverage_start_missing", MISSING_REQUIRED, "required", "coverage_start_date", None),
        ("rating_area_missing", MISSING_REQUIRED, "required", "rate_area_identifier", None),
        ("coverage_start_mm_dd_yyyy", BAD_FORMAT, "face", "coverage_start_date", us_format),
        ("plan_id_11_characters", BAD_FORMAT, "face", "insurance_plan_identifier", truncate_11),
        (
            "premium_three_decimals",
            BAD_FORMAT,
            "face",
            "insurance_plan_premium_amount",
            three_decimals,
        ),
        (
            "maintenance_code_not_in_834_set",
            BAD_FORMAT,
            "face",
            "enrollment_maintenance_type_code",
            BAD_MAINTENANCE_CODE,
        ),
        (
            "plan_not_in_registry",
            UNKNOWN_REFERENCE,
            "referential",
            "insurance_plan_identifier",
            _unknown_plan,
        ),
        (
            "rating_area_not_offered",
            UNKNOWN_REFERENCE,
            "referential",
            "rate_area_identifier",
            "099",
        ),
    ]
    return [
        *(on_record("enrollee", ENROLLEE_REJECTED, *spec) for spec in enrollee),
        *(on_period(*spec) for spec in period),
        Injector(LOGICAL_DATE, "period_start_after_end", _start_after_end),
        Injector(
            LOGICAL_VALUE,
            "subscriber_premium_zero",
            _premium(True, "subscriber_premium_zero"),
        ),
        Injector(
            LOGICAL_VALUE,
            "dependent_premium_not_zero",
            _premium(False, "dependent_premium_not_zero"),
        ),
        sequence_skip("enrollee", ENROLLEE_REJECTED, "enrollee_identifier_skipped"),
        _period_sequence(),
        Injector(DUPLICATE_ENROLLEE, "enrollee_repeated", _duplicate),
    ]


def _period_sequence() -> Injector:
    """A period's identifier skips a number: that period fails (or the enrollee, if alone)."""
    inner = child_sequence_skip(PERIODS, PERIODS, RECORD_REJECTED, "period_identifier_skipped")

    def apply(unit: Unit, rng: random.Random) -> Hit | None:
        hit = inner.apply(unit, rng)
        if hit is not None:
            hit.effect = _period_effect(unit)
        return hit

    return Injector(inner.defect_class, inner.variant, apply)
