"""RA claim selection on small hand-written files: each rule R01-R14 fires, by name.

One warehouse for the module.  The files are written with the project's ``SubmissionWriter``,
loaded, verified by the Phase 1 shadow in load order (so every claim below is accepted and
active unless said otherwise), then selected for benefit year 2025:

1. ``E1``  ESES: enrollees A (clean), H (covered since 2013), Y (2024-2025), O (in a plan
   registered for 2024 only), X (2024 only), D (dropped by E2) and family F (subscriber and
   four children under 21).
2. ``M1``  ESMCS: one claim per medical rule, clean claims, a claim that M2 voids.
3. ``P1``  ESPCS: one claim per pharmacy rule and a clean one.
4. ``S1``  ESSFS: an add, a delete, an add to be voided, an unlinked add, an add on an excluded
   claim, an add on the claim M2 voids; ``S2`` the void of the add.
5. ``M2``  ESMCS voiding a claim that carries a supplemental add.
6. ``E2``  ESES replacing E1 without D: D's claims lose their enrollment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from lxml import etree
from record_builders import (
    ISSUER,
    RXC_NDC,
    YEAR,
    ZONE,
    Groups,
    enrollee,
    enrollment_period,
    medical_claim,
    pharmacy_claim,
    rendered_service,
    supplemental_record,
    write_submission,
)

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.claim_selection import BY_CODE, EDGE_RULES, enrollment_months, select_claims
from edge_pipeline.edge.claim_selection.eligible_codes import eligible_service_codes
from edge_pipeline.edge.layouts import ESES, ESMCS, ESPCS, ESSFS
from edge_pipeline.edge.layouts.model import FileLayout
from edge_pipeline.edge.layouts.outbound import ECD, ECS
from edge_pipeline.edge.outbound import load_outbound_file, write_phase2_reports
from edge_pipeline.edge.outbound.core.xsd import load_schema
from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.reconciliation.phase2 import (
    ECD_ENROLLEE_REPORT,
    ECD_ORPHAN_REPORT,
    ECS_REPORT,
    refresh_row_differences,
)
from edge_pipeline.edge.verification import load_reference_tables, verify_all
from edge_pipeline.edge.warehouse.load import load_file

PLAN1 = "12345NC001000101"  # registered from any year to 2025, rating areas 001 and 002
PLAN_OLD = "12345NC001000301"  # registered for 2024 only
ELIGIBLE = "99213"  # an office visit: on DIY table 2 of 2025
NOT_ELIGIBLE = "80053"  # a lab panel: not on table 2
NO_RXC_NDC = "00071015523"  # a real NDC mapping to no RXC


def _registry(folder: Path) -> Path:
    (folder / "code_list_ndc.csv").write_text(f"code\n{NO_RXC_NDC}\n", encoding="utf-8")
    (folder / "code_list_hcpcs.csv").write_text(f"code\n{NOT_ELIGIBLE}\n", encoding="utf-8")
    (folder / "code_list_icd10cm.csv").write_text("code\nJ069\nE119\nI509\nE1165\n", "utf-8")
    path = folder / "registry.csv"
    path.write_text(
        "insurance_plan_identifier,issuer_identifier,metal,csr_variant,rating_areas,"
        "effective_start_year,effective_end_year\n"
        f"{PLAN1},{ISSUER},gold,01,001;002,,2025\n"
        f"{PLAN_OLD},{ISSUER},silver,01,001,2024,2024\n",
        encoding="utf-8",
    )
    return path


def _medical(
    claim: str,
    member: str,
    *,
    start: str = "2025-02-01",
    end: str = "2025-02-01",
    codes: tuple[str, ...] = (ELIGIBLE,),
    processed: str = "2025-03-01T10:00:00",
    **header: Any,
) -> dict[str, Any]:
    """A claim with one line per service of ``codes``: professional unless ``bill_type`` is
    given (then institutional).  ``header``: the claim's other values (``bill_type``,
    ``discharge``, ``diagnoses``, ``original``, ``code``; see :func:`medical_claim`)."""
    institutional = header.get("bill_type") is not None
    lines = [
        rendered_service(
            i + 1,
            start,
            service,
            place=None if institutional else "11",
            revenue="0450" if institutional else None,
        )
        for i, service in enumerate(codes)
    ]
    return medical_claim(claim, member, lines, start=start, end=end, processed=processed, **header)


class Scenario:
    """Writes and loads the files, remembering each file's identifier."""

    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.root, self.con, self.count = root, con, 0
        self.fid: dict[str, str] = {}

    def write(self, name: str, layout: FileLayout, groups: Groups) -> None:
        self.count += 1
        path = self.root / f"{self.count:02d}_{name}.xml"
        self.fid[name] = write_submission(path, layout, self.count, groups)
        load_file(self.con, path)

    def selection(self, claim: str) -> tuple[str, str | None, str]:
        """(included, reason_code, category) of the selection row of ``claim``."""
        rows = self.con.execute(
            "SELECT included, reason_code, category FROM shadow_ra_claim_selection "
            "WHERE benefit_year = ? AND issuer_id = ? AND execution_zone = ? "
            "AND claim_identifier = ?",
            [YEAR, ISSUER, ZONE, claim],
        ).fetchall()
        assert len(rows) == 1, (claim, rows)
        return rows[0]


