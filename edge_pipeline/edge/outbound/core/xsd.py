"""XSDs of the Phase 1 outbound reports, generated from their layout declarations.

Mirrors :mod:`edge_pipeline.edge.xsd` (the inbound schemas): the layouts in
:mod:`edge_pipeline.edge.layouts.outbound` are the single source of truth, the XSDs shipped in
``edge_pipeline/xsd/`` are rendered from them (``python -m edge_pipeline.edge.outbound.core.xsd``),
and a test keeps shipped and rendered identical.

The schemas are structural, like the inbound ones, with one difference: every integer the
warehouse links or sums on (record identifiers, counts, years, months) must be digits, because a
report whose numbers cannot be read cannot be reconciled.  Names, values and codes stay strings:
the report is kept as EDGE wrote it.  Every name the public spec does not state is annotated
"(assumed)".  The Phase 2 risk adjustment reports also carry typed decimals (scores,
coefficients, member months) and dates (birth dates); their schemas constrain those too, with
types declared only in a schema that uses them (so the Phase 1 XSDs are unchanged).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE
from edge_pipeline.edge.layouts.outbound import OUTBOUND_LAYOUTS, OutboundLayout, RaReportLayout
from edge_pipeline.edge.layouts.outbound.model import Group, Leaf, Node
from edge_pipeline.edge.layouts.outbound.tree import tree
from edge_pipeline.edge.xsd import (
    TNS,
    XS_NAMESPACE,
    compile_shipped,
    generated_document,
    regenerate,
    shipped_text,
    write_rendered,
)

#: Digits only, as the reader converts them (``+5`` or ``5.0`` would link or sum ambiguously).
INTEGER_TYPE = "NonNegativeIntegerDigitsType"
#: Phase 2 only: a plain decimal (optional minus, digits, optional fraction; no exponent, no
#: plus sign) and a ``YYYY-MM-DD`` date without zone, exactly what the RA reader converts.
DECIMAL_TYPE = "DecimalDigitsType"
DATE_TYPE = "PlainDateType"
DECIMAL_PATTERN = "-?[0-9]+(\\.[0-9]+)?"
DATE_PATTERN = "[0-9]{4}-[0-9]{2}-[0-9]{2}"

#: Leaf kind -> (simpleType name, base, pattern, documentation) for the constrained kinds.
_SIMPLE_TYPES: dict[str, tuple[str, str, str, str]] = {
    "integer": (
        INTEGER_TYPE,
        "xs:nonNegativeInteger",
        "[0-9]+",
        "unsigned decimal digits: identifiers and counts the warehouse reads",
    ),
    "decimal": (
        DECIMAL_TYPE,
        "xs:decimal",
        DECIMAL_PATTERN,
        "a decimal as the warehouse stores it: optional minus, digits, optional fraction",
    ),
    "date": (DATE_TYPE, "xs:date", DATE_PATTERN, "a date YYYY-MM-DD, no time zone"),
}

_XS = f"{{{XS_NAMESPACE}}}"


def xsd_filename(layout: OutboundLayout) -> str:
    """File name of a report's XSD, e.g. ``ESDMCE.xsd``."""
    return f"{layout.name}.xsd"


def _annotate(parent: etree._Element, text: str) -> None:
    annotation = etree.SubElement(parent, f"{_XS}annotation")
    etree.SubElement(annotation, f"{_XS}documentation").text = text


def _occurs(node: etree._Element, item: Node) -> None:
    node.set("minOccurs", str(item.min_occurs))
    node.set("maxOccurs", "unbounded" if item.max_occurs is None else str(item.max_occurs))


def _documentation(item: Node) -> str:
    parts = [f"kind: {item.kind}"] if isinstance(item, Leaf) else []
    if item.doc:
        parts.append(item.doc)
    text = "; ".join(parts)
    if item.assumed:
        text = f"{text} (assumed)" if text else "(assumed)"
    return text


def _signature(group: Group) -> tuple[object, ...]:
    """What makes two groups the same complexType: their children as declared."""
    return tuple(
        (c.name, c.min_occurs, c.max_occurs, c.kind if isinstance(c, Leaf) else c.xsd_type)
        for c in group.children
    )


