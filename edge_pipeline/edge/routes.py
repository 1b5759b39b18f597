"""How the inbox recognises an EDGE submission (:class:`~edge_pipeline.base.routing.Route`).

An EDGE inbound file is XML whose root element names its type (ESES, ESMCS, ESPCS, ESSFS) and
whose header carries the ``fileIdentifier`` every outbound report echoes: the file's kind is its
layout, its key its identifier.  Only the header is read (parsing stops before the first record),
never the file name, which the issuer's systems choose.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from edge_pipeline.base.errors import InboundFormatError
from edge_pipeline.base.input_file import looks_like_markup
from edge_pipeline.base.routing import NotRoutable
from edge_pipeline.edge.readers.header import read_header


class EdgeSubmissionRoute:
    """EDGE inbound XML: kind ``eses`` / ``esmcs`` / ``espcs`` / ``essfs``, keyed by its
    ``fileIdentifier``."""

    family = "edge"

    def claims(self, head: bytes) -> bool:
        return looks_like_markup(head)

    def recognise(self, path: Path, source: IO[bytes]) -> tuple[str, str]:
        try:
            header = read_header(path, source)
        except (InboundFormatError, ValueError) as exc:
            raise NotRoutable(f"header unreadable: {exc}") from exc
        identifier = (header.file_identifier or "").strip()
        if not identifier:
            raise NotRoutable("the header has no fileIdentifier")
        return header.layout.name.lower(), identifier


#: The routes of the EDGE family's inbound files.
EDGE_INBOUND_ROUTES = (EdgeSubmissionRoute(),)
