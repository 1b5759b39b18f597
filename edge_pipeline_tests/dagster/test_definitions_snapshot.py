"""A snapshot of the Dagster definitions: what the UI shows as the graph.

As dagster-open-platform does, the graph's shape (asset keys, groups, owners, tags, kinds,
upstream keys, partitions, the concurrency pool of the op computing each asset and check, checks,
jobs, sensors, schedules) is written to a reviewed JSON file, so that a
refactor which changes the graph, on purpose or not, shows up as a diff of that file instead of
passing unnoticed.  After an intended change, regenerate it and review the diff:

    EDGE_UPDATE_SNAPSHOTS=1 pytest edge_pipeline_tests/dagster/test_definitions_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg

from edge_pipeline.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    """A partitions definition in words: its kind, and its name or keys where they are fixed."""
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.DynamicPartitionsDefinition):
        return f"dynamic:{partitions_def.name}"
    if isinstance(partitions_def, dg.StaticPartitionsDefinition):
        return "static:" + ",".join(partitions_def.get_partition_keys())
    return type(partitions_def).__name__


def _pool(graph: Any, key: dg.AssetKey | dg.AssetCheckKey) -> str | None:
    """The concurrency pool of the op that computes ``key`` (``None``: external, or no pool)."""
    node = graph.get(key) if isinstance(key, dg.AssetKey) else None
    if node is not None and not node.is_executable:
        return None
    assets_def = graph.assets_def_for_key(key)
    return assets_def.op.pool if assets_def.is_executable else None


def definitions_shape() -> dict[str, Any]:
    """The graph as sorted plain data (nothing that depends on the machine or the clock)."""
    graph = defs.resolve_asset_graph()
    repository = defs.get_repository_def()
    assets = {}
    for spec in sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string()):
        assets[spec.key.to_user_string()] = {
            "group": spec.group_name,
            "deps": sorted(d.asset_key.to_user_string() for d in spec.deps),
            "partitions": _partitions(spec.partitions_def),
            "owners": sorted(spec.owners),
            "tags": {k: v for k, v in spec.tags.items() if not k.startswith("dagster/kind/")},
            "kinds": sorted(spec.kinds),
            "pool": _pool(graph, spec.key),
        }
    checks = {}
    for key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        spec = graph.get_check_spec(key)
        checks[key.to_user_string()] = {"blocking": spec.blocking, "pool": _pool(graph, key)}
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(j.name for j in repository.get_all_jobs() if not j.name.startswith("__")),
        "sensors": {
            s.name: {
                "jobs": sorted(t.job_name for t in s.targets),
                "default_status": s.default_status.value,
            }
            for s in sorted(repository.sensor_defs, key=lambda s: s.name)
        },
        "schedules": {
            s.name: {
                "cron": s.cron_schedule,
                "job": s.job_name,
                "default_status": s.default_status.value,
            }
            for s in sorted(repository.schedule_defs, key=lambda s: s.name)
        },
    }


def test_the_definitions_match_their_reviewed_snapshot() -> None:
    shape = json.dumps(definitions_shape(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("EDGE_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(shape, encoding="utf-8")
    assert SNAPSHOT.is_file(), "no snapshot yet: run with EDGE_UPDATE_SNAPSHOTS=1"
    assert shape == SNAPSHOT.read_text(encoding="utf-8"), (
        "the Dagster definitions changed: review and regenerate with EDGE_UPDATE_SNAPSHOTS=1 "
        f"({SNAPSHOT.name})"
    )
