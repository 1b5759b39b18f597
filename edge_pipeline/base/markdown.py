"""The one Markdown table renderer, escaping each cell once.

Dagster shows asset and check metadata as Markdown, and the cells come from the warehouse: a
plan name, an error message or a file name holding ``|`` or a newline would split a row or end
the table, and text that looks like Markdown would be rendered as such.  Every table shown in
the UI (previews, differences, failed expectations, report summaries) goes through
:func:`markdown_table`, so the escaping is decided here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Characters that would end a cell, start code or emphasis, a link or HTML, escaped with a
#: backslash (``_`` is left alone: inside a word, as in column names, it is no emphasis).
_SPECIAL = str.maketrans({c: "\\" + c for c in "\\|`*[]<>"})
#: What a table shows when it has no rows.
NO_ROWS = "_no rows_"


def readable(value: object) -> str:
    """A value as a person reads it in a table cell or a log line, never a Python ``repr``:
    ``None`` empty, a list's items joined by spaces, a mapping as ``key=value`` pairs."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(readable(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={readable(v)}" for k, v in value.items())
    return str(value)


def cell(value: object) -> str:
    """``value`` as the text of one Markdown cell: :func:`readable`, with line breaks and other
    control characters as spaces and Markdown escaped."""
    text = "".join(ch if ch.isprintable() else " " for ch in readable(value))
    return text.translate(_SPECIAL)


def markdown_table(
    columns: Sequence[str], rows: Sequence[Sequence[object]], total: int | None = None
) -> str:
    """``rows`` under ``columns`` as a Markdown table; ``total`` (the rows there are, when only
    the first ones are shown) adds a note of how many are not shown."""
    if not columns:
        return "_no columns_"
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    if total is not None and total > len(rows):
        lines.append(f"\n{total - len(rows)} more row(s) not shown.")
    if not rows:
        lines.append("\n" + NO_ROWS)
    return "\n".join(lines)
