"""The error an unreadable outbound report raises.

It is an :class:`~edge_pipeline.base.errors.InboundFormatError` (same structure, same message
form "file F, line L, element E: reason"), so the hardened parser's own refusals (DOCTYPE,
malformed XML) and ours are handled alike.  "Inbound" there means "arriving at this project".
"""

from __future__ import annotations

from edge_pipeline.base.errors import InboundFormatError


class OutboundFormatError(InboundFormatError):
    """An outbound report cannot be read as the Phase 1 layout its root names."""
