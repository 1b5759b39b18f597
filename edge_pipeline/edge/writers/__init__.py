"""Writers of inbound EDGE submission files, driven by the layout declarations."""

from __future__ import annotations

from edge_pipeline.edge.writers.submission import SubmissionWriter, WriteResult, xml_escape
from edge_pipeline.edge.writers.totals import TOTAL_RULES, TotalRule, total_rules

__all__ = [
    "TOTAL_RULES",
    "SubmissionWriter",
    "TotalRule",
    "WriteResult",
    "total_rules",
    "xml_escape",
]
