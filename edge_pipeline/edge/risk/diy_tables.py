"""Read and validate the DIY tables of one benefit year into a ``DiyModel``.

Everything the scorers need comes from the CMS files at run time (``edge.reference``): the
ICD-10 → CC crosswalk with its edits (table 3), hierarchies (4, 11), demographic cells (5),
model programs (6/7/8), coefficients (9), RXC crosswalks (10a/b), model exclusions (12) and
the CSR factors (formulas in 6/7/8, cross-checked with table 13 where it exists).  A missing
or malformed table raises ``DiyTableError`` naming the file, line and what is wrong, at load
time, before any enrollee is scored.

Hierarchies: CMS applies table 4 row by row on current values ("if HCC i = 1 then set the
listed HCCs to 0").  The engine applies it set-based ("an HCC is dropped when any HCC present
before the hierarchy lists it"), which gives the same result exactly when the table is
irreflexive and transitively closed (if a zeroes b and b zeroes c, a zeroes c): then any HCC
zeroed in sequence is listed by a present HCC, and any HCC listed by a present HCC is listed
by one that nobody present outranks, which is never zeroed and so zeroes it.  The loader checks
that property for tables 4 and 11 and refuses tables without it.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from edge_pipeline.edge.reference import diy_dir
from edge_pipeline.edge.risk.conditions import AgeSexCondition, ConditionError, parse_condition
from edge_pipeline.edge.risk.csr import CsrFormulaError, CsrRule, CsrVariant, parse_csr_rule
from edge_pipeline.edge.risk.metals import METALS
from edge_pipeline.edge.risk.program import (
    MODELS,
    DefinitionRow,
    ModelProgram,
    ProgramError,
    build_program,
    term_kind,
)

#: Coefficients are three-decimal figures.  Table 9 of 2024 stores its child and infant rows
#: at float precision (0.14600000000000002, 0.2876666666666667: the workbook's averages, which
#: it displays to three decimals); they are rounded half-up to the published three decimals.
THOUSANDTH = Decimal("0.001")
PROGRAM_TABLES = {"adult": "table_6.json", "child": "table_7.json", "infant": "table_8.json"}


class DiyTableError(ValueError):
    """A DIY table is missing or malformed; the message names the file and the problem."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.line = line
        where = f"{self.path}" + (f", line {line}" if line is not None else "")
        super().__init__(f"DIY table {where}: {reason}")


@dataclass(frozen=True)
class IcdMapping:
    """One table 3 row → one CC: FY validity flags, MCE edit, CC split, the HCC variable."""

    icd10: str
    valid_fy: bool
    valid_fy_next: bool
    mce: AgeSexCondition
    split: AgeSexCondition
    hcc: str


@dataclass(frozen=True)
class DiyModel:
    """The DIY tables of one benefit year, parsed and cross-checked."""

    benefit_year: int
    folder: Path
    model_ages: dict[str, AgeSexCondition]
    icd: tuple[IcdMapping, ...]
    hcc_order: tuple[str, ...]
    hierarchy: dict[str, tuple[str, ...]]
    payment_hccs: dict[str, tuple[str, ...]]
    rxc_codes: tuple[tuple[str, str, str], ...]  # (code_type NDC|HCPCS, code, RXC_nn)
    rxc_order: tuple[str, ...]
    rxc_hierarchy: dict[str, tuple[str, ...]]
    programs: dict[str, ModelProgram]
    coefficients: dict[str, dict[str, dict[str, Decimal]]]  # model → variable → metal code
    csr: dict[str, CsrRule]
    csr_variants: tuple[CsrVariant, ...] | None
    csr_indicator_text: tuple[str, ...]

    def model_of(self, age_last: int | None) -> str | None:
        """Model by AGE_LAST (table 1); None when no model applies."""
        for model, condition in self.model_ages.items():
            if age_last is not None and condition.matches(age_last, None):
                return model
        return None

    def term_kind(self, model: str, variable: str) -> str:
        return term_kind(variable, self.programs[model].demographics)


