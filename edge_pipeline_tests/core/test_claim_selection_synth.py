"""RA claim selection over a synthetic issuer, through the real pipeline: invariants.

The generator writes the four inbound files (with Phase 1 defects), they are ingested, the
reference tables loaded and every file verified; selection then runs for the benefit year.
The generator is built to exercise selection (issue #2): institutional bill types that are not
acceptable, professional claims without an RA-eligible code, discharge status 30, claims of
the year before (renewals), NDCs without an RXC, unlinked supplemental records and voids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pytest

from edge_pipeline.edge.claim_selection import (
    BY_CODE,
    SelectionResult,
    enrollment_months,
    select_claims,
)
from edge_pipeline.edge.synth import generate_issuer
from edge_pipeline.edge.verification import load_reference_tables, verify_all
from edge_pipeline.edge.warehouse.load import load_paths

ENROLLEES, SEED, ERROR_RATE, YEAR = 1500, 23, 0.03, 2025
RUN = "benefit_year = ? AND issuer_id = ? AND execution_zone = ?"


@dataclass
class Selected:
    con: duckdb.DuckDBPyConnection
    result: SelectionResult
    key: list


@pytest.fixture(scope="module")
def sel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Selected]:
    folder = tmp_path_factory.mktemp("synth_selection")
    manifest = generate_issuer(
        folder / "issuer", enrollees=ENROLLEES, seed=SEED, error_rate=ERROR_RATE
    )
    warehouse = folder / "warehouse.duckdb"
    loads = load_paths(sorted((folder / "issuer").glob("*.xml")), warehouse)
    assert any(r.status == "loaded" for r in loads)
    con = duckdb.connect(str(warehouse))
    load_reference_tables(con, folder / "issuer" / "plan_registry.csv", [folder / "issuer"])
    verify_all(con)
    result = select_claims(con, YEAR, manifest.issuer_id, manifest.execution_zone)
    yield Selected(con, result, [YEAR, manifest.issuer_id, manifest.execution_zone])
    con.close()


def _one(sel: Selected, sql: str, *params: object) -> object:
    return sel.con.execute(sql, [*params]).fetchone()[0]


def _scope(table: str) -> str:
    return f"(SELECT * FROM {table} WHERE issuer_id = ? AND execution_zone = ?)"


@pytest.mark.parametrize(
    ("kind", "source"),
    [("medical", "active_medical_claim"), ("pharmacy", "active_pharmacy_claim")],
)
def test_one_row_per_active_claim(sel: Selected, kind: str, source: str) -> None:
    _, issuer, zone = sel.key
    missing_or_extra = _one(
        sel,
        f"""
        SELECT count(*) FROM (
          SELECT file_identifier, record_identifier FROM {_scope(source)}
          EXCEPT ALL
          SELECT file_identifier, record_identifier FROM shadow_ra_claim_selection
          WHERE {RUN} AND record_kind = ?
        ) UNION ALL BY NAME (
          SELECT file_identifier, record_identifier FROM shadow_ra_claim_selection
          WHERE {RUN} AND record_kind = ?
          EXCEPT ALL
          SELECT file_identifier, record_identifier FROM {_scope(source)}
        )
        """,
        issuer,
        zone,
        *sel.key,
        kind,
        *sel.key,
        kind,
        issuer,
        zone,
    )
    assert missing_or_extra == 0
    assert sel.result.considered[kind] == _one(
        sel, f"SELECT count(*) FROM {_scope(source)}", issuer, zone
    )


def test_one_row_per_accepted_supplemental_record(sel: Selected) -> None:
    _, issuer, zone = sel.key
    accepted = _one(
        sel,
        """
        SELECT count(*) FROM supplemental_record t
        JOIN shadow_file_status f ON f.file_identifier = t.file_identifier AND f.status = 'A'
          AND f.submission_type = 'S' AND f.issuer_id = ? AND f.execution_zone = ?
        JOIN shadow_record_status s ON s.load_id = f.load_id AND s.level = 'supplemental'
          AND s.record_identifier = t.record_identifier AND s.status = 'A'
        """,
        issuer,
        zone,
    )
    rows = _one(
        sel,
        f"SELECT count(DISTINCT (file_identifier, record_identifier)) "
        f"FROM shadow_ra_claim_selection WHERE {RUN} AND record_kind = 'supplemental'",
        *sel.key,
    )
    assert accepted == rows == sel.result.considered["supplemental"] > 0


def test_conservation(sel: Selected) -> None:
    r = sel.result
    assert sum(r.categories.values()) == r.total == r.rows["shadow_ra_claim_selection"]
    assert sum(r.included.values()) + sum(r.reasons.values()) == r.total
    bad = _one(
        sel,
        f"SELECT count(*) FROM shadow_ra_claim_selection WHERE {RUN} AND NOT ("
        "(included = 'Y' AND reason_code IS NULL) OR (included = 'N' AND reason_code IS NOT NULL))",
        *sel.key,
    )
    assert bad == 0
    for reason, _count in r.reasons.items():
        assert reason in BY_CODE


def test_categories_follow_the_reason(sel: Selected) -> None:
    pairs = sel.con.execute(
        f"SELECT DISTINCT reason_code, category FROM shadow_ra_claim_selection "
        f"WHERE {RUN} AND reason_code IS NOT NULL",
        sel.key,
    ).fetchall()
    assert pairs and all(BY_CODE[reason].category == category for reason, category in pairs)


def test_included_claims_are_active_and_accepted(sel: Selected) -> None:
    for kind, view in (("medical", "active_medical_claim"), ("pharmacy", "active_pharmacy_claim")):
        orphans = _one(
            sel,
            f"""SELECT count(*) FROM shadow_ra_claim_selection x
            WHERE {RUN} AND x.record_kind = ? AND x.included = 'Y' AND NOT EXISTS (
              SELECT 1 FROM {view} a JOIN shadow_record_status s ON s.load_id = a.load_id
                AND s.level = 'claim' AND s.record_identifier = a.record_identifier
              WHERE s.status = 'A' AND a.file_identifier = x.file_identifier
                AND a.record_identifier = x.record_identifier)""",
            *sel.key,
            kind,
        )
        assert orphans == 0, kind


def test_the_generator_exercises_the_rules(sel: Selected) -> None:
    assert {"R01", "R03", "R04", "R07", "R09", "R10", "R11", "R13", "VOID", "VOIDED"} <= set(
        sel.result.reasons
    ), sel.result.reasons
    assert sel.result.included["medical"] > 0 and sel.result.included["pharmacy"] > 0


def test_unlinked_supplementals_are_r10(sel: Selected) -> None:
    """Records naming no active claim of the enrollee -- never sent, or voided/replaced away --
    get R10; the generator's unlinked records name ``MCU...`` claims that do not exist."""
    rows = sel.con.execute(
        f"""
        SELECT x.reason_code, t.original_claim_identifier LIKE 'MCU%' AS generated_unlinked,
          EXISTS (SELECT 1 FROM accepted_medical_claim a
                  WHERE a.claim_identifier = t.original_claim_identifier) AS claim_accepted
        FROM shadow_ra_claim_selection x
        JOIN supplemental_record t ON t.file_identifier = x.file_identifier
          AND t.record_identifier = x.record_identifier
        WHERE {RUN} AND x.record_kind = 'supplemental' AND NOT EXISTS (
          SELECT 1 FROM active_medical_claim a
          WHERE a.claim_identifier = t.original_claim_identifier
            AND a.member_id = t.insured_member_identifier)
        """,
        sel.key,
    ).fetchall()
    assert any(generated for _, generated, _ in rows)
    assert all(reason == "R10" for reason, _, _ in rows), rows


