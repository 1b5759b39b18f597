"""How the loaders treat the file system: what a path is, when it is read, what is printed.

Every case puts one odd path in a batch with good files and checks that the odd one is
refused quickly and recorded (a ``failed`` registry row naming the file and the reason), that
the good files load, and that the command line's exit code says something failed:

* unreadable, or gone by the time it is opened (issue 12, item 5);
* replaced by a rename between its header read and its hash: header, hash and rows are all
  the file that was opened (item 7), on the serial and on the parallel path;
* not worth hashing: over the size limit (a 20 GB sparse file), not XML at byte 0; and the
  warehouse lock is not held while a file is hashed (item 10);
* not a regular file (FIFO, device, directory), a symlink in a folder or in the inbox, a
  name holding a newline or an ANSI escape (item 11).
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import cli_support
import dagster as dg
import duckdb
import pytest
from hostile_support import good_files, run_with_timeout, table_counts, with_file_identifier
from outbound_support import VERIFIED_AT, Err, Scenario, prepare

from edge_pipeline import cli
from edge_pipeline.base import file_registry as file_loads
from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.definitions import defs
from edge_pipeline.defs.automation.inbox import inbox_sensor
from edge_pipeline.defs.inbound.jobs import ingest_job_name
from edge_pipeline.defs.inbound.partitions import (
    register_file_partition,
)
from edge_pipeline.defs.inbound.resources import InboxResource
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.outbound import load as outbound_load
from edge_pipeline.edge.outbound import load_outbound_paths, write_phase1_reports
from edge_pipeline.edge.readers.header import read_header
from edge_pipeline.edge.synth import write_bench_esmcs
from edge_pipeline.edge.warehouse import load as load_module
from edge_pipeline.edge.warehouse.load import load_file, load_paths

SCENARIO = Scenario(
    "M", "M00000000009", record_errors={7: [Err("serviceCode", "XXXXX", "M301", "referential")]}
)
#: Generous guard against a hang: each refusal here takes milliseconds.
QUICK = 30.0


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The four good inbound files of a small issuer, by submission type."""
    return good_files(tmp_path_factory.mktemp("issuer"), enrollees=20, seed=31)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, issuer: dict[str, Path]) -> dict:
    """Row counts of the good files alone."""
    warehouse = tmp_path_factory.mktemp("reference") / "w.duckdb"
    results = load_paths(list(issuer.values()), warehouse)
    assert all(r.status == "loaded" for r in results), [r.error for r in results]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return table_counts(con)


@pytest.fixture
def folder(tmp_path: Path, issuer: dict[str, Path]) -> Path:
    """A delivery folder holding copies of the good files."""
    out = tmp_path / "in"
    out.mkdir()
    for path in issuer.values():
        shutil.copy(path, out / path.name)
    return out


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess, killed (and the test failed) if it hangs."""
    return cli_support.run_cli(*args, timeout=QUICK * 2, env=env)


def registry(warehouse: Path, table: str = "submission_file") -> dict[str, tuple]:
    """``file_name -> (status, error, size_bytes)`` of every attempt recorded."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"SELECT file_name, status, error, size_bytes FROM {table}").fetchall()
    return {name: (status, error, size) for name, status, error, size in rows}


def assert_refused(warehouse: Path, name: str, *reasons: str) -> None:
    """``name`` is recorded as failed, its error naming it and giving each reason."""
    rows = registry(warehouse)
    assert name in rows, rows
    status, error, _ = rows[name]
    assert status == "failed", rows[name]
    assert name.replace("\n", "\\n") in error
    for reason in reasons:
        assert reason in error, error


def assert_good_loaded(warehouse: Path, issuer: dict[str, Path], reference: dict) -> None:
    rows = registry(warehouse)
    assert all(rows[p.name][0] == "loaded" for p in issuer.values()), rows
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert table_counts(con) == reference


# -- item 5: unreadable or vanished files -------------------------------------------------------


