"""Formula injection: text from files, file names and CSVs reaches the analyst workbook as
text, never as a formula, and the HTML report escapes it.

Values starting with ``=``, ``+``, ``-``, ``@``, tab or CR are what a spreadsheet may take for a
formula; the workbook must hold each as a plain string (no ``<f>`` element in the sheet XML),
character for character.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from edge_pipeline.cli import main
from edge_pipeline.edge.report import WORKBOOK_NAME, write_report
from edge_pipeline.edge.report.html import render_html
from edge_pipeline.edge.report.workbook import write_workbook

#: (fileIdentifier, file name) pairs a hostile sender could choose.
HOSTILE_FILES = [
    ('=HYPERLINK("http://evil.example/?x=1","click")', "@SUM(A1).xml"),
    ("+1+1", "=1+2.xml"),
    ("-2+3", "-cmd.xml"),
    ("@SUM(1)", "\tTAB.xml"),
    ("=WEBSERVICE(1)", "\rCR.xml"),
]
HOSTILE_TEXT = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "@SUM(A1)",
    "-cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=",
]


def _formulas(workbook: Path) -> list[str]:
    """The ``<f>`` (formula) elements of every sheet of ``workbook``."""
    with zipfile.ZipFile(workbook) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        return [f for n in sheets for f in re.findall(r"<f[ >].*?</f>|<f/>", z.read(n).decode())]


def _column(workbook: Path, sheet: str, header: str) -> list[tuple[object, str]]:
    """(value, openpyxl data type) of the cells under ``header`` in ``sheet``."""
    ws = load_workbook(workbook)[sheet]
    names = [c.value for c in ws[1]]
    index = names.index(header) + 1
    [cells] = ws.iter_cols(min_col=index, max_col=index, min_row=2)
    return [(c.value, c.data_type) for c in cells]


@pytest.fixture(scope="module")
def hostile_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse that ingested, through the CLI, files whose fileIdentifier and name are
    formula-like."""
    root = tmp_path_factory.mktemp("inject")
    synth = root / "synth"
    assert main(["synth", "--out", str(synth), "--enrollees", "5", "--seed", "3"]) == 0
    template = next(synth.glob("*.S.*.xml")).read_text(encoding="utf-8")
    original = re.search(r"<fileIdentifier>(.*?)</fileIdentifier>", template)
    assert original
    inbox = root / "inbox"
    inbox.mkdir()
    for identifier, name in HOSTILE_FILES:
        text = template.replace(original.group(0), f"<fileIdentifier>{identifier}</fileIdentifier>")
        (inbox / name).write_text(text, encoding="utf-8")
    warehouse = root / "w.duckdb"
    assert main(["ingest", str(inbox), "--warehouse", str(warehouse)]) == 0
    return warehouse


def test_file_identifiers_and_names_are_text_in_the_workbook(
    hostile_warehouse: Path, tmp_path: Path
) -> None:
    paths = write_report(hostile_warehouse, tmp_path)
    assert _formulas(paths.workbook) == []
    identifiers = _column(paths.workbook, "Files", "file_identifier")
    names = _column(paths.workbook, "Files", "file_name")
    assert sorted(v for v, _ in identifiers) == sorted(i for i, _ in HOSTILE_FILES)
    assert sorted(v for v, _ in names) == sorted(n for _, n in HOSTILE_FILES)
    assert {t for _, t in identifiers + names} == {"s"}


def test_the_html_report_shows_them_escaped(hostile_warehouse: Path, tmp_path: Path) -> None:
    page = write_report(hostile_warehouse, tmp_path).html.read_text(encoding="utf-8")
    assert "&quot;http://evil.example/?x=1&quot;" in page
    assert '"http://evil.example' not in page


def test_every_hostile_text_is_stored_exactly_as_text(tmp_path: Path) -> None:
    """Plan ids, error messages, any text column of any sheet: every value is a string cell."""
    frame = pd.DataFrame(
        {
            "plan_id": HOSTILE_TEXT,
            "error": [f"{v} in element x" if i % 2 else v for i, v in enumerate(HOSTILE_TEXT)],
            "records": range(len(HOSTILE_TEXT)),
        }
    )
    path = write_workbook(
        {"Risk scores by plan": frame, "Errors": frame[["error"]]}, tmp_path / WORKBOOK_NAME
    )
    assert _formulas(path) == []
    for sheet, column in (("Risk scores by plan", "plan_id"), ("Errors", "error")):
        cells = _column(path, sheet, column)
        assert [v for v, _ in cells] == frame[column].tolist()
        assert {t for _, t in cells} == {"s"}
    # typed in again by an analyst, each stays text: Excel's quote prefix is set on every one
    ws = load_workbook(path)["Risk scores by plan"]
    assert all(c.quotePrefix for c in ws["A"][1:])
    assert not any(c.quotePrefix for c in ws["C"][1:])  # numbers are numbers
    assert [v for v, _ in _column(path, "Risk scores by plan", "records")] == list(
        range(len(HOSTILE_TEXT))
    )


def test_characters_a_worksheet_cannot_hold_do_not_fail_the_report(tmp_path: Path) -> None:
    frame = pd.DataFrame({"error": ["bad \x01 byte", "\x0b=1+1", "fine"]})
    path = write_workbook({"Errors": frame}, tmp_path / WORKBOOK_NAME)
    assert _formulas(path) == []
    assert [v for v, _ in _column(path, "Errors", "error")] == [
        "bad \ufffd byte",
        "\ufffd=1+1",
        "fine",
    ]


def test_html_escapes_markup_in_table_cells() -> None:
    frame = pd.DataFrame({"file_name": ['<script>alert("x")</script>.xml', "=1+1"]})
    page = render_html({}, {"Files": frame}, "<b>w</b>.duckdb", datetime(2025, 1, 1))
    assert "<script>" not in page and "<b>w</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;.xml" in page
