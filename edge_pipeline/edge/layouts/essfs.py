"""ESSFS, the supplemental diagnosis submission (spec section 3): issuer > plan > detail."""

from __future__ import annotations

from edge_pipeline.edge.layouts.common import (
    HEADER,
    ISSUER_IDENTIFIER,
    MEMBER_IDENTIFIER,
    PLAN_IDENTIFIER,
    RECORD_IDENTIFIER,
)
from edge_pipeline.edge.layouts.model import Element, FileLayout, Record

DETAIL = Record(
    element="includedSupplementalDiagnosisDetail",
    table="supplemental_record",
    level="supplemental",
    fields=(
        RECORD_IDENTIFIER,
        MEMBER_IDENTIFIER,
        Element(
            "supplementalDiagnosisDetailRecordIdentifier",
            "supplemental_diagnosis_detail_record_identifier",
            doc="issuer's unique id of this supplemental record",
        ),
        Element(
            "originalClaimIdentifier",
            "original_claim_identifier",
            doc="the accepted ESMCS claim the record attaches to",
        ),
        Element("detailRecordProcessedDateTime", "detail_record_processed_datetime", "datetime"),
        Element("addDeleteVoidCode", "add_delete_void_code", "code", doc="A, D or V"),
        Element(
            "originalSupplementalDetailID",
            "original_supplemental_detail_id",
            requirement="S",
            doc="required for V: the supplemental record being voided",
        ),
        Element("serviceFromDate", "service_from_date", "date"),
        Element("serviceToDate", "service_to_date", "date"),
        Element("diagnosisTypeCode", "diagnosis_type_code", "code"),
        Element(
            "supplementalDiagnosisCode",
            "supplemental_diagnosis_code",
            "code",
            max_occurs=99,
            table="supplemental_diagnosis",
            sequence_column="diagnosis_sequence",
        ),
        Element("sourceCode", "source_code", "code", doc="MR or EDI"),
    ),
)

PLAN = Record(
    element="includedSupplementalDiagnosisPlan",
    table="submission_plan",
    level="plan",
    fields=(
        RECORD_IDENTIFIER,
        PLAN_IDENTIFIER,
        Element("insurancePlanFileDetailTotalQuantity", "file_detail_total_quantity", "integer"),
    ),
    children=(DETAIL,),
)

ESSFS = FileLayout(
    name="ESSFS",
    submission_type="S",
    root="edgeServerSupplementalClaimSubmission",
    header=HEADER,
    totals=(Element("fileDetailTotalQuantity", "file_detail_total_quantity", "integer"),),
    issuer=Record(
        element="includedSupplementalDiagnosisIssuer",
        table="submission_issuer",
        level="issuer",
        max_occurs=1,
        fields=(
            RECORD_IDENTIFIER,
            ISSUER_IDENTIFIER,
            Element("issuerFileDetailTotalQuantity", "file_detail_total_quantity", "integer"),
        ),
        children=(PLAN,),
    ),
    doc="incremental: supplemental diagnosis adds, deletes and voids",
)
