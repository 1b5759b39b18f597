"""ESMCS, the medical claim submission (spec section 3): issuer > plan > claim > service line."""

from __future__ import annotations

from edge_pipeline.edge.layouts.common import (
    HEADER,
    ISSUER_IDENTIFIER,
    MEMBER_IDENTIFIER,
    PLAN_IDENTIFIER,
    RECORD_IDENTIFIER,
)
from edge_pipeline.edge.layouts.model import Element, FileLayout, Record

SERVICE_LINE = Record(
    element="includedServiceLine",
    container="includedDetailServiceLine",
    table="medical_claim_line",
    level="line",
    fields=(
        RECORD_IDENTIFIER,
        Element("serviceLineNumber", "service_line_number", "integer"),
        Element("serviceFromDate", "service_from_date", "date"),
        Element("serviceToDate", "service_to_date", "date"),
        Element("revenueCode", "revenue_code", "code", "S", doc="4 digits, institutional only"),
        Element("serviceTypeCode", "service_type_code", "code", "S"),
        Element("serviceCode", "service_code", "code", "S", doc="CPT/HCPCS"),
        Element(
            "serviceModifierCode",
            "service_modifier_code",
            "code",
            "N",
            max_occurs=4,
            table="medical_claim_line_modifier",
            sequence_column="modifier_sequence",
        ),
        Element("serviceFacilityTypeCode", "service_facility_type_code", "code", "S"),
        Element("renderingProviderIDQualifier", "rendering_provider_id_qualifier", "code", "N"),
        Element("renderingProviderIdentifier", "rendering_provider_identifier", "code", "N"),
        Element("allowedAmount", "allowed_amount", "decimal"),
        Element("policyPaidAmount", "policy_paid_amount", "decimal"),
        Element("derivedServiceClaimIndicator", "derived_service_claim_indicator", "code"),
    ),
)

CLAIM = Record(
    element="includedMedicalClaimDetail",
    table="medical_claim",
    level="claim",
    fields=(
        RECORD_IDENTIFIER,
        MEMBER_IDENTIFIER,
        Element("formTypeCode", "form_type_code", "code", doc="I institutional, P professional"),
        Element("claimIdentifier", "claim_identifier"),
        Element("originalClaimIdentifier", "original_claim_identifier", requirement="S"),
        Element("claimProcessedDateTime", "claim_processed_datetime", "datetime"),
        Element("billTypeCode", "bill_type_code", "code", "S", doc="institutional only"),
        Element("voidReplaceCode", "void_replace_code", "code", "S", doc="empty, R or V"),
        Element("diagnosisTypeCode", "diagnosis_type_code", "code"),
        Element(
            "diagnosisCode",
            "diagnosis_code",
            "code",
            max_occurs=99,
            table="medical_claim_diagnosis",
            sequence_column="diagnosis_sequence",
        ),
        Element("dischargeStatusCode", "discharge_status_code", "code", "S"),
        Element("statementCoverFromDate", "statement_cover_from_date", "date"),
        Element("statementCoverToDate", "statement_cover_to_date", "date"),
        Element("billingProviderIDQualifier", "billing_provider_id_qualifier", "code"),
        Element("billingProviderIdentifier", "billing_provider_identifier", "code", doc="NPI"),
        Element("issuerClaimPaidDate", "issuer_claim_paid_date", "date"),
        Element("allowedTotalAmount", "allowed_total_amount", "decimal"),
        Element("policyPaidTotalAmount", "policy_paid_total_amount", "decimal"),
        Element("derivedServiceClaimIndicator", "derived_service_claim_indicator", "code"),
    ),
    children=(SERVICE_LINE,),
)

PLAN = Record(
    element="includedMedicalClaimPlan",
    table="submission_plan",
    level="plan",
    fields=(
        RECORD_IDENTIFIER,
        PLAN_IDENTIFIER,
        Element("insurancePlanClaimDetailTotalQuantity", "claim_detail_total_quantity", "integer"),
        Element(
            "insurancePlanClaimServiceLineTotalQuantity",
            "claim_service_line_total_quantity",
            "integer",
        ),
        Element("insurancePlanPaidTotalAmount", "plan_paid_total_amount", "decimal"),
    ),
    children=(CLAIM,),
)

ESMCS = FileLayout(
    name="ESMCS",
    submission_type="M",
    root="edgeServerMedicalClaimSubmission",
    header=HEADER,
    totals=(
        Element("claimDetailTotalQuantity", "claim_detail_total_quantity", "integer"),
        Element("claimServiceLineTotalQuantity", "claim_service_line_total_quantity", "integer"),
        Element("insurancePlanPaidOnFileTotalAmount", "plan_paid_total_amount", "decimal"),
    ),
    issuer=Record(
        element="includedMedicalClaimIssuer",
        table="submission_issuer",
        level="issuer",
        max_occurs=1,
        fields=(
            RECORD_IDENTIFIER,
            ISSUER_IDENTIFIER,
            Element("issuerClaimDetailTotalQuantity", "claim_detail_total_quantity", "integer"),
            Element(
                "issuerClaimServiceLineTotalQuantity",
                "claim_service_line_total_quantity",
                "integer",
            ),
            Element("issuerPlanPaidTotalAmount", "plan_paid_total_amount", "decimal"),
        ),
        children=(PLAN,),
    ),
    doc="incremental: new, replacing and voiding medical claims",
)
