"""What every sensor and schedule shares: the tags it puts on the runs it starts, and how it
reads a run's outcome from the Dagster instance (never from DuckDB: a sensor that opened the
warehouse would contend with the runs for its single writer lock).
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

#: Tag naming the sensor or schedule that started a run.
AUTOMATION_TAG = "edge/automation"
#: Tag naming the run whose success started this one.
TRIGGERED_BY_TAG = "edge/triggered_by_run"
#: Tag ``make demo`` puts on its runs (value ``demo``, ``edge_pipeline/demo/runs.py``): the demo
#: drives its own chain, one run after the other, so the run-status sensors leave its runs alone.
LAUNCHED_BY_TAG = "edge/launched_by"
#: Evaluation interval of the run-status sensors.  A run-status sensor handles one finished run
#: per evaluation when it requests something, so a burst of N files is followed within about
#: N x this interval.
MINIMUM_INTERVAL_SECONDS = 5
#: Dagster's tag of a run's partition.
PARTITION_TAG = "dagster/partition"


def launched_by_demo(run: dg.DagsterRun) -> bool:
    return run.tags.get(LAUNCHED_BY_TAG) == "demo"


def run_materializations(
    instance: dg.DagsterInstance, run_id: str, asset_key: dg.AssetKey
) -> list[Mapping[str, object]]:
    """The metadata (plain values) of every materialization of ``asset_key`` in the run."""
    records = instance.get_records_for_run(
        run_id=run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    found = []
    for record in records:
        materialization = record.asset_materialization
        if materialization is not None and materialization.asset_key == asset_key:
            found.append({k: getattr(v, "value", v) for k, v in materialization.metadata.items()})
    return found


def materialized_partitions(instance: dg.DagsterInstance, asset_key: dg.AssetKey) -> set[str]:
    """Partitions of ``asset_key`` materialized at least once (the instance's asset index)."""
    return {key for key in instance.get_materialized_partitions(asset_key) if key is not None}
