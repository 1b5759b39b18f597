"""Hardened lxml iterparse: no entity expansion, no DTD, no network, no comments or PIs.

Kept in one place so every reader (inbound now, outbound reports later) gets the same
protection; a delivery folder is an untrusted input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from lxml import etree

from edge_pipeline.edge.errors import InboundFormatError

#: The parser options every reader uses: no entity resolution, no DTD, no network, comments
#: and processing instructions dropped, libxml2's size and depth limits kept.
HARDENED_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "load_dtd": False,
    "dtd_validation": False,
    "no_network": True,
    "remove_comments": True,
    "remove_pis": True,
    "huge_tree": False,
}


def iterparse(
    source: IO[bytes], name: str, events: Iterable[str], tag: Iterable[str] | None = None
) -> Any:
    """An iterparse over ``source`` that refuses to resolve entities or fetch anything."""
    # lxml keeps one error log per thread; start this parse with an empty one so that
    # ``syntax_error`` can take the real cause from it (see there).
    etree.clear_error_log()
    return etree.iterparse(
        source,
        events=tuple(events),
        tag=list(tag) if tag is not None else None,
        **HARDENED_OPTIONS,
    )


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
    """
    message = exc.msg
    line = exc.position[0] if getattr(exc, "position", None) else None
    if not line:
        last = exc.error_log.last_error if exc.error_log else None
        if last is not None and last.line:
            message, line = f"{last.message}, line {last.line}, column {last.column}", last.line
        else:
            line = None
    return InboundFormatError(name, f"not well-formed XML: {message}", line=line)


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
