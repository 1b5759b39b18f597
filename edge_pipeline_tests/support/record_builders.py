"""Test support: the records of small hand-written submission files, and the files themselves.

The rule tests that write their own files with the project's ``SubmissionWriter`` (Phase 1
cascade and value checks, RA claim selection, RATEE transfer elements) build the same records:
enrollees with their enrollment periods, medical claims with their service lines, pharmacy
claims and supplemental diagnoses, all of one issuer, zone and provider.  The builders here
fill in every value Phase 1 needs to accept the record, so a test names only what its rule is
about (a wrong value goes in as a keyword), and a change to a record's required values is made
once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from edge_pipeline.edge.layouts.model import FileLayout
from edge_pipeline.edge.synth.ids import make_npi
from edge_pipeline.edge.writers import SubmissionWriter
from edge_pipeline.edge.writers.submission import TotalOverride

YEAR, ISSUER, ZONE = 2025, "12345", "T"
NPI = make_npi("123456789")  # billing, rendering and dispensing provider of every claim
GENERATED = "2026-04-01T08:00:00"
RXC_NDC = "00003196401"  # DIY table 10a: RXC 1

Record = dict[str, Any]
#: A file's records: per plan (``None``: an ESES, which has no plan groups), its records.
Groups = list[tuple[str | None, list[Record]]]
#: The same with a key per record, by which a test finds its recordIdentifier.
KeyedGroups = Sequence[tuple[str | None, Sequence[tuple[str, Record]]]]


def enrollment_period(
    plan: str,
    start: str = "2025-01-01",
    end: str = "2025-12-31",
    *,
    subscriber: str = "",
    premium: str = "500.00",
    area: str = "001",
    **values: Any,
) -> Record:
    """A period of ``plan``: the subscriber's (paying ``premium``), or a dependent's of
    ``subscriber`` (no premium of its own); ``values`` replace any of its values."""
    return {
        "subscriber_indicator": "" if subscriber else "S",
        "subscriber_identifier": subscriber,
        "insurance_plan_identifier": plan,
        "coverage_start_date": start,
        "coverage_end_date": end,
        "enrollment_maintenance_type_code": "021028",
        "insurance_plan_premium_amount": "0.00" if subscriber else premium,
        "rate_area_identifier": area,
        **values,
    }


def enrollee(
    member: str, periods: list[Record], birth: str = "1980-05-05", *, gender: str = "F"
) -> Record:
    """An enrollee record with its enrollment periods."""
    return {
        "insured_member_identifier": member,
        "insured_member_birth_date": birth,
        "insured_member_gender_code": gender,
        "enrollment_period": periods,
    }


def _total(lines: Sequence[Record], amount: str) -> str:
    return str(sum((Decimal(line[amount]) for line in lines), Decimal("0.00")))


def service_line(
    number: int,
    start: str,
    end: str | None = None,
    *,
    allowed: str = "100.00",
    paid: str = "80.00",
    **values: Any,
) -> Record:
    """Service line ``number`` from ``start`` to ``end`` (default: that day), allowed and paid
    the amounts given; ``values``: its codes and any other value."""
    return {
        "service_line_number": str(number),
        "service_from_date": start,
        "service_to_date": end or start,
        "allowed_amount": allowed,
        "policy_paid_amount": paid,
        "derived_service_claim_indicator": "N",
        **values,
    }


def rendered_service(
    number: int, day: str, code: str, *, place: str | None = "11", revenue: str | None = None
) -> Record:
    """Service line ``number``: the HCPCS/CPT ``code`` rendered on ``day`` by the provider of
    every claim, at place of service ``place`` (a professional line) or under ``revenue`` code
    (an institutional one)."""
    return service_line(
        number,
        day,
        revenue_code=revenue,
        service_type_code="HC",
        service_code=code,
        service_facility_type_code=place,
        rendering_provider_id_qualifier="XX",
        rendering_provider_identifier=NPI,
    )


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
    paid_on: str | None = None,
    billing: str = NPI,
) -> Record:
    """A medical claim with its service ``lines``: professional unless ``bill_type`` is given
    (then institutional), billed by ``billing``, paid ``paid_on`` (default: the day it was
    ``processed``), its totals the lines' sums."""
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
        "billing_provider_identifier": billing,
        "issuer_claim_paid_date": paid_on or processed[:10],
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
    paid_on: str | None = None,
) -> Record:
    """A pharmacy claim filled and processed on ``fill``, paid ``paid_on`` (default: then)."""
    return {
        "insured_member_identifier": member,
        "claim_identifier": claim,
        "original_claim_identifier": "",
        "void_replace_code": "",
        "claim_processed_datetime": f"{fill}T10:00:00",
        "prescription_fill_date": fill,
        "issuer_claim_paid_date": paid_on or fill,
        "prescription_service_reference_number": "00000001001",
        "national_drug_code": ndc,
        "dispensing_provider_id_qualifier": "01",
        "dispensing_provider_identifier": NPI,
        "prescription_fill_number": "0",
        "allowed_total_cost_amount": allowed,
        "policy_paid_amount": paid,
        "derived_service_claim_indicator": "N",
    }


