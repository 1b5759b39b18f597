"""The project's own error catalog: every error the shadow verification can report.

Official EDGE error code values are not public (spec section 4), so this catalog defines them.
Codes are stable: an entry is never renumbered or reused; a new error gets a new code and a
retired one stays listed with ``retired=True``.  ``docs/error-catalog.md`` is rendered from this
module (``edge-pipeline catalog --out docs/error-catalog.md``) and a test keeps the two equal.

Code form ``<scope><check><nn>``: scope ``H`` file header and file totals, ``X`` records every
file type shares (recordIdentifier, issuer, plan), ``E``/``M``/``P``/``S`` the ESES, ESMCS, ESPCS
and ESSFS records; check digit ``1`` required, ``2`` face validity, ``3`` referential,
``4`` logical.  The element is the layout's element name; ``*`` stands for "the element named
in the error row" (control totals, recordIdentifier of any record type).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CheckKind = Literal["required", "face", "referential", "logical"]
CHECK_KINDS: tuple[CheckKind, ...] = ("required", "face", "referential", "logical")
_CHECK_DIGIT = {"1": "required", "2": "face", "3": "referential", "4": "logical"}

ALL = ("ESES", "ESMCS", "ESPCS", "ESSFS")
CLAIMS = ("ESMCS", "ESPCS", "ESSFS")


@dataclass(frozen=True)
class CatalogEntry:
    """One error: what is checked, on which record level and element, and what it means."""

    code: str
    check: CheckKind
    file_types: tuple[str, ...]
    level: str
    element: str
    message: str
    retired: bool = False


def _e(
    code: str,
    types: tuple[str, ...] | str,
    level: str,
    element: str,
    msg: str,
    retired: bool = False,
) -> CatalogEntry:
    check = _CHECK_DIGIT[code[1]]
    file_types = (types,) if isinstance(types, str) else types
    return CatalogEntry(code, check, file_types, level, element, msg, retired)  # type: ignore[arg-type]


E, M, P, S = "ESES", "ESMCS", "ESPCS", "ESSFS"
F, IS, PL = "file", "issuer", "plan"
EN, EP, CL, LN, SU = "enrollee", "enrollment_period", "claim", "line", "supplemental"

CATALOG: tuple[CatalogEntry, ...] = (
    # -- file header and file control totals: any failure rejects the whole file -------------
    _e("H101", ALL, F, "fileIdentifier", "fileIdentifier is missing"),
    _e("H102", ALL, F, "executionZoneCode", "executionZoneCode is missing"),
    _e("H103", ALL, F, "interfaceControlReleaseNumber", "interfaceControlReleaseNumber is missing"),
    _e("H104", ALL, F, "generationDateTime", "generationDateTime is missing"),
    _e("H105", ALL, F, "submissionTypeCode", "submissionTypeCode is missing"),
    _e("H106", ALL, F, "*", "a file control total is missing"),
    _e("H201", ALL, F, "fileIdentifier", "fileIdentifier is not exactly 12 characters"),
    _e("H202", ALL, F, "executionZoneCode", "executionZoneCode is not T, P or V"),
    _e("H203", ALL, F, "interfaceControlReleaseNumber", "release number is not NN.NN.NN"),
    _e("H204", ALL, F, "generationDateTime", "generationDateTime is not YYYY-MM-DDTHH:MM:SS"),
    _e("H205", ALL, F, "submissionTypeCode", "submissionTypeCode is not E, M, P or S"),
    _e("H206", ALL, F, "*", "a file control total is not a number (integer, or amount with at most two decimals)"),
    _e("H207", ALL, F, "*", "the file could not be read (not well-formed, or not the layout)"),
    _e("H401", ALL, F, "fileIdentifier", "fileIdentifier was already used by another file in the execution zone"),
    _e("H402", ALL, F, "generationDateTime", "generationDateTime is later than the time the file was received"),
    _e("H403", ALL, F, "submissionTypeCode", "submissionTypeCode does not match the root element"),
    _e("H404", ALL, F, "*", "a file control total does not match the file's records"),
    _e("H405", ALL, F, "*", "a recordIdentifier is used by more than one record of the file (the records cannot be told apart)"),
    # -- records of every file type ------------------------------------------------------------
    _e("X401", ALL, "*", "recordIdentifier", "recordIdentifier is not one greater than the preceding record's (document order)"),
    _e("X101", ALL, IS, "issuerIdentifier", "issuerIdentifier is missing"),
    _e("X102", ALL, IS, "*", "an issuer control total is missing"),
    _e("X201", ALL, IS, "issuerIdentifier", "issuerIdentifier is not 5 digits"),
    _e("X202", ALL, IS, "*", "an issuer control total is not a number"),
    _e("X301", ALL, IS, "issuerIdentifier", "issuerIdentifier is not an issuer of the plan registry"),
    _e("X402", ALL, IS, "*", "an issuer control total does not match the issuer's records"),
    _e("X103", CLAIMS, PL, "insurancePlanIdentifier", "insurancePlanIdentifier is missing"),
    _e("X104", CLAIMS, PL, "*", "a plan control total is missing"),
    _e("X203", CLAIMS, PL, "insurancePlanIdentifier", "insurancePlanIdentifier is not 16 characters (5-digit issuer, 2-letter state, 3-digit product, 4-digit plan, 2-digit variant)"),
    _e("X204", CLAIMS, PL, "insurancePlanIdentifier", "the plan's CSR variant is not a HIOS variant (00-06, 30-36, 42, 43)"),
    _e("X205", CLAIMS, PL, "*", "a plan control total is not a number"),
    _e("X302", CLAIMS, PL, "insurancePlanIdentifier", "insurancePlanIdentifier is not in the plan registry"),
    _e("X403", CLAIMS, PL, "insurancePlanIdentifier", "the plan id's issuer part is not the file's issuerIdentifier"),
    _e("X404", CLAIMS, PL, "*", "a plan control total does not match the plan's records"),
    # -- ESES enrollee -------------------------------------------------------------------------
    _e("E101", E, EN, "insuredMemberIdentifier", "insuredMemberIdentifier is missing"),
    _e("E102", E, EN, "insuredMemberBirthDate", "insuredMemberBirthDate is missing"),
    _e("E103", E, EN, "insuredMemberGenderCode", "insuredMemberGenderCode is missing"),
    _e("E104", E, EN, "includedInsuredMemberProfile", "the enrollee has no enrollment period"),
    _e("E201", E, EN, "insuredMemberIdentifier", "insuredMemberIdentifier is longer than 50 characters"),
    _e("E202", E, EN, "insuredMemberBirthDate", "insuredMemberBirthDate is not a YYYY-MM-DD date"),
    _e("E203", E, EN, "insuredMemberGenderCode", "insuredMemberGenderCode is not M, F or U"),
    _e("E401", E, EN, "insuredMemberIdentifier", "the enrollee appears earlier in this file (duplicate enrollee; the first occurrence is kept)"),
    _e("E402", E, EN, "insuredMemberBirthDate", "insuredMemberBirthDate is later than the time the file was received"),
    _e("E403", E, EN, "insuredMemberGenderCode", "gender U is allowed only when coverage starts within 90 days of birth"),
    # -- ESES enrollment period ----------------------------------------------------------------
    _e("E111", E, EP, "subscriberIndicator", "neither subscriberIndicator nor subscriberIdentifier is populated (exactly one must be)"),
    _e("E112", E, EP, "insurancePlanIdentifier", "insurancePlanIdentifier is missing"),
    _e("E113", E, EP, "coverageStartDate", "coverageStartDate is missing"),
    _e("E114", E, EP, "coverageEndDate", "coverageEndDate is missing"),
    _e("E115", E, EP, "enrollmentMaintenanceTypeCode", "enrollmentMaintenanceTypeCode is missing"),
    _e("E116", E, EP, "insurancePlanPremiumAmount", "insurancePlanPremiumAmount is missing"),
    _e("E117", E, EP, "rateAreaIdentifier", "rateAreaIdentifier is missing"),
    _e("E118", E, EP, "subscriberIdentifier", "both subscriberIndicator and subscriberIdentifier are populated (exactly one must be)"),
    _e("E211", E, EP, "subscriberIndicator", "subscriberIndicator is not S (or empty)"),
    _e("E212", E, EP, "insurancePlanIdentifier", "insurancePlanIdentifier is not 16 characters (5-digit issuer, 2-letter state, 3-digit product, 4-digit plan, 2-digit variant)"),
    _e("E213", E, EP, "insurancePlanIdentifier", "the plan's CSR variant is not a HIOS variant (00-06, 30-36, 42, 43)"),
    _e("E214", E, EP, "coverageStartDate", "coverageStartDate is not a YYYY-MM-DD date"),
    _e("E215", E, EP, "coverageEndDate", "coverageEndDate is not a YYYY-MM-DD date"),
    _e("E216", E, EP, "enrollmentMaintenanceTypeCode", "enrollmentMaintenanceTypeCode is not 6 digits"),
    _e("E217", E, EP, "insurancePlanPremiumAmount", "insurancePlanPremiumAmount is not an amount with at most two decimals"),
    _e("E218", E, EP, "rateAreaIdentifier", "rateAreaIdentifier is not 3 digits"),
    _e("E219", E, EP, "subscriberIdentifier", "subscriberIdentifier is longer than 50 characters"),
    _e("E220", E, EP, "enrollmentMaintenanceTypeCode", "enrollmentMaintenanceTypeCode is not an 834 maintenance type and reason code (see the code sets)"),
    _e("E311", E, EP, "insurancePlanIdentifier", "the plan is not in the plan registry for the coverage start date"),
    _e("E312", E, EP, "rateAreaIdentifier", "the plan is not offered in this rating area"),
    _e("E313", E, EP, "subscriberIdentifier", "subscriberIdentifier names no enrollee of this file"),
    _e("E411", E, EP, "subscriberIdentifier", "both subscriberIndicator and subscriberIdentifier are populated; replaced by E118 (a Required check in the issuer guide)", retired=True),
    _e("E412", E, EP, "coverageStartDate", "coverageStartDate is after coverageEndDate"),
    _e("E413", E, EP, "coverageStartDate", "coverage starts before the enrollee's birth"),
    _e("E414", E, EP, "coverageStartDate", "the period overlaps an earlier period of the enrollee"),
    _e("E415", E, EP, "insurancePlanPremiumAmount", "insurancePlanPremiumAmount is negative"),
    _e("E416", E, EP, "insurancePlanIdentifier", "the plan id's issuer part is not the file's issuerIdentifier"),
    _e("E417", E, EP, "insurancePlanPremiumAmount", "insurancePlanPremiumAmount is 0 on the subscriber's period (the policy premium must be greater than 0)"),
    _e("E418", E, EP, "insurancePlanPremiumAmount", "insurancePlanPremiumAmount is greater than 0 on a dependent's period (dependents carry 0)"),
    # -- ESMCS claim header --------------------------------------------------------------------
    _e("M101", M, CL, "insuredMemberIdentifier", "insuredMemberIdentifier is missing"),
    _e("M102", M, CL, "formTypeCode", "formTypeCode is missing"),
    _e("M103", M, CL, "claimIdentifier", "claimIdentifier is missing"),
    _e("M104", M, CL, "originalClaimIdentifier", "originalClaimIdentifier is missing on a replacement or void"),
    _e("M105", M, CL, "claimProcessedDateTime", "claimProcessedDateTime is missing"),
    _e("M106", M, CL, "billTypeCode", "billTypeCode is missing on an institutional claim"),
    _e("M107", M, CL, "diagnosisTypeCode", "diagnosisTypeCode is missing"),
    _e("M108", M, CL, "diagnosisCode", "the claim has no diagnosisCode"),
    _e("M109", M, CL, "dischargeStatusCode", "dischargeStatusCode is missing on an inpatient claim (bill type 11x)"),
    _e("M110", M, CL, "statementCoverFromDate", "statementCoverFromDate is missing"),
    _e("M111", M, CL, "statementCoverToDate", "statementCoverToDate is missing"),
    _e("M112", M, CL, "billingProviderIDQualifier", "billingProviderIDQualifier is missing"),
    _e("M113", M, CL, "billingProviderIdentifier", "billingProviderIdentifier is missing"),
    _e("M114", M, CL, "issuerClaimPaidDate", "issuerClaimPaidDate is missing"),
    _e("M115", M, CL, "allowedTotalAmount", "allowedTotalAmount is missing"),
    _e("M116", M, CL, "policyPaidTotalAmount", "policyPaidTotalAmount is missing"),
    _e("M117", M, CL, "derivedServiceClaimIndicator", "derivedServiceClaimIndicator is missing"),
    _e("M118", M, CL, "includedDetailServiceLine", "the claim has no service line"),
    _e("M201", M, CL, "insuredMemberIdentifier", "insuredMemberIdentifier is longer than 50 characters"),
    _e("M202", M, CL, "formTypeCode", "formTypeCode is not I or P"),
    _e("M203", M, CL, "claimIdentifier", "claimIdentifier is longer than 50 characters"),
    _e("M204", M, CL, "originalClaimIdentifier", "originalClaimIdentifier is longer than 50 characters"),
    _e("M205", M, CL, "claimProcessedDateTime", "claimProcessedDateTime is not YYYY-MM-DDTHH:MM:SS"),
    _e("M206", M, CL, "billTypeCode", "billTypeCode is not 3 digits"),
    _e("M207", M, CL, "voidReplaceCode", "voidReplaceCode is not empty, R or V"),
    _e("M208", M, CL, "diagnosisTypeCode", "diagnosisTypeCode is not 01 or 02"),
    _e("M209", M, CL, "diagnosisCode", "diagnosisCode is not an ICD-10-CM code without the dot"),
    _e("M210", M, CL, "dischargeStatusCode", "dischargeStatusCode is not 2 digits"),
    _e("M211", M, CL, "statementCoverFromDate", "statementCoverFromDate is not a YYYY-MM-DD date"),
    _e("M212", M, CL, "statementCoverToDate", "statementCoverToDate is not a YYYY-MM-DD date"),
    _e("M213", M, CL, "billingProviderIDQualifier", "billingProviderIDQualifier is not XX (NPI)"),
    _e("M214", M, CL, "billingProviderIdentifier", "billingProviderIdentifier is not an NPI (10 digits, Luhn check digit with prefix 80840)"),
    _e("M215", M, CL, "issuerClaimPaidDate", "issuerClaimPaidDate is not a YYYY-MM-DD date"),
    _e("M216", M, CL, "allowedTotalAmount", "allowedTotalAmount is not an amount with at most two decimals"),
    _e("M217", M, CL, "policyPaidTotalAmount", "policyPaidTotalAmount is not an amount with at most two decimals"),
    _e("M218", M, CL, "derivedServiceClaimIndicator", "derivedServiceClaimIndicator is not Y or N"),
    _e("M219", M, CL, "dischargeStatusCode", "dischargeStatusCode is not a NUBC patient discharge status code (see the code sets)"),
    _e("M301", M, CL, "insuredMemberIdentifier", "the enrollee is not in the accepted active enrollment"),
    _e("M302", M, CL, "diagnosisCode", "diagnosisCode is not a valid ICD-10-CM code on the service date"),
    _e("M401", M, CL, "claimIdentifier", "the claim is already stored (accepted in an earlier file)"),
    _e("M402", M, CL, "claimIdentifier", "claimIdentifier appears earlier in this file"),
    _e("M403", M, CL, "originalClaimIdentifier", "originalClaimIdentifier names no stored claim"),
    _e("M404", M, CL, "claimProcessedDateTime", "the replacement or void is not processed later than the claim it names"),
    _e("M405", M, CL, "originalClaimIdentifier", "originalClaimIdentifier names a claim already replaced or voided"),
    _e("M406", M, CL, "originalClaimIdentifier", "originalClaimIdentifier is given on an original claim"),
    _e("M407", M, CL, "billTypeCode", "bill-type frequency 7 or 8 on an original claim"),
    _e("M408", M, CL, "billTypeCode", "billTypeCode on a professional claim"),
    _e("M409", M, CL, "dischargeStatusCode", "dischargeStatusCode on a professional claim"),
    _e("M410", M, CL, "statementCoverToDate", "statementCoverToDate is before statementCoverFromDate"),
    _e("M411", M, CL, "statementCoverFromDate", "the service dates are not covered by an accepted enrollment period of the enrollee in the claim's plan"),
    _e("M412", M, CL, "claimProcessedDateTime", "claimProcessedDateTime is later than the file's generationDateTime"),
    _e("M413", M, CL, "issuerClaimPaidDate", "issuerClaimPaidDate is before statementCoverFromDate"),
    _e("M414", M, CL, "allowedTotalAmount", "allowedTotalAmount is not the sum of the lines' allowedAmount"),
    _e("M415", M, CL, "policyPaidTotalAmount", "policyPaidTotalAmount is not the sum of the lines' policyPaidAmount"),
    _e("M416", M, CL, "originalClaimIdentifier", "originalClaimIdentifier names a claim of another enrollee"),
    _e("M417", M, CL, "diagnosisTypeCode", "diagnosisTypeCode 01 (ICD-9) for services after 2015-09-30"),
    # -- ESMCS service line --------------------------------------------------------------------
    _e("M121", M, LN, "serviceLineNumber", "serviceLineNumber is missing"),
    _e("M122", M, LN, "serviceFromDate", "serviceFromDate is missing"),
    _e("M123", M, LN, "serviceToDate", "serviceToDate is missing"),
    _e("M124", M, LN, "revenueCode", "revenueCode is missing on an institutional claim"),
    _e("M125", M, LN, "serviceTypeCode", "serviceTypeCode is missing while serviceCode is given"),
    _e("M126", M, LN, "serviceCode", "serviceCode is missing on a professional claim"),
    _e("M127", M, LN, "serviceFacilityTypeCode", "serviceFacilityTypeCode is missing on a professional claim"),
    _e("M128", M, LN, "renderingProviderIDQualifier", "renderingProviderIDQualifier is missing while renderingProviderIdentifier is given"),
    _e("M129", M, LN, "allowedAmount", "allowedAmount is missing"),
    _e("M130", M, LN, "policyPaidAmount", "policyPaidAmount is missing"),
    _e("M131", M, LN, "derivedServiceClaimIndicator", "derivedServiceClaimIndicator is missing"),
    _e("M221", M, LN, "serviceLineNumber", "serviceLineNumber is not an integer 1-999"),
    _e("M222", M, LN, "serviceFromDate", "serviceFromDate is not a YYYY-MM-DD date"),
    _e("M223", M, LN, "serviceToDate", "serviceToDate is not a YYYY-MM-DD date"),
    _e("M224", M, LN, "revenueCode", "revenueCode is not 4 digits"),
    _e("M225", M, LN, "serviceTypeCode", "serviceTypeCode is not HC (CPT/HCPCS)"),
    _e("M226", M, LN, "serviceCode", "serviceCode is not 5 letters or digits"),
    _e("M227", M, LN, "serviceModifierCode", "serviceModifierCode is not 2 letters or digits"),
    _e("M228", M, LN, "serviceFacilityTypeCode", "serviceFacilityTypeCode is not 2 digits"),
    _e("M229", M, LN, "renderingProviderIDQualifier", "renderingProviderIDQualifier is not XX (NPI)"),
    _e("M230", M, LN, "renderingProviderIdentifier", "renderingProviderIdentifier is not an NPI (10 digits, Luhn check digit with prefix 80840)"),
    _e("M231", M, LN, "allowedAmount", "allowedAmount is not an amount with at most two decimals"),
    _e("M232", M, LN, "policyPaidAmount", "policyPaidAmount is not an amount with at most two decimals"),
    _e("M233", M, LN, "derivedServiceClaimIndicator", "derivedServiceClaimIndicator is not Y or N"),
    _e("M234", M, LN, "revenueCode", "revenueCode is not a NUBC revenue code (see the code sets)"),
    _e("M235", M, LN, "serviceFacilityTypeCode", "serviceFacilityTypeCode is not a CMS place-of-service code (see the code sets)"),
    _e("M321", M, LN, "serviceCode", "serviceCode is not in the CPT/HCPCS list"),
    _e("M421", M, LN, "serviceToDate", "serviceToDate is before serviceFromDate"),
    _e("M422", M, LN, "revenueCode", "revenueCode on a professional claim"),
    _e("M423", M, LN, "serviceFacilityTypeCode", "serviceFacilityTypeCode on an institutional claim"),
    _e("M424", M, LN, "serviceFromDate", "the line's service dates are outside the claim's statement period"),
    _e("M425", M, LN, "serviceLineNumber", "serviceLineNumber appears earlier in the claim"),
    # -- ESPCS claim ---------------------------------------------------------------------------
    _e("P101", P, CL, "insuredMemberIdentifier", "insuredMemberIdentifier is missing"),
    _e("P102", P, CL, "claimIdentifier", "claimIdentifier is missing"),
    _e("P103", P, CL, "originalClaimIdentifier", "originalClaimIdentifier is missing on a replacement or void"),
    _e("P104", P, CL, "claimProcessedDateTime", "claimProcessedDateTime is missing"),
    _e("P105", P, CL, "prescriptionFillDate", "prescriptionFillDate is missing"),
    _e("P106", P, CL, "issuerClaimPaidDate", "issuerClaimPaidDate is missing"),
    _e("P107", P, CL, "prescriptionServiceReferenceNumber", "prescriptionServiceReferenceNumber is missing"),
    _e("P108", P, CL, "nationalDrugCode", "nationalDrugCode is missing"),
    _e("P109", P, CL, "dispensingProviderIDQualifier", "dispensingProviderIDQualifier is missing"),
    _e("P110", P, CL, "dispensingProviderIdentifier", "dispensingProviderIdentifier is missing"),
    _e("P111", P, CL, "prescriptionFillNumber", "prescriptionFillNumber is missing"),
    _e("P112", P, CL, "allowedTotalCostAmount", "allowedTotalCostAmount is missing"),
    _e("P113", P, CL, "policyPaidAmount", "policyPaidAmount is missing"),
    _e("P114", P, CL, "derivedServiceClaimIndicator", "derivedServiceClaimIndicator is missing"),
    _e("P201", P, CL, "insuredMemberIdentifier", "insuredMemberIdentifier is longer than 50 characters"),
    _e("P202", P, CL, "claimIdentifier", "claimIdentifier is longer than 50 characters"),
    _e("P203", P, CL, "originalClaimIdentifier", "originalClaimIdentifier is longer than 50 characters"),
    _e("P204", P, CL, "voidReplaceCode", "voidReplaceCode is not empty, R or V"),
    _e("P205", P, CL, "claimProcessedDateTime", "claimProcessedDateTime is not YYYY-MM-DDTHH:MM:SS"),
    _e("P206", P, CL, "prescriptionFillDate", "prescriptionFillDate is not a YYYY-MM-DD date"),
    _e("P207", P, CL, "issuerClaimPaidDate", "issuerClaimPaidDate is not a YYYY-MM-DD date"),
    _e("P208", P, CL, "prescriptionServiceReferenceNumber", "prescriptionServiceReferenceNumber is longer than 50 characters"),
    _e("P209", P, CL, "nationalDrugCode", "nationalDrugCode is not 11 digits"),
    _e("P210", P, CL, "dispensingProviderIDQualifier", "dispensingProviderIDQualifier is not 01 or XX (NPI)"),
    _e("P211", P, CL, "dispensingProviderIdentifier", "dispensingProviderIdentifier is not an NPI (10 digits, Luhn check digit with prefix 80840)"),
    _e("P212", P, CL, "prescriptionFillNumber", "prescriptionFillNumber is not an integer 0-999"),
    _e("P213", P, CL, "dispensingStatusCode", "dispensingStatusCode is not P or C"),
    _e("P214", P, CL, "allowedTotalCostAmount", "allowedTotalCostAmount is not an amount with at most two decimals"),
    _e("P215", P, CL, "policyPaidAmount", "policyPaidAmount is not an amount with at most two decimals"),
    _e("P216", P, CL, "derivedServiceClaimIndicator", "derivedServiceClaimIndicator is not Y or N"),
    _e("P301", P, CL, "insuredMemberIdentifier", "the enrollee is not in the accepted active enrollment"),
    _e("P302", P, CL, "nationalDrugCode", "nationalDrugCode is not in the NDC list"),
    _e("P401", P, CL, "claimIdentifier", "the claim is already stored (accepted in an earlier file)"),
    _e("P402", P, CL, "claimIdentifier", "claimIdentifier appears earlier in this file"),
    _e("P403", P, CL, "originalClaimIdentifier", "originalClaimIdentifier names no stored claim"),
    _e("P404", P, CL, "claimProcessedDateTime", "the replacement or void is not processed later than the claim it names"),
    _e("P405", P, CL, "originalClaimIdentifier", "originalClaimIdentifier names a claim already replaced or voided"),
    _e("P406", P, CL, "originalClaimIdentifier", "originalClaimIdentifier is given on an original claim"),
    _e("P407", P, CL, "prescriptionFillDate", "the fill date is not covered by an accepted enrollment period of the enrollee in the claim's plan"),
    _e("P408", P, CL, "claimProcessedDateTime", "claimProcessedDateTime is later than the file's generationDateTime"),
    _e("P409", P, CL, "issuerClaimPaidDate", "issuerClaimPaidDate is before prescriptionFillDate"),
    _e("P410", P, CL, "originalClaimIdentifier", "originalClaimIdentifier names a claim of another enrollee"),
    # -- ESSFS supplemental record -------------------------------------------------------------
    _e("S101", S, SU, "insuredMemberIdentifier", "insuredMemberIdentifier is missing"),
    _e("S102", S, SU, "supplementalDiagnosisDetailRecordIdentifier", "supplementalDiagnosisDetailRecordIdentifier is missing"),
    _e("S103", S, SU, "originalClaimIdentifier", "originalClaimIdentifier is missing"),
    _e("S104", S, SU, "detailRecordProcessedDateTime", "detailRecordProcessedDateTime is missing"),
    _e("S105", S, SU, "addDeleteVoidCode", "addDeleteVoidCode is missing"),
    _e("S106", S, SU, "originalSupplementalDetailID", "originalSupplementalDetailID is missing on a void"),
    _e("S107", S, SU, "serviceFromDate", "serviceFromDate is missing"),
    _e("S108", S, SU, "serviceToDate", "serviceToDate is missing"),
    _e("S109", S, SU, "diagnosisTypeCode", "diagnosisTypeCode is missing"),
    _e("S110", S, SU, "supplementalDiagnosisCode", "the record has no supplementalDiagnosisCode"),
    _e("S111", S, SU, "sourceCode", "sourceCode is missing"),
    _e("S201", S, SU, "insuredMemberIdentifier", "insuredMemberIdentifier is longer than 50 characters"),
    _e("S202", S, SU, "supplementalDiagnosisDetailRecordIdentifier", "supplementalDiagnosisDetailRecordIdentifier is longer than 50 characters"),
    _e("S203", S, SU, "originalClaimIdentifier", "originalClaimIdentifier is longer than 50 characters"),
    _e("S204", S, SU, "detailRecordProcessedDateTime", "detailRecordProcessedDateTime is not YYYY-MM-DDTHH:MM:SS"),
    _e("S205", S, SU, "addDeleteVoidCode", "addDeleteVoidCode is not A, D or V"),
    _e("S206", S, SU, "originalSupplementalDetailID", "originalSupplementalDetailID is longer than 50 characters"),
    _e("S207", S, SU, "serviceFromDate", "serviceFromDate is not a YYYY-MM-DD date"),
    _e("S208", S, SU, "serviceToDate", "serviceToDate is not a YYYY-MM-DD date"),
    _e("S209", S, SU, "diagnosisTypeCode", "diagnosisTypeCode is not 01 or 02"),
    _e("S210", S, SU, "supplementalDiagnosisCode", "supplementalDiagnosisCode is not an ICD-10-CM code without the dot"),
    _e("S211", S, SU, "sourceCode", "sourceCode is not MR or EDI"),
    _e("S301", S, SU, "insuredMemberIdentifier", "the enrollee is not in the accepted active enrollment"),
    _e("S302", S, SU, "supplementalDiagnosisCode", "supplementalDiagnosisCode is not a valid ICD-10-CM code on the service date"),
    _e("S401", S, SU, "supplementalDiagnosisDetailRecordIdentifier", "the record is already stored (accepted in an earlier file)"),
    _e("S402", S, SU, "supplementalDiagnosisDetailRecordIdentifier", "supplementalDiagnosisDetailRecordIdentifier appears earlier in this file"),
    _e("S403", S, SU, "originalSupplementalDetailID", "originalSupplementalDetailID names no stored supplemental record"),
    _e("S404", S, SU, "detailRecordProcessedDateTime", "the void is not processed later than the record it names"),
    _e("S405", S, SU, "originalSupplementalDetailID", "originalSupplementalDetailID is given on an add or delete"),
    _e("S406", S, SU, "serviceToDate", "serviceToDate is before serviceFromDate"),
    _e("S407", S, SU, "originalSupplementalDetailID", "originalSupplementalDetailID names a record already voided, or a void"),
    _e("S408", S, SU, "detailRecordProcessedDateTime", "detailRecordProcessedDateTime is later than the file's generationDateTime"),
    _e("S409", S, SU, "originalSupplementalDetailID", "originalSupplementalDetailID names a record of another enrollee"),
    _e("S410", S, SU, "serviceFromDate", "the service dates are not covered by an accepted enrollment period of the enrollee in the record's plan"),
)  # fmt: skip

#: How the shadow verification applies the catalog (rendered into docs/error-catalog.md).
SEMANTICS = """\
* Files are verified one load attempt at a time in load order (`submission_file.load_id`);
  a file is judged only against files loaded before it (same issuer and execution zone), so
  re-verifying in load order always gives the same result.  "Processing time" (H402, E402) is
  the time the file was loaded, not the wall clock.
