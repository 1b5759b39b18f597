"""The ordered statement program of one model, assembled from DIY tables 5 and 6/7/8.

Both scorers (the SQL engine and the plain-Python baseline) run this program; it is the one
place where the published SAS text becomes executable logic.  Besides reading the text as
written, it applies exactly two stated rules where the literal text disagrees with the
model's documented intent:

1. **RXC interactions see HCCs before groups.**  An RXCxHCC interaction (``if RXC_06 = 1 and
   (HHS_HCC018 = 1 or HHS_HCC019 = 1 or HHS_HCC020 = 1 or HHS_HCC021 = 1) then
   RXC_06_X_HCC018_019_020_021 = 1;``) is evaluated on the HCC flags after the hierarchies and
   before the group statements zero the member HCCs.  Table 6 of 2025 lists the interactions
   before the groups; table 6 of 2024 lists the groups first (G01 … G24, then RXC_01 …), and
   read literally that would make RXC_06_X_HCC018_019_020_021 unreachable (HCC 18 is in G24,
   19-21 in G01) although it carries a coefficient.  So every interaction statement runs before
   the first group statement (``RXC_INTERACTIONS_BEFORE_GROUPS``).
2. **Child SEVERE_HCC_COUNT6_7 means "severe and 6 or 7 HCCs".**  Table 7 writes ``if SEVERE =
   1 and HCC_CNT = 6 or HCC_CNT = 7 then SEVERE_HCC_COUNT6_7 = 1;``; SAS precedence would
   also give it to a non-severe child with 7 HCCs, contradicting the variable's description
   ("Severe illness, 6 or 7 HCCs") and its siblings.  ``INTENT_FIXES`` replaces that exact
   text by ``SEVERE = 1 and (HCC_CNT = 6 or HCC_CNT = 7)``; any other text is read as written.

Demographic cells (table 5, e.g. ``Male, 21 <= AGE_LAST <= 24``) become the program's first
statements, so the infant reassignment (``AGE0_MALE`` → ``AGE1_MALE``) sees them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from edge_pipeline.edge.risk.conditions import AgeSexCondition
from edge_pipeline.edge.risk.sas import (
    AllOf,
    Assign,
    Compare,
    CountSum,
    Expr,
    If,
    Statement,
    parse_statements,
    statement_reads,
    statement_writes,
)

MODELS = ("adult", "child", "infant")
#: Person-level variables the program may read (everything else is a 0/1 flag or a count).
SCALARS = ("AGE_LAST", "SEX", "ENROLDURATION")
RXC_INTERACTIONS_BEFORE_GROUPS = True

#: (model, variable) → (literal text, intended text); see rule 2 of the module docstring.
INTENT_FIXES: dict[tuple[str, str], tuple[str, str]] = {
    ("child", "SEVERE_HCC_COUNT6_7"): (
        "if SEVERE = 1 and HCC_CNT = 6 or HCC_CNT = 7 then SEVERE_HCC_COUNT6_7 = 1;",
        "if SEVERE = 1 and (HCC_CNT = 6 or HCC_CNT = 7) then SEVERE_HCC_COUNT6_7 = 1;",
    ),
}

_RXC_FROM_CODES = re.compile(
    r"^if any of the NDC or HCPCS codes corresponding to (RXC_\d+) are present, then "
    r"(RXC_\d+)\s*=\s*1;$",
    re.IGNORECASE,
)
_GROUP = re.compile(r"^G\d+[A-Z]?$")
_RXC = re.compile(r"^RXC_\d+$")
_RXC_INTERACTION = re.compile(r"^RXC_\d+_X_")
_KINDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^HHS_HCC\d+(_\d+)?$"), "hcc"),
    (_GROUP, "group"),
    (_RXC, "rxc"),
    (_RXC_INTERACTION, "rxc_interaction"),
    (re.compile(r"^(SEVERE|TRANSPLANT)_HCC_COUNT"), "severity"),
    (re.compile(r"^HCC_ED\d+$"), "enrollment_duration"),
    (re.compile(r"_X_SEVERITY\d+$"), "infant"),
)


class ProgramError(ValueError):
    """A definition row cannot become part of a model program."""


@dataclass(frozen=True)
class DefinitionRow:
    """One variable row of table 6/7/8: its name and definition lines in table order."""

    variable: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ModelProgram:
    """Ordered statements of one model and the variables they work on.

    ``flags``: 0/1 inputs (the model's payment HCCs, plus RXCs for the adult model);
    ``targets``: 0/1 variables the statements assign; ``counts``: integer variables (HCC_CNT);
    ``demographics``: table 5 cells, in table order.
    """

    model: str
    statements: tuple[Statement, ...]
    flags: tuple[str, ...]
    targets: tuple[str, ...]
    counts: tuple[str, ...]
    demographics: tuple[str, ...]
    rxcs_from_codes: tuple[str, ...]

    @functools.cached_property
    def columns(self) -> tuple[str, ...]:
        """Every flag and target, in a stable order (the engine's wide-table columns)."""
        return self.flags + tuple(t for t in self.targets if t not in self.flags)

    def is_flag(self, var: str) -> bool:
        return var not in SCALARS and var not in self.counts


def term_kind(variable: str, demographics: Iterable[str]) -> str:
    """The ``kind`` of a score term (demographic, hcc, group, rxc, ...)."""
    if variable in set(demographics):
        return "demographic"
    for pattern, kind in _KINDS:
        if pattern.search(variable):
            return kind
    raise ProgramError(f"variable {variable} is of no known kind")


def condition_expr(condition: AgeSexCondition) -> Expr:
    """A table 5 cell's age/sex condition as a SAS expression over SEX and AGE_LAST."""
    parts: list[Expr] = []
    if condition.sex is not None:
        parts.append(Compare("SEX", "=", condition.sex))
    if condition.min_age is not None:
        parts.append(Compare("AGE_LAST", ">=", condition.min_age))
    if condition.max_age is not None:
        parts.append(Compare("AGE_LAST", "<=", condition.max_age))
    if not parts:
        raise ProgramError("a demographic cell without a condition")
    return AllOf(tuple(parts))


def build_program(
    model: str,
    rows: Sequence[DefinitionRow],
    demographics: Sequence[tuple[str, AgeSexCondition]],
    flags: Sequence[str],
) -> ModelProgram:
    """Assemble and check one model's program (raises ProgramError naming the variable)."""
    statements: list[Statement] = [
        If(condition_expr(cond), (Assign(var, 1),), f"table 5: {var}") for var, cond in demographics
    ]
    rxcs: list[str] = []
    for row in rows:
        if row.variable.startswith(("SCORE_", "CSR_ADJUSTED_SCORE_")):
            continue
        text = "\n".join(row.lines)
        found = _RXC_FROM_CODES.match(" ".join(text.split()))
        if found:
            if found.group(1).upper() != found.group(2).upper():
                raise ProgramError(f"{row.variable}: {text!r} assigns another RXC")
            rxcs.append(found.group(1).upper())
            continue
        literal, intended = INTENT_FIXES.get((model, row.variable), (None, None))
        if literal is not None and _normal(text) == _normal(literal):
            text = intended or text
        try:
            statements.extend(parse_statements(text))
        except ValueError as exc:
            raise ProgramError(f"{row.variable}: {exc}") from exc
    if RXC_INTERACTIONS_BEFORE_GROUPS:
        statements = _interactions_before_groups(statements)
    program = _program(model, statements, flags, [v for v, _ in demographics], rxcs)
    _check(program)
    return program


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


def _writes_only(statement: Statement, pattern: re.Pattern[str]) -> bool:
    writes = statement_writes(statement)
    return bool(writes) and all(pattern.search(v) for v in writes)


def _interactions_before_groups(statements: list[Statement]) -> list[Statement]:
    """Rule 1 of the module docstring: interaction statements move before the first group."""
    first_group = next(
        (i for i, s in enumerate(statements) if any(_GROUP.match(v) for v in statement_writes(s))),
        None,
    )
    if first_group is None:
        return statements
    late = [
        s
        for s in statements[first_group:]
        if isinstance(s, If) and _writes_only(s, _RXC_INTERACTION)
    ]
    rest = [s for s in statements[first_group:] if not any(s is x for x in late)]
    return statements[:first_group] + late + rest


def _program(
    model: str,
    statements: list[Statement],
    flags: Sequence[str],
    demographics: list[str],
    rxcs: list[str],
) -> ModelProgram:
    targets: list[str] = []
    counts: list[str] = []
    for statement in statements:
        if isinstance(statement, CountSum):
            counts.append(statement.var)
            continue
        for assign in statement.body:
            if assign.value not in (0, 1):
                raise ProgramError(f"{statement.text}: assigns {assign.value}, not 0/1")
            if assign.var not in flags and assign.var not in targets:
                targets.append(assign.var)
    return ModelProgram(
        model=model,
        statements=tuple(statements),
        flags=tuple(flags),
        targets=tuple(targets),
        counts=tuple(dict.fromkeys(counts)),
        demographics=tuple(demographics),
        rxcs_from_codes=tuple(rxcs),
    )


def _check(program: ModelProgram) -> None:
    """Every variable read is known and every count sums existing 0/1 variables."""
    known = set(program.columns) | set(SCALARS) | set(program.counts)
    for statement in program.statements:
        unknown = statement_reads(statement, program.columns) - known
        if unknown:
            raise ProgramError(
                f"{statement.text}: reads {', '.join(sorted(unknown))}, which the "
                f"{program.model} model does not define (not a payment HCC, RXC or assigned)"
            )
        if isinstance(statement, CountSum) and statement.var in program.columns:
            raise ProgramError(f"{statement.text}: {statement.var} is also a 0/1 variable")
    missing = [r for r in program.rxcs_from_codes if r not in program.flags]
    if missing:
        raise ProgramError(f"RXCs {missing} are not inputs of the {program.model} model")