@pytest.fixture
def unreadable(monkeypatch: pytest.MonkeyPatch):
    """``deny(path)``: opening ``path`` fails with EACCES, however it is opened (root reads a
    chmod 000 file, so permission denied is emulated in process)."""
    denied: set[str] = set()
    real_open, real_os_open = builtins.open, os.open

    def check(file: object) -> None:
        if isinstance(file, (str, Path)) and os.path.abspath(file) in denied:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))

    def fake_open(file, *args, **kwargs):
        check(file)
        return real_open(file, *args, **kwargs)

    def fake_os_open(path, *args, **kwargs):
        check(path)
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    return lambda path: denied.add(os.path.abspath(path))


def test_an_unreadable_file_is_recorded_and_the_batch_goes_on(
    tmp_path: Path, folder: Path, issuer: dict, reference: dict, unreadable, capsys
) -> None:
    secret = Path(shutil.copy(issuer["E"], folder / "0-denied.xml"))
    secret.write_bytes(with_file_identifier(secret.read_bytes(), "DENIED000001"))
    unreadable(secret)
    warehouse = tmp_path / "w.duckdb"
    code = cli.main(["ingest", str(folder), "--warehouse", str(warehouse)])
    out = capsys.readouterr().out
    assert code == cli.EXIT_BAD_INPUT
    assert_refused(warehouse, secret.name, "permission denied")
    assert_good_loaded(warehouse, issuer, reference)
    assert out.count("\n") == 5 and "failed" in out and secret.name in out


def test_an_io_error_while_hashing_is_recorded_and_the_batch_goes_on(
    tmp_path: Path, folder: Path, issuer: dict, reference: dict, monkeypatch, capsys
) -> None:
    """A read that fails half-way (a disk error, a network share gone) fails that file only."""
    flaky = Path(shutil.copy(issuer["S"], folder / "0-flaky.xml"))
    real = file_loads.file_digests

    def failing_read(source, *args, **kwargs):
        if Path(getattr(source, "name", source)).name == flaky.name:
            raise OSError(errno.EIO, "Input/output error")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(file_loads, "file_digests", failing_read)
    warehouse = tmp_path / "w.duckdb"
    code = cli.main(["ingest", str(folder), "--warehouse", str(warehouse)])
    assert code == cli.EXIT_BAD_INPUT
    assert_refused(warehouse, flaky.name, "could not be read: Input/output error")
    assert_good_loaded(warehouse, issuer, reference)
    assert "0-flaky.xml" in capsys.readouterr().out


def test_a_file_removed_during_the_batch_is_recorded_and_the_batch_goes_on(
    tmp_path: Path, folder: Path, issuer: dict, reference: dict, monkeypatch, capsys
) -> None:
    """The folder was listed; the second file is removed while the first one loads."""
    first = Path(shutil.copy(issuer["P"], folder / "0-first.xml"))
    first.write_bytes(with_file_identifier(first.read_bytes(), "FIRST0000001"))
    gone = Path(shutil.copy(issuer["P"], folder / "1-gone.xml"))
    real = load_module.read_header

    def header_then_remove(path, *args, **kwargs):
        if Path(path).name == first.name and gone.exists():
            gone.unlink()
        return real(path, *args, **kwargs)

    monkeypatch.setattr(load_module, "read_header", header_then_remove)
    warehouse = tmp_path / "w.duckdb"
    code = cli.main(["ingest", str(folder), "--warehouse", str(warehouse)])
    assert code == cli.EXIT_BAD_INPUT
    assert_refused(warehouse, gone.name, "no longer exists")
    rows = registry(warehouse)
    assert all(rows[p.name][0] == "loaded" for p in [first, *issuer.values()]), rows
    assert "1-gone.xml" in capsys.readouterr().out


def test_an_unreadable_outbound_report_is_recorded_and_the_others_load(
    tmp_path: Path, phase1_reports: list[Path], unreadable
) -> None:
    reports = _outbox(tmp_path, phase1_reports)
    unreadable(reports[0])
    warehouse = tmp_path / "w.duckdb"
    results = run_with_timeout(QUICK, lambda: load_outbound_paths([reports[0].parent], warehouse))
    statuses = {r.file_name: r.status for r in results}
    assert statuses[reports[0].name] == "failed"
    assert all(statuses[p.name] == "loaded" for p in reports[1:]), statuses
    rows = registry(warehouse, "outbound_file")
    assert rows[reports[0].name][0] == "failed" and "permission denied" in rows[reports[0].name][1]


