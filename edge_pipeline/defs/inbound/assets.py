"""Inbound ingest as assets: one partition per landed file, one asset per warehouse table group.

A single ``@multi_asset`` loads a file because the loader writes all of a file's tables in one
transaction: a file is either entirely in the warehouse or not at all.  Its specs are the file
registry (``submission_file``, always materialized) and one skippable asset per file type; only
the spec matching the file's type is materialized for a partition, so the asset graph shows
which partitions (files) fed which tables.

Metadata is operational (counts, sizes, hashes, timings, the loader's error text) plus the
partition's row count, the tables' column schema and a preview of their first rows with member
identifiers masked and birth dates dropped (``defs/metadata.py``): never a member identifier,
name or birth date in clear.
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from edge_pipeline.base.names import printable_name
from edge_pipeline.defs.inbound.partitions import inbound_files
from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG, InboxFileNotFound, InboxResource
from edge_pipeline.defs.metadata import table_metadata
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.layouts import BY_NAME, BY_TYPE
from edge_pipeline.edge.warehouse.load import LoadResult, PreparedFile, load_prepared
from edge_pipeline.edge.warehouse.schema import TABLE_GROUPS, TABLES, ensure_schema

#: Metadata key of ``submission_file`` materializations: the loaded inbox file's
#: ``mtime_ns:size`` when the load started (the inbox sensor's signature of a file version).
INBOX_SIGNATURE_KEY = "inbox_signature"


@dataclass(frozen=True)
class TableGroup:
    """The asset standing for the warehouse tables one inbound file type fills."""

    layout: str
    key: str
    title: str
    preview_table: str

    @property
    def tables(self) -> tuple[str, ...]:
        return TABLE_GROUPS[self.layout]


TABLE_GROUP_ASSETS: tuple[TableGroup, ...] = (
    TableGroup("ESES", "eses_enrollment", "enrollment (ESES)", "enrollee"),
    TableGroup("ESMCS", "esmcs_medical_claims", "medical claims (ESMCS)", "medical_claim"),
    TableGroup("ESPCS", "espcs_pharmacy_claims", "pharmacy claims (ESPCS)", "pharmacy_claim"),
    TableGroup(
        "ESSFS",
        "essfs_supplemental_diagnoses",
        "supplemental diagnoses (ESSFS)",
        "supplemental_record",
    ),
)
BY_LAYOUT: dict[str, TableGroup] = {group.layout: group for group in TABLE_GROUP_ASSETS}

SUBMISSION_FILE = dg.AssetKey("submission_file")
SUBMISSION_FILE_TABLES: tuple[str, ...] = ("submission_file",)

#: The landed XML file itself: produced outside Dagster, observed by ``inbox_sensor``.
inbox_xml_file = dg.AssetSpec(
    "inbox_xml_file",
    description=(
        "An inbound EDGE XML file (ESES, ESMCS, ESPCS or ESSFS) landed in the inbox by the "
        "issuer's systems. External: Dagster does not produce it; the inbox sensor registers "
        "one partition per file."
    ),
    kinds={"xml"},
    partitions_def=inbound_files,
)


def column_schema(columns: Mapping[str, Mapping[str, str]]) -> dg.TableSchema:
    """One Dagster column schema for several tables, columns named ``table.column``."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=f"{table}.{name}", type=sql_type.split()[0].lower())
            for table, table_columns in columns.items()
            for name, sql_type in table_columns.items()
        ]
    )


def _spec(key: str, tables: tuple[str, ...], description: str, skippable: bool) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        deps=[inbox_xml_file],
        description=description,
        kinds={"duckdb"},
        skippable=skippable,
        metadata={
            "warehouse_tables": ", ".join(tables),
            "dagster/column_schema": column_schema({t: TABLES[t] for t in tables}),
        },
    )


INGEST_SPECS: list[dg.AssetSpec] = [
    _spec(
        SUBMISSION_FILE.path[-1],
        SUBMISSION_FILE_TABLES,
        "Registry of every load attempt of an inbound file: fileIdentifier, type, zone, size, "
        "sha256 and status (loaded, failed, refused). Materialized for every partition, also "
        "when the file could not be loaded, so the failure is on record.",
        skippable=False,
    ),
    *(
        _spec(
            group.key,
            group.tables,
            f"Landing tables of {group.title} files, raw text as the issuer sent it. "
            f"Materialized only for partitions whose file is {group.layout}.",
            skippable=True,
        )
        for group in TABLE_GROUP_ASSETS
    ),
]


@dg.multi_asset(
    name="ingest_inbound_file",
    specs=INGEST_SPECS,
    partitions_def=inbound_files,
    can_subset=True,
    description=(
        "Load one inbound EDGE file (the partition) into the DuckDB warehouse in one "
        "transaction and record the attempt in submission_file."
    ),
)
def ingest_inbound_file(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, inbox: InboxResource
) -> Iterator[dg.MaterializeResult]:
    """Find the partition's file, load it, report what changed; fail loudly if it was refused.

    The load is always the whole file (one transaction); asset selection only decides which
    materializations are reported.
    """
    partition_key = context.partition_key
    try:
        path = inbox.find_file(partition_key, context.run.tags.get(INBOX_FILE_TAG))
    except InboxFileNotFound as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc

    signature = _signature(path)
    # checked, hashed and its header read before the warehouse (and its lock) is taken
    with PreparedFile(path) as prepared, warehouse.get_connection() as con:
        ensure_schema(con)
        result = load_prepared(con, prepared)
        group = _group_of(result)
        file_tables = table_metadata(
            con,
            SUBMISSION_FILE_TABLES,
            ("file_identifier = ? OR file_name = ?", [partition_key, partition_key]),
        )
        group_rows = _group_rows(con, result, group) if group else {}
        group_tables = (
            table_metadata(
                con,
                group.tables,
                ("file_identifier = ?", [result.file_identifier]),
                preview_table=group.preview_table,
            )
            if group and result.ok and result.file_identifier
            else {}
        )

    context.log.info(
        "%s %s: %s in %.2f s",
        result.layout or "file",
        printable_name(result.file_name),
        result.status,
        result.seconds,
    )
    data_version = dg.DataVersion(result.sha256)
    common = _file_metadata(result)

    if SUBMISSION_FILE in context.selected_asset_keys:
        yield dg.MaterializeResult(
            asset_key=SUBMISSION_FILE,
            metadata={
                **common,
                **file_tables,
                INBOX_SIGNATURE_KEY: signature,
                # every attempt but an identical re-delivery adds one registry row
                "rows/submission_file": 0 if result.status == "unchanged" else 1,
            },
            data_version=data_version,
        )

    if not result.ok:
        raise dg.Failure(
            description=(
                f"{printable_name(result.file_name)} not loaded ({result.status}): {result.error} "
                "(the attempt is recorded in submission_file)"
            ),
            metadata=common,
            allow_retries=False,
        )

    if group is None:  # unreachable for a loaded file; guards a layout added without an asset
        raise dg.Failure(
            description=f"{printable_name(result.file_name)}: no asset for layout {result.layout}"
        )
    group_key = dg.AssetKey(group.key)
    if group_key not in context.selected_asset_keys:
        context.log.warning(
            "%s is a %s file; %s was loaded but not selected, so not reported as materialized",
            printable_name(result.file_name),
            group.layout,
            group.key,
        )
        return
    yield dg.MaterializeResult(
        asset_key=group_key,
        metadata={
            **common,
            **group_tables,
            # what this load wrote (or found already there): the same as the tables' rows of
            # the file, unless a table is shared by the file's type and another's
            **{f"rows/{table}": count for table, count in group_rows.items()},
            "dagster/partition_row_count": sum(group_rows.values()),
        },
        data_version=data_version,
    )


def _signature(path: Path) -> str:
    """``mtime_ns:size`` of the inbox file before it is read (the inbox sensor's signature)."""
    try:
        stat = path.lstat()  # as the sensor takes it: a symlink's own, never its target's
    except OSError:  # gone: the loader records the failed attempt
        return ""
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def _group_of(result: LoadResult) -> TableGroup | None:
    """The table group of the file's type, from the layout or the header's submission type."""
    layout = result.layout or (
        BY_TYPE[result.submission_type].name if result.submission_type in BY_TYPE else None
    )
    return BY_LAYOUT.get(layout) if layout in BY_NAME else None


def _group_rows(
    con: duckdb.DuckDBPyConnection, result: LoadResult, group: TableGroup
) -> dict[str, int]:
    """Rows of this partition's file per table: written now, or already there if unchanged."""
    if result.status == "loaded":
        return {table: result.rows.get(table, 0) for table in group.tables}
    if result.status == "unchanged" and result.file_identifier:
        return {
            table: con.execute(
                f'SELECT count(*) FROM "{table}" WHERE file_identifier = ?',
                [result.file_identifier],
            ).fetchone()[0]
            for table in group.tables
        }
    return {}


def _file_metadata(result: LoadResult) -> dict[str, object]:
    """Operational facts about the load attempt; nothing about members."""
    metadata: dict[str, object] = {
        "status": result.status,
        "file_name": result.file_name,
        "file_identifier": result.file_identifier or "",
        "layout": result.layout or "unknown",
        "size_bytes": result.size_bytes,
        "sha256": result.sha256,
        "records": result.records,
        "load_seconds": round(result.seconds, 3),
    }
    if result.load_id is not None:
        metadata["load_id"] = result.load_id
    if result.status == "unchanged":
        metadata["note"] = "identical re-delivery of a file already loaded: nothing was written"
    if result.error:
        metadata["error"] = result.error
    return metadata
