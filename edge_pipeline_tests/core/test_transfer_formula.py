"""The spec section 8 transfer formula: the worked example to the cent through the real
``edge-pipeline transfer`` command, exact zero-sum rounding on random pools, several pools in
one file, and bad input refused with file, line and column."""

from __future__ import annotations

import csv
import random
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import run_cli

from edge_pipeline.edge.transfer import (
    METAL_FACTORS,
    PlanInput,
    PoolError,
    pool_transfers,
    round_to_zero_sum,
)

HEADER = "plan_id,metal,billable_member_months,plrs,arf,gcf,premium_pmpm"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, timeout=120)


def transfer(tmp_path: Path, text: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    pool = tmp_path / "pool.csv"
    pool.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    return run("transfer", "--pool", str(pool), "--output", str(out)), out


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_worked_example_to_the_cent_through_the_cli(tmp_path: Path) -> None:
    done, out = transfer(
        tmp_path,
        f"{HEADER}\nA,silver,120000,1.40,1.60,1.00,600\nB,bronze,80000,0.90,1.45,1.05,450\n",
    )
    assert done.returncode == 0, done.stderr
    assert "average premium 540.00 PMPM" in done.stdout
    a, b = rows(out)
    assert (a["plan_id"], a["transfer_total"]) == ("A", "3850642.94")
    assert (b["plan_id"], b["transfer_total"]) == ("B", "-3850642.94")
    assert (a["idf"], a["av"], b["idf"], b["av"]) == ("1.03", "0.70", "1.00", "0.60")
    assert (a["share"], b["share"]) == ("0.600000000000", "0.400000000000")
    # the input columns come back exactly as given
    given = ["A", "silver", "120000", "1.40", "1.60", "1.00", "600"]
    assert [a[c] for c in HEADER.split(",")] == given
    # T_A = 32.0887 PMPM: the published total over the published months
    assert Decimal(a["transfer_pmpm"]) * 120000 == pytest.approx(Decimal("3850642.94"), abs=1)


def test_metal_letters_give_the_same_result(tmp_path: Path) -> None:
    done, out = transfer(
        tmp_path, f"{HEADER}\nA,S,120000,1.40,1.60,1.00,600\nB,b,80000,0.90,1.45,1.05,450\n"
    )
    assert done.returncode == 0, done.stderr
    assert [r["transfer_total"] for r in rows(out)] == ["3850642.94", "-3850642.94"]


def _random_pool(rng: random.Random, size: int) -> list[PlanInput]:
    metals = list(METAL_FACTORS)
    return [
        PlanInput(
            plan_id=f"P{i}",
            metal=metals[i % len(metals)] if i < len(metals) else rng.choice(metals),
            billable_member_months=Decimal(rng.randint(1, 400_000_0000)) / 10000,
            plrs=Decimal(rng.randint(200, 4000)) / 1000,
            arf=Decimal(rng.randint(900, 2500)) / 1000,
            gcf=Decimal(rng.randint(8500, 12000)) / 10000,
            premium_pmpm=Decimal(rng.randint(15000, 120000)) / 100,
        )
        for i in range(size)
    ]


@pytest.mark.parametrize("seed", range(40))
def test_random_pools_sum_to_exactly_zero(seed: int) -> None:
    rng = random.Random(seed)
    pool = pool_transfers(_random_pool(rng, rng.randint(2, 12)))
    assert sum(p.transfer_total for p in pool.plans) == Decimal("0.00")
    for p in pool.plans:
        assert p.transfer_total == p.transfer_total.quantize(Decimal("0.01"))
        assert abs(p.transfer_total - p.transfer_exact) < Decimal("0.01")
    assert sum(p.share for p in pool.plans) == pytest.approx(Decimal(1), abs=Decimal("1e-20"))


def test_rounding_gives_missing_cents_to_the_largest_remainders() -> None:
    # floors 0.00, 0.00, -0.01 leave one cent missing; remainders 0.004, 0.004, 0.002: the
    # first of the two largest (ties go to the earlier row) gets it
    amounts = [Decimal("0.004"), Decimal("0.004"), Decimal("-0.008")]
    assert round_to_zero_sum(amounts) == [Decimal("0.01"), Decimal("0.00"), Decimal("-0.01")]
    # a half cent on both sides: symmetric amounts stay symmetric
    assert round_to_zero_sum([Decimal("1.005"), Decimal("-1.005")]) == [
        Decimal("1.01"),
        Decimal("-1.01"),
    ]
    with pytest.raises(PoolError):
        round_to_zero_sum([Decimal("1.00"), Decimal("1.00")])


def test_a_single_plan_pool_transfers_nothing_and_an_empty_pool_is_refused() -> None:
    (only,) = _random_pool(random.Random(1), 1)
    assert pool_transfers([only]).plans[0].transfer_total == 0
    with pytest.raises(PoolError, match="no billable member months"):
        pool_transfers([PlanInput("X", "gold", Decimal(0), *(Decimal(1),) * 4)])


def test_several_pools_in_one_file_each_sum_to_zero(tmp_path: Path) -> None:
    rng = random.Random(7)
    lines = [f"pool,{HEADER},note"]
    for name in ("NC individual", "NC small_group", "NC catastrophic"):
        metals = ["C"] * 3 if "catastrophic" in name else ["P", "gold", "S", "Bronze", "silver"]
        for i, metal in enumerate(metals):
            lines.append(
                f"{name},{name[:2]}{i},{metal},{rng.randint(100, 90000)}.5,"
                f"{rng.uniform(0.3, 3):.3f},{rng.uniform(1, 2.5):.3f},{rng.uniform(0.9, 1.1):.4f},"
                f"{rng.uniform(200, 900):.2f},kept {i}"
            )
    done, out = transfer(tmp_path, "\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    result = rows(out)
    assert len(result) == 13
    assert [r["note"] for r in result[:2]] == ["kept 0", "kept 1"]
    by_pool: dict[str, Decimal] = {}
    for r in result:
        by_pool[r["pool"]] = by_pool.get(r["pool"], Decimal(0)) + Decimal(r["transfer_total"])
    assert by_pool == {name: Decimal("0.00") for name in by_pool}
    assert len(by_pool) == 3
    assert done.stdout.count("transfers sum to 0.00") == 3
    # the same plan id may appear in two pools, and a pool's result does not depend on others
    alone, _ = transfer(tmp_path, "\n".join(lines[:1] + lines[1:6]) + "\n")
    assert alone.returncode == 0
    assert [r["transfer_total"] for r in rows(tmp_path / "out.csv")] == [
        r["transfer_total"] for r in result[:5]
    ]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("A,silver,120000,1.x,1.60,1.00,600", "line 2, column plrs: not a number"),
        ("A,tin,120000,1.4,1.60,1.00,600", "line 2, column metal: unknown metal level 'tin'"),
        ("A,silver,-5,1.4,1.60,1.00,600", "line 2, column billable_member_months: must be 0"),
        ("A,silver,10,1.4,1.60,0,600", "line 2, column gcf: must be greater than 0"),
        ("A,silver,10,1.4,1.60,1.00", "line 2: 6 fields, the header has 7"),
        ("A,silver,0,1.4,1.60,1.00,600", "line 2: the pool: the pool has no billable member"),
        (",silver,10,1.4,1.60,1.00,600", "line 2, column plan_id: must not be blank"),
        ("A,silver,10,1.4,1.6,1,600\nA,gold,10,1.4,1.6,1,600", "line 3, column plan_id"),
    ],
)
def test_bad_input_exits_2_naming_file_line_and_column(
    tmp_path: Path, body: str, where: str
) -> None:
    done, out = transfer(tmp_path, f"{HEADER}\n{body}\n")
    assert done.returncode == 2, done.stdout
    assert "pool.csv " + where in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_column_and_missing_file_exit_2(tmp_path: Path) -> None:
    done, _ = transfer(tmp_path, "plan_id,metal,plrs,arf,gcf,premium_pmpm\nA,S,1,1,1,1\n")
    assert done.returncode == 2
    assert "pool.csv line 1, column billable_member_months: required column missing" in (
        done.stderr
    )
    done = run("transfer", "--pool", str(tmp_path / "nope.csv"), "--output", "x.csv")
    assert done.returncode == 2
    assert "no such pool file" in done.stderr