* Refused attempts (a fileIdentifier reused by different bytes) get H401, failed ones
  (unreadable) H207; neither has records.
* A header or file-total error rejects the file; its records are all rejected
  (`header_rejected`) and not checked further.
* Enrollment for claim checks (M301, M411, P301, P407, S301, S410) is the accepted active
  enrollment: the accepted periods of the latest ESES loaded earlier whose header and issuer
  record were accepted (full replacement).  An ESES whose issuer record is rejected replaces
  nothing.
* Claim coverage (M411, P407): the claim's first service date (statementCoverFromDate,
  prescriptionFillDate) lies in an accepted period of the enrollee in the claim's plan.
  Supplemental coverage (S410): serviceFromDate and serviceToDate each lie in an accepted
  period of the enrollee in the record's plan (whether or not the record is linked to a claim).
  Like M411 and P407, it is not reported for an enrollee unknown to the enrollment (S301).
* Premium (E417, E418): the subscriber's period (subscriberIndicator S) carries the policy
  premium, greater than 0; a dependent's period (subscriberIdentifier given) carries 0.  A
  negative premium is E415 only; a period with both or neither indicator is E118 / E111 only.
* subscriberIndicator / subscriberIdentifier: exactly one must be populated, which the issuer
  guide places under the Required check (situational): neither is E111, both is E118 (both
  required).  E411 (both, as a logical error) is retired.