def hcc_variable(label: str) -> str:
    """``'3.0'``, ``'37.1'``, ``'35_1'``, ``'115'`` → ``HHS_HCC003``, ``HHS_HCC037_1``, ...

    Table 3 writes sub-HCCs as decimals (``87.1``), tables 4 and 12 with an underscore
    (``87_1``), table 9 as ``HHS_HCC087_1``; ``.0`` means no sub-HCC.
    """
    text = label.strip()
    found = re.fullmatch(r"(\d+)(?:[._](\d+))?", text)
    if not found:
        raise ValueError(f"{label!r} is not an HCC number")
    main, sub = int(found.group(1)), found.group(2)
    suffix = f"_{int(sub)}" if sub is not None and int(sub) != 0 else ""
    return f"HHS_HCC{main:03d}{suffix}"


def rxc_variable(label: str) -> str:
    """``'6'`` → ``RXC_06``."""
    if not label.strip().isdigit():
        raise ValueError(f"{label!r} is not an RXC number")
    return f"RXC_{int(label):02d}"


def load_diy_model(benefit_year: int) -> DiyModel:
    """The validated tables of ``benefit_year`` (cached per folder and file timestamps)."""
    try:
        folder = diy_dir(benefit_year)
    except FileNotFoundError as exc:
        raise DiyTableError(f"cy{benefit_year}", str(exc)) from exc
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir()))
    return _load(benefit_year, folder, stamp)


@functools.lru_cache(maxsize=8)
def _load(benefit_year: int, folder: Path, _stamp: tuple[tuple[str, int], ...]) -> DiyModel:
    reader = _Reader(folder)
    model_ages, csr_text = _table_1(reader)
    hcc_order, hierarchy = _hierarchy_table(
        reader, "table_4.csv", r"v\d+_hcc", "hccs_to_zero", hcc_variable
    )
    rxc_order, rxc_hierarchy = _hierarchy_table(
        reader, "table_11.csv", "rxc", r"set_to_0_rxcs.*", rxc_variable
    )
    icd = _table_3(reader, benefit_year, set(hcc_order))
    payment = _table_12(reader, hcc_order)
    rxc_codes = _table_10(reader, set(rxc_order))
    demographics = _table_5(reader)
    programs: dict[str, ModelProgram] = {}
    csr: dict[str, CsrRule] = {}
    for model in MODELS:
        rows = _program_rows(reader, PROGRAM_TABLES[model], model)
        flags = payment[model] + (rxc_order if model == "adult" else ())
        path = folder / PROGRAM_TABLES[model]
        try:
            programs[model] = build_program(model, rows, demographics[model], flags)
            csr[model] = parse_csr_rule([ln for r in rows if _is_csr_row(r) for ln in r.lines])
        except (ProgramError, CsrFormulaError) as exc:
            raise DiyTableError(path, str(exc)) from exc
    coefficients = _table_9(reader, programs)
    variants = _table_13(reader, csr) if (folder / "table_13.csv").exists() else None
    return DiyModel(
        benefit_year=benefit_year,
        folder=folder,
        model_ages=model_ages,
        icd=icd,
        hcc_order=hcc_order,
        hierarchy=hierarchy,
        payment_hccs=payment,
        rxc_codes=rxc_codes,
        rxc_order=rxc_order,
        rxc_hierarchy=rxc_hierarchy,
        programs=programs,
        coefficients=coefficients,
        csr=csr,
        csr_variants=variants,
        csr_indicator_text=csr_text,
    )


