"""RATEE, the fifth RA report: transfer elements per plan x rating area x market risk pool.

Hand-built ``shadow_ratee`` rows of one run (several states, pools, plans and rating areas,
decimals at full scale, NULLs and an empty string) are written, validated against the shipped
XSD, loaded, and must come back in ``reported_ratee`` exactly.  RATEE is a snapshot like the
other RA reports (re-delivery unchanged, newer replaces, older refused, a broken one loads
nothing), is written by default only for a run with transfer elements, and is routed by the
outbox as an RA report.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest
from lxml import etree
from phase2_outbound_support import OTHER_RUNS, RATEE, RUN, build_shadow, insert

from edge_pipeline.defs.report_files import RISK_ADJUSTMENT_ROLE, OutboxResource
from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_NAME, OUTBOUND_BY_ROOT, RA_LAYOUTS
from edge_pipeline.edge.layouts.outbound import RATEE as RATEE_LAYOUT
from edge_pipeline.edge.layouts.outbound.model import Leaf
from edge_pipeline.edge.layouts.outbound.ratee import TRANSFER_ELEMENT
from edge_pipeline.edge.outbound import RA_REPORTED_TABLES, load_outbound_file, write_phase2_reports
from edge_pipeline.edge.outbound.core.tables import ddl_columns
from edge_pipeline.edge.outbound.core.xsd import load_schema, render_xsd, shipped_xsd
from edge_pipeline.edge.ra_runs.schema import (
    RATEE_EXACT_COLUMNS,
    SHADOW_PHASE2_DDL,
    ensure_phase2_schema,
)

FIRST = dt.datetime(2026, 5, 1, 12, 0, 0)
LATER = dt.datetime(2026, 5, 2, 8, 0, 0)
WHERE = "benefit_year = 2025 AND issuer_id = '12345' AND execution_zone = 'T'"
#: Every shadow_ratee column (run columns included): what must round-trip.
COLUMNS = list(ddl_columns(SHADOW_PHASE2_DDL["shadow_ratee"]))


@pytest.fixture(scope="module")
def shadow() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    build_shadow(con)
    return con


@pytest.fixture(scope="module")
def ratee(tmp_path_factory: pytest.TempPathFactory, shadow) -> Path:
    (path,) = write_phase2_reports(
        shadow, tmp_path_factory.mktemp("te"), *RUN, FIRST, reports=["RATEE"]
    )
    return path


@pytest.fixture
def outbox(tmp_path: Path, ratee: Path) -> Path:
    out = tmp_path / "outbox"
    out.mkdir()
    return Path(shutil.copy(ratee, out / ratee.name))


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Order-insensitive and exact (repr keeps Decimal scale and NULL vs '')."""
    found = con.execute(f"SELECT {', '.join(COLUMNS)} FROM {table} WHERE {WHERE}").fetchall()
    return sorted(map(repr, found))


def _all_reported(con: duckdb.DuckDBPyConnection) -> int:
    return sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RA_REPORTED_TABLES)


# -- layout -----------------------------------------------------------------------------------


def test_layout_is_an_ra_report_carrying_every_shadow_column() -> None:
    assert RATEE_LAYOUT in RA_LAYOUTS
    assert OUTBOUND_BY_NAME["RATEE"] is RATEE_LAYOUT
    assert OUTBOUND_BY_ROOT["raTransferElementDetail"] is RATEE_LAYOUT
    assert (RATEE_LAYOUT.file_code, RATEE_LAYOUT.tables) == ("TE", ("reported_ratee",))
    leaves = [c for c in TRANSFER_ELEMENT.children if isinstance(c, Leaf)]
    assert all(leaf.assumed for leaf in leaves)
    # every shadow column but the run's and the unrounded values only the formula uses
    not_shown = {"benefit_year", "issuer_id", "execution_zone", *RATEE_EXACT_COLUMNS}
    assert [leaf.column for leaf in leaves] == [c for c in COLUMNS if c not in not_shown]
    assert set(COLUMNS) | {"outbound_file_identifier", "report_type"} == set(
        RA_REPORTED_TABLES["reported_ratee"]
    )
    # the file codes of all outbound reports stay distinct
    codes = [layout.file_code for layout in RA_LAYOUTS]
    assert len(set(codes)) == len(codes)


def test_shipped_xsd_is_the_rendered_one() -> None:
    assert shipped_xsd(RATEE_LAYOUT) == render_xsd(RATEE_LAYOUT)
    assert "(assumed)" in shipped_xsd(RATEE_LAYOUT)


# -- writing and the round trip ---------------------------------------------------------------


