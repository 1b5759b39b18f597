"""The self-contained HTML report: inline CSS, charts as base64 data-URI PNGs, the key tables.

Nothing is fetched when the file is opened (no script, stylesheet, font or image from the
network), so it can be mailed or attached as is.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pandas as pd

#: Rows of a table shown in the HTML (the workbook has all of them).
MAX_HTML_ROWS = 200

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem;
  color: #1b1b1b; max-width: 1300px; }
header { border-bottom: 3px solid #1f4e78; margin-bottom: 1.5rem; }
h1 { color: #1f4e78; margin-bottom: .2rem; }
h2 { color: #1f4e78; margin-top: 2rem; border-bottom: 1px solid #ccc; }
.meta { color: #555; font-size: .9rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
table { border-collapse: collapse; font-size: .8rem; margin: .5rem 0 1rem; }
th { background: #1f4e78; color: #fff; position: sticky; top: 0; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #f4f7fb; }
.note { color: #666; font-style: italic; }
nav a { margin-right: 1rem; }
"""


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return '<p class="note">No rows.</p>'
    shown = frame.head(MAX_HTML_ROWS)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    numeric = [pd.api.types.is_numeric_dtype(shown[c].dtype) for c in shown.columns]
    rows = []
    for values in shown.itertuples(index=False, name=None):
        cells = []
        for value, is_num in zip(values, numeric, strict=True):
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
            if is_num and isinstance(text, float):
                text = f"{text:,.4f}".rstrip("0").rstrip(".")
            elif is_num and text != "":
                text = f"{text:,}"
            cls = ' class="num"' if is_num else ""
            cells.append(f"<td{cls}>{html.escape(str(text))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f'<p class="note">First {MAX_HTML_ROWS} of {len(frame)} rows; all are in the workbook.</p>'
        if len(frame) > MAX_HTML_ROWS
        else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def render_html(
    charts: Mapping[str, tuple[str, bytes]],
    tables: Mapping[str, pd.DataFrame],
    warehouse_name: str,
    generated_at: datetime,
) -> str:
    """The report: ``charts`` (anchor -> (title, PNG)) then ``tables`` (title -> frame)."""
    title = "EDGE server data: analyst report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{html.escape(title)}</h1>",
        f'<p class="meta">Warehouse <strong>{html.escape(warehouse_name)}</strong> · generated '
        f"{html.escape(generated_at.strftime('%Y-%m-%d %H:%M:%S'))} · plans, files, codes and "
        "amounts only (no member data)</p></header>",
        "<nav>"
        + "".join(
            f'<a href="#{html.escape(k)}">{html.escape(t)}</a>' for k, (t, _) in charts.items()
        )
        + "</nav>",
        "<h2>Charts</h2>",
    ]
    if not charts:
        parts.append('<p class="note">The warehouse has no verified files or scores yet.</p>')
    for anchor, (chart_title, png) in charts.items():
        parts.append(
            f'<figure id="{html.escape(anchor)}"><figcaption>{html.escape(chart_title)}'
            f'</figcaption><img alt="{html.escape(chart_title)}" src="{data_uri(png)}"></figure>'
        )
    for table_title, frame in tables.items():
        parts.append(f"<h2>{html.escape(table_title)}</h2>{_table(frame)}")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(
    charts: Mapping[str, tuple[str, bytes]],
    tables: Mapping[str, pd.DataFrame],
    warehouse_name: str,
    generated_at: datetime,
    path: Path,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(charts, tables, warehouse_name, generated_at), encoding="utf-8")
    return path
