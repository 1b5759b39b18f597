"""XSDs for the four inbound EDGE files, generated from the layout declarations.

The layouts in :mod:`edge_pipeline.edge.layouts` are the single source of truth for element
names, order, nesting and repetition.  The XSDs shipped in ``edge_pipeline/xsd/`` are rendered
from them (``python -m edge_pipeline.edge.xsd``) and a test keeps the two in step, so a site
holding the official CMS ICD corrects a name once, in the layout, and regenerates.

The schemas are deliberately *structural*: they reject a file whose shape is wrong (namespace,
unknown or misplaced elements, bad nesting or repetition, missing or non-integer
``recordIdentifier``), because such a file cannot be read record by record at all.  Every leaf
value is an optional ``xs:string``: a missing or badly formatted value is a record-level Phase 1
error that must be reported against its record (spec section 4), not a file-level schema
failure that would hide every other finding in the file.  ``recordIdentifier`` is the exception,
being the key that links each record to its outbound errors.

Two bounds the loader enforces are stated here too, so that the XSD and the loader refuse the
same files: every value's length limit (``Element.max_length``, far above any legitimate
length: it bounds memory, it does not judge the value) and the recordIdentifier's BIGINT range.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TypeVar

from lxml import etree

from edge_pipeline.edge.layouts import INBOUND_LAYOUTS
from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE, Element, FileLayout, Record

XS_NAMESPACE = "http://www.w3.org/2001/XMLSchema"
#: Prefix bound to the EDGE namespace inside the XSDs, to reference the named types.
T = TypeVar("T")
RECORD_IDENTIFIER_TYPE = "RecordIdentifierType"
TNS = "tns"

#: Package and folder holding the rendered XSDs (declared as package data in pyproject.toml).
XSD_PACKAGE = "edge_pipeline"
XSD_FOLDER = "xsd"

#: The only leaf the XSD constrains: without it no error can be tied back to its record.
RECORD_IDENTIFIER = "recordIdentifier"

_REQUIREMENT_LABELS = {"R": "R (required)", "S": "S (situational)", "N": "N (not required)"}

_XS = f"{{{XS_NAMESPACE}}}"


def xsd_filename(layout: FileLayout) -> str:
    """File name of a layout's XSD, e.g. ``ESMCS.xsd``."""
    return f"{layout.name}.xsd"


def type_name(element_name: str) -> str:
    """Named complexType of a record, container or root element: ``includedX`` -> ``IncludedXType``."""
    return f"{element_name[:1].upper()}{element_name[1:]}Type"


def _occurs(value: int | None) -> str:
    return "unbounded" if value is None else str(value)


def _annotate(parent: etree._Element, text: str) -> None:
    """Attach ``xs:annotation/xs:documentation`` so the XSD reads as documentation of the layout."""
    annotation = etree.SubElement(parent, f"{_XS}annotation")
    etree.SubElement(annotation, f"{_XS}documentation").text = text


def _leaf_documentation(leaf: Element) -> str:
    parts = [f"kind: {leaf.kind}", f"requirement: {_REQUIREMENT_LABELS[leaf.requirement]}"]
    if leaf.repeated:
        parts.append(f"repeated up to {leaf.max_occurs}")
    if leaf.doc:
        parts.append(leaf.doc)
    return "; ".join(parts)


def _leaf(sequence: etree._Element, leaf: Element) -> None:
    """Declare one leaf: optional string (Phase 1 judges the value), except ``recordIdentifier``."""
    if leaf.name == RECORD_IDENTIFIER:
        node = etree.SubElement(
            sequence,
            f"{_XS}element",
            name=leaf.name,
            type=f"{TNS}:{RECORD_IDENTIFIER_TYPE}",
            minOccurs="1",
        )
    else:
        node = etree.SubElement(
            sequence,
            f"{_XS}element",
            name=leaf.name,
            type=f"{TNS}:{value_type_name(leaf.max_length)}",
            minOccurs="0",
        )
        if leaf.repeated:
            node.set("maxOccurs", str(leaf.max_occurs))
    _annotate(node, _leaf_documentation(leaf))


