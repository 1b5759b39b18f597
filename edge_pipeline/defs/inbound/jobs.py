"""The job the inbox sensor (and the demo) launch: ingest one inbound file partition."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.inbound.assets import ingest_inbound_file
from edge_pipeline.defs.inbound.partitions import inbound_files

#: In-process: the job is one step, so a step subprocess would only add start-up time per file.
#: The ``duckdb_writer`` pool is enforced by the in-process executor as well.
ingest_inbound_files = dg.define_asset_job(
    name="ingest_inbound_files",
    selection=dg.AssetSelection.assets(ingest_inbound_file),
    partitions_def=inbound_files,
    executor_def=dg.in_process_executor,
    description="Load one inbound EDGE file (partition = fileIdentifier) into the warehouse.",
)
