"""RATEE, the high-cost risk pool and the transfer estimate over a synthetic issuer, through the
real pipeline: generated files ingested, verified, selected and scored, then the transfer steps
with the generator's ``gcf.csv`` and ``market_pool.csv``.  Every expectation is recomputed
here from the tables the steps read, not from the code under test."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from transfer_support import run_to_transfer

from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.synth import generate_issuer
from edge_pipeline.edge.transfer import (
    TransferEstimate,
    TransferInputError,
    estimate_transfers,
)

ENROLLEES, SEED, YEAR = 400, 5, 2025
RUN_SQL = "benefit_year = ? AND issuer_id = ? AND execution_zone = ?"


@dataclass
class Built:
    con: duckdb.DuckDBPyConnection
    run: ScoringRun
    issuer: Path
    estimate: TransferEstimate


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    folder = tmp_path_factory.mktemp("transfer_synth")
    issuer = folder / "issuer"
    manifest = generate_issuer(issuer, enrollees=ENROLLEES, seed=SEED)
    con, run, estimate = run_to_transfer(issuer, manifest, folder / "warehouse.duckdb")
    yield Built(con, run, issuer, estimate)
    con.close()


def _rows(b: Built, sql: str, *params: object) -> list[tuple]:
    return b.con.execute(sql, [*b.run.params, *params]).fetchall()


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_one_ratee_row_per_plan_rating_area_and_pool(built: Built) -> None:
    keys = _rows(built, f"SELECT plan_id, rating_area, risk_pool FROM shadow_ratee WHERE {RUN_SQL}")
    assert len(keys) == len(set(keys)) > 5
    scored = _rows(
        built,
        f"SELECT DISTINCT left(plan_id, 14), rating_area FROM shadow_risk_score WHERE {RUN_SQL}",
    )
    assert sorted((p, a) for p, a, _ in keys) == sorted(scored)
    assert all(len(p) == 14 for p, _, _ in keys)


def test_member_months_add_up_to_the_scored_enrollees(built: Built) -> None:
    (ratee,) = _rows(
        built,
        "SELECT sum(billable_member_months), sum(member_months), sum(enrollees) "
        f"FROM shadow_ratee WHERE {RUN_SQL}",
    )
    (scored,) = _rows(
        built,
        "SELECT sum(billable_member_months), count(DISTINCT (member_id, left(plan_id, 14))) "
        f"FROM shadow_risk_score WHERE {RUN_SQL}",
    )
    (months,) = _rows(built, f"SELECT sum(member_months) FROM ra_enrollee WHERE {RUN_SQL}")
    assert ratee[0] == scored[0]
    assert ratee[1] == months[0]
    assert ratee[2] == scored[1]
    assert ratee[1] > ratee[0]  # families with a fourth child under 21


def test_plrs_recomputed_from_the_scores(built: Built) -> None:
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for plan, area, score, bmm in _rows(
        built,
        "SELECT plan_id, rating_area, score_csr_adjusted, billable_member_months "
        f"FROM shadow_risk_score WHERE {RUN_SQL}",
    ):
        sums[plan[:14], area][0] += score * bmm
        sums[plan[:14], area][1] += bmm
    ratee = _rows(built, f"SELECT plan_id, rating_area, plrs FROM shadow_ratee WHERE {RUN_SQL}")
    for plan, area, plrs in ratee:
        weighted, bmm = sums[plan, area]
        assert abs(plrs - weighted / bmm) <= Decimal("0.0005"), (plan, area)


def test_catastrophic_plans_form_their_own_pool(built: Built) -> None:
    pools = _rows(
        built, f"SELECT DISTINCT metal, risk_pool FROM shadow_ratee WHERE {RUN_SQL} ORDER BY ALL"
    )
    assert ("catastrophic", "catastrophic") in pools
    assert all((metal == "catastrophic") == (pool == "catastrophic") for metal, pool in pools)
    assert {pool for _, pool in pools} == {"catastrophic", "individual"}


def test_gcf_from_the_generated_file(built: Built) -> None:
    expected = {row["rating_area"]: Decimal(row["gcf"]) for row in _csv(built.issuer / "gcf.csv")}
    assert any(v != 1 for v in expected.values())
    for area, gcf in _rows(
        built, f"SELECT DISTINCT rating_area, gcf FROM shadow_ratee WHERE {RUN_SQL}"
    ):
        assert gcf == expected[area]


def test_estimate_pools_sum_to_zero(built: Built) -> None:
    totals = _rows(
        built,
        "SELECT state, risk_pool, sum(transfer_total), count(*) FILTER (WHERE source = 'market'),"
        f" sum(share) FROM transfer_estimate WHERE {RUN_SQL} GROUP BY ALL ORDER BY ALL",
    )
    assert [(s, p) for s, p, *_ in totals] == [("NC", "catastrophic"), ("NC", "individual")]
    for _, _, total, market, share in totals:
        assert total == Decimal("0.00")
        assert market > 0
        assert abs(share - 1) < Decimal("1e-9")
    assert all(p.transfer_sum == 0 for p in built.estimate.pools)
    (stored,) = _rows(built, f"SELECT count(*) FROM transfer_estimate WHERE {RUN_SQL}")
    assert built.estimate.rows == stored[0]


def test_market_rows_are_the_files_rows_of_the_issuers_pools(built: Built) -> None:
    market = _csv(built.issuer / "market_pool.csv")
    stored = _rows(
        built,
        "SELECT risk_pool, plan_id, billable_member_months, plrs, premium_pmpm "
        f"FROM transfer_estimate WHERE {RUN_SQL} AND source = 'market' ORDER BY ALL",
    )
    assert stored == sorted(
        (
            r["risk_pool"],
            r["plan_id"],
            Decimal(r["billable_member_months"]),
            Decimal(r["plrs"]),
            Decimal(r["premium_pmpm"]),
        )
        for r in market
    )


def test_issuer_rows_carry_user_fee_and_hcrp(built: Built) -> None:
    # one estimate row per RATEE row: plan x rating area (REGTAP FAQ 8487)
    issuer = _rows(
        built,
        "SELECT plan_id || '/' || rating_area, billable_member_months, user_fee, hcrp_payment "
        f"FROM transfer_estimate WHERE {RUN_SQL} AND source = 'issuer'",
    )
    ratee = dict(
        _rows(
            built,
            "SELECT plan_id || '/' || rating_area, billable_member_months FROM shadow_ratee "
            f"WHERE {RUN_SQL}",
        )
    )
    assert len(issuer) == len(ratee)
    assert {p for p, *_ in issuer} == set(ratee)
    for plan, bmm, fee, _ in issuer:
        assert bmm == ratee[plan]
        assert fee == (Decimal("0.20") * bmm).quantize(Decimal("0.01"))  # BY2025: $0.20 PMPM
    assert built.estimate.user_fee_pmpm == Decimal("0.20")

    # the generator gives some enrollee more than $1M of paid claims
    hcrp = _rows(
        built,
        f"SELECT plan_id, paid_claims, hcrp_payment FROM shadow_hcrp_enrollee WHERE {RUN_SQL}",
    )
    assert hcrp
    for _, paid, payment in hcrp:
        assert paid > 1_000_000
        assert payment == (Decimal("0.6") * (paid - 1_000_000)).quantize(Decimal("0.01"))
    by_plan: dict[str, Decimal] = defaultdict(Decimal)
    for plan, _, payment in hcrp:
        by_plan[plan] += payment
    issuer_hcrp: dict[str, Decimal] = defaultdict(Decimal)
    for row, _, _, payment in issuer:
        if payment:
            issuer_hcrp[row.split("/")[0]] += payment
    assert dict(issuer_hcrp) == dict(by_plan)
    market_extras = _rows(
        built,
        "SELECT count(*) FROM transfer_estimate WHERE "
        f"{RUN_SQL} AND source = 'market' AND (user_fee IS NOT NULL OR hcrp_payment IS NOT NULL)",
    )
    assert market_extras == [(0,)]


def test_user_fee_file_and_atomic_replacement(built: Built, tmp_path: Path) -> None:
    fees = tmp_path / "fees.csv"
    fees.write_text("benefit_year,user_fee_pmpm\n2025,0.50\n", encoding="utf-8")
    estimate = estimate_transfers(
        built.con, built.run, market_path=built.issuer / "market_pool.csv", user_fee_path=fees
    )
    rows = _rows(
        built,
        "SELECT user_fee, billable_member_months FROM transfer_estimate "
        f"WHERE {RUN_SQL} AND source = 'issuer'",
    )
    assert [fee for fee, _ in rows] == [
        (Decimal("0.50") * bmm).quantize(Decimal("0.01")) for _, bmm in rows
    ]
    assert sum(fee for fee, _ in rows) == sum(p.user_fee for p in estimate.pools)

    before = _rows(built, f"SELECT * FROM transfer_estimate WHERE {RUN_SQL} ORDER BY ALL")
    fees.write_text("benefit_year,user_fee_pmpm\n2024,0.21\n", encoding="utf-8")
    with pytest.raises(TransferInputError, match="no user fee for benefit year 2025"):
        estimate_transfers(
            built.con, built.run, market_path=built.issuer / "market_pool.csv", user_fee_path=fees
        )
    bad_market = tmp_path / "market.csv"
    text = (built.issuer / "market_pool.csv").read_text(encoding="utf-8")
    bad_market.write_text(text.replace(",gold,", ",tin,", 1), encoding="utf-8")
    with pytest.raises(TransferInputError, match=r"market.csv line \d+, column metal"):
        estimate_transfers(built.con, built.run, market_path=bad_market)
    assert _rows(built, f"SELECT * FROM transfer_estimate WHERE {RUN_SQL} ORDER BY ALL") == before
    estimate_transfers(built.con, built.run, market_path=built.issuer / "market_pool.csv")


def test_generated_market_files_are_deterministic(tmp_path: Path) -> None:
    first = generate_issuer(tmp_path / "a", enrollees=5, seed=SEED)
    generate_issuer(tmp_path / "b", enrollees=5, seed=SEED)
    for name in ("gcf.csv", "market_pool.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    market = _csv(tmp_path / "a" / "market_pool.csv")
    assert first.issuer_id not in {r["issuer_id"] for r in market}
    assert {r["risk_pool"] for r in market} == {"individual", "catastrophic"}