* Code sets (E220, M219, M234, M235): a value of the element's format (E216, M210, M224, M228)
  that is not in the element's code set (below); a malformed value fails its format check only.
* Duplicates: an enrollee id repeated in one ESES (E401) and a claim or supplemental id
  repeated in one file (M402, P402, S402): the first occurrence is kept.  An id accepted in an
  earlier file (M401, P401, S401) is a duplicate of a stored record.
* Replacements and voids (M403-M405, M416, P403-P405, P410, S403, S404, S407, S409) name a
  record accepted in an earlier file or earlier in the same file without errors of its own
  (for an ESMCS claim: of its header or any line); chains inside one file are resolved in
  document order.
* Cascade (spec section 4): own error, then header, issuer, plan or enrollee, then (ESMCS) the
  claim of a failed line or header; a plan or enrollee whose children are all rejected is
  rejected (`all_children_rejected`, applied to plans of all three claim files), then an
  issuer whose plans or enrollees are all rejected.  `rejection_reason` names the record's own
  error first, else the outermost cause.
* recordIdentifier sequence (X401): records are taken in document order (`record_position`,
  the order of their start tags, stored by the loader), so swapped or decreasing identifiers
  are reported on the first record that breaks the +1 sequence.  Rows loaded by a release
  without `record_position` fall back to the order of the record tree, where two swapped
  sibling records are not reported."""

#: Introduction of the code-set table (rendered into docs/error-catalog.md).
CODE_SETS_INTRO = """\
Face-validity code sets (E220, M219, M234, M235), declared in
`edge_pipeline/edge/code_sets.py` with their sources.  Ranges are inclusive."""

#: Introduction of the per-element table (rendered into docs/error-catalog.md).
CHECKS_INTRO = """\
The codes each element of each file type can get, by check.  In ESES, ESMCS and ESPCS an
element gets every check listed: a referential check runs on any present value, including one
that fails face validity.  A logical check that compares a typed value (a date, an amount, a
plan id's issuer part, a bill type's digits) has no result for a value that fails face
validity, since its typed value is unknown; logical checks that do not read the value's form
(a repeated identifier, an element that must be absent) run whatever its form.  In ESSFS a
required or face-validity failure of an element skips its referential and logical checks.  Control totals (`*`) and recordIdentifier
(X401, H405) are listed in the catalog above."""


def _checks_per_element() -> list[str]:
    """Rows ``file type | level | element | required | face | referential | logical``."""
    rows = ["| file type | level | element | required | face | referential | logical |"]
    rows.append("|---|---|---|---|---|---|---|")
    for file_type in ALL:
        cells: dict[tuple[str, str], dict[str, list[str]]] = {}
        for item in CATALOG:
            if item.retired or item.element == "*" or file_type not in item.file_types:
                continue
            kinds = cells.setdefault((item.level, item.element), {k: [] for k in CHECK_KINDS})
            kinds[item.check].append(item.code)
        for (level, element), kinds in cells.items():
            codes = [", ".join(kinds[k]) or "-" for k in CHECK_KINDS]
            rows.append(f"| {file_type} | {level} | {element} | {' | '.join(codes)} |")
    return rows


BY_CODE: dict[str, CatalogEntry] = {entry.code: entry for entry in CATALOG}


def entry(code: str) -> CatalogEntry:
    """The catalog entry of ``code`` (``KeyError`` names the unknown code)."""
    return BY_CODE[code]


def render_catalog_markdown() -> str:
    """The catalog as Markdown, the text of ``docs/error-catalog.md``."""
    from edge_pipeline.edge.code_sets import render_code_sets_markdown
    from edge_pipeline.edge.verification.reference_tables import ICD10CM_RULE

    lines = [
        "# Error catalog of the shadow verification",
        "",
        "Generated from `edge_pipeline/edge/verification/catalog.py` by",
        "`edge-pipeline catalog --out docs/error-catalog.md`; do not edit by hand (a test",
        "keeps the two equal).  Codes are stable: never renumbered or reused.",
        "",
        "Code form `<scope><check><nn>`: scope `H` file header and file totals (any failure",
        "rejects the file), `X` records of every file type (recordIdentifier, issuer, plan),",
        "`E`/`M`/`P`/`S` ESES, ESMCS, ESPCS and ESSFS records; check digit `1` required,",
        "`2` face validity, `3` referential, `4` logical.  Element `*`: the element is named",
        "in each error row (control totals; recordIdentifier of any record type).",
        "",
        "In ESES, ESMCS and ESPCS every element gets all of its checks: a value that fails",
        "face validity still gets its referential result (a malformed diagnosis code, NDC,",
        "service code or plan id is also reported as not in its list).  For ESSFS only, an",
        "element that fails a required or face-validity check skips its referential and",
        "logical checks (spec section 4).  The checks of each element are listed under",
        "[Checks per element](#checks-per-element).",
        "",
        "| code | check | file types | level | element | message |",
        "|---|---|---|---|---|---|",
    ]
    for item in CATALOG:
        message = item.message + (" (retired)" if item.retired else "")
        types = ", ".join(item.file_types) if item.file_types != ALL else "all"
        level = f"`{item.level}`" if item.level == "*" else item.level
        element = f"`{item.element}`" if item.element == "*" else item.element
        lines.append(f"| {item.code} | {item.check} | {types} | {level} | {element} | {message} |")
    lines += ["", "## How the checks are applied", "", SEMANTICS]
    lines += ["", "## Checks per element", "", CHECKS_INTRO, "", *_checks_per_element()]
    lines += ["", "## Code sets", "", CODE_SETS_INTRO, "", render_code_sets_markdown()]
    lines += ["", "## ICD-10-CM validity on a service date", "", ICD10CM_RULE, ""]
    return "\n".join(lines)


def write_catalog(out: Path | str) -> Path:
    """Write ``render_catalog_markdown()`` to ``out`` (the CLI's ``catalog --out``)."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_catalog_markdown(), encoding="utf-8", newline="\n")
    return path