def test_written_valid_and_loaded_back_exactly(ratee: Path) -> None:
    assert ratee.name == "12345.TE.D05012026T120000.T.xml"
    document = etree.parse(str(ratee))
    assert OUTBOUND_BY_ROOT[etree.QName(document.getroot()).localname] is RATEE_LAYOUT
    schema = load_schema(RATEE_LAYOUT)
    assert schema.validate(document), schema.error_log
    header = {etree.QName(e).localname: e.text for e in document.getroot()[0]}
    assert header["outboundFileTypeCode"] == "RATEE"
    assert header["outboundFileIdentifier"] == "RA12345T2025TE202520260501120000"
    assert (header["benefitYear"], header["executionZoneCode"]) == ("2025", "T")
    text = ratee.read_text(encoding="utf-8")
    # decimals as the column holds them, NULL absent, '' empty, XML escaped
    for fragment in (
        "<memberMonths>9999999999.9999</memberMonths>",
        "<planLiabilityRiskScore>0.000</planLiabilityRiskScore>",
        "<geographicCostFactor>1.0000</geographicCostFactor>",
        "<premiumPmpmAmount>999999999999.99</premiumPmpmAmount>",
        "<ratingAreaIdentifier>4 &amp; &lt;5&gt;</ratingAreaIdentifier>",
        "<metalLevelCode/>",
    ):
        assert fragment in text, fragment
    assert text.count("<includedTransferElement>") == len(RATEE)

    con = duckdb.connect()  # shadow and reported side by side, as in production
    build_shadow(con)
    result = load_outbound_file(con, ratee)
    assert (result.status, result.report_type) == ("loaded", "RATEE")
    assert result.rows == {"reported_ratee": len(RATEE), "reported_ra_report": 1}
    assert _rows(con, "reported_ratee") == _rows(con, "shadow_ratee")
    assert len(_rows(con, "reported_ratee")) == len(RATEE)
    assert con.execute(
        "SELECT DISTINCT report_type, outbound_file_identifier FROM reported_ratee"
    ).fetchall() == [("RATEE", result.outbound_file_identifier)]
    assert con.execute(
        "SELECT report_type, inbound_file_identifier, generated_at FROM reported_ra_report"
    ).fetchall() == [("RATEE", "RA12345T2025", FIRST)]


def test_entries_in_state_pool_plan_rating_area_order(ratee: Path) -> None:
    root = etree.parse(str(ratee)).getroot()
    keys = [
        tuple(entry.findtext(f"{{{root.nsmap[None]}}}{name}") for name in ("stateCode",
              "riskPoolCode", "standardComponentIdentifier", "ratingAreaIdentifier"))
        for entry in root[1:]
    ]  # fmt: skip
    assert keys == sorted(keys, key=lambda k: tuple((v is not None, v or "") for v in k))
    assert keys[0][:2] == ("MD", "individual")


def test_rewrite_is_byte_identical(shadow, ratee: Path, tmp_path: Path) -> None:
    (again,) = write_phase2_reports(shadow, tmp_path, *RUN, FIRST, reports=["RATEE"])
    assert again.read_bytes() == ratee.read_bytes()


def test_default_includes_ratee_only_for_a_run_with_transfer_elements(tmp_path: Path) -> None:
    con = duckdb.connect()
    build_shadow(con)
    # no transfer estimate either, nor ECD/ECS (a run selected before they were computed)
    for table in ("shadow_rauf", "shadow_hcrp_summary", "shadow_ecs"):
        con.execute(f"DELETE FROM {table} WHERE {WHERE}")
    codes = [p.name.split(".")[1] for p in write_phase2_reports(con, tmp_path / "a", *RUN, FIRST)]
    assert codes == ["CD", "CS", "RD", "RS", "TE"]
    con.execute(f"DELETE FROM shadow_ratee WHERE {WHERE}")
    codes = [p.name.split(".")[1] for p in write_phase2_reports(con, tmp_path / "b", *RUN, FIRST)]
    assert codes == ["CD", "CS", "RD", "RS"]
    # asked for, it is written empty (and valid)
    (empty,) = write_phase2_reports(con, tmp_path / "c", *RUN, FIRST, reports=["RATEE"])
    assert load_schema(RATEE_LAYOUT).validate(etree.parse(str(empty)))
    assert "<includedTransferElement>" not in empty.read_text(encoding="utf-8")
    # a warehouse without the table at all (created before RATEE existed)
    con.execute("DROP TABLE shadow_ratee")
    codes = [p.name.split(".")[1] for p in write_phase2_reports(con, tmp_path / "d", *RUN, FIRST)]
    assert codes == ["CD", "CS", "RD", "RS"]


def test_writer_refuses_a_row_without_its_key(tmp_path: Path) -> None:
    con = duckdb.connect()
    ensure_phase2_schema(con)
    insert(con, "shadow_ratee", RUN, [RATEE[0], (None, *RATEE[1][1:])])
    with pytest.raises(ValueError, match="stateCode is required but state is NULL"):
        write_phase2_reports(con, tmp_path, *RUN, FIRST)
    assert not list(tmp_path.glob("*.TE.*")) and not list(tmp_path.glob(".*.part"))