class _Reader:
    """Opens the tables of one folder; every failure becomes a DiyTableError."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        path = self.folder / name
        if not path.is_file():
            raise DiyTableError(path, "file missing")
        return path

    def csv(self, name: str, columns: Sequence[str]) -> tuple[list[str], list[tuple[int, dict]]]:
        """(resolved column names, [(line, row)]); ``columns`` are regexes of header names."""
        path = self.path(name)
        try:
            with path.open(newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                header = [h.strip() for h in reader.fieldnames or []]
                resolved = [self._column(path, header, pattern) for pattern in columns]
                rows = [(reader.line_num, row) for row in reader]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise DiyTableError(path, f"not a readable CSV file ({exc})") from exc
        if not rows:
            raise DiyTableError(path, "no rows")
        return resolved, rows

    @staticmethod
    def _column(path: Path, header: list[str], pattern: str) -> str:
        matches = [h for h in header if re.fullmatch(pattern, h)]
        if len(matches) != 1:
            raise DiyTableError(
                path, f"expected one column matching {pattern!r}, header has {header}"
            )
        return matches[0]

    def json(self, name: str) -> list[dict[str, Any]]:
        path = self.path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DiyTableError(path, f"not valid JSON ({exc})") from exc
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise DiyTableError(path, "expected a JSON list of row objects")
        return data


def _field(reader: _Reader, name: str, line: int, fn: Callable[[], Any]) -> Any:
    """Run a value conversion, turning its ValueError into a DiyTableError at that line."""
    try:
        return fn()
    except (ValueError, ConditionError) as exc:
        raise DiyTableError(reader.folder / name, str(exc), line) from exc


def _is_csr_row(row: DefinitionRow) -> bool:
    """Rows ``CSR_ADJUSTED_SCORE_<MODEL>_<METAL>`` hold the CSR formula (the row without a
    metal only says which metal's score is the enrollee's)."""
    metals = tuple(f"_{name.upper()}" for name in METALS.values())
    return row.variable.startswith("CSR_ADJUSTED_SCORE_") and row.variable.endswith(metals)


def _definition_lines(row: dict[str, Any]) -> list[str]:
    lines = [row.get("definition")]
    lines += [c.get("definition") for c in row.get("continuation") or [] if isinstance(c, dict)]
    return [ln for ln in lines if isinstance(ln, str) and ln.strip()]


def _table_1(reader: _Reader) -> tuple[dict[str, AgeSexCondition], tuple[str, ...]]:
    ages: dict[str, AgeSexCondition] = {}
    csr_text: tuple[str, ...] = ()
    for index, row in enumerate(reader.json("table_1.json"), start=1):
        variable = str(row.get("variable(s)", "")).strip()
        model = str(row.get("model", "")).strip().lower()
        if variable == "AGE_LAST" and model in MODELS:
            definition = str(row.get("definition") or "")
            ages[model] = _field(
                reader, "table_1.json", index, lambda d=definition: parse_condition(d)
            )
        elif variable == "CSR_INDICATOR":
            csr_text = tuple(_definition_lines(row))
    missing = [m for m in MODELS if m not in ages]
    if missing:
        raise DiyTableError(reader.path("table_1.json"), f"no AGE_LAST definition for {missing}")
    if not csr_text:
        raise DiyTableError(reader.path("table_1.json"), "no CSR_INDICATOR row")
    return ages, csr_text


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _hierarchy_table(
    reader: _Reader, name: str, key: str, zero: str, convert: Callable[[str], str]
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    (key_col, zero_col), rows = reader.csv(name, [key, zero])
    order: list[str] = []
    hierarchy: dict[str, tuple[str, ...]] = {}
    for line, row in rows:
        var = _field(reader, name, line, lambda r=row: convert(r[key_col]))
        if var in hierarchy:
            raise DiyTableError(reader.folder / name, f"{var} listed twice", line)
        zeroed = _field(
            reader, name, line, lambda r=row: tuple(convert(x) for x in _split_list(r[zero_col]))
        )
        order.append(var)
        hierarchy[var] = zeroed
    path = reader.folder / name
    for var, zeroed in hierarchy.items():
        unknown = [z for z in zeroed if z not in hierarchy]
        if unknown or var in zeroed:
            raise DiyTableError(path, f"{var} zeroes {unknown or var}, not rows of the table")
        for middle in zeroed:
            gap = [z for z in hierarchy[middle] if z not in zeroed]
            if gap:
                raise DiyTableError(
                    path,
                    f"hierarchy not transitively closed: {var} zeroes {middle}, which zeroes "
                    f"{gap}, but {var} does not list {gap}; the set-based engine needs it closed",
                )
    return tuple(order), hierarchy


def _decimal(text: str, column: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError(f"{column} {text!r} is not a number")
    return value


def _flag(reader: _Reader, name: str, line: int, value: str) -> bool:
    value = value.strip().upper()
    if value not in ("Y", "N"):
        raise DiyTableError(reader.folder / name, f"validity flag {value!r} is not Y or N", line)
    return value == "Y"


def _table_3(reader: _Reader, benefit_year: int, hccs: set[str]) -> tuple[IcdMapping, ...]:
    name = "table_3.csv"
    columns = [
        "icd10",
        "valid_fy",
        r"valid_fy_.+",
        "mce_age_condition",
        "mce_sex_condition",
        "cc_age_split",
        "cc_sex_split",
        "cc",
        "second_cc",
        "third_cc",
    ]
    (icd, fy, fy_next, mce_age, mce_sex, split_age, split_sex, *ccs), rows = reader.csv(
        name, columns
    )
    result = []
    for line, row in rows:
        code = row[icd].strip().upper().replace(".", "")
        if not re.fullmatch(r"[A-Z][0-9A-Z]{2,6}", code):
            raise DiyTableError(reader.folder / name, f"{row[icd]!r} is not an ICD-10 code", line)

        def both(age: str, sex: str, r: dict = row) -> AgeSexCondition:
            a, s = parse_condition(r[age]), parse_condition(r[sex])
            if s.min_age is not None or s.max_age is not None or a.sex is not None:
                raise ValueError(f"age/sex columns mixed up: {r[age]!r} / {r[sex]!r}")
            return AgeSexCondition(a.min_age, a.max_age, s.sex)

        mce = _field(reader, name, line, lambda: both(mce_age, mce_sex))
        split = _field(reader, name, line, lambda: both(split_age, split_sex))
        labels = [row[c] for c in ccs if row[c].strip()]
        if not labels:
            raise DiyTableError(reader.folder / name, f"{code} maps to no CC", line)
        for label in labels:
            hcc = _field(reader, name, line, lambda lab=label: hcc_variable(lab))
            if hcc not in hccs:
                raise DiyTableError(
                    reader.folder / name, f"{code} maps to {hcc}, not in table 4", line
                )
            result.append(
                IcdMapping(
                    icd10=code,
                    valid_fy=_flag(reader, name, line, row[fy]),
                    valid_fy_next=_flag(reader, name, line, row[fy_next]),
                    mce=mce,
                    split=split,
                    hcc=hcc,
                )
            )
    return tuple(result)


def _table_12(reader: _Reader, hcc_order: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    name = "table_12.csv"
    (hcc_col, *model_cols), rows = reader.csv(
        name, [r"v\d+_hhs-hcc"] + [f"payment_hccs_excluded_from_{m}_model" for m in MODELS]
    )
    excluded: dict[str, set[str]] = {m: set() for m in MODELS}
    for line, row in rows:
        hcc = _field(reader, name, line, lambda r=row: hcc_variable(r[hcc_col]))
        if hcc not in hcc_order:
            raise DiyTableError(reader.folder / name, f"{hcc} is not in table 4", line)
        for model, col in zip(MODELS, model_cols, strict=True):
            mark = row[col].strip().upper()
            if mark not in ("", "X"):
                raise DiyTableError(
                    reader.folder / name, f"{col} is {mark!r}, not X or empty", line
                )
            if mark:
                excluded[model].add(hcc)
    return {m: tuple(h for h in hcc_order if h not in excluded[m]) for m in MODELS}


def _table_10(reader: _Reader, rxcs: set[str]) -> tuple[tuple[str, str, str], ...]:
    result = []
    for name, kind, pattern in (
        ("table_10a.csv", "NDC", r"[0-9A-Z]{11}"),  # CMS lists a few with letters
        ("table_10b.csv", "HCPCS", r"[A-Z0-9]{5}"),
    ):
        (rxc_col, code_col), rows = reader.csv(name, ["rxc", kind.lower()])
        for line, row in rows:
            rxc = _field(reader, name, line, lambda r=row, c=rxc_col: rxc_variable(r[c]))
            code = row[code_col].strip().upper()
            if rxc not in rxcs:
                raise DiyTableError(reader.folder / name, f"{rxc} is not in table 11", line)
            if not re.fullmatch(pattern, code):
                raise DiyTableError(reader.folder / name, f"{code!r} is not a valid {kind}", line)
            result.append((kind, code, rxc))
    return tuple(result)


def _table_5(reader: _Reader) -> dict[str, list[tuple[str, AgeSexCondition]]]:
    name = "table_5.csv"
    (model_col, var_col, used_col, def_col), rows = reader.csv(
        name, ["model", "variable", r"variable_used_in_risk_score_formula\??", "definition"]
    )
    cells: dict[str, list[tuple[str, AgeSexCondition]]] = {m: [] for m in MODELS}
    for line, row in rows:
        model = row[model_col].strip().lower()
        if row[used_col].strip().lower() != "yes":
            continue
        if model not in MODELS:
            raise DiyTableError(reader.folder / name, f"model {row[model_col]!r} unknown", line)
        condition = _field(reader, name, line, lambda r=row: parse_condition(r[def_col]))
        cells[model].append((row[var_col].strip().upper(), condition))
    return cells


def _program_rows(reader: _Reader, name: str, model: str) -> list[DefinitionRow]:
    rows = []
    for index, row in enumerate(reader.json(name), start=1):
        if str(row.get("model", "")).strip().lower() != model:
            raise DiyTableError(reader.folder / name, f"row {index} is not of the {model} model")
        variable = str(row.get("variable") or "").strip().upper()
        if not variable:
            raise DiyTableError(reader.folder / name, f"row {index} has no variable")
        rows.append(DefinitionRow(variable, tuple(_definition_lines(row))))
    return rows


def _table_9(
    reader: _Reader, programs: dict[str, ModelProgram]
) -> dict[str, dict[str, dict[str, Decimal]]]:
    name = "table_9.csv"
    metal_cols = [f"{metal}_level" for metal in METALS.values()]
    (model_col, var_col, *cols), rows = reader.csv(name, ["model", "variable", *metal_cols])
    result: dict[str, dict[str, dict[str, Decimal]]] = {m: {} for m in MODELS}
    for line, row in rows:
        model = row[model_col].strip().lower()
        variable = row[var_col].strip().upper()
        if model not in MODELS:
            raise DiyTableError(reader.folder / name, f"model {row[model_col]!r} unknown", line)
        program = programs[model]
        if variable not in program.columns:
            raise DiyTableError(
                reader.folder / name,
                f"{variable} is no variable of the {model} model (tables 4, 5, 6/7/8, 11, 12)",
                line,
            )
        _field(
            reader, name, line, lambda m=model, v=variable: term_kind(v, programs[m].demographics)
        )
        if variable in result[model]:
            raise DiyTableError(reader.folder / name, f"{model} {variable} listed twice", line)
        values = {}
        for code, col in zip(METALS, cols, strict=True):
            value = _field(reader, name, line, lambda c=col, r=row: _decimal(r[c], c))
            values[code] = value.quantize(THOUSANDTH, ROUND_HALF_UP)
        result[model][variable] = values
    return result


def _table_13(reader: _Reader, csr: dict[str, CsrRule]) -> tuple[CsrVariant, ...]:
    """Table 13 rows, each checked against the CSR formulas of every model."""
    name = "table_13.csv"
    cols, rows = reader.csv(
        name,
        [
            "hios_variant_id",
            r".*csr\)?_level",
            r".*csr_indicator",
            r"csr_ra_factor",
        ],
    )
    result = []
    for line, row in rows:
        variant = _field(
            reader,
            name,
            line,
            lambda r=row: CsrVariant(
                int(r[cols[0]]), r[cols[1]].strip(), int(r[cols[2]]), _decimal(r[cols[3]], cols[3])
            ),
        )
        for model, rule in csr.items():
            metals = [variant.metal] if variant.metal else list(METALS)
            for metal in metals:
                factor = rule.factor(variant.indicator, metal)
                if factor is None or factor != variant.factor:
                    raise DiyTableError(
                        reader.folder / name,
                        f"variant {variant.variant:02d} ({variant.level}): CSR_INDICATOR "
                        f"{variant.indicator} factor {variant.factor} disagrees with the {model} "
                        f"CSR formula ({factor} for {METALS[metal]})",
                        line,
                    )
        result.append(variant)
    return tuple(result)
