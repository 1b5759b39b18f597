"""``make demo`` end to end in a temporary checkout: runs land on the persistent instance."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from edge_pipeline.demo import DEMO_FILES_RECORD, run_demo


def test_demo_ingests_through_dagster_and_reruns_idempotently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))  # restored after the test
    user_file = tmp_path / "data" / "inbox" / "not-from-the-demo.txt"
    user_file.parent.mkdir(parents=True)
    user_file.write_text("left alone")

    assert run_demo(root=tmp_path, enrollees=30, seed=3, error_rate=0.0) == 0
    first = capsys.readouterr().out
    assert "Failures: none" in first
    for layout in ("ESES", "ESMCS", "ESPCS", "ESSFS"):
        assert f"1 {layout} loaded" in first

    data = tmp_path / "data"
    staged = json.loads((data / "synthetic" / DEMO_FILES_RECORD).read_text())
    assert sorted(p.name for p in (data / "inbox").glob("*.xml")) == sorted(staged)
    assert (data / "dagster_home" / "dagster.yaml").exists()
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        loaded = con.execute("SELECT count(*) FROM submission_file WHERE status = 'loaded'")
        assert loaded.fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM medical_claim").fetchone()[0] > 0
    finally:
        con.close()

    assert run_demo(root=tmp_path, enrollees=30, seed=3, error_rate=0.0) == 0
    second = capsys.readouterr().out
    assert second.count(" unchanged ") == 4  # same seed, same files: nothing written again

    # other parameters, same seed: same fileIdentifiers, new bytes; the demo replaces its own
    assert run_demo(root=tmp_path, enrollees=35, seed=3, error_rate=0.0) == 0
    third = capsys.readouterr().out
    assert "Removed 4 earlier demo file(s)" in third
    assert third.count(" loaded ") == 4

    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(job_name="ingest_inbound_files"))
        assert len(runs) == 12
        assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
        assert len(instance.get_dynamic_partitions("inbound_files")) == 4
    assert user_file.read_text() == "left alone"
