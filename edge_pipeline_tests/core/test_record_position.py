"""``record_position``: every record row's place in document order, and the X401 sequence
check built on it (spec section 2: each recordIdentifier is one greater than the preceding
record's, whatever its type, in document order).

Ground truth for the order is an independent full-tree lxml parse: the record elements in the
order ``iter()`` visits them, which is the order of their start tags.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from lxml import etree

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.layouts import BY_TYPE, EDGE_NAMESPACE, FileLayout
from edge_pipeline.edge.readers.header import read_header
from edge_pipeline.edge.synth.generate import generate_issuer
from edge_pipeline.edge.verification import load_reference_tables, verify_all
from edge_pipeline.edge.warehouse.load import load_file, load_paths

NS = f"{{{EDGE_NAMESPACE}}}"
CLAIM = re.compile(rb"<includedMedicalClaimDetail>\s*<recordIdentifier>(\d+)</recordIdentifier>")


def _document_order(path: Path, layout: FileLayout) -> list[tuple[str, int]]:
    """(table, recordIdentifier) of every record, in the order of their start tags."""
    tables = {NS + record.element: record.table for record, _ in layout.records()}
    return [
        (tables[elem.tag], int(elem.findtext(NS + "recordIdentifier")))
        for elem in etree.parse(str(path)).iter()
        if elem.tag in tables
    ]


def _position_order(
    con: duckdb.DuckDBPyConnection, layout: FileLayout, fid: str
) -> list[tuple[str, int, int | None]]:
    """(table, recordIdentifier, record_position) of the file's rows, by record_position."""
    query = " UNION ALL ".join(
        f"SELECT '{table}' AS t, record_identifier, record_position FROM {table} "
        f"WHERE file_identifier = $fid"
        for table in dict.fromkeys(record.table for record, _ in layout.records())
    )
    return con.execute(f"SELECT * FROM ({query}) ORDER BY record_position", {"fid": fid}).fetchall()


@pytest.fixture(scope="module")
def clean_issuer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate_issuer(out, enrollees=60, seed=23)
    return out


@pytest.fixture(scope="module")
def defective_issuer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Defects included (sequence skips among them): positions follow the file, not the ids."""
    out = tmp_path_factory.mktemp("defective")
    generate_issuer(out, enrollees=150, seed=11, error_rate=0.3)
    return out


@pytest.mark.parametrize("issuer", ["clean_issuer", "defective_issuer"])
def test_record_position_is_document_order_of_every_record(
    request: pytest.FixtureRequest, tmp_path: Path, issuer: str
) -> None:
    out: Path = request.getfixturevalue(issuer)
    results = load_paths([out], tmp_path / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    checked = set()
    for result in results:
        if result.status != "loaded":
            continue  # a file-level defect: nothing landed
        path = Path(result.path)
        layout = read_header(path).layout
        got = _position_order(con, layout, result.file_identifier or "")
        assert [(t, rid) for t, rid, _ in got] == _document_order(path, layout), path.name
        # The serial reader numbers start tags 1, 2, 3, ... (the parallel one jumps at its split).
        assert [p for _, _, p in got] == list(range(1, len(got) + 1)), path.name
        checked.add(layout.name)
    assert checked == {"ESES", "ESMCS", "ESPCS", "ESSFS"}


def test_an_empty_record_between_full_ones_keeps_its_place(
    tmp_path: Path, clean_issuer: Path
) -> None:
    """A plan without claims is numbered at its end, its neighbours when their first claim
    ends; all three must still come out in document order."""
    path = _first(clean_issuer, "M")
    data = path.read_bytes()
    end = b"</includedMedicalClaimPlan>"
    first_plan_end = data.index(end) + len(end)
    # An extra, claimless plan right after the first one (identifier out of sequence: only
    # the order is checked here).
    empty = (
        b"<includedMedicalClaimPlan><recordIdentifier>999999</recordIdentifier>"
        b"<insurancePlanIdentifier>X</insurancePlanIdentifier></includedMedicalClaimPlan>"
    )
    edited = tmp_path / path.name
    edited.write_bytes(data[:first_plan_end] + empty + data[first_plan_end:])
    con = connect(tmp_path / "w.duckdb")
    result = load_file(con, edited)
    assert result.status == "loaded", result.error
    layout = BY_TYPE["M"]
    got = _position_order(con, layout, result.file_identifier or "")
    assert [(t, rid) for t, rid, _ in got] == _document_order(edited, layout)
    assert ("submission_plan", 999999) in [(t, rid) for t, rid, _ in got]


def _first(directory: Path, submission_type: str) -> Path:
    return next(
        p
        for p in sorted(directory.glob("*.xml"))
        if read_header(p).layout is BY_TYPE[submission_type]
    )


def _swap_first_siblings(data: bytes, record: bytes, holder: bytes) -> tuple[bytes, int, int]:
    """Swap the recordIdentifiers of the first two ``record`` elements of one ``holder``;
    returns the new bytes and the two identifiers as they were (first's, second's)."""
    pattern = re.compile(b"<" + record + rb">\s*<recordIdentifier>(\d+)</recordIdentifier>")
    found = pattern.finditer(data)
    first = next(found)
    second = next(m for m in found if b"<" + holder + b">" not in data[first.end() : m.start()])
    a, b = first.group(1), second.group(1)
    swapped = (
        data[: first.start(1)]
        + b
        + data[first.end(1) : second.start(1)]
        + a
        + data[second.end(1) :]
    )
    return swapped, int(a), int(b)


def _swap_claims(data: bytes) -> tuple[bytes, int, int]:
    return _swap_first_siblings(data, b"includedMedicalClaimDetail", b"includedMedicalClaimPlan")


def _swap_lines(data: bytes) -> tuple[bytes, int, int]:
    return _swap_first_siblings(data, b"includedServiceLine", b"includedDetailServiceLine")


def _x401(con: duckdb.DuckDBPyConnection, fid: str) -> set[tuple[str, int]]:
    return set(
        con.execute(
            "SELECT level, record_identifier FROM shadow_record_error "
            "WHERE file_identifier = ? AND error_code = 'X401'",
            [fid],
        ).fetchall()
    )


def _verify_with(
    tmp_path: Path, issuer: Path, claims: Path, forget_positions: bool = False
) -> tuple[duckdb.DuckDBPyConnection, str]:
    """Load the issuer's enrollment and ``claims`` into a fresh warehouse and verify them."""
    con = connect(tmp_path / "w.duckdb")
    load_reference_tables(con, issuer / "plan_registry.csv", [issuer])
    assert load_file(con, _first(issuer, "E")).status == "loaded"
    result = load_file(con, claims)
    assert result.status == "loaded", result.error
    if forget_positions:  # as a release before record_position left them
        for record, _ in BY_TYPE["M"].records():
            con.execute(f"UPDATE {record.table} SET record_position = NULL")
    verify_all(con)
    return con, result.file_identifier or ""


