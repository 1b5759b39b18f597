"""Layout-driven streaming writer of inbound EDGE submission files.

Why it is built this way:

* Element names and order come only from the layout declarations, so the writer, the reader
  and the XSD can never disagree about a name.
* Control totals (file, issuer, plan) precede the records they count, yet a 500 MB ESMCS must
  be written with flat memory.  The writer therefore reserves a fixed-size slot for every
  "head" whose totals are not yet known (file totals + issuer fields at the top, each plan's
  fields at the plan's start), streams the records, and at the end of the scope seeks back and
  overwrites the slot, padding with whitespace between elements (insignificant in
  element-only content).  One pass, no temporary copies.
* Leaves are rendered with precomputed tag strings (no element objects per leaf): writing speed
  matters for the benchmark files.
* ``recordIdentifier`` is assigned in document order (+1 per record of any type, the issuer is
  1) unless a value dict carries its own ``record_identifier`` (defect injection); numbering
  then continues from the given value.

Values are dicts keyed by layout *column* names.  ``None`` (or a missing key) omits the element;
``""`` writes an empty element; repeated elements take a list.  Child records are given under
the child record's ``level`` key as a list of dicts (e.g. ``{"line": [...]}`` for ESMCS claims,
``{"enrollment_period": [...]}`` for ESES enrollees).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from edge_pipeline.edge.layouts.common import RECORD_IDENTIFIER
from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE, Element, FileLayout, Record
from edge_pipeline.edge.writers.totals import TotalRule, total_rules

#: A control-total override: a fixed value, or a function of the computed total.
TotalOverride = object | Callable[[int | Decimal], object]

_RID = RECORD_IDENTIFIER.column
_INDENT = "  "
_CENT = Decimal("0.01")
#: Characters reserved for each computed total in a head slot; overrides must fit in it.
_TOTAL_WIDTH = 32
_FLUSH_PARTS = 16_384


def xml_escape(text: str) -> str:
    """Escape text content (``&``, ``<``, ``>``); fast path for the common clean code value."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _text(value: object) -> str:
    return xml_escape(value) if type(value) is str else xml_escape(str(value))


@dataclass
class _Leaf:
    column: str
    open: str
    close: str
    empty: str
    repeated: bool


@dataclass
class _Compiled:
    """A record type with its tag strings precomputed for its depth in the document."""

    record: Record
    head: str
    tail: str
    leaves: list[_Leaf]
    children: list[tuple[str, str, str, _Compiled]]  # (key, container open, container close, rec)
    sum_columns: tuple[str, ...]
    #: The leaves as plain tuples for the hot loop: (column, open, close, empty, kind) with kind
    #: 0 single value, 1 repeated, 2 recordIdentifier.
    flat: tuple[tuple[str, str, str, str, int], ...] = ()

    def __post_init__(self) -> None:
        self.flat = tuple(
            (
                leaf.column,
                leaf.open,
                leaf.close,
                leaf.empty,
                2 if leaf.column == _RID else (1 if leaf.repeated else 0),
            )
            for leaf in self.leaves
        )


def _leaf(element: Element, depth: int) -> _Leaf:
    pad = "\n" + _INDENT * depth
    return _Leaf(
        column=element.column,
        open=f"{pad}<{element.name}>",
        close=f"</{element.name}>",
        empty=f"{pad}<{element.name}/>",
        repeated=element.repeated,
    )


def _compile(record: Record, depth: int, sums: Mapping[str, tuple[str, ...]]) -> _Compiled:
    pad = "\n" + _INDENT * depth
    children = []
    for child in record.children:
        if child.container:
            cpad = "\n" + _INDENT * (depth + 1)
            compiled = _compile(child, depth + 2, sums)
            children.append(
                (child.level, f"{cpad}<{child.container}>", f"{cpad}</{child.container}>", compiled)
            )
        else:
            children.append((child.level, "", "", _compile(child, depth + 1, sums)))
    return _Compiled(
        record=record,
        head=f"{pad}<{record.element}>",
        tail=f"{pad}</{record.element}>",
        leaves=[_leaf(f, depth + 1) for f in record.fields],
        children=children,
        sum_columns=sums.get(record.level, ()),
    )


