"""Defect variants of the claim files: ESMCS claims and lines, ESPCS claims, ESSFS records.

Spec section 4: in an ESMCS a failure on a service line rejects the whole claim, so line
defects (class ``line_failure``, or ``bad_format`` for a value outside its code set) carry the
effect ``claim_rejected`` like header defects.
"""

from __future__ import annotations

import random
from typing import Any

from edge_pipeline.edge.synth.codes import INVALID_HCPCS, INVALID_ICD10, INVALID_NDC
from edge_pipeline.edge.synth.defects import (
    BAD_FORMAT,
    CLAIM_REJECTED,
    LINE_FAILURE,
    LOGICAL_DATE,
    MISSING_REQUIRED,
    RECORD_REJECTED,
    UNKNOWN_REFERENCE,
    Hit,
    Injector,
    Unit,
)
from edge_pipeline.edge.synth.ids import iso
from edge_pipeline.edge.synth.inject_common import (
    NewValue,
    before_original,
    child_sequence_skip,
    drop_first_digit,
    drop_time,
    first_code_replaced,
    flip_check_digit,
    is_replacement,
    is_void_supplemental,
    on_record,
    ordinal_of,
    sequence_skip,
    three_decimals,
    uncovered_day,
    unknown_member,
    us_format,
)

LINES = "line"
#: Of the element's format but outside its code set (edge/code_sets.py): discharge
#: status 10-19 is unassigned by the NUBC, revenue codes 0002-0021 are reserved, place of
#: service 82-98 is unassigned by CMS.
BAD_DISCHARGE_STATUS = "10"
BAD_REVENUE_CODE = "0009"
BAD_PLACE_OF_SERVICE = "98"

# (variant, defect class, check, column, new value); None omits the element.
_MEDICAL_HEADER: list[tuple[str, str, str, str, NewValue]] = [
    ("cover_from_missing", MISSING_REQUIRED, "required", "statement_cover_from_date", None),
    ("billing_npi_missing", MISSING_REQUIRED, "required", "billing_provider_identifier", None),
    ("diagnoses_missing", MISSING_REQUIRED, "required", "diagnosis_code", None),
    ("cover_to_mm_dd_yyyy", BAD_FORMAT, "face", "statement_cover_to_date", us_format),
    ("paid_total_three_decimals", BAD_FORMAT, "face", "policy_paid_total_amount", three_decimals),
    ("billing_npi_bad_check_digit", BAD_FORMAT, "face", "billing_provider_identifier",
     flip_check_digit),
    ("processed_without_time", BAD_FORMAT, "face", "claim_processed_datetime", drop_time),
    ("discharge_status_not_nubc", BAD_FORMAT, "face", "discharge_status_code",
     BAD_DISCHARGE_STATUS),
    ("enrollee_not_on_file", UNKNOWN_REFERENCE, "referential", "insured_member_identifier",
     unknown_member),
    ("icd10_not_existing", UNKNOWN_REFERENCE, "referential", "diagnosis_code",
     first_code_replaced(INVALID_ICD10[0])),
]  # fmt: skip

_PHARMACY: list[tuple[str, str, str, str, NewValue]] = [
    ("ndc_missing", MISSING_REQUIRED, "required", "national_drug_code", None),
    ("fill_date_missing", MISSING_REQUIRED, "required", "prescription_fill_date", None),
    ("ndc_10_digits", BAD_FORMAT, "face", "national_drug_code", drop_first_digit),
    ("fill_date_mm_dd_yyyy", BAD_FORMAT, "face", "prescription_fill_date", us_format),
    ("paid_three_decimals", BAD_FORMAT, "face", "policy_paid_amount", three_decimals),
    ("ndc_not_in_list", UNKNOWN_REFERENCE, "referential", "national_drug_code", INVALID_NDC[0]),
    ("enrollee_not_on_file", UNKNOWN_REFERENCE, "referential", "insured_member_identifier",
     unknown_member),
    ("fill_outside_coverage", LOGICAL_DATE, "logical", "prescription_fill_date", uncovered_day),
]  # fmt: skip


def _supp_to_before_from(_current: str, unit: Unit) -> str:
    return iso(ordinal_of(unit.values["service_from_date"]) - 2)


_SUPPLEMENTAL: list[tuple[str, str, str, str, NewValue]] = [
    ("diagnoses_missing", MISSING_REQUIRED, "required", "supplemental_diagnosis_code", None),
    ("source_missing", MISSING_REQUIRED, "required", "source_code", None),
    ("source_code_xx", BAD_FORMAT, "face", "source_code", "XX"),
    ("add_delete_void_z", BAD_FORMAT, "face", "add_delete_void_code", "Z"),
    ("service_from_mm_dd_yyyy", BAD_FORMAT, "face", "service_from_date", us_format),
    ("icd10_not_existing", UNKNOWN_REFERENCE, "referential", "supplemental_diagnosis_code",
     first_code_replaced(INVALID_ICD10[0])),
    ("enrollee_not_on_file", UNKNOWN_REFERENCE, "referential", "insured_member_identifier",
     unknown_member),
    ("service_to_before_from", LOGICAL_DATE, "logical", "service_to_date", _supp_to_before_from),
]  # fmt: skip


def _supplemental_outside_coverage(unit: Unit, rng: random.Random) -> Hit | None:
    """Move the record's service dates to a day the enrollee is not covered."""
    text = uncovered_day("", unit)
    unit.values["service_from_date"] = text
    unit.values["service_to_date"] = text
    return Hit(
        "service_outside_coverage", LOGICAL_DATE, "logical", "supplemental", "service_from_date",
        text, RECORD_REJECTED, note="both service dates moved to a day without coverage",
    )  # fmt: skip


