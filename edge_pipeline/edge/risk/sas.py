"""Parser of the SAS-style definitions in DIY tables 6, 7 and 8, and its two evaluators.

CMS publishes the model logic as SAS statements (``if HHS_HCC019 = 1 then do; HHS_HCC019 = 0;
G01 = 1; end;``).  Reading them, instead of re-typing the logic, means a new benefit year's
tables change the scoring without a code change, and the statements stay auditable against
the published text.  The statements parse into a tiny AST that two evaluators share:
``evaluate`` (plain Python, the baseline scorer) and ``expr_sql`` (the vectorized engine).

Grammar (SAS precedence: ``and`` binds tighter than ``or``)::

    statement := "if" cond "then" assign
               | "if" cond "then" "do" ";" assign* "end" ";"
               | NAME "=" "SUM" "(" NAME"*" ("," NAME"*")* ")" ("-" NAME)* [";"]
    assign    := NAME "=" INT ";"
    cond      := conj ("or" conj)*      conj := atom ("and" atom)*
    atom      := "(" cond ")" | NAME op INT      op := = >= > <= <
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>>=|<=|[=<>();,*\-]))"
)
OPS = ("=", ">=", ">", "<=", "<")


class SasSyntaxError(ValueError):
    """A definition is not in the SAS subset the DIY tables use."""


@dataclass(frozen=True)
class Compare:
    """``var op value``; 0/1 flags only ever appear as ``= 0`` or ``= 1``."""

    var: str
    op: str
    value: int


@dataclass(frozen=True)
class AllOf:
    """Conjunction (``and``)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    """Disjunction (``or``)."""

    items: tuple[Expr, ...]


Expr = Compare | AllOf | AnyOf


@dataclass(frozen=True)
class Assign:
    """``var = value`` with a constant value (0 or 1 in the DIY tables)."""

    var: str
    value: int


@dataclass(frozen=True)
class If:
    """``if cond then <assignments>``: the condition is evaluated once, then all assign."""

    cond: Expr
    body: tuple[Assign, ...]
    text: str


@dataclass(frozen=True)
class CountSum:
    """``VAR = SUM(P1*, P2*) - X - Y``: count of 1-flags whose names start with a prefix."""

    var: str
    prefixes: tuple[str, ...]
    minus: tuple[str, ...]
    text: str


Statement = If | CountSum


def parse_statements(text: str) -> list[Statement]:
    """All statements in ``text`` (one table row, or several rows joined by newlines)."""
    return _Parser(text).statements()


def parse_expr(text: str) -> Expr:
    """One condition, e.g. ``SEVERE = 1 and HCC_CNT >= 10``."""
    parser = _Parser(text)
    expr = parser.cond()
    parser.expect_end()
    return expr


def expr_vars(expr: Expr) -> set[str]:
    """Every variable a condition reads."""
    if isinstance(expr, Compare):
        return {expr.var}
    return set().union(*(expr_vars(item) for item in expr.items))


def evaluate(expr: Expr, env: Mapping[str, int]) -> bool:
    """Python evaluation; an unset variable is 0, as the DIY software initialises them."""
    if isinstance(expr, Compare):
        value = env.get(expr.var, 0)
        if value is None:  # SAS missing compares false for these operators
            return False
        return {
            "=": value == expr.value,
            ">=": value >= expr.value,
            ">": value > expr.value,
            "<=": value <= expr.value,
            "<": value < expr.value,
        }[expr.op]
    if isinstance(expr, AllOf):
        return all(evaluate(item, env) for item in expr.items)
    return any(evaluate(item, env) for item in expr.items)


def expr_sql(expr: Expr, column: Callable[[str], str], is_flag: Callable[[str], bool]) -> str:
    """SQL for a condition.  Flags are BOOLEAN columns (``= 1`` → col, ``= 0`` → NOT col);
    other variables are integers compared as written."""
    if isinstance(expr, Compare):
        col = column(expr.var)
        if is_flag(expr.var):
            if expr.op != "=" or expr.value not in (0, 1):
                raise SasSyntaxError(f"0/1 flag {expr.var} compared as {expr.op} {expr.value}")
            return col if expr.value == 1 else f"(NOT {col})"
        return f"({col} {expr.op} {expr.value})"
    joiner = " AND " if isinstance(expr, AllOf) else " OR "
    return "(" + joiner.join(expr_sql(item, column, is_flag) for item in expr.items) + ")"


