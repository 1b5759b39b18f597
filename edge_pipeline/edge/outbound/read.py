"""Read Phase 1 outbound reports (ESFAR, detail, summary) into ``reported_*`` rows, streaming.
(The Phase 2 RA reports go through the same reader, with their own handler:
:mod:`edge_pipeline.edge.outbound.phase2_read`.)

The report type comes from the root element.  Every element is checked against the layout as
it is parsed (:mod:`edge_pipeline.edge.outbound.structure`), so a report that is not what its
root claims fails at its first wrong element, naming line and element, before anything could
be misread.  Parsing uses the project's hardened iterparse (no DTD, no entities, no network).

Rows are plain dicts keyed by the ``reported_*`` columns.  ``file_identifier`` is the report's
``inboundFileIdentifier``, so reported rows join the inbound file and, on record identifiers,
its records.  Empty text is read as missing for names, messages, details, keys and header
values (the writer has to write an empty element where a value is missing and the element is
required); ``offendingElementValue`` keeps the difference between empty and absent.

Detail reports can hold millions of results: each result element is cleared as soon as it has
been turned into rows, so memory does not grow with the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from lxml import etree

from edge_pipeline.edge.layouts import BY_TYPE
from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE
from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_ROOT, OutboundLayout
from edge_pipeline.edge.layouts.outbound.common import (
    ERROR_CODE_FREQUENCY,
    FILE_HEADER,
    RECORD_COUNTS,
    RECORDED_ERROR,
    STATUS,
)
from edge_pipeline.edge.layouts.outbound.model import (
    DetailLayout,
    FileStatusLayout,
    FormTypeCounts,
    Group,
    Leaf,
    MemberMonths,
    MonthCounts,
    Node,
    RaReportLayout,
    ResultLevel,
    ScopeSummary,
    SummaryLayout,
)
from edge_pipeline.edge.layouts.outbound.tree import tree
from edge_pipeline.edge.outbound.errors import OutboundFormatError
from edge_pipeline.edge.outbound.naming import parse_edge_datetime
from edge_pipeline.edge.outbound.reasons import ResultFrame, rejection_reason
from edge_pipeline.edge.outbound.structure import StructureChecker
from edge_pipeline.edge.readers.xmlparse import (
    iterparse,
    refuse_doctype,
    split_tag,
    syntax_error,
)

NS = f"{{{EDGE_NAMESPACE}}}"
FILE_LEVEL = "file"

Row = dict[str, Any]
TableRow = tuple[str, Row]


def _blank_to_none(text: str | None) -> str | None:
    return text if text else None


def layout_for_root(elem: Any, name: str) -> OutboundLayout:
    """The outbound layout whose root ``elem`` is, or a refusal naming what was found."""
    namespace, localname = split_tag(elem.tag)
    if namespace != EDGE_NAMESPACE:
        raise OutboundFormatError(
            name,
            f"root element {localname} is in namespace {namespace or '(none)'}, "
            f"expected {EDGE_NAMESPACE}",
            element=localname,
            line=elem.sourceline,
        )
    layout = OUTBOUND_BY_ROOT.get(localname)
    if layout is None:
        known = ", ".join(sorted(OUTBOUND_BY_ROOT))
        raise OutboundFormatError(
            name,
            f"unknown root element {localname} (expected one of {known})",
            element=localname,
            line=elem.sourceline,
        )
    return layout


def read_block(elem: Any, group: Group) -> dict[str, Any]:
    """A small completed block's leaf values by column (lists for repeated leaves)."""
    leaves = {leaf.name: leaf for leaf in group.children if isinstance(leaf, Leaf)}
    values: dict[str, Any] = {
        leaf.column: [] if leaf.max_occurs != 1 else None for leaf in leaves.values() if leaf.column
    }
    for child in elem:
        leaf = leaves.get(etree.QName(child).localname)
        if leaf is None or not leaf.column:
            continue
        text = child.text or ""
        if leaf.max_occurs != 1:
            values[leaf.column].append(text)
        else:
            values[leaf.column] = text
    return values


@dataclass
class ReportHeader:
    """The ``includedFileHeader`` of a report, by column, with what the file name adds."""

    layout: OutboundLayout
    values: dict[str, str | None] = field(default_factory=dict)

    @property
    def report_type(self) -> str:
        return self.layout.name

    @property
    def outbound_file_identifier(self) -> str | None:
        return self.values.get("outbound_file_identifier")

    @property
    def inbound_file_identifier(self) -> str | None:
        return self.values.get("inbound_file_identifier")

    @property
    def generated_at(self) -> datetime | None:
        return parse_edge_datetime(self.values.get("generated_at"))


