"""Typed values of the RA reports: warehouse value -> element text -> warehouse value, exactly.

The RA reports carry rows of typed tables, and reconciliation compares them value for value, so
the text form is fixed in both directions here:

* NULL is an absent element, the empty string an empty one (``<x/>``);
* decimals are plain (``format(d, "f")``: no exponent, trailing zeros kept, so ``1.120`` stays
  ``1.120``), dates ``YYYY-MM-DD``, integers digits;
* reading converts to the column's DuckDB type and refuses, naming line and element, any value
  that does not fit (a decimal with more places than the column, an integer out of range)
  rather than letting the database round or overflow it.  Refusals never quote the value: it
  may be member data (a birth date), and refusals are logged and stored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE
from edge_pipeline.edge.layouts.outbound.model import Group, Leaf
from edge_pipeline.edge.outbound.core.errors import OutboundFormatError
from edge_pipeline.edge.outbound.core.naming import edge_datetime
from edge_pipeline.edge.outbound.core.tables import decimal_type
from edge_pipeline.edge.outbound.core.xmlout import XmlStream
from edge_pipeline.edge.outbound.ra.tables import RA_REPORTED_TABLES

_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT_RANGES = {"INTEGER": 2**31, "BIGINT": 2**63}


def value_text(value: object) -> str | None:
    """The element text of a warehouse value (``None``: omit the element)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return edge_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_entry(
    out: XmlStream,
    group: Group,
    values: Mapping[str, Any],
    nested: Mapping[str, Callable[[], None]] | None = None,
) -> None:
    """Write ``group``: each leaf from ``values`` by column, each child group by calling
    ``nested[name]`` (which writes its occurrences), in declaration order.

    A required leaf whose value is NULL is a defect of the shadow data, not something to
    paper over with an empty element: it raises, and no report is written.
    """
    out.start(group.name)
    for child in group.children:
        if isinstance(child, Group):
            if nested and child.name in nested:
                nested[child.name]()
            continue
        value = values.get(child.column or "")
        if value is None and child.min_occurs:
            # names only: the row's values may be member data, and errors reach the logs
            raise ValueError(f"{group.name}: {child.name} is required but {child.column} is NULL")
        out.leaf(child.name, value_text(value))
    out.end(group.name)


def _refuse(name: str, elem: Any, reason: str) -> OutboundFormatError:
    return OutboundFormatError(
        name, reason, element=etree.QName(elem).localname, line=elem.sourceline
    )


@functools.cache
def _sql_type(sql_type: str) -> tuple[str, tuple[int, int] | None]:
    return sql_type.split()[0], decimal_type(sql_type)


def typed_value(leaf: Leaf, text: str, sql_type: str, elem: Any, name: str) -> object:
    """``text`` of ``leaf`` as a value of ``sql_type``; refuses what the XSD or column refuses."""
    if leaf.kind == "decimal" and not _DECIMAL.fullmatch(text):
        raise _refuse(name, elem, f"{leaf.name} must be a plain decimal")
    if leaf.kind == "date" and not _DATE.fullmatch(text):
        raise _refuse(name, elem, f"{leaf.name} must be a date YYYY-MM-DD")
    base, decimal = _sql_type(sql_type)
    if base == "VARCHAR":
        return text
    try:
        if decimal is not None:
            precision, scale = decimal
            value = Decimal(text)
            exact = value.quantize(Decimal(1).scaleb(-scale))
            if exact != value or abs(exact) >= Decimal(10) ** (precision - scale):
                raise _refuse(name, elem, f"{leaf.name} does not fit DECIMAL({precision},{scale})")
            return exact
        if base in _INT_RANGES:
            number = int(text)
            if not -_INT_RANGES[base] <= number < _INT_RANGES[base]:
                raise _refuse(name, elem, f"{leaf.name} is out of range for {base}")
            return number
        if base == "DATE":
            return date.fromisoformat(text)
    except (ValueError, InvalidOperation) as exc:
        if isinstance(exc, OutboundFormatError):
            raise
        raise _refuse(name, elem, f"{leaf.name} is not a valid {base}") from exc
    return text


#: (id of a group, table) -> {element tag: (leaf, column type)}.  Keyed by id: hashing a frozen
#: Group hashes its whole subtree, which costs more than reading the entry.
_PLANS: dict[tuple[int, str], tuple[Group, dict[str, tuple[Leaf, str]]]] = {}


def _plan(group: Group, table: str) -> dict[str, tuple[Leaf, str]]:
    found = _PLANS.get((id(group), table))
    if found is None or found[0] is not group:
        columns = RA_REPORTED_TABLES[table]
        plan = {
            f"{{{EDGE_NAMESPACE}}}{leaf.name}": (leaf, columns.get(leaf.column, "VARCHAR"))
            for leaf in group.children
            if isinstance(leaf, Leaf) and leaf.column
        }
        found = _PLANS[(id(group), table)] = (group, plan)
    return found[1]


def read_entry(elem: Any, group: Group, table: str, name: str) -> dict[str, Any]:
    """The leaves of a completed ``group`` element as typed values of ``table``'s columns
    (absent leaves are ``None``; child groups are left to the caller)."""
    plan = _plan(group, table)
    values: dict[str, Any] = {leaf.column: None for leaf, _ in plan.values() if leaf.column}
    for child in elem:
        found = plan.get(child.tag)
        if found is not None:
            leaf, sql_type = found
            values[leaf.column or ""] = typed_value(leaf, child.text or "", sql_type, child, name)
    return values
