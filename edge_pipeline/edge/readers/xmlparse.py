"""Hardened lxml iterparse: no entity expansion, no DTD, no network, no processing instructions.

Kept in one place so every reader (inbound files, outbound reports, the header sniffer) gets
the same protection; a delivery folder is an untrusted input.

Two refusals are added on top of libxml2's options:

* A processing instruction (``<?xml-stylesheet ...?>``, ``<?php ...?>``) is refused: EDGE
  files carry none, and the XSD admits none.  The XML declaration is not one.  Comments are
  harmless and dropped.
* Memory: libxml2 refuses a text node over 10 MB as it streams, but a comment, CDATA section,
  attribute value or processing instruction is buffered whole before its end is found.  The
  reader is therefore refused once ``MAX_BYTES_WITHOUT_EVENT`` bytes have gone into the
  parser without it completing anything the reader asked for (every caller asks for at least
  one event per record), which bounds memory whatever the file holds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from lxml import etree

from edge_pipeline.base.errors import InboundFormatError, shorten
from edge_pipeline.base.names import printable_name

#: The parser options every reader uses: no entity resolution, no DTD, no network, comments
#: dropped, libxml2's size and depth limits kept.  Processing instructions are kept so that
#: they can be seen (and refused, see ``iterparse``).
HARDENED_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "load_dtd": False,
    "dtd_validation": False,
    "no_network": True,
    "remove_comments": True,
    "remove_pis": False,
    "huge_tree": False,
}

#: Bytes the parser may take in without completing anything the reader asked for.  The
#: largest EDGE record (an institutional claim with 999 service lines) is about 1 MB.
MAX_BYTES_WITHOUT_EVENT = 64 * 2**20
#: How much of a processing instruction's target an error message quotes.
_PI_TARGET_SHOWN = 40


def iterparse(
    source: IO[bytes],
    name: str,
    events: Iterable[str],
    tag: Iterable[str] | None = None,
    *,
    max_bytes_without_event: int = MAX_BYTES_WITHOUT_EVENT,
) -> Iterator[tuple[str, Any]]:
    """An iterparse over ``source`` that refuses to resolve entities or fetch anything,
    refuses processing instructions and refuses to buffer an unbounded construct."""
    # lxml keeps one error log per thread; start this parse with an empty one so that
    # ``syntax_error`` can take the real cause from it (see there).
    etree.clear_error_log()
    guarded = _BoundedSource(source, name, max_bytes_without_event)
    parsed = etree.iterparse(
        guarded,
        events=(*events, "pi"),  # lxml reports PIs whatever the tag filter
        tag=list(tag) if tag is not None else None,
        **HARDENED_OPTIONS,
    )
    return _refusing_pis(parsed, guarded, name)


def _refusing_pis(
    parsed: Iterator[tuple[str, Any]], guarded: _BoundedSource, name: str
) -> Iterator[tuple[str, Any]]:
    """The parser's events; each one proves progress, a processing instruction is refused.
    Runs once per event the caller asked for (per record with a tag filter), not per leaf."""
    for event, elem in parsed:
        guarded.mark = guarded.fed
        if event == "pi":
            target = str(elem.target)
            shown = target[:_PI_TARGET_SHOWN] + ("..." if len(target) > _PI_TARGET_SHOWN else "")
            raise InboundFormatError(
                name,
                f"processing instruction <?{shown}?> is not allowed in EDGE files",
                line=elem.sourceline,
            )
        yield event, elem


class _BoundedSource:
    """File-like ``read`` that refuses the file once ``limit`` bytes have been read since the
    parser last completed an event (``mark``, set by ``_refusing_pis``).

    lxml calls ``read`` in 32 KB chunks and raises what it raises, so the refusal happens
    while libxml2 holds at most ``limit`` bytes of the unfinished construct.
    """

    __slots__ = ("fed", "limit", "mark", "name", "source")

    def __init__(self, source: IO[bytes], name: str, limit: int) -> None:
        self.source = source
        self.name = name
        self.limit = limit
        self.fed = 0
        self.mark = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.fed += len(chunk)
        if self.fed - self.mark > self.limit:
            raise InboundFormatError(
                self.name,
                f"more than {self.limit // 2**20} MB read (bytes {self.mark:,} to "
                f"{self.fed:,}) without a complete record: a comment, CDATA section, "
                "attribute, processing instruction or record this large is not EDGE data",
            )
        return chunk


def refuse_doctype(element: Any, name: str) -> None:
    """EDGE files never carry a DOCTYPE; one is a sign of an entity attack, so refuse it."""
    docinfo = element.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise InboundFormatError(name, "a DOCTYPE/DTD is not allowed in EDGE files")


def syntax_error(name: str, exc: etree.XMLSyntaxError) -> InboundFormatError:
    """Translate lxml's syntax error into ours, keeping the line number.

    For some fatal errors (an undeclared entity such as ``&foo;``) lxml's iterparse raises a
    generic "no element found" at line 0; the parser's real message and line are then the
    last entry of the error log (cleared when the parse started, see ``iterparse``).

    libxml2's messages quote the document: entity and tag names (``Entity 'AB1234' not
    defined``; a stray ``<`` in a member id becomes a tag name), an unfinished CDATA section's
    text on a second line, older versions the offending bytes.  The message is therefore
    reduced by :func:`libxml2_message` to its first line with every word that is neither
    libxml2's own nor an EDGE element name replaced by its length.
    """
    message = exc.msg
    line = exc.position[0] if getattr(exc, "position", None) else None
    if not line:
        last = exc.error_log.last_error if exc.error_log else None
        if last is not None and last.line:
            message, line = f"{last.message}, line {last.line}, column {last.column}", last.line
        else:
            line = None
    return InboundFormatError(name, f"not well-formed XML: {libxml2_message(message)}", line=line)


#: Words of libxml2's own parser messages (lower case); any other word in a message may be
#: document text and is replaced by its length.  A word missing here is only less readable.
_LIBXML2_VOCABULARY = """
    a an and are as at attribute attributes attvalue bad be blank bounds but by cdata char
    character characters column comment construct content could couldn't data decl declaration
    declared defined depth detected doctype document does element empty encoding end endtag
    entity entityref error excessive expected expecting extra failed finished for found from
    huge in incorrect indicate input internal invalid is labelled line literal long lookup loop
    malformed mandates memory mismatch missing name namespace needed no node not of on opening
    option or out parsing pcdata premature prefix proper pubidliteral range redefined reference
    root section sequence specification standalone start starttag subset support supported
    systemliteral tag text the to too try unescaped unfinished unknown unsupported uri use utf-8
    utf-16 value version was whitespace with xml xml_parse_huge xmlparsecharref
    xmlparseentityref xmlparsestartendtag xmlparsestarttag2 bytes ending amplification factor
    exceeded maximum see xmlctxtsetmaxamplification allowed already after before big-endian
    little-endian cannot closed conditional double-hyphen duplicate epilog prolog externalid
    entityvalue fatal greater-than ignored implied improperly incomplete length limit markup
    misplaced must names ncname nmtoken nesting null only pereference processing pubid public
    publicid required reserved sysid system terminated this unable unexpected unparsed xmlns
    xmlparsecomment xmlparsepi xmlparsepitarget xmlparseendtag xmlparsestarttag space spaces
    white within wrong hexadecimal decimal digit encoder convert converting auto-detected number
    recursion quote comma colons has have should set used using pi doc dtd sequence's label
    labeled xmlchar charref attlist entities deep quotation mark pcdata content's
    references external parameter undeclared declare
