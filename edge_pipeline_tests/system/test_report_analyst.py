"""The analyst report over a real warehouse: synthetic issuer -> `validate` -> `score` ->
RA reports loaded back (the CLI path, in-process), then charts, workbook, HTML, the monthly
data-quality summary, the `report` command and the Dagster reporting assets."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from openpyxl import load_workbook

from edge_pipeline.cli import main
from edge_pipeline.defs import resources as shared
from edge_pipeline.defs.automation import defs as automation_defs
from edge_pipeline.defs.automation.schedules import monthly_data_quality
from edge_pipeline.defs.reporting import defs as reporting_defs
from edge_pipeline.defs.reporting.assets import analyst_report, data_quality_summary
from edge_pipeline.defs.resources import warehouse_resource
from edge_pipeline.edge.ra_runs.schema import ensure_phase2_schema
from edge_pipeline.edge.report import HTML_NAME, WORKBOOK_NAME, queries, write_report
from edge_pipeline.edge.report.charts import CHARTS
from edge_pipeline.edge.report.queries import mask_member_id
from edge_pipeline.edge.report.summary import SUMMARY_TABLE, monthly_summary

PNG = b"\x89PNG\r\n\x1a\n"
SHEETS = {
    "Monthly quality",
    "Files",
    "Level counts",
    "Errors by code",
    "Cascade losses",
    "Frequency trend",
    "Claim selection",
    "Risk scores by plan",
    "Top HCCs",
    "Score differences",
    "Orphan claims",
    "Transfer estimate",
    "Reports and their recipients",
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    inbound, db = root / "in", root / "warehouse.duckdb"
    assert main(["synth", "--out", str(inbound), "--enrollees", "150", "--seed", "11",
                 "--error-rate", "0.03"]) == 0  # fmt: skip
    assert main(["validate", str(inbound), "--warehouse", str(db), "--out", str(root / "p1")]) == 0
    assert main(["score", "--warehouse", str(db), "--benefit-year", "2025",
                 "--out", str(root / "ra")]) == 0  # fmt: skip
    # EDGE's answer: the shadow's own RA reports loaded back as the reported twins
    assert main(["load-outbound", str(root / "ra"), "--warehouse", str(db)]) in (0, 2)
    ra_dirs = [p for p in (root / "ra").iterdir() if p.is_dir()]
    for folder in ra_dirs:
        assert main(["load-outbound", str(folder), "--warehouse", str(db)]) == 0
    return db


@pytest.fixture(scope="module")
def member_ids(warehouse: Path) -> set[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ids = {
            r[0] for r in con.execute("SELECT insured_member_identifier FROM enrollee").fetchall()
        }
    finally:
        con.close()
    ids.discard(None)
    assert ids
    return ids


@pytest.fixture(scope="module")
def report(warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    return write_report(warehouse, tmp_path_factory.mktemp("out"))


def _read(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_is_a_png_and_none_when_empty(warehouse: Path, name: str) -> None:
    con = _read(warehouse)
    try:
        png = CHARTS[name][1](con)
    finally:
        con.close()
    assert png is not None and png.startswith(PNG)
    assert CHARTS[name][1](duckdb.connect()) is None


def test_workbook_sheets_frozen_bold_and_no_member_ids(report, member_ids: set[str]) -> None:
    book = load_workbook(report.workbook)
    assert set(book.sheetnames) == SHEETS
    text = []
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        header = [c for c in sheet[1] if c.value is not None]
        assert header and all(c.font.bold for c in header)
        assert all(c.fill.fgColor.rgb.endswith("1F4E78") for c in header)
        for row in sheet.iter_rows(values_only=True):
            text.extend(str(v) for v in row if v is not None)
    assert book["Files"].max_row > 1 and book["Transfer estimate"].max_row > 1
    blob = "\n".join(text)
    assert not [m for m in member_ids if m in blob]


def test_html_is_self_contained_with_charts_and_no_member_ids(report, member_ids) -> None:
    page = report.html.read_text(encoding="utf-8")
    assert report.html.name == HTML_NAME and report.workbook.name == WORKBOOK_NAME
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert page.count('src="data:image/png;base64,') == len(CHARTS) == len(report.charts)
    assert "warehouse.duckdb" in page and "generated" in page
    assert not [m for m in member_ids if m in page]


def test_frequency_trend_sums_the_frequency_shadow_per_month(report, warehouse: Path) -> None:
    """The trend sheet: per month, file type, data element and value, the FDE frequencies of
    the month's files (shadow), their share of the element and its change since last month."""
    sheet = load_workbook(report.workbook)["Frequency trend"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:6] == ("month", "file_type", "element", "value", "frequency", "files")
    body = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        total = con.execute("SELECT sum(frequency) FROM shadow_data_element_frequency").fetchone()
        forms = con.execute(
            "SELECT count(*) FROM shadow_record_status s JOIN medical_claim m "
            "USING (file_identifier, record_identifier) WHERE s.level = 'claim' AND s.status = 'A'"
        ).fetchone()
    finally:
        con.close()
    assert body and sum(r["frequency"] for r in body) == total[0]
    assert {r["file_type"] for r in body} == {"ESES", "ESMCS", "ESPCS", "ESSFS"}
    form_types = [r for r in body if r["element"] == "formTypeCode"]
    assert sum(r["frequency"] for r in form_types) == forms[0]
    for month in {r["month"] for r in form_types}:
        shares = [r["share"] for r in form_types if r["month"] == month]
        assert abs(sum(shares) - 1) < 0.001
    page = report.html.read_text(encoding="utf-8")
    assert "<h2>Frequency trend</h2>" in page


