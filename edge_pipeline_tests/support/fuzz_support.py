"""Support for the reader fuzz tests: settings profiles, mutation strategies, reference parses.

Profiles (``HYPOTHESIS_PROFILE``): ``ci`` (the default) keeps ``test_fuzz_readers.py`` short
enough for every ``make test``; ``fuzz`` (``make fuzz``) runs thousands of examples with no
deadline.  Neither keeps an example database: nothing is written to ``.hypothesis/``.

The profiles are applied per test (``@PROFILE``), not loaded globally, so importing this module
does not change the settings of any other hypothesis test.

Mutations work on the bytes of small valid files and come in four families, drawn in this
order: tree surgery on a parse (delete, duplicate, reorder elements, random text in a leaf),
markup injected between tags or inside a value (entity and character references, DOCTYPE,
PIs, comments, CDATA, stray markup), an encoding change (BOM, UTF-16, other declarations,
junk before the declaration), and raw byte damage (flips, truncation, insertion, deletion).
"""

from __future__ import annotations

import copy
import io
import os
import random
import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import duckdb
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from lxml import etree

from edge_pipeline.base.errors import MAX_MESSAGE_CHARS
from edge_pipeline.edge.layouts import BY_ROOT, EDGE_NAMESPACE, FileLayout
from edge_pipeline.edge.layouts.common import RECORD_IDENTIFIER
from edge_pipeline.edge.readers.stream import POSITION_COLUMN
from edge_pipeline.edge.readers.xmlparse import HARDENED_OPTIONS, known_names

NS = f"{{{EDGE_NAMESPACE}}}"

# -- settings profiles ------------------------------------------------------------------------

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=timedelta(seconds=10),  # generous (a load takes ~10 ms); a hang still fails
    database=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=3000,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE", "ci")
PROFILE = settings(settings.get_profile(PROFILE_NAME))


def scaled(examples: int, fuzz_examples: int | None = None) -> settings:
    """The active profile with ``examples`` in CI; under ``fuzz``, ``fuzz_examples`` or the
    profile's own count.  Any other profile is taken as it is."""
    if PROFILE_NAME == "ci":
        return settings(PROFILE, max_examples=examples)
    if PROFILE_NAME == "fuzz" and fuzz_examples is not None:
        return settings(PROFILE, max_examples=fuzz_examples)
    return PROFILE


# -- the parse every oracle uses ----------------------------------------------------------------


def reference_parser() -> etree.XMLParser:
    """A full-tree parser with the readers' hardening options (so semantics match)."""
    return etree.XMLParser(**HARDENED_OPTIONS)


def reference_tree(data: bytes) -> etree._ElementTree | None:
    """The document as a full tree, or None when it is not well-formed."""
    try:
        return etree.parse(io.BytesIO(data), reference_parser())
    except etree.XMLSyntaxError:
        return None


def layout_of(root: etree._Element) -> FileLayout | None:
    if not isinstance(root.tag, str):
        return None
    qname = etree.QName(root)
    return BY_ROOT.get(qname.localname) if qname.namespace == EDGE_NAMESPACE else None


def _text(elem: etree._Element | None) -> str | None:
    return None if elem is None else (elem.text or "")


def expected_inbound_rows(
    tree: etree._ElementTree, layout: FileLayout
) -> tuple[dict[str, Counter], dict[str, list[str]]]:
    """Every table's rows (a multiset) as an independent full-tree reading says, and the
    column order they are given in.

    Each record element anywhere in the document is one row: its identifier, the identifiers
    of its enclosing records, the text of its first direct child of each value element (None
    when absent, ``""`` when empty) and its position among all record start tags.
    """
    records = layout.records()
    tags = [NS + record.element for record, _ in records]
    # pre-order = start-tag order; the dict holds the proxies, so lxml hands out the same ones
    positions = {elem: n for n, elem in enumerate(tree.getroot().iter(*tags), 1)}
    rows: dict[str, Counter] = {}
    columns: dict[str, list[str]] = {}
    for record, ancestors in records:
        values = [f for f in record.value_fields if f is not RECORD_IDENTIFIER]
        columns[record.table] = [
            RECORD_IDENTIFIER.column,
            *(a.parent_key for a in ancestors),
            *(f.column for f in values),
            POSITION_COLUMN,
        ]
        table = rows.setdefault(record.table, Counter())
        for field in record.repeated_fields:
            assert field.table and field.sequence_column
            columns[field.table] = [
                RECORD_IDENTIFIER.column,
                *(a.parent_key for a in ancestors),
                field.sequence_column,
                field.column,
            ]
            rows.setdefault(field.table, Counter())
        for elem in tree.getroot().iter(NS + record.element):
            rid = int(elem.findtext(NS + RECORD_IDENTIFIER.name).strip())
            ancestor_ids = []
            for ancestor in ancestors:
                node = next(elem.iterancestors(NS + ancestor.element))
                ancestor_ids.append(int(node.findtext(NS + RECORD_IDENTIFIER.name).strip()))
            own = tuple(_text(elem.find(NS + f.name)) for f in values)
            table[(rid, *ancestor_ids, *own, positions[elem])] += 1
            for field in record.repeated_fields:
                assert field.table
                for n, child in enumerate(elem.findall(NS + field.name), 1):
                    rows[field.table][(rid, *ancestor_ids, n, child.text or "")] += 1
    return rows, columns


