"""What every asset shows in the UI: group, description, owners, tags, and at materialization
its row count, column schema and a preview of its first rows with no member data in clear.

A small synthetic issuer goes through every job (ingest, reference tables, Phase 1 shadow, the
simulated EDGE answer, Phase 1 reported, Phase 2 scoring and reported) on a temporary instance,
so every materializable asset is materialized at least once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_support import ingest, query

from edge_pipeline.definitions import defs
from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG, InboxResource
from edge_pipeline.defs.metadata import GROUPS, mask, preview, table_metadata
from edge_pipeline.defs.phase2.resources import TransferSettingsResource
from edge_pipeline.defs.reference.partitions import register_benefit_year
from edge_pipeline.defs.reference.resources import IssuerReferenceResource
from edge_pipeline.defs.report_files import OutboxResource, ShadowReportsResource
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.synth import generate_issuer

YEAR = "2025"
#: Assets Dagster does not materialize (EDGE's and the issuer's files, observed by sensors).
EXTERNAL = {"inbox_xml_file", "outbox_report_file", "outbox_ra_report"}
#: Group of the analyst reporting domain (``defs/reporting``), which has its own tests.
REPORTING = "reporting"


def pipeline_keys() -> set[dg.AssetKey]:
    """The assets of the five pipeline domains (every asset but the reporting domain's)."""
    graph = defs.resolve_asset_graph()
    return {
        k
        for k in graph.get_all_asset_keys()
        if REPORTING not in (graph.get(k).group_name, graph.get(k).tags.get("domain"))
    }


# --------------------------------------------------------------------------- definitions


def test_every_asset_has_a_group_description_owners_and_tags() -> None:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():  # every asset, the reporting domain's too
        node = graph.get(key)
        name = key.to_user_string()
        assert node.group_name in (*GROUPS, REPORTING), name
        assert node.description, name
        assert node.owners, name
        assert node.tags.get("domain"), name
    keys = pipeline_keys()
    assert len(keys) >= 20
    for key in keys:
        node = graph.get(key)
        name = key.to_user_string()
        assert node.group_name in GROUPS, name
        assert node.description and len(node.description) > 40, name
        assert node.owners and all(o.startswith("team:") for o in node.owners), name
        assert node.tags.get("domain") == node.group_name, name
    groups = {graph.get(key).group_name for key in keys}
    assert groups == set(GROUPS)
    reconciliation = {
        k.to_user_string() for k in keys if graph.get(k).group_name == "reconciliation"
    }
    assert reconciliation == {
        "phase1_reconciliation",
        "risk_score_reconciliation",
        "transfer_reconciliation",
        "user_fee_reconciliation",
        "hcrp_reconciliation",
        "enrollee_claims_reconciliation",
    }


# --------------------------------------------------------------------------- the helper


def test_preview_masks_member_identifiers_and_drops_birth_dates() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t (file_identifier VARCHAR, member_id VARCHAR, subscriber_identifier "
        "VARCHAR, insured_member_birth_date VARCHAR, record_key VARCHAR, value VARCHAR, "
        "plan_id VARCHAR, codes VARCHAR[])"
    )
    con.execute(
        "INSERT INTO t VALUES ('F1', 'ABC123', 'SUB9', '1960-01-02', 'ABC123', '1960-01-02', "
        "'P|1', ['A', 'B']), ('F2', 'XYZ', NULL, NULL, NULL, NULL, 'P2', [])"
    )
    text = preview(con, "t", ("file_identifier = ?", ["F1"]))
    assert mask("ABC123") in text and mask("SUB9") in text
    assert mask("ABC123") == "M-" + hashlib.sha256(b"ABC123").hexdigest()[:8]
    for secret in ("ABC123", "SUB9", "1960-01-02", "birth", "| value"):
        assert secret not in text
    assert "P\\|1" in text and "A B" in text and "F2" not in text

    meta = table_metadata(con, ["t"], ("file_identifier = ?", ["F1"]))
    assert meta["dagster/row_count"] == 1 == meta["dagster/partition_row_count"]
    columns = {c.name: c for c in meta["dagster/column_schema"].columns}
    assert columns["codes"].type == "varchar[]"
    assert "masked" in columns["member_id"].description
    con.execute("CREATE TABLE u AS SELECT plan_id FROM t")
    whole = table_metadata(con, ["t", "u"])  # unpartitioned, several tables: qualified names
    assert (
        whole["dagster/row_count"] == 4
        and whole["rows/u"] == 2
        and "dagster/partition_row_count" not in whole
    )
    assert "t.member_id" in {c.name for c in whole["dagster/column_schema"].columns}


# --------------------------------------------------------------------------- materializations


@dataclass
class Materialized:
    warehouse: Path
    results: list[dg.ExecuteInProcessResult]
    keys: dict[str, str]  # layout -> fileIdentifier
    logs: list[str]  # every message of every run's event log: context.log lines and events

    def metadata(self) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for result in self.results:
            for event in result.get_asset_materialization_events():
                found.setdefault(event.asset_key.to_user_string(), []).append(
                    dict(event.materialization.metadata)
                )
        return found


def _aged_copy(source: Path, target: Path) -> None:
    shutil.copytree(source, target, dirs_exist_ok=True)
    stamp = time.time() - 60
    for path in target.rglob("*.xml"):
        os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def materialized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Materialized]:
    root = tmp_path_factory.mktemp("metadata")
    synthetic = root / "synthetic"
    manifest = generate_issuer(synthetic, enrollees=30, seed=21)
    inbox, outbox, shadow = root / "inbox", root / "outbox", root / "shadow_reports"
    inbox.mkdir()
    files = {}
    for entry in manifest.files:
        if entry.role == "submission":
            shutil.copy2(synthetic / entry.path, inbox / Path(entry.path).name)
            files[entry.file_identifier] = (entry.layout, Path(entry.path).name)
    warehouse = root / "warehouse.duckdb"
    res = {
        "warehouse": WarehouseResource(database=str(warehouse)),
        "inbox": InboxResource(path=str(inbox)),
        "issuer_reference": IssuerReferenceResource(
            plan_registry=str(synthetic / "plan_registry.csv"), code_lists=str(synthetic)
        ),
        "outbox": OutboxResource(path=str(outbox), settle_seconds=0),
        "shadow_reports": ShadowReportsResource(path=str(shadow)),
        "transfer_settings": TransferSettingsResource(issuer_dir=str(synthetic)),
    }
    results = []
    logs: list[str] = []

    def run(job: str, key: str | None = None, tags: dict | None = None) -> None:
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance, partition_key=key, resources=res, tags=tags or {}
        )
        results.append(result)
        logs.extend(entry.user_message for entry in instance.all_logs(result.run_id))

    refused = inbox / "refused.xml"  # not a submission: recorded, no partition
    refused.write_bytes(b"<?xml version='1.0'?><notAnEdgeFile/>")
    with dg.instance_for_test() as instance:
        for key, (_, name) in files.items():
            results.append(ingest(instance, res, key, {INBOX_FILE_TAG: name}))
        run("record_refused_inbound_file", None, {INBOX_FILE_TAG: refused.name})
        run("refresh_reference_tables")
        for key in files:
            run("phase1_shadow", key)
        _aged_copy(shadow, outbox / "edge")  # the simulated EDGE server answers every file
        for key in files:
            run("phase1_reported", key)
        register_benefit_year(instance, YEAR)
        run("phase2_scoring", YEAR)
        _aged_copy(shadow / "phase2", outbox / "ra")
        run("phase2_reported", YEAR)
        layouts = {layout: key for key, (layout, _) in files.items()}
        yield Materialized(warehouse, results, layouts, logs)


