"""The two-worker read of large files: same rows as the serial reader, same errors, no residue.

Files here are small (a few MB) and the parallel path is forced, so the tests exercise the real
worker processes, the byte-level split and the serial fallback quickly.

``record_position`` cannot be equal on both paths: the second worker cannot know how many
records precede its half (the first is still counting them), so it numbers from
``SECOND_WORKER_POSITIONS``.  The tables are therefore compared without it, and the document
order it gives (every record by position, across tables) is compared instead.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from edge_pipeline.base.digest import file_digests
from edge_pipeline.base.errors import FileChangedError
from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.layouts import ESMCS
from edge_pipeline.edge.readers import parallel
from edge_pipeline.edge.readers.header import read_header
from edge_pipeline.edge.readers.parallel import (
    SECOND_WORKER_POSITIONS,
    ParallelReader,
    WorkerFailedError,
    plan_split,
)
from edge_pipeline.edge.synth import write_bench_esmcs
from edge_pipeline.edge.warehouse.load import load_file
from edge_pipeline.edge.warehouse.schema import TABLES

CLAIM_TAG = b"<includedMedicalClaimDetail>"
FALLBACK = "parallel read failed, reading serially"


@pytest.fixture(scope="module")
def esmcs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "bench.xml"
    write_bench_esmcs(path, 3 * 2**20, seed=5)
    return path


@pytest.fixture(scope="module")
def serial_load(tmp_path_factory: pytest.TempPathFactory, esmcs: Path) -> tuple[dict, int]:
    """Table digests and record count of the serial load: the reference for every test."""
    warehouse = tmp_path_factory.mktemp("serial") / "w.duckdb"
    result = _load(esmcs, warehouse, parallel=False)
    assert result.status == "loaded", result.error
    return _digest(warehouse), result.records


@pytest.fixture(scope="module")
def serial_digest(serial_load: tuple[dict, int]) -> dict[str, tuple]:
    return serial_load[0]


POSITIONED = tuple(t for t, columns in TABLES.items() if "record_position" in columns)


def _digest(warehouse: Path) -> dict[str, tuple]:
    """Row count and an order-independent hash of every landing table (but record_position),
    and the records' order by record_position (see the module doc)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        digest = {}
        for table, columns in TABLES.items():
            if table != "submission_file":
                hashed = ", ".join(c for c in columns if c != "record_position")
                query = f"SELECT count(*), sum(hash({hashed})) FROM {table}"
                digest[table] = tuple(con.execute(query).fetchall()[0])
        digest["document order"] = tuple((t, rid) for t, rid, _ in _by_position(con))
        return digest
    finally:
        con.close()


