"""The inbox folder where issuer systems drop inbound EDGE XML files.

Files are found by reading their headers (cheap: parsing stops before the first record), never
by trusting the name, so re-materializing a partition from the UI, without the sensor's run
tags, still finds the right file.  The header also says whether a file is a recognisable
submission at all (:meth:`InboxResource.submission`): one that is not gets no partition.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from pydantic import Field

from edge_pipeline.base.folders import configured_folder, folder_entries, folder_member
from edge_pipeline.base.names import printable_name
from edge_pipeline.base.routing import NotRoutable, Route, route
from edge_pipeline.defs.inbound.partitions import file_kind, valid_partition_key
from edge_pipeline.edge.routes import EDGE_INBOUND_ROUTES

#: The routes an inbox file is recognised by, one per family (EDGE submissions today).
INBOUND_ROUTES: tuple[Route, ...] = (*EDGE_INBOUND_ROUTES,)

log = logging.getLogger(__name__)

#: Run tag naming the inbox file a run should load (set by the sensor and the demo).
INBOX_FILE_TAG = "edge/inbox_file"
#: Run tag of a ``record_refused_inbound_file`` run: why the sensor refused the file.
REFUSAL_TAG = "edge/refusal"


def default_inbox_path() -> Path:
    """``$EDGE_INBOX`` if set, else ``<repo>/data/inbox``."""
    return configured_folder("EDGE_INBOX", "inbox")


class NotASubmission(ValueError):
    """An inbox file that is not a recognisable submission; the message says why."""


@dataclass(frozen=True)
class InboxSubmission:
    """A recognisable inbox file: its path, kind (``eses`` ...) and partition key."""

    path: Path
    kind: str
    key: str


class InboxFileNotFound(LookupError):
    """No inbox file belongs to the requested partition (moved, deleted or never landed)."""


class InboxResource(dg.ConfigurableResource):
    """An inbox folder of ``*.xml`` inbound files, and how to tell when a file has landed."""

    path: str = Field(description="Folder the issuer's inbound EDGE XML files land in.")
    settle_seconds: float = Field(
        default=5.0,
        description=(
            "A file is picked up only when it has not been modified for this long and its size "
            "did not change since the previous sensor tick (a copy still in progress)."
        ),
    )

    @property
    def folder(self) -> Path:
        return Path(self.path)

    def xml_files(self) -> list[Path]:
        """The ``*.xml`` entries in the inbox, sorted by name, symlinks and FIFOs included
        (:func:`~edge_pipeline.base.folders.folder_entries`: their loads refuse them)."""
        return folder_entries(self.folder, "*.xml")

    def submission(self, path: Path) -> InboxSubmission:
        """The file's kind and partition key (its ``fileIdentifier``), read from its header
        through the inbox's routes (:mod:`edge_pipeline.base.routing`).

        Raises :class:`NotASubmission` (with the reason) for a file that is not a recognisable
        submission: no route takes it, its header is unreadable, it has no ``fileIdentifier``,
        or one Dagster cannot take as a partition key.  Such a file gets no partition.
        """
        try:
            routed = route(path, INBOUND_ROUTES)
        except NotRoutable as exc:
            raise NotASubmission(str(exc)) from exc
        if not valid_partition_key(routed.key):
            raise NotASubmission("its fileIdentifier cannot be a Dagster partition key")
        return InboxSubmission(path=path, kind=file_kind(routed.kind), key=routed.key)

    def submissions(self) -> list[InboxSubmission]:
        """The recognisable submissions in the inbox (refused files left out)."""
        found = []
        for path in self.xml_files():
            try:
                found.append(self.submission(path))
            except NotASubmission:
                continue
        return found

    def find_file(self, partition_key: str, file_name: str | None = None) -> Path:
        """The inbox file of ``partition_key`` (a ``fileIdentifier``).

        ``file_name`` (the run tag the sensor sets) is tried first; otherwise headers are read.
        When several files carry the same ``fileIdentifier`` (a reused identifier the loader
        will refuse) the most recently modified one is taken, which reproduces the latest
        sensor run for that partition.
        """
        candidate = self.member(file_name)
        if candidate is not None and self._key_of(candidate) == partition_key:
            return candidate
        matches = [s.path for s in self.submissions() if s.key == partition_key]
        if not matches:
            raise InboxFileNotFound(
                f"no file in the inbox {self.folder} has fileIdentifier {partition_key!r}; it "
                "was moved or deleted after the partition was registered"
            )
        if len(matches) > 1:
            names = ", ".join(printable_name(p.name) for p in matches)
            log.warning(
                "partition %s matches several files (%s); taking the newest", partition_key, names
            )
        return max(matches, key=lambda p: (p.lstat().st_mtime_ns, p.name))

    def _key_of(self, path: Path) -> str | None:
        try:
            return self.submission(path).key
        except NotASubmission:
            return None

    def member(self, name: str | None) -> Path | None:
        """``name`` as a ``*.xml`` entry directly in the inbox; never a path that escapes it."""
        return folder_member(self.folder, name, ".xml")


def inbox_resource(path: Path | str | None = None, settle_seconds: float = 5.0) -> InboxResource:
    """The inbox at ``path`` (default: :func:`default_inbox_path`)."""
    return InboxResource(path=str(path or default_inbox_path()), settle_seconds=settle_seconds)