class OutboundReportReader:
    """Read one outbound report: ``rows(source)`` yields ``(table, row)`` pairs.

    ``header`` and ``layout`` are set as soon as the parser has passed the header.  ``zone`` is
    the execution zone from the file name (reports do not state it otherwise); ``load_id`` the
    inbound load attempt the report answers, which the caller looks up (it is not in the
    report).
    """

    def __init__(self, name: str, zone: str | None = None, load_id: int | None = None) -> None:
        self.name = name
        self.zone = zone
        self.load_id = load_id
        self.layout: OutboundLayout | None = None
        self.header: ReportHeader | None = None
        self._common: Row = {}

    # -- driver --------------------------------------------------------------------------------

    def rows(self, source: IO[bytes], *, header_only: bool = False) -> Iterator[TableRow]:
        """Parse ``source``; with ``header_only`` stop once the header is read."""
        try:
            yield from self._rows(source, header_only)
        except etree.XMLSyntaxError as exc:
            raise syntax_error(self.name, exc) from exc

    def _rows(self, source: IO[bytes], header_only: bool) -> Iterator[TableRow]:
        checker: StructureChecker | None = None
        nodes: list[Node] = []
        handler: _Handler | None = None
        for event, elem in iterparse(source, self.name, ("start", "end")):
            if checker is None:
                refuse_doctype(elem, self.name)
                self.layout = layout_for_root(elem, self.name)
                checker = StructureChecker(tree(self.layout), self.name)
                handler = _handler(self.layout, self)
            assert handler is not None
            if event == "start":
                node = checker.start(elem)
                nodes.append(node)
                handler.start(elem, node, len(nodes) - 1)
                continue
            checker.end(elem)
            node = nodes.pop()
            depth = len(nodes)
            # by name: the RA reports' header is the same block with the run added
            if depth == 1 and isinstance(node, Group) and node.name == FILE_HEADER.name:
                self._read_header(elem, node)
                if header_only:
                    return
                continue
            yield from handler.end(elem, node, depth)
        if checker is None:
            raise OutboundFormatError(self.name, "the file is empty")

    def _read_header(self, elem: Any, header: Group = FILE_HEADER) -> None:
        assert self.layout is not None
        values = {
            column: _blank_to_none(value) for column, value in read_block(elem, header).items()
        }
        self.header = ReportHeader(self.layout, values)
        inbound = self.header.inbound_file_identifier
        if not inbound:
            raise OutboundFormatError(
                self.name,
                "inboundFileIdentifier is missing or empty; the report cannot be linked",
                element="inboundFileIdentifier",
                line=elem.sourceline,
            )
        if not self.header.outbound_file_identifier:
            raise OutboundFormatError(
                self.name,
                "outboundFileIdentifier is missing or empty; the report cannot be registered",
                element="outboundFileIdentifier",
                line=elem.sourceline,
            )
        self._common = {
            "load_id": self.load_id,
            "file_identifier": inbound,
            "outbound_file_identifier": self.header.outbound_file_identifier,
            "report_type": self.layout.name,
        }

    def row(self, **values: Any) -> Row:
        """A reported row: ``values`` plus the file and report columns."""
        return {**self._common, **values}

    def error_rows(self, elem: Any, record_identifier: int | None, level: str) -> list[Row]:
        """One row per error code of a ``recordedError`` (codes, messages and details pair up
        by position; a block without codes still yields one row)."""
        block = read_block(elem, RECORDED_ERROR)
        codes, messages, details = block["error_code"], block["message"], block["detail"]
        rows = []
        for index in range(max(len(codes), 1)):
            detail = _blank_to_none(details[index]) if index < len(details) else None
            rows.append(
                self.row(
                    record_identifier=record_identifier,
                    level=level,
                    element=_blank_to_none(block["element"]),
                    value=block["value"],
                    error_code=_blank_to_none(codes[index]) if index < len(codes) else None,
                    check_kind=detail if detail in CHECK_KINDS else None,
                    message=_blank_to_none(messages[index]) if index < len(messages) else None,
                    detail=detail,
                )
            )
        return rows


#: What this project's writer puts in ``offendingElementErrorTypeDetail`` (assumed).
CHECK_KINDS = frozenset({"required", "face", "referential", "logical"})


def _release(elem: Any) -> None:
    """Free a processed element and the already processed siblings before it."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _int(text: str | None) -> int | None:
    """Integer leaves are digits (the structure checker saw to it); absent ones are None."""
    if text is None or not text.strip():
        return None
    return int(text.strip().lstrip("0") or "0")  # leading zeros count towards int()'s limit


class _Handler:
    """Turns one report type's elements into rows (base: nothing)."""

    def __init__(self, reader: OutboundReportReader) -> None:
        self.reader = reader

    def start(self, elem: Any, node: Node, depth: int) -> None:
        return None

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        return iter(())


