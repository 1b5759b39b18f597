"""Check, event by event, that an outbound report has the structure of its layout.

The same tree the XSD is rendered from (:func:`edge_pipeline.edge.layouts.outbound.tree.tree`)
drives this checker, so the loader accepts exactly what the published schema allows, while
streaming, and reports the first violation with its line and element.  (lxml can validate
during ``iterparse``, but reports violations only at the end and without a line number.)

Every layout is a plain sequence (no choices), so a cursor per open element suffices: which
declared child we are at and how many times it has occurred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from edge_pipeline.base.errors import count_digits
from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE
from edge_pipeline.edge.layouts.outbound.model import Group, Leaf, Node
from edge_pipeline.edge.outbound.core.errors import OutboundFormatError
from edge_pipeline.edge.readers.xmlparse import split_tag

_DIGITS = re.compile(r"[0-9]+")
#: Integer leaves land in BIGINT columns.
_MAX = 2**63 - 1
_MAX_DIGITS = len(str(_MAX))


def _occurs(node: Node) -> str:
    high = "unbounded" if node.max_occurs is None else str(node.max_occurs)
    return f"{node.min_occurs}..{high}"


@dataclass
class _Cursor:
    node: Node
    index: int = 0
    count: int = 0


class StructureChecker:
    """Feed it ``start`` and ``end`` events; it raises :class:`OutboundFormatError` on the first
    element that the layout does not allow where it stands."""

    def __init__(self, root: Group, name: str) -> None:
        self.root = root
        self.name = name
        self._stack: list[_Cursor] = []

    def _fail(self, elem: Any, reason: str, element: str | None = None) -> OutboundFormatError:
        local = element or split_tag(elem.tag)[1]
        return OutboundFormatError(self.name, reason, element=local, line=elem.sourceline)

    def start(self, elem: Any) -> Node:
        """The declaration ``elem`` matches (the stack then points into it)."""
        namespace, local = split_tag(elem.tag)
        if namespace != EDGE_NAMESPACE:
            raise self._fail(
                elem, f"element is in namespace {namespace or '(none)'}, not {EDGE_NAMESPACE}"
            )
        if not self._stack:
            if local != self.root.name:
                raise self._fail(elem, f"expected root element {self.root.name}")
            self._stack.append(_Cursor(self.root))
            return self.root
        cursor = self._stack[-1]
        parent = cursor.node
        if isinstance(parent, Leaf):
            raise self._fail(elem, f"{parent.name} holds text only, not elements")
        children = parent.children
        names = [child.name for child in children[cursor.index :]]
        if local not in names:
            expected = self._expected(cursor)
            raise self._fail(
                elem, f"element {local} is not expected here in {parent.name} ({expected})"
            )
        index = cursor.index + names.index(local)
        for skipped in range(cursor.index, index):
            child = children[skipped]
            seen = cursor.count if skipped == cursor.index else 0
            if seen < child.min_occurs:
                raise self._fail(
                    elem,
                    f"{child.name} ({_occurs(child)}) is missing before {local} in {parent.name}",
                    element=child.name,
                )
        child = children[index]
        count = cursor.count + 1 if index == cursor.index else 1
        if child.max_occurs is not None and count > child.max_occurs:
            raise self._fail(elem, f"occurs more than {child.max_occurs} time(s) in {parent.name}")
        cursor.index, cursor.count = index, count
        self._stack.append(_Cursor(child))
        return child

    @staticmethod
    def _expected(cursor: _Cursor) -> str:
        """What could come next: the rest of the sequence up to its first required element."""
        group = cursor.node
        assert isinstance(group, Group)
        options: list[str] = []
        for index in range(cursor.index, len(group.children)):
            child = group.children[index]
            seen = cursor.count if index == cursor.index else 0
            if child.max_occurs is None or seen < child.max_occurs:
                options.append(child.name)
            if seen < child.min_occurs:
                break
        return f"expected one of {', '.join(options)}" if options else "expected no more elements"

    def end(self, elem: Any) -> None:
        """Close ``elem``: required children present, integer leaves are digits, no text where
        only elements belong (before the first child; text between children is not checked)."""
        cursor = self._stack.pop()
        node = cursor.node
        if isinstance(node, Leaf):
            if node.kind == "integer":
                text = (elem.text or "").strip()
                if not _DIGITS.fullmatch(text):
                    raise self._fail(elem, f"{node.name} must be an unsigned integer")
                if len(text.lstrip("0")) > _MAX_DIGITS or int(text.lstrip("0") or "0") > _MAX:
                    # before int() sees it: Python refuses more than 4,300 digits
                    raise self._fail(elem, f"{node.name} is out of range, {count_digits(text)}")
            return
        if (elem.text or "").strip():
            raise self._fail(elem, f"{node.name} holds elements only, not text")
        for index in range(cursor.index, len(node.children)):
            child = node.children[index]
            seen = cursor.count if index == cursor.index else 0
            if seen < child.min_occurs:
                raise self._fail(
                    elem,
                    f"required child {child.name} ({_occurs(child)}) is missing in {node.name}",
                    element=child.name,
                )