def test_clean_claims_file_has_no_sequence_error(tmp_path: Path, clean_issuer: Path) -> None:
    con, fid = _verify_with(tmp_path, clean_issuer, _first(clean_issuer, "M"))
    assert _x401(con, fid) == set()


def test_swapped_sibling_claims_are_a_sequence_break(tmp_path: Path, clean_issuer: Path) -> None:
    """Claims A (id a, lines a+1..) and B (id b = a+1+lines, lines b+1..) with their ids
    swapped read b, a+1.., a, b+1..: X401 on the claim now numbered b (the first break), on A's
    first line (after b), on the claim now numbered a (after A's last line), and on B's first
    line (after a).  Nothing before or after the pair is reported."""
    source = _first(clean_issuer, "M")
    data, a, b = _swap_claims(source.read_bytes())
    assert b > a + 1  # A has service lines
    swapped = tmp_path / source.name
    swapped.write_bytes(data)
    con, fid = _verify_with(tmp_path, clean_issuer, swapped)
    assert _x401(con, fid) == {("claim", b), ("line", a + 1), ("claim", a), ("line", b + 1)}
    statuses = dict(
        con.execute(
            "SELECT record_identifier, status FROM shadow_record_status "
            "WHERE file_identifier = ? AND level = 'claim' AND record_identifier IN (?, ?)",
            [fid, a, b],
        ).fetchall()
    )
    assert statuses == {a: "R", b: "R"}


@pytest.mark.parametrize("positions", [True, False], ids=["positions", "no-positions"])
def test_swapped_sibling_lines_are_seen_only_with_positions(
    tmp_path: Path, clean_issuer: Path, positions: bool
) -> None:
    """Lines a and a+1 of one claim, swapped, read a+1, a, a+2: X401 on both and on the record
    after them.  Rows without record_position (loaded by an older release) fall back to the
    tree order, which sorts childless siblings by their own ids and so cannot see the swap."""
    source = _first(clean_issuer, "M")
    data, a, b = _swap_lines(source.read_bytes())
    assert b == a + 1
    swapped = tmp_path / source.name
    swapped.write_bytes(data)
    con, fid = _verify_with(tmp_path, clean_issuer, swapped, forget_positions=not positions)
    found = _x401(con, fid)
    if positions:
        assert {("line", a), ("line", a + 1)} < found
        assert {rid for _, rid in found} == {a, a + 1, a + 2}
    else:
        assert found == set()


def test_rows_without_positions_fall_back_to_the_tree_order(
    tmp_path: Path, clean_issuer: Path
) -> None:
    """With positions NULL the order is the tree's: swapped claims are sorted back by id, so
    the claim now numbered a reads as in sequence; the break shows only through the lines."""
    source = _first(clean_issuer, "M")
    data, a, b = _swap_claims(source.read_bytes())
    swapped = tmp_path / source.name
    swapped.write_bytes(data)
    con, fid = _verify_with(tmp_path, clean_issuer, swapped, forget_positions=True)
    found = _x401(con, fid)
    assert {("line", b + 1), ("line", a + 1)} < found
    assert ("claim", a) not in found  # document order reports it (see the test above)
    con.close()
    clean = tmp_path / "clean"
    clean.mkdir()
    con, fid = _verify_with(clean, clean_issuer, source, forget_positions=True)
    assert _x401(con, fid) == set()


def test_an_older_warehouse_gains_record_position(tmp_path: Path, clean_issuer: Path) -> None:
    """A warehouse created before the column existed gets it; older rows keep NULL."""
    claims, enrollment = _first(clean_issuer, "M"), _first(clean_issuer, "E")
    con = connect(tmp_path / "old.duckdb")
    assert load_file(con, claims).status == "loaded"
    for (table,) in con.execute(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'record_position'"
    ).fetchall():
        con.execute(f"ALTER TABLE {table} DROP COLUMN record_position")
    result = load_file(con, enrollment)
    assert result.status == "loaded", result.error
    old = _position_order(con, BY_TYPE["M"], read_header(claims).file_identifier or "")
    assert old and all(p is None for _, _, p in old)
    got = _position_order(con, BY_TYPE["E"], result.file_identifier or "")
    assert [(t, rid) for t, rid, _ in got] == _document_order(enrollment, BY_TYPE["E"])