FAMILY_CHILDREN = {  # member -> birth date: four children under 21 all year
    "F_KID1": "2005-03-01",
    "F_KID2": "2008-07-15",
    "F_KID3": "2011-01-20",
    "F_KID4": "2019-09-09",
}


def _enrollment(with_d: bool) -> Groups:
    year = ("2025-01-01", "2025-12-31")
    people = [
        enrollee("A", [enrollment_period(PLAN1, *year)]),
        enrollee("H", [enrollment_period(PLAN1, "2013-12-01", "2025-12-31")], birth="1960-01-01"),
        enrollee("Y", [enrollment_period(PLAN1, "2024-01-01", "2025-12-31")]),
        enrollee("O", [enrollment_period(PLAN_OLD, "2024-06-01", "2025-12-31")]),
        enrollee("X", [enrollment_period(PLAN1, "2024-06-01", "2024-12-31")]),
        enrollee("F_SUB", [enrollment_period(PLAN1, *year, premium="1800.00")], birth="1975-04-04"),
        *(
            enrollee(kid, [enrollment_period(PLAN1, *year, subscriber="F_SUB")], birth=birth)
            for kid, birth in FAMILY_CHILDREN.items()
        ),
    ]
    if with_d:
        people.append(enrollee("D", [enrollment_period(PLAN1, *year)]))
    return [(None, people)]


