"""``--warehouse`` must name a DuckDB file: anything else is refused with exit 2 and one line,
by every command, before anything is read or written; and a command run before the step it
needs says which step to run.

Before: an existing ``t.csv`` opened as an in-memory database (``loaded ... records``, exit 0,
nothing saved), a directory was an internal error, a missing folder was created silently, and
``score`` on a warehouse never verified was an internal ``CatalogException``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.base.warehouse.path import WarehousePathError
from edge_pipeline.cli import main


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("issuer")
    assert main(["synth", "--out", str(out), "--enrollees", "5", "--seed", "2"]) == 0
    return out


def _commands(issuer: Path, warehouse: Path, out: Path) -> dict[str, list[str]]:
    small = str(next(issuer.glob("*.S.*.xml")))
    w = str(warehouse)
    return {
        "ingest": ["ingest", small, "--warehouse", w],
        "validate": ["validate", small, "--warehouse", w, "--out", str(out / "p1"),
                     "--plan-registry", str(issuer / "plan_registry.csv")],
        "load-outbound": ["load-outbound", small, "--warehouse", w],
        "score": ["score", "--warehouse", w, "--benefit-year", "2025"],
        "report": ["report", "--warehouse", w, "--out", str(out / "report")],
    }  # fmt: skip


def _refused(argv: list[str], capsys: pytest.CaptureFixture, *words: str) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, (argv[0], captured.out, captured.err)
    line = captured.err.strip()
    assert len(line.splitlines()) == 1 and "internal error" not in line, line
    for word in words:
        assert word in line, (argv[0], line)
    return line


def _listing(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize(
    "case",
    ["existing csv", "new csv", "directory", "missing folder", "not duckdb", "empty file"],
)
def test_a_path_that_is_no_duckdb_file_is_refused_by_every_command(
    case: str, issuer: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    place = tmp_path / "place"
    place.mkdir()
    warehouse, words = {
        "existing csv": (place / "t.csv", ["t.csv", ".duckdb"]),
        "new csv": (place / "new.csv", ["new.csv", ".duckdb"]),
        "directory": (place / "dir.duckdb", ["dir.duckdb", "directory"]),
        "missing folder": (place / "nowhere" / "w.duckdb", ["nowhere"]),
        "not duckdb": (place / "w.duckdb", ["w.duckdb", "not a DuckDB database"]),
        "empty file": (place / "w.db", ["w.db", "not a DuckDB database"]),
    }[case]
    if case == "existing csv":
        warehouse.write_text("plan_id,premium\nA,1\n", encoding="utf-8")
    elif case == "directory":
        warehouse.mkdir()
    elif case == "not duckdb":
        warehouse.write_bytes(b"SQLite format 3\x00" + bytes(100))
    elif case == "empty file":
        warehouse.write_bytes(b"")
    before = _listing(place)
    for name, argv in _commands(issuer, warehouse, tmp_path).items():
        if name == "score" and case in ("new csv", "missing folder"):
            _refused(argv, capsys, "no such warehouse")  # score never creates one
            continue
        _refused(argv, capsys, *words)
    assert _listing(place) == before  # nothing created, nothing changed


def test_connect_refuses_in_one_place(tmp_path: Path) -> None:
    for bad in (tmp_path / "t.csv", tmp_path, tmp_path / "missing" / "w.duckdb"):
        with pytest.raises(WarehousePathError):
            connect(bad)
    with pytest.raises(WarehousePathError, match="no such warehouse"):
        connect(tmp_path / "absent.duckdb", read_only=True)
    assert not (tmp_path / "missing").exists()
    # a deployment's configured folder is still created when asked for
    connect(tmp_path / "made" / "w.duckdb", create_folder=True).close()
    assert (tmp_path / "made" / "w.duckdb").is_file()


def test_a_db_suffix_is_a_warehouse_too(
    issuer: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    commands = _commands(issuer, tmp_path / "w.db", tmp_path)
    assert main(commands["ingest"]) == 0
    assert main(commands["report"]) == 0
    con = duckdb.connect(str(tmp_path / "w.db"), read_only=True)
    try:
        assert con.execute("SELECT status FROM submission_file").fetchall() == [("loaded",)]
    finally:
        con.close()


@pytest.mark.parametrize("state", ["empty", "ingested"])
def test_score_before_validate_says_what_to_run(
    state: str, issuer: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    warehouse = tmp_path / "w.duckdb"
    commands = _commands(issuer, warehouse, tmp_path)
    if state == "empty":
        duckdb.connect(str(warehouse)).close()
    else:
        assert main(commands["ingest"]) == 0
    capsys.readouterr()
    _refused(commands["score"], capsys, "w.duckdb", "run `edge-pipeline validate` first")
    # the other commands have nothing to wait for: an unverified warehouse is fine for them
    assert main(commands["report"]) == 0
    reports = tmp_path / "p1"
    assert main(commands["validate"]) == 0
    fresh = _commands(issuer, tmp_path / "fresh.duckdb", tmp_path)["load-outbound"]
    fresh[1] = str(reports)
    assert main(fresh) == 0
