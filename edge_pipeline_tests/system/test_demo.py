"""``make demo`` end to end in a temporary checkout: runs land on the persistent instance.

One demo (module fixture) materializes every asset of the definitions, as runs of the code
location, and writes the analyst report; then ingest, reference tables, shadow verification,
the simulated EDGE server's answer and its reconciliation are checked on it and on two
re-runs: identical, and with other parameters.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.workspace.load import location_origins_from_yaml_paths

from edge_pipeline.base.folders import REPO_ROOT
from edge_pipeline.definitions import defs
from edge_pipeline.defs.automation.inbox import inbox_sensor, refusal_request
from edge_pipeline.defs.automation.outbox import outbox_sensor
from edge_pipeline.defs.inbound.assets import REFUSED_INBOUND_FILES
from edge_pipeline.defs.inbound.jobs import ingest_job_name, record_refused_inbound_file
from edge_pipeline.defs.inbound.partitions import FILE_KINDS
from edge_pipeline.defs.inbound.resources import InboxResource, NotASubmission
from edge_pipeline.defs.report_files import OutboxResource
from edge_pipeline.demo import run_demo
from edge_pipeline.demo.paths import DEMO_FILES_RECORD
from edge_pipeline.demo.runs import CODE_LOCATION, LAUNCHED_BY_TAG
from edge_pipeline.demo.staging import STRAY_FILE


@dataclass(frozen=True)
class FirstDemo:
    root: Path
    exit_code: int
    output: str


@pytest.fixture(scope="module")
def first_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstDemo]:
    """One small demo in a temporary checkout holding a user's own inbox and outbox files."""
    root = tmp_path_factory.mktemp("demo")
    for folder in ("inbox", "outbox"):
        user_file = root / "data" / folder / "not-from-the-demo.txt"
        user_file.parent.mkdir(parents=True)
        user_file.write_text("left alone")
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(printed):
        env.setenv("DAGSTER_HOME", str(root / "elsewhere"))  # run_demo moves it; restored
        code = run_demo(root=root, enrollees=30, seed=3, error_rate=0.0)
    yield FirstDemo(root, code, printed.getvalue())


@pytest.fixture(scope="module")
def instance(first_demo: FirstDemo) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(first_demo.root / "data" / "dagster_home")) as found:
        yield found


def test_the_demo_materializes_every_asset_of_the_definitions(
    first_demo: FirstDemo, instance: dg.DagsterInstance
) -> None:
    """Every asset, in every partition registered: each file type's landing asset has that
    type's files only, ``benefit_years`` the demo's year only, and the stray file is no
    partition but a ``refused_inbound_files`` materialization."""
    assert first_demo.exit_code == 0, first_demo.output[-3000:]
    graph = defs.resolve_asset_graph()
    never, missing = [], {}
    for key in sorted(graph.get_all_asset_keys()):
        if instance.get_latest_materialization_event(key) is None:
            never.append(key.to_user_string())
        partitions_def = graph.get(key).partitions_def
        if partitions_def is None:
            continue
        expected = set(partitions_def.get_partition_keys(dynamic_partitions_store=instance))
        absent = expected - set(instance.get_materialized_partitions(key))
        if absent:
            missing[key.to_user_string()] = sorted(absent)
    assert never == [], f"never materialized by the demo: {never}"
    assert missing == {}, f"partitions the demo left unmaterialized: {missing}"
    refused = instance.get_latest_materialization_event(REFUSED_INBOUND_FILES)
    assert refused is not None and refused.asset_materialization is not None
    assert refused.asset_materialization.metadata["file_name"].value == STRAY_FILE


