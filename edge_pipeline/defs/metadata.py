"""What every asset shows an analyst in the UI: owners, tags, and the table(s) it wrote.

One place for the materialize-time table metadata of every domain (``table_metadata``):

* ``dagster/row_count``: rows of the table(s) the asset writes, restricted to the partition
  (the file's or the benefit year's rows) when the asset is partitioned; the same number is
  also ``dagster/partition_row_count`` then, and ``rows/<table>`` splits it per table;
* ``dagster/column_schema``: the tables' columns and types as DuckDB really has them
  (``DESCRIBE``), named ``table.column`` when the asset writes several tables;
* ``preview``: a markdown table of the first rows of the asset's main table, **with no member
  data**: member and subscriber identifiers (and the record keys that carry them) are masked as
  ``M-`` + the first 8 hex digits of their sha256, so rows of one member still line up; birth
  dates, names and offending element values (which can be any of those) are dropped.

and ``files_metadata`` for the assets that write report files rather than tables.  Owners and
tags are declared per domain here too, so the asset graph is grouped and owned consistently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from edge_pipeline.base.markdown import markdown_table
from edge_pipeline.base.warehouse.query import table_exists

#: The five asset groups of the UI (one per domain; the reconciliation group gathers what EDGE
#: reported compared with the shadow, Phase 1 and Phase 2).
GROUPS: tuple[str, ...] = ("inbound", "reference", "phase1", "phase2", "reconciliation")

#: Owners per domain: the encounter-data team owns what the issuer sends and Phase 1, the
#: risk-adjustment team owns Phase 2 and its reconciliation.
ENCOUNTER_DATA_OWNERS: list[str] = ["team:encounter-data"]
RISK_ADJUSTMENT_OWNERS: list[str] = ["team:risk-adjustment"]
OWNERS: dict[str, list[str]] = {
    "inbound": ENCOUNTER_DATA_OWNERS,
    "reference": ENCOUNTER_DATA_OWNERS,
    "phase1": ENCOUNTER_DATA_OWNERS,
    "phase2": RISK_ADJUSTMENT_OWNERS,
    "reconciliation": RISK_ADJUSTMENT_OWNERS,
}

#: Rows shown in a preview.
PREVIEW_ROWS = 10

#: Columns holding a member's (or subscriber's) identifier: masked in previews.
MEMBER_ID_COLUMNS = frozenset(
    {
        "member_id",
        "insured_member_identifier",
        "subscriber_id",
        "subscriber_identifier",
        # a Phase 1 record key is the member identifier of an enrollee record
        "record_key",
    }
)
#: Columns never shown in a preview: an offending element's raw value can be any member datum.
DROPPED_COLUMNS = frozenset({"value"})


def asset_tags(domain: str, **extra: str) -> dict[str, str]:
    """The tags of every asset of ``domain`` (searchable in the UI's asset catalog)."""
    return {"domain": domain, **extra}


def owners(domain: str) -> list[str]:
    """The owners of ``domain``'s assets."""
    return list(OWNERS[domain])


def is_member_id(column: str) -> bool:
    name = column.lower()
    return name in MEMBER_ID_COLUMNS or name.endswith(("_member_identifier", "_member_id"))


def is_dropped(column: str) -> bool:
    """Birth dates, names and raw element values: never in a preview, not even masked."""
    name = column.lower()
    return (
        name in DROPPED_COLUMNS
        or "birth" in name
        or (name.endswith("_name") and name not in {"file_name", "table_name"})
        or name in {"first_name", "last_name", "name"}
    )


def mask(value: object) -> str:
    """``M-`` + the first 8 hex digits of the value's sha256: the same member always gets the
    same mask, and the mask cannot be read back into the identifier."""
    if value is None or value == "":
        return ""
    return "M-" + hashlib.sha256(str(value).encode()).hexdigest()[:8]


def describe(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, bool]]:
    """``(column, type, nullable)`` of ``table`` as DuckDB has it."""
    return [
        (row[0], str(row[1]), str(row[2]).upper() != "NO")
        for row in con.execute(f'DESCRIBE "{table}"').fetchall()
    ]


def _column(table: str | None, name: str, sql_type: str, nullable: bool) -> dg.TableColumn:
    description = None
    if is_member_id(name):
        description = "member identifier: masked in previews"
    elif is_dropped(name):
        description = "member data: never shown in previews"
    return dg.TableColumn(
        name=f"{table}.{name}" if table else name,
        type=sql_type.lower(),
        description=description,
        constraints=dg.TableColumnConstraints(nullable=nullable),
    )