@pytest.fixture(scope="module")
def sc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("claim_selection")
    con = connect(root / "warehouse.duckdb")
    load_reference_tables(con, _registry(root), [root])
    s = Scenario(root, con)
    s.write("E1", ESES, _enrollment(with_d=True))
    s.write(
        "M1",
        ESMCS,
        [
            (
                PLAN1,
                [
                    _medical("MC_OK", "A"),
                    _medical("MC_IP", "A", end="2025-02-04", bill_type="111", discharge="01"),
                    _medical("MC_VOIDME", "A"),
                    _medical("MC_R01", "A", bill_type="121"),
                    _medical(
                        "MC_R02", "H", start="2013-12-20", end="2014-01-02",
                        bill_type="111", discharge="01", diagnoses=("E119",),
                    ),
                    _medical("MC_R03", "A", codes=(NOT_ELIGIBLE,)),
                    _medical("MC_R04", "A", end="2025-02-03", bill_type="111", discharge="30"),
                    _medical("MC_R06", "D"),
                    _medical("MC_R07", "Y", start="2024-06-01", end="2024-06-01"),
                    _medical("MC_R08", "X", start="2024-12-30", end="2025-01-02"),
                ],
            ),
            (PLAN_OLD, [_medical("MC_R05", "O", start="2025-03-01", end="2025-03-01")]),
        ],
    )  # fmt: skip
    s.write(
        "P1",
        ESPCS,
        [
            (
                PLAN1,
                [
                    pharmacy_claim("RX_OK", "A"),
                    pharmacy_claim("RX_R11", "Y", fill="2024-06-01"),
                    pharmacy_claim("RX_R13", "A", ndc=NO_RXC_NDC),
                    pharmacy_claim("RX_R14", "D"),
                ],
            ),
            (PLAN_OLD, [pharmacy_claim("RX_R12", "O")]),
        ],
    )
    s.write(
        "S1",
        ESSFS,
        [
            (
                PLAN1,
                [
                    supplemental_record("SA_ADD", "A", "MC_OK", ("I509",)),
                    supplemental_record("SA_DEL", "A", "MC_OK", ("J069",), action="D"),
                    supplemental_record("SA_VOIDED", "A", "MC_OK", ("E1165",)),
                    supplemental_record("SA_UNLINKED", "A", "MC_NOPE", ("I509",)),
                    supplemental_record("SA_R09", "A", "MC_R03", ("I509",)),
                    supplemental_record("SA_CLAIM_VOIDED", "A", "MC_VOIDME", ("I509",)),
                ],
            )
        ],
    )
    s.write(
        "S2",
        ESSFS,
        [
            (
                PLAN1,
                [
                    supplemental_record(
                        "SV_VOID", "A", "MC_OK", ("E1165",), action="V", voids="SA_VOIDED",
                        processed="2025-06-02T10:00:00",
                    )
                ],
            )
        ],
    )  # fmt: skip
    s.write(
        "M2",
        ESMCS,
        [
            (
                PLAN1,
                [
                    _medical(
                        "MC_VOID", "A", original="MC_VOIDME", code="V",
                        processed="2025-07-01T10:00:00",
                    )
                ],
            )
        ],
    )  # fmt: skip
    s.write("E2", ESES, _enrollment(with_d=False))
    verify_all(con)
    select_claims(con, YEAR, ISSUER, ZONE)
    yield s
    con.close()


def test_fixture_files_were_accepted(sc: Scenario) -> None:
    """Every record above passed Phase 1: the rules below judge active, accepted claims."""
    rejected = sc.con.execute(
        "SELECT file_identifier, level, record_identifier FROM shadow_record_status "
        "WHERE status <> 'A'"
    ).fetchall()
    errors = sc.con.execute("SELECT DISTINCT error_code FROM shadow_record_error").fetchall()
    assert rejected == [], errors


@pytest.mark.parametrize(
    ("claim", "code"),
    [
        ("MC_R01", "R01"),
        ("MC_R02", "R02"),
        ("MC_R03", "R03"),
        ("MC_R04", "R04"),
        ("MC_R05", "R05"),
        ("MC_R06", "R06"),
        ("MC_R07", "R07"),
        ("MC_R08", "R08"),
        ("SA_R09", "R09"),
        ("SA_UNLINKED", "R10"),
        ("RX_R11", "R11"),
        ("RX_R12", "R12"),
        ("RX_R13", "R13"),
        ("RX_R14", "R14"),
    ],
)
def test_each_rule_fires(sc: Scenario, claim: str, code: str) -> None:
    assert sc.selection(claim) == ("N", code, BY_CODE[code].category)


def test_every_edge_rule_is_exercised() -> None:
    assert [r.code for r in EDGE_RULES] == [f"R{i:02d}" for i in range(1, 15)]


@pytest.mark.parametrize(
    ("claim", "category"),
    [
        ("MC_OK", "medical_claim"),
        ("MC_IP", "medical_claim"),
        ("RX_OK", "pharmacy_claim"),
        ("SA_ADD", "supplemental_claim"),
        ("SA_DEL", "supplemental_claim"),
    ],
)
def test_clean_records_are_included(sc: Scenario, claim: str, category: str) -> None:
    assert sc.selection(claim) == ("Y", None, category)


