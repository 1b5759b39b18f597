"""A full disk is reported as a full disk, not as "cannot rollback - no transaction is active".

When DuckDB cannot write (the ``COMMIT`` cannot append to the WAL), it ends the transaction
itself; the loaders' ``ROLLBACK`` then failed and its error replaced the real one.  These tests
fill a real (tiny tmpfs) disk where the sandbox allows mounting one, and otherwise reproduce
DuckDB's behaviour in-process: the transaction ended by the failure, then the failure raised.
Either way the CLI names the cause, exits non-zero, and the warehouse holds every file loaded
before it and no record of the file that failed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.cli import main
from edge_pipeline.edge.outbound import load as outbound_load
from edge_pipeline.edge.verification import reference_tables
from edge_pipeline.edge.warehouse import load as inbound_load

NO_SPACE = 'Could not write file "w.duckdb.wal": No space left on device'


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("issuer")
    assert main(["synth", "--out", str(out), "--enrollees", "1500", "--seed", "5"]) == 0
    return out


def _layouts(warehouse: Path) -> dict[str, str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return dict(con.execute("SELECT layout, status FROM submission_file").fetchall())
    finally:
        con.close()


def _claims(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM medical_claim").fetchall()[0][0]
    finally:
        con.close()


def _fail_like_a_full_disk(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
    """``module.name(con, ...)`` ends the transaction, as DuckDB does when it cannot write, and
    raises DuckDB's error."""

    def full(con: duckdb.DuckDBPyConnection, *args: object, **kwargs: object) -> None:
        con.execute("ROLLBACK")
        raise duckdb.IOException(NO_SPACE)

    monkeypatch.setattr(module, name, full)


def test_the_rollback_helper_keeps_the_original_error() -> None:
    con = duckdb.connect()
    with pytest.raises(duckdb.IOException, match="No space left on device") as caught:
        try:
            raise duckdb.IOException(NO_SPACE)
        except BaseException:
            rollback(con)  # no transaction is active
            raise
    assert any("no transaction is active" in note for note in caught.value.__notes__)


def test_ingest_names_the_full_disk_and_keeps_the_warehouse_consistent(
    issuer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    warehouse = tmp_path / "w.duckdb"
    enrollment = next(issuer.glob("*.E.*.xml"))
    assert main(["ingest", str(enrollment), "--warehouse", str(warehouse)]) == 0
    capsys.readouterr()
    _fail_like_a_full_disk(monkeypatch, inbound_load, "_insert_batch")
    code = main(["ingest", str(next(issuer.glob("*.M.*.xml"))), "--warehouse", str(warehouse)])
    err = capsys.readouterr().err
    assert code == 1
    assert "No space left on device" in err and "rollback" not in err
    assert len(err.strip().splitlines()) == 1
    assert _layouts(warehouse) == {"ESES": "loaded", "ESMCS": "failed"}
    assert _claims(warehouse) == 0


def test_reference_tables_and_outbound_loads_keep_the_original_error(
    issuer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    reports = tmp_path / "p1"
    warehouse = tmp_path / "w.duckdb"
    validate = ["validate", str(issuer), "--warehouse", str(warehouse), "--out", str(reports)]
    with monkeypatch.context() as patch:
        _fail_like_a_full_disk(patch, reference_tables, "_insert")
        assert main(validate) == 1
        err = capsys.readouterr().err
        assert "No space left on device" in err and "rollback" not in err
    assert main(validate) == 0  # the same warehouse verifies once there is room again
    capsys.readouterr()

    _fail_like_a_full_disk(monkeypatch, outbound_load, "replace_snapshot")
    assert main(["load-outbound", str(reports), "--warehouse", str(warehouse)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "rollback" not in err
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        statuses = con.execute("SELECT DISTINCT status FROM outbound_file").fetchall()
        reported = con.execute("SELECT count(*) FROM reported_level_summary").fetchall()[0][0]
    finally:
        con.close()
    assert statuses == [("failed",)] and reported == 0


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_real_full_disk(issuer: Path, tiny_disk: Path, capsys: pytest.CaptureFixture) -> None:
    warehouse = tiny_disk / "w.duckdb"
    code = main(["ingest", str(issuer), "--warehouse", str(warehouse)])
    err = capsys.readouterr().err
    assert code == 1
    assert "no space left on device" in err.lower() and "rollback" not in err
    assert len(err.strip().splitlines()) == 1
    statuses = _layouts(warehouse)
    assert "failed" in statuses.values() and _claims(warehouse) == 0
    # more space: the same command loads the rest, the warehouse was not damaged
    subprocess.run(["mount", "-o", "remount,size=256m", str(tiny_disk)], check=True)
    assert main(["ingest", str(issuer), "--warehouse", str(warehouse)]) == 0
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = con.execute(
            "SELECT layout FROM submission_file WHERE status = 'loaded' ORDER BY layout"
        ).fetchall()
    finally:
        con.close()
    assert loaded == [("ESES",), ("ESMCS",), ("ESPCS",), ("ESSFS",)]
    assert _claims(warehouse) > 0
