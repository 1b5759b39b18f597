"""The one Markdown renderer: a cell can never split its row, end the table or inject markup."""

from __future__ import annotations

import pytest

from edge_pipeline.base.markdown import cell, markdown_table, readable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("a|b", "a\\|b"),
        ("two\nlines\r\tand tab", "two lines  and tab"),
        ("<img src=x>", "\\<img src=x\\>"),
        ("*bold* `code` [link](x)", "\\*bold\\* \\`code\\` \\[link\\](x)"),
        ("file_identifier", "file_identifier"),
        (["R01", None, 3], "R01  3"),
        ({"a": 1, "b": [2, 3]}, "a=1, b=2 3"),
        ("back\\slash", "back\\\\slash"),
    ],
)
def test_cell_escapes_once(value: object, expected: str) -> None:
    assert cell(value) == expected


def test_hostile_cells_keep_one_row_per_record() -> None:
    rows = [["x|y\nz", "<b>"], ["plain", None]]
    table = markdown_table(["a", "b"], rows)
    lines = table.splitlines()
    assert lines[0] == "| a | b |"
    assert len([line for line in lines if line.startswith("| ")]) == 3  # header + 2 rows
    assert all(line.count(" | ") - line.count("\\|") <= 1 for line in lines[2:4])


def test_notes_rows_not_shown_and_empty_tables() -> None:
    assert markdown_table(["a"], [[1], [2]], total=5).endswith("3 more row(s) not shown.")
    assert markdown_table(["a"], [[1]], total=1).splitlines()[-1] == "| 1 |"
    assert markdown_table(["a"], []).endswith("_no rows_")
    assert markdown_table([], []) == "_no columns_"


def test_readable_never_shows_a_repr() -> None:
    assert readable([{"k": None}]) == "k="
    assert readable((1, 2)) == "1 2"
