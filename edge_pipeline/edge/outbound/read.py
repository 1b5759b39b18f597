"""Read any outbound report: the reader that picks each family's handler by the report's layout.

Above both families (:mod:`.phase1.read`, :mod:`.ra.read`), which share the driver in
:mod:`.core.reader` and know nothing of each other.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import IO

from edge_pipeline.edge.layouts.outbound import OutboundLayout
from edge_pipeline.edge.layouts.outbound.model import (
    DetailLayout,
    FileStatusLayout,
    FrequencyLayout,
    RaReportLayout,
    SummaryLayout,
)
from edge_pipeline.edge.outbound.core.errors import OutboundFormatError
from edge_pipeline.edge.outbound.core.reader import Handler, ReportHeader, ReportReader
from edge_pipeline.edge.outbound.phase1.read import (
    DetailHandler,
    FileStatusHandler,
    FrequencyHandler,
    SummaryHandler,
)
from edge_pipeline.edge.outbound.ra.read import RaReportHandler


class OutboundReportReader(ReportReader):
    """Read one outbound report of either phase: ``rows(source)`` yields ``(table, row)``."""

    def handler_for(self, layout: OutboundLayout) -> Handler:
        if isinstance(layout, FileStatusLayout):
            return FileStatusHandler(self)
        if isinstance(layout, DetailLayout):
            return DetailHandler(self, layout)
        if isinstance(layout, RaReportLayout):
            return RaReportHandler(self, layout)
        if isinstance(layout, FrequencyLayout):
            return FrequencyHandler(self)
        assert isinstance(layout, SummaryLayout)
        return SummaryHandler(self, layout)


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