def statement_reads(statement: Statement, universe: Iterable[str] = ()) -> set[str]:
    """Variables a statement reads; a ``SUM(P*)`` reads the universe names with prefix P."""
    if isinstance(statement, If):
        return expr_vars(statement.cond)
    return set(count_operands(statement, universe)[0]) | set(statement.minus)


def statement_writes(statement: Statement) -> set[str]:
    if isinstance(statement, If):
        return {a.var for a in statement.body}
    return {statement.var}


def count_operands(statement: CountSum, universe: Iterable[str]) -> tuple[list[str], list[str]]:
    """(added, subtracted) variable names of a ``SUM`` statement over the given variables."""
    added = [v for v in universe if any(v.startswith(p) for p in statement.prefixes)]
    return added, list(statement.minus)


class _Parser:
    """Recursive descent over the token list (the inputs are one-liners: no need for more)."""

    def __init__(self, text: str) -> None:
        self.text = " ".join(text.split())
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        stripped = self.text.rstrip()
        while pos < len(stripped):
            found = _TOKEN.match(stripped, pos)
            if not found or found.end() == pos:
                raise SasSyntaxError(f"unexpected text at {stripped[pos:]!r} in {self.text!r}")
            kind = found.lastgroup or ""
            value = found.group(kind)
            self.tokens.append((kind, value.upper() if kind == "name" else value))
            pos = found.end()
        self.at = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        tok_kind, tok_value = self.peek()
        if (value is not None and tok_value != value) or (kind is not None and tok_kind != kind):
            want = value or kind
            raise SasSyntaxError(
                f"expected {want!r}, found {tok_value or 'end'!r} in {self.text!r}"
            )
        self.at += 1
        return tok_value

    def accept(self, value: str) -> bool:
        if self.peek()[1] == value:
            self.at += 1
            return True
        return False

    def expect_end(self) -> None:
        if self.peek()[0] != "end":
            raise SasSyntaxError(f"unexpected {self.peek()[1]!r} in {self.text!r}")

    def statements(self) -> list[Statement]:
        result: list[Statement] = []
        while self.peek()[0] != "end":
            result.append(self.statement())
        if not result:
            raise SasSyntaxError("empty definition")
        return result

    def statement(self) -> Statement:
        start = self.at
        if self.peek()[1] == "IF":
            self.take("IF")
            cond = self.cond()
            self.take("THEN")
            if self.accept("DO"):
                self.take(";")
                body = []
                while not self.accept("END"):
                    body.append(self.assign())
                self.take(";")
            else:
                body = [self.assign()]
            return If(cond, tuple(body), self._source(start))
        var = self.take(kind="name")
        self.take("=")
        if self.peek()[1] != "SUM":
            raise SasSyntaxError(f"expected 'if' or a SUM, found {var!r} in {self.text!r}")
        self.take("SUM")
        self.take("(")
        prefixes = [self._prefix()]
        while self.accept(","):
            prefixes.append(self._prefix())
        self.take(")")
        minus = []
        while self.accept("-"):
            minus.append(self.take(kind="name"))
        self.accept(";")
        return CountSum(var, tuple(prefixes), tuple(minus), self._source(start))

    def _prefix(self) -> str:
        name = self.take(kind="name")
        self.take("*")
        return name

    def _source(self, start: int) -> str:
        return " ".join(value for _, value in self.tokens[start : self.at])

    def assign(self) -> Assign:
        var = self.take(kind="name")
        self.take("=")
        value = int(self.take(kind="num"))
        self.take(";")
        return Assign(var, value)

    def cond(self) -> Expr:
        items = [self.conj()]
        while self.accept("OR"):
            items.append(self.conj())
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def conj(self) -> Expr:
        items = [self.atom()]
        while self.accept("AND"):
            items.append(self.atom())
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def atom(self) -> Expr:
        if self.accept("("):
            inner = self.cond()
            self.take(")")
            return inner
        var = self.take(kind="name")
        op = self.take(kind="op")
        if op not in OPS:
            raise SasSyntaxError(f"unsupported operator {op!r} in {self.text!r}")
        return Compare(var, op, int(self.take(kind="num")))
