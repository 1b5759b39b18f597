"""Arrow tables as Dagster metadata: the rows an asset or check shows (differences, counts,
offending records) as a table and as markdown, first rows only.

Shared by every domain whose assets compute Arrow tables (Phase 1, Phase 2, reconciliation).
Callers pass only the columns to show, and never a member identifier, name, birth date or an
offending element's value (which can be any of those).
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import pyarrow as pa

from edge_pipeline.base.markdown import markdown_table, readable

#: Rows shown in a table/markdown metadata value; the full list is in the warehouse table.
MAX_ROWS = 100


def counts(by_name: dict[str, int]) -> str:
    """``{"R01": 3, "R07": 1}`` as ``R01 3, R07 1`` (``none`` when empty), sorted by name."""
    return ", ".join(f"{name} {n:,}" for name, n in sorted(by_name.items())) or "none"


def arrow_table_metadata(
    table: pa.Table, columns: Sequence[str], max_rows: int = MAX_ROWS
) -> dg.TableMetadataValue:
    """The first ``max_rows`` rows of ``columns`` as a Dagster table (lists joined by spaces)."""
    rows = table.select(list(columns)).slice(0, max_rows).to_pylist()
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: readable(row[c]) for c in columns}) for row in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
    )


def arrow_markdown(table: pa.Table, columns: Sequence[str], max_rows: int = MAX_ROWS) -> str:
    """The first ``max_rows`` rows of ``columns`` as a markdown table, with a note if cut."""
    rows = table.select(list(columns)).slice(0, max_rows).to_pylist()
    return markdown_table(columns, [[row[c] for c in columns] for row in rows], table.num_rows)


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