def test_every_demo_run_is_a_run_of_the_code_location(
    first_demo: FirstDemo, instance: dg.DagsterInstance
) -> None:
    """Runs the UI shows under the code location (timeline, re-execute), not anonymous
    in-process runs; tagged so the run-status sensors leave them to the demo."""
    runs = instance.get_runs()
    assert {run.job_name for run in runs} == {
        *(ingest_job_name(kind) for kind in FILE_KINDS),
        "record_refused_inbound_file",
        "refresh_reference_tables",
        "phase1_shadow",
        "phase1_reported",
        "phase2_scoring",
        "phase2_reported",
        "monthly_reporting",
    }
    (workspace_location,) = location_origins_from_yaml_paths([str(REPO_ROOT / "workspace.yaml")])
    for run in runs:
        origin = run.remote_job_origin
        assert origin is not None, run.job_name
        assert origin.location_name == CODE_LOCATION, run.job_name
        # the origin the UI's workspace has: the UI finds the job to re-execute there
        assert origin.repository_origin.code_location_origin == workspace_location
        assert origin.job_name == run.job_name
        assert run.job_code_origin is not None, run.job_name
        assert run.tags.get(LAUNCHED_BY_TAG) == "demo", run.job_name
        assert run.status == dg.DagsterRunStatus.SUCCESS, run.job_name
    # the stray file is recorded as the inbox sensor records it: its request's tags
    (refusal,) = [run for run in runs if run.job_name == record_refused_inbound_file.name]
    stray = first_demo.root / "data" / "inbox" / STRAY_FILE
    stat = stray.lstat()
    with pytest.raises(NotASubmission) as not_a_submission:
        InboxResource(path=str(stray.parent)).submission(stray)
    expected = refusal_request(stray, stat.st_mtime_ns, stat.st_size, str(not_a_submission.value))
    assert {name: refusal.tags.get(name) for name in expected.tags} == expected.tags


def test_the_demo_writes_the_data_quality_summary_and_analyst_report(
    first_demo: FirstDemo,
) -> None:
    reports = first_demo.root / "data" / "reports"
    assert sorted(p.name for p in reports.iterdir()) == ["edge-report.html", "edge-report.xlsx"]
    html = (reports / "edge-report.html").read_text()
    assert "Monthly quality" in html  # the data-quality summary, with the Phase 2 charts
    assert "analyst report: edge-report.xlsx, edge-report.html" in first_demo.output
    con = duckdb.connect(str(first_demo.root / "data" / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM data_quality_monthly").fetchone()[0] > 0
    finally:
        con.close()


def test_demo_ingests_through_dagster_and_reruns_idempotently(
    first_demo: FirstDemo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = first_demo.root
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))  # restored after the test
    user_file = tmp_path / "data" / "inbox" / "not-from-the-demo.txt"
    user_report = tmp_path / "data" / "outbox" / "not-from-the-demo.txt"

    assert first_demo.exit_code == 0
    first = first_demo.output
    assert "Failures: none" in first
    assert (
        f"Refused, not a submission (no partition; in refused_inbound_files): {STRAY_FILE}: "
        "header unreadable: " in first
    )
    for layout in ("ESES", "ESMCS", "ESPCS", "ESSFS"):
        assert f"1 {layout} loaded" in first
    assert "SIMULATED EDGE SERVER" in first  # never mistaken for a real server's answer
    assert "Checks: 20 passed, 0 failed." in first  # 4 files x 5 checks
    assert "Phase 1 failures: none" in first
    # the files (records, then FDE frequencies), the risk scores and the RATEE
    assert first.count("differences 0") == 4 * 2 + 2
    assert first.count("frequency differences 0") == 4
    # Phase 2: claims selected and scored, transfer estimated, RA reports "sent" back and
    # reconciled (GX checks included), every check green
    assert "risk scores (RARSD vs shadow) differences 0" in first
    assert "transfer elements (RATEE vs shadow) differences 0" in first
    assert (
        "user fee and high-cost risk pool (vs shadow) differences RAUF 0, HCRPSR 0, HCRPDE 0, "
        "enrollee claims (vs shadow) differences ECD 0, ECS 0" in first
    )
    assert "enrollee claims (ECD): " in first and " orphan claims, " in first
    assert (
        "read back from the outbox: ECD, ECS, HCRPDE, HCRPSR, RACSD, RACSS, RARSD, RARSS, "
        "RATEE, RAUF" in first
    )
    assert "FAILED" not in first
    assert "transfer estimate per plan" in first
    assert "Phase 2 failures: none" in first

    data = tmp_path / "data"
    staged = json.loads((data / "synthetic" / DEMO_FILES_RECORD).read_text())
    assert sorted(p.name for p in (data / "inbox").glob("*.xml")) == sorted([*staged, STRAY_FILE])
    assert (data / "dagster_home" / "dagster.yaml").exists()
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute(
            "SELECT status, count(*) FROM submission_file GROUP BY ALL ORDER BY ALL"
        ).fetchall() == [("loaded", 4), ("refused", 1)]  # the stray file: refused, no rows
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
    # ESFAR, detail, summary and frequency by data element per file; the 10 RA reports
    assert len(simulated) == 16 + 10

    assert run_demo(root=tmp_path, enrollees=30, seed=3, error_rate=0.0) == 0
    second = capsys.readouterr().out
    assert second.count(" unchanged ") == 4  # same seed, same files: nothing written again
    assert "Checks: 20 passed, 0 failed." in second

    # other parameters, same seed: same fileIdentifiers, new bytes; the demo replaces its own
    assert run_demo(root=tmp_path, enrollees=35, seed=3, error_rate=0.0) == 0
    third = capsys.readouterr().out
    assert "Removed 4 earlier demo file(s)" in third
    assert third.count(" loaded ") == 4
    assert "Checks: 20 passed, 0 failed." in third
    assert len(list((data / "outbox" / "simulated_edge_server").rglob("*.xml"))) == 16 + 10
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        # the re-runs added no report (identical answers) and forgetting the replaced files
        # took their reports and verdicts with them
        assert con.execute(
            "SELECT status, count(*) FROM outbound_file GROUP BY ALL"
        ).fetchall() == [("loaded", 16 + 10)]  # Phase 1 reports of 4 files, the 10 RA reports
        assert (
            con.execute("SELECT count(*) FROM reported_record_status").fetchall()
            == con.execute("SELECT count(*) FROM shadow_record_status").fetchall()
        )
    finally:
        con.close()

    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        for job, count in (
            *((ingest_job_name(kind), 3) for kind in FILE_KINDS),  # one file of each type
            (record_refused_inbound_file.name, 3),  # the stray file, once per demo
            ("refresh_reference_tables", 3),
            ("phase1_shadow", 12),
            ("phase1_reported", 12),
        ):
            runs = instance.get_runs(dg.RunsFilter(job_name=job))
            assert len(runs) == count, job
            assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs), job
        assert len(instance.get_dynamic_partitions("inbound_files")) == 4
        for kind in FILE_KINDS:  # eses_enrollment shows the ESES file only, and so on
            assert len(instance.get_dynamic_partitions(f"{kind}_files")) == 1, kind
        assert instance.get_dynamic_partitions("benefit_years") == ["2025"]  # the year with data

        # the first `make dev` after the demo: fresh sensors request nothing the demo loaded
        # or recorded as refused
        inbox = dg.build_sensor_context(
            instance=instance,
            resources={"inbox": InboxResource(path=str(data / "inbox"), settle_seconds=0)},
        )
        assert not inbox_sensor(inbox).run_requests
        outbox = dg.build_sensor_context(
            instance=instance,
            resources={"outbox": OutboxResource(path=str(data / "outbox"), settle_seconds=0)},
        )
        assert not outbox_sensor(outbox).run_requests
    assert user_file.read_text() == "left alone"
    assert user_report.read_text() == "left alone"


