"""The Phase 2 warehouse tables: the contract between claim selection, scoring, the RA reports
(RACSD / RACSS / RARSD / RARSS / RATEE / RAUF / HCRPSR / HCRPDE / ECD / ECS) and reconciliation (``docs/phase2-contract.md``).

Why one module: four parts of the code base write or read these tables (the claim-selection
rules, the risk model, the report writers and readers, the Dagster checks).  Declaring each
table's columns once here means a column added for one of them shows up in every other, and the
``reported_*`` twins (what the EDGE server's reports said) are derived from the ``shadow_*``
tables (what it should have said), so reconciliation is a join.

Every table is scoped by a *scoring run*: ``benefit_year``, ``issuer_id`` and
``execution_zone`` (data of different zones never mix).  A run replaces its own rows, in one
transaction, and nothing else.
"""

from __future__ import annotations

import duckdb

#: Columns that scope every Phase 2 row.
RUN_COLUMNS = "benefit_year INTEGER, issuer_id VARCHAR, execution_zone VARCHAR"

#: PLRS, ARF and premium PMPM of a RATEE row before rounding: what the formula uses.
RATEE_EXACT_COLUMNS = {
    "plrs_exact": "DECIMAL(18,10)",
    "arf_exact": "DECIMAL(18,10)",
    "premium_pmpm_exact": "DECIMAL(18,8)",
}

#: What we compute.  Element names of the reports live in ``layouts/outbound/ra*.py``.
SHADOW_PHASE2_DDL: dict[str, str] = {
    # RACSD: one row per medical claim, pharmacy claim and supplemental record considered.
    "shadow_ra_claim_selection": (
        f"{RUN_COLUMNS}, category VARCHAR, record_kind VARCHAR, claim_identifier VARCHAR, "
        "file_identifier VARCHAR, record_identifier BIGINT, member_id VARCHAR, plan_id VARCHAR, "
        "included VARCHAR, reason_code VARCHAR"
    ),
    # RARSD header: one row per enrollee x plan enrollment in the benefit year.
    "shadow_risk_score": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, rating_area VARCHAR, "
        "metal VARCHAR, csr_variant VARCHAR, csr_indicator INTEGER, csr_factor DECIMAL(6,3), "
        "sex VARCHAR, birth_date DATE, age_last INTEGER, model VARCHAR, enrollment_days INTEGER, "
        "enrollment_months INTEGER, billable_member_months DECIMAL(12,4), "
        "score_raw DECIMAL(12,3), score_csr_adjusted DECIMAL(12,3)"
    ),
    # Every 0/1 variable of the score that carries a coefficient (demographic cell, payment
    # HCC, group, RXC, interaction, severity or enrollment-duration term).
    "shadow_risk_score_term": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, variable VARCHAR, kind VARCHAR, "
        "coefficient DECIMAL(12,3)"
    ),
    # The diagnoses behind each HCC the enrollee has after hierarchies (before groups).
    "shadow_risk_hcc_source": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, hcc VARCHAR, "
        "diagnosis_code VARCHAR, source VARCHAR, claim_identifier VARCHAR, "
        "file_identifier VARCHAR, record_identifier BIGINT"
    ),
    # The NDC / HCPCS codes behind each RXC (after the RXC hierarchy).
    "shadow_risk_rxc_source": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, rxc VARCHAR, code_type VARCHAR, "
        "code VARCHAR, claim_identifier VARCHAR, file_identifier VARCHAR, "
        "record_identifier BIGINT"
    ),
    # HCCs (and RXCs) set to 0 by a hierarchy, and which present HCC / RXC zeroed them.
    "shadow_risk_dropped_hcc": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, hcc VARCHAR, dropped_by VARCHAR"
    ),
    # RATEE: transfer elements per plan (14-character HIOS standard component id) x rating
    # area x market risk pool (spec section 8).  PLRS and ARF are member-month weighted over
    # billable months, 3 decimals like the scores they average: what RATEE shows.  The
    # ``*_exact`` columns carry the same values unrounded into the transfer formula (issue 13
    # item 2: 0.0005 of PLRS is ~$1,500 on an 8,000-BMM row); a loaded RATEE leaves them NULL.
    "shadow_ratee": (
        f"{RUN_COLUMNS}, state VARCHAR, risk_pool VARCHAR, plan_id VARCHAR, rating_area VARCHAR, "
        "metal VARCHAR, enrollees INTEGER, member_months DECIMAL(14,4), "
        "billable_member_months DECIMAL(14,4), plrs DECIMAL(12,3), arf DECIMAL(12,3), "
        "av DECIMAL(6,3), idf DECIMAL(6,3), gcf DECIMAL(8,4), premium_pmpm DECIMAL(14,2), "
        f"{', '.join(f'{name} {kind}' for name, kind in RATEE_EXACT_COLUMNS.items())}"
    ),
    # RAUF: the RA user fee of each RATEE row (plan x rating area x risk pool): the year's fee
    # per billable member month x the row's billable member months, rounded to the cent
    # (``transfer/user_fee.py``; the transfer estimate's ``user_fee``).
    "shadow_rauf": (
        f"{RUN_COLUMNS}, state VARCHAR, risk_pool VARCHAR, plan_id VARCHAR, rating_area VARCHAR, "
        "billable_member_months DECIMAL(14,4), user_fee_pmpm DECIMAL(12,4), "
        "user_fee DECIMAL(18,2)"
    ),
    # HCRPSR: the high-cost risk pool per plan (14-character id): enrollees over the
    # threshold, their paid claims, the amount above it, the reimbursement at the coinsurance
    # rate, and the plan's charge (a percentage of its premium) (``transfer/hcrp.py``).
    "shadow_hcrp_summary": (
        f"{RUN_COLUMNS}, state VARCHAR, risk_pool VARCHAR, plan_id VARCHAR, "
        "enrollees_over_threshold INTEGER, paid_claims DECIMAL(18,2), "
        "amount_over_threshold DECIMAL(18,2), threshold DECIMAL(18,2), "
        "coinsurance_rate DECIMAL(6,4), hcrp_payment DECIMAL(18,2), premium DECIMAL(18,2), "
        "charge_rate DECIMAL(8,6), hcrp_charge DECIMAL(18,2), net_amount DECIMAL(18,2)"
    ),
    # HCRPDE (issuer only): one row per enrollee x plan (14-character id) whose paid claims in
    # the benefit year exceed the threshold; the transfer estimate's HCRP payments.
    "shadow_hcrp_enrollee": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, paid_claims DECIMAL(18,2), "
        "amount_over_threshold DECIMAL(18,2), hcrp_payment DECIMAL(18,2)"
    ),
    # ECD (issuer only), written by claim selection (``claim_selection/enrollee_claims.py``):
    # active medical/pharmacy claims of the year no active enrollment period of the same
    # enrollee and plan covers, and enrollees x plans of the year without a linked claim.
    "shadow_ecd_orphan_claim": (
        f"{RUN_COLUMNS}, record_kind VARCHAR, claim_identifier VARCHAR, file_identifier VARCHAR, "
        "record_identifier BIGINT, member_id VARCHAR, plan_id VARCHAR, service_from_date DATE, "
        "service_to_date DATE, orphan_reason VARCHAR"
    ),
    "shadow_ecd_enrollee_without_claim": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, member_months DECIMAL(12,4)"
    ),
    # ECS (issuer + CMS): per plan, enrollees with and without claims, linked and orphan claims.
    "shadow_ecs": (
        f"{RUN_COLUMNS}, plan_id VARCHAR, enrollees INTEGER, enrollees_with_claims INTEGER, "
        "enrollees_without_claims INTEGER, claims_linked INTEGER, orphan_claims INTEGER"
    ),
}

