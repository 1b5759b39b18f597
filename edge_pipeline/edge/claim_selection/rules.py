"""The RA claim-selection rules R01-R14 (spec section 6), each a named SQL predicate.

Why declared as data: the RACSD report, the RACSS rollup and the tests all need the same code,
reason text and category of every rule, and the selection SQL needs them in evaluation order.
A rule's ``predicate`` is TRUE when the record FAILS it (is excluded for that reason); it reads
the columns of one *fact table* (``facts.py`` builds one per record kind, with every join a
rule needs already resolved into a column), so evaluating all rules is one vectorised ``CASE``
over the whole population, never a Python loop per claim.

Tokens: ``@first_day`` / ``@last_day`` are the benefit year's first and last day (DATE
literals, substituted by :func:`render`).  Predicates are NULL-safe: a NULL comparison would
silently mean "passes", so every fact a rule reads is either non-NULL by construction or
wrapped in ``coalesce``.

The reason texts are the public HHS FAQ's (DDC/EDGE FAQ "reason codes for claims exclusion");
the pairing of codes and the nine RACSD categories is **assumed** (docs/phase2-contract.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edge_pipeline.edge.code_sets import DISCHARGE_STATUS_CODES
from edge_pipeline.edge.sql import lit

#: Institutional bill types acceptable for RA (spec section 6): inpatient 111/117; outpatient
#: hospital 131/137, RHC 711/717, CMHC 761/767, FQHC 771/777, CAH 851/857.
INPATIENT_BILL_TYPES = ("111", "117")
OUTPATIENT_BILL_TYPES = ("131", "137", "711", "717", "761", "767", "771", "777", "851", "857")
ACCEPTABLE_BILL_TYPES = INPATIENT_BILL_TYPES + OUTPATIENT_BILL_TYPES

#: Discharge status "30, still a patient" marks an interim stay whose diagnoses are not final.
#: **Assumed** (the EDGE list is not public): every NUBC discharge status except 30 is
#: acceptable on an inpatient claim -- 20 (expired) included, since a decedent's diagnoses are
#: as real as anyone's and HHS-RA scores enrollees who die during the year.  A blank or
#: unassigned status is not acceptable.
UNACCEPTABLE_DISCHARGE_STATUSES = ("30",)
ACCEPTABLE_DISCHARGE_STATUSES = tuple(
    sorted(DISCHARGE_STATUS_CODES.codes - set(UNACCEPTABLE_DISCHARGE_STATUSES))
)

#: Inpatient claims before the first benefit year of the program are never eligible (R02).
PROGRAM_START = dt.date(2014, 1, 1)

MEDICAL, PHARMACY, SUPPLEMENTAL = "medical", "pharmacy", "supplemental"


@dataclass(frozen=True)
class Rule:
    """One exclusion reason: code, the FAQ's reason text, record kind, RACSD category and the
    SQL predicate over the kind's fact table that is TRUE when the record is excluded."""

    code: str
    reason: str
    kind: str
    category: str
    predicate: str


def _in(column: str, codes: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(lit(c) for c in codes)})"


# -- medical claims (fact table: facts.MEDICAL_FACTS) ------------------------------------------

R01 = Rule(
    "R01",
    "Unacceptable bill type for an RA institutional claim.",
    MEDICAL,
    "bill_type",
    f"form_type_code = 'I' AND NOT coalesce({_in('bill_type_code', ACCEPTABLE_BILL_TYPES)}, FALSE)",
)
"""Institutional claims must carry one of :data:`ACCEPTABLE_BILL_TYPES` (professional claims
have no bill type and pass)."""

R02 = Rule(
    "R02",
    "Inpatient institutional claims cannot have the Statement Covers From date prior to 2014.",
    MEDICAL,
    "calendar_year",
    f"_inpatient AND coalesce(_from < DATE '{PROGRAM_START.isoformat()}', TRUE)",
)
"""An inpatient stay that began before the ACA risk-adjustment program (2014) is excluded,
even when it was discharged in the benefit year; a missing from-date cannot prove otherwise."""

