"""The CMS DIY software's CSV interface: PERSON/DIAGNOSES/NDC/HCPCS.csv in, scores out.

Analysts already keep their data in the DIY input layout, so ``edge-pipeline score-diy`` reads
it and scores it with the same engine as the warehouse.  Files are read by DuckDB's CSV reader
with every column as text, then validated in SQL, so a bad row is reported as ``FILE line N,
column C: what is wrong`` (the first one in file order) instead of a cast error.  NDC.csv,
HCPCS.csv and DIAGNOSES.csv may be absent (no codes); PERSON.csv is required.

Dates: DOB is YYYYMMDD; DIAGNOSIS_SERVICE_DATE is YYYYMMDD or YYYY-MM-DD.  CSR_INDICATOR must
be one the benefit year's CSR formula knows (1 plus the listed indicators: 1-4 in 2024, 1-11
in 2025); ENROLDURATION 1-12.  Output: ``ID,SCORE_RAW,SCORE_CSR_ADJUSTED`` sorted by ID, three
decimals; SCORE_CSR_ADJUSTED is empty where the SAS leaves it missing (metal/CSR mismatch).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from edge_pipeline.edge.risk.diy_tables import load_diy_model
from edge_pipeline.edge.risk.metals import METALS
from edge_pipeline.edge.risk.scoring import score_population

DATE_8 = "try_strptime(trim({c}), '%Y%m%d')"
DATE_ANY = "coalesce(try_strptime(trim({c}), '%Y%m%d'), try_strptime(trim({c}), '%Y-%m-%d'))"


class DiyInputError(ValueError):
    """A DIY input file is missing or has a bad row; names the file, line and column."""

    def __init__(self, file: str, reason: str, line: int | None = None, column: str | None = None):
        self.file, self.reason, self.line, self.column = file, reason, line, column
        where = file + (f" line {line}" if line is not None else "")
        where += f", column {column}" if column else ""
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class _Check:
    """A column rule: SQL predicate over the raw text ``{c}`` and the failure reason."""

    column: str
    predicate: str
    reason: str


def _nonempty(column: str) -> _Check:
    return _Check(column, "nullif(trim({c}), '') IS NOT NULL", "is empty")


def _int_in(column: str, low: int, high: int) -> _Check:
    return _Check(
        column,
        f"try_cast(trim({{c}}) AS INTEGER) BETWEEN {low} AND {high}",
        f"is not an integer from {low} to {high}",
    )


def _files(indicators: list[int]) -> dict[str, tuple[bool, list[_Check]]]:
    """File → (required, checks); columns are checked in this order per row."""
    metals = ", ".join(f"'{m}'" for m in METALS)
    known = ", ".join(str(i) for i in indicators)
    return {
        "PERSON.csv": (
            True,
            [
                _nonempty("ID"),
                _Check("SEX", "trim({c}) IN ('1', '2')", "is not 1 (male) or 2 (female)"),
                _Check("DOB", DATE_8 + " IS NOT NULL", "is not a date YYYYMMDD"),
                _int_in("AGE_LAST", 0, 130),
                _Check("METAL", f"upper(trim({{c}})) IN ({metals})", "is not one of P G S B C"),
                _Check(
                    "CSR_INDICATOR",
                    f"try_cast(trim({{c}}) AS INTEGER) IN ({known})",
                    f"is not a CSR_INDICATOR of this benefit year ({known})",
                ),
                _int_in("ENROLDURATION", 1, 12),
            ],
        ),
        "DIAGNOSES.csv": (
            False,
            [
                _nonempty("ID"),
                _nonempty("ICD10"),
                _Check(
                    "DIAGNOSIS_SERVICE_DATE",
                    DATE_ANY + " IS NOT NULL",
                    "is not a date YYYYMMDD or YYYY-MM-DD",
                ),
            ],
        ),
        "NDC.csv": (False, [_nonempty("ID"), _nonempty("NDC")]),
        "HCPCS.csv": (False, [_nonempty("ID"), _nonempty("HCPCS")]),
    }


def load_diy_inputs(
    con: duckdb.DuckDBPyConnection, folder: Path, benefit_year: int, prefix: str = "diy_in_"
) -> dict[str, str]:
    """Read and validate the four files into typed TEMP tables; returns role → table."""
    indicators = load_diy_model(benefit_year).csr["adult"].indicators
    raw = {}
    for name, (required, checks) in _files(indicators).items():
        raw[name] = _read_raw(con, folder / name, required, checks, prefix)
    person = f"{prefix}person"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {person} AS
            SELECT trim("ID") AS person_id, trim("SEX")::INTEGER AS sex,
                   {DATE_8.format(c=_q("DOB"))}::DATE AS birth_date,
                   trim("AGE_LAST")::INTEGER AS age_last, upper(trim("METAL")) AS metal,
                   trim("CSR_INDICATOR")::INTEGER AS csr_indicator,
                   trim("ENROLDURATION")::INTEGER AS enrol_duration
            FROM {raw["PERSON.csv"]}"""
    )
    repeated = con.execute(
        f"""SELECT line, "ID" FROM (
                SELECT line, "ID", row_number() OVER (PARTITION BY trim("ID") ORDER BY line) AS n
                FROM {raw["PERSON.csv"]})
            WHERE n = 2 ORDER BY line LIMIT 1"""
    ).fetchall()
    if repeated:
        raise DiyInputError("PERSON.csv", f"ID {repeated[0][1]!r} repeated", repeated[0][0], "ID")
    tables = {"persons": person}
    for name, role, columns in (
        (
            "DIAGNOSES.csv",
            "diagnoses",
            f'trim("ICD10") AS icd10, '
            f"{DATE_ANY.format(c=_q('DIAGNOSIS_SERVICE_DATE'))}::DATE AS service_date",
        ),
        ("NDC.csv", "ndcs", 'trim("NDC") AS ndc'),
        ("HCPCS.csv", "hcpcs", 'trim("HCPCS") AS hcpcs'),
    ):
        unknown = con.execute(
            f'SELECT line, "ID" FROM {raw[name]} WHERE trim("ID") NOT IN '
            f"(SELECT person_id FROM {person}) ORDER BY line LIMIT 1"
        ).fetchall()
        if unknown:
            raise DiyInputError(
                name, f"ID {unknown[0][1]!r} is not in PERSON.csv", unknown[0][0], "ID"
            )
        table = f"{prefix}{role}"
        con.execute(
            f'CREATE OR REPLACE TEMP TABLE {table} AS SELECT trim("ID") AS person_id, {columns} '
            f"FROM {raw[name]}"
        )
        tables[role] = table
    for table in raw.values():
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return tables