@pytest.fixture(scope="module")
def phase1_reports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """ESFAR, detail and summary reports of one small medical file."""
    base = tmp_path_factory.mktemp("reports")
    con = duckdb.connect()
    try:
        prepare(con, base / "inbox", SCENARIO)
        return write_phase1_reports(con, SCENARIO.file_identifier, base / "outbox", VERIFIED_AT)
    finally:
        con.close()


def _outbox(tmp_path: Path, reports: list[Path]) -> list[Path]:
    """Copies of ``reports`` in a fresh outbox folder."""
    out = tmp_path / "outbox"
    out.mkdir()
    return [Path(shutil.copy(path, out / path.name)) for path in reports]


# -- item 7: one open file for header, hash and records ---------------------------------------


@pytest.fixture(scope="module")
def big_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """Two different ESMCS files large enough to split (the parallel path is forced)."""
    folder = tmp_path_factory.mktemp("pair")
    write_bench_esmcs(folder / "a.xml", 2 * 2**20, seed=3)
    write_bench_esmcs(folder / "b.xml", 1 * 2**20, seed=4)
    a = with_file_identifier((folder / "a.xml").read_bytes(), "ORIGINAL0001")
    b = with_file_identifier((folder / "b.xml").read_bytes(), "REPLACEMENT1")
    return a, b


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_a_file_renamed_over_mid_load_loads_as_the_file_opened(
    tmp_path: Path, big_pair: tuple[bytes, bytes], monkeypatch, caplog, parallel: bool
) -> None:
    """Between the header read and the hash the path is replaced (``os.replace``, as a
    delivery tool renames a finished upload into place): header, sha256 and rows recorded
    must all be the original's, not a mix."""
    original, replacement = big_pair
    path = tmp_path / "delivery.xml"
    path.write_bytes(original)
    (tmp_path / "next.tmp").write_bytes(replacement)
    alone = tmp_path / "alone.xml"
    alone.write_bytes(original)
    expected = load_paths([alone], tmp_path / "reference.duckdb")[0]
    with duckdb.connect(str(tmp_path / "reference.duckdb"), read_only=True) as con:
        expected_counts = table_counts(con)
    real = file_loads.file_digests

    def replace_then_hash(source, *args, **kwargs):
        if (tmp_path / "next.tmp").exists():
            os.replace(tmp_path / "next.tmp", path)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(file_loads, "file_digests", replace_then_hash)
    caplog.set_level(logging.WARNING)
    warehouse = tmp_path / "w.duckdb"
    con = connect(warehouse)
    try:
        result = load_file(con, path, parallel=parallel)
    finally:
        con.close()
    assert path.read_bytes() == replacement  # the rename did happen
    assert "reading serially" not in caplog.text  # the parallel case was read by the workers
    assert result.status == "loaded", result.error
    assert result.sha256 == hashlib.sha256(original).hexdigest()
    assert result.size_bytes == len(original)
    assert (result.file_identifier, result.records) == ("ORIGINAL0001", expected.records)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert table_counts(con) == expected_counts
        assert con.execute(
            "SELECT file_identifier, sha256, records_loaded FROM submission_file"
        ).fetchall() == [("ORIGINAL0001", result.sha256, expected.records)]
        assert con.execute("SELECT DISTINCT file_identifier FROM medical_claim").fetchall() == [
            ("ORIGINAL0001",)
        ]


def test_an_outbound_report_renamed_over_mid_load_loads_as_the_report_opened(
    tmp_path: Path, phase1_reports: list[Path], monkeypatch
) -> None:
    """The ESFAR's path is replaced by another report while its header is read: identity
    (header, sha256) and rows are all the report that was opened."""
    original, other = _outbox(tmp_path, phase1_reports)[:2]
    expected = original.read_bytes()
    [alone] = load_outbound_paths([original], tmp_path / "reference.duckdb")
    header = outbound_load.read_outbound_header(original)
    real = outbound_load.read_outbound_header

    def replace_then_read(path, *args, **kwargs):
        if other.exists():
            os.replace(other, original)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(outbound_load, "read_outbound_header", replace_then_read)
    warehouse = tmp_path / "w.duckdb"
    [result] = load_outbound_paths([original], warehouse)
    assert original.read_bytes() != expected  # the rename did happen
    assert result.status == "loaded", result.error
    assert result.sha256 == hashlib.sha256(expected).hexdigest()
    assert result.outbound_file_identifier == header.outbound_file_identifier
    assert result.report_type == header.report_type
    assert result.rows == alone.rows and result.rows


