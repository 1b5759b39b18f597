"""Stream an inbound EDGE file into columnar batches, with memory flat in file size.

Why this shape: a large issuer's ESMCS runs to several GB.  lxml's iterparse is filtered (in C)
to the layout's record elements; when a record ends, its leaf children are read into a row and
the record is removed from the tree, so the tree never holds more than one open record chain.
Rows are buffered per table and handed out as Arrow tables of ``batch_rows`` rows, which DuckDB
appends without another Python pass.

Values stay raw text: the warehouse is the auditable copy of what the issuer sent, and Phase 1
must be able to report ``04/01/2025`` exactly as it appeared.  Only ``recordIdentifier`` is
parsed, because it is the key every outbound report links on; a record without a usable one
cannot be traced and makes the file unloadable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import pyarrow as pa
from lxml import etree

from edge_pipeline.edge.errors import InboundFormatError
from edge_pipeline.edge.layouts import EDGE_NAMESPACE, FileLayout, Record
from edge_pipeline.edge.layouts.common import RECORD_IDENTIFIER
from edge_pipeline.edge.readers.header import layout_for_root
from edge_pipeline.edge.readers.xmlparse import iterparse, refuse_doctype, syntax_error

NS = f"{{{EDGE_NAMESPACE}}}"
RID_TAG = NS + RECORD_IDENTIFIER.name
DEFAULT_BATCH_ROWS = 65_536


def record_columns(record: Record, ancestors: tuple[Record, ...]) -> list[tuple[str, pa.DataType]]:
    """Columns of a record's table as the reader emits them (``file_identifier`` is added by
    the loader): the record's own identifier, its ancestors' identifiers, then the raw values."""
    columns: list[tuple[str, pa.DataType]] = [(RECORD_IDENTIFIER.column, pa.int64())]
    columns += [(a.parent_key, pa.int64()) for a in ancestors]
    columns += [(f.column, pa.string()) for f in record.value_fields if f is not RECORD_IDENTIFIER]
    return columns


def repeated_columns(
    record: Record, ancestors: tuple[Record, ...], element: Any
) -> list[tuple[str, pa.DataType]]:
    """Columns of a repeated value's table: owning record, its ancestors, position, value."""
    columns: list[tuple[str, pa.DataType]] = [(RECORD_IDENTIFIER.column, pa.int64())]
    columns += [(a.parent_key, pa.int64()) for a in ancestors]
    columns += [(element.sequence_column, pa.int32()), (element.column, pa.string())]
    return columns


@dataclass
class _RecordReader:
    """Everything needed to turn one ended record element into rows, compiled once."""

    record: Record
    ancestors: tuple[Record, ...]
    schema: pa.Schema
    slots: dict[str, int]  # leaf tag -> index into the row's value part
    repeated: dict[str, int]  # repeated leaf tag -> index into repeated buffers
    repeated_schemas: list[pa.Schema]
    repeated_tables: list[str]
    nested: frozenset[str]  # child record / container tags: already consumed
    rows: list[tuple] = field(default_factory=list)
    repeated_rows: list[list[tuple]] = field(default_factory=list)
    parent: Any = None  # last parent element seen, and its ancestors' identifiers
    parent_ids: tuple[int, ...] = ()

    @classmethod
    def compile(cls, record: Record, ancestors: tuple[Record, ...]) -> _RecordReader:
        values = [f for f in record.value_fields if f is not RECORD_IDENTIFIER]
        repeated = list(record.repeated_fields)
        return cls(
            record=record,
            ancestors=ancestors,
            schema=pa.schema(record_columns(record, ancestors)),
            slots={NS + f.name: i for i, f in enumerate(values)},
            repeated={NS + f.name: i for i, f in enumerate(repeated)},
            repeated_schemas=[
                pa.schema(repeated_columns(record, ancestors, f)) for f in repeated
            ],
            repeated_tables=[f.table for f in repeated],  # type: ignore[misc]
            nested=frozenset(NS + (c.container or c.element) for c in record.children),
            repeated_rows=[[] for _ in repeated],
        )


