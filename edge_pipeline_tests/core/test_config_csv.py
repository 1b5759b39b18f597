"""Configuration CSVs: Excel's "CSV UTF-8" (a byte-order mark) is accepted; bad bytes, empty
files, malformed years and absurd numbers are refused with exit 2 and one line naming the file,
the line and the column.

Every reader (plan registry, code lists, pool, market pool, GCF, user fee, age curve) goes
through ``edge_pipeline.base.config_csv``; each is exercised here through its CLI command with
files derived from the synthetic issuer's own (real) files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_pipeline.cli import main
from edge_pipeline.edge.transfer.factors import age_curve, read_gcf
from edge_pipeline.edge.transfer.market import read_market
from edge_pipeline.edge.transfer.pool_csv import read_pool_csv
from edge_pipeline.edge.transfer.user_fee import DEFAULT_USER_FEE_PATH, read_user_fees
from edge_pipeline.edge.verification.reference_tables import _extra_lists, _read_registry

BOM = b"\xef\xbb\xbf"
POOL = (
    "plan_id,metal,billable_member_months,plrs,arf,gcf,premium_pmpm\n"
    "A,silver,120000,1.4,1.60,1.00,600\n"
    "B,gold,80000,1.1,1.50,1.00,700\n"
)
AGE_CURVE = "age,premium_ratio\n" + "".join(f"{age},{1 + age / 50:.3f}\n" for age in range(65))


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A synthetic issuer's folder and a warehouse ``validate`` verified."""
    root = tmp_path_factory.mktemp("config")
    issuer = root / "issuer"
    assert main(["synth", "--out", str(issuer), "--enrollees", "20", "--seed", "8"]) == 0
    warehouse = root / "w.duckdb"
    args = ["validate", str(issuer), "--warehouse", str(warehouse), "--out", str(root / "p1")]
    assert main(args) == 0
    return issuer, warehouse


def _edit(text: str, line: int, column: str, value: str) -> str:
    """``text`` with the cell at (``line``, ``column``) set to ``value``."""
    lines = text.splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


#: kind -> (a cell of text that may carry a bad byte, a numeric or year cell, its bad values)
BAD_CELLS: dict[str, tuple[str | None, str | None, list[str]]] = {
    "plan_registry": ("state", "effective_start_year", ["20x4", "1e308", "-2025", "99999"]),
    "code_list": ("code", None, []),
    "pool": ("plan_id", "plrs", ["1e308", "inf", "nan", "-1"]),
    "market_pool": ("state", "premium_pmpm", ["1e308", "inf", "NaN", "-600"]),
    "gcf": ("state", "gcf", ["1e308", "inf", "nan", "-1", "0"]),
    "user_fee": (None, "benefit_year", ["20x4", "2O25", "1e308"]),
    "user_fee_amount": (None, "user_fee_pmpm", ["1e308", "inf", "-0.2"]),
    "age_curve": (None, "premium_ratio", ["1e308", "nan", "-1", "0"]),
}


def _good(kind: str, issuer: Path) -> tuple[str, str]:
    """(file name, the valid text) of each CSV kind."""
    return {
        "plan_registry": ("plan_registry.csv", (issuer / "plan_registry.csv").read_text("utf-8")),
        "code_list": (
            "code_list_icd10cm.csv",
            (issuer / "code_list_icd10cm.csv").read_text("utf-8"),
        ),
        "pool": ("pool.csv", POOL),
        "market_pool": ("market_pool.csv", (issuer / "market_pool.csv").read_text("utf-8")),
        "gcf": ("gcf.csv", (issuer / "gcf.csv").read_text("utf-8")),
        "user_fee": ("user_fee.csv", DEFAULT_USER_FEE_PATH.read_text("utf-8")),
        "user_fee_amount": ("user_fee.csv", DEFAULT_USER_FEE_PATH.read_text("utf-8")),
        "age_curve": ("age_curve.csv", AGE_CURVE),
    }[kind]