def test_scoring_inputs_come_from_included_claims(sel: Selected) -> None:
    for table, source in (("ra_diagnosis", "source = 'claim'"), ("ra_drug_code", "TRUE")):
        orphans = _one(
            sel,
            f"""SELECT count(*) FROM {table} d WHERE {RUN} AND {source} AND NOT EXISTS (
              SELECT 1 FROM shadow_ra_claim_selection x
              WHERE x.benefit_year = d.benefit_year AND x.issuer_id = d.issuer_id
                AND x.execution_zone = d.execution_zone AND x.included = 'Y'
                AND x.claim_identifier = d.claim_identifier AND x.member_id = d.member_id)""",
            *sel.key,
        )
        assert orphans == 0, table
        outside = _one(
            sel,
            f"SELECT count(*) FROM {table} WHERE {RUN} AND year(service_date) <> ?",
            *sel.key,
            YEAR,
        )
        assert outside == 0, table
    assert sel.result.rows["ra_diagnosis"] > 0 and sel.result.rows["ra_drug_code"] > 0


def test_one_enrollee_row_per_member_and_plan_with_coverage_in_the_year(sel: Selected) -> None:
    _, issuer, zone = sel.key
    expected = _one(
        sel,
        f"SELECT count(DISTINCT (member_id, plan_id)) FROM {_scope('active_enrollment')} "
        f"WHERE start_date <= DATE '{YEAR}-12-31' AND end_date >= DATE '{YEAR}-01-01'",
        issuer,
        zone,
    )
    rows = sel.con.execute(
        f"SELECT member_id, plan_id, enrollment_days, enrollment_months, member_months, "
        f"billable_member_months, first_day, last_day FROM ra_enrollee WHERE {RUN}",
        sel.key,
    ).fetchall()
    assert len(rows) == expected == len({(r[0], r[1]) for r in rows})
    for _, _, days, months, member_months, billable, first, last in rows:
        assert 1 <= days <= (last - first).days + 1 <= 365
        assert months == enrollment_months(days)
        assert 0 <= billable <= member_months <= 12
    assert any(billable < member_months for *_, member_months, billable, _, _ in rows)
    per_member = _one(
        sel,
        f"SELECT max(days) FROM (SELECT sum(enrollment_days) AS days FROM ra_enrollee "
        f"WHERE {RUN} GROUP BY member_id)",
        *sel.key,
    )
    assert per_member <= 365
