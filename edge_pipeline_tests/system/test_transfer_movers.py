"""Movers in the RATEE-vs-RARSD reconciliation (issue 13 items 2 and 5).

A synthetic issuer (seed 1, 150 enrollees) whose generator moves a few families to another
rating area of their plan mid-year, through the real CLI: ``synth``, ``validate``, ``score`` and
``load-outbound``.  RATEE puts a mover's months in the area of each period, RARSD one area per
enrollee, so the reconciliation compares months per plan (within the 4-place rounding of the
enrollees and rows) and PLRS per plan for the plans with a mover: the faithful reports pass, a
RATEE with one BMM tampered fails on that plan.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from cli_support import cli_ok as _cli
from phase2_support import xsd_errors
from quality_support import bump_ratee, resend

from edge_pipeline.edge.outbound import load_outbound_file
from edge_pipeline.edge.quality import check_transfer_elements
from edge_pipeline.edge.quality.transfer_checks import plans_frame, ratee_frame
from edge_pipeline.edge.ra_runs.runs import ScoringRun, scoring_runs

YEAR = 2025
BETWEEN = "expect_column_values_to_be_between"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(warehouse, the RA outbox folder) of the scored and reloaded synthetic issuer."""
    root = tmp_path_factory.mktemp("movers")
    warehouse = root / "w.duckdb"
    _cli("synth", "--out", str(root / "in"), "--enrollees", "150", "--seed", "1")
    _cli("validate", str(root / "in"), "--warehouse", str(warehouse), "--out", str(root / "p1"))
    _cli(
        "score", "--warehouse", str(warehouse), "--benefit-year", str(YEAR),
        "--out", str(root / "ra"),
        "--market-pool", str(root / "in" / "market_pool.csv"),
        "--gcf", str(root / "in" / "gcf.csv"),
    )  # fmt: skip
    (ra,) = [p for p in (root / "ra").iterdir() if p.is_dir()]
    _cli("load-outbound", str(root / "p1"), str(ra), "--warehouse", str(warehouse))
    return warehouse, ra


@pytest.fixture
def con(built: tuple[Path, Path], tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    copy = tmp_path / "w.duckdb"
    shutil.copy(built[0], copy)
    connection = duckdb.connect(str(copy))
    yield connection
    connection.close()


def _run(con: duckdb.DuckDBPyConnection) -> ScoringRun:
    (run,) = scoring_runs(con, YEAR)
    return run


def _mover_keys(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    """RATEE keys of the plans with an enrollee in two rating areas."""
    return con.execute(
        """
        SELECT state, risk_pool, plan_id, rating_area FROM reported_ratee
        WHERE plan_id IN (SELECT left(plan_id, 14) FROM ra_enrollee_month
                          GROUP BY member_id, left(plan_id, 14)
                          HAVING count(DISTINCT rating_area) > 1)
        ORDER BY ALL
        """
    ).fetchall()


def test_the_synthetic_issuer_has_movers_and_its_reports_reconcile(
    con: duckdb.DuckDBPyConnection,
) -> None:
    keys = _mover_keys(con)
    assert len({k[2] for k in keys}) >= 1 and len(keys) >= 2  # a plan in two areas at least
    run = _run(con)
    check = check_transfer_elements(con, run)
    assert check.success, [(f.frame, f.column, f.unexpected_rows[:3]) for f in check.outcome.failed]
    plans = plans_frame(con, run)
    moved = plans[plans["movers"]]
    assert set(moved["plan_id"]) == {k[2] for k in keys}
    assert moved["plrs_difference"].notna().all()  # their PLRS compared per plan
    # per rating area only the plans without a mover (RARSD has a mover in one area only)
    assert not set(ratee_frame(con, run)["plan_id"]) & set(moved["plan_id"])
    # RATEE rounds each row once, RARSD each enrollee: months agree within that rounding
    assert (
        (moved["ratee_billable_member_months"] - moved["rarsd_billable_member_months"])
        .abs()
        .le(moved["months_tolerance"])
        .all()
    )


@pytest.mark.parametrize("delta", [Decimal(1), Decimal("-0.01")], ids=["+1", "-0.01"])
def test_a_tampered_bmm_of_a_mover_plan_fails(
    built: tuple[Path, Path], con: duckdb.DuckDBPyConnection, tmp_path: Path, delta: Decimal
) -> None:
    key = _mover_keys(con)[0]
    (original,) = built[1].glob("*.TE.*.xml")
    resent = resend(original, tmp_path / "outbox", bump_ratee(key, "billableMemberMonths", delta))
    assert xsd_errors(resent.path) == []
    assert load_outbound_file(con, resent.path).status == "loaded"
    check = check_transfer_elements(con, _run(con))
    assert not check.success
    failed = {(f.frame, f.expectation_type, f.column): f for f in check.outcome.failed}
    (row,) = failed["plans", BETWEEN, "billable_member_months_excess"].unexpected_rows
    assert (row["state"], row["risk_pool"], row["plan_id"], row["movers"]) == (*key[:3], True)
    assert row["billable_member_months_excess"] > 0
