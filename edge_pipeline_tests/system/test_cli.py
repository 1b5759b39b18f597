"""The ``edge-pipeline`` command line: real subprocesses, real files, the documented exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from cli_support import run_cli
from lxml import etree

from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_NAME
from edge_pipeline.edge.outbound import read_outbound_header
from edge_pipeline.edge.outbound.core.xsd import load_schema


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "in"
    done = run(
        "synth", "--out", str(out), "--enrollees", "120", "--seed", "3", "--error-rate", "0.05"
    )
    assert done.returncode == 0, done.stderr
    assert "injected defects" in done.stdout
    return out


def test_synth_rejects_bad_arguments_with_exit_2(tmp_path: Path) -> None:
    done = run("synth", "--out", str(tmp_path), "--enrollees", "0", "--seed", "1")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--enrollees" in done.stderr


def test_ingest_exit_codes(tmp_path: Path, issuer: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert run("ingest", str(issuer), "--warehouse", str(warehouse)).returncode == 0
    bad = tmp_path / "bad.xml"
    bad.write_text("<not-edge/>")
    done = run("ingest", str(bad), "--warehouse", str(warehouse))
    assert done.returncode == 2 and "bad.xml" in done.stdout
    done = run("ingest", str(tmp_path / "missing.xml"), "--warehouse", str(warehouse))
    assert done.returncode == 2 and "no such file" in done.stderr


def test_validate_writes_xsd_valid_reports_that_load_back(tmp_path: Path, issuer: Path) -> None:
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "out"
    done = run(
        "validate", str(issuer), "--warehouse", str(warehouse), "--out", str(out),
        "--generated-at", "2026-05-01T09:00:00",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    inbound = sorted(issuer.glob("*.xml"))
    reports = sorted(out.glob("*.xml"))
    assert len(reports) == 4 * len(inbound)  # ESFAR, detail, summary and frequency per file
    for report in reports:
        header = read_outbound_header(report)
        schema = load_schema(OUTBOUND_BY_NAME[header.layout.name])
        assert schema.validate(etree.parse(str(report))), schema.error_log
    loaded = run("load-outbound", str(out), "--warehouse", str(warehouse))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    linked = con.execute(
        "SELECT count(DISTINCT file_identifier) FROM reported_file_status "
        "WHERE file_identifier IN (SELECT file_identifier FROM submission_file)"
    ).fetchone()[0]
    assert linked == len(inbound)


def test_validate_without_a_plan_registry_is_bad_input(tmp_path: Path, issuer: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    first = sorted(issuer.glob("*.xml"))[0]
    (lonely / first.name).write_bytes(first.read_bytes())
    done = run("validate", str(lonely), "--warehouse", str(tmp_path / "w"), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "plan_registry.csv" in done.stderr


def test_partitions_list_and_remove_a_bad_partition(tmp_path: Path, issuer: Path) -> None:
    """``partitions remove`` deletes a file's partition from the Dagster instance at
    ``$DAGSTER_HOME`` (its type's and ``inbound_files``), says what the warehouse still holds
    of it, and ``--forget`` takes that out too."""
    import dagster as dg

    from edge_pipeline.base.folders import REPO_ROOT
    from edge_pipeline.defs.inbound.partitions import register_file_partition
    from edge_pipeline.edge.readers.header import read_header

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    eses = next(p for p in issuer.glob("*.xml") if read_header(p).layout.name == "ESES")
    key = read_header(eses).file_identifier
    warehouse = tmp_path / "w.duckdb"
    assert run("ingest", str(eses), "--warehouse", str(warehouse)).returncode == 0
    with dg.DagsterInstance.from_config(str(home)) as instance:
        register_file_partition(instance, "eses", key)
        register_file_partition(instance, "esmcs", "OTHERFILE001")

    env = {"DAGSTER_HOME": str(home)}
    listed = run_cli("partitions", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert f"eses_files (1): {key}" in listed.stdout
    assert "esmcs_files (1): OTHERFILE001" in listed.stdout
    assert "benefit_years (0)" in listed.stdout

    wrong = run_cli("partitions", "remove", "--kind", "esmcs", key, env=env)
    assert wrong.returncode == 2 and "not an esmcs partition" in wrong.stderr

    removed = run_cli("partitions", "remove", key, "--warehouse", str(warehouse), env=env)
    assert removed.returncode == 0, removed.stderr
    assert f"removed partition {key} from inbound_files, eses_files" in removed.stdout
    assert "still holds 1 load attempt(s)" in removed.stdout
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_dynamic_partitions("eses_files") == []
        assert instance.get_dynamic_partitions("inbound_files") == ["OTHERFILE001"]

    again = run_cli("partitions", "remove", key, env=env)
    assert again.returncode == 2 and "no inbound file partition" in again.stderr
    forgot = run_cli(
        "partitions", "remove", key, "--warehouse", str(warehouse), "--forget", env=env
    )
    assert forgot.returncode == 0, forgot.stderr
    assert f"forgot {key}: 1 load attempt(s)" in forgot.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM enrollee").fetchone() == (0,)

    nowhere = run_cli("partitions", "list", env={"DAGSTER_HOME": str(tmp_path / "none")})
    assert nowhere.returncode == 2 and "no Dagster instance" in nowhere.stderr
