"""Property-based fuzzing of the readers (issue #7): what hostile or odd bytes can do to a load.

Three properties, each over a real DuckDB (one per test, emptied between examples):

* **Inbound mutants** (small valid generated files of the four types, mutated by
  :func:`fuzz_support.mutants`): ``load_file`` either loads, and then every landing table holds
  exactly the rows an independent full-tree parse of the same bytes says (raw text, ancestors'
  identifiers, document positions) and ``submission_file`` the header values; or it records a
  clean ``failed`` attempt with an error string and leaves no row in any landing table.  Any
  other exception, a hang (the profile's deadline) or a partial load fails the test.
* **Outbound mutants** (Phase 1 reports written for a small verified issuer): the same for
  ``load_outbound_file``; a loaded mutant must give the same rows as the reader gives over a
  canonical re-serialisation of its reference parse, and the tables hold exactly those rows.
* **Structured generation**: well-formed documents following each inbound layout, with values
  drawn from unicode, whitespace, markup characters and long strings, serialised in several
  encodings; every value must arrive in the warehouse exactly as generated.

``make test`` runs the ``ci`` profile (tens of examples per property); ``make fuzz`` runs
thousands (``HYPOTHESIS_PROFILE=fuzz``).  A failure prints the mutations applied and the
bytes, and hypothesis' reproduction blob.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fuzz_support import (
    VALUE_TEXT,
    XML_CHARS,
    assert_error_is_safe,
    base_tables,
    describe,
    expected_inbound_rows,
    layout_of,
    layout_order_violations,
    mutants,
    over_limit_values,
    reference_tree,
    reset,
    row_counts,
    scaled,
    table_rows,
)
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from edge_pipeline.edge.layouts import BY_TYPE, EDGE_NAMESPACE, FileLayout, Record
from edge_pipeline.edge.layouts.common import RECORD_IDENTIFIER
from edge_pipeline.edge.outbound.core.naming import parse_outbound_file_name
from edge_pipeline.edge.outbound.load import load_outbound_file
from edge_pipeline.edge.outbound.phase1.write import write_phase1_reports
from edge_pipeline.edge.outbound.read import OutboundReportReader
from edge_pipeline.edge.synth import generate_issuer
from edge_pipeline.edge.verification import load_reference_tables, verify_all
from edge_pipeline.edge.warehouse.load import load_file, load_paths
from edge_pipeline.edge.warehouse.schema import TABLES, ensure_schema

NS = f"{{{EDGE_NAMESPACE}}}"
LANDING = sorted(set(TABLES) - {"submission_file"})


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny issuer with defects (so detail reports carry errors at several levels)."""
    out = tmp_path_factory.mktemp("fuzz_issuer")
    generate_issuer(out, enrollees=3, seed=5, error_rate=0.3)
    return out


@pytest.fixture(scope="module")
def inbound_seeds(issuer: Path) -> dict[str, bytes]:
    seeds = {p.name: p.read_bytes() for p in sorted(issuer.glob("*.xml"))}
    types = {name.split(".")[1] for name in seeds}
    assert types == {"E", "M", "P", "S"}, sorted(seeds)
    return seeds


@pytest.fixture(scope="module")
def outbound_seeds(issuer: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """ESFAR, detail report and summary of every file of the issuer, from a verified shadow."""
    work = tmp_path_factory.mktemp("fuzz_outbound")
    warehouse = work / "warehouse.duckdb"
    loads = load_paths(sorted(issuer.glob("*.xml")), warehouse)
    assert all(r.status == "loaded" for r in loads), [r.error for r in loads]
    con = duckdb.connect(str(warehouse))
    try:
        load_reference_tables(con, issuer / "plan_registry.csv", [issuer])
        verify_all(con)
        fids = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT file_identifier FROM shadow_file_status"
            ).fetchall()
        ]
        paths = [
            path
            for fid in sorted(fids)
            for path in write_phase1_reports(con, fid, work / fid, datetime(2025, 4, 2, 9))
        ]
    finally:
        con.close()
    assert len({p.name.split(".")[1] for p in paths}) == 16, paths  # 4 reports x 4 types
    # several defect files of one type give reports of one name: keep one of each name
    return {p.name: p.read_bytes() for p in paths}


@pytest.fixture(scope="module")
def inbound_db() -> Iterator[tuple[duckdb.DuckDBPyConnection, list[str]]]:
    con = duckdb.connect(":memory:")
    ensure_schema(con)
    yield con, base_tables(con)
    con.close()


