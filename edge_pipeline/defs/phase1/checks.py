"""The Phase 1 asset checks, declared once: names, targets, what failing means.

They are declared on the assets that evaluate them (``check_specs``), not as separate
``@asset_check`` ops: each check reads exactly what its asset just wrote, in the same warehouse
connection, so it costs no extra lock on DuckDB.  They are partitioned by ``inbound_files``
(a Dagster preview feature in 1.13), so the UI shows each file's own result rather than
whichever file ran last (``defs/check_specs.py``).
"""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.check_specs import partitioned_check_spec
from edge_pipeline.defs.inbound.partitions import inbound_files

SHADOW_PHASE1 = dg.AssetKey("shadow_phase1")
SHADOW_PHASE1_REPORTS = dg.AssetKey("shadow_phase1_reports")
REPORTED_ESFAR = dg.AssetKey("reported_esfar")
REPORTED_PHASE1_DETAIL = dg.AssetKey("reported_phase1_detail")
PHASE1_RECONCILIATION = dg.AssetKey("phase1_reconciliation")

PHASE1_CONSERVATION = "phase1_conservation"
REPORTED_ERRORS_POINT_TO_RECORDS = "reported_errors_point_to_records"
REPORTED_COUNTS_CONSERVED = "reported_counts_conserved"
SHADOW_MATCHES_REPORTED = "shadow_matches_reported"


def _spec(name: str, asset: dg.AssetKey, description: str, blocking: bool) -> dg.AssetCheckSpec:
    return partitioned_check_spec(
        name, asset, description, blocking=blocking, partitions_def=inbound_files
    )


phase1_conservation = _spec(
    PHASE1_CONSERVATION,
    SHADOW_PHASE1,
    "Shadow level counts conserve records: received = accepted + rejected at every level "
    "(spec section 4). Blocking: shadow reports are not written from a verdict that loses "
    "records.",
    blocking=True,
)
reported_errors_point_to_records = _spec(
    REPORTED_ERRORS_POINT_TO_RECORDS,
    REPORTED_PHASE1_DETAIL,
    "Every status and error of the file's detail reports names an inbound record of the file "
    "(record identifier and level); header errors excepted.",
    blocking=False,
)
reported_counts_conserved = _spec(
    REPORTED_COUNTS_CONSERVED,
    REPORTED_PHASE1_DETAIL,
    "The summary reports' level counts conserve records: recordsReceived = recordsAccepted + "
    "recordsRejected at every level.",
    blocking=False,
)
shadow_matches_reported = _spec(
    SHADOW_MATCHES_REPORTED,
    PHASE1_RECONCILIATION,
    "EDGE's Phase 1 reports say what the shadow verification says: same file status and "
    "header errors, and for every record the same status and error codes. Failing lists the "
    "differing records (identifier, level, statuses, codes).",
    blocking=False,
)
