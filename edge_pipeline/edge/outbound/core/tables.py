"""Column types of the ``reported_*`` tables, as DDL text and as Arrow, for both report families.

Batches of reported rows are built as Arrow tables whose types match the DDL, so a batch whose
column happens to be all NULL still inserts.
"""

from __future__ import annotations

import re

import pyarrow as pa


def ddl_columns(ddl: str) -> dict[str, str]:
    """``"a BIGINT, b VARCHAR NOT NULL"`` -> ``{"a": "BIGINT", "b": "VARCHAR NOT NULL"}``."""
    columns: dict[str, str] = {}
    for part in re.split(r",(?![^()]*\))", ddl):
        name, sql_type = part.strip().split(None, 1)
        columns[name] = sql_type
    return columns


_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "DOUBLE": pa.float64(),
}


def decimal_type(sql_type: str) -> tuple[int, int] | None:
    """``DECIMAL(12,3)`` -> ``(12, 3)``; ``None`` for any other type."""
    if not sql_type.startswith("DECIMAL("):
        return None
    precision, scale = sql_type[len("DECIMAL(") : -1].split(",")
    return int(precision), int(scale)


def arrow_type(sql_type: str) -> pa.DataType:
    decimal = decimal_type(sql_type)
    if decimal is not None:
        return pa.decimal128(*decimal)
    return _ARROW_TYPES[sql_type.split()[0]]


def arrow_schema_of(columns: dict[str, str]) -> pa.Schema:
    """The Arrow schema of a table given as column -> DuckDB type."""
    return pa.schema([(name, arrow_type(sql)) for name, sql in columns.items()])