# -- item 10: cheap refusals before hashing; no lock while hashing ----------------------------


def test_a_20_gb_sparse_file_is_refused_at_once(
    tmp_path: Path, folder: Path, issuer: dict, reference: dict
) -> None:
    huge = folder / "0-huge.xml"
    with open(huge, "wb") as out:
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        out.truncate(20 * 2**30)  # sparse: no disk used
    warehouse = tmp_path / "w.duckdb"
    started = time.monotonic()
    done = run_cli("ingest", str(folder), "--warehouse", str(warehouse))
    assert time.monotonic() - started < QUICK
    assert done.returncode == cli.EXIT_BAD_INPUT, done.stderr
    assert_refused(warehouse, huge.name, "21,474,836,480 bytes", "over the limit")
    assert_good_loaded(warehouse, issuer, reference)


def test_the_size_limit_is_configurable(
    tmp_path: Path, folder: Path, issuer: dict, reference: dict
) -> None:
    big = Path(shutil.copy(issuer["M"], folder / "0-big.xml"))
    big.write_bytes(with_file_identifier(big.read_bytes(), "TOOBIG000001") + b"\n" * 100)
    limit = max(p.stat().st_size for p in issuer.values())
    assert big.stat().st_size > limit
    warehouse = tmp_path / "w.duckdb"
    env = {"EDGE_MAX_FILE_BYTES": str(limit)}
    done = run_cli("ingest", str(folder), "--warehouse", str(warehouse), env=env)
    assert done.returncode == cli.EXIT_BAD_INPUT, done.stderr
    assert_refused(warehouse, big.name, f"over the limit of {limit:,} bytes", "EDGE_MAX_FILE_BYTES")
    assert_good_loaded(warehouse, issuer, reference)
    bad = run_cli(
        "ingest", str(folder), "--warehouse", str(warehouse), env={"EDGE_MAX_FILE_BYTES": "1e9"}
    )
    assert bad.returncode == cli.EXIT_BAD_INPUT
    assert bad.stderr.count("\n") == 1 and "EDGE_MAX_FILE_BYTES" in bad.stderr


NOT_XML = {
    "sparse_zeros": None,  # 64 MB of holes
    "text": b"fileIdentifier,issuerIdentifier\nX,12345\n",
    "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"x" * 5000,
    "utf16_text": "\ufeffhello, <world>".encode("utf-16-le"),
    "whitespace_then_text": b"   \n\t" + b"not xml" * 100,
}


@pytest.mark.parametrize("case", list(NOT_XML))
def test_a_file_that_is_not_xml_at_byte_0_is_refused_before_it_is_hashed(
    tmp_path: Path, folder: Path, issuer: dict, reference: dict, monkeypatch, case: str
) -> None:
    odd = folder / "0-odd.xml"
    data = NOT_XML[case]
    if data is None:
        with open(odd, "wb") as out:
            out.truncate(64 * 2**20)
    else:
        odd.write_bytes(data)
    hashed: list[str] = []
    real = file_loads.file_digests

    def spy(source, *args, **kwargs):
        hashed.append(Path(getattr(source, "name", source)).name)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(file_loads, "file_digests", spy)
    warehouse = tmp_path / "w.duckdb"
    results = run_with_timeout(QUICK, lambda: load_paths([folder], warehouse))
    assert odd.name not in hashed and len(hashed) == 4
    assert results[0].status == "failed"
    assert_refused(warehouse, odd.name, "not an XML file", "not read")
    assert_good_loaded(warehouse, issuer, reference)


