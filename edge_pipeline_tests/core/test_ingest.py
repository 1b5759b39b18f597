"""Ingest of generated inbound files through the real streaming reader into a real DuckDB.

Ground truth is an independent full-tree parse of the same file with lxml: every record and
repeated value the file holds must arrive in its table, exactly once, with its raw text and its
ancestors' record identifiers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from lxml import etree

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.layouts import BY_TYPE, EDGE_NAMESPACE, FileLayout, Record
from edge_pipeline.edge.readers.header import read_header
from edge_pipeline.edge.synth.generate import generate_issuer
from edge_pipeline.edge.warehouse.load import load_file, load_paths
from edge_pipeline.edge.warehouse.schema import TABLES

NS = f"{{{EDGE_NAMESPACE}}}"


@pytest.fixture(scope="module")
def issuer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("issuer")
    generate_issuer(out, enrollees=150, seed=11, error_rate=0.05)
    return out


@pytest.fixture(scope="module")
def inbound_files(issuer_dir: Path) -> list[Path]:
    files = sorted(issuer_dir.glob("*.xml"))
    assert len(files) >= 4
    return files


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, inbound_files: list[Path]) -> Path:
    warehouse = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    results = load_paths(inbound_files, warehouse)
    assert [r.status for r in results] == ["loaded"] * len(results), [r.error for r in results]
    return warehouse


def _expected_rows(path: Path, layout: FileLayout) -> dict[str, set[tuple]]:
    """Rows every table must hold for this file, computed from a full lxml tree."""
    tree = etree.parse(str(path))
    expected: dict[str, set[tuple]] = {}
    for record, ancestors in layout.records():
        for elem in tree.iter(NS + record.element):
            rid = int(elem.findtext(NS + "recordIdentifier"))
            ancestor_ids = []
            for ancestor in ancestors:
                node = next(a for a in elem.iterancestors(NS + ancestor.element))
                ancestor_ids.append(int(node.findtext(NS + "recordIdentifier")))
            values = tuple(
                _text(elem.find(NS + f.name))
                for f in record.value_fields
                if f.name != "recordIdentifier"
            )
            expected.setdefault(record.table, set()).add((rid, *ancestor_ids, *values))
            for field in record.repeated_fields:
                for n, child in enumerate(elem.findall(NS + field.name), 1):
                    row = (rid, *ancestor_ids, n, child.text or "")
                    expected.setdefault(field.table, set()).add(row)
    return expected


def _text(elem: etree._Element | None) -> str | None:
    return None if elem is None else (elem.text or "")


def _columns(record: Record, ancestors: tuple[Record, ...]) -> list[str]:
    columns = ["record_identifier", *(a.parent_key for a in ancestors)]
    return columns + [f.column for f in record.value_fields if f.name != "recordIdentifier"]


@pytest.mark.parametrize("submission_type", ["E", "M", "P", "S"])
def test_every_record_and_value_arrives_exactly_once(
    loaded: Path, inbound_files: list[Path], submission_type: str
) -> None:
    con = duckdb.connect(str(loaded), read_only=True)
    layout = BY_TYPE[submission_type]
    files = [p for p in inbound_files if read_header(p).layout is layout]
    assert files, f"the generator wrote no {layout.name} file"
    for path in files:
        fid = read_header(path).file_identifier
        expected = _expected_rows(path, layout)
        for record, ancestors in layout.records():
            columns = _columns(record, ancestors)
            got = con.execute(
                f"SELECT {', '.join(columns)} FROM {record.table} WHERE file_identifier = ?", [fid]
            ).fetchall()
            assert len(got) == len(set(got)) == len(expected[record.table]), record.table
            assert set(got) == expected[record.table], record.table
            for field in record.repeated_fields:
                keys = ["record_identifier", *(a.parent_key for a in ancestors)]
                got = con.execute(
                    f"SELECT {', '.join(keys)}, {field.sequence_column}, {field.column} "
                    f"FROM {field.table} WHERE file_identifier = ?",
                    [fid],
                ).fetchall()
                assert set(got) == expected.get(field.table, set()), field.table
                assert len(got) == len(expected.get(field.table, set()))


def test_submission_file_registers_each_load(loaded: Path, inbound_files: list[Path]) -> None:
    con = duckdb.connect(str(loaded), read_only=True)
    rows = con.execute(
        "SELECT file_name, file_identifier, submission_type, execution_zone, status, sha256, "
        "size_bytes, records_loaded, issuer_id FROM submission_file ORDER BY file_name"
    ).fetchall()
    assert [r[0] for r in rows] == sorted(p.name for p in inbound_files)
    for row, path in zip(rows, sorted(inbound_files), strict=True):
        header = read_header(path)
        assert row[1] == header.file_identifier
        assert row[2] == header.submission_type
        assert row[4] == "loaded"
        assert len(row[5]) == 64
        assert row[6] == path.stat().st_size
        tree = etree.parse(str(path))
        assert row[7] == sum(1 for _ in tree.iter(NS + "recordIdentifier"))
        assert row[8] == header.issuer_id


def test_schema_matches_declared_columns(loaded: Path) -> None:
    con = duckdb.connect(str(loaded), read_only=True)
    for table, columns in TABLES.items():
        described = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        assert described == list(columns), table


def _table_digest(warehouse: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        digest = {}
        for table in TABLES:
            if table == "submission_file":
                digest[table] = con.execute(
                    "SELECT count(*), list(status ORDER BY load_id) FROM submission_file"
                ).fetchone()
            else:
                digest[table] = con.execute(
                    f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {table}"
                ).fetchone()
        return digest
    finally:
        con.close()


def test_identical_redelivery_changes_nothing(tmp_path: Path, inbound_files: list[Path]) -> None:
    warehouse = tmp_path / "w.duckdb"
    load_paths(inbound_files, warehouse)
    before = _table_digest(warehouse)
    # a re-delivery usually arrives under another name in another folder
    again = tmp_path / "again"
    again.mkdir()
    for path in inbound_files:
        shutil.copy(path, again / ("resent-" + path.name))
    results = load_paths([again], warehouse)
    assert {r.status for r in results} == {"unchanged"}
    assert _table_digest(warehouse) == before


def test_reused_file_identifier_is_refused_and_recorded(
    tmp_path: Path, inbound_files: list[Path]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    original = inbound_files[0]
    load_paths([original], warehouse)
    before = _table_digest(warehouse)
    impostor = tmp_path / "impostor.xml"
    impostor.write_bytes(original.read_bytes() + b"\n<!-- resent with a trailing comment -->\n")
    (result,) = load_paths([impostor], warehouse)
    assert result.status == "refused"
    assert "already loaded" in (result.error or "")
    after = _table_digest(warehouse)
    for table in TABLES:
        if table != "submission_file":
            assert after[table] == before[table], table
    con = duckdb.connect(str(warehouse), read_only=True)
    status, error = con.execute(
        "SELECT status, error FROM submission_file WHERE file_name = 'impostor.xml'"
    ).fetchone()
    assert status == "refused" and "impostor.xml" in error


def _largest_claims_file(inbound_files: list[Path]) -> Path:
    return next(p for p in inbound_files if read_header(p).submission_type == "M")


def test_failure_midway_leaves_no_rows_behind(tmp_path: Path, inbound_files: list[Path]) -> None:
    """A file that breaks after several batches were already inserted is rolled back whole."""
    source = _largest_claims_file(inbound_files)
    data = source.read_bytes()
    cut = data.rfind(b"<", 0, int(len(data) * 0.9))
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(data[:cut] + b"<broken")
    warehouse = tmp_path / "w.duckdb"
    con = connect(warehouse)
    result = load_file(con, truncated, batch_rows=5)  # many inserts happen before the break
    assert result.status == "failed"
    assert "truncated.xml" in result.error and "line" in result.error
    fid = read_header(truncated).file_identifier
    for table in TABLES:
        if table == "submission_file":
            continue
        (count,) = con.execute(
            f"SELECT count(*) FROM {table} WHERE file_identifier = ?", [fid]
        ).fetchone()
        assert count == 0, table
    row = con.execute(
        "SELECT status, error_line, records_loaded FROM submission_file WHERE load_id = ?",
        [result.load_id],
    ).fetchone()
    assert row[0] == "failed" and row[1] and row[2] is None
    # the fixed file then loads normally under the same fileIdentifier
    assert load_file(con, source).status == "loaded"


@pytest.mark.parametrize(
    ("mutate", "reason", "element"),
    [
        (lambda b: b.replace(b"http://vo.edge.fm.cms.hhs.gov", b"urn:other", 1), "namespace", None),
        (
            lambda b: b.replace(b"<recordIdentifier>3</", b"<recordIdentifier>3x</", 1),
            "not an integer",
            "recordIdentifier",
        ),
        (
            lambda b: b.replace(
                b"<recordIdentifier>3</recordIdentifier>",
                b"<recordIdentifier>3</recordIdentifier><surprise>1</surprise>",
                1,
            ),
            "unexpected element",
            "surprise",
        ),
        (
            lambda b: (
                b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "boom">]>\n'
                + b[b.index(b"?>") + 2 :]
            ),
            "DOCTYPE",
            None,
        ),
        (lambda b: b"", "not well-formed", None),
    ],
    ids=["namespace", "record-identifier", "unknown-element", "doctype", "empty"],
)
def test_bad_files_fail_with_a_clear_recorded_reason(
    tmp_path: Path, inbound_files: list[Path], mutate, reason: str, element: str | None
) -> None:
    source = _largest_claims_file(inbound_files)
    bad = tmp_path / "bad.xml"
    bad.write_bytes(mutate(source.read_bytes()))
    good = next(p for p in inbound_files if read_header(p).submission_type == "E")
    warehouse = tmp_path / "w.duckdb"
    results = load_paths([bad, good], warehouse)
    assert [r.status for r in results] == ["failed", "loaded"]  # the rest of the run continues
    assert reason in results[0].error and "bad.xml" in results[0].error
    con = duckdb.connect(str(warehouse), read_only=True)
    row = con.execute(
        "SELECT status, error, error_element FROM submission_file WHERE file_name = 'bad.xml'"
    ).fetchone()
    assert row[0] == "failed" and reason in row[1]
    if element:
        assert row[2] == element
    (claims,) = con.execute("SELECT count(*) FROM medical_claim").fetchone()
    assert claims == 0


def test_forget_files_removes_every_trace_of_a_file(tmp_path: Path, inbound_files: list[Path]):
    from edge_pipeline.edge.warehouse.forget import forget_files

    warehouse = tmp_path / "w.duckdb"
    load_paths(inbound_files, warehouse)
    claims = _largest_claims_file(inbound_files)
    fid = read_header(claims).file_identifier
    con = connect(warehouse)
    assert forget_files(con, [fid]) == 1
    for table in TABLES:
        (count,) = con.execute(
            f"SELECT count(*) FROM {table} WHERE file_identifier = ?", [fid]
        ).fetchone()
        assert count == 0, table
    (others,) = con.execute("SELECT count(*) FROM enrollee").fetchone()
    assert others > 0  # other files untouched
    assert load_file(con, claims).status == "loaded"  # and the file can come back


def test_an_older_warehouse_gains_new_columns(tmp_path: Path, inbound_files: list[Path]) -> None:
    """A warehouse created by an earlier release (no ``layout`` column) keeps loading."""
    warehouse = tmp_path / "old.duckdb"
    con = connect(warehouse)
    load_file(con, inbound_files[0])
    con.execute("ALTER TABLE submission_file DROP COLUMN layout")
    assert load_file(con, inbound_files[1]).status == "loaded"
    layouts = con.execute("SELECT layout FROM submission_file ORDER BY load_id").fetchall()
    assert layouts == [(None,), (read_header(inbound_files[1]).layout.name,)]