R03 = Rule(
    "R03",
    "Professional and Institutional Out-Patient claims must have at least one RA eligible "
    "service code.",
    MEDICAL,
    "service_code",
    "NOT _inpatient AND NOT _has_eligible_code",
)
"""Professional and outpatient institutional claims need a line whose CPT/HCPCS code is on DIY
table 2 of the benefit year (``ra_ref_service_code``); inpatient claims are exempt."""

R04 = Rule(
    "R04",
    "Unacceptable discharge status code for an institutional inpatient claim.",
    MEDICAL,
    "reason_code",
    "_inpatient AND NOT coalesce("
    f"{_in('discharge_status_code', ACCEPTABLE_DISCHARGE_STATUSES)}, FALSE)",
)
"""Inpatient claims need a final discharge status (:data:`ACCEPTABLE_DISCHARGE_STATUSES`,
assumed: every NUBC status but 30 "still a patient")."""

R05 = Rule(
    "R05",
    "Active plan record does not exist for the year of the claim coverage from date.",
    MEDICAL,
    "plan",
    "NOT _plan_active_in_from_year",
)
"""The claim's plan must be in the plan registry (``ref_plan``) and effective in the calendar
year of the claim's statement-covers-from date."""

R06 = Rule(
    "R06",
    "Claim not associated to an active enrollment period of an enrollee.",
    MEDICAL,
    "plan",
    "NOT _enrolled",
)
"""An active enrollment period (latest ESES, full replacement) of the same enrollee and plan
must overlap the claim's service span.  Overlap, not containment: a stay spanning two
consecutive periods of the plan (a renewal) stays associated.  Phase 1 already required the
from-date to be covered when the claim was loaded, so this catches claims whose enrollment a
later ESES removed or moved away."""

R07 = Rule(
    "R07",
    "Claim statement covers through date does not fall within the payment year.",
    MEDICAL,
    "calendar_year",
    "coalesce(_through NOT BETWEEN @first_day AND @last_day, TRUE)",
)
"""Medical claims count in the year of their statement-covers-through (discharge) date."""

R08 = Rule(
    "R08",
    "Out-patient or professional cross year claim excluded from RA because the enrollee has no "
    "issuer submitted enrollment coverage in an active plan and rating area for the payment "
    "year.",
    MEDICAL,
    "plan",
    "NOT _inpatient AND _from < @first_day AND NOT _covered_in_year",
)
"""A non-inpatient claim that starts before the benefit year (and, R07 passed, ends in it)
counts only when the enrollee has an active period of the claim's plan overlapping the benefit
year, the plan is effective that year and the period's rating area is one of the plan's.
**Assumed**: "an active plan" is read as the claim's own plan, so the claim's diagnoses always
attach to an enrollee x plan that is scored."""

# -- supplemental records (fact table: facts.SUPPLEMENTAL_FACTS) -------------------------------

R09 = Rule(
    "R09",
    "Supplemental record's associated medical claim is not RA eligible.",
    SUPPLEMENTAL,
    "supplemental_claim",
    "_linked AND NOT _claim_included",
)
"""A supplemental record linked to an active medical claim that selection excluded (any of
R01-R08) adds or removes nothing."""

R10 = Rule(
    "R10",
    "Supplemental record not associated to an active medical claim.",
    SUPPLEMENTAL,
    "unlinked_supplemental",
    "NOT _linked",
)
"""Unlinked (spec section 3): ``originalClaimIdentifier`` names no active medical claim of the
same enrollee in the issuer and zone -- never sent, rejected, or voided/replaced away since."""

# -- pharmacy claims (fact table: facts.PHARMACY_FACTS) ----------------------------------------

R11 = Rule(
    "R11",
    "Pharmacy claim prescription fill date does not fall within the payment year.",
    PHARMACY,
    "calendar_year",
    "coalesce(prescription_fill_date NOT BETWEEN @first_day AND @last_day, TRUE)",
)
"""Pharmacy claims count in the year of their fill date."""

R12 = Rule(
    "R12",
    "Active plan record does not exist for the year of the Pharmacy claim's prescription fill "
    "date.",
    PHARMACY,
    "plan",
    "NOT _plan_active_in_fill_year",
)
"""The claim's plan must be registered and effective in the calendar year of the fill date."""