def _claim_outside_coverage(unit: Unit, rng: random.Random) -> Hit | None:
    """Move every service date of the claim to a day the enrollee is not covered."""
    text = uncovered_day("", unit)
    unit.values["statement_cover_from_date"] = text
    unit.values["statement_cover_to_date"] = text
    lines = [dict(line) for line in unit.values[LINES]]
    for line in lines:
        line["service_from_date"] = text
        line["service_to_date"] = text
    unit.values[LINES] = lines
    return Hit(
        "claim_outside_coverage", LOGICAL_DATE, "logical", "claim", "statement_cover_from_date",
        text, CLAIM_REJECTED, note="every service date moved to a day without coverage",
    )  # fmt: skip


def _claim_to_before_from(unit: Unit, rng: random.Random) -> Hit | None:
    text = iso(ordinal_of(unit.values["statement_cover_from_date"]) - 3)
    unit.values["statement_cover_to_date"] = text
    return Hit(
        "claim_to_before_from", LOGICAL_DATE, "logical", "claim", "statement_cover_to_date",
        text, CLAIM_REJECTED,
    )  # fmt: skip


def _line_to_before_from(_current: str, line: dict[str, Any]) -> str:
    return iso(ordinal_of(line["service_from_date"]) - 1)


def on_line(
    variant: str,
    check: str,
    column: str,
    new: NewValue,
    needs: str | None = None,
    defect_class: str = LINE_FAILURE,
) -> Injector:
    """A failure on one service line (``new`` gets the current value and the line).

    Its class is ``line_failure`` unless another class describes it better (a code-set value
    is ``bad_format``); either way the whole claim is rejected."""

    def apply(unit: Unit, rng: random.Random) -> Hit | None:
        lines = unit.values[LINES]
        candidates = [i for i, line in enumerate(lines) if needs is None or line.get(needs)]
        if not candidates:
            return None
        i = rng.choice(candidates)
        lines = [dict(line) for line in lines]
        unit.values[LINES] = lines
        value = new(lines[i].get(column), lines[i]) if callable(new) else new
        lines[i][column] = value
        return Hit(variant, defect_class, check, "line", column, value, CLAIM_REJECTED, child=i)

    return Injector(defect_class, variant, apply)


def esmcs_injectors() -> list[Injector]:
    """Every ESMCS variant; all reject the whole claim (header and lines)."""
    return [
        *(on_record("claim", CLAIM_REJECTED, *spec) for spec in _MEDICAL_HEADER),
        Injector(LOGICAL_DATE, "claim_outside_coverage", _claim_outside_coverage),
        Injector(LOGICAL_DATE, "claim_to_before_from", _claim_to_before_from),
        on_record(
            "claim",
            CLAIM_REJECTED,
            "replacement_processed_before_original",
            LOGICAL_DATE,
            "logical",
            "claim_processed_datetime",
            before_original,
            when=is_replacement,
        ),
        sequence_skip("claim", CLAIM_REJECTED, "claim_identifier_skipped"),
        child_sequence_skip(LINES, "line", CLAIM_REJECTED, "line_identifier_skipped"),
        on_line("line_service_from_missing", "required", "service_from_date", None),
        on_line(
            "line_service_from_mm_dd_yyyy",
            "face",
            "service_from_date",
            us_format,
        ),
        on_line(
            "line_allowed_three_decimals",
            "face",
            "allowed_amount",
            three_decimals,
        ),
        on_line(
            "line_service_code_not_existing",
            "referential",
            "service_code",
            INVALID_HCPCS[0],
            needs="service_code",
        ),
        on_line("line_to_before_from", "logical", "service_to_date", _line_to_before_from),
        on_line(
            "line_revenue_code_not_nubc",
            "face",
            "revenue_code",
            BAD_REVENUE_CODE,
            needs="revenue_code",
            defect_class=BAD_FORMAT,
        ),
        on_line(
            "line_place_of_service_not_cms",
            "face",
            "service_facility_type_code",
            BAD_PLACE_OF_SERVICE,
            needs="service_facility_type_code",
            defect_class=BAD_FORMAT,
        ),
    ]


def espcs_injectors() -> list[Injector]:
    """Every ESPCS variant; each rejects just the pharmacy claim hit."""
    return [
        *(on_record("claim", RECORD_REJECTED, *spec) for spec in _PHARMACY),
        on_record(
            "claim",
            RECORD_REJECTED,
            "replacement_processed_before_original",
            LOGICAL_DATE,
            "logical",
            "claim_processed_datetime",
            before_original,
            when=is_replacement,
        ),
        sequence_skip("claim", RECORD_REJECTED, "claim_identifier_skipped"),
    ]


def essfs_injectors() -> list[Injector]:
    """Every ESSFS variant; each rejects just the supplemental record hit."""
    return [
        *(on_record("supplemental", RECORD_REJECTED, *spec) for spec in _SUPPLEMENTAL),
        on_record(
            "supplemental",
            RECORD_REJECTED,
            "void_without_original_detail_id",
            MISSING_REQUIRED,
            "required",
            "original_supplemental_detail_id",
            None,
            when=is_void_supplemental,
        ),
        Injector(LOGICAL_DATE, "service_outside_coverage", _supplemental_outside_coverage),
        sequence_skip("supplemental", RECORD_REJECTED, "record_identifier_skipped"),
    ]
