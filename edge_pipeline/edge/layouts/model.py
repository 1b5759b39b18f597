"""The vocabulary in which every EDGE XML layout is declared.

A layout is data, not code: the streaming reader, the streaming writer, the XSD generator, the
warehouse DDL and (later) the verification engine all walk the same declaration.  A site that
holds the official CMS ICD and finds an element spelled differently corrects it in exactly one
place, the layout module of that file type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Every inbound and outbound EDGE file element is qualified in this namespace (spec section 2).
EDGE_NAMESPACE = "http://vo.edge.fm.cms.hhs.gov"

#: What an element's text is meant to hold.  The warehouse keeps the raw text (so that Phase 1
#: can report the offending value exactly as sent); the kind documents the intended type for
#: face-validity checks, typed views and the XSD annotation.
ValueKind = Literal["string", "code", "integer", "decimal", "date", "datetime"]

#: R required, S situational (required under a stated condition), N not required.
Requirement = Literal["R", "S", "N"]

#: Every value up to this many characters loads, whatever the element: the length limit of a
#: value bounds the loader's memory (a batch of rows holds at most rows x the sum of its
#: limits), it is not a validity check.  A value somewhat too long must load so that Phase 1
#: can report it against its record; only one far above any legitimate length (a megabyte of
#: text in an id) is refused, with the file, at load.
MIN_VALUE_LIMIT = 256
#: How far above the spec's stated length a value may run before it is refused at load.
SPEC_LENGTH_FACTOR = 4


@dataclass(frozen=True)
class Element:
    """A leaf element holding one value (or a repeated list of values) of a record."""

    name: str
    column: str
    kind: ValueKind = "string"
    requirement: Requirement = "R"
    max_occurs: int = 1
    #: Repeated elements (``max_occurs > 1``) are stored one row per value in this table.
    table: str | None = None
    #: Column holding the 1-based position of a repeated value within its record.
    sequence_column: str | None = None
    doc: str = ""
    #: The value's length as the spec states it (exact or maximum), where it states one.
    length: int | None = None

    def __post_init__(self) -> None:
        if self.max_occurs > 1 and not (self.table and self.sequence_column):
            raise ValueError(f"repeated element {self.name} needs a table and sequence column")

    @property
    def max_length(self) -> int:
        """Longest value (in characters) that loads; see ``MIN_VALUE_LIMIT``."""
        return max(MIN_VALUE_LIMIT, SPEC_LENGTH_FACTOR * (self.length or 0))

    @property
    def repeated(self) -> bool:
        return self.max_occurs > 1


@dataclass(frozen=True)
class Record:
    """An element that carries a ``recordIdentifier`` and becomes one warehouse row.

    ``fields`` come first in document order, then the ``children`` records.  ``container`` names
    a wrapper element that sits between this record and its parent (ESMCS service lines are
    wrapped in ``includedDetailServiceLine``).
    """

    element: str
    table: str
    level: str
    fields: tuple[Element, ...]
    children: tuple[Record, ...] = ()
    container: str | None = None
    max_occurs: int | None = None  # None: unbounded
    doc: str = ""

    @property
    def parent_key(self) -> str:
        """Column under which descendants store this record's identifier."""
        return f"{self.level}_record_identifier"

    @property
    def value_fields(self) -> tuple[Element, ...]:
        return tuple(f for f in self.fields if not f.repeated)

    @property
    def repeated_fields(self) -> tuple[Element, ...]:
        return tuple(f for f in self.fields if f.repeated)

    def walk(self, ancestors: tuple[Record, ...] = ()) -> list[tuple[Record, tuple[Record, ...]]]:
        """This record and every descendant, each with its chain of ancestors (outermost first)."""
        found = [(self, ancestors)]
        for child in self.children:
            found.extend(child.walk((*ancestors, self)))
        return found


@dataclass(frozen=True)
class FileLayout:
    """One inbound submission file type: root element, header, file totals and record tree."""

    name: str  # ESES, ESMCS, ESPCS, ESSFS
    submission_type: str  # E, M, P, S
    root: str
    header: tuple[Element, ...]
    totals: tuple[Element, ...]
    issuer: Record
    doc: str = ""
    record_tables: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "record_tables", tuple(r.table for r, _ in self.issuer.walk()))

    def records(self) -> list[tuple[Record, tuple[Record, ...]]]:
        return self.issuer.walk()

    def tables(self) -> tuple[str, ...]:
        """Every warehouse table a file of this type writes to, besides ``submission_file``."""
        names: list[str] = []
        for record, _ in self.records():
            names.append(record.table)
            names.extend(f.table for f in record.repeated_fields if f.table)
        return tuple(dict.fromkeys(names))
