"""RACSD, RA claim selection detail (spec section 6; issuer only): every element name.

One entry per medical claim, pharmacy claim and supplemental record claim selection
considered for the run (``shadow_ra_claim_selection``), inside one container per category.
The nine categories are the spec's; their container names, the entry and every leaf name are
this project's (assumed).  Every container is written, empty or not, so "no claim in this
category" is stated rather than implied.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout, Recipients
from edge_pipeline.edge.layouts.outbound.ra_common import (
    INCLUDED,
    MEMBER_ID,
    PLAN_ID,
    REASON,
    RECORD_KIND,
    ra_group,
    ra_leaf,
    source_leaves,
)

#: ``shadow_ra_claim_selection.category`` -> its container, in report order (the spec's order).
CATEGORY_ELEMENTS: dict[str, str] = {
    "calendar_year": "includedCalendarYearCategory",
    "plan": "includedPlanCategory",
    "bill_type": "includedBillTypeCategory",
    "service_code": "includedServiceCodeCategory",
    "reason_code": "includedReasonCodeCategory",
    "pharmacy_claim": "includedPharmacyClaimCategory",
    "unlinked_supplemental": "includedUnlinkedSupplementalCategory",
    "medical_claim": "includedMedicalClaimCategory",
    "supplemental_claim": "includedSupplementalClaimCategory",
}

#: One claim or supplemental record and the selection verdict on it.
CLAIM_SELECTION = ra_group(
    "includedClaimSelection",
    (
        ra_leaf(RECORD_KIND, "record_kind", required=True, doc="medical, pharmacy or supplemental"),
        *source_leaves(),
        ra_leaf(MEMBER_ID, "member_id", doc="enrollee id"),
        ra_leaf(PLAN_ID, "plan_id", doc="16-character plan id"),
        ra_leaf(INCLUDED, "included", required=True, doc="Y included in RA, N excluded"),
        ra_leaf(REASON, "reason_code", doc="R01-R14, the first failing rule; absent if included"),
    ),
    doc="one claim or supplemental record considered by RA claim selection",
)

RACSD = RaReportLayout(
    name="RACSD",
    root="raClaimSelectionDetail",
    file_code="CD",
    body=tuple(
        ra_group(
            element,
            (CLAIM_SELECTION,),
            min_occurs=1,
            max_occurs=1,
            doc=f"the claims and records of category {category}",
        )
        for category, element in CATEGORY_ELEMENTS.items()
    ),
    tables=("reported_ra_claim_selection",),
    doc="RA claim selection detail: every claim and supplemental record considered, by category",
    recipients=Recipients.ISSUER_ONLY,
)