@pytest.fixture(scope="module")
def outbound_db() -> Iterator[tuple[duckdb.DuckDBPyConnection, list[str]]]:
    con = duckdb.connect(":memory:")
    from edge_pipeline.edge.outbound.phase1.tables import ensure_reported_tables
    from edge_pipeline.edge.outbound.ra.tables import ensure_ra_reported_tables

    ensure_reported_tables(con)
    ensure_ra_reported_tables(con)
    yield con, base_tables(con)
    con.close()


# -- the inbound oracle -------------------------------------------------------------------------


def check_inbound_load(
    con: duckdb.DuckDBPyConnection, tables: list[str], path: Path, data: bytes, context: str
) -> str:
    """Load ``path`` (holding ``data``) into the emptied warehouse and check the outcome."""
    reset(con, tables)
    result = load_file(con, path, parallel=False)  # any exception fails the test
    files = con.execute(
        "SELECT status, error, file_identifier, records_loaded FROM submission_file"
    ).fetchall()
    assert len(files) == 1, context
    status, error, file_identifier, records_loaded = files[0]
    assert status == result.status, context
    if result.status != "loaded":
        assert result.status in ("failed", "refused"), context
        assert isinstance(result.error, str) and result.error.strip(), context
        assert error == result.error, context
        assert_error_is_safe(error, data, path.name, context)
        left = {t: n for t, n in row_counts(con, LANDING).items() if n}
        assert not left, f"rows left behind by a {result.status} load: {left}; {context}"
        return result.status
    tree = reference_tree(data)
    assert tree is not None, f"loaded, but not well-formed to a full parse; {context}"
    assert not tree.xpath("//processing-instruction()"), f"loaded with a PI; {context}"
    layout = layout_of(tree.getroot())
    assert layout is not None and layout.name == result.layout, context
    # what loads is in the layout's (XSD's) order, and no value is over its load limit
    assert not layout_order_violations(tree, layout), context
    assert not over_limit_values(tree, layout), context
    expected, columns = expected_inbound_rows(tree, layout)
    total = 0
    for table in LANDING:
        want = expected.get(table, Counter())
        got = table_rows(con, table, columns[table]) if table in columns else Counter()
        if table in columns:
            assert got == want, (
                f"{table}: missing {list((want - got).items())[:3]}, "
                f"unexpected {list((got - want).items())[:3]}; {context}"
            )
        else:
            assert not row_counts(con, [table])[table], context
        if table in {r.table for r, _ in layout.records()}:
            total += sum(want.values())
    assert records_loaded == total == result.records, context
    # The root: header and total elements, each once and text only, then the issuer record
    # (one) and nothing after it; the stored header values are those elements' texts.
    root = tree.getroot()
    issuer = root.find(NS + layout.issuer.element)
    assert issuer is not None and root[-1] is issuer, context
    header = {NS + e.name: e for e in (*layout.header, *layout.totals)}
    before = list(root)[:-1]
    assert all(e.tag in header and not len(e) for e in before), context
    assert len({e.tag for e in before}) == len(before), context
    for found in before:
        column = header[found.tag].column
        (stored,) = con.execute(f'SELECT "{column}" FROM submission_file').fetchone()
        assert stored == (found.text or ""), f"{found.tag}; {context}"
    assert file_identifier, context
    return "loaded"


# -- (a) inbound mutants --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outcomes() -> Counter:
    return Counter()


def test_inbound_mutants_load_exactly_or_fail_cleanly(
    inbound_seeds: dict[str, bytes],
    inbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    tmp_path_factory: pytest.TempPathFactory,
    outcomes: Counter,
) -> None:
    con, tables = inbound_db
    work = tmp_path_factory.mktemp("inbound_mutants")

    @scaled(120)
    @given(mutant=mutants(inbound_seeds))
    def run(mutant: tuple[str, bytes, list[str]]) -> None:
        name, data, applied = mutant
        path = work / name
        path.write_bytes(data)
        outcomes[check_inbound_load(con, tables, path, data, describe(name, applied, data))] += 1

    run()
    # the mutations are not all fatal, nor all harmless: both paths were exercised
    assert outcomes["loaded"] and outcomes["failed"], outcomes


def test_every_unmutated_seed_loads(
    inbound_seeds: dict[str, bytes],
    inbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    tmp_path: Path,
) -> None:
    con, tables = inbound_db
    for name, data in inbound_seeds.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert check_inbound_load(con, tables, path, data, name) == "loaded"


