"""The one reader of the project's configuration CSVs: typed columns, bounds, exact locations.

Plan registries, code lists, pool and market files, geographic cost factors, age curves and
user fees are edited by hand or exported from spreadsheets.  Each reader declares its columns
(:class:`Column`: name, parser with its bounds, required or not) and gets parsed rows back; any
bad byte or cell fails with one line naming file, line and column ("pool.csv line 4, column
plrs: not a number: '1,4'"), never a traceback or a silently wrong number.

Accepted: UTF-8 with or without the byte-order mark Excel's "CSV UTF-8" writes; column names in
any case, blanks around them ignored; blank lines.  Refused: any other encoding (the line and
column of the first bad byte are named), an empty file, a missing or repeated column, a row
with too few or too many fields, and each cell its parser refuses.  Numbers are decimals
within the column's bounds: ``1e308``, ``inf``, ``nan`` or a negative count are refused where
they are read, not deep inside a formula.  The files hold a few hundred rows at most, so each
is read whole.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from edge_pipeline.base.input_errors import UserInputError

#: A cell parser: the stripped cell text to its value; ``ValueError(reason)`` when bad.
Parser = Callable[[str], Any]


class ConfigCsvError(UserInputError):
    """A configuration CSV is wrong; the message names file, line and column."""

    def __init__(self, path: Path, line: int | None, column: str | None, reason: str) -> None:
        where = str(path)
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.column, self.reason = path, line, column, reason


@dataclass(frozen=True)
class Column:
    """One column of a CSV: its (lower-case) name, how a cell is parsed, and whether the
    header must have it (an optional column that is absent reads as ``None``)."""

    name: str
    parse: Parser
    required: bool = True


@dataclass(frozen=True)
class Row:
    """A data row: its line number, the declared columns parsed, every cell as text."""

    line: int
    values: dict[str, Any]
    cells: dict[str, str]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


# -- parsers ------------------------------------------------------------------------------------


def text(value: str) -> str:
    """A non-blank text cell."""
    if not value:
        raise ValueError("must not be blank")
    return value


def optional(parse: Parser) -> Parser:
    """``parse``, except that a blank cell is ``None``."""

    def parsed(value: str) -> Any:
        return parse(value) if value else None

    return parsed


def decimal(maximum: Decimal | int, *, positive: bool = False) -> Parser:
    """A finite decimal from 0 (or, with ``positive``, above 0) to ``maximum``."""
    top = Decimal(maximum)

    def parsed(value: str) -> Decimal:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        if number < 0 or (positive and number == 0):
            raise ValueError(f"must be {'greater than 0' if positive else '0 or more'}: {value!r}")
        if number > top:
            raise ValueError(f"must be at most {top:,}: {value!r}")
        return number

    return parsed


def whole(minimum: int, maximum: int, what: str = "a whole number") -> Parser:
    """An integer written with digits only, from ``minimum`` to ``maximum``."""

    def parsed(value: str) -> int:
        if not (value.isascii() and value.isdigit()) or len(value) > len(str(maximum)):
            raise ValueError(f"not {what}: {value!r}")
        number = int(value)
        if not minimum <= number <= maximum:
            raise ValueError(f"{what} must be from {minimum} to {maximum}: {value!r}")
        return number

    return parsed


#: A benefit or plan year (four digits; the ACA markets began in 2014).
year = whole(2014, 2099, "a year")


# -- reading ------------------------------------------------------------------------------------


def read_config_csv(path: Path, columns: Sequence[Column]) -> tuple[list[str], list[Row]]:
    """The header (lower-cased) and the rows of ``path`` parsed by ``columns`` (see the
    module doc); :class:`ConfigCsvError` at the first problem."""
    path = Path(path)
    lines = _decoded(path, [c.name for c in columns])
    reader = csv.reader(lines)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        first = columns[0].name if columns else None
        raise ConfigCsvError(path, 1, first, "empty file: expected a header row") from None
    for column in columns:
        if column.required and column.name not in header:
            raise ConfigCsvError(path, 1, column.name, "required column missing from the header")
    repeated = sorted({n for n in header if header.count(n) > 1})
    if repeated:
        raise ConfigCsvError(path, 1, repeated[0], "column appears twice in the header")
    rows = []
    for cells in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines (a trailing one is common) carry nothing
        if len(cells) != len(header):
            raise ConfigCsvError(
                path, number, None, f"{len(cells)} fields, the header has {len(header)}"
            )
        raw = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        values: dict[str, Any] = {}
        for column in columns:
            if column.name not in raw:
                values[column.name] = None
                continue
            try:
                values[column.name] = column.parse(raw[column.name])
            except ValueError as exc:
                raise ConfigCsvError(path, number, column.name, str(exc)) from None
        rows.append(Row(number, values, raw))
    return header, rows


def _decoded(path: Path, names: list[str]) -> list[str]:
    """The file's lines as text: UTF-8, a leading byte-order mark dropped.  Other bytes fail
    naming the line and the column (from the header) of the first one."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = _column_at(data, exc.start)
        byte = data[exc.start : exc.start + 1].hex()
        raise ConfigCsvError(
            path, line, column, f"not UTF-8 text (byte 0x{byte}): save the file as CSV UTF-8"
        ) from None
    if not text.strip():
        raise ConfigCsvError(
            path, 1, names[0] if names else None, "empty file: expected a header row"
        )
    return text.splitlines()


def _column_at(data: bytes, offset: int) -> str | None:
    """The header name of the column holding byte ``offset`` (``None`` if unknown)."""
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    row = data[start : end if end >= 0 else len(data)]
    before = row[: offset - start].decode("utf-8", "replace")
    header_end = data.find(b"\n")
    header_bytes = data[: header_end if header_end >= 0 else len(data)]
    header = next(csv.reader([header_bytes.decode("utf-8-sig", "replace")]), [])
    index = len(next(csv.reader([before]), [""])) - 1 if before else 0
    names = [h.strip().lower() for h in header]
    return names[index] if 0 <= index < len(names) else f"#{index + 1}"
