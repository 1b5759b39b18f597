"""FDEEAF, frequency by data element of an ESES (enrollment) file (issuer + CMS; aggregate).

Root ``enrollmentFrequencyByDataElement``, file code ``EF`` (both assumed).  Counts, over the
file's accepted enrollment periods: maintenance type codes and CSR variants (the last two
characters of ``insurancePlanIdentifier``: 01 on-exchange standard, 00 off-exchange, 02-06 CSR,
assumed element name ``csrVariantCode``); over its accepted enrollees: gender codes.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import FrequencyElement, FrequencyLayout, Recipients

FDEEAF = FrequencyLayout(
    name="FDEEAF",
    root="enrollmentFrequencyByDataElement",
    submission_type="E",
    file_code="EF",
    elements=(
        FrequencyElement(
            "enrollmentMaintenanceTypeCode",
            "enrollment_period",
            "enrollment_period",
            "enrollment_maintenance_type_code",
        ),
        FrequencyElement(
            "csrVariantCode",
            "enrollment_period",
            "enrollment_period",
            "insurance_plan_identifier",
            value_sql="right(i.insurance_plan_identifier, 2)",
            assumed=True,
            doc="enrollment periods per CSR variant of their plan",
        ),
        FrequencyElement(
            "insuredMemberGenderCode", "enrollee", "enrollee", "insured_member_gender_code"
        ),
    ),
    doc="enrollment frequency by data element: maintenance types, CSR variants, genders",
    recipients=Recipients.ISSUER_AND_CMS,
)
