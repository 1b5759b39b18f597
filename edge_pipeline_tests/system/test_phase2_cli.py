"""``edge-pipeline score``: Phase 2 from the command line over a warehouse ``validate`` built,
then the RA reports read back with ``load-outbound`` and reconciled with the shadow scores."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from cli_support import run_cli
from lxml import etree

from edge_pipeline.edge.layouts.outbound import RA_LAYOUTS
from edge_pipeline.edge.outbound import read_outbound_header
from edge_pipeline.edge.outbound.core.xsd import load_schema
from edge_pipeline.edge.ra_runs.runs import scoring_runs
from edge_pipeline.edge.reconciliation.phase2 import (
    refresh_ratee_differences,
    refresh_risk_score_differences,
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args)


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic issuer loaded and verified by ``validate``: the warehouse path."""
    root = tmp_path_factory.mktemp("phase2cli")
    done = run("synth", "--out", str(root / "in"), "--enrollees", "150", "--seed", "11")
    assert done.returncode == 0, done.stderr
    warehouse = root / "w.duckdb"
    done = run("validate", str(root / "in"), "--warehouse", str(warehouse), "--out", str(root))
    assert done.returncode == 0, done.stderr
    return warehouse


def test_score_writes_valid_ra_reports_that_reconcile(verified: Path) -> None:
    out = verified.parent / "ra"
    done = run("score", "--warehouse", str(verified), "--benefit-year", "2025", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "enrollee x plan scored" in done.stdout
    (folder,) = [p for p in out.iterdir() if p.is_dir()]  # one issuer, one zone
    reports = sorted(folder.glob("*.xml"))
    # all five: score computes the transfer elements, so the RATEE has rows
    assert sorted(read_outbound_header(p).report_type for p in reports) == sorted(
        layout.name for layout in RA_LAYOUTS
    )
    for path in reports:
        layout = read_outbound_header(path).layout
        load_schema(layout).assertValid(etree.parse(str(path)))

    done = run("load-outbound", str(folder), "--warehouse", str(verified))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("loaded") == len(reports)
    con = duckdb.connect(str(verified))
    try:
        (run_,) = scoring_runs(con, 2025)
        comparison = refresh_risk_score_differences(con, run_)
        assert comparison.compared > 0
        assert comparison.agrees, comparison.differences.to_pylist()[:3]
        ratee = refresh_ratee_differences(con, run_)
        assert ratee.compared > 0
        assert ratee.differences.num_rows == 0, ratee.differences.to_pylist()[:3]
    finally:
        con.close()


def test_score_refuses_a_missing_warehouse_and_an_empty_year(verified: Path) -> None:
    done = run(
        "score", "--warehouse", str(verified.parent / "nope.duckdb"), "--benefit-year", "2025"
    )
    assert done.returncode == 2
    assert "no such warehouse" in done.stderr
    done = run("score", "--warehouse", str(verified), "--benefit-year", "2023")
    assert done.returncode == 2
    assert "no issuer has active enrollment in benefit year 2023" in done.stderr
