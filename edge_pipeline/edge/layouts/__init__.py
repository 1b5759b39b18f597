"""The four inbound EDGE layouts, one declarative module per file type."""

from __future__ import annotations

from edge_pipeline.edge.layouts.eses import ESES
from edge_pipeline.edge.layouts.esmcs import ESMCS
from edge_pipeline.edge.layouts.espcs import ESPCS
from edge_pipeline.edge.layouts.essfs import ESSFS
from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE, Element, FileLayout, Record

INBOUND_LAYOUTS: tuple[FileLayout, ...] = (ESES, ESMCS, ESPCS, ESSFS)
BY_ROOT: dict[str, FileLayout] = {layout.root: layout for layout in INBOUND_LAYOUTS}
BY_TYPE: dict[str, FileLayout] = {layout.submission_type: layout for layout in INBOUND_LAYOUTS}
BY_NAME: dict[str, FileLayout] = {layout.name: layout for layout in INBOUND_LAYOUTS}

__all__ = [
    "BY_NAME",
    "BY_ROOT",
    "BY_TYPE",
    "EDGE_NAMESPACE",
    "ESES",
    "ESMCS",
    "ESPCS",
    "ESSFS",
    "INBOUND_LAYOUTS",
    "Element",
    "FileLayout",
    "Record",
]
