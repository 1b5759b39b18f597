"""Which family and kind an arriving file is: the inbox's routing, shared by every family.

An inbox may receive the files of several families (EDGE XML submissions today; fixed-width
Medicare Advantage reports and X12 834 files beside them later).  Each family declares a
:class:`Route`: whether a file's first bytes look like its files at all, and, for a file that
does, its kind and the key it is partitioned by (or why it cannot be taken).  :func:`route`
opens the file once, safely (:func:`~edge_pipeline.base.input_file.open_input`: no symlink
followed, no FIFO opened), asks the routes in order and returns the first answer, so adding a
family is one more route in the list the Dagster layer passes, never a change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from edge_pipeline.base.errors import InboundFormatError
from edge_pipeline.base.input_file import open_input

#: Bytes a route is shown to decide whether a file is of its family.
HEAD_BYTES = 512


class NotRoutable(ValueError):
    """A file no route takes, or one its route refuses; the message says why (never quoting
    the file's content)."""


@dataclass(frozen=True)
class Routed:
    """A file a route took: its family, its kind within the family and its partition key."""

    path: Path
    family: str
    kind: str
    key: str


class Route(Protocol):
    """One family's way of recognising its files."""

    family: str

    def claims(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` looks like this family's files at all."""
        ...

    def recognise(self, path: Path, source: IO[bytes]) -> tuple[str, str]:
        """``(kind, key)`` of a claimed file, read from ``source`` (positioned at byte 0);
        raises :class:`NotRoutable` with the reason when the file cannot be taken."""
        ...


def route(path: Path, routes: tuple[Route, ...]) -> Routed:
    """The first route that claims ``path`` and what it makes of it; :class:`NotRoutable` when
    the file cannot be opened, no route claims it, or its route refuses it."""
    try:
        with open_input(path, markup=False) as opened:
            source = opened.file
            head = source.read(HEAD_BYTES)
            for candidate in routes:
                if candidate.claims(head):
                    source.seek(0)
                    kind, key = candidate.recognise(path, source)
                    return Routed(path=path, family=candidate.family, kind=kind, key=key)
    except (InboundFormatError, OSError) as exc:
        raise NotRoutable(f"unreadable: {exc}") from exc
    families = ", ".join(r.family for r in routes)
    raise NotRoutable(f"not a file of any known family ({families})")
