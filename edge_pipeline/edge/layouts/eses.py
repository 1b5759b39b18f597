"""ESES, the enrollment submission (spec section 3): issuer > enrollee > enrollment period."""

from __future__ import annotations

from edge_pipeline.edge.layouts.common import (
    HEADER,
    ISSUER_IDENTIFIER,
    MEMBER_IDENTIFIER,
    PLAN_IDENTIFIER,
    RECORD_IDENTIFIER,
)
from edge_pipeline.edge.layouts.model import Element, FileLayout, Record

ENROLLMENT_PERIOD = Record(
    element="includedInsuredMemberProfile",
    table="enrollment_period",
    level="enrollment_period",
    doc="one enrollment period of an enrollee",
    fields=(
        RECORD_IDENTIFIER,
        Element("subscriberIndicator", "subscriber_indicator", "code", "S", doc="S or empty"),
        Element("subscriberIdentifier", "subscriber_identifier", requirement="S"),
        PLAN_IDENTIFIER,
        Element("coverageStartDate", "coverage_start_date", "date"),
        Element("coverageEndDate", "coverage_end_date", "date"),
        Element("enrollmentMaintenanceTypeCode", "enrollment_maintenance_type_code", "code"),
        Element("insurancePlanPremiumAmount", "insurance_plan_premium_amount", "decimal"),
        Element("rateAreaIdentifier", "rate_area_identifier", "code"),
    ),
)

ENROLLEE = Record(
    element="includedInsuredMember",
    table="enrollee",
    level="enrollee",
    fields=(
        RECORD_IDENTIFIER,
        MEMBER_IDENTIFIER,
        Element("insuredMemberBirthDate", "insured_member_birth_date", "date"),
        Element("insuredMemberGenderCode", "insured_member_gender_code", "code", doc="M, F or U"),
    ),
    children=(ENROLLMENT_PERIOD,),
)

ESES = FileLayout(
    name="ESES",
    submission_type="E",
    root="edgeServerEnrollmentSubmission",
    header=HEADER,
    totals=(
        Element("insuredMemberTotalQuantity", "insured_member_total_quantity", "integer"),
        Element(
            "insuredMemberProfileTotalQuantity", "insured_member_profile_total_quantity", "integer"
        ),
    ),
    issuer=Record(
        element="includedEnrollmentIssuer",
        table="submission_issuer",
        level="issuer",
        max_occurs=1,
        fields=(
            RECORD_IDENTIFIER,
            ISSUER_IDENTIFIER,
            Element("issuerInsuredMemberTotalQuantity", "insured_member_total_quantity", "integer"),
            Element(
                "issuerInsuredMemberProfileTotalQuantity",
                "insured_member_profile_total_quantity",
                "integer",
            ),
        ),
        children=(ENROLLEE,),
    ),
    doc="full replacement of the issuer's enrollment for the collection period",
)