LOCK_PROBE = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE TABLE IF NOT EXISTS probe (n INTEGER)")
    con.execute("INSERT INTO probe VALUES (1)")
    con.close()
    """
)


@pytest.mark.parametrize("command", ["ingest", "validate"])
def test_the_warehouse_is_not_locked_while_a_file_is_hashed(
    tmp_path: Path, folder: Path, issuer: dict, monkeypatch, capsys, command: str
) -> None:
    """While ``ingest`` or ``validate`` hashes its second file (a slow disk, a big file),
    another process opens the warehouse for writing and commits: the lock is only held for
    loads (and, in ``validate``, for the verification after them)."""
    warehouse = tmp_path / "w.duckdb"
    extra: list[str] = []
    if command == "validate":
        registry = next(iter(issuer.values())).parent / "plan_registry.csv"
        extra = ["--plan-registry", str(registry), "--out", str(tmp_path / "reports")]
    probes: list[subprocess.CompletedProcess[str]] = []
    real = file_loads.file_digests

    def probe_then_hash(source, *args, **kwargs):
        if Path(getattr(source, "name", "")).name == issuer["M"].name:
            probes.append(
                subprocess.run(
                    [sys.executable, "-c", LOCK_PROBE, str(warehouse)],
                    capture_output=True,
                    text=True,
                    timeout=QUICK,
                )
            )
        return real(source, *args, **kwargs)

    monkeypatch.setattr(file_loads, "file_digests", probe_then_hash)
    assert cli.main([command, str(folder), "--warehouse", str(warehouse), *extra]) == cli.EXIT_OK
    assert len(probes) == 1
    assert probes[0].returncode == 0, probes[0].stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM probe").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM submission_file").fetchall() == [(4,)]


def test_load_outbound_does_not_lock_the_warehouse_while_reading_a_header_and_hashing(
    tmp_path: Path, phase1_reports: list[Path], monkeypatch
) -> None:
    reports = _outbox(tmp_path, phase1_reports)
    warehouse = tmp_path / "w.duckdb"
    probes: list[subprocess.CompletedProcess[str]] = []
    real = outbound_load.read_outbound_header

    def probe_then_read(path, *args, **kwargs):  # the header is read just before the hash
        probe = [sys.executable, "-c", LOCK_PROBE, str(warehouse)]
        probes.append(subprocess.run(probe, capture_output=True, text=True, timeout=QUICK))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(outbound_load, "read_outbound_header", probe_then_read)
    args = ["load-outbound", str(reports[0].parent), "--warehouse", str(warehouse)]
    assert cli.main(args) == cli.EXIT_OK
    assert len(probes) == len(reports)
    assert all(p.returncode == 0 for p in probes), [p.stderr for p in probes]


def test_the_ingest_asset_does_not_lock_the_warehouse_while_hashing(
    tmp_path: Path, folder: Path, issuer: dict, monkeypatch
) -> None:
    warehouse = tmp_path / "w.duckdb"
    probes: list[int] = []
    real = file_loads.file_digests

    def probe_then_hash(source, *args, **kwargs):
        probe = [sys.executable, "-c", LOCK_PROBE, str(warehouse)]
        probes.append(subprocess.run(probe, capture_output=True, timeout=QUICK).returncode)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(file_loads, "file_digests", probe_then_hash)
    key = read_header(issuer["E"]).file_identifier
    with dg.instance_for_test() as instance:
        register_file_partition(instance, "eses", key)
        result = defs.resolve_job_def(ingest_job_name("eses")).execute_in_process(
            instance=instance,
            partition_key=key,
            resources={
                "warehouse": WarehouseResource(database=str(warehouse)),
                "inbox": InboxResource(path=str(folder)),
            },
            raise_on_error=False,
        )
    assert result.success
    assert probes == [0]


# -- item 11: FIFOs, devices, directories, symlinks, odd names --------------------------------


def _fifo(folder: Path) -> Path:
    path = folder / "0-pipe.xml"
    os.mkfifo(path)
    return path


def test_a_fifo_given_by_name_is_refused_without_hanging(
    tmp_path: Path, folder: Path, issuer: dict, reference: dict
) -> None:
    fifo = _fifo(tmp_path)
    warehouse = tmp_path / "w.duckdb"
    done = run_cli("ingest", str(fifo), str(folder), "--warehouse", str(warehouse))
    assert done.returncode == cli.EXIT_BAD_INPUT, done.stderr
    assert_refused(warehouse, fifo.name, "FIFO")
    assert_good_loaded(warehouse, issuer, reference)


def test_a_device_given_by_name_is_refused(
    tmp_path: Path, folder: Path, issuer: dict, reference: dict
) -> None:
    warehouse = tmp_path / "w.duckdb"
    done = run_cli("ingest", "/dev/null", "/dev/zero", str(folder), "--warehouse", str(warehouse))
    assert done.returncode == cli.EXIT_BAD_INPUT, done.stderr
    assert_refused(warehouse, "null", "character device")
    assert_refused(warehouse, "zero", "character device")
    assert_good_loaded(warehouse, issuer, reference)


def test_odd_entries_of_a_folder_are_each_recorded_and_never_followed(
    tmp_path: Path, folder: Path, issuer: dict, reference: dict
) -> None:
    """A FIFO, a directory and symlinks (to a good file outside, to /dev/zero, dangling)
    among the ``*.xml`` of a folder: each refused and recorded, none read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "elsewhere.xml"
    target.write_bytes(with_file_identifier(issuer["E"].read_bytes(), "OUTSIDE00001"))
    _fifo(folder)
    (folder / "0-dir.xml").mkdir()
    (folder / "0-link.xml").symlink_to(target)
    (folder / "0-zero.xml").symlink_to("/dev/zero")
    (folder / "0-dangling.xml").symlink_to(tmp_path / "nothing.xml")
    warehouse = tmp_path / "w.duckdb"
    results = run_with_timeout(QUICK, lambda: load_paths([folder], warehouse))
    assert [r.status for r in results[:5]] == ["failed"] * 5
    assert_refused(warehouse, "0-pipe.xml", "not a regular file", "FIFO")
    assert_refused(warehouse, "0-dir.xml", "not a regular file", "directory")
    for link in ("0-link.xml", "0-zero.xml", "0-dangling.xml"):
        assert_refused(warehouse, link, "symbolic link", "not followed")
    rows = registry(warehouse)
    assert "elsewhere.xml" not in rows and rows["0-link.xml"][2] == 0  # not the target's size
    assert_good_loaded(warehouse, issuer, reference)


