"""Test support: the records of small hand-written submission files, and the files themselves.

The rule tests that write their own files with the project's ``SubmissionWriter`` (RA claim
selection, RATEE transfer elements) build the same records: enrollees with their enrollment
periods, medical and pharmacy claims, all of one issuer, zone and provider.  The builders
here fill in every value Phase 1 needs to accept the record, so a test names only what its
rule is about, and a change to a record's required values is made once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from edge_pipeline.edge.layouts.model import FileLayout
from edge_pipeline.edge.synth.ids import make_npi
from edge_pipeline.edge.writers import SubmissionWriter

YEAR, ISSUER, ZONE = 2025, "12345", "T"
NPI = make_npi("123456789")  # billing, rendering and dispensing provider of every claim
GENERATED = "2026-04-01T08:00:00"
RXC_NDC = "00003196401"  # DIY table 10a: RXC 1

Record = dict[str, Any]
#: A file's records: per plan (``None``: an ESES, which has no plan groups), its records.
Groups = list[tuple[str | None, list[Record]]]


def enrollment_period(
    plan: str,
    start: str = "2025-01-01",
    end: str = "2025-12-31",
    *,
    subscriber: str = "",
    premium: str = "500.00",
    area: str = "001",
) -> Record:
    """A period of ``plan``: the subscriber's (paying ``premium``), or a dependent's of
    ``subscriber`` (no premium of its own)."""
    return {
        "subscriber_indicator": "" if subscriber else "S",
        "subscriber_identifier": subscriber,
        "insurance_plan_identifier": plan,
        "coverage_start_date": start,
        "coverage_end_date": end,
        "enrollment_maintenance_type_code": "021028",
        "insurance_plan_premium_amount": "0.00" if subscriber else premium,
        "rate_area_identifier": area,
    }


def enrollee(member: str, periods: list[Record], birth: str = "1980-05-05") -> Record:
    """An enrollee record with its enrollment periods."""
    return {
        "insured_member_identifier": member,
        "insured_member_birth_date": birth,
        "insured_member_gender_code": "F",
        "enrollment_period": periods,
    }


def _total(lines: Sequence[Record], amount: str) -> str:
    return str(sum((Decimal(line[amount]) for line in lines), Decimal("0.00")))


def medical_claim(
    claim: str,
    member: str,
    lines: list[Record],
    *,
    start: str,
    end: str,
    processed: str,
    bill_type: str | None = None,
    discharge: str | None = None,
    diagnoses: Sequence[str] = ("J069", "E119"),
    original: str = "",
    code: str = "",
) -> Record:
    """A medical claim with its service ``lines``: professional unless ``bill_type`` is given
    (then institutional), paid the day it was ``processed``, its totals the lines' sums."""
    return {
        "insured_member_identifier": member,
        "form_type_code": "P" if bill_type is None else "I",
        "claim_identifier": claim,
        "original_claim_identifier": original,
        "claim_processed_datetime": processed,
        "bill_type_code": bill_type,
        "void_replace_code": code,
        "diagnosis_type_code": "02",
        "diagnosis_code": list(diagnoses),
        "discharge_status_code": discharge,
        "statement_cover_from_date": start,
        "statement_cover_to_date": end,
        "billing_provider_id_qualifier": "XX",
        "billing_provider_identifier": NPI,
        "issuer_claim_paid_date": processed[:10],
        "allowed_total_amount": _total(lines, "allowed_amount"),
        "policy_paid_total_amount": _total(lines, "policy_paid_amount"),
        "derived_service_claim_indicator": "N",
        "line": lines,
    }


def pharmacy_claim(
    claim: str,
    member: str,
    *,
    fill: str = "2025-03-01",
    ndc: str = RXC_NDC,
    allowed: str = "20.00",
    paid: str = "15.00",
) -> Record:
    """A pharmacy claim filled, processed and paid on ``fill``."""
    return {
        "insured_member_identifier": member,
        "claim_identifier": claim,
        "original_claim_identifier": "",
        "void_replace_code": "",
        "claim_processed_datetime": f"{fill}T10:00:00",
        "prescription_fill_date": fill,
        "issuer_claim_paid_date": fill,
        "prescription_service_reference_number": "00000001001",
        "national_drug_code": ndc,
        "dispensing_provider_id_qualifier": "01",
        "dispensing_provider_identifier": NPI,
        "prescription_fill_number": "0",
        "allowed_total_cost_amount": allowed,
        "policy_paid_amount": paid,
        "derived_service_claim_indicator": "N",
    }


def write_submission(path: Path, layout: FileLayout, number: int, groups: Groups) -> str:
    """Write ``groups`` as the issuer's ``number``-th file of ``layout`` to ``path``; its
    fileIdentifier (issuer, submission type, ``number``)."""
    file_identifier = f"{ISSUER}{layout.submission_type}{number:06d}"
    header = {
        "file_identifier": file_identifier,
        "execution_zone": ZONE,
        "icd_release": "02.01.10",
        "generation_datetime": GENERATED,
        "submission_type": layout.submission_type,
    }
    with SubmissionWriter(layout, path, header, {"issuer_identifier": ISSUER}) as w:
        for plan, items in groups:
            if plan is not None:
                w.begin_group({"insurance_plan_identifier": plan})
            for values in items:
                w.write(values)
            if plan is not None:
                w.end_group()
        w.close()
    return file_identifier
