"""Defect injection: which record gets which defect, and the ground-truth manifest entry for it.

The manifest is the answer key of the Phase 1 tests, so each injection is recorded with the
exact ``recordIdentifier``, the element (named from the layout, never hard-coded here), the
value written and the cascade effect the spec (section 4) implies.  To keep that answer key
unambiguous the generators only hit records whose rejection cannot spill over into records that
are not in the manifest:

* never the first record of a plan (so a plan never loses all its records), nor the plan that
  carries the plan-level control-total defect;
* never a claim replaced or voided later in the file, nor a supplemental add voided later;
* in ESES never a subscriber who has dependents, at most one member per family, and the member
  hit gets no claims in the claim files.

Selection: each eligible record is hit with probability ``error_rate``; additionally, while a
defect class has not been used yet, every other eligible record is hit with an unused class, so
every class appears at least once when the file has enough records.  A record the roll hits
gets a variant never used yet when one applies to it (so variants that apply to few records,
such as those for replacements or voids, still appear); otherwise classes and their variants
are used in least-used-first order.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from edge_pipeline.edge.layouts.model import FileLayout

# Cascade effects (spec section 4).
FILE_REJECTED = "file_rejected"
ISSUER_REJECTED = "issuer_rejected"
PLAN_REJECTED = "plan_rejected"
ENROLLEE_REJECTED = "enrollee_rejected"
CLAIM_REJECTED = "claim_rejected"  # ESMCS: a claim header with every one of its lines
RECORD_REJECTED = "record_rejected"  # just the record hit (a period, a pharmacy or supp. record)

# Defect classes (spec section 4, as listed in the issue).
MISSING_REQUIRED = "missing_required"
BAD_FORMAT = "bad_format"
UNKNOWN_REFERENCE = "unknown_reference"
LOGICAL_DATE = "logical_date"
LOGICAL_VALUE = "logical_value"  # a value inconsistent with another one (not a date)
RECORD_SEQUENCE = "record_sequence"
CONTROL_TOTAL = "control_total"
DUPLICATE_ENROLLEE = "duplicate_enrollee"
LINE_FAILURE = "line_failure"
HEADER = "header"

DEFECT_CLASSES = (
    MISSING_REQUIRED,
    BAD_FORMAT,
    UNKNOWN_REFERENCE,
    LOGICAL_DATE,
    LOGICAL_VALUE,
    RECORD_SEQUENCE,
    CONTROL_TOTAL,
    DUPLICATE_ENROLLEE,
    LINE_FAILURE,
    HEADER,
)


@dataclass
class DefectEntry:
    """One injected defect as recorded in ``manifest.json``."""

    file: str
    file_identifier: str
    record_identifier: int | None  # None: a file-level (header / file totals) defect
    level: str  # file, issuer, plan, enrollee, enrollment_period, claim, line, supplemental
    element: str | None
    defect_class: str
    check: str  # required, face, referential, logical (spec section 4)
    value: str | None  # as written; None when the element was omitted
    expected_effect: str
    variant: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Hit:
    """An injection applied to a record's values, waiting for its recordIdentifier."""

    variant: str
    defect_class: str
    check: str
    level: str
    column: str
    value: Any
    effect: str
    child: int | None = None  # index of the hit child record (line, period), None: the record
    record_identifier: int | None = None  # set when the defect *is* the identifier
    duplicate: bool = False  # ESES: write the enrollee a second time
    note: str = ""


@dataclass
class Unit:
    """What an injector may inspect and change: one record subtree about to be written."""

    values: dict[str, Any]  # a private copy: injectors mutate it
    next_rid: int
    subject: Any = None  # the Member, Claim or SupplementalRecord behind the values
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Injector:
    """One variant of a defect class: returns a Hit, or None when it does not apply."""

    defect_class: str
    variant: str
    apply: Callable[[Unit, random.Random], Hit | None]


class DefectPlanner:
    """Chooses and records the defects of one file."""

    def __init__(
        self,
        layout: FileLayout,
        file_name: str,
        file_identifier: str,
        rate: float,
        rng: random.Random,
        injectors: Sequence[Injector],
    ) -> None:
        self.layout = layout
        self.file_name = file_name
        self.file_identifier = file_identifier
        self.rate = rate
        self.rng = rng
        self.injectors = list(injectors)
        self.classes = list(dict.fromkeys(i.defect_class for i in injectors))
        self.class_uses: Counter[str] = Counter()
        self.variant_uses: Counter[str] = Counter()
        self.entries: list[DefectEntry] = []
        self._eligible = 0
        self._elements = {
            record.level: {f.column: f.name for f in record.fields}
            for record, _ in layout.records()
        }

    @property
    def active(self) -> bool:
        return self.rate > 0 and bool(self.injectors)

    def element_name(self, level: str, column: str) -> str:
        """The layout's element name of ``column`` in the record of ``level``."""
        return self._elements[level][column]

    def consider(self, unit: Unit) -> Hit | None:
        """Maybe inject a defect into ``unit.values``; the caller writes the values after."""
        if not self.active:
            return None
        self._eligible += 1
        roll = self.rng.random()
        uncovered = [c for c in self.classes if self.class_uses[c] == 0]
        if uncovered and self._eligible % 2 == 0:
            hit = self._try(uncovered, unit)
            if hit is not None:
                return hit
        if roll >= self.rate:
            return None
        unused = [i for i in self.injectors if self.variant_uses[i.variant] == 0]
        hit = self._apply(unused, unit)
        if hit is not None:
            return hit
        order = sorted(self.classes, key=lambda c: (self.class_uses[c], self.classes.index(c)))
        return self._try(order, unit)

    def _try(self, classes: list[str], unit: Unit) -> Hit | None:
        for defect_class in classes:
            variants = [i for i in self.injectors if i.defect_class == defect_class]
            variants.sort(key=lambda i: self.variant_uses[i.variant])
            hit = self._apply(variants, unit)
            if hit is not None:
                return hit
        return None

    def _apply(self, injectors: list[Injector], unit: Unit) -> Hit | None:
        """The first of ``injectors`` that applies to ``unit``, counted as used."""
        for injector in injectors:
            hit = injector.apply(unit, self.rng)
            if hit is not None:
                self.class_uses[injector.defect_class] += 1
                self.variant_uses[injector.variant] += 1
                return hit
        return None

    def resolve(self, hit: Hit, record_identifier: int) -> DefectEntry:
        """Record the manifest entry once the writer has assigned ``record_identifier``."""
        if hit.record_identifier is not None:
            rid = hit.record_identifier
        elif hit.child is not None:
            rid = record_identifier + 1 + hit.child
        else:
            rid = record_identifier
        return self.add(
            rid,
            hit.level,
            self.element_name(hit.level, hit.column),
            hit.defect_class,
            hit.check,
            hit.value,
            hit.effect,
            hit.variant,
            hit.note,
        )

    def add(
        self,
        record_identifier: int | None,
        level: str,
        element: str | None,
        defect_class: str,
        check: str,
        value: Any,
        effect: str,
        variant: str,
        note: str = "",
    ) -> DefectEntry:
        """Record an entry directly (plan, issuer and file level defects)."""
        entry = DefectEntry(
            file=self.file_name,
            file_identifier=self.file_identifier,
            record_identifier=record_identifier,
            level=level,
            element=element,
            defect_class=defect_class,
            check=check,
            value=None if value is None else str(value),
            expected_effect=effect,
            variant=variant,
            note=note,
        )
        self.entries.append(entry)
        return entry