def _record_identifier_type(schema: etree._Element) -> None:
    """Digits only, as the loader reads it: ``+5`` or `` 5`` would link ambiguously; at most
    the warehouse's BIGINT."""
    simple = etree.SubElement(schema, f"{_XS}simpleType", name=RECORD_IDENTIFIER_TYPE)
    _annotate(simple, "unsigned decimal digits: the key outbound reports link records on")
    restriction = etree.SubElement(simple, f"{_XS}restriction", base="xs:nonNegativeInteger")
    etree.SubElement(restriction, f"{_XS}maxInclusive", value=str(2**63 - 1))
    etree.SubElement(restriction, f"{_XS}pattern", value="[0-9]+")


def value_type_name(limit: int) -> str:
    """Named simpleType of a leaf value with this length limit, e.g. ``Value256Type``."""
    return f"Value{limit}Type"


def _value_types(schema: etree._Element, layout: FileLayout) -> None:
    """One string type per length limit the layout's leaves use (see ``Element.max_length``)."""
    leaves = [*layout.header, *layout.totals]
    leaves += [f for record, _ in layout.records() for f in record.fields]
    for limit in sorted({leaf.max_length for leaf in leaves if leaf.name != RECORD_IDENTIFIER}):
        simple = etree.SubElement(schema, f"{_XS}simpleType", name=value_type_name(limit))
        _annotate(
            simple,
            f"any text up to {limit} characters: the loader's memory bound, far above any "
            "legitimate value; the value itself is judged by Phase 1",
        )
        restriction = etree.SubElement(simple, f"{_XS}restriction", base="xs:string")
        etree.SubElement(restriction, f"{_XS}maxLength", value=str(limit))


def _record_element(sequence: etree._Element, record: Record) -> None:
    """Declare a record: present at least once (spec: 1..n), at most ``Record.max_occurs``."""
    node = etree.SubElement(
        sequence,
        f"{_XS}element",
        name=record.element,
        type=f"{TNS}:{type_name(record.element)}",
        minOccurs="1",
        maxOccurs=_occurs(record.max_occurs),
    )
    text = (
        f"record, level {record.level}; {record.doc}"
        if record.doc
        else f"record, level {record.level}"
    )
    _annotate(node, text)


def _record_types(schema: etree._Element, record: Record) -> None:
    """Emit the record's complexType, then its children's (depth first, document order)."""
    complex_type = etree.SubElement(schema, f"{_XS}complexType", name=type_name(record.element))
    sequence = etree.SubElement(complex_type, f"{_XS}sequence")
    for leaf in record.fields:
        _leaf(sequence, leaf)
    for child in record.children:
        if child.container:
            # Unbounded wrapper: one wrapper holding every line or one wrapper per line read the
            # same record by record, so the schema accepts either writer style.
            wrapper = etree.SubElement(
                sequence,
                f"{_XS}element",
                name=child.container,
                type=f"{TNS}:{type_name(child.container)}",
                minOccurs="1",
                maxOccurs="unbounded",
            )
            _annotate(wrapper, f"container of {child.element} records")
        else:
            _record_element(sequence, child)
    for child in record.children:
        if child.container:
            wrapper_type = etree.SubElement(
                schema, f"{_XS}complexType", name=type_name(child.container)
            )
            _record_element(etree.SubElement(wrapper_type, f"{_XS}sequence"), child)
        _record_types(schema, child)