def _command(kind: str, path: Path, issuer: Path, warehouse: Path, tmp: Path) -> list[str]:
    """The CLI command that reads a file of ``kind`` at ``path``."""
    if kind in ("plan_registry", "code_list"):
        folder = tmp / "issuer"
        if not folder.exists():
            shutil.copytree(issuer, folder)
        if kind == "code_list":
            shutil.copy(path, folder / path.name)
        registry = path if kind == "plan_registry" else folder / "plan_registry.csv"
        return ["validate", str(folder), "--plan-registry", str(registry),
                "--warehouse", str(tmp / "v.duckdb"), "--out", str(tmp / "p1")]  # fmt: skip
    if kind == "pool":
        return ["transfer", "--pool", str(path), "--output", str(tmp / "out.csv")]
    copy = tmp / "w.duckdb"
    if not copy.exists():
        shutil.copy(warehouse, copy)
    option = {"user_fee_amount": "user_fee"}.get(kind, kind).replace("_", "-")
    return ["score", "--warehouse", str(copy), "--benefit-year", "2025", f"--{option}", str(path)]


def _refused(argv: list[str], capsys: pytest.CaptureFixture, where: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, (argv, err)
    assert len(err.splitlines()) == 1 and "internal error" not in err, err
    assert where in err, (where, err)
    return err


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for kind, (text_column, _, values) in BAD_CELLS.items():
        cases.append((kind, "empty", ""))
        if text_column or kind in ("user_fee", "age_curve"):
            cases.append((kind, "latin-1", "latin-1"))
        cases.extend((kind, "value", value) for value in values)
    return cases


@pytest.mark.parametrize(("kind", "case", "value"), _cases())
def test_bad_config_csv_exits_2_naming_file_line_and_column(
    kind: str,
    case: str,
    value: str,
    verified: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    issuer, warehouse = verified
    name, good = _good(kind, issuer)
    text_column, value_column, _ = BAD_CELLS[kind]
    path = tmp_path / name
    if case == "empty":
        path.write_bytes(b"")
        where = f"{name} line 1, column "
    elif case == "latin-1":
        column = text_column or value_column
        assert column is not None
        path.write_bytes(_edit(good, 3, column, "Caf\u00e9").encode("latin-1"))
        where = f"{name} line 3, column {column}: not UTF-8"
    else:
        assert value_column is not None
        path.write_text(_edit(good, 2, value_column, value), encoding="utf-8")
        where = f"{name} line 2, column {value_column}: "
    _refused(_command(kind, path, issuer, warehouse, tmp_path), capsys, where)


READERS: dict[str, Callable[[Path], object]] = {
    "plan_registry": _read_registry,
    "code_list": lambda path: [codes for _, codes in _extra_lists([path.parent])["icd10cm"]],
    "pool": read_pool_csv,
    "market_pool": read_market,
    "gcf": read_gcf,
    "user_fee": read_user_fees,
    "age_curve": age_curve,
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_a_byte_order_mark_reads_the_same(
    kind: str, verified: tuple[Path, Path], tmp_path: Path
) -> None:
    issuer, _ = verified
    name, good = _good(kind, issuer)
    plain, marked = tmp_path / "plain" / name, tmp_path / "bom" / name
    for path, prefix in ((plain, b""), (marked, BOM)):
        path.parent.mkdir()
        path.write_bytes(prefix + good.replace("\n", "\r\n").encode("utf-8"))
    first, second = READERS[kind](plain), READERS[kind](marked)
    if kind == "pool":  # (header, rows): rows remember their cells, equal too
        assert first == second
    else:
        assert first == second and first


def test_the_cli_accepts_every_file_with_a_byte_order_mark(
    verified: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    issuer, _ = verified
    marked = tmp_path / "issuer"
    shutil.copytree(issuer, marked)
    for path in marked.glob("*.csv"):
        path.write_bytes(BOM + path.read_bytes())
    files = {"user_fee": DEFAULT_USER_FEE_PATH.read_text("utf-8"), "age_curve": AGE_CURVE}
    for kind, text in files.items():
        (marked / f"{kind}.csv").write_bytes(BOM + text.encode("utf-8"))
    copy = tmp_path / "w.duckdb"
    assert main(["validate", str(marked), "--warehouse", str(copy), "--out", str(tmp_path)]) == 0
    score = ["score", "--warehouse", str(copy), "--benefit-year", "2025"]
    for kind in ("gcf", "market_pool", "user_fee", "age_curve"):
        score += [f"--{kind.replace('_', '-')}", str(marked / f"{kind}.csv")]
    assert main(score) == 0, capsys.readouterr().err
    (marked / "pool.csv").write_bytes(BOM + POOL.encode("utf-8"))
    pool = ["transfer", "--pool", str(marked / "pool.csv"), "--output", str(tmp_path / "o.csv")]
    assert main(pool) == 0
