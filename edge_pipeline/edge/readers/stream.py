"""Stream an inbound EDGE file into columnar batches, with memory flat in file size.

Why this shape: a large issuer's ESMCS runs to several GB.  lxml's iterparse is filtered (in C)
to the layout's record elements; when a record ends, its leaf children are read into a row and
the record is removed from the tree, so the tree never holds more than one open record chain.
Rows are buffered per table and handed out as Arrow tables of ``batch_rows`` rows, which DuckDB
appends without another Python pass.

Values stay raw text: the warehouse is the auditable copy of what the issuer sent, and Phase 1
must be able to report ``04/01/2025`` exactly as it appeared.  Only ``recordIdentifier`` is
parsed, because it is the key every outbound report links on; a record without a usable one
(not unsigned digits, or beyond BIGINT, counted before ``int()`` sees them) cannot be traced
and makes the file unloadable.

What the shipped XSD refuses, the reader refuses, with file, line, record and element:

* **Order.**  The XSD declares the root and every record as an ``xs:sequence``: header, totals,
  then the issuer record; in a record its leaves in layout order (a repeated leaf's values
  together), then its child records.  A new child signature is checked against that order
  once (``_plan``), the root once per file (``_end_issuer``), and a record that had child
  records must have no leaf after them (``leaves_before``).
* **Length.**  Every element has a load limit (``Element.max_length``, ``xs:maxLength``): far
  above any legitimate value, it bounds memory and does not judge the value.  A record costs
  one C-level ``max(map(len, ...))`` against its plan's smallest limit; only a record over it
  is looked at value by value.

Memory is bounded whatever the values: the length limits bound a row; a table's rows are
handed out once they reach ``batch_rows`` rows, and every table's once all of them together
hold ``batch_bytes`` bytes of Arrow data; the chunks of Python rows awaiting conversion are
sized from the limits to an eighth of that budget (``_chunk_rows``).

Why the hot path looks the way it does (it runs once per record, millions of times):

* A record's child tags are read as one tuple, its *signature*.  Machine-written files have a
  handful of signatures per record type, so validating the children (unknown, duplicated or
  misplaced elements) and mapping them to columns is done once per signature and cached as a
  :class:`_Plan` of C-level ``itemgetter`` calls; a record then costs a few C calls, not a
  Python loop over its leaves.
* Records without children that sit below a second-level record (ESMCS service lines) are
  read when their parent ends, from the parent's subtree: no parse event, ancestor lookup or
  tree surgery of their own.  A claim's lines are bounded (an 837 claim has at most 999), so
  the tree stays small.  Other records' ancestor identifiers are cached by parent element.
* Rows go to one flat list per table and become Arrow every few thousand rows: Python strings
  cost ~60 bytes each, the same text in Arrow a few bytes, so batches stay small in memory.

A record must sit directly in its parent record (or in the parent's declared container, as
ESMCS service lines sit in ``includedDetailServiceLine``); anywhere else the file is refused,
as it would be by the XSD.  ``readers/parallel.py`` relies on that to split files safely.
The root holds the header and file totals (each at most once, text only), then the issuer
record, then nothing: an unknown, repeated or late root element is refused too, because the
header reader stops at the first record and would otherwise read a different header than
the file states.

Document position (``record_position``): every record row carries the ordinal of its start tag
among the file's record start tags (pre-order, 1-based from ``first_position``), because the
landing tables otherwise keep no order and the spec's recordIdentifier sequence is defined in
document order.  The parser reports only end events, and a record ends after its descendants,
so positions are handed out from one counter at the moment each start is known to be the next:

* a record that contains a streamed record gets its position when the first record inside it
  ends: the ancestor walk that caches identifiers for a new parent (``_ancestor_ids``) meets it
  then, outermost first, before anything inside it has been numbered;
* any other record (no streamed record inside: a claim, an empty plan) gets its position when
  it ends, and its inline children right after it, in document order.

That is exact because a record's children are read inline only if *all* its child records are
(see ``InboundStreamReader.__init__``), so nothing streamed can sit between inline siblings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, count, repeat
from operator import attrgetter, itemgetter
from typing import IO, Any, NamedTuple

import pyarrow as pa
from lxml import etree

from edge_pipeline.base.errors import InboundFormatError, count_digits, describe_value, too_long
from edge_pipeline.edge.layouts import EDGE_NAMESPACE, FileLayout, Record
from edge_pipeline.edge.layouts.common import RECORD_IDENTIFIER
from edge_pipeline.edge.readers.header import layout_for_root
from edge_pipeline.edge.readers.xmlparse import (
    iterparse,
    refuse_doctype,
    split_tag,
    syntax_error,
)

NS = f"{{{EDGE_NAMESPACE}}}"
RID_TAG = NS + RECORD_IDENTIFIER.name
#: Column of every record table holding the record's document position (see module doc).
POSITION_COLUMN = "record_position"
DEFAULT_BATCH_ROWS = 65_536
#: A batch is also handed out once its Arrow data reaches this many bytes, so that long values
#: (up to each element's length limit) cannot make a batch of ``DEFAULT_BATCH_ROWS`` rows huge.
DEFAULT_BATCH_BYTES = 64 * 2**20
#: Python rows buffered before they are converted to (compact) Arrow record batches.
CHUNK_ROWS = 4_096
_MAX_BIGINT = 2**63 - 1
#: Length "limit" of elements whose length is not checked (recordIdentifier, which is parsed
#: and range-checked instead; child records and containers, which hold no value).
_UNCHECKED = 2**62

_TAG = attrgetter("tag")
_TEXT = attrgetter("text")
#: ``_EMPTY_IF_NONE(t, t)`` is ``t or ""`` for a text, evaluated in C by ``map``.
_EMPTY_IF_NONE = {None: ""}.get

Getter = Callable[[Sequence[Any]], tuple]


def record_columns(record: Record, ancestors: tuple[Record, ...]) -> list[tuple[str, pa.DataType]]:
    """Columns of a record's table as the reader emits them (``file_identifier`` is added by
    the loader): the record's own identifier, its ancestors' identifiers, the raw values, then
    the record's document position (last, where an older warehouse gains it)."""
    columns: list[tuple[str, pa.DataType]] = [(RECORD_IDENTIFIER.column, pa.int64())]
    columns += [(a.parent_key, pa.int64()) for a in ancestors]
    columns += [(f.column, pa.string()) for f in record.value_fields if f is not RECORD_IDENTIFIER]
    columns.append((POSITION_COLUMN, pa.int64()))
    return columns