def _by_position(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    """(table, recordIdentifier, record_position) of every record, by record_position."""
    union = " UNION ALL ".join(
        f"SELECT '{t}' AS t, record_identifier, record_position FROM {t}" for t in POSITIONED
    )
    return con.execute(
        f"SELECT t, record_identifier, record_position FROM ({union}) ORDER BY record_position"
    ).fetchall()


def _load(path: Path, warehouse: Path, *, parallel: bool):
    con = connect(warehouse)
    try:
        return load_file(con, path, parallel=parallel)
    finally:
        con.close()


def _rewrite(source: Path, target: Path, edit) -> Path:
    target.write_bytes(edit(source.read_bytes()))
    return target


def _after_split(data: bytes, fraction: float = 0.75) -> int:
    """Offset of a claim well inside the second worker's half."""
    return data.index(CLAIM_TAG, int(len(data) * fraction))


def test_parallel_rows_equal_serial_rows(
    tmp_path: Path, esmcs: Path, serial_load: tuple[dict, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    result = _load(esmcs, tmp_path / "w.duckdb", parallel=True)
    assert result.status == "loaded", result.error
    assert FALLBACK not in caplog.text  # the workers did the reading
    assert _digest(tmp_path / "w.duckdb") == serial_load[0]
    assert result.records == serial_load[1]


def test_positions_are_serial_before_the_split_and_offset_after_it(
    tmp_path: Path, esmcs: Path
) -> None:
    assert _load(esmcs, tmp_path / "s.duckdb", parallel=False).status == "loaded"
    assert _load(esmcs, tmp_path / "p.duckdb", parallel=True).status == "loaded"
    rows = {}
    for name in ("s", "p"):
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True)
        rows[name] = _by_position(con)
        con.close()
    serial, both = rows["s"], rows["p"]
    assert [r[:2] for r in both] == [r[:2] for r in serial]
    first = sum(1 for r in both if r[2] < SECOND_WORKER_POSITIONS)
    assert 0 < first < len(both)
    # Worker 1's records (the issuer and the plan open at the split included) are the file's
    # first records, numbered as the serial reader numbers them.
    assert both[:first] == serial[:first]
    assert [r[2] for r in serial] == list(range(1, len(serial) + 1))
    # Worker 2 numbers its own document: the inherited issuer and plan (not emitted), then
    # the records after the split.
    second = [r[2] - SECOND_WORKER_POSITIONS for r in both[first:]]
    assert second == list(range(2, 2 + len(second)))


def test_split_lands_on_a_claim_start_tag_and_heads_reopen_the_ancestors(esmcs: Path) -> None:
    plan = plan_split(esmcs, ESMCS)
    assert plan is not None
    data = esmcs.read_bytes()
    assert data[plan.split :].startswith(CLAIM_TAG)
    first, second = plan.workers
    assert first.pieces[0].end == plan.split and first.pieces[0].owned
    heads = [data[p.start : p.end] for p in second.pieces if p.literal is None and not p.owned]
    assert heads[0].startswith(b"<?xml") and heads[1].startswith(b"<includedMedicalClaimIssuer")
    assert heads[2].startswith(b"<includedMedicalClaimPlan")
    assert CLAIM_TAG not in b"".join(heads)


def test_prefixed_namespace_file_splits_and_loads_the_same(
    tmp_path: Path, esmcs: Path, serial_digest: dict[str, tuple]
) -> None:
    def prefix(data: bytes) -> bytes:
        data = re.sub(rb"<(/?)([A-Za-z]+)([ >/])", rb"<\1edge:\2\3", data)
        return data.replace(b'xmlns="', b'xmlns:edge="', 1)

    prefixed = _rewrite(esmcs, tmp_path / "prefixed.xml", prefix)
    assert read_header(prefixed).layout is ESMCS
    assert plan_split(prefixed, ESMCS) is not None
    result = _load(prefixed, tmp_path / "w.duckdb", parallel=True)
    assert result.status == "loaded", result.error
    assert _digest(tmp_path / "w.duckdb") == serial_digest


@pytest.mark.parametrize("fraction", [0.25, 0.75], ids=["first-half", "second-half"])
def test_bad_record_fails_exactly_as_serially_and_leaves_nothing(
    tmp_path: Path, esmcs: Path, fraction: float, caplog: pytest.LogCaptureFixture
) -> None:
    def corrupt(data: bytes) -> bytes:
        at = data.index(b"<recordIdentifier>", _after_split(data, fraction))
        end = data.index(b"</recordIdentifier>", at)
        return data[:end] + b"x" + data[end:]

    bad = _rewrite(esmcs, tmp_path / "bad.xml", corrupt)
    serial = _load(bad, tmp_path / "serial.duckdb", parallel=False)
    caplog.set_level(logging.WARNING)
    result = _load(bad, tmp_path / "parallel.duckdb", parallel=True)
    assert "not an integer" in caplog.text  # a worker found it first
    assert result.status == serial.status == "failed"
    assert result.error == serial.error
    assert "bad.xml" in result.error and "line" in result.error
    assert "recordIdentifier" in result.error
    con = duckdb.connect(str(tmp_path / "parallel.duckdb"), read_only=True)
    ((status, line, element, records),) = con.execute(
        "SELECT status, error_line, error_element, records_loaded FROM submission_file"
    ).fetchall()
    assert (status, element, records) == ("failed", "recordIdentifier", None)
    assert line > 0
    for table in TABLES:
        if table != "submission_file":
            assert con.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)], table
    con.close()