# -- snapshots --------------------------------------------------------------------------------


def test_redelivery_is_unchanged(tmp_path: Path, outbox: Path) -> None:
    con = duckdb.connect()
    assert load_outbound_file(con, outbox).status == "loaded"
    before = _rows(con, "reported_ratee")
    renamed = Path(shutil.copy(outbox, tmp_path / "again.xml"))
    assert [load_outbound_file(con, p).status for p in (outbox, renamed)] == ["unchanged"] * 2
    assert _rows(con, "reported_ratee") == before
    assert con.execute("SELECT count(*) FROM outbound_file").fetchone()[0] == 1


def _rewritten(shadow: duckdb.DuckDBPyConnection, out: Path, at: dt.datetime) -> tuple[Path, list]:
    """The run's transfer elements recomputed (one row gone, one changed), reported at ``at``;
    returns the report and the new shadow rows (the shadow itself is left as it was)."""
    con = shadow.cursor()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM shadow_ratee WHERE {WHERE} AND risk_pool = 'catastrophic'")
        con.execute(
            f"UPDATE shadow_ratee SET plrs = 1.403, premium_pmpm = 600.01 "
            f"WHERE {WHERE} AND plan_id = ? AND rating_area = '1'",
            [RATEE[0][2]],
        )
        (path,) = write_phase2_reports(con, out, *RUN, at, reports=["RATEE"])
        return path, _rows(con, "shadow_ratee")
    finally:
        con.execute("ROLLBACK")


def test_newer_report_replaces_the_run_only(tmp_path: Path, shadow, outbox: Path) -> None:
    con = duckdb.connect()
    others = write_phase2_reports(shadow, tmp_path / "other", *OTHER_RUNS[0], FIRST)
    rarss = write_phase2_reports(shadow, tmp_path / "rs", *RUN, FIRST, reports=["RARSS"])
    for path in [outbox, *others, *rarss]:
        assert load_outbound_file(con, path).status == "loaded", path.name
    other_rows = con.execute(
        "SELECT * FROM reported_ratee WHERE benefit_year = 2024 ORDER BY ALL"
    ).fetchall()
    assert other_rows, "the other run has a RATEE of its own"
    summary = con.execute("SELECT * FROM reported_rarss ORDER BY ALL").fetchall()

    newer, expected = _rewritten(shadow, tmp_path / "later", LATER)
    result = load_outbound_file(con, newer)
    assert result.status == "loaded"
    assert _rows(con, "reported_ratee") == expected != _rows(shadow, "shadow_ratee")
    assert con.execute(
        f"SELECT DISTINCT outbound_file_identifier FROM reported_ratee WHERE {WHERE}"
    ).fetchall() == [(result.outbound_file_identifier,)]
    assert (
        con.execute(
            "SELECT * FROM reported_ratee WHERE benefit_year = 2024 ORDER BY ALL"
        ).fetchall()
        == other_rows
    )
    assert con.execute("SELECT * FROM reported_rarss ORDER BY ALL").fetchall() == summary
    statuses = con.execute(
        "SELECT outbound_file_identifier, status, error FROM outbound_file "
        "WHERE report_type = 'RATEE' AND outbound_file_identifier LIKE 'RA12345T2025%' "
        "ORDER BY outbound_load_id"
    ).fetchall()
    assert [s[1] for s in statuses] == ["replaced", "loaded"]
    assert result.outbound_file_identifier in statuses[0][2]
    assert con.execute(
        f"SELECT outbound_file_identifier FROM reported_ra_report "
        f"WHERE {WHERE} AND report_type = 'RATEE'"
    ).fetchall() == [(result.outbound_file_identifier,)]
    # the replaced report still in the outbox is a re-delivery, not a conflict
    assert load_outbound_file(con, outbox).status == "unchanged"


def test_older_report_after_a_newer_one_is_refused(tmp_path: Path, shadow, outbox: Path) -> None:
    con = duckdb.connect()
    newer, expected = _rewritten(shadow, tmp_path / "later", LATER)
    assert load_outbound_file(con, newer).status == "loaded"
    result = load_outbound_file(con, outbox)
    assert result.status == "refused"
    assert "a newer RATEE of BY2025 issuer 12345 zone T is already loaded" in result.error
    assert _rows(con, "reported_ratee") == expected


# -- refusals ---------------------------------------------------------------------------------