def test_voided_claims_are_not_selected_and_their_supplementals_are_unlinked(
    sc: Scenario,
) -> None:
    for claim in ("MC_VOIDME", "MC_VOID"):
        count = sc.con.execute(
            "SELECT count(*) FROM shadow_ra_claim_selection WHERE claim_identifier = ?", [claim]
        ).fetchone()[0]
        assert count == 0, claim
    assert sc.selection("SA_CLAIM_VOIDED") == ("N", "R10", "unlinked_supplemental")


def test_void_record_and_its_target_do_not_apply(sc: Scenario) -> None:
    assert sc.selection("SV_VOID") == ("N", "VOID", "supplemental_claim")
    assert sc.selection("SA_VOIDED") == ("N", "VOIDED", "supplemental_claim")


def _diagnoses(sc: Scenario, member: str) -> set[tuple[str, str, str]]:
    return set(
        sc.con.execute(
            "SELECT diagnosis_code, source, claim_identifier FROM ra_diagnosis "
            "WHERE benefit_year = ? AND issuer_id = ? AND execution_zone = ? AND member_id = ?",
            [YEAR, ISSUER, ZONE, member],
        ).fetchall()
    )


def test_supplemental_add_delete_and_void_change_the_diagnoses(sc: Scenario) -> None:
    found = {(code, source) for code, source, claim in _diagnoses(sc, "A") if claim == "MC_OK"}
    assert found == {("E119", "claim"), ("I509", "supplemental")}  # J069 deleted, E1165 voided


def test_diagnoses_come_only_from_included_claims(sc: Scenario) -> None:
    claims = {claim for _, _, claim in _diagnoses(sc, "A")}
    assert claims == {"MC_OK", "MC_IP"}
    row = sc.con.execute(
        "SELECT service_date, file_identifier FROM ra_diagnosis WHERE claim_identifier = "
        "'MC_IP' LIMIT 1"
    ).fetchone()
    assert str(row[0]) == "2025-02-04" and row[1] == sc.fid["M1"]  # statement-covers-through


def test_drug_codes_of_included_claims(sc: Scenario) -> None:
    rows = set(
        sc.con.execute(
            "SELECT code_type, code, claim_identifier FROM ra_drug_code WHERE member_id = 'A'"
        ).fetchall()
    )
    assert ("NDC", RXC_NDC, "RX_OK") in rows
    assert ("HCPCS", ELIGIBLE, "MC_OK") in rows
    assert not {claim for _, _, claim in rows} & {"RX_R13", "MC_R03", "MC_R01"}


