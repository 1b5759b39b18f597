"""Hardened lxml iterparse: no entity expansion, no DTD, no network, no comments or PIs.

Kept in one place so every reader (inbound now, outbound reports later) gets the same
protection; a delivery folder is an untrusted input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from lxml import etree

from edge_pipeline.edge.errors import InboundFormatError


def iterparse(
    source: IO[bytes], name: str, events: Iterable[str], tag: Iterable[str] | None = None
) -> Any:
    """An iterparse over ``source`` that refuses to resolve entities or fetch anything."""
    return etree.iterparse(
        source,
        events=tuple(events),
        tag=list(tag) if tag is not None else None,
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
    )


def refuse_doctype(element: Any, name: str) -> None:
    """EDGE files never carry a DOCTYPE; one is a sign of an entity attack, so refuse it."""
    docinfo = element.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise InboundFormatError(name, "a DOCTYPE/DTD is not allowed in EDGE files")


def syntax_error(name: str, exc: etree.XMLSyntaxError) -> InboundFormatError:
    """Translate lxml's syntax error into ours, keeping the line number."""
    line = exc.position[0] if getattr(exc, "position", None) else None
    return InboundFormatError(name, f"not well-formed XML: {exc.msg}", line=line)
