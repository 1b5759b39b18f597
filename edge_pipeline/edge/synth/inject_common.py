"""Building blocks of the defect variants: value corruptions and generic injectors.

Each injector returns ``None`` when it does not apply to the record (e.g. "replacement processed
before its original" on an original claim) and otherwise mutates the private copy of the values
and describes what it did.  Values stay strings and element order is untouched (only leaf text
changes or a leaf is omitted), so every defective file stays well-formed and valid against the
structural XSD.  ``recordIdentifier`` stays an integer: a broken sequence skips a number.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from edge_pipeline.edge.synth.defects import RECORD_SEQUENCE, Hit, Injector, Unit
from edge_pipeline.edge.synth.ids import iso, iso_datetime, us_date

RID = "record_identifier"

#: A replacement value: a constant (``None`` omits the element) or f(current value, unit).
NewValue = Any


def ordinal_of(text: str) -> int:
    return dt.date.fromisoformat(text).toordinal()


def us_format(current: str, _unit: Unit) -> str:
    """The same date as ``MM/DD/YYYY``: a real date that fails face validity."""
    return us_date(ordinal_of(current))


def three_decimals(current: str, _unit: Unit) -> str:
    """Same amount, one decimal place too many: fails face validity yet keeps every sum."""
    return current + "0"


def flip_check_digit(current: str, _unit: Unit) -> str:
    """An NPI whose Luhn check digit no longer holds."""
    return current[:-1] + str((int(current[-1]) + 1) % 10)


def drop_time(current: str, _unit: Unit) -> str:
    return current[:10]


def drop_first_digit(current: str, _unit: Unit) -> str:
    return current[1:]


def truncate_11(current: str, _unit: Unit) -> str:
    return current[:11]


def unknown_member(_current: Any, unit: Unit) -> str:
    """An enrollee id that is on no file (fresh for every use)."""
    return unit.extras["unknown_member_id"]


def first_code_replaced(code: str) -> Callable[[list[str], Unit], list[str]]:
    """Replace the first of a repeated list of codes by ``code``."""

    def replace(current: list[str], _unit: Unit) -> list[str]:
        return [code, *current[1:]]

    return replace


def before_original(_current: str, unit: Unit) -> str:
    """A processed date-time one day before the claim this replacement replaces."""
    day, seconds = unit.subject.original.processed
    return iso_datetime(day - 1, seconds)


def uncovered_day(_current: str, unit: Unit) -> str:
    return iso(unit.subject.member.uncovered_day(unit.extras["benefit_year"]))


def is_replacement(unit: Unit) -> bool:
    return getattr(unit.subject, "void_replace", "") == "R"


def is_void_supplemental(unit: Unit) -> bool:
    return unit.values.get("add_delete_void_code") == "V"


def on_record(
    level: str,
    effect: str,
    variant: str,
    defect_class: str,
    check: str,
    column: str,
    new_value: NewValue,
    when: Callable[[Unit], bool] | None = None,
) -> Injector:
    """Set (or omit, with ``None``) one leaf of the record itself."""

    def apply(unit: Unit, rng: random.Random) -> Hit | None:
        if when is not None and not when(unit):
            return None
        current = unit.values.get(column)
        if current is None or current == []:
            return None  # nothing to corrupt or omit (situational element absent)
        value = new_value(current, unit) if callable(new_value) else new_value
        unit.values[column] = value
        written = value[0] if isinstance(value, list) else value
        return Hit(variant, defect_class, check, level, column, written, effect)

    return Injector(defect_class, variant, apply)


def sequence_skip(level: str, effect: str, variant: str) -> Injector:
    """The record's recordIdentifier skips one number (numbering continues from it)."""

    def apply(unit: Unit, rng: random.Random) -> Hit | None:
        rid = unit.next_rid + 1
        unit.values[RID] = rid
        note = f"expected {unit.next_rid}"
        return Hit(
            variant, RECORD_SEQUENCE, "logical", level, RID, rid, effect, record_identifier=rid,
            note=note,
        )  # fmt: skip

    return Injector(RECORD_SEQUENCE, variant, apply)


def child_sequence_skip(key: str, level: str, effect: str, variant: str) -> Injector:
    """A child record's (line, period) recordIdentifier skips one number."""

    def apply(unit: Unit, rng: random.Random) -> Hit | None:
        children = [dict(child) for child in unit.values[key]]
        unit.values[key] = children
        i = rng.randrange(len(children))
        natural = unit.next_rid + 1 + i
        children[i][RID] = natural + 1
        return Hit(
            variant, RECORD_SEQUENCE, "logical", level, RID, natural + 1, effect,
            record_identifier=natural + 1, note=f"expected {natural}",
        )  # fmt: skip

    return Injector(RECORD_SEQUENCE, variant, apply)