def _handler(layout: OutboundLayout, reader: OutboundReportReader) -> _Handler:
    if isinstance(layout, FileStatusLayout):
        return _FileStatusHandler(reader)
    if isinstance(layout, DetailLayout):
        return _DetailHandler(reader, layout)
    if isinstance(layout, RaReportLayout):
        # Phase 2 reports; imported here because that module builds on this one.
        from edge_pipeline.edge.outbound.phase2_read import RaReportHandler

        return RaReportHandler(reader, layout)
    assert isinstance(layout, SummaryLayout)
    return _SummaryHandler(reader, layout)


class _FileStatusHandler(_Handler):
    """ESFAR: one ``reported_file_status`` row and the header-level errors."""

    status: str | None = None

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        reader = self.reader
        if depth == 1 and node.name == STATUS.name:
            self.status = _blank_to_none(read_block(elem, STATUS)["status"])
        elif depth == 1 and node.name == RECORDED_ERROR.name:
            for row in reader.error_rows(elem, None, FILE_LEVEL):
                yield "reported_record_error", row
        elif depth == 0:
            assert reader.header is not None
            values = reader.header.values
            inbound = BY_TYPE.get(values.get("submission_type") or "")
            yield (
                "reported_file_status",
                reader.row(
                    submission_type=values.get("submission_type"),
                    execution_zone=reader.zone,
                    issuer_id=values.get("issuer_id"),
                    status=self.status,
                    verified_at=reader.header.generated_at,
                    layout=inbound.name if inbound else None,
                    # not stated by an ESFAR: the summary's error code frequencies add up to it
                    error_count=None,
                ),
            )


class _DetailHandler(_Handler):
    """Detail reports: a ``reported_record_status`` row per result, its errors, and the
    rejection reason derived from the tree (:mod:`edge_pipeline.edge.outbound.reasons`)."""

    def __init__(self, reader: OutboundReportReader, layout: DetailLayout) -> None:
        super().__init__(reader)
        self.results: dict[str, ResultLevel] = {r.element: r for r, _ in layout.levels()}
        self.frame: ResultFrame | None = None
        self.file_rejected = False

    def start(self, elem: Any, node: Node, depth: int) -> None:
        result = self.results.get(node.name) if isinstance(node, Group) else None
        if result is not None:
            self.frame = ResultFrame(result, self.frame)

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        frame = self.frame
        if frame is None:
            if depth == 1 and node.name == STATUS.name:
                self.file_rejected = read_block(elem, STATUS)["status"] == "R"
            return
        if node.name == frame.result.element and isinstance(node, Group):
            yield from self._finish(frame, elem)
            return
        if (
            elem.getparent() is None
            or etree.QName(elem.getparent()).localname != frame.result.element
        ):
            return
        if isinstance(node, Leaf) and node.column == "record_identifier":
            frame.record_identifier = _int(elem.text)
        elif isinstance(node, Leaf) and node.column == "record_key":
            frame.key = elem.text or ""
        elif node.name == STATUS.name:
            frame.status = _blank_to_none(read_block(elem, STATUS)["status"])
        elif node.name == RECORDED_ERROR.name:
            rows = self.reader.error_rows(elem, frame.record_identifier, frame.result.level)
            frame.errors += len(rows)
            for row in rows:
                yield "reported_record_error", row

    def _finish(self, frame: ResultFrame, elem: Any) -> Iterator[TableRow]:
        parent = frame.parent
        row = self.reader.row(
            record_identifier=frame.record_identifier,
            level=frame.result.level,
            parent_record_identifier=parent.record_identifier if parent else None,
            record_key=frame.key,
            status=frame.status,
            failed_self=frame.failed_self,
            rejection_reason=None,
        )
        if parent is not None:
            parent.child_done(frame)
        waiting = frame.waiting_group()
        settled: list[tuple[Row, ResultFrame]] = [(row, frame), *frame.pending]
        frame.pending = []
        if waiting is not None:
            waiting.pending.extend(settled)
        else:
            for done, of in settled:
                done["rejection_reason"] = rejection_reason(of, self.file_rejected)
                yield "reported_record_status", done
        self.frame = parent
        _release(elem)


class _SummaryHandler(_Handler):
    """Summaries: level counts, issuer and plan blocks with their rollups, error frequencies."""

    def __init__(self, reader: OutboundReportReader, layout: SummaryLayout) -> None:
        super().__init__(reader)
        self.layout = layout
        self.counts = {block.element: block.level for block in layout.counts}

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        if depth != 1:
            return
        reader = self.reader
        layout = self.layout
        if node.name in self.counts and isinstance(node, Group):
            values = {k: _int(v) for k, v in read_block(elem, node).items()}
            yield "reported_level_summary", reader.row(level=self.counts[node.name], **values)
        elif node.name == ERROR_CODE_FREQUENCY.name:
            block = read_block(elem, ERROR_CODE_FREQUENCY)
            yield (
                "reported_error_frequency",
                reader.row(
                    error_code=_blank_to_none(block["error_code"]),
                    frequency=_int(block["frequency"]),
                ),
            )
        elif node.name in (layout.issuer.element, layout.plan.element):
            declared = layout.issuer if node.name == layout.issuer.element else layout.plan
            yield from self._scope(elem, declared)
        _release(elem)

    def _scope(self, elem: Any, declared: ScopeSummary) -> Iterator[TableRow]:
        reader = self.reader
        scope_tree = tree(self.layout).child(declared.element)
        assert isinstance(scope_tree, Group)
        identity = read_block(elem, scope_tree)
        key = _blank_to_none(identity.get("scope_key"))
        status = None
        base = {"scope_level": declared.scope_level, "scope_key": key}
        count_blocks = {block.element: block.level for block in declared.counts}
        rows: list[Row] = []
        for child in elem:
            local = etree.QName(child).localname
            if local == STATUS.name:
                status = _blank_to_none(read_block(child, STATUS)["status"])
            elif local in count_blocks:
                rows.append(self._counts_row(base, child, count_blocks[local]))
            elif local == declared.rollup.year_element:
                rows.extend(self._year_rows(base, child, declared))
        yield (
            "reported_scope_summary",
            reader.row(
                scope_level=declared.scope_level,
                scope_record_identifier=_int(identity.get("scope_record_identifier")),
                scope_key=key,
                status=status,
            ),
        )
        for row in rows:
            yield "reported_summary_counts", reader.row(**row)

    @staticmethod
    def _counts_row(base: Row, elem: Any, level: str, **where: Any) -> Row:
        counts = {k: _int(v) for k, v in read_block(elem, RECORD_COUNTS).items()}
        return {
            **base,
            "year": where.get("year"),
            "month": where.get("month"),
            "form_type": where.get("form_type"),
            "level": level,
            **counts,
            "accepted_months": where.get("accepted_months"),
            "rejected_months": where.get("rejected_months"),
        }

    def _months_row(
        self, base: Row, elem: Any, measure: MemberMonths, year: int | None, month: int | None
    ) -> Row:
        """Member months of a year (``month`` None) or of a month."""
        values = {etree.QName(c).localname: c.text for c in elem}
        return {
            **base,
            "year": year,
            "month": month,
            "form_type": None,
            "level": self.layout.source.level,
            **dict.fromkeys(("received", "accepted", "resolved", "rejected", "new_accepted")),
            "accepted_months": _int(values.get(measure.accepted)),
            "rejected_months": _int(values.get(measure.rejected)),
        }

    def _year_rows(self, base: Row, elem: Any, declared: ScopeSummary) -> list[Row]:
        rollup = declared.rollup
        level = self.layout.source.level
        year = _int(elem.findtext(f"{NS}{rollup.year}"))
        rows: list[Row] = []
        if isinstance(rollup.measure, MemberMonths):
            rows.append(self._months_row(base, elem, rollup.measure, year, None))
        for month_elem in elem.iterfind(f"{NS}{rollup.month_element}"):
            month = _int(month_elem.findtext(f"{NS}{rollup.month}"))
            measure = rollup.measure
            if isinstance(measure, MemberMonths):
                rows.append(self._months_row(base, month_elem, measure, year, month))
            elif isinstance(measure, MonthCounts):
                counts = month_elem.find(f"{NS}{measure.counts.element}")
                rows.append(self._counts_row(base, counts, level, year=year, month=month))
            else:
                assert isinstance(measure, FormTypeCounts)
                for form in month_elem.iterfind(f"{NS}{measure.element}"):
                    rows.append(
                        self._counts_row(
                            base,
                            form.find(f"{NS}{measure.counts.element}"),
                            level,
                            year=year,
                            month=month,
                            form_type=form.findtext(f"{NS}{measure.code}"),
                        )
                    )
        return rows


def read_outbound_header(path: Path | str, source: IO[bytes] | None = None) -> ReportHeader:
    """Parse a report only as far as its header: what it is and which file it is about.

    ``source``: the report already open (the loader's one open file), read from its first
    byte; otherwise ``path`` is opened."""
    path = Path(path)
    reader = OutboundReportReader(path.name)
    with nullcontext(source) if source is not None else open(path, "rb") as opened:
        opened.seek(0)
        if not opened.read(1):  # lxml's own message for this is "no element found, line 0"
            raise OutboundFormatError(path, "not well-formed XML: the file is empty (0 bytes)")
        opened.seek(0)
        for _ in reader.rows(opened, header_only=True):
            pass
    if reader.header is None:
        raise OutboundFormatError(path, "the report has no includedFileHeader")
    return reader.header
