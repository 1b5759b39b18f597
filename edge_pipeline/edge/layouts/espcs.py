"""ESPCS, the pharmacy claim submission (spec section 3): issuer > plan > claim."""

from __future__ import annotations

from edge_pipeline.edge.layouts.common import (
    HEADER,
    ISSUER_IDENTIFIER,
    MEMBER_IDENTIFIER,
    PLAN_IDENTIFIER,
    RECORD_IDENTIFIER,
)
from edge_pipeline.edge.layouts.model import Element, FileLayout, Record

CLAIM = Record(
    element="includedPharmacyClaimDetail",
    table="pharmacy_claim",
    level="claim",
    fields=(
        RECORD_IDENTIFIER,
        MEMBER_IDENTIFIER,
        Element("claimIdentifier", "claim_identifier"),
        Element("originalClaimIdentifier", "original_claim_identifier", requirement="S"),
        Element("voidReplaceCode", "void_replace_code", "code", "S", doc="empty, R or V"),
        Element("claimProcessedDateTime", "claim_processed_datetime", "datetime"),
        Element("prescriptionFillDate", "prescription_fill_date", "date"),
        Element("issuerClaimPaidDate", "issuer_claim_paid_date", "date"),
        Element("prescriptionServiceReferenceNumber", "prescription_service_reference_number"),
        Element("nationalDrugCode", "national_drug_code", "code", doc="11 digits"),
        Element("dispensingProviderIDQualifier", "dispensing_provider_id_qualifier", "code"),
        Element("dispensingProviderIdentifier", "dispensing_provider_identifier", "code"),
        Element("prescriptionFillNumber", "prescription_fill_number", "integer"),
        Element("dispensingStatusCode", "dispensing_status_code", "code", "N"),
        Element("allowedTotalCostAmount", "allowed_total_cost_amount", "decimal"),
        Element("policyPaidAmount", "policy_paid_amount", "decimal"),
        Element("derivedServiceClaimIndicator", "derived_service_claim_indicator", "code"),
    ),
)

PLAN = Record(
    element="includedPharmacyClaimInsurancePlan",
    table="submission_plan",
    level="plan",
    fields=(
        RECORD_IDENTIFIER,
        PLAN_IDENTIFIER,
        Element("insurancePlanClaimDetailTotalQuantity", "claim_detail_total_quantity", "integer"),
        Element("policyPaidTotalAmount", "plan_paid_total_amount", "decimal"),
    ),
    children=(CLAIM,),
)

ESPCS = FileLayout(
    name="ESPCS",
    submission_type="P",
    root="edgeServerPharmacyClaimSubmission",
    header=HEADER,
    totals=(
        Element("claimDetailTotalQuantity", "claim_detail_total_quantity", "integer"),
        Element("insurancePlanPaidOnFileTotalAmount", "plan_paid_total_amount", "decimal"),
    ),
    issuer=Record(
        element="includedPharmacyClaimIssuer",
        table="submission_issuer",
        level="issuer",
        max_occurs=1,
        fields=(
            RECORD_IDENTIFIER,
            ISSUER_IDENTIFIER,
            Element("issuerClaimDetailTotalQuantity", "claim_detail_total_quantity", "integer"),
            Element("issuerPlanPaidTotalAmount", "plan_paid_total_amount", "decimal"),
        ),
        children=(PLAN,),
    ),
    doc="incremental: new, replacing and voiding pharmacy claims",
)
