"""The outbound round trip on the real verification engine's output.

A generated issuer (with injected defects) is loaded and verified by
:mod:`edge_pipeline.edge.verification`; the reports written from its ``shadow_*`` rows must
validate and read back into ``reported_*`` equal to them, rejection reasons included (the
reader derives them with the engine's precedence).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import duckdb
import pytest
from lxml import etree
from outbound_support import rows

from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_ROOT
from edge_pipeline.edge.outbound import SHADOW_TABLES, load_outbound_file, write_phase1_reports
from edge_pipeline.edge.outbound.core.xsd import load_schema
from edge_pipeline.edge.synth import generate_issuer
from edge_pipeline.edge.verification import load_reference_tables, verify_all
from edge_pipeline.edge.warehouse.load import load_paths

BASE = datetime(2026, 4, 1, 12, 0, 0)
#: Not stated by the reports (error_count), or the report's own time (verified_at).
NOT_COMPARED = {"error_count", "verified_at"}


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    out = tmp_path_factory.mktemp("issuer")
    manifest = generate_issuer(out, 150, seed=7, error_rate=0.3)
    warehouse = out / "warehouse.duckdb"
    loads = load_paths([out], warehouse)
    assert all(r.status == "loaded" for r in loads), [r.error for r in loads]
    con = duckdb.connect(str(warehouse))
    load_reference_tables(con, out / manifest.plan_registry, [out])
    verify_all(con)
    outbox = out / "outbox"
    attempts = con.execute(
        "SELECT load_id, file_identifier FROM shadow_file_status ORDER BY load_id"
    ).fetchall()
    assert attempts
    for load_id, fid in attempts:
        generated = BASE + timedelta(seconds=load_id)
        for path in write_phase1_reports(con, fid, outbox, generated, load_id=load_id):
            document = etree.parse(str(path))
            layout = OUTBOUND_BY_ROOT[etree.QName(document.getroot()).localname]
            assert load_schema(layout).validate(document), path.name
            result = load_outbound_file(con, path)
            assert result.status == "loaded", result.error
    yield con
    con.close()


@pytest.mark.parametrize("table", list(SHADOW_TABLES))
def test_reported_equals_engine_shadow(verified: duckdb.DuckDBPyConnection, table: str) -> None:
    columns = [c for c in SHADOW_TABLES[table] if c not in NOT_COMPARED]
    shadow = rows(verified, table, columns)
    assert shadow
    assert rows(verified, table.replace("shadow_", "reported_"), columns) == shadow


def test_rejections_and_errors_were_exercised(verified: duckdb.DuckDBPyConnection) -> None:
    reasons = {
        reason
        for (reason,) in verified.execute(
            "SELECT DISTINCT rejection_reason FROM reported_record_status"
        ).fetchall()
    }
    assert {"own_error", None} <= reasons and len(reasons) > 3, reasons
    (mismatched,) = verified.execute(
        """
        SELECT count(*) FROM shadow_file_status s
        LEFT JOIN (SELECT load_id, sum(frequency) AS n FROM reported_error_frequency
                   GROUP BY load_id) f USING (load_id)
        WHERE coalesce(f.n, 0) <> s.error_count
        """
    ).fetchone()
    assert mismatched == 0