def test_every_materialized_asset_has_row_count_column_schema_and_preview(
    materialized: Materialized,
) -> None:
    metadata = materialized.metadata()
    expected = {k.to_user_string() for k in pipeline_keys()} - EXTERNAL
    assert set(metadata) == expected
    for name, events in metadata.items():
        for meta in events:
            assert isinstance(meta["dagster/row_count"].value, int), name
            schema = meta["dagster/column_schema"].schema
            assert isinstance(schema, dg.TableSchema) and schema.columns, name
            assert isinstance(meta["preview"], dg.MarkdownMetadataValue), name
            assert meta["preview"].value.startswith(("**", "| file")), name


def test_row_counts_are_the_partitions_rows(materialized: Materialized) -> None:
    metadata = materialized.metadata()
    key = materialized.keys["ESES"]
    (enrollment,) = metadata["eses_enrollment"]
    expected = sum(
        query(materialized.warehouse, f"SELECT count(*) FROM {t} WHERE file_identifier = ?", [key])[
            0
        ][0]
        for t in ("submission_issuer", "enrollee", "enrollment_period")
    )
    assert enrollment["dagster/row_count"].value == expected
    assert enrollment["dagster/partition_row_count"].value == expected
    (scores,) = metadata["risk_scores"]
    (count,) = query(
        materialized.warehouse,
        "SELECT count(*) FROM shadow_risk_score WHERE benefit_year = ?",
        [int(YEAR)],
    )[0]
    assert scores["rows/shadow_risk_score"].value == count > 0


