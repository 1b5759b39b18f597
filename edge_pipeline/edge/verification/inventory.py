"""Every record of one file in one table, ``_v_rec``: the frame for the sequence check, the
cascade and ``shadow_record_status``.

Columns: ``record_identifier``, ``level``, ``depth`` (1 issuer, 2 plan or enrollee, 3 claim,
period or supplemental, 4 service line), ``parent_record_identifier``, ``record_key`` (the
business id the detail reports echo) and ``k1``..``k4``, the identifiers of the record's
ancestors and itself by depth (NULL below its own depth).

Document order: the landing tables keep no byte position, so the order is rebuilt from the
tree, which is exact for every file whose siblings are numbered in increasing order: sorting
by (k1, k2, k3, k4) with NULLs first is the pre-order walk of issuer > plan > claim > line.
Two siblings whose identifiers are swapped are therefore not detected as a sequence break
(only their parents' and children's numbering is).
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.layouts import BY_NAME
from edge_pipeline.edge.verification.rules import Rule, Source
from edge_pipeline.edge.verification.sql import lit

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
            f"{parent} AS parent_record_identifier, {key} AS record_key, {columns} "
            f"FROM {record.table} WHERE file_identifier = {lit(fid)}"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _v_rec AS {' UNION ALL '.join(parts)}")


#: X401: the first record whose identifier breaks the +1 sequence (any record type).
SEQUENCE_SOURCE = Source(
    "record_sequence",
    "*",
    "*",
    """
SELECT record_identifier, level, lag(record_identifier) OVER (
  ORDER BY k1 NULLS FIRST, k2 NULLS FIRST, k3 NULLS FIRST, k4 NULLS FIRST) AS _previous
FROM _v_rec
""",
    (
        Rule(
            "X401",
            "record_identifier <> coalesce(_previous, 0) + 1",
            "CAST(record_identifier AS VARCHAR)",
            "'recordIdentifier'",
        ),
    ),
)
