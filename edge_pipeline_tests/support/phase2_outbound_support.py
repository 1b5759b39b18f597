"""Hand-built Phase 2 shadow tables for the RA report tests.

The claim selection and the risk model are written elsewhere; these tests exercise only the
reports, so the shadow rows are written here directly: one scoring run (BY2025, issuer 12345,
zone T) with several enrollees, plans and rating areas, every RACSD category, HCCs with several
diagnosis sources (claim and supplemental), an HCC folded into a group (sources, no
coefficient of its own), RXCs from NDC and HCPCS codes, dropped HCCs and RXCs, every other term
kind, transfer elements (RATEE), user fees (RAUF), high-cost risk pool rows (HCRPSR, HCRPDE)
and enrollee claims rows (ECD orphan claims and enrollees without claims, ECS) of several pools, plans and rating areas, NULLs and empty strings
where the contract allows them, and characters XML must escape.
A second run (BY2024) and another zone share the tables to prove runs never mix.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import duckdb

from edge_pipeline.edge.layouts.outbound.model import RaReportLayout
from edge_pipeline.edge.ra_runs.schema import SHADOW_PHASE2_DDL, ensure_phase2_schema

RUN = (2025, "12345", "T")
OTHER_RUNS = ((2024, "12345", "T"), (2025, "12345", "P"))

PLAN_A = "12345VA001000104"  # silver 87 % CSR variant
PLAN_B = "12345VA002000101"
PLAN_C = "12345VA003000102"

#: shadow_ra_claim_selection without the run columns:
#: category, record_kind, claim_identifier, file_identifier, record_identifier, member_id,
#: plan_id, included, reason_code
CLAIM_SELECTION = [
    ("calendar_year", "medical", "C-100", "M00000000001", 12, "M001", PLAN_A, "N", "R07"),
    ("calendar_year", "medical", "C-101", "M00000000001", 15, "M002", PLAN_A, "N", "R02"),
    ("calendar_year", "pharmacy", "RX-9", "P00000000001", 4, "M003", PLAN_B, "N", "R11"),
    ("plan", "medical", "C-102", "M00000000001", 20, None, None, "N", "R05"),
    ("plan", "pharmacy", "RX-10", "P00000000001", 7, "M004", PLAN_B, "N", "R14"),
    ("plan", "medical", "C-103", "M00000000002", 3, "M005", PLAN_C, "N", "R06"),
    ("bill_type", "medical", "C-104", "M00000000002", 9, "M001", PLAN_A, "N", "R01"),
    ("service_code", "medical", "C-105", "M00000000002", 14, "M002", PLAN_A, "N", "R03"),
    ("service_code", "medical", "C-106 <&>", "M00000000002", 18, "M002", PLAN_A, "N", "R03"),
    ("reason_code", "medical", "C-107", "M00000000002", 22, "M006", PLAN_C, "N", "R04"),
    ("pharmacy_claim", "pharmacy", "RX-11", "P00000000001", 10, "M001", PLAN_A, "Y", None),
    ("pharmacy_claim", "pharmacy", "RX-12", "P00000000001", 13, "M003", PLAN_B, "N", "R13"),
    ("unlinked_supplemental", "supplemental", "S-1", "S00000000001", 5, "M004", PLAN_B, "N",
     "R10"),
    ("medical_claim", "medical", "C-108", "M00000000001", 30, "M001", PLAN_A, "Y", None),
    ("medical_claim", "medical", "C-109", "M00000000001", 33, "M001", PLAN_A, "Y", None),
    ("medical_claim", "medical", "C-110", "M00000000002", 40, "M003", PLAN_B, "Y", None),
    ("medical_claim", "medical", "", None, None, "M005", PLAN_C, "Y", None),
    ("supplemental_claim", "supplemental", "S-2", "S00000000001", 8, "M001", PLAN_A, "Y", None),
    ("supplemental_claim", "supplemental", "S-3", "S00000000001", 11, "M002", PLAN_A, "N", "R09"),
]  # fmt: skip

#: shadow_risk_score without the run columns:
#: member_id, plan_id, rating_area, metal, csr_variant, csr_indicator, csr_factor, sex,
#: birth_date, age_last, model, enrollment_days, enrollment_months, billable_member_months,
#: score_raw, score_csr_adjusted
SCORES = [
    ("M001", PLAN_A, "1", "S", "04", 2, D("1.120"), "F", dt.date(1970, 3, 2), 55, "adult",
     120, 4, D("3.9344"), D("28.888"), D("32.355")),
    ("M002", PLAN_A, "1", "S", "04", 2, D("1.120"), "M", dt.date(1985, 7, 9), 40, "adult",
     365, 12, D("12.0000"), D("0.452"), D("0.506")),
    ("M003", PLAN_B, "2", "G", "01", 1, D("1.000"), "F", dt.date(2012, 1, 31), 13, "child",
     200, 7, D("6.5753"), D("1.201"), D("1.201")),
    ("M004", PLAN_B, "2", "G", "01", 1, D("1.000"), "U", dt.date(2025, 5, 1), 0, "infant",
     245, 8, D("0.0000"), D("5.500"), D("5.500")),
    ("M005", PLAN_C, "1", "B", "02", 3, D("1.000"), "M", None, 33, "adult",
     31, 1, D("1.0000"), None, None),
    ("M001", PLAN_B, "2", "G", "01", 1, D("1.000"), "F", dt.date(1970, 3, 2), 55, "adult",
     100, 4, D("3.2877"), D("0.301"), D("0.301")),
    ("M006", PLAN_C, None, "B", "02", 3, D("1.070"), "", dt.date(1960, 12, 31), 64, "adult",
     365, 12, D("12.0000"), D("1.000"), D("1.070")),
]  # fmt: skip

#: shadow_risk_score_term without the run columns: member_id, plan_id, variable, kind, coefficient
TERMS = [
    ("M001", PLAN_A, "FAGE_LAST_55_59", "demographic", D("0.434")),
    ("M001", PLAN_A, "HHS_HCC019", "hcc", D("0.307")),
    ("M001", PLAN_A, "G01", "group", D("0.351")),
    ("M001", PLAN_A, "HHS_HCC130", "hcc", D("2.347")),
    ("M001", PLAN_A, "RXC_01", "rxc", D("1.012")),
    ("M001", PLAN_A, "RXC_01_x_HCC019", "rxc_interaction", D("-0.125")),
    ("M001", PLAN_A, "SEVERE_HCC_COUNT2", "severity", D("12.007")),
    ("M001", PLAN_A, "HCC_ED4", "enrollment_duration", D("0.321")),
    ("M002", PLAN_A, "MAGE_LAST_40_44", "demographic", D("0.452")),
    ("M003", PLAN_B, "FAGE_LAST_10_14", "demographic", D("0.112")),
    ("M003", PLAN_B, "HHS_HCC019", "hcc", D("1.089")),
    ("M004", PLAN_B, "IHCC_SEVERITY3_x_AGE0", "infant", D("5.500")),
    ("M004", PLAN_B, "RXC_03", "rxc", None),
    ("M001", PLAN_B, "FAGE_LAST_55_59", "demographic", D("0.301")),
    ("M006", PLAN_C, "MAGE_LAST_60_64", "demographic", D("1.000")),
]

#: shadow_risk_hcc_source without the run columns: member_id, plan_id, hcc, diagnosis_code,
#: source, claim_identifier, file_identifier, record_identifier
HCC_SOURCES = [
    ("M001", PLAN_A, "HHS_HCC019", "E1165", "claim", "C-108", "M00000000001", 31),
    ("M001", PLAN_A, "HHS_HCC019", "E119", "supplemental", "S-2", "S00000000001", 8),
    ("M001", PLAN_A, "HHS_HCC020", "E1010", "claim", "C-109", "M00000000001", 34),
    ("M001", PLAN_A, "HHS_HCC130", "I5022", "claim", "C-108", "M00000000001", 31),
    ("M001", PLAN_A, "HHS_HCC130", "I5022", "claim", "C-109", "M00000000001", 34),
    ("M001", PLAN_A, "HHS_HCC130", "I5022", "claim", "C-109", "M00000000001", 34),
    ("M003", PLAN_B, "HHS_HCC019", "E1165", "claim", "C-110", "M00000000002", 41),
    ("M004", PLAN_B, "HHS_HCC242", "P0701", None, None, None, None),
]

#: shadow_risk_rxc_source without the run columns: member_id, plan_id, rxc, code_type, code,
#: claim_identifier, file_identifier, record_identifier
RXC_SOURCES = [
    ("M001", PLAN_A, "RXC_01", "NDC", "00002143380", "RX-11", "P00000000001", 10),
    ("M001", PLAN_A, "RXC_01", "HCPCS", "J1817", "C-108", "M00000000001", 32),
    ("M004", PLAN_B, "RXC_03", "NDC", "00004025001", None, None, None),
]

#: shadow_risk_dropped_hcc without the run columns: member_id, plan_id, hcc, dropped_by
DROPPED = [
    ("M001", PLAN_A, "HHS_HCC020", "HHS_HCC019"),
    ("M001", PLAN_A, "RXC_02", "RXC_01"),
    ("M003", PLAN_B, "HHS_HCC021", None),
]

#: ra_enrollee member months of each score row (member_id, plan_id, rating_area, member_months)
MEMBER_MONTHS = [
    ("M001", PLAN_A, "1", D("3.9344")),
    ("M002", PLAN_A, "1", D("12.0000")),
    ("M003", PLAN_B, "2", D("6.5753")),
    ("M004", PLAN_B, "2", D("8.0000")),
    ("M005", PLAN_C, "1", D("1.0000")),
    ("M001", PLAN_B, "2", D("3.2877")),
    ("M006", PLAN_C, None, D("12.0000")),
]

#: shadow_ratee without the run columns: state, risk_pool, plan_id (14-character standard
#: component id), rating_area, metal, enrollees, member_months, billable_member_months, plrs,
#: arf, av, idf, gcf, premium_pmpm.  Several states, pools, plans and rating areas, every
#: decimal at its column's full scale (trailing zeros, zeros, the largest values that fit),
#: NULLs (absent elements) and an empty string (an empty element).
RATEE = [
    ("VA", "individual", PLAN_A[:14], "1", "S", 2, D("15.9344"), D("15.9344"), D("1.402"),
     D("1.601"), D("0.700"), D("1.030"), D("1.0000"), D("600.00")),
    ("VA", "individual", PLAN_A[:14], "2", "S", 1, D("0.5000"), D("0.0000"), D("0.000"),
     D("1.000"), D("0.700"), D("1.030"), D("1.0523"), D("0.00")),
    ("VA", "individual", PLAN_B[:14], "2", "G", 3, D("13.8630"), D("9.8630"), D("0.901"),
     D("1.450"), D("0.800"), D("1.080"), D("1.0523"), D("450.37")),
    ("VA", "small_group", PLAN_C[:14], "1", "B", 2, D("13.0000"), D("13.0000"), D("1.035"),
     D("2.714"), D("0.600"), D("1.000"), D("0.9871"), D("1234.56")),
    ("VA", "small_group", PLAN_C[:14], None, "B", 1, D("12.0000"), D("12.0000"), D("1.070"),
     D("3.000"), D("0.600"), D("1.000"), None, D("9999999.99")),
    ("VA", "catastrophic", "12345VA0040001", "3", "C", 1, D("0.0323"), D("0.0323"), D("0.001"),
     D("0.765"), D("0.570"), D("1.000"), D("1.1000"), D("212.10")),
    ("MD", "individual", "12345MD0050001", "1", "P", 1, D("9999999999.9999"),
     D("9999999999.9999"), D("999999999.999"), D("123.456"), D("0.900"), D("1.150"),
     D("9999.9999"), D("999999999999.99")),
    ("MD", "individual", "12345MD0050001", "4 & <5>", "", None, None, None, None, None, None,
     None, None, None),
]  # fmt: skip

#: shadow_rauf without the run columns: state, risk_pool, plan_id, rating_area,
#: billable_member_months, user_fee_pmpm, user_fee (the RATEE keys, NULLs, an empty string,
#: the largest values that fit).
RAUF = [
    ("VA", "individual", PLAN_A[:14], "1", D("15.9344"), D("0.2000"), D("3.19")),
    ("VA", "individual", PLAN_A[:14], "2", D("0.0000"), D("0.2000"), D("0.00")),
    ("VA", "small_group", PLAN_C[:14], None, D("12.0000"), D("0.2000"), D("2.40")),
    ("MD", "individual", "12345MD0050001", "4 & <5>", D("9999999999.9999"), D("99999999.9999"),
     D("9999999999999999.99")),
    ("MD", "individual", "12345MD0050001", "", None, None, None),
]  # fmt: skip

#: shadow_hcrp_summary without the run columns: state, risk_pool, plan_id,
#: enrollees_over_threshold, paid_claims, amount_over_threshold, threshold, coinsurance_rate,
#: hcrp_payment, premium, charge_rate, hcrp_charge, net_amount (a plan known only from its
#: claims has no state and pool).
HCRP_SUMMARY = [
    ("VA", "individual", PLAN_A[:14], 2, D("3250000.10"), D("1250000.10"), D("1000000.00"),
     D("0.6000"), D("750000.06"), D("120000.00"), D("0.003000"), D("360.00"), D("749640.06")),
    ("VA", "small_group", PLAN_C[:14], 0, D("0.00"), D("0.00"), D("1000000.00"), D("0.6000"),
     D("0.00"), D("9999.99"), D("0.003000"), D("30.00"), D("-30.00")),
    (None, None, "12345VA0090001", 1, D("1000000.01"), D("0.01"), D("1000000.00"),
     D("0.6000"), D("0.01"), D("0.00"), D("0.003000"), D("0.00"), D("0.01")),
]  # fmt: skip

#: shadow_hcrp_enrollee without the run columns: member_id, plan_id, paid_claims,
#: amount_over_threshold, hcrp_payment
HCRP_ENROLLEES = [
    ("M001", PLAN_A[:14], D("2000000.00"), D("1000000.00"), D("600000.00")),
    ("M002 <&>", PLAN_A[:14], D("1250000.10"), D("250000.10"), D("150000.06")),
    ("M007", "12345VA0090001", D("1000000.01"), D("0.01"), D("0.01")),
]

#: shadow_ecd_orphan_claim without the run columns: record_kind, claim_identifier,
#: file_identifier, record_identifier, member_id, plan_id, service_from_date, service_to_date,
#: orphan_reason (a claim without plan, characters XML escapes).
ECD_ORPHANS = [
    ("medical", "C-103", "M00000000002", 3, "M005", PLAN_C, dt.date(2025, 3, 1),
     dt.date(2025, 3, 4), "outside_enrollment_period"),
    ("medical", "C-102", "M00000000001", 20, None, None, None, dt.date(2025, 6, 30),
     "not_enrolled_in_plan"),
    ("pharmacy", "RX-10 <&>", "P00000000001", 7, "M004", PLAN_B, dt.date(2025, 2, 2),
     dt.date(2025, 2, 2), "not_enrolled_in_plan"),
]  # fmt: skip

#: shadow_ecd_enrollee_without_claim without the run columns: member_id, plan_id, member_months
ECD_WITHOUT = [
    ("M002 <&>", PLAN_A, D("12.0000")),
    ("M006", PLAN_B, D("0.0323")),
    ("M008", PLAN_C, None),
]

#: shadow_ecs without the run columns: plan_id, enrollees, enrollees_with_claims,
#: enrollees_without_claims, claims_linked, orphan_claims
ECS = [
    (PLAN_A, 3, 2, 1, 7, 0),
    (PLAN_B, 2, 1, 1, 1, 1),
    (PLAN_C, 1, 0, 1, 0, 1),
    (None, 0, 0, 0, 0, 1),
]

TABLE_ROWS: dict[str, list[tuple]] = {
    "shadow_ra_claim_selection": CLAIM_SELECTION,
    "shadow_risk_score": SCORES,
    "shadow_risk_score_term": TERMS,
    "shadow_risk_hcc_source": HCC_SOURCES,
    "shadow_risk_rxc_source": RXC_SOURCES,
    "shadow_risk_dropped_hcc": DROPPED,
    "shadow_ratee": RATEE,
    "shadow_rauf": RAUF,
    "shadow_hcrp_summary": HCRP_SUMMARY,
    "shadow_hcrp_enrollee": HCRP_ENROLLEES,
    "shadow_ecd_orphan_claim": ECD_ORPHANS,
    "shadow_ecd_enrollee_without_claim": ECD_WITHOUT,
    "shadow_ecs": ECS,
}


def _columns(table: str) -> list[str]:
    from edge_pipeline.edge.outbound.core.tables import ddl_columns

    return list(ddl_columns(SHADOW_PHASE2_DDL[table]))


def insert(con: duckdb.DuckDBPyConnection, table: str, run: tuple, rows: list[tuple]) -> None:
    # the leading columns the rows give (shadow_ratee's unrounded *_exact ones come last)
    columns = _columns(table)[: len(run) + len(rows[0])] if rows else _columns(table)
    marks = ", ".join("?" for _ in columns)
    con.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [(*run, *row) for row in rows],
    )


def build_shadow(con: duckdb.DuckDBPyConnection) -> None:
    """The Phase 2 schema with the run above and a few rows of two other runs."""
    ensure_phase2_schema(con)
    for table, rows in TABLE_ROWS.items():
        insert(con, table, RUN, rows)
        for other in OTHER_RUNS:
            insert(con, table, other, rows[:2])
    con.executemany(
        "INSERT INTO ra_enrollee (benefit_year, issuer_id, execution_zone, member_id, plan_id, "
        "rating_area, member_months) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*RUN, *row) for row in MEMBER_MONTHS] + [(*OTHER_RUNS[0], *MEMBER_MONTHS[0])],
    )


def build_scaled(con: duckdb.DuckDBPyConnection, enrollees: int) -> None:
    """A run of ``enrollees`` enrollees, each with terms, HCC sources, an RXC and a drop."""
    ensure_phase2_schema(con)
    run = "2025 AS benefit_year, '12345' AS issuer_id, 'T' AS execution_zone"
    member = "'M' || lpad(CAST(i AS VARCHAR), 8, '0')"
    plan = f"'{PLAN_A[:-3]}' || CAST(i % 5 AS VARCHAR) || '04'"
    con.execute(
        f"INSERT INTO shadow_risk_score BY NAME SELECT {run}, {member} AS member_id, "
        f"{plan} AS plan_id, CAST(1 + i % 3 AS VARCHAR) AS rating_area, 'S' AS metal, "
        "'04' AS csr_variant, 2 AS csr_indicator, 1.12 AS csr_factor, 'F' AS sex, "
        "DATE '1970-01-01' + CAST(i % 9000 AS INTEGER) AS birth_date, 40 AS age_last, "
        "'adult' AS model, 365 AS enrollment_days, 12 AS enrollment_months, "
        "12 AS billable_member_months, 1.5 + (i % 7) AS score_raw, "
        f"1.68 + (i % 7) AS score_csr_adjusted FROM range({enrollees}) t(i)"
    )
    for variable, kind in (
        ("FAGE_LAST_40_44", "demographic"),
        ("HHS_HCC019", "hcc"),
        ("HHS_HCC130", "hcc"),
        ("RXC_01", "rxc"),
        ("HCC_ED12", "enrollment_duration"),
    ):
        con.execute(
            f"INSERT INTO shadow_risk_score_term BY NAME SELECT {run}, {member} AS member_id, "
            f"{plan} AS plan_id, '{variable}' AS variable, '{kind}' AS kind, "
            f"0.5 AS coefficient FROM range({enrollees}) t(i)"
        )
    con.execute(
        f"INSERT INTO shadow_risk_hcc_source BY NAME SELECT {run}, {member} AS member_id, "
        f"{plan} AS plan_id, h AS hcc, 'E1165' AS diagnosis_code, 'claim' AS source, "
        "'C' || CAST(i AS VARCHAR) AS claim_identifier, 'M00000000001' AS file_identifier, "
        f"i * 3 + j AS record_identifier FROM range({enrollees}) t(i), "
        "(VALUES ('HHS_HCC019'), ('HHS_HCC130')) v(h), range(2) u(j)"
    )
    con.execute(
        f"INSERT INTO shadow_risk_rxc_source BY NAME SELECT {run}, {member} AS member_id, "
        f"{plan} AS plan_id, 'RXC_01' AS rxc, 'NDC' AS code_type, '00002143380' AS code, "
        f"'RX' || CAST(i AS VARCHAR) AS claim_identifier FROM range({enrollees}) t(i)"
    )
    con.execute(
        f"INSERT INTO shadow_risk_dropped_hcc BY NAME SELECT {run}, {member} AS member_id, "
        f"{plan} AS plan_id, 'HHS_HCC020' AS hcc, 'HHS_HCC019' AS dropped_by "
        f"FROM range({enrollees}) t(i)"
    )


#: ``includedFileHeader`` of a hand-written RA report of the run (``code``: file code,
#: ``name``: report type), as a real server might write it: the reader tests' files are written
#: from the element names, not by the writer.
HAND_WRITTEN_HEADER = """<includedFileHeader>
    <outboundFileIdentifier>RA12345T2025{code}202520260601090000</outboundFileIdentifier>
    <outboundFileGenerationDateTime>2026-06-01T09:00:00</outboundFileGenerationDateTime>
    <inboundFileIdentifier>RA12345T2025</inboundFileIdentifier>
    <interfaceControlReleaseNumber/>
    <edgeServerVersion>EDGE 9.1</edgeServerVersion>
    <edgeServerProcessIdentifier/>
    <inboundFileGenerationDateTime/>
    <outboundFileTypeCode>{name}</outboundFileTypeCode>
    <edgeServerIdentifier>EDGE-REAL</edgeServerIdentifier>
    <issuerID>12345</issuerID>
    <inboundFileSubmissionDateTime/>
    <inboundFileSubmissionType/>
    <benefitYear>2025</benefitYear>
    <executionZoneCode>T</executionZoneCode>
  </includedFileHeader>"""


def hand_written_report(folder: Path, layout: RaReportLayout, body: str) -> Path:
    """An RA report of the run written by hand: the header above, then ``body``."""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{layout.root} xmlns="http://vo.edge.fm.cms.hhs.gov">\n  '
        f"{HAND_WRITTEN_HEADER.format(code=layout.file_code, name=layout.name)}\n  {body}\n"
        f"</{layout.root}>\n"
    )
    path = folder / f"12345.{layout.file_code}.D06012026T090000.T.xml"
    path.write_text(text, encoding="utf-8")
    return path


#: When the test run's reports were generated, and the row filter of the test run (``RUN``).
GENERATED = dt.datetime(2026, 5, 1, 12, 0, 0)
RUN_WHERE = "benefit_year = 2025 AND issuer_id = '12345' AND execution_zone = 'T'"


def run_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[str]:
    """The test run's rows of ``table`` (``columns``), order-insensitive and exact (repr keeps
    Decimal scale and NULL vs '')."""
    found = con.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {RUN_WHERE}")
    return sorted(map(repr, found.fetchall()))


def written_reports(folder: Path, reports: list[str]) -> dict[str, Path]:
    """``reports`` of the test run written from ``build_shadow``'s tables into ``folder``, by
    file code."""
    from edge_pipeline.edge.outbound import write_phase2_reports

    con = duckdb.connect()
    build_shadow(con)
    paths = write_phase2_reports(con, folder, *RUN, GENERATED, reports=reports)
    return {path.name.split(".")[1]: path for path in paths}
