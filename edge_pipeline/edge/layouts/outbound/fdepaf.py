"""FDEPAF, frequency by data element of an ESPCS (pharmacy claim) file (issuer + CMS; aggregate).

Root ``pharmacyClaimFrequencyByDataElement``, file code ``PF`` (both assumed).  Counts, over the
file's accepted claims: the most frequent national drug codes (the top
:data:`~.frequency_common.TOP_VALUES`) and dispensing status codes.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.frequency_common import TOP_VALUES
from edge_pipeline.edge.layouts.outbound.model import FrequencyElement, FrequencyLayout, Recipients

FDEPAF = FrequencyLayout(
    name="FDEPAF",
    root="pharmacyClaimFrequencyByDataElement",
    submission_type="P",
    file_code="PF",
    elements=(
        FrequencyElement(
            "nationalDrugCode", "claim", "pharmacy_claim", "national_drug_code", top=TOP_VALUES
        ),
        FrequencyElement(
            "dispensingStatusCode", "claim", "pharmacy_claim", "dispensing_status_code"
        ),
    ),
    doc="pharmacy claim frequency by data element: top NDCs, dispensing statuses",
    recipients=Recipients.ISSUER_AND_CMS,
)