class _Scope:
    """Counts and sums of the records written inside one scope (a plan, or the issuer)."""

    __slots__ = ("counts", "sums")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.sums: dict[tuple[str, str], Decimal] = {}

    def merge(self, other: _Scope) -> None:
        for level, n in other.counts.items():
            self.counts[level] = self.counts.get(level, 0) + n
        for key, amount in other.sums.items():
            self.sums[key] = self.sums.get(key, Decimal(0)) + amount

    def value(self, rule: TotalRule) -> int | Decimal:
        if rule.kind == "count":
            return self.counts.get(rule.level, 0)
        return self.sums.get((rule.level, rule.column or ""), Decimal(0)).quantize(_CENT)


@dataclass
class _Slot:
    """A reserved byte range in the output, overwritten once its totals are known."""

    offset: int
    size: int


@dataclass
class WriteResult:
    """What was written: the caller's manifest needs record counts and the totals as written."""

    path: Path
    bytes: int
    records: int
    last_record_identifier: int
    counts: dict[str, int]
    file_totals: dict[str, str]
    issuer_totals: dict[str, str]
    group_totals: list[dict[str, str]] = field(default_factory=list)


class SubmissionWriter:
    """Stream one inbound submission file of ``layout`` to ``path``.

    Usage (ESMCS)::

        with SubmissionWriter(ESMCS, path, header, {"issuer_identifier": "12345"}) as w:
            w.begin_group({"insurance_plan_identifier": plan_id})   # a plan
            w.write(claim_values_with_lines)                        # claims of that plan
            w.end_group()
        result = w.result

    For ESES, whose issuer holds enrollees directly, call ``write`` without a group.  The file
    is written to a hidden ``.part`` name and renamed on success, so a sensor watching the
    folder never sees a half-written file.
    """

    def __init__(
        self,
        layout: FileLayout,
        path: Path,
        header: Mapping[str, Any],
        issuer: Mapping[str, Any],
        *,
        xml_declaration: bool = True,
    ) -> None:
        self.layout = layout
        self.path = Path(path)
        self._rules = total_rules(layout.name)
        sums: dict[str, list[str]] = {}
        for rule in self._rules.values():
            if rule.kind == "sum" and rule.column:
                sums.setdefault(rule.level, []).append(rule.column)
        sum_columns = {level: tuple(cols) for level, cols in sums.items()}
        self._issuer = _compile(layout.issuer, 1, sum_columns)
        self._issuer_values = dict(issuer)
        self._header_leaves = [_leaf(e, 1) for e in layout.header]
        self._total_leaves = [_leaf(e, 1) for e in layout.totals]

        self._tmp = self.path.with_name(f".{self.path.name}.part")
        self._f: BinaryIO | None = open(self._tmp, "wb")  # noqa: SIM115 - closed in close/abort
        self._parts: list[str] = []
        self._next = 1
        self._records = 0
        self._issuer_scope = _Scope()
        self._scope = _Scope()
        self._group: tuple[_Compiled, dict[str, Any], _Slot, int] | None = None
        self._group_totals: list[dict[str, str]] = []
        self.result: WriteResult | None = None

        try:
            if xml_declaration:
                self._parts.append('<?xml version="1.0" encoding="UTF-8"?>\n')
            self._parts.append(f'<{layout.root} xmlns="{EDGE_NAMESPACE}">')
            self._leaves(self._header_leaves, header)
            self._issuer_values[_RID] = self._take_rid(self._issuer_values)
            self._records += 1
            placeholder = self._placeholder_totals()
            self._top = self._reserve(self._top_text(placeholder, placeholder))
        except BaseException:
            self.abort()
            raise

    # -- public API ---------------------------------------------------------------------------

    @property
    def next_record_identifier(self) -> int:
        """The recordIdentifier the next record will get unless it brings its own."""
        return self._next

    @property
    def bytes_written(self) -> int:
        """Bytes already on disk (lags the buffered text by at most one flush)."""
        return self._f.tell() if self._f is not None else (self.result.bytes if self.result else 0)

    def begin_group(self, values: Mapping[str, Any]) -> int:
        """Open a direct child of the issuer (a plan) whose totals are computed at its end."""
        if self._group is not None:
            raise RuntimeError("a group is already open; call end_group first")
        if not self._issuer.children:
            raise RuntimeError(f"{self.layout.name} issuer has no child records")
        compiled = self._issuer.children[0][3]
        group_values = dict(values)
        group_values[_RID] = self._take_rid(group_values)
        self._records += 1
        self._count(self._issuer_scope, compiled, group_values)
        text = self._group_text(compiled, group_values, self._placeholder_totals())
        slot = self._reserve(text)
        self._scope = _Scope()
        self._group = (compiled, group_values, slot, group_values[_RID])
        return group_values[_RID]

    def end_group(self, totals: Mapping[str, TotalOverride] | None = None) -> dict[str, str]:
        """Close the open group, fill in its totals (computed unless overridden); returns them."""
        if self._group is None:
            raise RuntimeError("no group is open")
        compiled, values, slot, _ = self._group
        written = self._totals(self._scope, totals)
        self._parts.append(compiled.tail)
        self._fill(slot, self._group_text(compiled, values, written))
        self._issuer_scope.merge(self._scope)
        self._scope = _Scope()
        self._group = None
        self._group_totals.append(written)
        return written

    def write(self, values: Mapping[str, Any]) -> int:
        """Write one record and its children below the open group (or below the issuer).

        Returns the record's recordIdentifier; its descendants follow it in document order.
        """
        compiled = self._group[0] if self._group is not None else self._issuer
        child = compiled.children[0]
        parts = self._parts
        if child[1]:
            parts.append(child[1])
        rid = self._render(child[3], values)
        if child[2]:
            parts.append(child[2])
        if len(parts) > _FLUSH_PARTS:
            self._flush()
        return rid

    def close(
        self,
        file_totals: Mapping[str, TotalOverride] | None = None,
        issuer_totals: Mapping[str, TotalOverride] | None = None,
    ) -> WriteResult:
        """Finish the document, fill in issuer and file totals, and move it into place."""
        if self._group is not None:
            raise RuntimeError("close() with a group still open")
        assert self._f is not None
        self._issuer_scope.merge(self._scope)
        issuer_written = self._totals(self._issuer_scope, issuer_totals)
        file_written = self._totals(self._issuer_scope, file_totals)
        self._parts.append(f"{self._issuer.tail}\n</{self.layout.root}>\n")
        self._fill(self._top, self._top_text(file_written, issuer_written))
        self._flush()
        size = self._f.tell()
        self._f.close()
        self._f = None
        os.replace(self._tmp, self.path)
        self.result = WriteResult(
            path=self.path,
            bytes=size,
            records=self._records,
            last_record_identifier=self._next - 1,
            counts=dict(self._issuer_scope.counts),
            file_totals=file_written,
            issuer_totals=issuer_written,
            group_totals=self._group_totals,
        )
        return self.result

    def abort(self) -> None:
        """Drop the partial output (used when generation fails midway)."""
        if self._f is not None:
            self._f.close()
            self._f = None
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> SubmissionWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif self.result is None:
            self.close()

    # -- rendering ----------------------------------------------------------------------------

    def _take_rid(self, values: Mapping[str, Any]) -> int:
        rid = values.get(_RID)
        if rid is None:
            rid = self._next
        self._next = int(rid) + 1
        return int(rid)

    def _leaves(self, leaves: list[_Leaf], values: Mapping[str, Any]) -> None:
        parts = self._parts
        get = values.get
        for leaf in leaves:
            value = get(leaf.column)
            if value is None:
                continue
            if leaf.repeated:
                for item in value:
                    if item is None:
                        continue
                    text = _text(item)
                    parts.append(leaf.open + text + leaf.close if text else leaf.empty)
                continue
            text = _text(value)
            parts.append(leaf.open + text + leaf.close if text else leaf.empty)

    def _render(self, compiled: _Compiled, values: Mapping[str, Any]) -> int:
        """Render one record subtree into the buffer; returns its recordIdentifier."""
        rid = values.get(_RID)
        if rid is None:
            rid = self._next
        self._next = rid + 1
        self._records += 1
        parts = self._parts
        parts.append(compiled.head)
        get = values.get
        append = parts.append
        for column, open_, close, empty, kind in compiled.flat:
            if kind == 2:
                append(f"{open_}{rid}{close}")
                continue
            value = get(column)
            if value is None:
                continue
            if kind == 1:
                for item in value:
                    if item is None:
                        continue
                    text = _text(item)
                    append(open_ + text + close if text else empty)
                continue
            if type(value) is not str:
                value = str(value)
            if not value:
                append(empty)
                continue
            if "&" in value or "<" in value or ">" in value:
                value = xml_escape(value)
            append(open_ + value + close)
        for key, container_open, container_close, child in compiled.children:
            kids = get(key)
            if not kids:
                continue
            if container_open:
                parts.append(container_open)
            for kid in kids:
                self._render(child, kid)
            if container_close:
                parts.append(container_close)
        parts.append(compiled.tail)
        self._count(self._scope, compiled, values)
        return rid

    @staticmethod
    def _count(scope: _Scope, compiled: _Compiled, values: Mapping[str, Any]) -> None:
        level = compiled.record.level
        scope.counts[level] = scope.counts.get(level, 0) + 1
        for column in compiled.sum_columns:
            raw = values.get(column)
            if raw is None or raw == "":
                continue
            try:
                amount = Decimal(str(raw))
            except InvalidOperation:
                continue  # an unparseable amount is a Phase 1 finding, not a total
            key = (level, column)
            scope.sums[key] = scope.sums.get(key, Decimal(0)) + amount

    def _placeholder_totals(self) -> dict[str, str]:
        return dict.fromkeys(self._rules, "9" * _TOTAL_WIDTH)

    def _totals(
        self, scope: _Scope, overrides: Mapping[str, TotalOverride] | None
    ) -> dict[str, str]:
        written: dict[str, str] = {}
        for column, rule in self._rules.items():
            value: object = scope.value(rule)
            if overrides and column in overrides:
                override = overrides[column]
                value = override(value) if callable(override) else override
            if value is not None:
                written[column] = str(value)
        return written

    def _group_text(
        self, compiled: _Compiled, values: Mapping[str, Any], totals: Mapping[str, str]
    ) -> str:
        saved = self._parts
        self._parts = [compiled.head]
        self._leaves(compiled.leaves, {**values, **totals})
        text = "".join(self._parts)
        self._parts = saved
        return text

    def _top_text(self, file_totals: Mapping[str, str], issuer_totals: Mapping[str, str]) -> str:
        saved = self._parts
        self._parts = []
        self._leaves(self._total_leaves, file_totals)
        self._parts.append(self._issuer.head)
        self._leaves(self._issuer.leaves, {**self._issuer_values, **issuer_totals})
        text = "".join(self._parts)
        self._parts = saved
        return text

    def _reserve(self, text: str) -> _Slot:
        """Flush, then write ``text`` as a placeholder whose bytes are overwritten later."""
        self._flush()
        assert self._f is not None
        data = text.encode("utf-8")
        slot = _Slot(self._f.tell(), len(data))
        self._f.write(data)
        return slot

    def _fill(self, slot: _Slot, text: str) -> None:
        data = text.encode("utf-8")
        if len(data) > slot.size:
            raise ValueError(
                f"control totals do not fit the reserved {slot.size} bytes (override too long?)"
            )
        self._flush()
        assert self._f is not None
        end = self._f.tell()
        self._f.seek(slot.offset)
        self._f.write(data + b" " * (slot.size - len(data)))
        self._f.seek(end)

    def _flush(self) -> None:
        if self._parts and self._f is not None:
            self._f.write("".join(self._parts).encode("utf-8"))
            self._parts = []