def _complex_types(root: Group) -> list[Group]:
    """Every group that needs a complexType, depth first, each type once.

    Two different groups may not share a type name: the layout would be ambiguous, so that is
    refused here rather than rendered as whichever came first.
    """
    found: dict[str, Group] = {}
    order: list[Group] = []

    def visit(group: Group) -> None:
        seen = found.get(group.xsd_type)
        if seen is not None:
            if _signature(seen) != _signature(group):
                raise ValueError(f"two different blocks are both typed {group.xsd_type}")
            return
        found[group.xsd_type] = group
        order.append(group)
        for child in group.children:
            if isinstance(child, Group):
                visit(child)

    visit(root)
    return order


def render_xsd(layout: OutboundLayout) -> str:
    """The XSD 1.0 document of an outbound layout, byte-for-byte deterministic."""
    root = tree(layout)
    schema = etree.Element(
        f"{_XS}schema",
        nsmap={"xs": XS_NAMESPACE, TNS: EDGE_NAMESPACE},
        targetNamespace=EDGE_NAMESPACE,
        elementFormDefault="qualified",
    )
    if isinstance(layout, RaReportLayout):
        intro = (
            f"{layout.name}, Phase 2 (risk adjustment) outbound report: {layout.doc}. Structural "
            "schema: names, order, nesting and repetition are enforced; identifiers and counts "
            "must be digits, scores, coefficients and member months decimals, dates YYYY-MM-DD; "
            "other values are strings. The layout is this project's (spec section 6): names "
            "marked (assumed) are not from a public specification."
        )
    else:
        intro = (
            f"{layout.name}, Phase 1 outbound report: {layout.doc}. Structural schema: names, "
            "order, nesting and repetition are enforced, and record identifiers, counts, years "
            "and months must be digits; other values are strings kept as written. Names marked "
            "(assumed) are this project's where the public specification is silent."
        )
    _annotate(schema, intro)
    element = etree.SubElement(
        schema, f"{_XS}element", name=root.name, type=f"{TNS}:{root.xsd_type}"
    )
    _annotate(element, f"root of the {layout.name} report" + (" (assumed)" if root.assumed else ""))
    used = {"integer"}  # always declared, as the Phase 1 schemas always have
    for group in _complex_types(root):
        complex_type = etree.SubElement(schema, f"{_XS}complexType", name=group.xsd_type)
        sequence = etree.SubElement(complex_type, f"{_XS}sequence")
        for child in group.children:
            if isinstance(child, Leaf) and child.kind in _SIMPLE_TYPES:
                used.add(child.kind)
                kind = f"{TNS}:{_SIMPLE_TYPES[child.kind][0]}"
            elif isinstance(child, Leaf):
                kind = "xs:string"
            else:
                kind = f"{TNS}:{child.xsd_type}"
            node = etree.SubElement(sequence, f"{_XS}element", name=child.name, type=kind)
            _occurs(node, child)
            text = _documentation(child)
            if text:
                _annotate(node, text)
    for leaf_kind, (name, base, pattern, doc) in _SIMPLE_TYPES.items():
        if leaf_kind in used:
            simple = etree.SubElement(schema, f"{_XS}simpleType", name=name)
            _annotate(simple, doc)
            restriction = etree.SubElement(simple, f"{_XS}restriction", base=base)
            etree.SubElement(restriction, f"{_XS}pattern", value=pattern)

    return generated_document(
        schema,
        f"edge_pipeline.edge.layouts.outbound ({layout.name})",
        "python -m edge_pipeline.edge.outbound.core.xsd",
    )


def shipped_xsd(layout: OutboundLayout) -> str:
    """Text of the XSD shipped in the package for this report."""
    return shipped_text(xsd_filename(layout))


def load_schema(layout: OutboundLayout) -> etree.XMLSchema:
    """Compiled schema of the SHIPPED XSD, cached per report (one thread per cached object)."""
    return compile_shipped(xsd_filename(layout))


def write_xsds(out_dir: Path, layouts: Sequence[OutboundLayout] = OUTBOUND_LAYOUTS) -> list[Path]:
    """Render every outbound layout into ``out_dir`` (created if missing)."""
    return write_rendered(out_dir, layouts, xsd_filename, render_xsd)


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the outbound XSDs: ``python -m edge_pipeline.edge.outbound.core.xsd [OUT_DIR]``."""
    return regenerate(
        argv,
        "python -m edge_pipeline.edge.outbound.core.xsd",
        "Render the Phase 1 and Phase 2 outbound report XSDs from the layout declarations.",
        write_xsds,
    )


if __name__ == "__main__":
    sys.exit(main())