def repeated_columns(
    record: Record, ancestors: tuple[Record, ...], element: Any
) -> list[tuple[str, pa.DataType]]:
    """Columns of a repeated value's table: owning record, its ancestors, position, value."""
    columns: list[tuple[str, pa.DataType]] = [(RECORD_IDENTIFIER.column, pa.int64())]
    columns += [(a.parent_key, pa.int64()) for a in ancestors]
    columns += [(element.sequence_column, pa.int32()), (element.column, pa.string())]
    return columns


#: A chunk of rows (Python objects until converted) is at most this fraction of the byte
#: budget, as several tables hold one each.
_CHUNKS_PER_BATCH = 8


def _chunk_rows(values: Sequence[Any], chunk_rows: int, batch_bytes: int) -> int:
    """Rows buffered before conversion to Arrow for a table of these value elements: at most
    ``chunk_rows``, and few enough that a chunk at every element's length limit (4 bytes a
    character in UTF-8) stays within an eighth of ``batch_bytes``; so the reader holds about
    the byte budget and a chunk per table, whatever the values (the length limits make this
    a bound)."""
    row_bytes = sum(4 * f.max_length + 8 for f in values) + 64  # + identifiers, offsets
    return max(1, min(chunk_rows, batch_bytes // _CHUNKS_PER_BATCH // row_bytes))


def read_record_identifier(text: str | None) -> int | str:
    """A recordIdentifier's value, or why it has none: a reason that quotes nothing of it.

    Unsigned ASCII digits (leading zeros allowed, as in the XSD's ``xs:nonNegativeInteger``)
    up to the warehouse's BIGINT.  The digits are counted before ``int()`` sees them: Python
    refuses to convert more than 4,300 digits, which would turn a bad file into an internal
    error.
    """
    if text is None:
        return "recordIdentifier is missing"
    value = text.strip()
    if not (value.isascii() and value.isdigit()):
        return f"recordIdentifier is not an integer, {describe_value(text)}"
    significant = value.lstrip("0")
    if len(significant) > len(str(_MAX_BIGINT)) or int(significant or "0") > _MAX_BIGINT:
        return f"recordIdentifier is out of range, {count_digits(value)} (at most {_MAX_BIGINT})"
    return int(significant or "0")


def _getter(indices: Sequence[int]) -> Getter:
    """``itemgetter`` that always returns a tuple (it returns a bare item for one index)."""
    if len(indices) == 1:
        only = indices[0]
        return lambda items: (items[only],)
    return itemgetter(*indices)


class _Plan(NamedTuple):
    """How to read a record whose children have one particular tag signature.

    The getters index the record's *slots*: its children's texts, then ``None`` (what an
    absent element reads as), the ancestors' identifiers, the record's own identifier and its
    document position.
    """

    rid: int  # index of recordIdentifier among the children
    row: Getter  # slots -> the table row (identifier, ancestors' identifiers, values)
    key: Getter  # slots -> identifier and ancestors' identifiers
    repeated: tuple[tuple[int, Getter], ...]  # (repeated field index, slots -> its values)
    leaves: Getter  # children -> the value elements among them (which must hold text only)
    #: (index of a child holding child records read with this record, their reader)
    inline: tuple[tuple[int, _RecordReader], ...] = ()
    #: Smallest length limit among the children, and each child's limit (see ``_leaves``).
    bound: int = _UNCHECKED
    limits: tuple[int, ...] = ()


@dataclass
class _TableBuffer:
    """Rows bound for one table: a flat row-major list of values, then compact Arrow batches.

    Flat, because extending one list per record and slicing columns out of it with a stride
    (both in C) is the cheapest way from Python values to Arrow columns.
    """

    table: str
    schema: pa.Schema
    chunk_rows: int
    values: list = field(default_factory=list)
    batches: list[pa.RecordBatch] = field(default_factory=list)
    pending: int = 0  # rows already converted to Arrow
    pending_bytes: int = 0  # their size in Arrow
    limit: int = field(init=False)  # len(values) at which to convert

    def __post_init__(self) -> None:
        self.limit = self.chunk_rows * len(self.schema)

    def spill(self) -> None:
        """Convert the buffered values to one Arrow batch."""
        if self.values:
            width = len(self.schema)
            arrays = [
                pa.array(self.values[i::width], type=f.type) for i, f in enumerate(self.schema)
            ]
            batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
            self.batches.append(batch)
            self.pending += len(self.values) // width
            self.pending_bytes += batch.nbytes
            self.values = []

    def take(self) -> pa.Table | None:
        """Everything buffered, as one table (``None`` when empty)."""
        self.spill()
        if not self.batches:
            return None
        table = pa.Table.from_batches(self.batches, schema=self.schema)
        self.batches, self.pending, self.pending_bytes = [], 0, 0
        return table


@dataclass
class _RecordReader:
    """Everything needed to turn one ended record element into rows, compiled once."""

    record: Record
    ancestors: tuple[Record, ...]
    tag: str
    value_tags: tuple[str, ...]
    repeated_tags: tuple[str, ...]
    nested: frozenset[str]  # child record / container tags: not leaves of this record
    container: str | None  # tag of the wrapper between this record and its parent, if any
    owner: str | None  # tag of the parent record
    buffer: _TableBuffer
    repeated: list[_TableBuffer]
    plans: dict[tuple, _Plan] = field(default_factory=dict)
    parent: Any = None  # last parent element seen (by identity), and the ancestors' identifiers
    parent_ids: tuple[int, ...] = ()
    tail: tuple = (None,)  # slots after the children's texts, but the record's own identifier
    #: Set by a continuation reader (see ``InboundStreamReader``): the next occurrence of this
    #: record began before the split, so its row belongs to the other half.
    inherited: bool = False
    #: Child records read when this record ends, by the tag of the element holding them (the
    #: container, or the record itself): no parse event, no tree surgery of their own.
    inline: dict[str, _RecordReader] = field(default_factory=dict)
    #: The element of this type that was given a document position before it ended (because
    #: a record inside it ended first), and that position.
    opened: Any = None
    position: int = 0
    #: How many leaves ``opened`` held when it was opened: anything after them follows a
    #: child record, which the layout's (XSD's) sequence does not allow.
    leaves_before: int = 0
    #: Each child tag's place in the layout's sequence (leaves, then child records) and each
    #: leaf's length limit.
    order: dict[str, int] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)

    @classmethod
    def compile(
        cls, record: Record, ancestors: tuple[Record, ...], chunk_rows: int, batch_bytes: int
    ) -> _RecordReader:
        values = [f for f in record.value_fields if f is not RECORD_IDENTIFIER]
        repeated = record.repeated_fields
        sequence = [NS + f.name for f in record.fields]
        sequence += [NS + (c.container or c.element) for c in record.children]
        return cls(
            order={tag: i for i, tag in enumerate(sequence)},
            limits={
                NS + f.name: _UNCHECKED if f is RECORD_IDENTIFIER else f.max_length
                for f in record.fields
            },
            record=record,
            ancestors=ancestors,
            tag=NS + record.element,
            value_tags=tuple(NS + f.name for f in values),
            repeated_tags=tuple(NS + f.name for f in repeated),
            nested=frozenset(NS + (c.container or c.element) for c in record.children),
            container=NS + record.container if record.container else None,
            owner=NS + ancestors[-1].element if ancestors else None,
            buffer=_TableBuffer(
                record.table,
                pa.schema(record_columns(record, ancestors)),
                _chunk_rows(values, chunk_rows, batch_bytes),
            ),
            repeated=[
                _TableBuffer(
                    f.table or "",
                    pa.schema(repeated_columns(record, ancestors, f)),
                    _chunk_rows([f], chunk_rows, batch_bytes),
                )
                for f in repeated
            ],
        )


class InboundStreamReader:
    """Reads one inbound file of a known layout and yields ``(table, arrow_table)`` batches.

    ``inherited`` (used by the parallel reader's second half, see ``parallel.py``): record tags
    whose first occurrence was opened before the split.  Their leaves arrive as a copy of the
    bytes before the split, so their rows are checked but not emitted (the first half emits
    them); any of their children that lies after ``boundary_line`` means the split was unsafe.
    """

    def __init__(
        self,
        layout: FileLayout,
        name: str,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        *,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        inherited: frozenset[str] = frozenset(),
        boundary_line: int = 0,
        first_position: int = 1,
    ) -> None:
        self.layout = layout
        self.name = name
        self.batch_rows = max(1, batch_rows)
        self.batch_bytes = max(1, batch_bytes)
        self.chunk_rows = min(CHUNK_ROWS, self.batch_rows)
        self.readers = {
            NS + record.element: _RecordReader.compile(
                record, ancestors, self.chunk_rows, self.batch_bytes
            )
            for record, ancestors in layout.records()
        }
        self.streamed = dict(self.readers)  # records the parser reports (the rest are inline)
        for reader in self.readers.values():
            children = reader.record.children
            # All or none: document positions assume no streamed record among inline siblings.
            if len(reader.ancestors) >= 2 and children and not any(c.children for c in children):
                for child in children:
                    tag = NS + child.element
                    reader.inline[NS + (child.container or child.element)] = self.readers[tag]
                    del self.streamed[tag]
        for tag in inherited:
            self.readers[tag].inherited = True
        self.boundary_line = boundary_line
        self.records_read = 0
        self._pending_bytes = 0  # Arrow bytes converted and not yet handed out, all tables
        root_leaves = (*layout.header, *layout.totals)
        #: Header and total elements: their place in the root's sequence, their length limit.
        self._header_order = {NS + e.name: (i, e.max_length) for i, e in enumerate(root_leaves)}
        self._root: Any = None
        self._issuers = 0  # issuer records ended so far
        self._header_elements = 0  # root children before the (last) issuer record
        #: Hands out document positions (see the module doc), in start-tag order.
        self._positions = count(first_position)

    def batches(self, source: IO[bytes]) -> Iterator[tuple[str, pa.Table]]:
        """Parse ``source`` to the end, yielding full batches as they fill and the rest last."""
        events = iterparse(source, self.name, ("end",), tag=self.streamed)
        readers = self.streamed
        read = self._read_record
        first = True
        try:
            for _, elem in events:
                if first:
                    self._check_root(elem)
                    first = False
                reader = readers[elem.tag]
                if read(reader, elem):
                    yield from self._spill(reader)
        except etree.XMLSyntaxError as exc:
            raise syntax_error(self.name, exc) from exc
        if first:
            raise InboundFormatError(self.name, f"no {self.layout.issuer.element} record found")
        if len(self._root) > self._header_elements:
            late = self._root[self._header_elements]
            issuer = self.layout.issuer.element
            self._refuse_root_child(late, f"unexpected element after the {issuer} record")
        for reader in self.readers.values():
            yield from self._flush(reader)

    def _check_root(self, elem: Any) -> None:
        root = elem.getroottree().getroot()
        refuse_doctype(root, self.name)
        if layout_for_root(root.tag, self.name) is not self.layout:
            raise InboundFormatError(
                self.name, f"root {split_tag(root.tag)[1]} is not a {self.layout.name}"
            )
        self._root = root

    def _end_issuer(self, issuer: Any, root: Any) -> None:
        """Check what precedes an ended issuer record in the root: header and total elements
        only, each once and text only; and that the layout allows another issuer record."""
        self._issuers += 1
        limit = self.layout.issuer.max_occurs
        if limit is not None and self._issuers > limit:
            plural = "" if limit == 1 else "s"
            self._refuse_root_child(issuer, f"a file holds at most {limit} such record{plural}")
        seen: set[str] = set()
        last, previous = -1, ""
        for child in root:
            if child is issuer:
                break
            tag = child.tag
            if not isinstance(tag, str) or tag not in self._header_order:
                self._refuse_root_child(child, "unexpected element")
            if tag in seen:
                self._refuse_root_child(child, "element appears more than once")
            if len(child):
                self._refuse_root_child(child, "a value element holds elements, not text")
            place, limit = self._header_order[tag]
            if place < last:
                self._refuse_root_child(child, _out_of_order(previous))
            if len(child.text or "") > limit:
                self._refuse_root_child(child, too_long(child.text, limit))
            seen.add(tag)
            last, previous = place, tag
        self._header_elements = len(seen)

    def _refuse_root_child(self, child: Any, reason: str) -> None:
        tag = child.tag
        element = split_tag(tag)[1] if isinstance(tag, str) else None
        if not isinstance(tag, str):
            reason = "entity references and other non-element nodes are not allowed"
        raise InboundFormatError(self.name, reason, element=element, line=child.sourceline)

    def _read_record(self, reader: _RecordReader, elem: Any) -> bool:
        """Buffer the rows of an ended record (and its inline children), then drop it from the
        tree.  Returns whether a buffer is due to be converted to Arrow."""
        kids = list(elem)
        plan, raw, rid = self._leaves(reader, elem, kids)
        if reader.opened is elem and len(kids) > reader.leaves_before:
            late = kids[reader.leaves_before]
            child = reader.record.children[0].element
            reason = f"element after the {child} records: the layout (XSD) puts it before them"
            self._fail(reader, late, raw[plan.rid], late.tag, reason)
        parent = elem.getparent()
        if parent is not reader.parent:
            self._enter(reader, elem, parent)  # numbers the ancestors not numbered yet
        # Numbered already if a record inside it ended first; else its start is the next one.
        position = reader.position if reader.opened is elem else next(self._positions)
        if reader.inherited:
            del kids
            self._check_inherited(reader, elem)
            full = False
        else:
            full = self._emit(reader, plan, raw, rid, reader.tail, position)
            if plan.inline:
                full |= self._read_inline(reader, elem, kids, plan, rid)
            del kids  # child proxies must be gone before clear(), or lxml relocates each child
        if reader.owner is None:
            self._end_issuer(elem, parent)
        elem.clear()
        parent.remove(elem)
        return full

    def _leaves(self, reader: _RecordReader, elem: Any, kids: list) -> tuple[_Plan, list, int]:
        """The record's plan (validating a new signature), its children's texts, its id."""
        tags = tuple(map(_TAG, kids))
        plan = reader.plans.get(tags)
        if plan is None:
            plan = self._plan(reader, elem, kids, tags)
        raw = list(map(_TEXT, kids))
        if any(map(len, plan.leaves(kids))):  # in C; a leaf's children would be lost unread
            self._fail_nested_leaf(reader, elem, kids, plan, raw[plan.rid])
        if max(map(len, filter(None, raw)), default=0) > plan.bound:  # in C, per record
            self._check_lengths(reader, kids, plan, raw)
        text = raw[plan.rid]
        if text is not None and text.isascii() and text.isdigit() and len(text) < 19:
            return plan, raw, int(text)
        return plan, raw, self._identifier(reader, elem, text)

    def _emit(
        self, reader: _RecordReader, plan: _Plan, raw: list, rid: int, tail: tuple, position: int
    ) -> bool:
        """Buffer one record's row and repeated values; ``tail`` holds its ancestors' ids."""
        slots = list(map(_EMPTY_IF_NONE, raw, raw)) if None in raw else raw
        slots += tail
        slots.append(rid)
        slots.append(position)
        buffer = reader.buffer
        buffer.values += plan.row(slots)
        full = len(buffer.values) >= buffer.limit
        if plan.repeated:
            key = plan.key(slots)
            for index, getter in plan.repeated:
                repeated = reader.repeated[index]
                repeated.values.extend(
                    chain.from_iterable(zip(*map(repeat, key), count(1), getter(slots)))
                )
                full |= len(repeated.values) >= repeated.limit
        self.records_read += 1
        return full

    def _read_inline(
        self, reader: _RecordReader, elem: Any, kids: list, plan: _Plan, rid: int
    ) -> bool:
        """Read the child records held in ``elem`` (ESMCS: a claim's service lines)."""
        tail = (None, *reader.parent_ids, rid)
        full = False
        leaves = self._leaves
        emit = self._emit
        positions = self._positions
        for index, child_reader in plan.inline:
            holder = kids[index]
            records = list(holder) if child_reader.container else [holder]
            tag = child_reader.tag
            for record in records:
                if record.tag != tag:
                    self._fail(reader, elem, str(rid), record.tag, "unexpected element")
                child_plan, raw, child_rid = leaves(child_reader, record, list(record))
                full |= emit(child_reader, child_plan, raw, child_rid, tail, next(positions))
        return full

    def _plan(self, reader: _RecordReader, elem: Any, kids: list, tags: tuple) -> _Plan:
        """Validate a new child signature in document order and compile how to read it."""
        positions: dict[str, list[int]] = {}
        inline: list[tuple[int, _RecordReader]] = []
        rid_text: str | None = None
        singles = {RID_TAG, *reader.value_tags}
        last, previous = -1, ""
        for i, tag in enumerate(tags):
            if not isinstance(tag, str):
                reason = "entity references and other non-element nodes are not allowed"
                self._fail(reader, elem, rid_text, None, reason)
            if tag in singles:
                if tag in positions:
                    self._fail(reader, elem, rid_text, tag, "element appears more than once")
            elif tag not in reader.repeated_tags and tag not in reader.nested:
                self._fail(reader, elem, rid_text, tag, "unexpected element")
            place = reader.order[tag]  # the layout's (XSD's) sequence: leaves, then records
            if place < last:
                self._fail(reader, kids[i], rid_text, tag, _out_of_order(previous))
            last, previous = place, tag
            if tag in reader.nested:
                if tag in reader.inline:
                    inline.append((i, reader.inline[tag]))
                continue
            positions.setdefault(tag, []).append(i)
            if tag == RID_TAG:
                rid_text = kids[i].text
        if RID_TAG not in positions:
            self._fail(reader, elem, None, RID_TAG, "recordIdentifier is missing")
        absent = len(tags)
        ancestors = len(reader.ancestors)
        key = [absent + 1 + ancestors, *range(absent + 1, absent + 1 + ancestors)]
        values = [positions.get(t, [absent])[0] for t in reader.value_tags]
        limits = tuple(reader.limits.get(tag, _UNCHECKED) for tag in tags)
        plan = _Plan(
            rid=positions[RID_TAG][0],
            row=_getter([*key, *values, absent + 2 + ancestors]),
            key=_getter(key),
            repeated=tuple(
                (i, _getter(positions[t]))
                for i, t in enumerate(reader.repeated_tags)
                if t in positions
            ),
            leaves=_getter(sorted(i for found in positions.values() for i in found)),
            inline=tuple(inline),
            bound=min(limits, default=_UNCHECKED),
            limits=limits,
        )
        reader.plans[tags] = plan
        return plan

    def _fail_nested_leaf(
        self, reader: _RecordReader, elem: Any, kids: list, plan: _Plan, rid_text: str | None
    ) -> None:
        """A value element holds elements (a misplaced record, say): refuse, as the XSD would,
        rather than read its text and silently drop what is inside."""
        leaf = next(kid for kid in plan.leaves(kids) if len(kid))
        self._fail(reader, leaf, rid_text, leaf.tag, "a value element holds elements, not text")

    def _check_lengths(self, reader: _RecordReader, kids: list, plan: _Plan, raw: list) -> None:
        """Some child's text is longer than the plan's smallest limit: refuse the record if a
        value is over its own element's limit (``Element.max_length``)."""
        for kid, text, limit in zip(kids, raw, plan.limits, strict=True):
            if text is not None and len(text) > limit:
                self._fail(reader, kid, raw[plan.rid], kid.tag, too_long(text, limit))

    def _identifier(self, reader: _RecordReader, elem: Any, text: str | None) -> int:
        rid = read_record_identifier(text)
        if isinstance(rid, str):
            self._fail(reader, elem, None, RID_TAG, rid)
        return rid

    def _enter(self, reader: _RecordReader, elem: Any, parent: Any) -> None:
        """Cache the enclosing records' identifiers for ``parent``'s records of this type."""
        reader.parent_ids = self._ancestor_ids(reader, elem, parent)
        reader.tail = (None, *reader.parent_ids)
        reader.parent = parent

    def _ancestor_ids(self, reader: _RecordReader, elem: Any, parent: Any) -> tuple[int, ...]:
        """Identifiers of the enclosing records, outermost first (their leaves precede us)."""
        if reader.owner is None:
            return ()
        owner = parent
        if reader.container is not None:
            if parent.tag != reader.container:
                self._misplaced(reader, elem, reader.container)
            owner = parent.getparent()
        owner_reader = self.readers[reader.owner]
        if owner is None or owner.tag != reader.owner:
            self._misplaced(reader, elem, owner_reader.record.element)
        rid = owner.find(RID_TAG)
        own = self._identifier(owner_reader, owner, None if rid is None else rid.text)
        grand = owner.getparent()
        if grand is not owner_reader.parent:
            self._enter(owner_reader, owner, grand)  # numbers the owner's ancestors first
        if owner_reader.opened is not owner:
            # The first record ending inside ``owner``: nothing after its start is numbered.
            owner_reader.opened = owner
            owner_reader.position = next(self._positions)
            # The leaves before the child leading to ``elem`` (the parser may be ahead of the
            # events, so the owner can already hold elements after it).
            owner_reader.leaves_before = owner.index(parent if owner is not parent else elem)
        return (*owner_reader.parent_ids, own)

    def _misplaced(self, reader: _RecordReader, elem: Any, expected: str) -> None:
        localname = expected.rpartition("}")[2]
        self._fail(reader, elem, None, None, f"not directly inside a {localname}")

    def _check_inherited(self, reader: _RecordReader, elem: Any) -> None:
        """The first half emits this record; make sure all its leaves were before the split."""
        reader.inherited = False
        if len(elem) and elem[-1].sourceline > self.boundary_line:
            raise SplitUnsafeError(f"{reader.record.element} has leaves after the split")

    def _spill(self, reader: _RecordReader) -> Iterator[tuple[str, pa.Table]]:
        """Convert a record type's buffered rows to Arrow; yield the tables that are full
        (``batch_rows``), or every table once all of them together hold ``batch_bytes``: the
        byte budget is the reader's, not each table's, so several tables of long values
        cannot each fill one."""
        for owner in (reader, *reader.inline.values()):
            for buffer in (owner.buffer, *owner.repeated):
                before = buffer.pending_bytes
                buffer.spill()
                self._pending_bytes += buffer.pending_bytes - before
                if buffer.pending >= self.batch_rows:
                    self._pending_bytes -= buffer.pending_bytes
                    yield buffer.table, buffer.take()
        if self._pending_bytes >= self.batch_bytes:
            self._pending_bytes = 0
            for other in self.readers.values():
                for buffer in (other.buffer, *other.repeated):
                    if buffer.pending:
                        yield buffer.table, buffer.take()

    def _flush(self, reader: _RecordReader) -> Iterator[tuple[str, pa.Table]]:
        for buffer in (reader.buffer, *reader.repeated):
            table = buffer.take()
            if table is not None:
                yield buffer.table, table

    def _fail(
        self, reader: _RecordReader, elem: Any, rid_text: str | None, tag: Any, reason: str
    ) -> None:
        parsed = read_record_identifier(rid_text)
        rid = parsed if isinstance(parsed, int) else None
        element = split_tag(tag)[1] if isinstance(tag, str) else None
        raise InboundFormatError(
            self.name,
            reason,
            record=reader.record.element,
            record_identifier=rid,
            element=element,
            line=elem.sourceline,
        )


def _out_of_order(previous: str) -> str:
    """Why an element standing after ``previous`` (a tag) is refused."""
    return f"out of order: the layout (XSD) sequence puts it before {split_tag(previous)[1]}"


class SplitUnsafeError(Exception):
    """A parallel half found the file cannot be split where planned; read it whole instead."""
