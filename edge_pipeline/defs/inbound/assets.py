"""Inbound ingest as assets: one asset per file type, partitioned by the files of that type.

A single ``@multi_asset`` loads a file because the loader writes all of a file's tables in one
transaction: a file is either entirely in the warehouse or not at all.  Its specs are

* one landing asset per file type (``eses_enrollment`` ...), each partitioned by its own type's
  files (``eses_files`` ..., ``defs/inbound/partitions.py``), so ``eses_enrollment`` lists the
  ESES files only.  Dagster runs a job over one partitions definition, so each type has its
  ingest job (``ingest_eses_files`` ..., ``jobs.py``), selecting its landing asset and the
  registry;
* ``submission_file``, the registry table of every load attempt of every type (loaded,
  unchanged, refused, failed): unpartitioned, since it is one table all files append to, and
  materialized by every ingest run, also when the file could not be loaded (its metadata names
  the file, its partition and the outcome);
* ``refused_inbound_files``: inbox files that are not a recognisable submission (header
  unreadable, unknown type, no usable ``fileIdentifier``).  They never become partitions; the
  inbox sensor starts a ``record_refused_inbound_file`` run for each, which records the refusal
  in ``submission_file`` (status ``refused``, nothing loaded) and materializes this asset with
  the file name and the reason, so the UI lists every refused file on its page.

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
from edge_pipeline.defs.inbound.partitions import file_partitions_def, inbound_files
from edge_pipeline.defs.inbound.resources import (
    INBOX_FILE_TAG,
    REFUSAL_TAG,
    InboxFileNotFound,
    InboxResource,
)
from edge_pipeline.defs.metadata import table_metadata
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.layouts import BY_NAME, BY_TYPE
from edge_pipeline.edge.warehouse.load import (
    LoadResult,
    PreparedFile,
    load_prepared,
    record_refused,
)
from edge_pipeline.edge.warehouse.schema import TABLE_GROUPS, TABLES, ensure_schema

#: Metadata key of ``submission_file`` and landing-asset materializations: the loaded inbox
#: file's ``mtime_ns:size`` when the load started (the inbox sensor's signature of a file
#: version).
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

    @property
    def kind(self) -> str:
        """The file kind (``eses``), naming its partitions definition and ingest job."""
        return self.layout.lower()


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

BY_KIND: dict[str, TableGroup] = {group.kind: group for group in TABLE_GROUP_ASSETS}

SUBMISSION_FILE = dg.AssetKey("submission_file")
SUBMISSION_FILE_TABLES: tuple[str, ...] = ("submission_file",)
REFUSED_INBOUND_FILES = dg.AssetKey("refused_inbound_files")

#: The landed XML file itself: produced outside Dagster, observed by ``inbox_sensor``.
inbox_xml_file = dg.AssetSpec(
    "inbox_xml_file",
    description=(
        "An inbound EDGE XML file (ESES, ESMCS, ESPCS or ESSFS) landed in the inbox by the "
        "issuer's systems. External: Dagster does not produce it; the inbox sensor registers "
        "one partition per recognisable file (its fileIdentifier) in inbound_files and in its "
        "type's partitions (eses_files, ...)."
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


def _spec(
    key: str,
    tables: tuple[str, ...],
    description: str,
    skippable: bool,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        deps=[inbox_xml_file],
        partitions_def=partitions_def,
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
        "Registry of every load attempt of an inbound file of any type: fileIdentifier, type, "
        "zone, size, sha256 and status (loaded, unchanged, failed, refused). One table all "
        "files append to, so unpartitioned: materialized by every ingest run, also when the "
        "file could not be loaded, its metadata naming the file, partition and outcome.",
        skippable=False,
    ),
    dg.AssetSpec(
        REFUSED_INBOUND_FILES,
        description=(
            "Inbox files refused as submissions (header unreadable, unknown root element, no "
            "fileIdentifier or one Dagster cannot take as a partition key): they get no "
            "partition. Each materialization is one refused file (name, reason, mtime:size); "
            "the refusal is recorded in submission_file with status refused, nothing loaded. "
            "Started by the inbox sensor (job record_refused_inbound_file)."
        ),
        kinds={"duckdb"},
        skippable=True,
    ),
    *(
        _spec(
            group.key,
            group.tables,
            f"Landing tables of {group.title} files, raw text as the issuer sent it. "
            f"Partitioned by the {group.layout} files only ({group.kind}_files).",
            skippable=True,
            partitions_def=file_partitions_def(group.kind),
        )
        for group in TABLE_GROUP_ASSETS
    ),
]


@dg.multi_asset(
    name="ingest_inbound_file",
    specs=INGEST_SPECS,
    can_subset=True,
    description=(
        "Load one inbound EDGE file (the partition of its type's landing asset) into the "
        "DuckDB warehouse in one transaction and record the attempt in submission_file; or, "
        "unpartitioned, record an inbox file refused as a submission."
    ),
)
def ingest_inbound_file(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, inbox: InboxResource
) -> Iterator[dg.MaterializeResult]:
    """Find the partition's file, load it, report what changed; fail loudly if it was refused.

    The load is always the whole file (one transaction); asset selection only decides which
    materializations are reported.  An unpartitioned run records a refused inbox file instead.
    """
    if not context.has_partition_key:
        yield from _record_refusal(context, warehouse, inbox)
        return
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
        file_tables = table_metadata(con, SUBMISSION_FILE_TABLES)  # the whole registry
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
                "partition": partition_key,
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
            INBOX_SIGNATURE_KEY: signature,
            # what this load wrote (or found already there): the same as the tables' rows of
            # the file, unless a table is shared by the file's type and another's
            **{f"rows/{table}": count for table, count in group_rows.items()},
            "dagster/partition_row_count": sum(group_rows.values()),
        },
        data_version=data_version,
    )


def _record_refusal(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, inbox: InboxResource
) -> Iterator[dg.MaterializeResult]:
    """Record the run's refused inbox file (run tags: its name, the sensor's reason) in
    ``submission_file`` without loading it, and materialize ``refused_inbound_files``."""
    name = context.run.tags.get(INBOX_FILE_TAG, "")
    reason = context.run.tags.get(REFUSAL_TAG) or "not a recognisable submission"
    path = inbox.member(name)
    if path is None:
        raise dg.Failure(
            description=f"no file {printable_name(name)!r} in the inbox {inbox.folder}",
            allow_retries=False,
        )
    signature = _signature(path)
    with PreparedFile(path) as prepared, warehouse.get_connection() as con:
        result = record_refused(con, prepared, reason)
        registry = table_metadata(con, SUBMISSION_FILE_TABLES)
        # every refused attempt on record, this one included
        refused = table_metadata(
            con, SUBMISSION_FILE_TABLES, ("status = 'refused'", []), partitioned=False
        )
    context.log.warning("%s refused: %s", printable_name(name), result.error)
    metadata = {**_file_metadata(result), "reason": reason, INBOX_SIGNATURE_KEY: signature}
    if SUBMISSION_FILE in context.selected_asset_keys:
        yield dg.MaterializeResult(
            asset_key=SUBMISSION_FILE,
            metadata={**metadata, **registry, "rows/submission_file": 1},
            data_version=dg.DataVersion(result.sha256 or signature),
        )
    if REFUSED_INBOUND_FILES in context.selected_asset_keys:
        yield dg.MaterializeResult(
            asset_key=REFUSED_INBOUND_FILES, metadata={**metadata, **refused}
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
