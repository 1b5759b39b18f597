"""The Dagster layer: definitions load and validate, and ingesting a partition really loads it.

Every test uses a temporary warehouse, inbox and Dagster instance; nothing touches ``data/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster_support import ingest as ingest_file
from dagster_support import query

from edge_pipeline.base.folders import REPO_ROOT
from edge_pipeline.definitions import defs
from edge_pipeline.defs.domain import Domain
from edge_pipeline.defs.inbound.assets import (
    BY_LAYOUT,
    REFUSED_INBOUND_FILES,
    SUBMISSION_FILE,
    TABLE_GROUP_ASSETS,
)
from edge_pipeline.defs.inbound.jobs import ingest_job_name
from edge_pipeline.defs.inbound.partitions import INBOUND_FILES_PARTITIONS_NAME, file_partitions
from edge_pipeline.defs.inbound.resources import (
    INBOX_FILE_TAG,
    REFUSAL_TAG,
    InboxResource,
    NotASubmission,
)
from edge_pipeline.defs.resources import DUCKDB_WRITER_POOL, WarehouseResource
from edge_pipeline.edge.layouts.outbound import RA_LAYOUTS
from edge_pipeline.edge.readers.header import read_header
from edge_pipeline.edge.synth.generate import generate_issuer
from edge_pipeline.edge.warehouse.schema import TABLES

GROUP_KEYS = {dg.AssetKey(group.key) for group in TABLE_GROUP_ASSETS}
RA_NAMES = ("RACSD", "RACSS", "RARSD", "RARSS", "RATEE")


# --------------------------------------------------------------------------- definitions


def test_definitions_validate_with_the_dagster_cli(tmp_path: Path) -> None:
    dagster = Path(sys.executable).parent / "dagster"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful for code location edge_pipeline" in done.stderr + done.stdout


def test_each_landing_asset_is_partitioned_by_its_own_file_type() -> None:
    graph = defs.resolve_asset_graph()
    ingest = defs.resolve_assets_def(SUBMISSION_FILE)
    assert ingest.node_def.name == "ingest_inbound_file"
    assert ingest.keys == {SUBMISSION_FILE, REFUSED_INBOUND_FILES, *GROUP_KEYS}
    assert ingest.can_subset
    assert ingest.op.pool == DUCKDB_WRITER_POOL
    for key in ingest.keys:
        assert graph.get(key).group_name == "inbound"
    for key in (SUBMISSION_FILE, REFUSED_INBOUND_FILES):  # tables every file appends to
        assert graph.get(key).partitions_def is None
    for group in TABLE_GROUP_ASSETS:
        node = graph.get(dg.AssetKey(group.key))
        assert node.partitions_def.name == f"{group.kind}_files"
        assert dg.AssetKey("inbox_xml_file") in node.parent_keys
        assert node.metadata["dagster/column_schema"].columns
        job = defs.resolve_job_def(ingest_job_name(group.kind))
        assert job.partitions_def.name == f"{group.kind}_files"
    assert graph.get(dg.AssetKey("inbox_xml_file")).partitions_def.name == (
        INBOUND_FILES_PARTITIONS_NAME
    )
    sensor = defs.resolve_sensor_def("inbox_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds >= 10
    assert {job.name for job in sensor.jobs} == {
        *(ingest_job_name(group.kind) for group in TABLE_GROUP_ASSETS),
        "record_refused_inbound_file",
    }


def test_report_assets_show_each_reports_recipients() -> None:
    """The assets that write or read EDGE's reports list, in the UI, every report they handle
    with its recipient class as its layout declares it (issue 15)."""
    graph = defs.resolve_asset_graph()
    shown = {
        asset: {
            record.data["report"]: (record.data["recipients"], record.data["content"])
            for record in graph.get(dg.AssetKey(asset)).metadata["recipients"].records
        }
        for asset in (
            "shadow_phase1_reports",
            "reported_esfar",
            "reported_phase1_detail",
            "shadow_phase2_reports",
            "reported_ra_reports",
        )
    }
    cms, issuer = ("issuer + CMS", "aggregate"), ("issuer only", "may carry member ids")
    assert shown["reported_esfar"] == {"ESFAR": cms}
    assert shown["reported_phase1_detail"] == {
        **dict.fromkeys(("ESDEE", "ESDMCE", "ESDPCE", "ESDSFE"), issuer),
        **dict.fromkeys(("ESSEFE", "ESSMFE", "ESSPFE", "ESSSFE"), cms),
    }
    assert shown["shadow_phase1_reports"] == {
        **shown["reported_esfar"],
        **shown["reported_phase1_detail"],
    }
    assert {name: shown["reported_ra_reports"][name] for name in RA_NAMES} == {
        "RACSD": issuer,
        "RACSS": cms,
        "RARSD": issuer,
        "RARSS": cms,
        "RATEE": cms,
    }
    assert shown["shadow_phase2_reports"] == shown["reported_ra_reports"]
    assert set(shown["reported_ra_reports"]) == {layout.name for layout in RA_LAYOUTS}


def test_a_domain_applies_its_group_owners_tags_and_pool_to_every_asset() -> None:
    """``Domain.definitions`` sets what the asset decorators no longer repeat; the pool, an op
    property, reaches the op of a multi-asset with checks, and an external asset gets none."""

    @dg.multi_asset(
        specs=[dg.AssetSpec("a", skippable=True, tags={"layer": "raw"}), dg.AssetSpec("b")],
        check_specs=[dg.AssetCheckSpec("a_ok", asset="a")],
        can_subset=True,
    )
    # ``context`` unannotated: this module's annotations are strings, Dagster needs real types
    def both(context) -> Iterator[dg.MaterializeResult]:
        yield dg.MaterializeResult(asset_key="a")
        yield dg.MaterializeResult(asset_key="b")

    domain = Domain("g", owners=["team:t"], tags={"domain": "g", "layer": "domain"})
    built = domain.definitions(assets=[both, dg.AssetSpec("external")])
    graph = built.resolve_asset_graph()
    for name in ("a", "b", "external"):
        node = graph.get(dg.AssetKey(name))
        assert (node.group_name, node.owners) == ("g", ["team:t"]), name
        assert node.tags["domain"] == "g", name
    assert graph.get(dg.AssetKey("a")).tags["layer"] == "raw"  # the asset's own tag wins
    assert built.resolve_assets_def("a").op.pool == DUCKDB_WRITER_POOL
    assert built.resolve_assets_def("a").check_keys == {dg.AssetCheckKey(dg.AssetKey("a"), "a_ok")}
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="its own group or owners"):
        domain.definitions(assets=[dg.AssetSpec("grouped", group_name="other")])
    with dg.instance_for_test() as instance:
        assert dg.materialize(built.assets, instance=instance).success


def test_dagster_yaml_limits_the_writer_pool_to_one_and_disables_telemetry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.event_log_storage.supports_global_concurrency_limits
        assert not instance.telemetry_enabled
    settings = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    assert settings["load_from"][0]["python_module"]["module_name"] == "edge_pipeline.definitions"


# --------------------------------------------------------------------------- ingest


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small synthetic issuer: layout name -> its inbound file."""
    out = tmp_path_factory.mktemp("synthetic")
    manifest = generate_issuer(out, enrollees=40, seed=7)
    files = {e.layout: out / e.path for e in manifest.files if e.role == "submission"}
    assert set(files) == set(BY_LAYOUT)
    return files