def test_truncated_file_fails_and_rolls_back(tmp_path: Path, esmcs: Path) -> None:
    data = esmcs.read_bytes()
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(data[: _after_split(data, 0.8)] + b"<broken")
    serial = _load(truncated, tmp_path / "serial.duckdb", parallel=False)
    result = _load(truncated, tmp_path / "parallel.duckdb", parallel=True)
    assert result.status == "failed" and result.error == serial.error
    assert _digest(tmp_path / "parallel.duckdb") == _digest(tmp_path / "serial.duckdb")


def test_plan_leaf_after_the_split_fails_as_serially(
    tmp_path: Path, esmcs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A leaf of the plan open at the split, placed after its claims, is only seen by the
    second worker.  The XSD's sequence puts a record's leaves before its child records, so the
    file is refused, by the parallel read exactly as by the serial one."""

    def move_leaf(data: bytes) -> bytes:
        split = plan_split(esmcs, ESMCS)
        assert split is not None
        leaf = re.compile(rb"\s*<insurancePlanPaidTotalAmount>[^<]*</insurancePlanPaidTotalAmount>")
        plan_start = data.rindex(b"<includedMedicalClaimPlan>", 0, split.split)
        match = leaf.search(data, plan_start)
        assert match is not None
        plan_end = data.index(b"</includedMedicalClaimPlan>", split.split)
        moved = data[: match.start()] + data[match.end() : plan_end]
        return moved + match.group() + data[plan_end:]

    moved = _rewrite(esmcs, tmp_path / "moved.xml", move_leaf)
    serial = _load(moved, tmp_path / "serial.duckdb", parallel=False)
    caplog.set_level(logging.WARNING)
    result = _load(moved, tmp_path / "parallel.duckdb", parallel=True)
    assert FALLBACK in caplog.text
    assert result.status == serial.status == "failed"
    assert result.error == serial.error
    assert "element insurancePlanPaidTotalAmount" in result.error
    assert "after the includedMedicalClaimDetail records" in result.error


UTF7_LT = b"+ADw-"  # "<" written as a UTF-7 shift sequence


def _utf7_with_shifted_plans(data: bytes) -> bytes:
    """UTF-7 whose plan start tags (but the first) hide their "<" in a shift sequence: the
    parser sees them, a byte search does not, so a split would reopen the wrong plan."""
    text = data.decode().replace('encoding="UTF-8"', 'encoding="UTF-7"', 1)
    encoded = text.encode("utf-7")
    tag = b"<includedMedicalClaimPlan>"
    first = encoded.index(tag) + len(tag)
    return encoded[:first] + encoded[first:].replace(tag, UTF7_LT + tag[1:])


def _declared(encoding: str, codec: str, bom: bytes = b""):
    def encode(data: bytes) -> bytes:
        text = data.decode().replace('encoding="UTF-8"', f'encoding="{encoding}"', 1)
        return bom + text.encode(codec)

    return encode


ENCODINGS = {
    # name: (encode, split in two, loads: libxml2 reads it when streamed)
    "utf-8-bom": (_declared("UTF-8", "utf-8", b"\xef\xbb\xbf"), True, True),
    "us-ascii": (_declared("US-ASCII", "ascii"), True, True),
    "utf-16-bom": (_declared("UTF-16", "utf-16"), False, True),
    "utf-16le-declared": (_declared("UTF-16LE", "utf-16-le"), False, True),
    "utf-16be-declared": (_declared("UTF-16BE", "utf-16-be"), False, True),
    "utf-32-bom": (_declared("UTF-32", "utf-32"), False, False),
    "utf-7": (_declared("UTF-7", "utf-7"), False, True),
    "utf-7-shifted-tags": (_utf7_with_shifted_plans, False, True),
    "iso-8859-1": (_declared("ISO-8859-1", "latin-1"), False, True),
    "ebcdic-cp500": (_declared("IBM500", "cp500"), False, False),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_encodings_load_the_same_serially_and_in_parallel(
    tmp_path: Path, esmcs: Path, serial_digest: dict[str, tuple], encoding: str
) -> None:
    """Only UTF-8 (and ASCII) files are split: a byte search for an ASCII tag means nothing in
    UTF-16/32 or EBCDIC, and UTF-7 can spell "<" as "+ADw-".  Every other encoding is read
    serially, so both paths load the same rows (or fail alike where libxml2 has no codec)."""
    encode, splittable, loads = ENCODINGS[encoding]
    path = _rewrite(esmcs, tmp_path / f"{encoding}.xml", encode)
    assert (plan_split(path, ESMCS) is not None) is splittable
    serial = _load(path, tmp_path / "serial.duckdb", parallel=False)
    result = _load(path, tmp_path / "parallel.duckdb", parallel=True)
    assert (result.status, result.error) == (serial.status, serial.error)
    if not loads:  # libxml2 (streamed) reads no EBCDIC or UTF-32: refused both ways
        # (EBCDIC before parsing: its first byte is not markup in any encoding XML allows)
        assert result.status == "failed"
        assert "not well-formed XML" in result.error or "not an XML file" in result.error
        return
    assert result.status == "loaded", result.error
    assert _digest(tmp_path / "parallel.duckdb") == _digest(tmp_path / "serial.duckdb")
    assert _digest(tmp_path / "parallel.duckdb") == serial_digest


@pytest.mark.parametrize(
    "markup", [b"<!-- <includedMedicalClaimPlan> -->", b"<![CDATA[x]]>", b"<?pi x?>"]
)
def test_comments_or_cdata_before_the_split_are_not_split(
    tmp_path: Path, esmcs: Path, markup: bytes
) -> None:
    def insert(data: bytes) -> bytes:
        at = data.index(b"</claimIdentifier>", len(data) // 4)
        return data[:at] + markup + data[at:]

    odd = _rewrite(esmcs, tmp_path / "odd.xml", insert)
    assert plan_split(odd, ESMCS) is None
    serial = _load(odd, tmp_path / "serial.duckdb", parallel=False)
    result = _load(odd, tmp_path / "parallel.duckdb", parallel=True)
    assert result.status == serial.status
    assert _digest(tmp_path / "parallel.duckdb") == _digest(tmp_path / "serial.duckdb")


def test_a_crashing_worker_is_reported(tmp_path: Path, esmcs: Path) -> None:
    plan = plan_split(esmcs, ESMCS)
    assert plan is not None
    gone = replace(plan.workers[1], path=str(tmp_path / "gone.xml"))
    broken = replace(plan, workers=(plan.workers[0], gone))
    with ParallelReader(broken) as reader, pytest.raises(WorkerFailedError, match=r"gone\.xml"):
        for _ in reader.batches():
            pass


def test_changed_bytes_are_detected(esmcs: Path) -> None:
    plan = plan_split(esmcs, ESMCS)
    assert plan is not None
    with ParallelReader(plan) as reader:
        reader.checksums = (1, 2)  # not the file's
        with pytest.raises(FileChangedError, match="changed"):
            for _ in reader.batches():
                pass


def test_file_digests_checksum_each_range(esmcs: Path) -> None:
    data = esmcs.read_bytes()
    cuts = (3, 2**20 + 17, len(data) - 5)
    sha256, crcs = file_digests(esmcs, cuts)
    bounds = (0, *cuts, len(data))
    assert crcs == tuple(zlib.crc32(data[a:b]) for a, b in pairwise(bounds))
    assert len(sha256) == 64


def test_worker_environment_keeps_blas_single_threaded() -> None:
    assert parallel._worker_env()["OPENBLAS_NUM_THREADS"] == "1"
