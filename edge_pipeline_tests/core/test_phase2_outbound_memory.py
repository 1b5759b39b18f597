"""RARSD streams: writing and reading it takes memory independent of the number of enrollees."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

import duckdb
import psutil
from phase2_outbound_support import build_scaled

from edge_pipeline.edge.outbound.ra.write import write_phase2_reports
from edge_pipeline.edge.outbound.read import OutboundReportReader


def _write(tmp_path: Path, enrollees: int, trace: bool = True) -> tuple[Path, int]:
    """Write the RARSD of ``enrollees`` enrollees; returns it and the Python heap peak."""
    con = duckdb.connect(str(tmp_path / f"wh{enrollees}.duckdb"))
    build_scaled(con, enrollees)
    if trace:
        tracemalloc.start()
    try:
        (path,) = write_phase2_reports(
            con,
            tmp_path / f"out{enrollees}",
            2025,
            "12345",
            "T",
            dt.datetime(2026, 5, 1),
            reports=["RARSD"],
            fetch_rows=200,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        con.close()
    return path, peak


def test_rarsd_writer_memory_does_not_grow_with_enrollees(tmp_path: Path) -> None:
    small, small_peak = _write(tmp_path, 500)
    large, large_peak = _write(tmp_path, 4_000)
    assert large.stat().st_size > 7 * small.stat().st_size
    assert large_peak < small_peak + 2 * 2**20, (small_peak, large_peak)


def test_rarsd_reader_releases_each_enrollee(tmp_path: Path) -> None:
    """Without releasing processed entries the tree of this report costs tens of MB."""
    path, _ = _write(tmp_path, 6_000, trace=False)
    process = psutil.Process()
    base = peak = process.memory_info().rss
    scores = 0
    with open(path, "rb") as source:
        reader = OutboundReportReader(path.name, zone="T")
        for index, (table, _row) in enumerate(reader.rows(source)):
            scores += table == "reported_risk_score"
            if index % 5_000 == 0:
                peak = max(peak, process.memory_info().rss)
    assert scores == 6_000
    assert peak - base < 20 * 2**20, f"reader grew by {(peak - base) // 2**20} MB"