@pytest.fixture
def env(tmp_path: Path, issuer: dict[str, Path]) -> Iterator[dict]:
    """A fresh inbox holding the issuer's files, an empty warehouse, an ephemeral instance."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in issuer.values():
        shutil.copy2(path, inbox / path.name)
    warehouse = tmp_path / "warehouse.duckdb"
    with dg.instance_for_test() as instance:
        yield {
            "instance": instance,
            "inbox": inbox,
            "warehouse": warehouse,
            "resources": {
                "warehouse": WarehouseResource(database=str(warehouse)),
                "inbox": InboxResource(path=str(inbox)),
            },
        }


def ingest(
    env: dict, key: str, tags: dict[str, str] | None = None, kind: str | None = None
) -> dg.ExecuteInProcessResult:
    return ingest_file(env["instance"], env["resources"], key, tags, kind=kind)


def materialized(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, dict]:
    return {
        e.asset_key: {k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def test_each_file_type_materializes_its_own_table_group(env: dict, issuer: dict) -> None:
    for layout, path in issuer.items():
        key = read_header(path).file_identifier
        result = ingest(env, key)  # no run tags: the file is found by its header, as from the UI
        assert result.success, layout
        events = materialized(result)
        group = BY_LAYOUT[layout]
        assert set(events) == {SUBMISSION_FILE, dg.AssetKey(group.key)}, layout
        meta = events[dg.AssetKey(group.key)]
        assert meta["status"] == "loaded"
        assert meta["file_name"] == path.name
        assert meta["dagster/partition_row_count"] > 0
        assert meta["dagster/column_schema"].columns
        for table in group.tables:
            (count,) = query(
                env["warehouse"],
                f"SELECT count(*) FROM {table} WHERE file_identifier = ?",
                [key],
            )[0]
            assert count == meta[f"rows/{table}"], (layout, table)
        assert query(
            env["warehouse"], "SELECT status FROM submission_file WHERE file_identifier = ?", [key]
        ) == [("loaded",)]


def test_metadata_carries_no_member_data(env: dict, issuer: dict) -> None:
    text = ""
    for path in issuer.values():
        result = ingest(env, read_header(path).file_identifier)
        events = materialized(result)
        text += repr({k: v for e in events.values() for k, v in e.items() if "schema" not in k})
    member_columns = [
        (table, column)
        for table, columns in TABLES.items()
        for column in columns
        if column
        in ("insured_member_identifier", "insured_member_birth_date", "subscriber_identifier")
    ]
    values = set()
    for table, column in member_columns:
        values |= {row[0] for row in query(env["warehouse"], f"SELECT {column} FROM {table}")}
    values -= {None, "", "M", "F", "U", "S"}
    assert len(values) > 10
    assert not [value for value in values if value in text]


def test_identical_redelivery_changes_nothing(env: dict, issuer: dict) -> None:
    path = issuer["ESMCS"]
    key = read_header(path).file_identifier
    first = ingest(env, key)
    assert first.success
    tables = BY_LAYOUT["ESMCS"].tables
    before = [query(env["warehouse"], f"SELECT count(*) FROM {t}")[0][0] for t in tables]
    files_before = query(env["warehouse"], "SELECT count(*) FROM submission_file")[0][0]

    again = ingest(env, key, tags={INBOX_FILE_TAG: path.name})
    assert again.success
    events = materialized(again)
    assert events[SUBMISSION_FILE]["status"] == "unchanged"
    assert "nothing was written" in events[SUBMISSION_FILE]["note"]
    after = [query(env["warehouse"], f"SELECT count(*) FROM {t}")[0][0] for t in tables]
    assert after == before
    assert query(env["warehouse"], "SELECT count(*) FROM submission_file")[0][0] == files_before


def test_a_refused_file_is_recorded_without_a_partition(env: dict) -> None:
    bad = env["inbox"] / "broken.xml"
    bad.write_text("<not-edge><unclosed></not-edge>")
    with pytest.raises(NotASubmission):
        env["resources"]["inbox"].submission(bad)

    result = defs.resolve_job_def("record_refused_inbound_file").execute_in_process(
        instance=env["instance"],
        resources=env["resources"],
        tags={INBOX_FILE_TAG: bad.name, REFUSAL_TAG: "header unreadable"},
    )
    assert result.success
    events = materialized(result)
    assert set(events) == {SUBMISSION_FILE, REFUSED_INBOUND_FILES}
    refused = events[REFUSED_INBOUND_FILES]
    assert refused["status"] == "refused"
    assert refused["file_name"] == "broken.xml"
    assert refused["reason"] == "header unreadable"
    rows = query(
        env["warehouse"], "SELECT status, error FROM submission_file WHERE file_name = 'broken.xml'"
    )
    assert len(rows) == 1
    assert rows[0][0] == "refused"
    assert "broken.xml" in rows[0][1] and "header unreadable" in rows[0][1]
    assert not any(file_partitions(env["instance"]).values())  # no partition of any type


def test_a_failed_load_fails_the_run_and_is_recorded(env: dict, issuer: dict) -> None:
    source = issuer["ESMCS"]
    key = read_header(source).file_identifier
    broken = env["inbox"] / source.name
    broken.write_bytes(source.read_bytes()[: source.stat().st_size // 2])  # header intact

    result = ingest(env, key)
    assert not result.success
    events = materialized(result)
    assert set(events) == {SUBMISSION_FILE}
    assert events[SUBMISSION_FILE]["status"] == "failed"
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert source.name in failure.step_failure_data.error.message
    assert query(
        env["warehouse"], "SELECT status FROM submission_file WHERE file_identifier = ?", [key]
    ) == [("failed",)]


def test_reused_file_identifier_is_refused_and_fails(env: dict, issuer: dict) -> None:
    path = issuer["ESPCS"]
    key = read_header(path).file_identifier
    assert ingest(env, key).success
    reused = env["inbox"] / ("copy-" + path.name)
    reused.write_bytes(path.read_bytes() + b"\n<!-- different bytes, same fileIdentifier -->\n")

    result = ingest(env, key, tags={INBOX_FILE_TAG: reused.name})
    assert not result.success
    assert materialized(result)[SUBMISSION_FILE]["status"] == "refused"
    assert query(
        env["warehouse"],
        "SELECT status FROM submission_file WHERE file_name = ?",
        [reused.name],
    ) == [("refused",)]


def test_missing_file_fails_with_a_clear_message(env: dict) -> None:
    result = ingest(env, "NOSUCHFILE01", kind="esmcs")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "NOSUCHFILE01" in failure.step_failure_data.error.message
    assert not env["warehouse"].exists()  # nothing to load: the warehouse was not even opened
