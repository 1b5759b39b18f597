"""RATEE and the high-cost risk pool on small hand-written files, value by value.

One warehouse for the module: an ESES, two ESMCS (the second voids a claim of the first) and an
ESPCS written with the project's ``SubmissionWriter``, loaded, verified, selected and scored
for benefit year 2025; then the transfer elements and the high-cost risk pool.

* gold plan ``12345NC0010001``, rating area 001: A (two premium periods), family F (subscriber
  and four children under 21: the youngest is not billable) and V (AI/AN variant 03 of the same
  plan, six months) -- one RATEE row for the two variants;
* the same plan, rating area 002: B, 65 (the curve's 64+ factor), from 16 July; no GCF row;
* catastrophic plan: C, in its own pool; small-group silver plan: S, in the small-group pool.
* claims: A has $1,400,000 inpatient + $100,000 pharmacy paid (and a $200,000 claim that is
  voided), B $850,000 + $50,000.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from record_builders import (
    ISSUER,
    YEAR,
    ZONE,
    Groups,
    Record,
    enrollee,
    enrollment_period,
    medical_claim,
    pharmacy_claim,
    service_line,
    write_submission,
)
from transfer_support import verify_and_score

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.layouts import ESES, ESMCS, ESPCS
from edge_pipeline.edge.layouts.model import FileLayout
from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.reference import read_age_curve
from edge_pipeline.edge.transfer import compute_hcrp, compute_transfer_elements
from edge_pipeline.edge.verification import load_reference_tables
from edge_pipeline.edge.warehouse.load import load_file

RUN = ScoringRun(YEAR, ISSUER, ZONE)
GOLD, GOLD_AIAN = "12345NC001000101", "12345NC001000103"
CAT, SHOP = "12345NC001000501", "12345NC002000301"
JAN1 = dt.date(2025, 1, 1)

FAMILY_CHILDREN = {  # member -> birth date: ages 19, 16, 13, 5 on 1 January 2025
    "F_KID1": "2005-03-01",
    "F_KID2": "2008-07-15",
    "F_KID3": "2011-01-20",
    "F_KID4": "2019-09-09",
}
BIRTHS = {
    "A": "1980-05-05",
    "F_SUB": "1975-04-04",
    **FAMILY_CHILDREN,
    "V": "2010-03-03",
    "B": "1960-01-01",
    "C": "1998-02-02",
    "S": "1990-06-15",
}


def _registry(folder: Path) -> Path:
    path = folder / "registry.csv"
    path.write_text(
        "insurance_plan_identifier,issuer_identifier,state,market,metal,csr_variant,"
        "rating_areas,effective_start_year,effective_end_year\n"
        f"{GOLD},{ISSUER},NC,individual,gold,01,001;002,2025,2025\n"
        f"{GOLD_AIAN},{ISSUER},NC,individual,gold,03,001;002,2025,2025\n"
        f"{CAT},{ISSUER},NC,individual,catastrophic,01,001,2025,2025\n"
        f"{SHOP},{ISSUER},NC,small group,silver,01,001,2025,2025\n",
        encoding="utf-8",
    )
    (folder / "code_list_icd10cm.csv").write_text("code\nJ069\nE119\n", encoding="utf-8")
    return path


def _enrollee(member: str, periods: list[Record]) -> Record:
    return enrollee(member, periods, BIRTHS[member])


def _enrollment() -> Groups:
    return [
        (
            None,
            [
                _enrollee(
                    "A",
                    [
                        enrollment_period(GOLD, "2025-01-01", "2025-03-31", premium="500.00"),
                        enrollment_period(GOLD, "2025-04-01", "2025-12-31", premium="550.00"),
                    ],
                ),
                _enrollee("F_SUB", [enrollment_period(GOLD, premium="1800.00")]),
                *(
                    _enrollee(kid, [enrollment_period(GOLD, subscriber="F_SUB")])
                    for kid in FAMILY_CHILDREN
                ),
                _enrollee(
                    "V",
                    [enrollment_period(GOLD_AIAN, "2025-01-01", "2025-06-30", premium="300.00")],
                ),
                _enrollee(
                    "B", [enrollment_period(GOLD, "2025-07-16", premium="900.00", area="002")]
                ),
                _enrollee("C", [enrollment_period(CAT, premium="250.00")]),
                _enrollee("S", [enrollment_period(SHOP, premium="400.00")]),
            ],
        )
    ]


def _medical(
    claim: str,
    member: str,
    paid: int,
    *,
    original: str = "",
    code: str = "",
    processed: str,
    month: str = "02",
) -> Record:
    """An inpatient stay of 2-5 ``month`` paid ``paid`` dollars (two lines)."""
    start, end = f"2025-{month}-02", f"2025-{month}-05"
    halves = (paid - paid // 2, paid // 2)
    lines = [
        service_line(
            i + 1, start, end, allowed=f"{amount}.00", paid=f"{amount}.00", revenue_code=revenue
        )
        for i, (revenue, amount) in enumerate(zip(("0200", "0250"), halves, strict=True))
    ]
    return medical_claim(
        claim,
        member,
        lines,
        start=start,
        end=end,
        processed=processed,
        bill_type="111" if not code else "118",
        discharge="01",
        original=original,
        code=code,
    )


def _pharmacy(claim: str, member: str, paid: int, fill: str = "2025-03-01") -> Record:
    return pharmacy_claim(claim, member, fill=fill, allowed=f"{paid}.00", paid=f"{paid}.00")


def _write(
    root: Path,
    con: duckdb.DuckDBPyConnection,
    number: int,
    layout: FileLayout,
    groups: Groups,
) -> None:
    path = root / f"{number:02d}.xml"
    write_submission(path, layout, number, groups)
    load_file(con, path)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("transfer_rules")
    connection = connect(root / "warehouse.duckdb")
    load_reference_tables(connection, _registry(root), [root])
    _write(root, connection, 1, ESES, _enrollment())
    _write(
        root, connection, 2, ESMCS,
        [(GOLD, [
            _medical("MC_A", "A", 1_400_000, processed="2025-03-01T10:00:00"),
            _medical("MC_A_VOIDME", "A", 200_000, processed="2025-03-02T10:00:00"),
            _medical("MC_B", "B", 850_000, processed="2025-09-01T10:00:00", month="08"),
        ])],
    )  # fmt: skip
    _write(
        root, connection, 3, ESPCS,
        [(GOLD, [_pharmacy("RX_A", "A", 100_000), _pharmacy("RX_B", "B", 50_000, "2025-08-10")])],
    )  # fmt: skip
    _write(
        root, connection, 4, ESMCS,
        [(GOLD, [
            _medical("MC_A_VOID", "A", 200_000, original="MC_A_VOIDME", code="V",
                     processed="2025-05-01T10:00:00"),
        ])],
    )  # fmt: skip
    verify_and_score(connection, ISSUER, ZONE)
    gcf = root / "gcf.csv"
    gcf.write_text("state,rating_area,gcf\nnc,1,1.05\nSC,002,1.30\n", encoding="utf-8")
    compute_transfer_elements(connection, RUN, gcf_path=gcf)
    compute_hcrp(connection, RUN)
    yield connection
    connection.close()


def _ratee(con: duckdb.DuckDBPyConnection, plan: str, area: str) -> dict[str, Any]:
    result = con.execute(
        "SELECT * FROM shadow_ratee WHERE benefit_year = ? AND issuer_id = ? "
        "AND execution_zone = ? AND plan_id = ? AND rating_area = ?",
        [*RUN.params, plan, area],
    )
    names = [d[0] for d in result.description]
    rows = result.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0], strict=True))


def _factor(member: str) -> Decimal:
    """The federal curve's factor for the member's age on 1 January 2025, clipped to 64."""
    birth = dt.date.fromisoformat(BIRTHS[member])
    age = JAN1.year - birth.year - ((JAN1.month, JAN1.day) < (birth.month, birth.day))
    curve = read_age_curve()
    return Decimal(str(curve[min(age, max(curve))]))


def test_fixture_files_were_accepted(con: duckdb.DuckDBPyConnection) -> None:
    rejected = con.execute(
        "SELECT file_identifier, level, record_identifier FROM shadow_record_status "
        "WHERE status <> 'A'"
    ).fetchall()
    errors = con.execute("SELECT DISTINCT error_code FROM shadow_record_error").fetchall()
    assert rejected == [], errors


def test_one_row_per_plan_rating_area_and_pool(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT state, risk_pool, plan_id, rating_area, metal FROM shadow_ratee "
        "WHERE benefit_year = ? AND issuer_id = ? AND execution_zone = ? ORDER BY ALL",
        RUN.params,
    ).fetchall()
    assert (
        rows
        == [
            ("NC", "catastrophic", CAT[:14], "001", "catastrophic"),
            ("NC", "individual", GOLD[:14], "001", "gold"),  # variants 01 and 03 together
            ("NC", "individual", GOLD[:14], "002", "gold"),
            ("NC", "small_group", SHOP[:14], "001", "silver"),
        ]
    )


def test_fourth_child_counts_in_member_months_but_is_not_billable(
    con: duckdb.DuckDBPyConnection,
) -> None:
    row = _ratee(con, GOLD[:14], "001")
    # A 12, F_SUB 12, four children 48, V 6 member months; the youngest child is not billed
    assert row["enrollees"] == 7
    assert row["member_months"] == Decimal("78")
    assert row["billable_member_months"] == Decimal("66")


def test_arf_from_the_age_curve(con: duckdb.DuckDBPyConnection) -> None:
    gold = _ratee(con, GOLD[:14], "001")
    billed = {"A": 12, "F_SUB": 12, "F_KID1": 12, "F_KID2": 12, "F_KID3": 12, "V": 6}
    expected = sum(_factor(m) * n for m, n in billed.items()) / 66
    assert gold["arf"] == expected.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    assert _factor("F_KID3") == _factor("V") == Decimal("0.765")  # 0-14 share one factor
    assert _ratee(con, GOLD[:14], "002")["arf"] == Decimal("3.000")  # 65: the 64+ factor
    assert _ratee(con, CAT[:14], "001")["arf"] == _factor("C")


def test_av_idf_by_metal_and_gcf_from_the_file_or_one(con: duckdb.DuckDBPyConnection) -> None:
    gold, gold_002 = _ratee(con, GOLD[:14], "001"), _ratee(con, GOLD[:14], "002")
    assert (gold["av"], gold["idf"]) == (Decimal("0.800"), Decimal("1.080"))
    assert gold["gcf"] == Decimal("1.0500")  # "nc,1" in the file means NC, 001
    assert gold_002["gcf"] == Decimal("1.0000")  # only SC 002 is listed: default 1.0
    cat = _ratee(con, CAT[:14], "001")
    assert (cat["av"], cat["idf"]) == (Decimal("0.570"), Decimal("1.000"))


def test_premium_pmpm_from_subscriber_periods(con: duckdb.DuckDBPyConnection) -> None:
    # A: 500 x 3 + 550 x 9; F_SUB 1800 x 12 (the children's periods carry 0); V 300 x 6
    assert _ratee(con, GOLD[:14], "001")["premium_pmpm"] == (
        (Decimal(500 * 3 + 550 * 9 + 1800 * 12 + 300 * 6)) / 66
    ).quantize(Decimal("0.01"))
    # B from 16 July: 16/31 of July plus five months, premium and billable months alike
    b = _ratee(con, GOLD[:14], "002")
    assert b["billable_member_months"] == Decimal("5.5161")
    assert b["premium_pmpm"] == Decimal("900.00")
    assert _ratee(con, CAT[:14], "001")["premium_pmpm"] == Decimal("250.00")
    assert _ratee(con, SHOP[:14], "001")["premium_pmpm"] == Decimal("400.00")


def test_plrs_is_the_billable_weighted_csr_adjusted_score(
    con: duckdb.DuckDBPyConnection,
) -> None:
    scores = con.execute(
        "SELECT member_id, score_csr_adjusted, billable_member_months FROM shadow_risk_score "
        "WHERE benefit_year = ? AND issuer_id = ? AND execution_zone = ? AND rating_area = '001'"
        " AND plan_id IN (?, ?)",
        [*RUN.params, GOLD, GOLD_AIAN],
    ).fetchall()
    assert len(scores) == 7
    expected = sum(s * b for _, s, b in scores) / sum(b for _, _, b in scores)
    assert abs(_ratee(con, GOLD[:14], "001")["plrs"] - expected) <= Decimal("0.0005")


def test_rerun_replaces_the_run_rows(con: duckdb.DuckDBPyConnection) -> None:
    before = con.execute("SELECT count(*) FROM shadow_ratee").fetchall()
    assert compute_transfer_elements(con, RUN, gcf_path=None) == 4
    assert con.execute("SELECT count(*) FROM shadow_ratee").fetchall() == before
    assert _ratee(con, GOLD[:14], "001")["gcf"] == Decimal("1.0000")  # no file: all 1.0


def test_high_cost_risk_pool(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT member_id, plan_id, paid_claims, hcrp_payment FROM shadow_hcrp_enrollee "
        "WHERE benefit_year = ? AND issuer_id = ? AND execution_zone = ?",
        RUN.params,
    ).fetchall()
    # A: 1,400,000 + 100,000 (the voided 200,000 does not count) -> 60 % of 500,000
    # B: 850,000 + 50,000 = 900,000 -> below the threshold, no row
    assert rows == [("A", GOLD[:14], Decimal("1500000.00"), Decimal("300000.00"))]