R13 = Rule(
    "R13",
    "Pharmacy claim does not have an NDC that maps to an RXC.",
    PHARMACY,
    "pharmacy_claim",
    "NOT _ndc_maps_to_rxc",
)
"""Only NDCs on DIY table 10a of the benefit year (``ra_ref_ndc``) can produce an RXC."""

R14 = Rule(
    "R14",
    "Pharmacy claim belongs to an enrollee that does not have enrollment in any active rating "
    "areas in the same plan as the claim.",
    PHARMACY,
    "plan",
    "NOT _enrolled_in_active_area",
)
"""The enrollee needs an active period of the claim's plan overlapping the benefit year whose
rating area is one of the plan's registered rating areas (no list in the registry = any)."""

# -- this project's codes for supplemental voids (not EDGE codes) -----------------------------

VOID = Rule(
    "VOID",
    "Supplemental void record: it cancels an earlier supplemental record and applies no "
    "diagnosis itself (this project's code, not an EDGE reason code).",
    SUPPLEMENTAL,
    "supplemental_claim",
    "add_delete_void_code = 'V'",
)
"""A ``V`` record never adds or removes a diagnosis: its only effect is on the record it
names, which is reported as :data:`VOIDED`."""

VOIDED = Rule(
    "VOIDED",
    "Supplemental record voided by a later accepted V record (this project's code, not an EDGE "
    "reason code).",
    SUPPLEMENTAL,
    "supplemental_claim",
    "_voided",
)
"""An ``A`` or ``D`` record named by an accepted ``V`` record of the issuer and zone in
``originalSupplementalDetailID`` no longer applies."""

#: Rules per record kind, in evaluation order: the first failing one is the reason.
MEDICAL_RULES: tuple[Rule, ...] = (R01, R02, R03, R04, R05, R06, R07, R08)
PHARMACY_RULES: tuple[Rule, ...] = (R11, R12, R13, R14)
#: R09 and R10 are mutually exclusive (linked vs not), so their order is the code order; the
#: void codes come after every EDGE code, so an unlinked void still reports R10.
SUPPLEMENTAL_RULES: tuple[Rule, ...] = (R09, R10, VOID, VOIDED)

#: Every EDGE reason code of spec section 6, in code order.
EDGE_RULES: tuple[Rule, ...] = tuple(
    sorted((*MEDICAL_RULES, R09, R10, *PHARMACY_RULES), key=lambda rule: rule.code)
)
ALL_RULES: tuple[Rule, ...] = (*EDGE_RULES, VOID, VOIDED)
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in ALL_RULES}

#: RACSD category of an included record, per kind.
INCLUDED_CATEGORY = {
    MEDICAL: "medical_claim",
    PHARMACY: "pharmacy_claim",
    SUPPLEMENTAL: "supplemental_claim",
}

#: The nine RACSD categories.
CATEGORIES = (
    "calendar_year",
    "plan",
    "bill_type",
    "service_code",
    "reason_code",
    "pharmacy_claim",
    "unlinked_supplemental",
    "medical_claim",
    "supplemental_claim",
)


def render(sql: str, benefit_year: int) -> str:
    """Substitute ``@first_day`` / ``@last_day`` with the benefit year's bounds."""
    return sql.replace("@first_day", f"DATE '{benefit_year}-01-01'").replace(
        "@last_day", f"DATE '{benefit_year}-12-31'"
    )


def reason_case(rules: tuple[Rule, ...], benefit_year: int) -> str:
    """``CASE`` yielding the code of the first rule whose predicate holds, else NULL."""
    whens = " ".join(
        f"WHEN ({render(rule.predicate, benefit_year)}) THEN {lit(rule.code)}" for rule in rules
    )
    return f"(CASE {whens} END)"


def category_case(kind: str, reason_column: str = "reason_code") -> str:
    """``CASE`` mapping a reason code (NULL = included) to its RACSD category."""
    whens = " ".join(
        f"WHEN {lit(rule.code)} THEN {lit(rule.category)}"
        for rule in ALL_RULES
        if rule.kind == kind
    )
    return f"(CASE {reason_column} {whens} ELSE {lit(INCLUDED_CATEGORY[kind])} END)"
