"""Value checks on small hand-written files: code sets (E220, M219, M234, M235), the premium of
subscribers and dependents (E417, E418) and supplemental service dates inside the enrollment
(S410).

One warehouse per module, loaded and verified in this order:

1. ``E1`` ESES: subscriber A (two contiguous periods in plan 1), dependents B (clean), D
   (premium on a dependent), F (negative premium); subscribers C (premium 0), G (maintenance
   code outside the 834 set), H (maintenance code of 5 digits), I (termination for non payment,
   valid), J (both subscriber elements populated and premium 0).
2. ``M1`` ESMCS, plan 1: professional claims with assigned, unassigned and malformed places of
   service; institutional claims with valid and invalid discharge statuses and revenue codes.
3. ``S1`` ESSFS: plan 1 records of A spanning its two periods, after its coverage, ending after
   its coverage, of an unknown enrollee and with a malformed date; a plan 2 record of B, who is
   covered in plan 1 only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from record_builders import (
    ISSUER,
    Record,
    enrollee,
    enrollment_period,
    file_identifier,
    medical_claim,
    service_line,
    submission_header,
    supplemental_record,
    write_records,
)

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.code_sets import (
    CODE_SETS,
    DISCHARGE_STATUS_CODES,
    MAINTENANCE_TYPE_CODES,
    PLACE_OF_SERVICE_CODES,
    REVENUE_CODES,
    CodeSet,
)
from edge_pipeline.edge.layouts import ESES, ESMCS, ESSFS
from edge_pipeline.edge.layouts.model import FileLayout
from edge_pipeline.edge.synth import claims as synth_claims
from edge_pipeline.edge.synth import inject_claims, inject_enrollment, population
from edge_pipeline.edge.verification import load_reference_tables, verify_all
from edge_pipeline.edge.verification.rules import bad_code
from edge_pipeline.edge.warehouse.load import load_file

PLAN1, PLAN2 = "12345NC001000101", "12345NC001000201"
A = "MEMBERA"
START, END = "2025-02-01", "2025-02-03"  # the service dates of every claim


# -- the code sets as data ----------------------------------------------------------------------


@pytest.mark.parametrize("code_set", CODE_SETS, ids=lambda c: c.element)
def test_the_sql_check_agrees_with_the_code_set(code_set: CodeSet) -> None:
    """Every code of the element's width (6-digit codes: around each listed code) is judged by
    the SQL predicate exactly as by the set; other formats are left to the format check."""
    width = code_set.width
    if width <= 4:
        candidates = [f"{n:0{width}d}" for n in range(10**width)]
    else:
        numbers = {int(c) + d for c in code_set.codes for d in (-1, 0, 1)}
        candidates = [f"{n:0{width}d}" for n in sorted(numbers) if 0 <= n < 10**width]
    candidates += ["", "1" * (width + 1), "A" * width, None]
    fails = duckdb.execute(
        f"SELECT list_transform(?, lambda x: coalesce({bad_code('x', code_set)}, FALSE))",
        [candidates],
    ).fetchall()[0][0]
    expected = [
        c is not None and len(c) == width and c.isdigit() and c not in code_set for c in candidates
    ]
    assert fails == expected


def test_the_code_sets_hold_the_spec_and_standard_codes() -> None:
    assert {"021028", "021041", "024059", "001025", "025041"} <= MAINTENANCE_TYPE_CODES.codes
    assert "028021" not in MAINTENANCE_TYPE_CODES
    assert {"01", "09", "21", "43", "66", "70", "95"} <= DISCHARGE_STATUS_CODES.codes
    assert not {"00", "08", "10", "71", "72", "96"} & DISCHARGE_STATUS_CODES.codes
    assert {"0001", "0100", "0450", "0999", "1001", "2101", "3109"} <= REVENUE_CODES.codes
    assert not {"0000", "0009", "0099", "1010", "4000"} & REVENUE_CODES.codes
    assert {"01", "10", "11", "27", "58", "66", "81", "99"} <= PLACE_OF_SERVICE_CODES.codes
    assert not {"00", "28", "30", "40", "59", "64", "82", "98"} & PLACE_OF_SERVICE_CODES.codes


def test_every_code_the_generator_writes_is_in_the_code_sets() -> None:
    """Clean synthetic records never fail a code-set check; injected values always do."""
    assert {population.NEW_ENROLLMENT, population.RENEWAL} <= MAINTENANCE_TYPE_CODES.codes
    assert {c for c, _ in synth_claims.DISCHARGE_STATUSES} <= DISCHARGE_STATUS_CODES.codes
    assert {c for c, _ in synth_claims.PLACES_OF_SERVICE} <= PLACE_OF_SERVICE_CODES.codes
    for code_set, bad in (
        (MAINTENANCE_TYPE_CODES, inject_enrollment.BAD_MAINTENANCE_CODE),
        (DISCHARGE_STATUS_CODES, inject_claims.BAD_DISCHARGE_STATUS),
        (REVENUE_CODES, inject_claims.BAD_REVENUE_CODE),
        (PLACE_OF_SERVICE_CODES, inject_claims.BAD_PLACE_OF_SERVICE),
    ):
        assert len(bad) == code_set.width and bad.isdigit() and bad not in code_set


# -- scenario -----------------------------------------------------------------------------------


def _registry(path: Path) -> Path:
    path.write_text(
        "insurance_plan_identifier,issuer_identifier,rating_areas,effective_start_year,"
        f"effective_end_year\n{PLAN1},{ISSUER},001,2024,2025\n{PLAN2},{ISSUER},001,2024,2025\n",
        encoding="utf-8",
    )
    return path


def _period(subscriber: str = "", **values: Any) -> Record:
    return enrollment_period(PLAN1, subscriber=subscriber, **values)


def _enrollee(member: str, *periods: Record) -> Record:
    return enrollee(member, list(periods))


def _claim(claim: str, lines: list[dict[str, Any]], **header: Any) -> Record:
    """A's claim of ``START`` to ``END`` with one service line of those dates per ``lines``
    item (its codes), processed 2025-03-01 and paid 2025-03-05."""
    return medical_claim(
        claim,
        A,
        [service_line(i + 1, START, END, **line) for i, line in enumerate(lines)],
        start=START,
        end=END,
        processed="2025-03-01T10:00:00",
        paid_on="2025-03-05",
        diagnoses=("J069",),
        **header,
    )


def _professional(claim: str, *places: str) -> Record:
    lines = [
        {"service_type_code": "HC", "service_code": "99213", "service_facility_type_code": pos}
        for pos in places
    ]
    return _claim(claim, lines)


def _institutional(claim: str, discharge: str, *revenue: str) -> Record:
    lines = [{"revenue_code": code} for code in revenue]
    return _claim(claim, lines, bill_type="111", discharge=discharge)


def _supplemental(detail: str, start: str, end: str, member: str = A) -> Record:
    return supplemental_record(detail, member, "MC1", start=start, end=end)


class Scenario:
    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.root, self.con = root, con
        self.rid: dict[str, int] = {}
        self.fid: dict[str, str] = {}

    def write(
        self, name: str, layout: FileLayout, groups: list[tuple[str | None, dict[str, dict]]]
    ) -> None:
        fid = file_identifier(layout, len(self.fid) + 1)
        path = self.root / f"{name}.xml"
        keyed = [(plan, list(items.items())) for plan, items in groups]
        record_ids = write_records(path, layout, submission_header(layout, fid), keyed)
        self.rid.update({f"{name}.{key}": rid for key, rid in record_ids.items()})
        self.fid[name] = fid
        load_file(self.con, path)

    def errors(self, name: str, key: str, offset: int = 0) -> set[str]:
        rows = self.con.execute(
            "SELECT error_code FROM shadow_record_error WHERE file_identifier = ? "
            "AND record_identifier = ?",
            [self.fid[name], self.rid[f"{name}.{key}"] + offset],
        ).fetchall()
        return {code for (code,) in rows}

    def status(self, name: str, key: str, offset: int = 0) -> str:
        return self.con.execute(
            "SELECT status FROM shadow_record_status WHERE file_identifier = ? "
            "AND record_identifier = ?",
            [self.fid[name], self.rid[f"{name}.{key}"] + offset],
        ).fetchall()[0][0]


@pytest.fixture(scope="module")
def sc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("value_checks")
    con = connect(root / "warehouse.duckdb")
    load_reference_tables(con, _registry(root / "registry.csv"))
    s = Scenario(root, con)
    first_half = {"coverage_end_date": "2025-06-30"}
    second_half = {
        "coverage_start_date": "2025-07-01",
        "enrollment_maintenance_type_code": "021041",
    }
    s.write(
        "E1",
        ESES,
        [
            (
                None,
                {
                    "A": _enrollee(A, _period(**first_half), _period(**second_half)),
                    "B": _enrollee("MEMBERB", _period(A)),
                    "C": _enrollee("MEMBERC", _period(insurance_plan_premium_amount="0")),
                    "D": _enrollee("MEMBERD", _period(A, insurance_plan_premium_amount="25.00")),
                    "F": _enrollee("MEMBERF", _period(A, insurance_plan_premium_amount="-5.00")),
                    "G": _enrollee("MEMBERG", _period(enrollment_maintenance_type_code="028021")),
                    "H": _enrollee("MEMBERH", _period(enrollment_maintenance_type_code="02102")),
                    "I": _enrollee("MEMBERI", _period(enrollment_maintenance_type_code="024059")),
                    "J": _enrollee(
                        "MEMBERJ",
                        _period(subscriber_identifier=A, insurance_plan_premium_amount="0.00"),
                    ),
                },
            )
        ],
    )
    s.write(
        "M1",
        ESMCS,
        [
            (
                PLAN1,
                {
                    "p1": _professional("MC1", "11", "27", "66"),
                    "p2": _professional("MC2", "11", "98"),
                    "p3": _professional("MC3", "9X"),
                    "i1": _institutional("MC4", "21", "0120", "1001", "0001"),
                    "i2": _institutional("MC5", "08", "0120"),
                    "i3": _institutional("MC6", "01", "0120", "0009"),
                    "i4": _institutional("MC7", "1", "012"),
                },
            )
        ],
    )
    s.write(
        "S1",
        ESSFS,
        [
            (
                PLAN1,
                {
                    "s1": _supplemental("SD1", "2025-06-30", "2025-07-01"),
                    "s2": _supplemental("SD2", "2026-02-01", "2026-02-01"),
                    "s3": _supplemental("SD3", "2025-12-31", "2026-01-05"),
                    "s4": _supplemental("SD4", "2025-03-01", "2025-03-01", member="NOBODY"),
                    "s5": _supplemental("SD5", "02/01/2025", "2025-02-01"),
                    "s6": _supplemental("SD6", "2025-03-01", "2025-03-01", member="MEMBERB"),
                },
            ),
            (PLAN2, {"s7": _supplemental("SD7", "2025-03-01", "2025-03-01", member="MEMBERB")}),
        ],
    )
    verify_all(con)
    yield s
    con.close()


def test_premium_sits_on_the_subscribers_period_only(sc: Scenario) -> None:
    assert sc.errors("E1", "A", 1) == set() and sc.errors("E1", "A", 2) == set()
    assert sc.errors("E1", "B", 1) == set()
    assert sc.errors("E1", "C", 1) == {"E417"}
    assert sc.errors("E1", "D", 1) == {"E418"}
    assert sc.errors("E1", "F", 1) == {"E415"}  # negative: not also "greater than 0"
    assert sc.errors("E1", "J", 1) == {
        "E118"
    }  # required (situational): which one is wrong is unknown
    assert (sc.status("E1", "C"), sc.status("E1", "C", 1)) == ("R", "R")


def test_maintenance_code_must_be_in_the_834_set(sc: Scenario) -> None:
    assert sc.errors("E1", "G", 1) == {"E220"}
    assert sc.errors("E1", "H", 1) == {"E216"}  # malformed: the format check only
    assert sc.errors("E1", "I", 1) == set()
    assert sc.status("E1", "A", 2) == "A"  # 021041 renewal


def test_place_of_service_must_be_a_cms_code(sc: Scenario) -> None:
    assert [sc.errors("M1", "p1", n) for n in range(4)] == [set()] * 4
    assert sc.errors("M1", "p2", 2) == {"M235"}
    assert sc.status("M1", "p2") == "R" and sc.status("M1", "p2", 1) == "R"
    assert sc.errors("M1", "p3", 1) == {"M228"}


def test_discharge_status_and_revenue_codes_must_be_nubc_codes(sc: Scenario) -> None:
    assert [sc.errors("M1", "i1", n) for n in range(4)] == [set()] * 4
    assert sc.status("M1", "i1") == "A"
    assert sc.errors("M1", "i2") == {"M219"}  # 08 was deleted by the NUBC
    assert sc.errors("M1", "i3", 2) == {"M234"}
    assert sc.status("M1", "i3") == "R"
    assert sc.errors("M1", "i4") == {"M210"}
    assert sc.errors("M1", "i4", 1) == {"M224"}


def test_supplemental_dates_must_be_covered_in_the_records_plan(sc: Scenario) -> None:
    assert sc.errors("S1", "s1") == set()  # spans two contiguous periods
    assert sc.status("S1", "s1") == "A"
    assert sc.errors("S1", "s2") == {"S410"}
    assert sc.errors("S1", "s3") == {"S410"}  # the to date is after the coverage
    assert sc.errors("S1", "s4") == {"S301"}  # unknown enrollee: not also S410
    assert sc.errors("S1", "s5") == {"S207"}
    assert sc.errors("S1", "s6") == set()
    assert sc.errors("S1", "s7") == {"S410"}  # B is covered in plan 1 only