#: Inputs of scoring that claim selection writes (not reported; the audit trail behind RARSD).
RA_INPUT_DDL: dict[str, str] = {
    # Diagnoses that feed scores: from RA-included medical claims, plus supplemental adds,
    # minus supplemental deletes, with where each came from.
    "ra_diagnosis": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, diagnosis_code VARCHAR, "
        "service_date DATE, source VARCHAR, claim_identifier VARCHAR, file_identifier VARCHAR, "
        "record_identifier BIGINT"
    ),
    # NDCs of RA-included pharmacy claims and HCPCS of RA-included medical claim lines.
    "ra_drug_code": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, code_type VARCHAR, code VARCHAR, "
        "service_date DATE, claim_identifier VARCHAR, file_identifier VARCHAR, "
        "record_identifier BIGINT"
    ),
    # One row per enrollee x plan enrollment in the benefit year: the DIY PERSON record.
    "ra_enrollee": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, subscriber_id VARCHAR, "
        "rating_area VARCHAR, metal VARCHAR, csr_variant VARCHAR, csr_indicator INTEGER, "
        "csr_factor DECIMAL(6,3), sex VARCHAR, birth_date DATE, age_last INTEGER, "
        "first_day DATE, last_day DATE, enrollment_days INTEGER, enrollment_months INTEGER, "
        "member_months DECIMAL(12,4), billable_member_months DECIMAL(12,4), "
        "premium_amount DECIMAL(18,2)"
    ),
    # One row per enrollee x plan x calendar month x period covering part of it: the rating
    # area, rating age, child rank and billable share of each month (the RATEE's inputs).
    "ra_enrollee_month": (
        f"{RUN_COLUMNS}, member_id VARCHAR, plan_id VARCHAR, subscriber_id VARCHAR, "
        "month_start DATE, rating_area VARCHAR, rating_date DATE, rating_age INTEGER, "
        "child BOOLEAN, child_rank INTEGER, days INTEGER, month_days INTEGER, "
        "member_months DOUBLE, billable_member_months DOUBLE, premium_amount DECIMAL(18,2)"
    ),
}

#: Columns every reported Phase 2 table adds: which report a row came from.
REPORT_COLUMNS = "outbound_file_identifier VARCHAR, report_type VARCHAR"


def reported_name(shadow_table: str) -> str:
    """``shadow_risk_score`` -> ``reported_risk_score``."""
    return "reported_" + shadow_table.removeprefix("shadow_")


#: What the RA reports parsed from the outbox said: the shadow columns plus the report.
REPORTED_PHASE2_DDL: dict[str, str] = {
    reported_name(table): f"{ddl}, {REPORT_COLUMNS}" for table, ddl in SHADOW_PHASE2_DDL.items()
}

PHASE2_DDL: dict[str, str] = {**SHADOW_PHASE2_DDL, **RA_INPUT_DDL, **REPORTED_PHASE2_DDL}


def ensure_phase2_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the Phase 2 tables that do not exist yet (and add the RATEE's exact columns to a
    warehouse created before them)."""
    for table, ddl in PHASE2_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl})")
    for table in ("shadow_ratee", "reported_ratee"):
        for name, kind in RATEE_EXACT_COLUMNS.items():
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {kind}")


def delete_run(
    con: duckdb.DuckDBPyConnection,
    tables: list[str] | tuple[str, ...],
    benefit_year: int,
    issuer_id: str,
    execution_zone: str,
) -> None:
    """Remove one scoring run's rows from ``tables`` (inside the caller's transaction)."""
    for table in tables:
        con.execute(
            f"DELETE FROM {table} WHERE benefit_year = ? AND issuer_id = ? AND execution_zone = ?",
            [benefit_year, issuer_id, execution_zone],
        )
