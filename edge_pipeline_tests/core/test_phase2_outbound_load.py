"""Loading RA reports: snapshots per run, idempotent re-delivery, refusals and failures.

An RA report replaces its run's earlier report of the same type (and nothing else); an older
one arriving late is refused; an identical one changes nothing.  A report that cannot be read
leaves no row in any reported table (and an earlier snapshot intact) and a ``failed`` row in
``outbound_file`` naming file, line and element.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from lxml import etree
from phase2_outbound_support import OTHER_RUNS, PLAN_A, RUN, build_shadow

from edge_pipeline.cli import main as cli_main
from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_ROOT, RARSD
from edge_pipeline.edge.outbound import (
    RA_REPORTED_TABLES,
    load_outbound_file,
    load_outbound_paths,
    write_phase2_reports,
)
from edge_pipeline.edge.outbound.core.xsd import load_schema

FIRST = dt.datetime(2026, 5, 1, 12, 0, 0)
LATER = dt.datetime(2026, 5, 2, 8, 0, 0)


@pytest.fixture(scope="module")
def shadow() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    build_shadow(con)
    return con


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, shadow) -> list[Path]:
    return write_phase2_reports(shadow, tmp_path_factory.mktemp("first"), *RUN, FIRST)


@pytest.fixture
def outbox(tmp_path: Path, written: list[Path]) -> list[Path]:
    out = tmp_path / "outbox"
    out.mkdir()
    return [Path(shutil.copy(path, out / path.name)) for path in written]


def _digest(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    return {
        table: sorted(map(repr, con.execute(f"SELECT * FROM {table}").fetchall()))
        for table in RA_REPORTED_TABLES
    }


def _rows(con: duckdb.DuckDBPyConnection) -> int:
    return sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RA_REPORTED_TABLES)


def test_directory_and_cli_load(tmp_path: Path, outbox: list[Path]) -> None:
    warehouse = tmp_path / "wh.duckdb"
    results = load_outbound_paths([outbox[0].parent], warehouse)
    assert [(r.status, r.report_type) for r in results] == [  # in file name order
        ("loaded", "RACSD"),
        ("loaded", "RACSS"),
        ("loaded", "ECS"),
        ("loaded", "ECD"),
        ("loaded", "HCRPDE"),
        ("loaded", "HCRPSR"),
        ("loaded", "RARSD"),
        ("loaded", "RARSS"),
        ("loaded", "RATEE"),
        ("loaded", "RAUF"),
    ]
    con = duckdb.connect(str(warehouse))
    registry = con.execute(
        "SELECT report_type, file_type_code, inbound_file_identifier, issuer_id, "
        "execution_zone, generated_at, status FROM outbound_file ORDER BY 1"
    ).fetchall()
    assert registry == [
        (kind, kind, "RA12345T2025", "12345", "T", FIRST, "loaded")
        for kind in (
            "ECD",
            "ECS",
            "HCRPDE",
            "HCRPSR",
            "RACSD",
            "RACSS",
            "RARSD",
            "RARSS",
            "RATEE",
            "RAUF",
        )
    ]
    before = _digest(con)
    con.close()
    assert cli_main(["load-outbound", str(outbox[0].parent), "--warehouse", str(warehouse)]) == 0
    con = duckdb.connect(str(warehouse))
    assert _digest(con) == before


def test_identical_redelivery_changes_nothing(tmp_path: Path, outbox: list[Path]) -> None:
    con = duckdb.connect()
    assert [load_outbound_file(con, p).status for p in outbox] == ["loaded"] * len(outbox)
    before = _digest(con)
    registry = con.execute("SELECT * FROM outbound_file").fetchall()
    renamed = tmp_path / "again.xml"
    shutil.copy(outbox[2], renamed)
    again = [load_outbound_file(con, p) for p in [*outbox, renamed]]
    assert [r.status for r in again] == ["unchanged"] * (len(outbox) + 1)
    assert _digest(con) == before
    assert con.execute("SELECT * FROM outbound_file").fetchall() == registry


def _rescored(shadow: duckdb.DuckDBPyConnection, out: Path) -> list[Path]:
    """The run rescored (one enrollee gone, one score changed), reported later."""
    con = shadow.cursor()
    con.execute("BEGIN TRANSACTION")
    try:
        for table in (
            "shadow_risk_score",
            "shadow_risk_score_term",
            "shadow_risk_hcc_source",
            "shadow_risk_rxc_source",
            "shadow_risk_dropped_hcc",
        ):
            con.execute(f"DELETE FROM {table} WHERE member_id = 'M003' AND benefit_year = 2025")
        con.execute(
            "UPDATE shadow_risk_score SET score_raw = 29.001 "
            "WHERE member_id = 'M001' AND plan_id = ? AND benefit_year = 2025",
            [PLAN_A],
        )
        return write_phase2_reports(con, out, *RUN, LATER, reports=["RARSD"])
    finally:
        con.execute("ROLLBACK")


def test_newer_snapshot_replaces_the_run_only(tmp_path: Path, shadow, outbox) -> None:
    con = duckdb.connect()
    other = write_phase2_reports(shadow, tmp_path / "other", *OTHER_RUNS[0], FIRST)
    for path in [*outbox, *other]:
        assert load_outbound_file(con, path).status == "loaded"
    others = {
        t: con.execute(f"SELECT * FROM {t} WHERE benefit_year = 2024").fetchall()
        for t in RA_REPORTED_TABLES
    }
    racsd = con.execute("SELECT * FROM reported_ra_claim_selection").fetchall()
    (newer,) = _rescored(shadow, tmp_path / "later")
    result = load_outbound_file(con, newer)
    assert result.status == "loaded"
    members = con.execute(
        "SELECT member_id, score_raw, outbound_file_identifier FROM reported_risk_score "
        "WHERE benefit_year = 2025 AND plan_id = ? ORDER BY member_id",
        [PLAN_A],
    ).fetchall()
    assert [(m, str(s)) for m, s, _ in members] == [("M001", "29.001"), ("M002", "0.452")]
    assert {o for *_, o in members} == {result.outbound_file_identifier}
    for table in RARSD.tables:
        assert not con.execute(
            f"SELECT count(*) FROM {table} WHERE benefit_year = 2025 "
            "AND (member_id = 'M003' OR outbound_file_identifier <> ?)",
            [result.outbound_file_identifier],
        ).fetchone()[0], table
    assert con.execute("SELECT * FROM reported_ra_claim_selection").fetchall() == racsd
    assert {
        t: con.execute(f"SELECT * FROM {t} WHERE benefit_year = 2024").fetchall()
        for t in RA_REPORTED_TABLES
    } == others
    statuses = con.execute(
        "SELECT report_type, benefit_year_hint, status, error FROM ("
        "SELECT *, substr(outbound_file_identifier, 15, 4) AS benefit_year_hint "
        "FROM outbound_file) WHERE report_type = 'RARSD' ORDER BY outbound_load_id"
    ).fetchall()
    assert [s[:3] for s in statuses] == [
        ("RARSD", "2025", "replaced"),
        ("RARSD", "2024", "loaded"),
        ("RARSD", "2025", "loaded"),
    ]
    assert result.outbound_file_identifier in statuses[0][3]
    snapshot = con.execute(
        "SELECT outbound_file_identifier FROM reported_ra_report "
        "WHERE benefit_year = 2025 AND report_type = 'RARSD'"
    ).fetchall()
    assert snapshot == [(result.outbound_file_identifier,)]


def test_older_snapshot_after_newer_is_refused(tmp_path: Path, shadow, outbox) -> None:
    con = duckdb.connect()
    (newer,) = _rescored(shadow, tmp_path / "later")
    assert load_outbound_file(con, newer).status == "loaded"
    before = _digest(con)
    result = load_outbound_file(con, outbox[2])
    assert result.status == "refused"
    assert "a newer RARSD of BY2025 issuer 12345 zone T is already loaded" in result.error
    assert _digest(con) == before
    assert con.execute("SELECT status FROM outbound_file ORDER BY outbound_load_id").fetchall() == [
        ("loaded",),
        ("refused",),
    ]


def _mutate(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


#: index of the report in the outbox, old text, new text, element named, reason
MUTATIONS = {
    "bad_decimal": (2, "<riskScore>28.888<", "<riskScore>28,888<", "riskScore", "plain decimal"),
    "too_many_places": (
        2,
        "<riskFactorCoefficient>0.307<",
        "<riskFactorCoefficient>0.3071<",
        "riskFactorCoefficient",
        "does not fit DECIMAL(12,3)",
    ),
    "impossible_date": (
        2,
        "<insuredMemberBirthDate>1970-03-02<",
        "<insuredMemberBirthDate>1970-02-30<",
        "insuredMemberBirthDate",
        "is not a valid DATE",
    ),
    "non_integer_count": (
        1,
        "<claimCount>1<",
        "<claimCount>one<",
        "claimCount",
        "must be an unsigned integer",
    ),
    "missing_required": (
        2,
        "<insuredMemberIdentifier>M002</insuredMemberIdentifier>",
        "",
        "insuredMemberIdentifier",
        "is missing",
    ),
    "unknown_element": (
        3,
        "<enrolleeCount>",
        "<enrolleeTotal>2</enrolleeTotal><enrolleeCount>",
        "enrolleeTotal",
        "not expected here",
    ),
    "category_out_of_order": (
        0,
        "<includedPlanCategory>",
        "<includedBillTypeCategory/><includedPlanCategory>",
        "includedPlanCategory",
        "includedPlanCategory (1..1) is missing before includedBillTypeCategory",
    ),
    "coefficient_without_kind": (
        2,
        "<hccIdentifier>HHS_HCC020</hccIdentifier>",
        "<hccIdentifier>HHS_HCC020</hccIdentifier>"
        "<riskFactorCoefficient>1.000</riskFactorCoefficient>",
        "includedHcc",
        "coefficient but no riskFactorTypeCode",
    ),
    "no_benefit_year": (
        3,
        "<benefitYear>2025</benefitYear>",
        "<benefitYear>25</benefitYear>",
        "benefitYear",
        "benefitYear must be a year",
    ),
}


@pytest.mark.parametrize("case", list(MUTATIONS))
def test_malformed_report_is_refused_and_loads_nothing(
    tmp_path: Path, outbox: list[Path], case: str
) -> None:
    index, old, new, element, reason = MUTATIONS[case]
    path = _mutate(outbox[index], old, new)
    con = duckdb.connect()
    result = load_outbound_file(con, path, batch_rows=1)
    assert result.status == "failed"
    assert reason in result.error and f"element {element}" in result.error, result.error
    assert "1970-02-30" not in result.error  # refusals never quote a (possibly PHI) value
    assert _rows(con) == 0 and result.rows == {}
    row = con.execute("SELECT status, error, error_line, error_element FROM outbound_file")
    (status, error, line, named), *rest = row.fetchall()
    assert not rest and status == "failed" and error == result.error
    assert line > 1 and named == element
    document = etree.parse(str(path))
    layout = OUTBOUND_BY_ROOT[etree.QName(document.getroot()).localname]
    # what the schema can express it refuses too (the rest is the reader's: run, column fit)
    if case not in ("too_many_places", "coefficient_without_kind", "no_benefit_year"):
        assert not load_schema(layout).validate(document)


def test_failed_newer_report_keeps_the_loaded_snapshot(tmp_path: Path, shadow, outbox) -> None:
    con = duckdb.connect()
    assert load_outbound_file(con, outbox[2]).status == "loaded"
    before = _digest(con)
    (newer,) = _rescored(shadow, tmp_path / "later")
    text = newer.read_text(encoding="utf-8")
    newer.write_text(text[: text.rindex("<includedEnrolleeRiskScore>")], encoding="utf-8")
    result = load_outbound_file(con, newer, batch_rows=1)
    assert result.status == "failed" and "not well-formed XML" in result.error
    assert _digest(con) == before
    assert con.execute("SELECT status FROM outbound_file ORDER BY outbound_load_id").fetchall() == [
        ("loaded",),
        ("failed",),
    ]


def test_zone_of_file_name_must_match_the_header(tmp_path: Path, outbox: list[Path]) -> None:
    renamed = outbox[2].with_name(outbox[2].name.replace(".T.xml", ".P.xml"))
    outbox[2].rename(renamed)
    con = duckdb.connect()
    result = load_outbound_file(con, renamed)
    assert result.status == "failed"
    assert "executionZoneCode T contradicts the file name's zone P" in result.error
    assert _rows(con) == 0


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "boom">]>\n'
            '<raRiskScoreDetail xmlns="http://vo.edge.fm.cms.hhs.gov">&e;</raRiskScoreDetail>',
            "DOCTYPE",
        ),
        ('<raRiskScoreDetail xmlns="http://example.org/other"/>', "namespace"),
        (
            '<raRiskScoreDetails xmlns="http://vo.edge.fm.cms.hhs.gov"/>',
            "unknown root element raRiskScoreDetails",
        ),
        (
            '<raRiskScoreDetail xmlns="http://vo.edge.fm.cms.hhs.gov"><includedFileHeader>',
            "not well-formed",
        ),
        (
            '<raRiskScoreDetail xmlns="http://vo.edge.fm.cms.hhs.gov"/>',
            "includedFileHeader",
        ),
    ],
    ids=["doctype", "namespace", "wrong_root", "truncated_header", "no_header"],
)
def test_hostile_or_foreign_files_are_refused(tmp_path: Path, document: str, reason: str) -> None:
    path = tmp_path / "12345.RD.D05012026T120000.T.xml"
    path.write_text(document, encoding="utf-8")
    con = duckdb.connect()
    result = load_outbound_file(con, path)
    assert result.status == "failed"
    assert reason in result.error and "boom" not in result.error, result.error
    assert _rows(con) == 0
    assert con.execute("SELECT status FROM outbound_file").fetchall() == [("failed",)]


def test_truncated_report_after_rows_were_inserted(tmp_path: Path, outbox: list[Path]) -> None:
    """A break near the end, after batches went in: the transaction leaves nothing behind."""
    path = outbox[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex("<includedClaimSelection>") + 30], encoding="utf-8")
    con = duckdb.connect()
    result = load_outbound_file(con, path, batch_rows=1)
    assert result.status == "failed" and "line" in result.error
    assert _rows(con) == 0
