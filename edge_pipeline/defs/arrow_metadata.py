"""Dagster metadata of the Phase 1 assets and checks: counts, statuses, codes, record ids.

Never a member identifier, name, birth date or an offending element's value (which can be any
of those): the report rows' ``record_key`` and ``value`` columns are not read here at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import pyarrow as pa

from edge_pipeline.edge.verification import VerificationResult

#: Rows shown in a table/markdown metadata value; the full list is in the warehouse table.
MAX_ROWS = 100

#: Record levels in the order the layouts nest them (for readable tables).
LEVEL_ORDER = (
    "file",
    "issuer",
    "plan",
    "enrollee",
    "enrollment_period",
    "claim",
    "line",
    "supplemental",
)


def _level_sort(level: str) -> tuple[int, str]:
    return (LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER), level)


def level_counts_table(
    received: Mapping[str, int], accepted: Mapping[str, int], rejected: Mapping[str, int]
) -> dg.TableMetadataValue:
    """Received / accepted / rejected per level, as a Dagster table."""
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "level": level,
                    "received": int(received.get(level, 0)),
                    "accepted": int(accepted.get(level, 0)),
                    "rejected": int(rejected.get(level, 0)),
                }
            )
            for level in sorted(received, key=_level_sort)
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("level", "string"),
                dg.TableColumn("received", "int"),
                dg.TableColumn("accepted", "int"),
                dg.TableColumn("rejected", "int"),
            ]
        ),
    )


def verification_metadata(result: VerificationResult) -> dict[str, Any]:
    """What the shadow said about a file: status, counts per level, errors per code."""
    return {
        "file_status": result.status,
        "layout": result.layout or "unknown",
        "load_id": result.load_id,
        "records": result.records,
        "errors": result.errors,
        "levels": level_counts_table(result.received, result.accepted, result.rejected),
        **{
            f"rejected/{level}": int(count)
            for level, count in sorted(result.rejected.items(), key=lambda kv: _level_sort(kv[0]))
        },
        "error_codes": dg.MetadataValue.json(dict(sorted(result.error_codes.items()))),
        "verify_seconds": round(result.seconds, 3),
    }


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(map(str, value))
    return str(value)


def arrow_table_metadata(
    table: pa.Table, columns: Sequence[str], max_rows: int = MAX_ROWS
) -> dg.TableMetadataValue:
    """The first ``max_rows`` rows of ``columns`` as a Dagster table (lists joined by spaces)."""
    rows = table.select(list(columns)).slice(0, max_rows).to_pylist()
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: _cell(row[c]) for c in columns}) for row in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
    )


def arrow_markdown(table: pa.Table, columns: Sequence[str], max_rows: int = MAX_ROWS) -> str:
    """The first ``max_rows`` rows of ``columns`` as a markdown table, with a note if cut."""
    rows = table.select(list(columns)).slice(0, max_rows).to_pylist()
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows]
    if table.num_rows > max_rows:
        lines.append(f"\n{table.num_rows - max_rows} more row(s) not shown.")
    return "\n".join(lines)


def differences_check_result(
    check_name: str,
    differences: pa.Table,
    columns: Sequence[str],
    rows_name: str,
    table: str,
    asset_key: dg.AssetKey | None = None,
) -> dg.AssetCheckResult:
    """A reconciliation check: passes when ``differences`` is empty, else shows its first rows
    (``columns`` only: callers list no member identifier) as a table and as markdown, and
    names the warehouse ``table`` that holds them all."""
    found = differences.num_rows
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=found == 0,
        metadata={
            "differences": found,
            **(
                {
                    rows_name: arrow_table_metadata(differences, columns),
                    f"{rows_name}_md": dg.MetadataValue.md(arrow_markdown(differences, columns)),
                }
                if found
                else {}
            ),
        },
        description=None if found == 0 else f"{found} difference(s); all rows in {table}",
    )
