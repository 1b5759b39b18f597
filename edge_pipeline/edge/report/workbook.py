"""The analyst workbook: one sheet per key table, bold filled headers, widths, frozen header
row, number formats.  No member id: the only per-member sheet masks it (``M-`` + 8 hex).

Every text cell is written as text, never as a formula: file names, fileIdentifiers, plan ids
and error messages come from files and CSVs, and openpyxl would store a string starting with
``=`` as a live formula (``=HYPERLINK(...)`` opening a link, ``=WEBSERVICE(...)`` sending data
out).  Characters XML 1.0 cannot hold (control characters other than tab, LF and CR) are
written as U+FFFD instead of failing the whole report.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

_HEADER_FILL = "1F4E78"
_MAX_WIDTH = 60
#: Number formats by column-name pattern (first match wins).
_FORMATS = (
    (("rate", "share"), "0.00%"),
    (("transfer", "premium", "hcrp", "user_fee", "amount"), "#,##0.00"),
    (("score", "plrs", "arf", "idf", "av", "gcf", "coefficient"), "0.000"),
    (("member_months",), "#,##0.00"),
)


def _number_format(column: str, dtype: object) -> str | None:
    if not pd.api.types.is_numeric_dtype(dtype):
        return None
    for needles, fmt in _FORMATS:
        if any(n in column for n in needles):
            return fmt
    return "#,##0" if pd.api.types.is_integer_dtype(dtype) else "#,##0.###"


def _excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Excel has no time zones; strip them.  Text loses the characters a worksheet cannot
    hold (openpyxl refuses them), each replaced by U+FFFD."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_localize(None)
        elif not pd.api.types.is_numeric_dtype(out[column].dtype):
            out[column] = out[column].map(
                lambda v: ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v
            )
    return out


#: First characters that make a spreadsheet read typed-in text as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_not_formulas(sheet: Worksheet) -> None:
    """Store every cell openpyxl took for a formula (a string starting with ``=``) as the text
    it is: nothing in the report is a formula, so no value from a file can become one.  Text
    that a spreadsheet would read as a formula once typed again (``+1+1``, ``@SUM(A1)``) also
    gets the quote prefix (Excel's leading apostrophe), so an analyst editing the cell keeps
    text, not a live formula."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
            if cell.data_type == "s" and str(cell.value).startswith(_FORMULA_STARTS):
                cell.quotePrefix = True


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: Path) -> Path:
    """Write ``sheets`` (name -> table, at most 31 characters a name) to ``path``."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame = _excel_safe(frame)
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            _text_not_formulas(sheet)
            sheet.freeze_panes = "A2"
            header_font = Font(bold=True, color="FFFFFF")
            header_fill = PatternFill("solid", fgColor=_HEADER_FILL)
            for index, column in enumerate(frame.columns, start=1):
                cell = sheet.cell(row=1, column=index)
                cell.font = header_font
                cell.fill = header_fill
                cell.alignment = Alignment(vertical="center", wrap_text=False)
                values = frame[column].head(500).astype(str).tolist()
                width = max([len(str(column)), *(len(v) for v in values)]) + 2
                letter = get_column_letter(index)
                sheet.column_dimensions[letter].width = min(width, _MAX_WIDTH)
                fmt = _number_format(str(column), frame[column].dtype)
                if fmt:
                    for row in range(2, len(frame) + 2):
                        sheet.cell(row=row, column=index).number_format = fmt
            if len(frame.columns):
                sheet.auto_filter.ref = (
                    f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
                )
    return path
