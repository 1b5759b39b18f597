"""Start-up cost: no ``edge-pipeline`` process imports ``simple_icd_10_cm``.

Importing that package parses the whole ICD-10-CM code set (about 3 CPU-seconds) and the
project only needs its data file, which the reference tables read themselves.  Each command
runs in a fresh interpreter that reports afterwards whether the package was imported; the
reference ICD-10-CM table is the same as when the file was located through the import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from edge_pipeline.cli import main
from edge_pipeline.edge.verification import reference_tables

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "simple_icd_10_cm"

_PROBE = f"""
import json, sys
from edge_pipeline.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "imported": {PACKAGE!r} in sys.modules}}))
"""


def _run(*argv: str) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("issuer")
    assert main(["synth", "--out", str(out), "--enrollees", "5", "--seed", "4"]) == 0
    return out


def test_help_does_not_import_the_icd_package() -> None:
    assert _run("--help") == {"code": 0, "imported": False}


def test_ingest_does_not_import_the_icd_package(issuer: Path, tmp_path: Path) -> None:
    small = str(next(issuer.glob("*.S.*.xml")))
    assert _run("ingest", small, "--warehouse", str(tmp_path / "w.duckdb")) == {
        "code": 0,
        "imported": False,
    }


def test_validate_reads_the_icd_codes_without_importing_the_package(
    issuer: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    outcome = _run("validate", str(issuer), "--warehouse", str(warehouse), "--out", str(tmp_path))
    assert outcome == {"code": 0, "imported": False}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        [(rows,)] = con.execute(
            "SELECT count(*) FROM ref_icd10cm WHERE source = ?", [PACKAGE]
        ).fetchall()
    finally:
        con.close()
    assert rows == len(reference_tables.package_icd10cm_codes()) > 70_000


def test_the_code_list_is_the_one_the_package_import_locates() -> None:
    """Same file as ``importlib.resources`` finds by importing the package (in a separate
    interpreter, so this one stays clean), hence the same codes and row count as before."""
    found = reference_tables._package_data(PACKAGE, reference_tables._PACKAGE_LIST)
    located = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.resources as r; "
            f"print(r.files({PACKAGE!r}).joinpath({reference_tables._PACKAGE_LIST!r}))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.strip()
    assert found.resolve() == Path(located).resolve()
