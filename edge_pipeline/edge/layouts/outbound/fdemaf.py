"""FDEMAF, frequency by data element of an ESMCS (medical claim) file (issuer + CMS; aggregate).

Root ``medicalClaimFrequencyByDataElement``, file code ``MF`` (both assumed).  Counts, over the
file's accepted claims: claim form types, bill types and diagnosis code qualifiers
(``diagnosisTypeCode``).  The inbound layout carries no place of service, so it is not counted.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import FrequencyElement, FrequencyLayout, Recipients

FDEMAF = FrequencyLayout(
    name="FDEMAF",
    root="medicalClaimFrequencyByDataElement",
    submission_type="M",
    file_code="MF",
    elements=(
        FrequencyElement("formTypeCode", "claim", "medical_claim", "form_type_code"),
        FrequencyElement("billTypeCode", "claim", "medical_claim", "bill_type_code"),
        FrequencyElement("diagnosisTypeCode", "claim", "medical_claim", "diagnosis_type_code"),
    ),
    doc="medical claim frequency by data element: form types, bill types, diagnosis qualifiers",
    recipients=Recipients.ISSUER_AND_CMS,
)