#: old text, new text, element named, reason, whether the XSD refuses it too
CORRUPTIONS = {
    "bad_decimal": (
        "<planLiabilityRiskScore>1.402<",
        "<planLiabilityRiskScore>1,402<",
        "planLiabilityRiskScore",
        "must be a plain decimal",
        True,
    ),
    "exponent": (
        "<actuarialValue>0.800<",
        "<actuarialValue>8E-1<",
        "actuarialValue",
        "must be a plain decimal",
        True,
    ),
    "too_many_places": (
        "<geographicCostFactor>1.0523<",
        "<geographicCostFactor>1.05231<",
        "geographicCostFactor",
        "does not fit DECIMAL(8,4)",
        False,
    ),
    "too_large": (
        "<premiumPmpmAmount>999999999999.99<",
        "<premiumPmpmAmount>9999999999999.99<",
        "premiumPmpmAmount",
        "does not fit DECIMAL(14,2)",
        False,
    ),
    "non_integer_count": (
        "<enrolleeCount>3<",
        "<enrolleeCount>three<",
        "enrolleeCount",
        "must be an unsigned integer",
        True,
    ),
    "unknown_element": (
        "<actuarialValue>",
        "<riskTransferAmount>1.00</riskTransferAmount><actuarialValue>",
        "riskTransferAmount",
        "not expected here",
        True,
    ),
    "missing_required": (
        "<stateCode>VA</stateCode>",
        "",
        "stateCode",
        "is missing",
        True,
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupted_report_is_refused_and_loads_nothing(outbox: Path, case: str) -> None:
    old, new, element, reason, schema_refuses = CORRUPTIONS[case]
    text = outbox.read_text(encoding="utf-8")
    assert old in text, old
    outbox.write_text(text.replace(old, new, 1), encoding="utf-8")
    con = duckdb.connect()
    result = load_outbound_file(con, outbox, batch_rows=1)
    assert result.status == "failed"
    assert reason in result.error and f"element {element}" in result.error, result.error
    assert _all_reported(con) == 0 and result.rows == {}
    (status, error, line, named), *rest = con.execute(
        "SELECT status, error, error_line, error_element FROM outbound_file"
    ).fetchall()
    assert not rest and status == "failed" and error == result.error
    assert line > 1 and named == element
    assert load_schema(RATEE_LAYOUT).validate(etree.parse(str(outbox))) is not schema_refuses


def test_doctype_is_refused(tmp_path: Path, ratee: Path) -> None:
    text = ratee.read_text(encoding="utf-8")
    declaration, body = text.split("\n", 1)
    path = tmp_path / ratee.name
    path.write_text(
        f'{declaration}\n<!DOCTYPE x [<!ENTITY e "boom">]>\n'
        + body.replace("<stateCode>VA<", "<stateCode>&e;<", 1),
        encoding="utf-8",
    )
    con = duckdb.connect()
    result = load_outbound_file(con, path)
    assert result.status == "failed"
    assert "DOCTYPE" in result.error and "boom" not in result.error, result.error
    assert _all_reported(con) == 0
    assert con.execute("SELECT status, error FROM outbound_file").fetchall() == [
        ("failed", result.error)
    ]


def test_failed_newer_report_keeps_the_loaded_snapshot(tmp_path: Path, shadow, outbox) -> None:
    con = duckdb.connect()
    assert load_outbound_file(con, outbox).status == "loaded"
    before = _rows(con, "reported_ratee")
    newer, _ = _rewritten(shadow, tmp_path / "later", LATER)
    text = newer.read_text(encoding="utf-8")
    broken = text.replace("<inducedDemandFactor>1.080<", "<inducedDemandFactor>1.08.0<", 1)
    assert broken != text
    newer.write_text(broken, encoding="utf-8")
    result = load_outbound_file(con, newer, batch_rows=1)
    assert result.status == "failed" and "inducedDemandFactor" in result.error
    assert _rows(con, "reported_ratee") == before
    assert con.execute("SELECT status FROM outbound_file ORDER BY outbound_load_id").fetchall() == [
        ("loaded",),
        ("failed",),
    ]


# -- outbox routing ---------------------------------------------------------------------------


def test_outbox_routes_ratee_as_an_ra_report(outbox: Path) -> None:
    resource = OutboxResource(path=str(outbox.parent), settle_seconds=0)
    report = resource.report(outbox)
    assert report is not None
    assert (report.report_type, report.role, report.benefit_year) == (
        "RATEE",
        RISK_ADJUSTMENT_ROLE,
        2025,
    )
    assert report.is_risk_adjustment
    assert resource.reports_for(report.inbound_file_identifier)[0] == []


def test_ratee_values_are_exact_decimals(shadow) -> None:
    """The fixture's extreme values are what the column holds (no rounding on insert)."""
    row = shadow.execute(
        f"SELECT member_months, plrs, gcf, premium_pmpm FROM shadow_ratee "
        f"WHERE {WHERE} AND state = 'MD' AND metal = 'P'"
    ).fetchone()
    assert row == (
        D("9999999999.9999"),
        D("999999999.999"),
        D("9999.9999"),
        D("999999999999.99"),
    )