def _enrollee_row(sc: Scenario, member: str) -> dict[str, Any]:
    cursor = sc.con.execute(
        "SELECT * FROM ra_enrollee WHERE benefit_year = ? AND member_id = ?", [YEAR, member]
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, (member, rows)
    return dict(zip(names, rows[0], strict=True))


def test_only_the_three_oldest_children_are_billable(sc: Scenario) -> None:
    for kid in ("F_KID1", "F_KID2", "F_KID3"):
        row = _enrollee_row(sc, kid)
        assert row["member_months"] == row["billable_member_months"] == 12, kid
    youngest = _enrollee_row(sc, "F_KID4")
    assert youngest["member_months"] == 12 and youngest["billable_member_months"] == 0
    subscriber = _enrollee_row(sc, "F_SUB")
    assert subscriber["billable_member_months"] == 12
    assert subscriber["premium_amount"] == 1800 and youngest["premium_amount"] == 0


def test_enrollee_row_is_clipped_to_the_benefit_year(sc: Scenario) -> None:
    row = _enrollee_row(sc, "Y")  # enrolled 2024-01-01 .. 2025-12-31
    assert (str(row["first_day"]), str(row["last_day"])) == ("2025-01-01", "2025-12-31")
    assert row["enrollment_days"] == 365 and row["enrollment_months"] == 12
    assert (row["metal"], row["csr_variant"], row["rating_area"]) == ("gold", "01", "001")
    assert row["age_last"] == 45  # born 1980-05-05, last enrolled day 2025-12-31
    assert row["csr_indicator"] is None  # the risk model fills it from DIY table 13
    names = {m for (m,) in sc.con.execute("SELECT member_id FROM ra_enrollee").fetchall()}
    assert "X" not in names and "D" not in names  # no active coverage in 2025


def test_the_eligible_list_is_the_benefit_years(sc: Scenario) -> None:
    assert ELIGIBLE in eligible_service_codes(YEAR)
    assert NOT_ELIGIBLE not in eligible_service_codes(YEAR)


def test_rerunning_replaces_the_run(sc: Scenario) -> None:
    before = sc.con.execute("SELECT count(*) FROM shadow_ra_claim_selection").fetchone()[0]
    result = select_claims(sc.con, YEAR, ISSUER, ZONE)
    after = sc.con.execute("SELECT count(*) FROM shadow_ra_claim_selection").fetchone()[0]
    assert before == after == result.total
    assert sum(result.categories.values()) == result.total


def test_table_2_flag_column_of_each_year_is_found() -> None:
    """The workbook spells the column ``in_cy2025_included_list?`` / ``in_cy2024__included_list?``;
    ``N/A`` (with or without trailing blanks) is not on the list."""
    for year in (2024, 2025):
        codes = eligible_service_codes(year)
        assert len(codes) > 6000 and ELIGIBLE in codes


@pytest.mark.parametrize(
    ("days", "months"), [(0, 0), (1, 1), (31, 1), (32, 2), (184, 6), (185, 7), (336, 12), (366, 12)]
)
def test_enrollment_months_follow_diy_table_1(days: int, months: int) -> None:
    assert enrollment_months(days) == months


def _run_rows(sc: Scenario, table: str, columns: str) -> list[tuple]:
    return sc.con.execute(
        f"SELECT {columns} FROM {table} WHERE benefit_year = ? AND issuer_id = ? "
        "AND execution_zone = ? ORDER BY ALL",
        [YEAR, ISSUER, ZONE],
    ).fetchall()


def test_ecd_lists_the_claims_whose_enrollment_was_dropped(sc: Scenario) -> None:
    """D's claims lost their enrollment (E2): both are orphans of the plan; X's cross-year
    claim overlaps X's 2024 period (linked, as R06 says); claims of 2024 are not of the year."""
    assert _run_rows(
        sc, "shadow_ecd_orphan_claim", "record_kind, claim_identifier, member_id, orphan_reason"
    ) == [
        ("medical", "MC_R06", "D", "not_enrolled_in_plan"),
        ("pharmacy", "RX_R14", "D", "not_enrolled_in_plan"),
    ]
    without = _run_rows(sc, "shadow_ecd_enrollee_without_claim", "member_id")
    assert [m for (m,) in without] == ["F_KID1", "F_KID2", "F_KID3", "F_KID4", "F_SUB", "H", "Y"]
    assert _run_rows(sc, "shadow_ecs", "* EXCLUDE (benefit_year, issuer_id, execution_zone)") == [
        (PLAN1, 8, 1, 7, 8, 2),
        (PLAN_OLD, 1, 1, 0, 2, 0),
    ]


def test_ecd_and_ecs_are_written_read_back_and_reconciled(sc: Scenario, tmp_path: Path) -> None:
    paths = write_phase2_reports(sc.con, tmp_path, YEAR, ISSUER, ZONE, reports=["ECD", "ECS"])
    ecd = paths[0].read_text(encoding="utf-8")
    assert "<claimIdentifier>MC_R06</claimIdentifier>" in ecd
    assert "<claimIdentifier>RX_R14</claimIdentifier>" in ecd
    for path, layout in zip(paths, (ECD, ECS), strict=True):
        assert load_schema(layout).validate(etree.parse(str(path)))
        assert load_outbound_file(sc.con, path).status == "loaded"
    run = ScoringRun(YEAR, ISSUER, ZONE)
    for spec in (ECD_ORPHAN_REPORT, ECD_ENROLLEE_REPORT, ECS_REPORT):
        compared = refresh_row_differences(sc.con, run, spec)
        assert compared.differences.num_rows == 0 and compared.compared > 0, spec.table
