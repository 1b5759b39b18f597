"""The jobs the inbox sensor (and the demo) launch: one ingest job per file type, and the job
that records a file refused as a submission.

A Dagster job runs over one partitions definition, and each landing asset has its own type's
(``eses_files`` ...), so ``ingest_eses_files`` materializes ``eses_enrollment`` (and the
``submission_file`` registry) for one ESES file, and so on.  In-process: each job is one step,
so a step subprocess would only add start-up time per file.  The ``duckdb_writer`` pool is
enforced by the in-process executor as well.
"""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.inbound.assets import (
    REFUSED_INBOUND_FILES,
    SUBMISSION_FILE,
    TABLE_GROUP_ASSETS,
)
from edge_pipeline.defs.inbound.partitions import file_partitions_def


def ingest_job_name(file_kind: str) -> str:
    """The ingest job of ``file_kind`` (``ingest_eses_files`` for ``eses``)."""
    return f"ingest_{file_kind.lower()}_files"


INGEST_JOBS: dict[str, dg.UnresolvedAssetJobDefinition] = {
    group.kind: dg.define_asset_job(
        name=ingest_job_name(group.kind),
        selection=dg.AssetSelection.assets(SUBMISSION_FILE, group.key),
        partitions_def=file_partitions_def(group.kind),
        executor_def=dg.in_process_executor,
        description=(
            f"Load one {group.layout} file (partition = fileIdentifier) into the warehouse."
        ),
    )
    for group in TABLE_GROUP_ASSETS
}

#: Record an inbox file that is not a recognisable submission (no partition; the run tags
#: name the file and the reason).
record_refused_inbound_file = dg.define_asset_job(
    name="record_refused_inbound_file",
    selection=dg.AssetSelection.assets(SUBMISSION_FILE, REFUSED_INBOUND_FILES),
    executor_def=dg.in_process_executor,
    description="Record an inbox file refused as a submission in submission_file.",
)

INBOUND_JOBS = [*INGEST_JOBS.values(), record_refused_inbound_file]