def layout_order_violations(tree: etree._ElementTree, layout: FileLayout) -> list[str]:
    """Where the document breaks the layout's (XSD's) sequence: root children (header and
    totals) out of order, a record's leaves out of order or after its child records.  A file
    that loads has none."""
    found: list[str] = []

    def check(parent: etree._Element, sequence: list[str]) -> None:
        places = {tag: i for i, tag in enumerate(sequence)}
        last = -1
        for child in parent:
            place = places.get(child.tag) if isinstance(child.tag, str) else None
            if place is None:
                continue
            if place < last:
                found.append(f"{child.tag} out of order in {parent.tag} (line {child.sourceline})")
            last = max(last, place)

    root = tree.getroot()
    root_leaves = [NS + e.name for e in (*layout.header, *layout.totals)]
    check(root, [*root_leaves, NS + layout.issuer.element])
    for record, _ in layout.records():
        sequence = [NS + f.name for f in record.fields]
        sequence += [NS + (c.container or c.element) for c in record.children]
        for elem in root.iter(NS + record.element):
            check(elem, sequence)
    return found


def over_limit_values(tree: etree._ElementTree, layout: FileLayout) -> list[str]:
    """Values longer than their element's load limit (``Element.max_length``): a file that
    loads has none."""
    found = []
    root = tree.getroot()
    for element in (*layout.header, *layout.totals):
        for elem in root.findall(NS + element.name):
            if len(elem.text or "") > element.max_length:
                found.append(element.name)
    for record, _ in layout.records():
        limits = {NS + f.name: f.max_length for f in record.fields if f is not RECORD_IDENTIFIER}
        for elem in root.iter(NS + record.element):
            for child in elem:
                limit = limits.get(child.tag) if isinstance(child.tag, str) else None
                if limit is not None and len(child.text or "") > limit:
                    found.append(f"{record.element}/{child.tag}")
    return found


#: Leaf texts worth looking for in an error message: long enough not to match by chance.
_LEAF_TEXT = re.compile(rb">([^<>]{8,})</")


def assert_error_is_safe(error: str, data: bytes, file_name: str, context: str) -> None:
    """The error-message rule: short, one line, and quoting no value of the file (any text
    of 8 or more characters between a start and an end tag, unless it also occurs in the
    file's name or is an element name)."""
    assert len(error) <= MAX_MESSAGE_CHARS, f"{len(error)} characters: {error!r}; {context}"
    assert error.isprintable(), f"control characters in {error!r}; {context}"
    for match in _LEAF_TEXT.finditer(data):
        text = match.group(1).decode("utf-8", "replace").strip()
        if len(text) < 8 or not any(c.isalnum() for c in text) or text in file_name:
            continue
        if text in known_names():  # an element name as a value (offendingElementName)
            continue
        assert text not in error, f"the error quotes a value {text[:40]!r}: {error!r}; {context}"


def table_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> Counter:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return Counter(map(tuple, con.execute(f"SELECT {quoted} FROM {table}").fetchall()))


def base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    ]


def row_counts(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def reset(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """Empty every table (a fresh warehouse per example, without re-creating the schema)."""
    for table in tables:
        con.execute(f"DELETE FROM {table}")


# -- mutation strategies -------------------------------------------------------------------------

#: Characters XML 1.0 can carry (lxml refuses the rest through its API).
XML_CHARS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="\x00\ufffe\uffff",
).filter(lambda c: c in "\t\n\r" or ord(c) >= 0x20)
#: Values: unicode, whitespace, markup-like characters and, now and then, long strings.
VALUE_TEXT = st.one_of(
    st.text(XML_CHARS, max_size=20),
    st.text(st.sampled_from(" \t\r\n"), max_size=6),
    st.text(st.sampled_from("<>&'\"]]>;#x0123456789"), max_size=12),
    st.text(XML_CHARS, min_size=200, max_size=2_000),
    # numbers that look like integers to one check and not to another
    st.sampled_from(["²", "٣", "99999999999999999999999", "9223372036854775808", "-1", " 7 "]),
)

INJECTIONS = (
    b"&xxe;",
    b"&amp;",
    b"&lt;&gt;",
    b"&#x41;",
    b"&#65;",
    b"&#0;",
    b"&#xD800;",
    b"&#x10FFFF;",
    b"&#1114112;",
    b"&",
    b"<",
    b"]]>",
    b"<![CDATA[ <cdata> & ]]>",
    b"<!-- comment -->",
    b"<!-- bad -- comment -->",
    b"<?pi data?>",
    b"<?xml version='1.0'?>",
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b"<x/>",
    b"</x>",
    b"<recordIdentifier>7</recordIdentifier>",
    b'<edge:foo xmlns:edge="http://vo.edge.fm.cms.hhs.gov"/>',
    b'<y xmlns="urn:other">z</y>',
    b"\x00",
    b"\xff\xfe",
    b"\xc3\x28",
    b"\xef\xbb\xbf",
)

DOCTYPES = (
    b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n',
    b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">\n',
    b"<!DOCTYPE r>\n",
)


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and e is not root]