def test_odd_outbound_entries_are_recorded_and_never_followed(
    tmp_path: Path, phase1_reports: list[Path]
) -> None:
    reports = _outbox(tmp_path, phase1_reports)
    outbox = reports[0].parent
    elsewhere = tmp_path / "elsewhere.xml"
    shutil.copy(reports[0], elsewhere)
    reports[0].unlink()
    (outbox / reports[0].name).symlink_to(elsewhere)
    os.mkfifo(outbox / "0-pipe.xml")
    warehouse = tmp_path / "w.duckdb"
    results = run_with_timeout(QUICK, lambda: load_outbound_paths([outbox], warehouse))
    statuses = {r.file_name: (r.status, r.error) for r in results}
    assert statuses[reports[0].name][0] == "failed"
    assert "symbolic link" in statuses[reports[0].name][1]
    assert statuses["0-pipe.xml"][0] == "failed" and "FIFO" in statuses["0-pipe.xml"][1]
    assert all(statuses[p.name][0] == "loaded" for p in reports[1:]), statuses


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def _aged(path: Path) -> None:
    stamp = time.time() - 60
    os.utime(path, (stamp, stamp), follow_symlinks=False)


def test_an_inbox_symlink_and_fifo_are_refused_and_recorded_not_followed(
    tmp_path: Path, folder: Path, issuer: dict, instance: dg.DagsterInstance
) -> None:
    """The sensor requests a refusal run for each (no partition: their headers are not read
    through them) without hanging; each run records the refusal."""
    outside = tmp_path / "outside.xml"
    outside.write_bytes(with_file_identifier(issuer["E"].read_bytes(), "OUTSIDE00002"))
    link = folder / "0-link.xml"
    link.symlink_to(outside)
    fifo = _fifo(folder)
    for path in [*folder.iterdir()]:
        _aged(path)
    inbox = InboxResource(path=str(folder), settle_seconds=5)
    context = dg.build_sensor_context(instance=instance, resources={"inbox": inbox})
    tick = run_with_timeout(QUICK, lambda: inbox_sensor(context))
    jobs = {r.tags["edge/inbox_file"]: (r.job_name, r.partition_key) for r in tick.run_requests}
    refusal = ("record_refused_inbound_file", None)
    assert jobs[link.name] == refusal and jobs[fifo.name] == refusal
    assert "OUTSIDE00002" not in {key for _, key in jobs.values()}
    warehouse = tmp_path / "w.duckdb"
    resources = {"warehouse": WarehouseResource(database=str(warehouse)), "inbox": inbox}
    for name in (link.name, fifo.name):
        run = run_with_timeout(
            QUICK * 2,
            lambda name=name: defs.resolve_job_def(
                "record_refused_inbound_file"
            ).execute_in_process(
                instance=instance,
                resources=resources,
                tags={"edge/inbox_file": name, "edge/refusal": "header unreadable"},
            ),
        )
        assert run.success
    for name, reason in ((link.name, "symbolic link"), (fifo.name, "FIFO")):
        status, error, _ = registry(warehouse)[name]
        assert status == "refused" and name in error and reason in error, error
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM enrollee").fetchall() == [(0,)]


