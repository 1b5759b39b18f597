"""Every record of one file in one table, ``_v_rec``: the frame for the sequence check, the
cascade and ``shadow_record_status``.

Columns: ``record_identifier``, ``level``, ``depth`` (1 issuer, 2 plan or enrollee, 3 claim,
period or supplemental, 4 service line), ``parent_record_identifier``, ``record_key`` (the
business id the detail reports echo), ``k1``..``k4``, the identifiers of the record's
ancestors and itself by depth (NULL below its own depth), and ``record_position``, the
record's document position as the reader numbered it.

Document order (the X401 sequence check): ``record_position`` orders the records by their
start tags across all record types, so any break of the +1 numbering is seen where it occurs,
two siblings with swapped identifiers included.  Positions are not contiguous (a file read by
two workers jumps at the split) and mean nothing across files; only their order is used.

Rows loaded by a release that did not record positions have ``record_position`` NULL; their
order is rebuilt from the tree instead, which is exact only for files whose siblings are
numbered in increasing order: sorting by (k1, k2, k3, k4) with NULLs first is the pre-order
walk of issuer > plan > claim > line, so swapped siblings go undetected there.  A file is
loaded by one release, so its rows are either all positioned or none.
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.layouts import BY_NAME
from edge_pipeline.edge.readers.stream import POSITION_COLUMN
from edge_pipeline.edge.verification.rules import Rule, Source

#: The business identifier echoed per level (None: the level has none).
RECORD_KEYS = {
    "issuer": "issuer_identifier",
    "plan": "insurance_plan_identifier",
    "enrollee": "insured_member_identifier",
    "claim": "claim_identifier",
    "supplemental": "supplemental_diagnosis_detail_record_identifier",
}


def build_inventory(con: duckdb.DuckDBPyConnection, layout_name: str, fid: str) -> None:
    """Create ``_v_rec`` with every record of the file ``fid``."""
    layout = BY_NAME[layout_name]
    parts = []
    for record, ancestors in layout.records():
        depth = len(ancestors) + 1
        keys = [a.parent_key for a in ancestors] + ["record_identifier"]
        keys += ["NULL::BIGINT"] * (4 - len(keys))
        parent = ancestors[-1].parent_key if ancestors else "NULL::BIGINT"
        key_column = RECORD_KEYS.get(record.level)
        key = key_column if key_column else "NULL::VARCHAR"
        columns = ", ".join(f"{k} AS k{i + 1}" for i, k in enumerate(keys))
        parts.append(
            f"SELECT record_identifier, '{record.level}' AS level, {depth} AS depth, "
            f"{parent} AS parent_record_identifier, {key} AS record_key, {columns}, "
            f"{POSITION_COLUMN} FROM {record.table} WHERE file_identifier = $fid"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _v_rec AS {' UNION ALL '.join(parts)}", {"fid": fid})


#: X401: a record whose identifier is not one more than the preceding record's (any record
#: type), in document order: ``record_position``, else (older loads) the tree order.
SEQUENCE_SOURCE = Source(
    "record_sequence",
    "*",
    "*",
    f"""
SELECT record_identifier, level, lag(record_identifier) OVER (
  ORDER BY {POSITION_COLUMN} NULLS LAST,
    k1 NULLS FIRST, k2 NULLS FIRST, k3 NULLS FIRST, k4 NULLS FIRST) AS _previous
FROM _v_rec
""",
    (
        Rule(
            "X401",
            # HUGEINT: the +1 of the largest BIGINT identifier must not overflow
            "CAST(record_identifier AS HUGEINT) <> coalesce(CAST(_previous AS HUGEINT), 0) + 1",
            "CAST(record_identifier AS VARCHAR)",
            "'recordIdentifier'",
        ),
    ),
)