def test_reports_and_their_recipients_in_workbook_and_html(report) -> None:
    """Every outbound report with its recipient class (issue 15), and how many of each EDGE
    sent that the warehouse holds (here the RA reports loaded back; Phase 1 reports were not)."""
    sheet = load_workbook(report.workbook)["Reports and their recipients"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header == ("report", "phase", "holds", "recipients", "content", "reports_loaded")
    shown = {row[0]: row[1:] for row in rows[1:]}
    assert shown["ESSEFE"] == ("Phase 1", "enrollment summary", "issuer + CMS", "aggregate", 0)
    assert shown["ESDEE"][2:4] == ("issuer only", "may carry member ids")
    assert shown["RARSD"][2:] == ("issuer only", "may carry member ids", 1)
    assert shown["RATEE"][2:] == ("issuer + CMS", "aggregate", 1)
    assert {"ESFAR", "ESSMFE", "ESSPFE", "ESSSFE", "RACSD", "RACSS", "RARSS"} <= set(shown)
    assert shown["FDEPAF"][:4] == (
        "Phase 1",
        "pharmacy claim frequency by data element",
        "issuer + CMS",
        "aggregate",
    )
    page = report.html.read_text(encoding="utf-8")
    assert "<h2>Reports and their recipients</h2>" in page
    assert "<td>ESSSFE</td>" in page and "issuer + CMS" in page


def test_orphan_claims_listed_as_the_shadow_has_them_with_masked_members(
    report, warehouse: Path
) -> None:
    """The ECD's orphan claims (issue 15) in the workbook and the page: one row per shadow row,
    the member masked (the synthetic issuer has none, so one is planted in a copy too)."""
    con = _read(warehouse)
    try:
        expected = con.execute(
            "SELECT file_identifier, record_identifier, member_id FROM shadow_ecd_orphan_claim"
        ).fetchall()
    finally:
        con.close()
    rows = list(load_workbook(report.workbook)["Orphan claims"].iter_rows(values_only=True))
    header = rows[0]
    assert "member" in header and "member_id" not in header and "orphan_reason" in header
    assert len(rows) - 1 == len(expected)
    assert "<h2>Orphan claims</h2>" in report.html.read_text(encoding="utf-8")
    planted = duckdb.connect()
    ensure_phase2_schema(planted)
    planted.execute(
        "INSERT INTO shadow_ecd_orphan_claim VALUES (2025, '12345', 'T', 'pharmacy', 'RX-1', "
        "'P0001', 7, 'MEMBER-1', '12345VA001000104', DATE '2025-02-02', DATE '2025-02-02', "
        "'not_enrolled_in_plan')"
    )
    [row] = queries.orphan_claims(planted).to_dict("records")
    assert (row["file_identifier"], row["record_identifier"], row["member"]) == (
        "P0001",
        7,
        mask_member_id("MEMBER-1"),
    )
    assert "MEMBER-1" not in repr(row) and "RX-1" not in repr(row)


def test_monthly_summary_matches_sql(warehouse: Path) -> None:
    con = _read(warehouse)
    try:
        summary = monthly_summary(con)
        expected = con.execute(
            """
            SELECT strftime(coalesce(try_cast(sf.generation_datetime AS TIMESTAMP),
                     sf.loaded_at), '%Y-%m') AS month, sf.layout AS file_type,
              count(*) AS files, count(*) FILTER (WHERE fs.status = 'A') AS accepted,
              (SELECT sum(received) FROM shadow_level_summary ls JOIN submission_file s2
                 USING (load_id) WHERE ls.level <> 'file' AND s2.layout = sf.layout) AS records
            FROM submission_file sf LEFT JOIN shadow_file_status fs USING (load_id)
            GROUP BY ALL ORDER BY ALL
            """
        ).fetchall()
        lost = con.execute(
            "SELECT count(*) FROM shadow_record_status WHERE status = 'R' "
            "AND rejection_reason <> 'own_error'"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert len(summary) == len(expected) == 4  # one month, four file types
    got = sorted(
        zip(
            summary["month"],
            summary["file_type"],
            summary["files_received"],
            summary["files_accepted"],
            summary["records_received"],
            strict=True,
        )
    )
    assert got == [tuple(row) for row in expected]
    assert (
        summary["files_received"] == summary["files_accepted"] + summary["files_rejected"]
    ).all()
    assert (
        summary["records_received"] == summary["records_accepted"] + summary["records_rejected"]
    ).all()
    assert summary["lost_to_cascade"].sum() == lost > 0
    assert summary["top_error_codes"].str.len().sum() > 0


def test_report_command_exit_codes(warehouse: Path, tmp_path: Path, capsys) -> None:
    assert (
        main(["report", "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]) == 2
    )
    assert "no such warehouse" in capsys.readouterr().err
    assert main(["report", "--warehouse", str(warehouse), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "r" / WORKBOOK_NAME) in out and str(tmp_path / "r" / HTML_NAME) in out
    # a fresh (empty) warehouse still gives a report: empty sheets, no charts
    duckdb.connect(str(tmp_path / "fresh.duckdb")).close()
    assert (
        main(
            ["report", "--warehouse", str(tmp_path / "fresh.duckdb"), "--out", str(tmp_path / "f")]
        )
        == 0
    )
    assert set(load_workbook(tmp_path / "f" / WORKBOOK_NAME).sheetnames) == SHEETS


def test_member_ids_are_masked_stably() -> None:
    assert mask_member_id("3FE7B834CFF6D695") == mask_member_id("3FE7B834CFF6D695")
    assert re.fullmatch(r"M-[0-9a-f]{8}", mask_member_id("3FE7B834CFF6D695"))
    assert mask_member_id(None) is None


def test_reporting_assets_materialize_with_chart_metadata(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, member_ids: set[str]
) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(warehouse.read_bytes())
    monkeypatch.setenv("EDGE_REPORTS", str(tmp_path / "reports"))
    upstream = [
        dg.AssetSpec("shadow_phase1"),
        dg.AssetSpec("risk_score_reconciliation"),
        dg.AssetSpec("transfer_estimate"),
    ]
    result = dg.materialize(
        [*upstream, data_quality_summary, analyst_report],
        resources={"warehouse": warehouse_resource(db)},
        selection=[data_quality_summary.key, analyst_report.key],
    )
    assert result.success
    summary_md = result.asset_materializations_for_node("data_quality_summary")[0].metadata
    report_md = result.asset_materializations_for_node("analyst_report")[0].metadata
    for metadata, count in ((summary_md, 6), (report_md, 5)):  # Phase 1 charts, Phase 2 charts
        charts = [v for k, v in metadata.items() if k.startswith("chart_")]
        assert len(charts) == count
        assert all("![" in v.value and "(data:image/png;base64," in v.value for v in charts)
        text = "\n".join(str(getattr(v, "value", v)) for v in metadata.values())
        assert not [m for m in member_ids if m in text]
    assert (tmp_path / "reports" / WORKBOOK_NAME).is_file()
    assert (tmp_path / "reports" / HTML_NAME).is_file()
    con = _read(db)
    try:
        rows = con.execute(f"SELECT sum(files_received) FROM {SUMMARY_TABLE}").fetchall()[0][0]
    finally:
        con.close()
    assert rows == summary_md["files_received"].value > 0


def test_reporting_defs_schedule_and_asset_specs() -> None:
    schedule = monthly_data_quality
    assert schedule in automation_defs.schedules
    assert schedule.cron_schedule == "0 6 1 * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    merged = dg.Definitions.merge(shared.defs, reporting_defs)
    job = merged.resolve_job_def("monthly_reporting")
    assert set(job.asset_layer.executable_asset_keys) >= {
        data_quality_summary.key,
        analyst_report.key,
    }
    for key in (data_quality_summary.key, analyst_report.key):
        asset = merged.resolve_assets_def(key)  # with the domain's group, owners and pool
        spec = next(iter(asset.specs))
        assert spec.group_name == "reconciliation"
        assert spec.owners == ["team:risk-adjustment"]
        assert spec.description and spec.kinds
        assert asset.op.pool == "duckdb_writer"
