"""ESFAR, the file accept/reject report (spec section 5): one per inbound file, checked first.

Root ``fileProcessingResultStatus``: ``includedFileHeader``, ``classifyingProcessingStatusType``,
then ``recordedError`` for each header-level error.  The report is the same for the four
submission types; only the two-letter code of its file name differs.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import FileStatusLayout, Recipients

ESFAR = FileStatusLayout(
    name="ESFAR",
    root="fileProcessingResultStatus",
    file_codes={"E": "EH", "M": "MH", "P": "PH", "S": "SH"},
    doc="file accept/reject: the status of the inbound file and its header-level errors",
    recipients=Recipients.ISSUER_AND_CMS,
)
