"""Scoring benchmark: ``score_population`` over a synthetic population vs the Python baseline.

``edge-pipeline bench score`` prints figures (it does not assert timings: they depend on the
machine).  It does assert correctness: the baseline's scores and terms must equal the engine's
on every sampled enrollee, otherwise it exits 1.  The target is one million enrollees in
under 60 s on 2 cores; peak RSS is sampled (psutil, every 10 ms) during the timed region.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar

import duckdb
import psutil

from edge_pipeline.edge.risk.baseline import BaselineScorer
from edge_pipeline.edge.risk.diy_tables import load_diy_model
from edge_pipeline.edge.risk.enrollees import fetch_enrollees
from edge_pipeline.edge.risk.population import synthesize_population
from edge_pipeline.edge.risk.scoring import score_population

TARGET_ENROLLEES, TARGET_SECONDS = 1_000_000, 60.0
MIB = 2**20
T = TypeVar("T")


def measure(work: Callable[[], T]) -> tuple[T, float, float]:
    """(result, seconds, peak RSS MiB of this process while ``work`` ran)."""
    process = psutil.Process()
    peak = process.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.01):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        result = work()
    finally:
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
    return result, elapsed, max(peak, process.memory_info().rss) / MIB


def run_score_benchmark(
    enrollees: int, baseline_sample: int, seed: int, benefit_year: int = 2025
) -> int:
    """Generate, score, compare with the baseline, print.  0 when the baseline agrees."""
    con = duckdb.connect()
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    print(f"HHS-HCC scoring benchmark: BY{benefit_year}, seed {seed}, DuckDB threads {threads}")
    load_diy_model(benefit_year)  # parse the tables outside the timed region (cached)
    tables, gen_s, _ = measure(
        lambda: synthesize_population(con, benefit_year, enrollees, seed, prefix="bench_")
    )
    diagnoses = con.execute(f"SELECT count(*) FROM {tables['diagnoses']}").fetchall()[0][0]
    print(
        f"population: {enrollees:,} enrollees, {diagnoses:,} diagnoses (generated in {gen_s:.1f} s)"
    )

    _, engine_s, engine_rss = measure(lambda: score_population(con, benefit_year, **tables))
    rate = enrollees / engine_s
    target_rate = TARGET_ENROLLEES / TARGET_SECONDS
    verdict = "PASS" if rate >= target_rate else "FAIL"
    print(
        f"engine:   {engine_s:8.2f} s  {rate:12,.0f} enrollees/s  peak RSS {engine_rss:,.0f} MiB  "
        f"[{verdict}: target {TARGET_ENROLLEES:,} in {TARGET_SECONDS:.0f} s]"
    )

    sample = min(baseline_sample, enrollees)
    chosen = (
        f"person_id IN (SELECT person_id FROM {tables['persons']} "
        f"ORDER BY hash(person_id, {seed}) LIMIT {sample})"
    )
    people = list(fetch_enrollees(con, **tables, where=chosen))
    scorer = BaselineScorer(benefit_year)
    scores, base_s, _ = measure(lambda: [scorer.score(p) for p in people])
    base_rate = len(people) / base_s
    print(
        f"baseline: {base_s:8.2f} s  {base_rate:12,.0f} enrollees/s  ({len(people):,} sampled; "
        f"{enrollees / base_rate:,.0f} s extrapolated to {enrollees:,}: "
        f"engine is {rate / base_rate:,.1f}x faster)"
    )
    mismatches = _compare(con, chosen, scores)
    con.close()
    if mismatches:
        print(f"FAIL: baseline disagrees with the engine on {len(mismatches)} enrollees, e.g.")
        for line in mismatches[:5]:
            print(f"  {line}")
        return 1
    print(f"baseline agrees with the engine on all {len(people):,} sampled enrollees")
    return 0


def _compare(con: duckdb.DuckDBPyConnection, chosen: str, scores: list) -> list[str]:
    """Enrollees whose score row or terms differ between engine and baseline."""
    engine = {
        r[0]: r[1:]
        for r in con.execute(
            f"SELECT person_id, model, csr_factor, score_raw, score_csr_adjusted "
            f"FROM risk_score WHERE {chosen}"
        ).fetchall()
    }
    terms: dict[str, dict] = defaultdict(dict)
    for pid, variable, coefficient in con.execute(
        f"SELECT person_id, variable, coefficient FROM risk_term WHERE {chosen}"
    ).fetchall():
        terms[pid][variable] = coefficient
    bad = []
    for s in scores:
        mine = (s.model, s.csr_factor, s.score_raw, s.score_csr_adjusted)
        if engine.get(s.person_id) != mine or terms[s.person_id] != s.terms:
            bad.append(f"{s.person_id}: engine {engine.get(s.person_id)}, baseline {mine}")
    return bad
