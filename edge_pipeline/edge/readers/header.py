"""Read just enough of an inbound file to know what it is: root, header, totals, issuer.

The sensor calls this for every landed file and must stay cheap: parsing stops at the first
record below the issuer, so the cost does not depend on file size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lxml import etree

from edge_pipeline.base.errors import InboundFormatError, safe_name, too_long
from edge_pipeline.edge.layouts import BY_ROOT, EDGE_NAMESPACE, FileLayout
from edge_pipeline.edge.readers.xmlparse import (
    iterparse,
    refuse_doctype,
    split_tag,
    syntax_error,
)

NS = f"{{{EDGE_NAMESPACE}}}"


@dataclass(frozen=True)
class InboundHeader:
    """What the first kilobytes of an inbound file say about it (raw text values)."""

    layout: FileLayout
    values: dict[str, str | None] = field(default_factory=dict)
    issuer: dict[str, str | None] = field(default_factory=dict)

    @property
    def file_identifier(self) -> str | None:
        return self.values.get("file_identifier")

    @property
    def execution_zone(self) -> str | None:
        return self.values.get("execution_zone")

    @property
    def submission_type(self) -> str | None:
        return self.values.get("submission_type")

    @property
    def issuer_id(self) -> str | None:
        return self.issuer.get("issuer_identifier")


def layout_for_root(tag: object, name: str) -> FileLayout:
    """The layout whose root element ``tag`` is, or a clear refusal naming what was found."""
    if not isinstance(tag, str):
        raise InboundFormatError(name, "the document has no element root")
    namespace, localname = split_tag(tag)
    if namespace != EDGE_NAMESPACE:
        raise InboundFormatError(
            name,
            f"root element {safe_name(localname)} is in namespace "
            f"{safe_name(namespace or '(none)', 64)}, "
            f"expected {EDGE_NAMESPACE}",
            element=localname,
        )
    layout = BY_ROOT.get(localname)
    if layout is None:
        known = ", ".join(sorted(BY_ROOT))
        raise InboundFormatError(
            name, f"unknown root element {safe_name(localname)} (expected one of {known})"
        )
    return layout


def read_header(path: Path | str, source: IO[bytes] | None = None) -> InboundHeader:
    """Parse the root, header, file totals and issuer fields of ``path``, then stop.

    ``source``: the file already open (the loader's one open file), read from its first
    byte; otherwise ``path`` is opened."""
    name = Path(path).name
    if source is not None:
        source.seek(0)
        return _read_header_from(source, name)
    with open(path, "rb") as opened:
        return _read_header_from(opened, name)


def _read_header_from(source: IO[bytes], name: str) -> InboundHeader:
    if not source.read(1):  # lxml's own message for this is "no element found, line 0"
        raise InboundFormatError(name, "not well-formed XML: the file is empty (0 bytes)")
    source.seek(0)
    try:
        return _read_header(source, name)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(name, exc) from exc


def _read_header(source, name: str) -> InboundHeader:
    layout: FileLayout | None = None
    root = issuer = None
    root_columns: dict[str, str] = {}
    issuer_columns: dict[str, str] = {}
    limits: dict[str, int] = {}
    child_tags: set[str] = set()
    values: dict[str, str | None] = {}
    issuer_values: dict[str, str | None] = {}
    for event, elem in iterparse(source, name, ("start", "end")):
        if root is None:
            refuse_doctype(elem, name)
            layout = layout_for_root(elem.tag, name)
            root = elem
            root_columns = {NS + e.name: e.column for e in (*layout.header, *layout.totals)}
            issuer_columns = {NS + e.name: e.column for e in layout.issuer.value_fields}
            limits = {
                NS + e.name: e.max_length
                for e in (*layout.header, *layout.totals, *layout.issuer.value_fields)
                if e.name != "recordIdentifier"  # parsed and range-checked by the record reader
            }
            child_tags = {NS + (c.container or c.element) for c in layout.issuer.children}
            continue
        parent = elem.getparent()
        if event == "start":
            if elem.tag == NS + layout.issuer.element and parent is root:
                issuer = elem
            elif issuer is not None and parent is issuer and elem.tag in child_tags:
                break
            continue
        _check_length(elem, limits, name)
        if parent is root and elem.tag in root_columns:
            values[root_columns[elem.tag]] = elem.text or ""
        elif issuer is not None and parent is issuer and elem.tag in issuer_columns:
            issuer_values[issuer_columns[elem.tag]] = elem.text or ""
        elif elem is root:
            break
    if layout is None:
        raise InboundFormatError(name, "the file is empty")
    return InboundHeader(layout=layout, values=values, issuer=issuer_values)


def _check_length(elem, limits: dict[str, int], name: str) -> None:
    """Refuse a header, total or issuer value over its load limit before it is stored in the
    registry (the record reader refuses the file for it anyway)."""
    limit = limits.get(elem.tag)
    if limit is not None and len(elem.text or "") > limit:
        element = split_tag(elem.tag)[1]
        raise InboundFormatError(
            name, too_long(elem.text, limit), element=element, line=elem.sourceline
        )