"""
_LIBXML2_WORDS = frozenset(_LIBXML2_VOCABULARY.split())
_WORD = re.compile(r"[^\s,:;'\"()<>=/\[\]!?&]+")
_PLACE = re.compile(r", line \d+, column \d+$")
_MAX_LIBXML2_CHARS = 120
_ENCODING_PREFIX = "Unsupported encoding: "


def libxml2_message(message: str) -> str:
    """libxml2's message with no document text in it (see ``syntax_error``)."""
    first, _, rest = message.partition("\n")
    if first.startswith(_ENCODING_PREFIX):  # the XML declaration's, before any data: kept
        return shorten(printable_name(first), _MAX_LIBXML2_CHARS)
    if rest:  # lxml appends ", line L, column C" after libxml2's (multi-line) message
        place = _PLACE.search(rest)
        first += place.group(0) if place else ""
    known = known_names()

    def word(match: re.Match[str]) -> str:
        text = match.group(0)
        lower = text.lower()
        if lower in _LIBXML2_WORDS or text in known or (text.isdigit() and len(text) <= 10):
            return text
        if lower.startswith("0x") and len(text) <= 4:  # a byte value, no word of the file
            return "0x.."
        return f"[{len(text)} chars]"

    return shorten(printable_name(_WORD.sub(word, first)), _MAX_LIBXML2_CHARS)


@functools.cache
def known_names() -> frozenset[str]:
    """Every element name of the EDGE layouts (inbound and outbound): safe to quote."""
    from edge_pipeline.edge.layouts import INBOUND_LAYOUTS
    from edge_pipeline.edge.layouts.outbound import OUTBOUND_LAYOUTS
    from edge_pipeline.edge.layouts.outbound.model import Group
    from edge_pipeline.edge.layouts.outbound.tree import tree

    names: set[str] = set()
    for layout in INBOUND_LAYOUTS:
        names.add(layout.root)
        names.update(e.name for e in (*layout.header, *layout.totals))
        for record, _ in layout.records():
            names.update({record.element, *(f.name for f in record.fields)})
            names.update(c.container for c in record.children if c.container)
    stack = [tree(layout) for layout in OUTBOUND_LAYOUTS]
    while stack:
        node = stack.pop()
        names.add(node.name)
        if isinstance(node, Group):
            stack.extend(node.children)
    return frozenset(names)


def split_tag(tag: str) -> tuple[str | None, str]:
    """Namespace and local name of a parsed element's tag, without ``etree.QName``'s check.

    libxml2 reports a malformed qualified name (``<:x>``, ``<x:>``, an undeclared prefix
    ``<p:x>``) only when the document ends, so a streaming reader meets such a tag first, and
    ``etree.QName`` raises ``ValueError`` on it: an error message naming the element must not
    turn a bad file into an internal error.
    """
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag
