"""Reference tables of the referential checks: plan registry, ICD-10-CM, NDC and CPT/HCPCS.

Why they live in the warehouse: the referential checks are set-based SQL joins over millions of
records, so the lists they look values up in must be tables beside the landing tables.  Each
``load_reference_tables`` call replaces all four tables in one transaction (idempotent: loading
the same inputs twice gives the same rows), and records what was loaded in ``ref_source``.

Sources:

* ``ref_plan`` -- the issuer's HIOS plan registry, a CSV the deployment configures (the
  synthetic generator writes ``plan_registry.csv``).  Required column
  ``insurance_plan_identifier``; optional ``issuer_identifier`` (default: the id's first five
  characters), ``rating_areas`` (``;``-separated, empty = any), ``effective_start_year`` and
  ``effective_end_year`` (empty = open), and the descriptive columns the generator writes.
* ``ref_icd10cm`` -- ICD-10-CM validity by fiscal year, see :data:`ICD10CM_RULE`.
* ``ref_ndc`` -- NDCs of DIY table 10a (every benefit year in the reference directory) plus
  extra list files (a real issuer exports the FDA NDC directory as 11-digit codes).
* ``ref_hcpcs`` -- CPT/HCPCS codes of DIY table 2 (every row, eligible for RA or not) and table
  10b, plus extra list files.

Extra list files: in each directory of ``extra_code_dirs``, every ``code_list_<kind>*.csv``
(kind ``icd10cm``, ``ndc`` or ``hcpcs``) with a ``code`` column (other columns ignored) adds its
codes.  The generator writes ``code_list_ndc.csv``, ``code_list_hcpcs.csv`` and
``code_list_icd10cm.csv`` beside ``plan_registry.csv`` for the everyday codes it uses that the
DIY tables do not list.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from edge_pipeline.base import config_csv
from edge_pipeline.base.config_csv import Column, ConfigCsvError, optional, read_config_csv
from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.reference import DIY_FOLDER, available_benefit_years, reference_dir

#: The documented rule of ``ref_icd10cm`` (also rendered into docs/error-catalog.md).
ICD10CM_RULE = """\
An ICD-10-CM code (no dot) is valid on a service date whose fiscal year is FY (October 1 of
FY-1 to September 30 of FY):

1. if a DIY table 3 in the reference directory carries a validity flag of the code for FY,
   that flag decides (table 3 of benefit year Y flags FY Y in `valid_fy` and FY Y+1 in the
   second flag column; when two tables flag the same fiscal year, the later benefit year's
   table wins);
2. otherwise the code is valid when it is a billable (leaf) code of the ICD-10-CM code list
   shipped by the `simple-icd-10-cm` package (the April 2026 release), or is listed in an
   extra `code_list_icd10cm*.csv`;
3. otherwise it is invalid.

Rule 2 knows a single code-set release, so a code without an HHS-HCC mapping that was added
or deleted in another fiscal year is not caught; every HCC-relevant code is judged by its
fiscal-year flag."""

_PACKAGE = "simple_icd_10_cm"
_PACKAGE_LIST = "data/code-list-April-2026.txt"
CODE_KINDS = ("icd10cm", "ndc", "hcpcs")

#: DDL of the reference tables (created, or re-created, by ``load_reference_tables``).
REFERENCE_DDL: dict[str, str] = {
    "ref_plan": (
        "insurance_plan_identifier VARCHAR PRIMARY KEY, issuer_identifier VARCHAR, "
        "hios_standard_component_id VARCHAR, state VARCHAR, market VARCHAR, metal VARCHAR, "
        "csr_variant VARCHAR, rating_areas VARCHAR[], effective_start_date DATE, "
        "effective_end_date DATE"
    ),
    "ref_icd10cm": "code VARCHAR, fiscal_year INTEGER, valid BOOLEAN, source VARCHAR",
    "ref_ndc": "code VARCHAR PRIMARY KEY, source VARCHAR",
    "ref_hcpcs": "code VARCHAR PRIMARY KEY, source VARCHAR",
    "ref_source": "kind VARCHAR, source VARCHAR, rows BIGINT",
}


@dataclass
class ReferenceLoad:
    """What ``load_reference_tables`` loaded: row counts per table and the sources used."""

    rows: dict[str, int] = field(default_factory=dict)
    sources: list[tuple[str, str, int]] = field(default_factory=list)
    benefit_years: list[int] = field(default_factory=list)


def reference_tables_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """True when every reference table exists (verification refuses to run otherwise)."""
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return all(name in names for name in REFERENCE_DDL)


def load_reference_tables(
    con: duckdb.DuckDBPyConnection,
    registry_csv: Path | str,
    extra_code_dirs: Iterable[Path | str] = (),
    benefit_years: Sequence[int] | None = None,
) -> ReferenceLoad:
    """Replace the reference tables from the registry, the DIY tables and extra code lists.

    ``benefit_years``: the DIY years to read (default: every year in the reference directory).
    """
    years = list(benefit_years) if benefit_years is not None else available_benefit_years()
    extras = _extra_lists(extra_code_dirs)
    result = ReferenceLoad(benefit_years=years)

    plans = _read_registry(Path(registry_csv))
    icd = _icd10cm_rows(years, extras["icd10cm"], result)
    ndc = _code_rows(_diy_codes(years, "table_10a.csv", "ndc"), extras["ndc"], result, "ndc")
    hcpcs_diy = _diy_codes(years, "table_2.csv", None) + _diy_codes(years, "table_10b.csv", "hcpcs")
    hcpcs = _code_rows(hcpcs_diy, extras["hcpcs"], result, "hcpcs")
    result.sources.append(("plan", str(registry_csv), len(plans["insurance_plan_identifier"])))

    con.execute("BEGIN TRANSACTION")
    try:
        for table, ddl in REFERENCE_DDL.items():
            con.execute(f"CREATE OR REPLACE TABLE {table} ({ddl})")
        for table, rows in (
            ("ref_plan", plans),
            ("ref_icd10cm", icd),
            ("ref_ndc", ndc),
            ("ref_hcpcs", hcpcs),
        ):
            _insert(con, table, pa.table(rows))
        sources = pa.table(
            {
                "kind": [s[0] for s in result.sources],
                "source": [s[1] for s in result.sources],
                "rows": pa.array([s[2] for s in result.sources], pa.int64()),
            }
        )
        _insert(con, "ref_source", sources)
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    for table in ("ref_plan", "ref_icd10cm", "ref_ndc", "ref_hcpcs"):
        result.rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return result


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """Append an Arrow table by column name."""
    con.register("_ref_rows", rows)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _ref_rows")
    finally:
        con.unregister("_ref_rows")


# -- plan registry ------------------------------------------------------------------------------


#: The registry's columns: only the plan id is required (see the module doc).
#: The registry's optional text columns, stored as read (defaults filled from the plan id).
_REGISTRY_TEXT = (
    "issuer_identifier",
    "hios_standard_component_id",
    "state",
    "market",
    "metal",
    "csr_variant",
    "rating_areas",
)
REGISTRY_COLUMNS = (
    Column("insurance_plan_identifier", str),  # a blank id: a row without a plan, skipped
    *(Column(name, str, required=False) for name in _REGISTRY_TEXT),
    Column("effective_start_year", optional(config_csv.year), required=False),
    Column("effective_end_year", optional(config_csv.year), required=False),
)


def _read_registry(path: Path) -> dict[str, list]:
    """The registry as columns; years become the first and last day of the effective years."""
    _, rows = read_config_csv(path, REGISTRY_COLUMNS)
    names = (
        "insurance_plan_identifier",
        *_REGISTRY_TEXT,
        "effective_start_date",
        "effective_end_date",
    )
    columns: dict[str, list] = {name: [] for name in names}
    seen: set[str] = set()
    for row in rows:
        plan_id = row["insurance_plan_identifier"]
        if not plan_id or plan_id in seen:
            continue
        seen.add(plan_id)
        start, end = row["effective_start_year"], row["effective_end_year"]
        if start is not None and end is not None and end < start:
            raise ConfigCsvError(
                path, row.line, "effective_end_year", f"{end} is before the start year {start}"
            )
        areas = [a.strip() for a in (row["rating_areas"] or "").split(";") if a.strip()]
        columns["insurance_plan_identifier"].append(plan_id)
        columns["issuer_identifier"].append(row["issuer_identifier"] or plan_id[:5])
        columns["hios_standard_component_id"].append(
            row["hios_standard_component_id"] or plan_id[:14]
        )
        for name in ("state", "market", "metal"):
            columns[name].append(row[name] or None)
        columns["csr_variant"].append(row["csr_variant"] or plan_id[14:])
        columns["rating_areas"].append(areas or None)
        columns["effective_start_date"].append(dt.date(start, 1, 1) if start else None)
        columns["effective_end_date"].append(dt.date(end, 12, 31) if end else None)
    return columns


# -- code lists ---------------------------------------------------------------------------------


def _extra_lists(dirs: Iterable[Path | str]) -> dict[str, list[tuple[str, list[str]]]]:
    """``code_list_<kind>*.csv`` files of the extra directories: kind -> [(path, codes)]."""
    found: dict[str, list[tuple[str, list[str]]]] = {kind: [] for kind in CODE_KINDS}
    for directory in map(Path, dirs):
        for kind in CODE_KINDS:
            for path in sorted(directory.glob(f"code_list_{kind}*.csv")):
                _, rows = read_config_csv(path, (Column("code", str),))
                found[kind].append((str(path), [row["code"] for row in rows if row["code"]]))
    return found


def _diy_codes(years: Sequence[int], table: str, column: str | None) -> list[tuple[str, list[str]]]:
    """Codes of one DIY table per benefit year (``column`` None: the table's first column)."""
    out = []
    for year in years:
        path = reference_dir() / DIY_FOLDER / f"cy{year}" / table
        if not path.is_file():
            continue
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            key = column or (reader.fieldnames or [""])[0]
            codes = [(row.get(key) or "").strip() for row in reader]
        out.append((f"DIY cy{year}/{table}", [c for c in codes if c]))
    return out


def _code_rows(
    diy: list[tuple[str, list[str]]],
    extra: list[tuple[str, list[str]]],
    result: ReferenceLoad,
    kind: str,
) -> dict[str, list[str]]:
    """One row per distinct code, naming the first source that listed it."""
    first: dict[str, str] = {}
    for source, codes in (*diy, *extra):
        result.sources.append((kind, source, len(codes)))
        for code in codes:
            first.setdefault(code, source)
    return {"code": list(first), "source": list(first.values())}


def _package_data(package: str, name: str) -> Path:
    """A data file of an installed package, found without importing it: importing
    ``simple_icd_10_cm`` parses the whole code set (about 3 CPU-seconds) only for this file to
    be located, and the codes are read here anyway."""
    spec = importlib.util.find_spec(package)  # a top-level package: found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {package} package is not installed", name=package)
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{package} has no {name}")


def package_icd10cm_codes() -> list[str]:
    """Billable ICD-10-CM codes (no dot) of the ``simple-icd-10-cm`` package's code list.

    The list is in tabular (pre-)order: chapters, blocks, then each code followed by its
    descendants, so a code is billable exactly when the next entry does not extend it.
    """
    text = _package_data(_PACKAGE, _PACKAGE_LIST).read_text("utf-8")
    entries = [line.strip() for line in text.splitlines() if line.strip()]
    leaves = []
    for i, code in enumerate(entries):
        if "-" in code or code.isdigit():  # block ranges and chapter numbers
            continue
        following = entries[i + 1] if i + 1 < len(entries) else ""
        if not following.startswith(code):
            leaves.append(code)
    return leaves


def _icd10cm_rows(
    years: Sequence[int], extra: list[tuple[str, list[str]]], result: ReferenceLoad
) -> dict[str, list]:
    """Fiscal-year flags from DIY table 3 plus year-less rows from the package and extras."""
    flags: dict[tuple[str, int], tuple[bool, str]] = {}
    for year in sorted(years):  # later benefit years overwrite earlier ones for a shared FY
        path = reference_dir() / DIY_FOLDER / f"cy{year}" / "table_3.csv"
        if not path.is_file():
            continue
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            code_at = header.index("icd10")
            flag_at = [i for i, name in enumerate(header) if name.startswith("valid_fy")][:2]
            count = 0
            for row in reader:
                code = row[code_at].strip()
                for offset, at in enumerate(flag_at):
                    value = row[at].strip().upper()
                    if value in ("Y", "N"):
                        flags[(code, year + offset)] = (value == "Y", f"DIY cy{year}/table_3.csv")
                        count += 1
        result.sources.append(("icd10cm", f"DIY cy{year}/table_3.csv", count))
    generic: dict[str, str] = {}
    package = package_icd10cm_codes()
    result.sources.append(("icd10cm", f"{_PACKAGE} {_PACKAGE_LIST}", len(package)))
    for code in package:
        generic.setdefault(code, _PACKAGE)
    for source, codes in extra:
        result.sources.append(("icd10cm", source, len(codes)))
        for code in codes:
            generic.setdefault(code, source)
    codes = [c for c, _ in flags] + list(generic)
    return {
        "code": codes,
        "fiscal_year": pa.array([fy for _, fy in flags] + [None] * len(generic), pa.int32()),
        "valid": [v for v, _ in flags.values()] + [True] * len(generic),
        "source": [s for _, s in flags.values()] + list(generic.values()),
    }


def icd10cm_valid(con: duckdb.DuckDBPyConnection, code: str, on: dt.date) -> bool:
    """``ICD10CM_RULE`` for one code and service date (the rules apply it set-based)."""
    fiscal_year = on.year + (1 if on.month >= 10 else 0)
    rows = con.execute(
        "SELECT coalesce((SELECT valid FROM ref_icd10cm WHERE code = $c AND fiscal_year = $fy),"
        " (SELECT valid FROM ref_icd10cm WHERE code = $c AND fiscal_year IS NULL), FALSE)",
        {"c": code, "fy": fiscal_year},
    ).fetchall()
    return bool(rows[0][0])