def test_previews_mask_member_identifiers(materialized: Materialized) -> None:
    metadata = materialized.metadata()
    (enrollment,) = metadata["eses_enrollment"]
    text = enrollment["preview"].value
    header = text.splitlines()[2]
    assert "insured_member_identifier" in header and "birth" not in header
    first = query(
        materialized.warehouse,
        "SELECT insured_member_identifier FROM enrollee WHERE file_identifier = ? "
        "ORDER BY rowid LIMIT 1",
        [materialized.keys["ESES"]],
    )[0][0]
    assert mask(first) in text and first not in text
    (scores,) = metadata["risk_scores"]
    assert "| M-" in scores["preview"].value


def test_no_member_data_in_any_metadata(materialized: Materialized) -> None:
    values: set[str] = set()
    for table, column in (
        ("enrollee", "insured_member_identifier"),
        ("enrollee", "insured_member_birth_date"),
        ("enrollment_period", "subscriber_identifier"),
    ):
        values |= {r[0] for r in query(materialized.warehouse, f"SELECT {column} FROM {table}")}
    values -= {None, ""}
    assert len(values) > 30
    text = repr(
        [
            {k: v for k, v in meta.items() if k != "dagster/column_schema"}
            for events in materialized.metadata().values()
            for meta in events
        ]
    )
    assert not sorted(v for v in values if v in text)


#: What a Python ``repr`` of a result object looks like in text: ``SelectionResult(benefit_year=``,
#: a dict ``{'evaluated': ``, or a default object repr ``<edge_pipeline.x.Y object at``.
REPR = re.compile(r"\w+\(\w+=|\{'\w+': |<edge_pipeline\.")


def _texts(value: object) -> list[str]:
    """The text a metadata value shows in the UI (a table's cells, a JSON value as JSON)."""
    if isinstance(value, dg.TableMetadataValue):
        return [str(cell) for record in value.records for cell in record.data.values()]
    if isinstance(value, dg.JsonMetadataValue):
        return [json.dumps(value.value)]
    if isinstance(value, dg.TableSchemaMetadataValue):
        return []
    return [str(getattr(value, "value", value))]


def test_run_logs_and_metadata_show_summaries_not_reprs(materialized: Materialized) -> None:
    """Every run of the pipeline (claim selection, scoring, transfer, the GX checks included)
    logs and records readable summaries: no Python repr of a result object, a list or a dict."""
    texts = [("log", message) for message in materialized.logs]
    for result in materialized.results:
        for event in result.all_events:
            if event.event_type_value == "ASSET_MATERIALIZATION":
                metadata = event.event_specific_data.materialization.metadata
            elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                evaluation = event.asset_check_evaluation_data
                metadata = evaluation.metadata
                texts.append((evaluation.asset_check_key.name, evaluation.description or ""))
            else:
                continue
            texts += [(name, text) for name, value in metadata.items() for text in _texts(value)]
    assert len(materialized.logs) > 100
    assert any("claim selection" in message for message in materialized.logs)
    assert any("transfer estimate" in message for message in materialized.logs)
    reprs = [(where, text[:200]) for where, text in texts if REPR.search(text)]
    assert not reprs
