"""Each cascade rule of spec section 4, on small hand-written files (SubmissionWriter).

One warehouse per module: the files below are written, loaded in this order and verified in
load order, so the later claim files see the enrollment and claims the earlier ones left:

1. ``E1``  ESES: clean subscriber A with dependent B, enrollee failure C (2 periods), D with one
   failing period of two, F whose every period fails, G enrolled in plan 2.
2. ``E2``  ESES whose only enrollee fails: the issuer is rejected, the file replaces nothing.
3. ``M1``  ESMCS: plan 1 with a clean claim, a claim with one failing line, a claim with a
   failing header, a replacement of the clean claim, a replacement of the failed claim;
   plan 2 whose only claim fails.
4. ``M2``  ESMCS: a re-sent stored claim, a void of an already replaced claim, a replacement
   processed too early, a void of the latest replacement, a void naming nothing, a clean claim
   and a replacement of a stored claim.
5. ``M3``  ESMCS whose only plan's only claim fails: plan and issuer rejected.
6. ``P1``  ESPCS: plan 1 clean, plan 2 (two clean claims) with a wrong claim count.
7. ``S1``  ESSFS whose issuer claim count is wrong.
8. ``E3``  ESES in execution zone X (header failure).
8. ``S2``  ESSFS with a record whose enrollee id is too long, ``M5`` an ESMCS whose header
   says P, ``M6`` an ESMCS cut in half (the loader records a failed attempt).
9. ``M1b`` a different file reusing M1's fileIdentifier (refused by the loader).
10. ``E4`` ESES replacing the enrollment with A alone; ``M4`` then claims for A and for B.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from record_builders import (
    ISSUER,
    NPI,
    KeyedGroups,
    Record,
    enrollee,
    enrollment_period,
    file_identifier,
    medical_claim,
    pharmacy_claim,
    rendered_service,
    submission_header,
    supplemental_record,
    write_records,
)

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.layouts import ESES, ESMCS, ESPCS, ESSFS
from edge_pipeline.edge.layouts.model import FileLayout
from edge_pipeline.edge.verification import load_reference_tables, verify_all, verify_file
from edge_pipeline.edge.warehouse.load import load_file

PLAN1, PLAN2 = "12345NC001000101", "12345NC001000201"
SERVICE_DAY = "2025-02-01"


def _registry(path: Path) -> Path:
    path.write_text(
        "insurance_plan_identifier,issuer_identifier,rating_areas,effective_start_year,"
        f"effective_end_year\n{PLAN1},{ISSUER},001;002,2024,2025\n"
        f"{PLAN2},{ISSUER},001,2024,2025\n",
        encoding="utf-8",
    )
    return path


def _medical(
    claim: str,
    member: str,
    codes: tuple[str, ...] = ("99213", "99214"),
    original: str = "",
    code: str = "",
    processed: str = "2025-03-01T10:00:00",
    npi: str = NPI,
) -> Record:
    """A professional claim of one day with a line per service of ``codes``, paid 2025-03-05."""
    lines = [rendered_service(i + 1, SERVICE_DAY, service) for i, service in enumerate(codes)]
    return medical_claim(
        claim,
        member,
        lines,
        start=SERVICE_DAY,
        end=SERVICE_DAY,
        processed=processed,
        original=original,
        code=code,
        paid_on="2025-03-05",
        billing=npi,
    )


def _pharmacy(claim: str, member: str) -> Record:
    return pharmacy_claim(claim, member, paid_on="2025-03-02")


def _supplemental(detail: str, member: str) -> Record:
    return supplemental_record(detail, member, "MC1")


class Scenario:
    """Writes, loads and remembers the recordIdentifiers of the scenario files."""

    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.root = root
        self.con = con
        self.rid: dict[str, int] = {}
        self.fid: dict[str, str] = {}
        self.count = 0

    def write(
        self,
        name: str,
        layout: FileLayout,
        groups: KeyedGroups,
        fid: str | None = None,
        zone: str = "T",
        issuer_totals: dict | None = None,
        plan_totals: dict[str, dict] | None = None,
        header: dict[str, str] | None = None,
        truncate: bool = False,
    ) -> Path:
        self.count += 1
        fid = fid or file_identifier(layout, self.count)
        path = self.root / f"{self.count:02d}_{name}.xml"
        record_ids = write_records(
            path,
            layout,
            {**submission_header(layout, fid, zone), **(header or {})},
            groups,
            plan_totals=plan_totals,
            issuer_totals=issuer_totals,
        )
        self.rid.update({f"{name}.{key}": rid for key, rid in record_ids.items()})
        if truncate:  # header intact, body cut: the loader records a failed attempt
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        self.fid.setdefault(name, fid)
        load_file(self.con, path)
        return path

    def status(self, name: str, key: str, offset: int = 0) -> tuple[str, str | None]:
        """(status, rejection_reason) of record ``key`` of file ``name`` (+offset: its lines or
        periods, 1-based in document order)."""
        rows = self.con.execute(
            "SELECT status, rejection_reason FROM shadow_record_status "
            "WHERE file_identifier = ? AND record_identifier = ?",
            [self.fid[name], self.rid[f"{name}.{key}"] + offset],
        ).fetchall()
        assert len(rows) == 1, (name, key, rows)
        return rows[0]

    def errors(self, name: str, key: str, offset: int = 0) -> set[str]:
        return {
            code
            for (code,) in self.con.execute(
                "SELECT error_code FROM shadow_record_error WHERE file_identifier = ? "
                "AND record_identifier = ?",
                [self.fid[name], self.rid[f"{name}.{key}"] + offset],
            ).fetchall()
        }


@pytest.fixture(scope="module")
def sc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("cascade")
    con = connect(root / "warehouse.duckdb")
    load_reference_tables(con, _registry(root / "registry.csv"))
    s = Scenario(root, con)
    a, b = "MEMBERA", "MEMBERB"
    s.write(
        "E1",
        ESES,
        [
            (
                None,
                [
                    ("A", enrollee(a, [enrollment_period(PLAN1)])),
                    ("B", enrollee(b, [enrollment_period(PLAN1, subscriber=a)])),
                    (
                        "C",
                        enrollee(
                            "MEMBERC",
                            [
                                enrollment_period(PLAN1, coverage_end_date="2025-05-31"),
                                enrollment_period(PLAN2, start="2025-06-01"),
                            ],
                            gender="X",
                        ),
                    ),
                    (
                        "D",
                        enrollee(
                            "MEMBERD",
                            [
                                enrollment_period(PLAN1, coverage_end_date="2025-05-31"),
                                enrollment_period(
                                    PLAN1, start="2025-06-01", rate_area_identifier="099"
                                ),
                            ],
                        ),
                    ),
                    (
                        "F",
                        enrollee(
                            "MEMBERF",
                            [enrollment_period(PLAN1, coverage_start_date=None)] * 2,
                        ),
                    ),
                    ("G", enrollee("MEMBERG", [enrollment_period(PLAN2)])),
                ],
            )
        ],
    )
    s.write(
        "E2", ESES, [(None, [("X", enrollee("MEMBERX", [enrollment_period(PLAN1)], gender="Q"))])]
    )
    s.write(
        "M1",
        ESMCS,
        [
            (
                PLAN1,
                [
                    ("c1", _medical("MC1", a)),
                    ("c2", _medical("MC2", a, codes=("99213", "X9999"))),
                    ("c3", _medical("MC3", b, npi=NPI[:-1] + str((int(NPI[-1]) + 1) % 10))),
                    ("c4", _medical("MC4", a, original="MC1", code="R", processed="2025-03-02T10:00:00")),
                    ("c5", _medical("MC5", a, original="MC2", code="R", processed="2025-03-02T10:00:00")),
                    ("c14", _medical("MC14", "MEMBERD")),
                ],
            ),
            (PLAN2, [("c6", _medical("MC6", "NOBODY"))]),
        ],
    )  # fmt: skip
    s.write(
        "M2",
        ESMCS,
        [
            (
                PLAN1,
                [
                    ("c7", _medical("MC1", a)),
                    ("c8", _medical("MC8", a, original="MC1", code="V", processed="2025-04-01T10:00:00")),
                    ("c9", _medical("MC9", a, original="MC4", code="R", processed="2025-03-01T09:00:00")),
                    ("c10", _medical("MC10", a, original="MC4", code="V", processed="2025-04-01T10:00:00")),
                    ("c11", _medical("MC11", a, original="MC404", code="V", processed="2025-04-01T10:00:00")),
                    ("c15", _medical("MC15", "MEMBERD", original="MC14", code="R", processed="2025-04-01T10:00:00")),
                ],
            ),
            (PLAN2, [("c12", _medical("MC12", "MEMBERG"))]),
        ],
    )  # fmt: skip
    s.write("M3", ESMCS, [(PLAN1, [("c13", _medical("MC13", "NOBODY"))])])
    g = "MEMBERG"
    s.write(
        "P1",
        ESPCS,
        [
            (PLAN1, [("p1", _pharmacy("RX1", a)), ("p4", _pharmacy("RX4", "M" * 60))]),
            (PLAN2, [("p2", _pharmacy("RX2", g)), ("p3", _pharmacy("RX3", g))]),
        ],
        plan_totals={PLAN2: {"claim_detail_total_quantity": lambda n: n + 1}},
    )
    s.write(
        "S1",
        ESSFS,
        [(PLAN1, [("s1", _supplemental("SD1", a)), ("s2", _supplemental("SD2", b))])],
        issuer_totals={"file_detail_total_quantity": lambda n: n + 1},
    )
    s.write(
        "S2",
        ESSFS,
        [(PLAN1, [("s3", _supplemental("SD3", a)), ("s4", _supplemental("SD4", "M" * 60))])],
    )
    s.write("M5", ESMCS, [(PLAN1, [("c1", _medical("MC51", a))])], header={"submission_type": "P"})
    s.write("M6", ESMCS, [(PLAN1, [("c1", _medical("MC61", a))])], truncate=True)
    s.write("E3", ESES, [(None, [("A", enrollee(a, [enrollment_period(PLAN1)]))])], zone="X")
    s.write("M1b", ESMCS, [(PLAN1, [("c1", _medical("MC99", a))])], fid=s.fid["M1"])
    s.write("E4", ESES, [(None, [("A", enrollee(a, [enrollment_period(PLAN1)]))])])
    s.write("M4", ESMCS, [(PLAN1, [("a", _medical("MC41", a)), ("b", _medical("MC42", b))])])
    verify_all(con)
    yield s
    con.close()


def test_enrollee_failure_rejects_its_periods(sc: Scenario) -> None:
    assert sc.status("E1", "C") == ("R", "own_error")
    assert sc.errors("E1", "C") == {"E203"}
    assert sc.status("E1", "C", 1) == ("R", "enrollee_rejected")
    assert sc.status("E1", "C", 2) == ("R", "enrollee_rejected")


def test_period_failure_rejects_only_that_period(sc: Scenario) -> None:
    assert sc.status("E1", "D") == ("A", None)
    assert sc.status("E1", "D", 1) == ("A", None)
    assert sc.status("E1", "D", 2) == ("R", "own_error")
    assert sc.errors("E1", "D", 2) == {"E312"}


def test_all_periods_failed_rejects_the_enrollee(sc: Scenario) -> None:
    assert sc.status("E1", "F") == ("R", "all_children_rejected")
    assert sc.status("E1", "F", 1) == ("R", "own_error")
    assert sc.errors("E1", "F", 2) == {"E113"}
    assert sc.status("E1", "A") == ("A", None)
    assert sc.status("E1", "B", 1) == ("A", None)  # dependent names its subscriber


def test_all_enrollees_failed_rejects_the_issuer_and_replaces_nothing(sc: Scenario) -> None:
    assert sc.status("E2", "X") == ("R", "own_error")
    issuer = sc.con.execute(
        "SELECT status, rejection_reason FROM shadow_record_status "
        "WHERE file_identifier = ? AND level = 'issuer'",
        [sc.fid["E2"]],
    ).fetchall()
    assert issuer == [("R", "all_children_rejected")]
    # M1, loaded after E2, is still judged against E1: A's claim is accepted.
    assert sc.status("M1", "c1") == ("A", None)


def test_line_failure_rejects_the_whole_claim(sc: Scenario) -> None:
    assert sc.status("M1", "c2") == ("R", "claim_rejected")
    assert sc.status("M1", "c2", 1) == ("R", "claim_rejected")
    assert sc.status("M1", "c2", 2) == ("R", "own_error")
    assert sc.errors("M1", "c2", 2) == {"M321"}
    assert sc.errors("M1", "c2") == set()


def test_claim_header_failure_rejects_its_lines(sc: Scenario) -> None:
    assert sc.status("M1", "c3") == ("R", "own_error")
    assert sc.errors("M1", "c3") == {"M214"}
    assert sc.status("M1", "c3", 1) == ("R", "claim_rejected")
    assert sc.status("M1", "c3", 2) == ("R", "claim_rejected")


def test_replacements_within_a_file_follow_the_claim_they_name(sc: Scenario) -> None:
    assert sc.status("M1", "c4") == ("A", None)
    assert sc.status("M1", "c5") == ("R", "own_error")
    assert sc.errors("M1", "c5") == {"M403"}  # MC2 was rejected, so it is not stored


def test_all_claims_of_a_plan_failed_rejects_the_plan(sc: Scenario) -> None:
    assert sc.errors("M1", "c6") == {"M301"}
    assert sc.status("M1", "plan." + PLAN2) == ("R", "all_children_rejected")
    assert sc.status("M1", "plan." + PLAN1) == ("A", None)


def test_all_plans_failed_rejects_the_issuer(sc: Scenario) -> None:
    assert sc.status("M3", "plan." + PLAN1) == ("R", "all_children_rejected")
    issuer = sc.con.execute(
        "SELECT rejection_reason FROM shadow_record_status "
        "WHERE file_identifier = ? AND level = 'issuer'",
        [sc.fid["M3"]],
    ).fetchall()
    assert issuer == [("all_children_rejected",)]


def test_stored_claims_duplicates_voids_and_replacements(sc: Scenario) -> None:
    assert sc.errors("M2", "c7") == {"M401"}  # MC1 already stored
    assert sc.errors("M2", "c8") == {"M405"}  # MC1 was replaced by MC4
    assert sc.errors("M2", "c9") == {"M404"}  # processed before MC4
    assert sc.status("M2", "c10") == ("A", None)  # voids MC4
    assert sc.errors("M2", "c11") == {"M403"}  # names nothing stored
    assert sc.status("M2", "c15") == ("A", None)
    assert sc.status("M2", "c12") == ("A", None)


def test_plan_failure_rejects_its_records(sc: Scenario) -> None:
    assert sc.errors("P1", "plan." + PLAN2) == {"X404"}
    assert sc.status("P1", "p2") == ("R", "plan_rejected")
    assert sc.status("P1", "p3") == ("R", "plan_rejected")
    assert sc.status("P1", "p1") == ("A", None)


def test_essfs_skips_referential_and_logical_checks_of_a_malformed_element(sc: Scenario) -> None:
    # E, M, P: every applicable check runs; the too long id is also unknown.
    assert sc.errors("P1", "p4") == {"P201", "P301"}
    # ESSFS: the face failure skips the referential check of the same element.
    assert sc.errors("S2", "s4") == {"S201"}
    assert sc.status("S2", "s3") == ("A", None)


def test_submission_type_must_match_the_root_and_the_file_must_be_readable(sc: Scenario) -> None:
    rows = sc.con.execute(
        "SELECT f.file_identifier, f.status, e.error_code FROM shadow_file_status f "
        "JOIN shadow_record_error e USING (load_id) WHERE f.file_identifier IN (?, ?) "
        "ORDER BY f.load_id",
        [sc.fid["M5"], sc.fid["M6"]],
    ).fetchall()
    assert rows == [(sc.fid["M5"], "R", "H403"), (sc.fid["M6"], "R", "H207")]


def test_issuer_failure_rejects_every_record(sc: Scenario) -> None:
    rows = sc.con.execute(
        "SELECT level, rejection_reason, count(*) FROM shadow_record_status "
        "WHERE file_identifier = ? GROUP BY ALL ORDER BY ALL",
        [sc.fid["S1"]],
    ).fetchall()
    assert rows == [
        ("issuer", "own_error", 1),
        ("plan", "issuer_rejected", 1),
        ("supplemental", "issuer_rejected", 2),
    ]
    assert {r[0] for r in sc.con.execute(
        "SELECT error_code FROM shadow_record_error WHERE file_identifier = ?", [sc.fid["S1"]]
    ).fetchall()} == {"X402"}  # fmt: skip


def test_header_failure_rejects_the_file(sc: Scenario) -> None:
    status = sc.con.execute(
        "SELECT status FROM shadow_file_status WHERE file_identifier = ?", [sc.fid["E3"]]
    ).fetchall()
    assert status == [("R",)]
    reasons = sc.con.execute(
        "SELECT DISTINCT rejection_reason FROM shadow_record_status WHERE file_identifier = ?",
        [sc.fid["E3"]],
    ).fetchall()
    assert reasons == [("header_rejected",)]
    errors = sc.con.execute(
        "SELECT level, element, error_code FROM shadow_record_error WHERE file_identifier = ?",
        [sc.fid["E3"]],
    ).fetchall()
    assert errors == [("file", "executionZoneCode", "H202")]


def test_reused_file_identifier_is_rejected(sc: Scenario) -> None:
    rows = sc.con.execute(
        "SELECT f.status, e.error_code FROM shadow_file_status f LEFT JOIN "
        "(SELECT load_id, error_code FROM shadow_record_error WHERE level = 'file') e "
        "USING (load_id) WHERE f.file_identifier = ? ORDER BY load_id",
        [sc.fid["M1"]],
    ).fetchall()
    assert rows == [("A", None), ("R", "H401")]


def test_a_later_eses_replaces_the_enrollment(sc: Scenario) -> None:
    assert sc.status("M4", "a") == ("A", None)
    assert sc.errors("M4", "b") == {"M301"}  # B is missing from E4
    members = sc.con.execute(
        "SELECT DISTINCT member_id, typeof(start_date) FROM active_enrollment"
    ).fetchall()
    assert members == [("MEMBERA", "DATE")]


def test_active_claims_resolve_voids_and_replacements(sc: Scenario) -> None:
    active = {
        claim
        for (claim,) in sc.con.execute(
            "SELECT claim_identifier FROM active_medical_claim"
        ).fetchall()
    }
    # MC1 replaced by MC4, MC4 voided by MC10, MC14 replaced by MC15.
    assert active == {"MC12", "MC15", "MC41"}
    typed = sc.con.execute(
        "SELECT typeof(statement_cover_from_date), typeof(policy_paid_total_amount) "
        "FROM active_medical_claim LIMIT 1"
    ).fetchall()
    assert typed == [("DATE", "DECIMAL(18,2)")]
    lines = sc.con.execute("SELECT count(*) FROM active_medical_claim_line").fetchall()[0][0]
    assert lines == 6


def test_conservation_at_every_level(sc: Scenario) -> None:
    bad = sc.con.execute(
        "SELECT * FROM shadow_level_summary WHERE received <> accepted + rejected"
    ).fetchall()
    assert bad == []


def test_reverification_is_idempotent(sc: Scenario) -> None:
    def snapshot() -> list:
        return [
            sc.con.execute(f"SELECT * EXCLUDE (verified_at) FROM {t} ORDER BY ALL").fetchall()
            if t == "shadow_file_status"
            else sc.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in (
                "shadow_file_status",
                "shadow_record_status",
                "shadow_record_error",
                "shadow_level_summary",
            )
        ]

    before = snapshot()
    verify_file(sc.con, sc.fid["M2"])
    verify_all(sc.con)
    assert snapshot() == before