def _tree_op(kind: str, rnd: random.Random, text: str) -> Callable[[etree._Element], None]:
    def apply(root: etree._Element) -> None:
        elements = _elements(root)
        if not elements:
            return
        elem = rnd.choice(elements)
        parent = elem.getparent()
        if kind == "delete":
            parent.remove(elem)
        elif kind == "duplicate":
            elem.addnext(copy.deepcopy(elem))
        elif kind == "reorder":
            siblings = list(parent)
            if len(siblings) > 1:
                other = rnd.choice(siblings)
                i, j = parent.index(elem), parent.index(other)
                parent[i], parent[j] = copy.deepcopy(other), copy.deepcopy(elem)
        elif kind == "move":
            target = rnd.choice([root, *elements])
            if elem not in target.iterancestors() and target is not elem:
                target.insert(rnd.randint(0, len(target)), elem)
        elif kind == "text":
            leaves = [e for e in elements if len(e) == 0] or elements
            rnd.choice(leaves).text = text
        elif kind == "rename":
            elem.tag = rnd.choice([e.tag for e in elements] + [NS + "unknownElement", "bare"])

    return apply


@st.composite
def mutants(draw: st.DrawFn, seeds: dict[str, bytes]) -> tuple[str, bytes, list[str]]:
    """A seed file's name, its mutated bytes and the list of mutations applied (to read in a
    failure report)."""
    name = draw(st.sampled_from(sorted(seeds)))
    data = seeds[name]
    applied: list[str] = []
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))

    # 1. tree surgery
    ops = draw(
        st.lists(
            st.sampled_from(["delete", "duplicate", "reorder", "move", "text", "rename"]),
            max_size=3,
        )
    )
    if ops:
        root = etree.fromstring(data, reference_parser())
        for op in ops:
            text = draw(VALUE_TEXT) if op == "text" else ""
            _tree_op(op, rnd, text)(root)
            applied.append(op + (f"({text[:40]!r})" if text else ""))
        data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    # 2. markup injected between tags or into a value
    injections = draw(st.lists(st.sampled_from(INJECTIONS), max_size=2))
    for markup in injections:
        spots = [m.end() for m in re.finditer(rb">", data)] or [len(data)]
        at = rnd.choice(spots)
        if rnd.random() < 0.5:  # inside the text that follows the tag, when there is some
            nxt = data.find(b"<", at)
            if nxt > at + 1:
                at = rnd.randint(at, nxt)
        data = data[:at] + markup + data[at:]
        applied.append(f"inject {markup[:30]!r} at {at}")
    if draw(st.booleans()) and draw(st.booleans()):
        doctype = draw(st.sampled_from(DOCTYPES))
        decl = data.find(b"?>")
        at = decl + 2 if data.startswith(b"<?xml") and decl > 0 else 0
        data = data[:at] + b"\n" + doctype + data[at:]
        applied.append(f"doctype {doctype[:40]!r}")

    # 3. encodings
    encoding = draw(
        st.sampled_from(
            ["none"] * 6
            + ["bom", "utf16", "utf16-nobom", "latin1-decl", "ascii-decl", "junk", "space"]
        )
    )
    if encoding != "none":
        data = _encode(encoding, data)
        applied.append(f"encoding {encoding}")

    # 4. raw byte damage
    for op in draw(st.lists(st.sampled_from(["flip", "truncate", "insert", "cut"]), max_size=2)):
        if not data:
            break
        at = rnd.randrange(len(data))
        if op == "flip":
            data = data[:at] + bytes([data[at] ^ rnd.randint(1, 255)]) + data[at + 1 :]
        elif op == "truncate":
            data = data[:at]
        elif op == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        else:
            data = data[:at] + data[at + rnd.randint(1, 64) :]
        applied.append(f"{op} at {at}")
    if not applied:
        applied.append("unchanged")
    return name, data, applied


def _encode(kind: str, data: bytes) -> bytes:
    body = re.sub(rb"^<\?xml[^>]*\?>", b"", data, count=1)
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind in ("utf16", "utf16-nobom"):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return data
        encoded = ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode(
            "utf-16" if kind == "utf16" else "utf-16-le"
        )
        return encoded
    if kind == "latin1-decl":
        return b'<?xml version="1.0" encoding="ISO-8859-1"?>' + body
    if kind == "ascii-decl":
        return b'<?xml version="1.0" encoding="US-ASCII"?>' + body
    if kind == "junk":
        return b"junk" + data
    return b"  \n" + data  # whitespace before the declaration


def describe(name: str, applied: list[str], data: bytes) -> str:
    return f"seed {name}, mutations {applied}, {len(data)} bytes: {data[:300]!r}..."