def supplemental_record(
    detail: str,
    member: str,
    claim: str,
    codes: Sequence[str] = ("E119",),
    *,
    start: str = "2025-02-01",
    end: str | None = None,
    action: str = "A",
    voids: str | None = None,
    processed: str = "2025-06-01T10:00:00",
) -> Record:
    """Supplemental record ``detail`` (``action`` add, delete or void; a void names the record
    it ``voids``) of ``member``'s ``claim``: diagnoses ``codes`` from a medical record, for
    services from ``start`` to ``end`` (default: that day)."""
    return {
        "insured_member_identifier": member,
        "supplemental_diagnosis_detail_record_identifier": detail,
        "original_claim_identifier": claim,
        "detail_record_processed_datetime": processed,
        "add_delete_void_code": action,
        "original_supplemental_detail_id": voids,
        "service_from_date": start,
        "service_to_date": end or start,
        "diagnosis_type_code": "02",
        "supplemental_diagnosis_code": list(codes),
        "source_code": "MR",
    }


def file_identifier(layout: FileLayout, number: int) -> str:
    """The issuer's ``number``-th fileIdentifier of ``layout`` (issuer, submission type, number)."""
    return f"{ISSUER}{layout.submission_type}{number:06d}"


def submission_header(layout: FileLayout, file_id: str, zone: str = ZONE) -> dict[str, str]:
    """The header values of a file ``file_id`` of ``layout`` generated in ``zone``."""
    return {
        "file_identifier": file_id,
        "execution_zone": zone,
        "icd_release": "02.01.10",
        "generation_datetime": GENERATED,
        "submission_type": layout.submission_type,
    }


def write_records(
    path: Path,
    layout: FileLayout,
    header: Mapping[str, str],
    groups: KeyedGroups,
    *,
    plan_totals: Mapping[str, Mapping[str, TotalOverride]] | None = None,
    issuer_totals: Mapping[str, TotalOverride] | None = None,
    issuer: str = ISSUER,
) -> dict[str, int]:
    """Write the keyed records of ``groups`` as a file of ``layout`` to ``path``, with the
    totals the writer computes unless ``plan_totals`` (per plan) or ``issuer_totals`` say
    otherwise, under issuerIdentifier ``issuer``; the recordIdentifier of each record by its
    key, and of each plan group by ``plan.<plan>``."""
    record_ids: dict[str, int] = {}
    with SubmissionWriter(layout, path, header, {"issuer_identifier": issuer}) as w:
        for plan, items in groups:
            if plan is not None:
                record_ids[f"plan.{plan}"] = w.begin_group({"insurance_plan_identifier": plan})
            for key, values in items:
                record_ids[key] = w.write(values)
            if plan is not None:
                w.end_group((plan_totals or {}).get(plan))
        w.close(issuer_totals=issuer_totals)
    return record_ids


def write_submission(path: Path, layout: FileLayout, number: int, groups: Groups) -> str:
    """Write ``groups`` as the issuer's ``number``-th file of ``layout`` to ``path``; its
    fileIdentifier (issuer, submission type, ``number``)."""
    file_id = file_identifier(layout, number)
    keyed = [(plan, [(str(i), values) for i, values in enumerate(items)]) for plan, items in groups]
    write_records(path, layout, submission_header(layout, file_id), keyed)
    return file_id


def write_plan_registry(path: Path, plans: Sequence[str], issuer: str = ISSUER) -> Path:
    """A plan registry CSV listing ``plans`` of ``issuer`` (rating area 001, 2024-2025)."""
    rows = "".join(f"{plan},{issuer},001,2024,2025\n" for plan in plans)
    path.write_text(
        "insurance_plan_identifier,issuer_identifier,rating_areas,effective_start_year,"
        f"effective_end_year\n{rows}",
        encoding="utf-8",
    )
    return path
