"""Detail reports stream: writing and reading them takes memory independent of their size."""

from __future__ import annotations

import tracemalloc
from datetime import datetime
from pathlib import Path

import duckdb
import psutil

from edge_pipeline.edge.layouts.outbound import ESDMCE
from edge_pipeline.edge.outbound.core.writer import EdgeServerInfo
from edge_pipeline.edge.outbound.phase1.write import inbound_facts, write_detail
from edge_pipeline.edge.outbound.read import OutboundReportReader
from edge_pipeline.edge.verification.schema import ensure_shadow_schema

FID = "BIG000000001"


def _shadow(con: duckdb.DuckDBPyConnection, claims: int) -> None:
    """An ESMCS file's shadow: 1 issuer, 10 plans, ``claims`` claims of 2 lines, 1 failing."""
    ensure_shadow_schema(con)
    con.execute(
        "INSERT INTO shadow_file_status BY NAME SELECT 7 AS load_id, "
        f"'{FID}' AS file_identifier, 'M' AS submission_type, 'T' AS execution_zone, "
        "'12345' AS issuer_id, 'A' AS status"
    )
    status = (
        "INSERT INTO shadow_record_status (load_id, file_identifier, record_identifier, level, "
        "parent_record_identifier, record_key, status, failed_self, rejection_reason) "
    )
    con.execute(status + f"VALUES (7, '{FID}', 1, 'issuer', NULL, '12345', 'A', false, NULL)")
    con.execute(
        status + f"SELECT 7, '{FID}', 10 + p, 'plan', 1, 'PLAN' || p, 'A', false, NULL "
        "FROM range(10) t(p)"
    )
    con.execute(
        status + f"SELECT 7, '{FID}', 100 + i * 3, 'claim', 10 + i % 10, 'C' || i, 'R', false, "
        f"'claim_rejected' FROM range({claims}) t(i)"
    )
    con.execute(
        status + f"SELECT 7, '{FID}', 101 + i * 3 + j, 'line', 100 + i * 3, NULL, 'R', j = 1, "
        f"CASE WHEN j = 1 THEN 'own_error' ELSE 'claim_rejected' END "
        f"FROM range({claims}) t(i), range(2) u(j)"
    )
    con.execute(
        "INSERT INTO shadow_record_error (load_id, file_identifier, record_identifier, level, "
        "element, value, error_code, check_kind, message) "
        f"SELECT 7, '{FID}', 102 + i * 3, 'line', 'serviceCode', 'X' || i, 'M301', "
        f"'referential', 'unknown code' FROM range({claims}) t(i)"
    )


def _write(tmp_path: Path, claims: int) -> tuple[Path, int]:
    """Write the detail report; returns it and the Python heap peak while writing."""
    con = duckdb.connect(str(tmp_path / f"wh{claims}.duckdb"))
    _shadow(con, claims)
    facts = inbound_facts(con, FID)
    out = tmp_path / f"out{claims}"
    out.mkdir()
    tracemalloc.start()
    try:
        path = write_detail(
            con, facts, ESDMCE, out, datetime(2025, 1, 1), EdgeServerInfo(), fetch_rows=1_000
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        con.close()
    return path, peak


def test_writer_memory_does_not_grow_with_the_report(tmp_path: Path) -> None:
    small, small_peak = _write(tmp_path, 1_000)
    large, large_peak = _write(tmp_path, 8_000)
    assert large.stat().st_size > 7 * small.stat().st_size
    assert large_peak < small_peak + 2 * 2**20, (small_peak, large_peak)


def test_reader_releases_each_result(tmp_path: Path) -> None:
    """Without releasing processed results the tree of this report costs ~60 MB."""
    path, _ = _write(tmp_path, 8_000)
    process = psutil.Process()
    base = peak = process.memory_info().rss
    results = 0
    with open(path, "rb") as source:
        for index, (table, _row) in enumerate(OutboundReportReader(path.name).rows(source)):
            results += table == "reported_record_status"
            if index % 2_000 == 0:
                peak = max(peak, process.memory_info().rss)
    assert results == 1 + 10 + 8_000 * 3
    assert peak - base < 20 * 2**20, f"reader grew by {(peak - base) // 2**20} MB"