def test_a_demo_run_re_executes_from_the_workspace_as_the_ui_does(
    first_demo: FirstDemo, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UI's "re-execute": the job found in the loaded workspace by the run's origin, a
    child run created from the parent and launched in a run worker.  (Last: it adds a run.)"""
    from dagster._core.definitions.selector import JobSubsetSelector
    from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
    from dagster._core.test_utils import poll_for_finished_run
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    monkeypatch.setenv("DAGSTER_HOME", str(first_demo.root / "data" / "dagster_home"))
    parent = instance.get_runs(dg.RunsFilter(job_name="phase2_reported"), limit=1)[0]
    origin = parent.remote_job_origin
    assert origin is not None
    target = WorkspaceFileTarget(paths=[str(REPO_ROOT / "workspace.yaml")])
    with WorkspaceProcessContext(instance, target) as workspace:
        request = workspace.create_request_context()
        location = request.get_code_location(origin.location_name)
        job = location.get_job(
            JobSubsetSelector(
                location_name=origin.location_name,
                repository_name=origin.repository_origin.repository_name,
                job_name=parent.job_name,
                op_selection=None,
            )
        )
        child = instance.create_reexecuted_run(
            request_context=request,
            parent_run=parent,
            code_location=location,
            remote_job=job,
            strategy=ReexecutionStrategy.ALL_STEPS,
            use_parent_run_tags=True,
        )
        instance.launch_run(child.run_id, request)
        finished = poll_for_finished_run(instance, child.run_id, timeout=300)
    assert finished.status == dg.DagsterRunStatus.SUCCESS
    assert finished.parent_run_id == parent.run_id
    assert finished.tags["dagster/partition"] == parent.tags["dagster/partition"]
