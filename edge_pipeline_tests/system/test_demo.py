"""``make demo`` end to end in a temporary checkout: runs land on the persistent instance.

Ingest, reference tables, shadow verification, the simulated EDGE server's answer and its
reconciliation, three times: first run, identical re-run, re-run with other parameters.
"""

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
    user_report = tmp_path / "data" / "outbox" / "not-from-the-demo.txt"
    user_report.parent.mkdir(parents=True)
    user_report.write_text("left alone")

    assert run_demo(root=tmp_path, enrollees=30, seed=3, error_rate=0.0) == 0
    first = capsys.readouterr().out
    assert "Failures: none" in first
    for layout in ("ESES", "ESMCS", "ESPCS", "ESSFS"):
        assert f"1 {layout} loaded" in first
    assert "SIMULATED EDGE SERVER" in first  # never mistaken for a real server's answer
    assert "Checks: 16 passed, 0 failed." in first  # 4 files x 4 checks
    assert "Phase 1 failures: none" in first
    assert first.count("differences 0") == 4 + 2  # the files, the risk scores and the RATEE
    # Phase 2: claims selected and scored, transfer estimated, RA reports "sent" back and
    # reconciled (GX checks included), every check green
    assert "risk scores (RARSD vs shadow) differences 0" in first
    assert "transfer elements (RATEE vs shadow) differences 0" in first
    assert "FAILED" not in first
    assert "transfer estimate per plan" in first
    assert "Phase 2 failures: none" in first

    data = tmp_path / "data"
    staged = json.loads((data / "synthetic" / DEMO_FILES_RECORD).read_text())
    assert sorted(p.name for p in (data / "inbox").glob("*.xml")) == sorted(staged)
    assert (data / "dagster_home" / "dagster.yaml").exists()
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        loaded = con.execute("SELECT count(*) FROM submission_file WHERE status = 'loaded'")
        assert loaded.fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM medical_claim").fetchone()[0] > 0
        assert con.execute(
            "SELECT count(*), sum(differences) FROM phase1_reconciliation_file"
        ).fetchall() == [(4, 0)]
        scored = con.execute("SELECT count(*) FROM shadow_risk_score").fetchall()[0][0]
        assert scored > 0
        assert con.execute("SELECT count(*) FROM reported_risk_score").fetchall() == [(scored,)]
        assert con.execute("SELECT count(*) FROM risk_score_differences").fetchall() == [(0,)]
    finally:
        con.close()
    assert (data / "issuer" / "plan_registry.csv").exists()
    assert len(list((data / "issuer").glob("code_list_*.csv"))) == 3
    shadow_folders = sorted(p.name for p in (data / "shadow_reports").iterdir())
    assert shadow_folders == sorted([*staged.values(), "phase2"])
    simulated = sorted((data / "outbox" / "simulated_edge_server").rglob("*.xml"))
    assert len(simulated) == 12 + 5  # ESFAR, detail and summary per file; the 5 RA reports

    assert run_demo(root=tmp_path, enrollees=30, seed=3, error_rate=0.0) == 0
    second = capsys.readouterr().out
    assert second.count(" unchanged ") == 4  # same seed, same files: nothing written again
    assert "Checks: 16 passed, 0 failed." in second

    # other parameters, same seed: same fileIdentifiers, new bytes; the demo replaces its own
    assert run_demo(root=tmp_path, enrollees=35, seed=3, error_rate=0.0) == 0
    third = capsys.readouterr().out
    assert "Removed 4 earlier demo file(s)" in third
    assert third.count(" loaded ") == 4
    assert "Checks: 16 passed, 0 failed." in third
    assert len(list((data / "outbox" / "simulated_edge_server").rglob("*.xml"))) == 12 + 5
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        # the re-runs added no report (identical answers) and forgetting the replaced files
        # took their reports and verdicts with them
        assert con.execute(
            "SELECT status, count(*) FROM outbound_file GROUP BY ALL"
        ).fetchall() == [("loaded", 12 + 5)]  # Phase 1 reports of 4 files, the 5 RA reports
        assert (
            con.execute("SELECT count(*) FROM reported_record_status").fetchall()
            == con.execute("SELECT count(*) FROM shadow_record_status").fetchall()
        )
    finally:
        con.close()

    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        for job, count in (
            ("ingest_inbound_files", 12),
            ("refresh_reference_tables", 3),
            ("phase1_shadow", 12),
            ("phase1_reported", 12),
        ):
            runs = instance.get_runs(dg.RunsFilter(job_name=job))
            assert len(runs) == count, job
            assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs), job
        assert len(instance.get_dynamic_partitions("inbound_files")) == 4
    assert user_file.read_text() == "left alone"
    assert user_report.read_text() == "left alone"
