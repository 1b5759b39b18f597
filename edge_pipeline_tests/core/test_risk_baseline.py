"""The per-enrollee Python baseline and the set-based engine agree on random populations.

The baseline applies the table 4 hierarchy row by row in table order and interprets the
program statement by statement; the engine does both set-based.  Agreement on every output
(scores, terms, HCC/RXC sources, dropped HCCs with who dropped them) checks the SQL."""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pytest

from edge_pipeline.cli import main
from edge_pipeline.edge.risk.baseline import BaselineScorer
from edge_pipeline.edge.risk.enrollees import fetch_enrollees
from edge_pipeline.edge.risk.population import synthesize_population
from edge_pipeline.edge.risk.scoring import score_population


def _grouped(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, set[tuple]]:
    out: dict[str, set[tuple]] = defaultdict(set)
    for pid, *rest in con.execute(sql).fetchall():
        out[pid].add(tuple(rest))
    return out


@pytest.mark.parametrize(("year", "seed"), [(2025, 11), (2024, 12)])
def test_baseline_agrees_with_engine(year: int, seed: int) -> None:
    con = duckdb.connect()
    tables = synthesize_population(con, year, 3000, seed)
    score_population(con, year, **tables)
    scores = {r[0]: r[1:] for r in con.execute("SELECT * FROM risk_score").fetchall()}
    terms = _grouped(con, "SELECT person_id, variable, coefficient FROM risk_term")
    hccs = _grouped(con, "SELECT * FROM risk_hcc_source")
    rxcs = _grouped(con, "SELECT * FROM risk_rxc_source")
    dropped = _grouped(con, "SELECT * FROM risk_dropped_hcc")
    scorer = BaselineScorer(year)
    people = list(fetch_enrollees(con, **tables))
    assert len(people) == len(scores) == 3000
    for person in people:
        b = scorer.score(person)
        pid = person.person_id
        assert scores[pid] == (b.model, b.csr_factor, b.score_raw, b.score_csr_adjusted), pid
        assert terms[pid] == set(b.terms.items()), pid
        assert hccs[pid] == b.hcc_sources, pid
        assert rxcs[pid] == b.rxc_sources, pid
        assert dropped[pid] == set(b.dropped.items()), pid
    # the population exercises what it should
    assert sum(1 for d in dropped.values() if d) > 50
    assert sum(1 for r in rxcs.values() if r) > 50
    assert {s[0] for s in scores.values()} == {"adult", "child", "infant"}


def test_bench_score_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "score", "--enrollees", "400", "--baseline-sample", "100"]) == 0
    out = capsys.readouterr().out
    assert "enrollees/s" in out and "peak RSS" in out
    assert "baseline agrees with the engine on all 100 sampled enrollees" in out