def render_xsd(layout: FileLayout) -> str:
    """The XSD 1.0 document of an inbound layout, byte-for-byte deterministic.

    Determinism matters because the shipped files are compared verbatim against this output.
    """
    schema = etree.Element(
        f"{_XS}schema",
        nsmap={"xs": XS_NAMESPACE, TNS: EDGE_NAMESPACE},
        targetNamespace=EDGE_NAMESPACE,
        elementFormDefault="qualified",
    )
    _annotate(
        schema,
        f"{layout.name}, submissionTypeCode {layout.submission_type}"
        + (f": {layout.doc}. " if layout.doc else ". ")
        + "Structural schema: names, order, nesting and repetition are enforced; leaf values are "
        "optional strings checked by Phase 1 (required, face validity, referential, logical), "
        "except recordIdentifier, which is required and an integer; every value has a length "
        "limit far above any legitimate length.",
    )
    root = etree.SubElement(
        schema, f"{_XS}element", name=layout.root, type=f"{TNS}:{type_name(layout.root)}"
    )
    _annotate(root, f"root of the {layout.name} file")

    root_type = etree.SubElement(schema, f"{_XS}complexType", name=type_name(layout.root))
    sequence = etree.SubElement(root_type, f"{_XS}sequence")
    for leaf in (*layout.header, *layout.totals):
        _leaf(sequence, leaf)
    _record_element(sequence, layout.issuer)
    _record_types(schema, layout.issuer)
    _record_identifier_type(schema)
    _value_types(schema, layout)

    return generated_document(
        schema, f"edge_pipeline.edge.layouts ({layout.name})", "python -m edge_pipeline.edge.xsd"
    )


def shipped_text(filename: str) -> str:
    """Text of an XSD shipped in the package (inbound or outbound)."""
    return resources.files(XSD_PACKAGE).joinpath(XSD_FOLDER, filename).read_text("utf-8")


@functools.cache
def compile_shipped(filename: str) -> etree.XMLSchema:
    """The compiled schema of a shipped XSD, cached per file."""
    resource = resources.files(XSD_PACKAGE).joinpath(XSD_FOLDER, filename)
    return etree.XMLSchema(etree.fromstring(resource.read_bytes()))


def generated_document(schema: etree._Element, source: str, command: str) -> str:
    """Serialize a rendered schema with the banner saying where it came from."""
    body = etree.tostring(schema, pretty_print=True, encoding="unicode")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!-- Generated from {source} by `{command}`. "
        "Do not edit: change the layout and regenerate. -->\n"
        f"{body}"
    )


def shipped_xsd(layout: FileLayout) -> str:
    """Text of the XSD shipped in the package for this layout."""
    return shipped_text(xsd_filename(layout))


def load_schema(layout: FileLayout) -> etree.XMLSchema:
    """Compiled schema of the SHIPPED XSD (not a fresh render), cached per file type.

    Validating against the shipped file means the pipeline checks exactly what is published.
    The cached object keeps its ``error_log`` per instance, so share it within one thread only.
    """
    return compile_shipped(xsd_filename(layout))


def write_rendered(
    out_dir: Path, items: Sequence[T], filename: Callable[[T], str], render: Callable[[T], str]
) -> list[Path]:
    """Render each item into ``out_dir`` (created if missing); returns the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for item in items:
        path = out_dir / filename(item)
        path.write_text(render(item), encoding="utf-8", newline="\n")
        written.append(path)
    return written


def write_xsds(out_dir: Path, layouts: Sequence[FileLayout] = INBOUND_LAYOUTS) -> list[Path]:
    """Render every inbound layout into ``out_dir``; returns the written paths."""
    return write_rendered(out_dir, layouts, xsd_filename, render_xsd)


def default_xsd_dir() -> Path:
    """The package's own ``xsd`` folder in the source tree, where the shipped files live."""
    return Path(__file__).resolve().parents[1] / XSD_FOLDER


def regenerate(argv: Sequence[str] | None, prog: str, description: str, write) -> int:
    """The ``python -m`` entry of an XSD module: render into OUT_DIR (default: the package)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "out_dir",
        nargs="?",
        type=Path,
        default=default_xsd_dir(),
        help="output folder (default: the package's xsd folder)",
    )
    args = parser.parse_args(argv)
    for path in write(args.out_dir):
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the XSDs: ``python -m edge_pipeline.edge.xsd [OUT_DIR]``."""
    return regenerate(
        argv,
        "python -m edge_pipeline.edge.xsd",
        "Render the inbound EDGE XSDs from the layout declarations.",
        write_xsds,
    )


if __name__ == "__main__":
    sys.exit(main())
