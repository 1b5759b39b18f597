"""The vocabulary in which the Phase 1 outbound reports (spec section 5) are declared.

Outbound reports are not shaped like the inbound submissions: every record comes back as a
*processing result* (its record identifier, its business key, a status and its errors), and
summaries carry counts, rollups and error code frequencies.  So they get their own small
vocabulary, but the principle is the inbound one (:mod:`edge_pipeline.edge.layouts.model`): a
layout is data.  The writer, the reader, the structural checker and the XSD generator all walk
the same declarations, and a site holding the official ICD corrects an element name in exactly
one place, the module of that report type.

Two levels of description live here:

* the *semantic* layouts (:class:`FileStatusLayout`, :class:`DetailLayout`,
  :class:`SummaryLayout`) that say what each element means to the warehouse, and
* the *structural* tree (:class:`Group` and :class:`Leaf`) that
  :func:`edge_pipeline.edge.layouts.outbound.tree.tree` derives from a layout: names, order,
  nesting and repetition, which the XSD and the reader's structural checker enforce.

``assumed=True`` marks every name or structure the public spec does not state; the XSD
annotations say "(assumed)" so nobody mistakes a project choice for the official ICD.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal

#: What a leaf's text holds.  Only ``integer`` is enforced (record identifiers and counts are the
#: numbers the warehouse links and sums on); everything else is kept as the text EDGE wrote.
#: ``decimal`` and ``date`` are used by the Phase 2 (risk adjustment) reports only, whose values
#: are typed warehouse values (scores, coefficients, member months, birth dates): their XSDs
#: and reader enforce them too.
LeafKind = Literal["string", "code", "integer", "datetime", "decimal", "date"]

#: ``None`` means unbounded.
MaxOccurs = int | None


class Recipients(StrEnum):
    """Who receives a report (the issuer guide's distribution).  Every outbound layout declares
    its class (``recipients``), so the UI, the analyst report and the member-identifier test
    read it from one place.

    The guide's rule: file-level and summary reports go to the issuer and CMS and are aggregate;
    detail reports go to the issuer only and are the only ones carrying member-level identifiers
    (the issuer's masked enrollee ids), apart from the RADV extracts, which CMS receives by
    exception because enrollee-level audit data is their purpose.
    """

    ISSUER_AND_CMS = "issuer + CMS"
    ISSUER_ONLY = "issuer only"
    ISSUER_AND_CMS_BY_EXCEPTION = "issuer + CMS by exception"

    @property
    def includes_cms(self) -> bool:
        return self is not Recipients.ISSUER_ONLY

    @property
    def member_level(self) -> bool:
        """Whether the report may carry member-level identifiers (issuer only, or CMS by
        exception for enrollee-level audit data); every other report is aggregate."""
        return self is not Recipients.ISSUER_AND_CMS

    @property
    def content(self) -> str:
        """What a report of this class holds, as the UI and the analyst report say it."""
        return "may carry member ids" if self.member_level else "aggregate"


@dataclass(frozen=True)
class Leaf:
    """An element holding text only.

    ``column`` is the name the writer and reader use for the value (a warehouse column where
    there is one), so code never spells an element name of a common block.
    """

    name: str
    kind: LeafKind = "string"
    min_occurs: int = 1
    max_occurs: MaxOccurs = 1
    doc: str = ""
    assumed: bool = False
    column: str | None = None


@dataclass(frozen=True)
class Group:
    """An element holding only elements, in this order (an XSD sequence)."""

    name: str
    children: tuple[Node, ...]
    min_occurs: int = 1
    max_occurs: MaxOccurs = 1
    #: Name of the XSD complexType; by default derived from ``name`` (``xY`` -> ``XYType``).
    #: Blocks shared across reports name their type so every XSD spells it the same.
    type_name: str | None = None
    doc: str = ""
    assumed: bool = False

    def occurs(self, min_occurs: int, max_occurs: MaxOccurs) -> Group:
        """The same block with other cardinality (a common block is optional in one place and
        required in another)."""
        return replace(self, min_occurs=min_occurs, max_occurs=max_occurs)

    def named(self, name: str, *, assumed: bool | None = None, doc: str | None = None) -> Group:
        """The same content under another element name (a counts block per level)."""
        return replace(
            self,
            name=name,
            assumed=self.assumed if assumed is None else assumed,
            doc=self.doc if doc is None else doc,
        )

    @property
    def xsd_type(self) -> str:
        return self.type_name or f"{self.name[:1].upper()}{self.name[1:]}Type"

    def child(self, name: str) -> Node:
        return next(c for c in self.children if c.name == name)


Node = Leaf | Group


# -- detail reports ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultLevel:
    """One record level of a detail report: a processing result per inbound record.

    Content, in order: the record identifier, the business key (if the level has one), the
    status block, the record's own errors, then the results of its child records.
    """

    element: str
    #: The ``Record.level`` of the inbound layout (``issuer``, ``plan``, ``claim``, ...).
    level: str
    record_identifier: str
    key: str | None = None
    children: tuple[ResultLevel, ...] = ()
    #: ESMCS rule (spec section 4): a failure of one child (a service line) rejects this record
    #: and every child.  The reader needs it to explain why an error-free line was rejected.
    rejects_whole_group: bool = False
    max_occurs: MaxOccurs = None
    doc: str = ""
    assumed: bool = False

    def walk(self, depth: int = 0) -> list[tuple[ResultLevel, int]]:
        """This level and every level below it, each with its depth (the issuer is 0)."""
        found = [(self, depth)]
        for child in self.children:
            found.extend(child.walk(depth + 1))
        return found


@dataclass(frozen=True)
class FileStatusLayout:
    """ESFAR: whether the file as a whole was accepted, and its header-level errors."""

    name: str
    root: str
    #: Submission type (E, M, P, S) -> two-letter code of the file name and outboundFileTypeCode.
    file_codes: dict[str, str] = field(hash=False)
    doc: str = ""
    recipients: Recipients = field(kw_only=True)


@dataclass(frozen=True)
class DetailLayout:
    """A detail error report: the processing result of every record of one inbound file."""

    name: str
    root: str
    submission_type: str
    file_code: str
    issuer: ResultLevel
    doc: str = ""
    assumed_root: bool = False
    recipients: Recipients = field(kw_only=True)

    def levels(self) -> list[tuple[ResultLevel, int]]:
        return self.issuer.walk()

    def level(self, name: str) -> ResultLevel:
        return next(result for result, _ in self.levels() if result.level == name)


# -- summaries --------------------------------------------------------------------------------


# Every name a summary declares below the common blocks is assumed: the spec lists what the
# summaries hold (counts per level, per-issuer and per-plan status, year/month rollups) but names
# none of it.  The XSD marks them so.


@dataclass(frozen=True)
class CountsBlock:
    """Where the record counts of one level sit (each holds ``RECORD_COUNT_FIELDS``)."""

    element: str
    level: str


@dataclass(frozen=True)
class MemberMonths:
    """Enrollment rollup measure: accepted and rejected member months, per year and month."""

    accepted: str = "acceptedMonths"
    rejected: str = "rejectedMonths"


@dataclass(frozen=True)
class MonthCounts:
    """Claim-type rollup measure: record counts of ``counts.level`` per month."""

    counts: CountsBlock


@dataclass(frozen=True)
class FormTypeCounts:
    """Medical rollup measure: record counts per month and claim form type (I / P)."""

    element: str
    code: str
    counts: CountsBlock


Measure = MemberMonths | MonthCounts | FormTypeCounts


@dataclass(frozen=True)
class Rollup:
    """Year > month breakdown of a scope (the issuer, or one plan)."""

    year_element: str
    year: str
    month_element: str
    month: str
    measure: Measure


@dataclass(frozen=True)
class ScopeSummary:
    """The issuer's or one plan's block of a summary: identity, status, counts, rollup."""

    element: str
    scope_level: Literal["issuer", "plan"]
    #: ``None`` when the scope is not an inbound record (ESES has no plan records).
    record_identifier: str | None
    key: str
    counts: tuple[CountsBlock, ...]
    rollup: Rollup
    max_occurs: MaxOccurs = None


@dataclass(frozen=True)
class RollupSource:
    """Which inbound records a summary's rollup counts, and which of their values bucket them.

    The spec names the rollups but not their dates, so this is a project choice, kept in the
    layout module of each summary so it is visible and changeable in one place.
    """

    #: Level of the shadow records counted (``claim``, ``supplemental``, ``enrollment_period``).
    level: str
    #: Inbound landing table holding the records' values.
    table: str
    #: Column whose ``YYYY-MM-DD`` value gives the year and month (claims, supplementals) or the
    #: first covered day (enrollment periods, whose member months run to ``end_column``).
    date_column: str
    end_column: str | None = None
    form_type_column: str | None = None
    #: ESES only: the enrollment period's plan (ESES has no plan records to hang plans on).
    plan_column: str | None = None


@dataclass(frozen=True)
class SummaryLayout:
    """A summary accept/reject report of one inbound file."""

    name: str
    root: str
    submission_type: str
    file_code: str
    #: Record counts of the whole file, one block per level, in document order.
    counts: tuple[CountsBlock, ...]
    issuer: ScopeSummary
    plan: ScopeSummary
    source: RollupSource
    doc: str = ""
    recipients: Recipients = field(kw_only=True)
    #: Names this report type had before it took the issuer guide's acronym.  A report is
    #: recognised by its root element and file code, which the rename left alone, so a file
    #: written under a former name reads as before; what still says the former name is what
    #: the warehouse stored (``report_type``), renamed on the next load
    #: (:func:`edge_pipeline.edge.outbound.phase1.tables.ensure_reported_tables`).
    former_names: tuple[str, ...] = field(default=(), kw_only=True)

    def counts_for(self, level: str) -> CountsBlock | None:
        return next((block for block in self.counts if block.level == level), None)


# -- Phase 2: risk adjustment reports ----------------------------------------------------------


@dataclass(frozen=True)
class RaReportLayout:
    """A Phase 2 risk adjustment report (spec section 6: RACSD ... RATEE, RAUF, HCRPSR, HCRPDE).

    Unlike the Phase 1 reports these answer a *scoring run* (benefit year, issuer, zone), not
    one inbound file, and their shapes are lists of warehouse rows, so they are declared
    structurally: ``body`` is what follows the header (:data:`~.ra_common.RA_FILE_HEADER`),
    groups and leaves whose ``column`` names the warehouse column each value comes from and
    goes to.  Every name is this project's (the official ones are not public).
    """

    name: str
    root: str
    #: Two-letter code of the file name (``<issuer>.<XX>.D...``); the header's
    #: ``outboundFileTypeCode`` holds ``name``.
    file_code: str
    body: tuple[Node, ...]
    #: The ``reported_*`` tables a report of this type fills; a newer report of the same run
    #: replaces the run's rows in exactly these (the report is a snapshot).
    tables: tuple[str, ...]
    doc: str = ""
    recipients: Recipients = field(kw_only=True)


# -- Phase 1: frequency by data element -------------------------------------------------------


@dataclass(frozen=True)
class FrequencyElement:
    """One data element a frequency report (FDEEAF ... FDESAF) counts: how often each value of
    ``column`` occurs among the *accepted* records of ``level`` (landing ``table``) of a file.

    ``value_sql`` derives the value from the landing row (alias ``i``) when it is not a column
    as sent (the CSR variant is the last two characters of the plan id).  ``top`` keeps only the
    ``top`` most frequent values (NDC).  ``element`` is the name the report states in
    ``dataElementName``: the inbound element name, or a name of this project (``assumed``).
    """

    element: str
    level: str
    table: str
    column: str
    value_sql: str | None = None
    top: int | None = None
    assumed: bool = False
    doc: str = ""

    @property
    def value_expression(self) -> str:
        return self.value_sql or f"i.{self.column}"


@dataclass(frozen=True)
class FrequencyLayout:
    """A frequency by data element report of one inbound file (issuer + CMS; aggregate).

    Answers one inbound file like the summaries, under the Phase 1 header; the body is a flat
    list of (data element, value, frequency) entries, declared once in
    :mod:`~.frequency_common`.  Every name below the header is this project's (assumed).
    """

    name: str
    root: str
    submission_type: str
    #: Two-letter code of the file name and ``outboundFileTypeCode`` (assumed).
    file_code: str
    elements: tuple[FrequencyElement, ...]
    doc: str = ""
    recipients: Recipients = field(kw_only=True)


OutboundLayout = FileStatusLayout | DetailLayout | SummaryLayout | RaReportLayout | FrequencyLayout