def column_schema(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], qualify: bool | None = None
) -> dg.TableSchema:
    """The column schema of ``tables`` (``table.column`` names when there are several)."""
    qualify = len(tables) > 1 if qualify is None else qualify
    return dg.TableSchema(
        columns=[
            _column(table if qualify else None, name, sql_type, nullable)
            for table in tables
            if table_exists(con, table)
            for name, sql_type, nullable in describe(con, table)
        ]
    )


Filter = tuple[str, Sequence[object]]


def _filter(where: Filter | Mapping[str, Filter] | None, table: str) -> Filter:
    if where is None:
        return "TRUE", []
    if isinstance(where, Mapping):
        return where.get(table, ("TRUE", []))
    return where


def preview(
    con: duckdb.DuckDBPyConnection,
    table: str,
    where: Filter = ("TRUE", []),
    rows: int = PREVIEW_ROWS,
) -> str:
    """The first ``rows`` rows of ``table`` (``where``) as markdown, member data masked or
    dropped (see the module docstring)."""
    if not table_exists(con, table):
        return f"_{table} does not exist yet_"
    condition, params = where
    shown = [(name, is_member_id(name)) for name, _, _ in describe(con, table)]
    shown = [(name, masked) for name, masked in shown if not is_dropped(name)]
    select = ", ".join(f'"{name}"' for name, _ in shown)
    total = con.execute(f'SELECT count(*) FROM "{table}" WHERE {condition}', list(params))
    (count,) = total.fetchone()
    fetched = con.execute(
        f'SELECT {select} FROM "{table}" WHERE {condition} ORDER BY rowid LIMIT {int(rows)}',
        list(params),
    ).fetchall()
    body = [
        [mask(value) if masked else value for (_, masked), value in zip(shown, row, strict=True)]
        for row in fetched
    ]
    return f"**{table}**\n\n" + markdown_table([name for name, _ in shown], body, count)


def table_metadata(
    con: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    where: Filter | Mapping[str, Filter] | None = None,
    *,
    preview_table: str | None = None,
    partitioned: bool | None = None,
    rows: int = PREVIEW_ROWS,
) -> dict[str, Any]:
    """Row count, column schema and a PHI-free preview of what an asset wrote.

    ``where`` restricts the counts and the preview to the partition: one ``(sql, params)`` for
    every table, or one per table (a table not named is counted whole).  ``preview_table``
    (default: the first table) is the one previewed.  With a ``where`` the asset is taken as
    partitioned and ``dagster/partition_row_count`` is set as well.
    """
    counts: dict[str, int] = {}
    for table in tables:
        if not table_exists(con, table):
            counts[table] = 0
            continue
        condition, params = _filter(where, table)
        (counts[table],) = con.execute(
            f'SELECT count(*) FROM "{table}" WHERE {condition}', list(params)
        ).fetchone()
    total = sum(counts.values())
    shown = preview_table or tables[0]
    metadata: dict[str, Any] = {
        "dagster/row_count": total,
        "dagster/column_schema": column_schema(con, tables),
        "preview": dg.MetadataValue.md(preview(con, shown, _filter(where, shown), rows)),
    }
    if partitioned if partitioned is not None else where is not None:
        metadata["dagster/partition_row_count"] = total
    if len(tables) > 1:
        metadata.update({f"rows/{table}": count for table, count in counts.items()})
    return metadata


FILES_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("file", "string", description="report file name"),
        dg.TableColumn("folder", "string", description="sub-folder (issuer and zone)"),
        dg.TableColumn("size_bytes", "int"),
    ]
)


def files_metadata(root: Path, paths: Sequence[Path], rows: int = PREVIEW_ROWS) -> dict[str, Any]:
    """Metadata of an asset that writes report files: one "row" per file (no member data: the
    names carry issuer, report type, time and zone only)."""
    listed = [
        (path.name, str(path.parent.relative_to(root)) if path.parent != root else "", size)
        for path in paths
        for size in [path.stat().st_size if path.exists() else 0]
    ]
    return {
        "dagster/row_count": len(listed),
        "dagster/column_schema": FILES_SCHEMA,
        "preview": dg.MetadataValue.md(
            markdown_table(["file", "folder", "size_bytes"], listed[:rows], len(listed))
        ),
    }