def test_reused_file_identifier_is_refused_cleanly(
    inbound_seeds: dict[str, bytes],
    inbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    tmp_path: Path,
) -> None:
    """The ``refused`` outcome: a changed file under a loaded fileIdentifier adds no rows."""
    con, tables = inbound_db
    reset(con, tables)
    name, data = next((n, d) for n, d in inbound_seeds.items() if ".E." in n)
    original = tmp_path / name
    original.write_bytes(data)
    assert load_file(con, original, parallel=False).status == "loaded"
    before = row_counts(con, LANDING)
    changed = tmp_path / f"changed.{name}"
    changed.write_bytes(
        data.replace(b"</includedEnrollmentIssuer>", b"</includedEnrollmentIssuer>\n")
    )
    result = load_file(con, changed, parallel=False)
    assert result.status == "refused" and result.error
    assert row_counts(con, LANDING) == before


# -- (b) outbound mutants -------------------------------------------------------------------------


def _freeze(row: dict[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in row.items()))


def _reader_rows(name: str, data: bytes) -> Counter:
    parsed = parse_outbound_file_name(name)
    reader = OutboundReportReader(name, zone=parsed.zone if parsed else None, load_id=None)
    return Counter((table, _freeze(row)) for table, row in reader.rows(io.BytesIO(data)))