class InboundStreamReader:
    """Reads one inbound file of a known layout and yields ``(table, arrow_table)`` batches."""

    def __init__(
        self, layout: FileLayout, name: str, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> None:
        self.layout = layout
        self.name = name
        self.batch_rows = batch_rows
        self.readers = {
            NS + record.element: _RecordReader.compile(record, ancestors)
            for record, ancestors in layout.records()
        }
        self.records_read = 0

    def batches(self, source: IO[bytes]) -> Iterator[tuple[str, pa.Table]]:
        """Parse ``source`` to the end, yielding full batches as they fill and the rest last."""
        events = iterparse(source, self.name, ("end",), tag=self.readers)
        first = True
        try:
            for _, elem in events:
                if first:
                    root = elem.getroottree().getroot()
                    refuse_doctype(root, self.name)
                    if layout_for_root(root.tag, self.name) is not self.layout:
                        raise InboundFormatError(
                            self.name, f"root {etree.QName(root).localname} is not a {self.layout.name}"
                        )
                    first = False
                reader = self.readers[elem.tag]
                self._read_record(reader, elem)
                if len(reader.rows) >= self.batch_rows:
                    yield from self._flush(reader)
        except etree.XMLSyntaxError as exc:
            raise syntax_error(self.name, exc) from exc
        if first:
            raise InboundFormatError(self.name, f"no {self.layout.issuer.element} record found")
        for reader in self.readers.values():
            yield from self._flush(reader)

    def _read_record(self, reader: _RecordReader, elem: Any) -> None:
        values: list[str | None] = [None] * len(reader.slots)
        repeated: list[list[str]] = [[] for _ in reader.repeated]
        rid_text: str | None = None
        slots, reps, nested = reader.slots, reader.repeated, reader.nested
        for child in elem:
            tag = child.tag
            slot = slots.get(tag)
            if slot is not None:
                if values[slot] is not None:
                    self._fail(reader, elem, rid_text, tag, "element appears more than once")
                values[slot] = child.text or ""
            elif tag == RID_TAG:
                rid_text = child.text
            elif tag in nested:
                continue
            else:
                rep = reps.get(tag)
                if rep is None:
                    self._fail(reader, elem, rid_text, tag, "unexpected element")
                repeated[rep].append(child.text or "")
        rid = self._identifier(reader, elem, rid_text)
        parent = elem.getparent()
        if parent is not reader.parent:
            reader.parent = parent
            reader.parent_ids = self._ancestor_ids(reader, elem)
        reader.rows.append((rid, *reader.parent_ids, *values))
        for i, items in enumerate(repeated):
            if items:
                key = (rid, *reader.parent_ids)
                reader.repeated_rows[i].extend((*key, n, v) for n, v in enumerate(items, 1))
        self.records_read += 1
        elem.clear()
        parent.remove(elem)

    def _identifier(self, reader: _RecordReader, elem: Any, text: str | None) -> int:
        if text is None:
            self._fail(reader, elem, None, RID_TAG, "recordIdentifier is missing")
        value = text.strip()
        if not value.isdigit() or not value.isascii():
            self._fail(reader, elem, None, RID_TAG, f"recordIdentifier {text!r} is not an integer")
        return int(value)

    def _ancestor_ids(self, reader: _RecordReader, elem: Any) -> tuple[int, ...]:
        """Identifiers of the enclosing records, outermost first (their leaves precede us)."""
        ids: list[int] = []
        node = elem.getparent()
        for ancestor in reversed(reader.ancestors):
            while node is not None and node.tag != NS + ancestor.element:
                node = node.getparent()
            if node is None:
                self._fail(reader, elem, None, None, f"not inside a {ancestor.element}")
            rid = node.find(RID_TAG)
            ancestor_reader = self.readers[NS + ancestor.element]
            ids.append(self._identifier(ancestor_reader, node, None if rid is None else rid.text))
            node = node.getparent()
        return tuple(reversed(ids))

    def _flush(self, reader: _RecordReader) -> Iterator[tuple[str, pa.Table]]:
        if reader.rows:
            yield reader.record.table, _to_arrow(reader.rows, reader.schema)
            reader.rows = []
        for i, rows in enumerate(reader.repeated_rows):
            if rows:
                yield reader.repeated_tables[i], _to_arrow(rows, reader.repeated_schemas[i])
                reader.repeated_rows[i] = []

    def _fail(
        self, reader: _RecordReader, elem: Any, rid_text: str | None, tag: Any, reason: str
    ) -> None:
        rid = int(rid_text) if rid_text and rid_text.strip().isdigit() else None
        element = etree.QName(tag).localname if isinstance(tag, str) else None
        if not isinstance(tag, str) and tag is not None:
            reason = "entity references and other non-element nodes are not allowed"
        raise InboundFormatError(
            self.name,
            reason,
            record=reader.record.element,
            record_identifier=rid,
            element=element,
            line=elem.sourceline,
        )


def _to_arrow(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )
