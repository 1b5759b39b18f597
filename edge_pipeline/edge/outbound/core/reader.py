"""What reading any outbound report takes, whatever its family: the streaming driver, the header,
structure checking as it parses, and the handler interface each family implements.

The report type comes from the root element.  Every element is checked against the layout as
it is parsed (:mod:`edge_pipeline.edge.outbound.core.structure`), so a report that is not what
its root claims fails at its first wrong element, naming line and element, before anything could
be misread.  Parsing uses the project's hardened iterparse (no DTD, no entities, no network).

Rows are plain dicts keyed by the ``reported_*`` columns.  ``file_identifier`` is the report's
``inboundFileIdentifier``, so reported rows join the inbound file and, on record identifiers,
its records.  Empty text is read as missing for names, messages, details, keys and header
values (the writer has to write an empty element where a value is missing and the element is
required); ``offendingElementValue`` keeps the difference between empty and absent.

Handlers (:mod:`..phase1.read`, :mod:`..ra.read`) release each element once it has been turned
into rows (:func:`release`), so memory does not grow with the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from lxml import etree

from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE
from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_ROOT, OutboundLayout
from edge_pipeline.edge.layouts.outbound.common import (
    FILE_HEADER,
    RECORDED_ERROR,
)
from edge_pipeline.edge.layouts.outbound.model import (
    Group,
    Leaf,
    Node,
)
from edge_pipeline.edge.layouts.outbound.tree import tree
from edge_pipeline.edge.outbound.core.errors import OutboundFormatError
from edge_pipeline.edge.outbound.core.naming import parse_edge_datetime
from edge_pipeline.edge.outbound.core.structure import StructureChecker
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


def blank_to_none(text: str | None) -> str | None:
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


class ReportReader:
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
        handler: Handler | None = None
        for event, elem in iterparse(source, self.name, ("start", "end")):
            if checker is None:
                refuse_doctype(elem, self.name)
                self.layout = layout_for_root(elem, self.name)
                checker = StructureChecker(tree(self.layout), self.name)
                handler = self.handler_for(self.layout)
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
            column: blank_to_none(value) for column, value in read_block(elem, header).items()
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

    def handler_for(self, layout: OutboundLayout) -> Handler:
        """The handler that turns ``layout``'s elements into rows (each report family has its
        own: :class:`edge_pipeline.edge.outbound.read.OutboundReportReader` chooses)."""
        raise NotImplementedError

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
            detail = blank_to_none(details[index]) if index < len(details) else None
            rows.append(
                self.row(
                    record_identifier=record_identifier,
                    level=level,
                    element=blank_to_none(block["element"]),
                    value=block["value"],
                    error_code=blank_to_none(codes[index]) if index < len(codes) else None,
                    check_kind=detail if detail in CHECK_KINDS else None,
                    message=blank_to_none(messages[index]) if index < len(messages) else None,
                    detail=detail,
                )
            )
        return rows


#: What this project's writer puts in ``offendingElementErrorTypeDetail`` (assumed).
CHECK_KINDS = frozenset({"required", "face", "referential", "logical"})


def release(elem: Any) -> None:
    """Free a processed element and the already processed siblings before it."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def to_int(text: str | None) -> int | None:
    """Integer leaves are digits (the structure checker saw to it); absent ones are None."""
    if text is None or not text.strip():
        return None
    return int(text.strip().lstrip("0") or "0")  # leading zeros count towards int()'s limit


class Handler:
    """Turns one report type's elements into rows (base: nothing)."""

    def __init__(self, reader: ReportReader) -> None:
        self.reader = reader

    def start(self, elem: Any, node: Node, depth: int) -> None:
        return None

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        return iter(())