def test_outbound_mutants_load_exactly_or_fail_cleanly(
    outbound_seeds: dict[str, bytes],
    outbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    con, tables = outbound_db
    reported = [t for t in tables if t.startswith("reported_")]
    work = tmp_path_factory.mktemp("outbound_mutants")
    seen: Counter = Counter()

    @scaled(80)
    @given(mutant=mutants(outbound_seeds))
    def run(mutant: tuple[str, bytes, list[str]]) -> None:
        name, data, applied = mutant
        context = describe(name, applied, data)
        reset(con, tables)
        path = work / name
        path.write_bytes(data)
        result = load_outbound_file(con, path)  # any exception fails the test
        files = con.execute("SELECT status, error FROM outbound_file").fetchall()
        assert files == [(result.status, result.error)], context
        seen[result.status] += 1
        counts = {t: n for t, n in row_counts(con, reported).items() if n}
        if result.status != "loaded":
            assert result.status in ("failed", "refused"), context
            assert isinstance(result.error, str) and result.error.strip(), context
            assert_error_is_safe(result.error, data, name, context)
            assert not counts, f"rows left behind: {counts}; {context}"
            return
        tree = reference_tree(data)
        assert tree is not None, f"loaded, but not well-formed to a full parse; {context}"
        canonical = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
        want = _reader_rows(name, canonical)
        assert _reader_rows(name, data) == want, context
        per_table = Counter()
        for (table, _), n in want.items():
            per_table[table] += n
        assert counts == dict(per_table) == {t: n for t, n in result.rows.items() if n}, context

    run()
    assert seen["loaded"] and seen["failed"], seen


# -- (c) structured generation ----------------------------------------------------------------------

RID_TEXT = st.one_of(
    st.integers(0, 2**63 - 1).map(str),
    st.tuples(st.sampled_from(["", " ", "\n  ", "00"]), st.integers(0, 10**6)).map(
        lambda t: f"{t[0]}{t[1]}{t[0].strip()}"
    ),
)


@st.composite
def documents(draw: st.DrawFn, layout: FileLayout) -> tuple[etree._Element, dict[str, str]]:
    """A well-formed document of ``layout`` with random values; the header values written."""
    root = etree.Element(NS + layout.root, nsmap={None: EDGE_NAMESPACE})
    header: dict[str, str] = {}
    for element in (*layout.header, *layout.totals):
        text = draw(
            st.text(XML_CHARS, min_size=1, max_size=30)
            if element.column == "file_identifier"
            else VALUE_TEXT
        )[: element.max_length]
        etree.SubElement(root, NS + element.name).text = text
        header[element.column] = text
    budget = [draw(st.integers(0, 12))]  # records below the issuer, so documents stay small

    def record(parent: etree._Element, rec: Record) -> None:
        elem = etree.SubElement(parent, NS + rec.element)
        for field in rec.fields:
            if field is RECORD_IDENTIFIER:
                etree.SubElement(elem, NS + field.name).text = draw(RID_TEXT)
            elif field.repeated:
                for _ in range(draw(st.integers(0, min(3, field.max_occurs)))):
                    text = draw(VALUE_TEXT)[: field.max_length]
                    etree.SubElement(elem, NS + field.name).text = text
            else:
                how = draw(st.sampled_from(["value", "value", "value", "empty", "absent"]))
                if how != "absent":
                    etree.SubElement(elem, NS + field.name).text = (
                        draw(VALUE_TEXT)[: field.max_length] if how == "value" else None
                    )
        for child in rec.children:
            count = min(draw(st.integers(0, 3)), budget[0])
            budget[0] -= count
            holder = elem
            if child.container and (count or draw(st.booleans())):
                holder = etree.SubElement(elem, NS + child.container)
            for _ in range(count):
                record(holder, child)

    record(root, layout.issuer)
    return root, header


@pytest.mark.parametrize("submission_type", ["E", "M", "P", "S"])
def test_generated_documents_round_trip_exactly(
    submission_type: str,
    inbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    con, tables = inbound_db
    layout = BY_TYPE[submission_type]
    work = tmp_path_factory.mktemp(f"generated_{submission_type}")

    @scaled(15, 1000)  # x4 layouts
    @given(
        document=documents(layout),
        encoding=st.sampled_from(["UTF-8", "UTF-16", "US-ASCII", "ISO-8859-1"]),
        pretty=st.booleans(),
    )
    def run(document: tuple[etree._Element, dict[str, str]], encoding: str, pretty: bool) -> None:
        root, header = document
        data = etree.tostring(root, xml_declaration=True, encoding=encoding, pretty_print=pretty)
        path = work / f"generated.{submission_type}.xml"
        path.write_bytes(data)
        context = f"{encoding}, {len(data)} bytes: {data[:400]!r}"
        reset(con, tables)
        result = load_file(con, path, parallel=False)
        assert result.status == "loaded", f"{result.error}; {context}"
        # expected rows from the tree as built (the generated values), not from a re-parse
        expected, columns = expected_inbound_rows(etree.ElementTree(root), layout)
        for table, want in expected.items():
            got = table_rows(con, table, columns[table])
            assert got == want, (
                f"{table}: missing {list((want - got).items())[:2]}, "
                f"unexpected {list((got - want).items())[:2]}; {context}"
            )
        names = ", ".join(f'"{c}"' for c in header)
        stored = con.execute(f"SELECT {names} FROM submission_file").fetchone()
        assert dict(zip(header, stored, strict=True)) == header, context

    run()


@pytest.mark.parametrize("submission_type", ["E", "M", "P", "S"])
def test_generated_values_over_their_limit_are_refused_without_quoting_them(
    submission_type: str,
    inbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """One value of a generated document made longer than its element's load limit: the file
    is refused, the error names that element and its line, and quotes nothing of the value."""
    con, tables = inbound_db
    layout = BY_TYPE[submission_type]
    work = tmp_path_factory.mktemp(f"over_limit_{submission_type}")

    @scaled(8, 300)  # x4 layouts
    @given(document=documents(layout), pick=st.integers(0, 10**6), extra=st.integers(1, 5000))
    def run(document: tuple[etree._Element, dict[str, str]], pick: int, extra: int) -> None:
        root, _ = document
        limits = {NS + e.name: e.max_length for e in (*layout.header, *layout.totals)}
        for record, _ in layout.records():
            limits.update(
                {NS + f.name: f.max_length for f in record.fields if f is not RECORD_IDENTIFIER}
            )
        leaves = [e for e in root.iter() if e.tag in limits and not len(e)]
        leaf = leaves[pick % len(leaves)]
        leaf.text = "Q7" * ((limits[leaf.tag] + extra) // 2 + 1)
        data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        path = work / f"over.{submission_type}.xml"
        path.write_bytes(data)
        reset(con, tables)
        context = f"{leaf.tag}, {len(leaf.text)} characters"
        result = load_file(con, path, parallel=False)
        assert result.status == "failed", context
        assert f"element {etree.QName(leaf).localname}" in result.error, result.error
        assert "over this element's load limit" in result.error, result.error
        assert "Q7Q7" not in result.error and len(result.error) <= 280, result.error
        assert not any(row_counts(con, LANDING).values()), context

    run()


# -- regressions the fuzzer found ------------------------------------------------------------------


#: libxml2 reports a malformed qualified name (undeclared or empty prefix, empty local name) only
#: when the document ends, so the readers met these tags first and ``etree.QName`` raised
#: ValueError on them: an "internal error" instead of a failed file naming line and element.
BAD_NAMES = [
    (
        (b"<recordIdentifier>2<", b"<p:x>1</p:x><recordIdentifier>2<"),
        (b"<statusTypeCode>", b"<p:x/><statusTypeCode>"),
    ),
    (
        (b"<recordIdentifier>2<", b"<:x>1</:x><recordIdentifier>2<"),
        (b"<statusTypeCode>", b"<:x/><statusTypeCode>"),
    ),
    (
        (b"edgeServerEnrollmentSubmission", b":edgeServerEnrollmentSubmission"),
        (b"issuerPlanEnrollmentDetail", b":issuerPlanEnrollmentDetail"),
    ),
]


@pytest.mark.parametrize(("inbound", "outbound"), BAD_NAMES)
def test_malformed_qualified_names_fail_cleanly(
    inbound: tuple[bytes, bytes],
    outbound: tuple[bytes, bytes],
    inbound_seeds: dict[str, bytes],
    outbound_seeds: dict[str, bytes],
    inbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    outbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    tmp_path: Path,
) -> None:
    con, tables = inbound_db
    name, data = next((n, d) for n, d in inbound_seeds.items() if ".E." in n)
    mutant = data.replace(*inbound)
    assert mutant != data
    (tmp_path / name).write_bytes(mutant)
    assert check_inbound_load(con, tables, tmp_path / name, mutant, name) == "failed"
    error = con.execute("SELECT error FROM submission_file").fetchone()[0]
    assert "internal error" not in error, error

    con, tables = outbound_db
    reset(con, tables)
    name, data = next((n, d) for n, d in outbound_seeds.items() if ".ED." in n)
    mutant = data.replace(*outbound)
    assert mutant != data
    (tmp_path / name).write_bytes(mutant)
    result = load_outbound_file(con, tmp_path / name)
    assert result.status == "failed", result.error
    assert "internal error" not in (result.error or ""), result.error
    assert not any(row_counts(con, [t for t in tables if t.startswith("reported_")]).values())


@pytest.mark.parametrize("value", ["²", "٣", "99999999999999999999999"])
def test_odd_record_identifiers_fail_cleanly(
    value: str,
    inbound_seeds: dict[str, bytes],
    outbound_seeds: dict[str, bytes],
    inbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    outbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    tmp_path: Path,
) -> None:
    """A non-ASCII digit ("²" passes str.isdigit, not int()) or a number beyond BIGINT as a
    recordIdentifier, where another error is then reported for the record; and an outbound
    integer too big for its column.  Each was an internal error."""
    con, tables = inbound_db
    name, data = next((n, d) for n, d in inbound_seeds.items() if ".E." in n)
    rid = re.search(rb"<includedInsuredMemberProfile>\s*<recordIdentifier>(\d+)<", data)
    assert rid is not None
    start, end = rid.span(1)
    closing = b"</recordIdentifier>"
    assert data[end : end + len(closing)] == closing
    mutant = data[:start] + value.encode() + closing + b"<bogus/>" + data[end + len(closing) :]
    (tmp_path / name).write_bytes(mutant)
    assert check_inbound_load(con, tables, tmp_path / name, mutant, name) == "failed"
    error = con.execute("SELECT error FROM submission_file").fetchone()[0]
    assert "internal error" not in error, error

    if not value.isascii():
        return
    con, tables = outbound_db
    for code in ("ED", "ES"):  # a record identifier (BIGINT), a year (INTEGER)
        reset(con, tables)
        name, data = next((n, d) for n, d in outbound_seeds.items() if f".{code}." in n)
        leaf = re.search(rb"<(\w*(?:RecordIdentifier|Year))>(\d+)<", data)
        assert leaf is not None
        start, end = leaf.span(2)
        (tmp_path / name).write_bytes(data[:start] + value.encode() + data[end:])
        result = load_outbound_file(con, tmp_path / name)
        assert result.status == "failed", result.error
        assert "internal error" not in (result.error or ""), result.error
        assert not any(row_counts(con, [t for t in tables if t.startswith("reported_")]).values())


@pytest.mark.parametrize("inside", ["service line", "element"])
def test_value_element_holding_elements_fails_cleanly(
    inside: str,
    inbound_seeds: dict[str, bytes],
    inbound_db: tuple[duckdb.DuckDBPyConnection, list[str]],
    tmp_path: Path,
) -> None:
    """A service line moved into a leaf of its claim (``<originalClaimIdentifier>``) was read
    as the leaf's text and silently dropped: the file loaded one line short."""
    con, tables = inbound_db
    name, data = next((n, d) for n, d in inbound_seeds.items() if ".M." in n)
    tree = etree.fromstring(data)
    claim = tree.find(f".//{NS}includedMedicalClaimDetail")
    leaf = claim.find(f"{NS}claimIdentifier")
    if inside == "service line":
        leaf.append(claim.find(f".//{NS}includedServiceLine"))
    else:
        etree.SubElement(leaf, NS + "note").text = "x"
    mutant = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    (tmp_path / name).write_bytes(mutant)
    assert check_inbound_load(con, tables, tmp_path / name, mutant, name) == "failed"
    error = con.execute("SELECT error FROM submission_file").fetchone()[0]
    assert "element claimIdentifier: a value element holds elements" in error, error
