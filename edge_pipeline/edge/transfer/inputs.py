"""Reading the transfer's small configuration CSVs with errors that name file, line and column.

Pool files, market files, geographic cost factors, age curves and user fees are edited by hand
or exported from actuaries' spreadsheets; a bad cell must fail with a message the person who
edits the file can act on ("pool.csv line 4, column plrs: not a number: '1,4'") rather than
with a traceback from deep inside the formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from edge_pipeline.edge.transfer.formula import normalize_metal


class TransferInputError(ValueError):
    """A transfer input file is wrong; the message names file, line and column."""

    def __init__(self, path: Path, line: int | None, column: str | None, reason: str) -> None:
        where = str(path)
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.column, self.reason = path, line, column, reason


def read_csv(
    path: Path, required: Sequence[str]
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header (as written) and ``(line number, row)`` pairs of a CSV with ``required``
    columns; column names are matched after stripping blanks and lower-casing.

    The whole file is read at once: these files hold a few hundred rows at most.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TransferInputError(path, None, None, f"not UTF-8 text ({exc.reason})") from exc
    reader = csv.reader(text.splitlines())
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise TransferInputError(path, 1, None, "empty file: expected a header row") from None
    for name in required:
        if name not in header:
            raise TransferInputError(path, 1, name, "required column missing from the header")
    duplicated = sorted({n for n in header if header.count(n) > 1})
    if duplicated:
        raise TransferInputError(path, 1, duplicated[0], "column appears twice in the header")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (a trailing one is common) carry nothing
            if len(cells) != len(header):
                raise TransferInputError(
                    path, number, None, f"{len(cells)} fields, the header has {len(header)}"
                )
            yield number, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}

    return header, rows()


def decimal_cell(
    path: Path, line: int, row: dict[str, str], column: str, *, positive: bool = False
) -> Decimal:
    """A non-negative (or, with ``positive``, strictly positive) decimal cell."""
    value = row[column]
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise TransferInputError(path, line, column, f"not a number: {value!r}") from None
    if not number.is_finite():
        raise TransferInputError(path, line, column, f"not a finite number: {value!r}")
    if number < 0 or (positive and number == 0):
        bound = "greater than 0" if positive else "0 or more"
        raise TransferInputError(path, line, column, f"must be {bound}: {value!r}")
    return number


def text_cell(path: Path, line: int, row: dict[str, str], column: str) -> str:
    """A non-blank text cell."""
    value = row[column]
    if not value:
        raise TransferInputError(path, line, column, "must not be blank")
    return value


def metal_cell(path: Path, line: int, row: dict[str, str], column: str = "metal") -> str:
    """A metal level given as word or P/G/S/B/C letter, as the normalised word."""
    try:
        return normalize_metal(row[column])
    except ValueError as exc:
        raise TransferInputError(path, line, column, str(exc)) from None


def rating_area_code(value: str) -> str:
    """Rating areas as ESES carries them: ``"1"`` and ``"001"`` both mean area ``001``."""
    text = value.strip()
    return text.zfill(3) if text.isdigit() else text