def _read_raw(
    con: duckdb.DuckDBPyConnection, path: Path, required: bool, checks: list[_Check], prefix: str
) -> str:
    """The file as a TEMP table of text columns plus its ``line`` number; checks applied."""
    table = f"{prefix}raw_{path.stem.lower()}"
    columns = list(dict.fromkeys(c.column for c in checks))
    if not path.is_file() or path.stat().st_size == 0:
        if required:
            raise DiyInputError(path.name, f"missing or empty in {path.parent}")
        empty = ", ".join(f'NULL::VARCHAR AS "{c}"' for c in columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT 0 AS line, {empty} LIMIT 0")
        return table
    # The file name is a bound parameter, never SQL text.
    source = (
        "read_csv($path, header = true, all_varchar = true, "
        "auto_detect = true, delim = ',', quote = '\"')"
    )
    where = {"path": str(path)}
    try:
        header = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}", where).fetchall()]
        by_upper = {h.strip().upper(): h for h in header}
        missing = [c for c in columns if c not in by_upper]
        if missing:
            raise DiyInputError(path.name, f"missing column(s) {', '.join(missing)}", 1)
        select = ", ".join(f'"{by_upper[c]}" AS "{c}"' for c in columns)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            f"SELECT row_number() OVER () + 1 AS line, {select} FROM {source}",
            where,
        )
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        raise DiyInputError(path.name, f"not a readable CSV file: {reason}") from exc
    failures = " UNION ALL ".join(
        f'SELECT line, {i} AS rule, "{check.column}" AS value FROM {table} '
        f"WHERE NOT coalesce({check.predicate.format(c=_q(check.column))}, FALSE)"
        for i, check in enumerate(checks)
    )
    first = con.execute(f"SELECT * FROM ({failures}) ORDER BY line, rule LIMIT 1").fetchall()
    if first:
        line, rule, value = first[0]
        check = checks[rule]
        raise DiyInputError(path.name, f"{value!r} {check.reason}", line, check.column)
    return table


def _q(column: str) -> str:
    return f'"{column}"'


def score_diy_files(folder: Path, benefit_year: int, output: Path) -> int:
    """Score the DIY input files of ``folder`` into ``output``; returns the enrollee count."""
    con = duckdb.connect()
    try:
        tables = load_diy_inputs(con, Path(folder), benefit_year)
        score_population(con, benefit_year, out_prefix="diy_", **tables)
        rows = con.execute(
            "SELECT person_id, score_raw, score_csr_adjusted FROM diy_score ORDER BY person_id"
        ).fetchall()
    finally:
        con.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["ID", "SCORE_RAW", "SCORE_CSR_ADJUSTED"])
        for person_id, raw, adjusted in rows:
            writer.writerow([person_id, _fmt(raw), _fmt(adjusted)])
    return len(rows)


def _fmt(value: object) -> str:
    return "" if value is None else f"{value:.3f}"
