"""FDESAF, frequency by data element of an ESSFS (supplemental) file (issuer + CMS; aggregate).

Root ``supplementalFrequencyByDataElement``, file code ``SF`` (both assumed).  Counts, over the
file's accepted supplemental records: source codes and add/delete/void codes.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import FrequencyElement, FrequencyLayout, Recipients

FDESAF = FrequencyLayout(
    name="FDESAF",
    root="supplementalFrequencyByDataElement",
    submission_type="S",
    file_code="SF",
    elements=(
        FrequencyElement("sourceCode", "supplemental", "supplemental_record", "source_code"),
        FrequencyElement(
            "addDeleteVoidCode", "supplemental", "supplemental_record", "add_delete_void_code"
        ),
    ),
    doc="supplemental frequency by data element: source codes, add/delete/void codes",
    recipients=Recipients.ISSUER_AND_CMS,
)