HOSTILE_NAMES = [
    "evil\nloaded    ESES  forged.xml",
    "red\x1b[31mALERT\x1b[0m.xml",
    "back\rspace\t.xml",
]


def test_file_names_are_printed_escaped(tmp_path: Path, folder: Path, issuer: dict) -> None:
    """Control characters in names (newline, ANSI escape, carriage return, tab) are shown
    escaped: one output line per file, no raw escape reaches the terminal."""
    for index, name in enumerate(HOSTILE_NAMES):
        data = with_file_identifier(issuer["P"].read_bytes(), f"HOSTILENAME{index}")
        (folder / name).write_bytes(data if index else b"not xml")
    warehouse = tmp_path / "w.duckdb"
    done = run_cli("ingest", str(folder), "--warehouse", str(warehouse))
    assert done.returncode == cli.EXIT_BAD_INPUT, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4 + len(HOSTILE_NAMES), done.stdout
    assert not any(c in done.stdout + done.stderr for c in "\x1b\r\t")
    assert "evil\\nloaded    ESES  forged.xml: file evil\\nloaded" in done.stdout
    assert "red\\x1b[31mALERT\\x1b[0m.xml" in done.stdout
    assert "back\\rspace\\t.xml" in done.stdout
    # the registry keeps the real name (a bound parameter, harmless there)
    rows = registry(warehouse)
    assert rows[HOSTILE_NAMES[1]][0] == "loaded" and rows[HOSTILE_NAMES[0]][0] == "failed"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("plain 2025 é.xml", "plain 2025 é.xml"),
        ("a\nb.xml", "a\\nb.xml"),
        ("a\r\tb.xml", "a\\r\\tb.xml"),
        ("\x1b[2J.xml", "\\x1b[2J.xml"),
        ("del\x7f\x85.xml", "del\\x7f\\x85.xml"),
        ("rtl\u202egnp.xml", "rtl\\u202egnp.xml"),
        ("line\u2028sep.xml", "line\\u2028sep.xml"),
        ("not-utf8-\udcff.xml", "not-utf8-\\xff.xml"),
        ("back\\n-slash.xml", "back\\\\n-slash.xml"),  # cannot pass for an escaped newline
    ],
)
def test_printable_name_escapes_what_could_forge_or_repaint_a_line(name: str, shown: str) -> None:
    from edge_pipeline.base.names import printable_name

    assert printable_name(name) == shown
    assert shown.isprintable()


def test_log_messages_show_names_escaped(
    tmp_path: Path, issuer: dict, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(issuer["S"], folder / HOSTILE_NAMES[0])
    (folder / HOSTILE_NAMES[1]).write_bytes(issuer["S"].read_bytes() + b"\n")  # reuses its id
    caplog.set_level(logging.INFO, logger="edge_pipeline")
    results = load_paths([folder], tmp_path / "w.duckdb")
    assert [r.status for r in results] == ["loaded", "refused"]
    messages = [record.getMessage() for record in caplog.records]
    assert any("evil\\nloaded" in m for m in messages), messages
    assert not any(c in m for m in messages for c in "\n\x1b"), messages
    assert "fileIdentifier is already loaded" in results[1].error
    assert "\x1b" not in results[1].error
