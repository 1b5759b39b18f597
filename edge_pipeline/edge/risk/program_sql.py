"""Compile a ``ModelProgram`` into one SQL query over a wide table (one row per enrollee).

The SAS program is sequential: each statement sees the values the previous ones left.  The
compiler keeps that exactly while evaluating whole columns at once: statements are grouped
into *stages*, a stage ends before the first statement that reads a variable the stage has
already assigned, and each stage is one ``SELECT * REPLACE (...)`` over the previous one.
Within a stage, repeated assignments to one variable compose (``if c then V = 1`` → ``V OR
c``; ``if c then V = 0`` → ``V AND NOT c``), so e.g. the 23 SEVERE statements are one
expression.  0/1 variables are BOOLEAN columns; counts are integers.
"""

from __future__ import annotations

from edge_pipeline.edge.risk.program import ModelProgram
from edge_pipeline.edge.risk.sas import (
    CountSum,
    count_operands,
    expr_sql,
    statement_reads,
)


def quote(name: str) -> str:
    """A column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def program_stages(program: ModelProgram) -> list[dict[str, str]]:
    """Stages of ``var → SQL expression over the previous stage's columns``."""
    stages: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for statement in program.statements:
        if statement_reads(statement, program.columns) & current.keys():
            stages.append(current)
            current = {}
        if isinstance(statement, CountSum):
            added, minus = count_operands(statement, program.columns)
            total = " + ".join(f"{quote(v)}::INTEGER" for v in added) or "0"
            less = "".join(f" - {quote(v)}::INTEGER" for v in minus)
            current[statement.var] = f"({total}{less})"
            continue
        cond = expr_sql(statement.cond, quote, program.is_flag)
        cond = f"coalesce({cond}, FALSE)"  # a NULL scalar (unknown ENROLDURATION) is not a match
        for assign in statement.body:
            previous = current.get(assign.var, quote(assign.var))
            if assign.value == 1:
                current[assign.var] = f"({previous} OR {cond})"
            else:
                current[assign.var] = f"({previous} AND NOT {cond})"
    if current:
        stages.append(current)
    return stages


def program_sql(program: ModelProgram, source: str) -> str:
    """The query running ``program`` over ``source``, a query with a ``unit_key`` column, the
    scalars and every flag column; targets and counts start at FALSE / 0 here."""
    initial = [f"FALSE AS {quote(t)}" for t in program.targets]
    initial += [f"0 AS {quote(c)}" for c in program.counts]
    sql = f"SELECT *, {', '.join(initial)} FROM ({source})" if initial else source
    for stage in program_stages(program):
        replaced = ", ".join(f"{expr} AS {quote(var)}" for var, expr in stage.items())
        sql = f"SELECT * REPLACE ({replaced}) FROM ({sql})"
    return sql
