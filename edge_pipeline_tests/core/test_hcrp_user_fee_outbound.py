"""RAUF, HCRPSR and HCRPDE: the RA user fee and the high-cost risk pool as RA reports.

Each is declared once (``layouts/outbound/rauf.py``, ``hcrpsr.py``, ``hcrpde.py``), written
from its shadow table, valid against its shipped XSD, read back exactly, read from a file
written here by hand from the element names (not by the writer), and reconciled: a reported
file whose values were changed gives exactly the changed rows as differences.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest
from lxml import etree
from phase2_outbound_support import (
    GENERATED,
    HCRP_ENROLLEES,
    HCRP_SUMMARY,
    PLAN_A,
    RAUF,
    RUN,
    RUN_WHERE,
    build_shadow,
    hand_written_report,
    run_rows,
    written_reports,
)

from edge_pipeline.edge.layouts.outbound import (
    HCRPDE,
    HCRPSR,
    OUTBOUND_BY_NAME,
    OUTBOUND_BY_ROOT,
    RA_LAYOUTS,
)
from edge_pipeline.edge.layouts.outbound import RAUF as RAUF_LAYOUT
from edge_pipeline.edge.layouts.outbound.model import Group, Leaf, RaReportLayout
from edge_pipeline.edge.outbound import RA_REPORTED_TABLES, load_outbound_file, write_phase2_reports
from edge_pipeline.edge.outbound.core.tables import ddl_columns
from edge_pipeline.edge.outbound.core.xsd import load_schema, render_xsd, shipped_xsd
from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.ra_runs.schema import SHADOW_PHASE2_DDL, reported_name
from edge_pipeline.edge.reconciliation import ReportsMissing
from edge_pipeline.edge.reconciliation.phase2 import (
    HCRPDE_REPORT,
    HCRPSR_REPORT,
    RAUF_REPORT,
    refresh_row_differences,
)

#: report -> (its shadow table, the fixture's rows, its file code)
REPORTS: dict[str, tuple[RaReportLayout, str, list[tuple], str]] = {
    "RAUF": (RAUF_LAYOUT, "shadow_rauf", RAUF, "UF"),
    "HCRPSR": (HCRPSR, "shadow_hcrp_summary", HCRP_SUMMARY, "HS"),
    "HCRPDE": (HCRPDE, "shadow_hcrp_enrollee", HCRP_ENROLLEES, "HE"),
}
SPECS = {"RAUF": RAUF_REPORT, "HCRPSR": HCRPSR_REPORT, "HCRPDE": HCRPDE_REPORT}


def _columns(shadow: str) -> list[str]:
    return list(ddl_columns(SHADOW_PHASE2_DDL[shadow]))


def _rows(con: duckdb.DuckDBPyConnection, table: str, shadow: str) -> list[str]:
    return run_rows(con, table, _columns(shadow))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return written_reports(tmp_path_factory.mktemp("transfer_reports"), list(REPORTS))


# -- layouts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REPORTS))
def test_layout_registered_with_every_shadow_column(name: str) -> None:
    layout, shadow, _, code = REPORTS[name]
    assert layout in RA_LAYOUTS and OUTBOUND_BY_NAME[name] is layout
    assert OUTBOUND_BY_ROOT[layout.root] is layout
    assert (layout.file_code, layout.tables) == (code, (reported_name(shadow),))
    (entry,) = layout.body
    assert isinstance(entry, Group)
    leaves = [c for c in entry.children if isinstance(c, Leaf)]
    assert len(leaves) == len(entry.children) and all(leaf.assumed for leaf in leaves)
    run = {"benefit_year", "issuer_id", "execution_zone"}
    assert sorted(leaf.column for leaf in leaves) == sorted(set(_columns(shadow)) - run)
    assert set(_columns(shadow)) | {"outbound_file_identifier", "report_type"} == set(
        RA_REPORTED_TABLES[reported_name(shadow)]
    )
    assert shipped_xsd(layout) == render_xsd(layout)
    assert "(assumed)" in shipped_xsd(layout)


def test_file_codes_stay_distinct() -> None:
    codes = [layout.file_code for layout in RA_LAYOUTS]
    assert len(set(codes)) == len(codes)


def test_only_the_detail_names_members() -> None:
    """HCRPDE is issuer only (masked member ids, as RARSD); RAUF and HCRPSR are aggregate."""
    names = {
        name: {leaf.name for leaf in layout.body[0].children}  # type: ignore[union-attr]
        for name, (layout, *_) in REPORTS.items()
    }
    assert "insuredMemberIdentifier" in names["HCRPDE"]
    assert "insuredMemberIdentifier" not in names["RAUF"] | names["HCRPSR"]


# -- written, valid, read back ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(REPORTS))
def test_written_valid_and_loaded_back_exactly(written: dict[str, Path], name: str) -> None:
    layout, shadow, rows, code = REPORTS[name]
    path = written[code]
    assert path.name == f"12345.{code}.D05012026T120000.T.xml"
    document = etree.parse(str(path))
    schema = load_schema(layout)
    assert schema.validate(document), schema.error_log
    con = duckdb.connect()
    build_shadow(con)
    result = load_outbound_file(con, path)
    assert (result.status, result.report_type) == ("loaded", name)
    assert result.rows == {reported_name(shadow): len(rows), "reported_ra_report": 1}
    assert _rows(con, reported_name(shadow), shadow) == _rows(con, shadow, shadow)


def test_hcrpde_is_written_empty_when_nobody_is_over_the_threshold(tmp_path: Path) -> None:
    con = duckdb.connect()
    build_shadow(con)
    con.execute(f"DELETE FROM shadow_hcrp_enrollee WHERE {RUN_WHERE}")
    codes = [p.name.split(".")[1] for p in write_phase2_reports(con, tmp_path, *RUN, GENERATED)]
    assert codes == ["CD", "CS", "RD", "RS", "TE", "UF", "HS", "HE", "EC", "CY"]
    (empty,) = tmp_path.glob("*.HE.*")
    assert load_schema(HCRPDE).validate(etree.parse(str(empty)))
    result = load_outbound_file(con, empty)
    assert (result.status, result.rows) == ("loaded", {"reported_ra_report": 1})
    # a run without the transfer estimate writes none of the three
    for table in ("shadow_rauf", "shadow_hcrp_summary"):
        con.execute(f"DELETE FROM {table} WHERE {RUN_WHERE}")
    codes = [p.name.split(".")[1] for p in write_phase2_reports(con, tmp_path / "b", *RUN)]
    assert codes == ["CD", "CS", "RD", "RS", "TE", "EC", "CY"]


# -- hand-written files (the element names, not the writer) -----------------------------------

BODIES = {
    "RAUF": """<includedUserFee>
    <stateCode>VA</stateCode><riskPoolCode>individual</riskPoolCode>
    <standardComponentIdentifier>12345VA0010001</standardComponentIdentifier>
    <ratingAreaIdentifier>2</ratingAreaIdentifier>
    <billableMemberMonths>1200.5000</billableMemberMonths>
    <userFeePmpmAmount>0.2000</userFeePmpmAmount><userFeeAmount>240.10</userFeeAmount>
  </includedUserFee>
  <includedUserFee>
    <stateCode>VA</stateCode><riskPoolCode>catastrophic</riskPoolCode>
    <standardComponentIdentifier>12345VA0040001</standardComponentIdentifier>
  </includedUserFee>""",
    "HCRPSR": """<includedPlanHighCostRiskPool>
    <stateCode>VA</stateCode><riskPoolCode>individual</riskPoolCode>
    <standardComponentIdentifier>12345VA0010001</standardComponentIdentifier>
    <enrolleeOverThresholdCount>1</enrolleeOverThresholdCount>
    <paidClaimsAmount>1500000.00</paidClaimsAmount>
    <amountOverThreshold>500000.00</amountOverThreshold>
    <thresholdAmount>1000000.00</thresholdAmount><coinsuranceRate>0.6000</coinsuranceRate>
    <hcrpReimbursementAmount>300000.00</hcrpReimbursementAmount>
    <premiumAmount>2000000.00</premiumAmount><hcrpChargeRate>0.003000</hcrpChargeRate>
    <hcrpChargeAmount>6000.00</hcrpChargeAmount><hcrpNetAmount>294000.00</hcrpNetAmount>
  </includedPlanHighCostRiskPool>
  <includedPlanHighCostRiskPool>
    <standardComponentIdentifier>12345VA0090001</standardComponentIdentifier>
    <hcrpNetAmount>-0.01</hcrpNetAmount>
  </includedPlanHighCostRiskPool>""",
    "HCRPDE": """<includedEnrolleeHighCostRiskPool>
    <insuredMemberIdentifier>M-0001</insuredMemberIdentifier>
    <standardComponentIdentifier>12345VA0010001</standardComponentIdentifier>
    <paidClaimsAmount>1500000.00</paidClaimsAmount>
    <amountOverThreshold>500000.00</amountOverThreshold>
    <hcrpReimbursementAmount>300000.00</hcrpReimbursementAmount>
  </includedEnrolleeHighCostRiskPool>""",
}

#: What each hand-written file must load as (the run's columns left out).
EXPECTED = {
    "RAUF": [
        ("VA", "individual", "12345VA0010001", "2", D("1200.5000"), D("0.2000"), D("240.10")),
        ("VA", "catastrophic", "12345VA0040001", None, None, None, None),
    ],
    "HCRPSR": [
        ("VA", "individual", "12345VA0010001", 1, D("1500000.00"), D("500000.00"),
         D("1000000.00"), D("0.6000"), D("300000.00"), D("2000000.00"), D("0.003000"),
         D("6000.00"), D("294000.00")),
        (None, None, "12345VA0090001", None, None, None, None, None, None, None, None, None,
         D("-0.01")),
    ],
    "HCRPDE": [
        ("M-0001", "12345VA0010001", D("1500000.00"), D("500000.00"), D("300000.00")),
    ],
}  # fmt: skip


def _hand_written(tmp_path: Path, name: str) -> Path:
    return hand_written_report(tmp_path, REPORTS[name][0], BODIES[name])


@pytest.mark.parametrize("name", list(REPORTS))
def test_reader_loads_a_hand_written_file(tmp_path: Path, name: str) -> None:
    layout, shadow, _, _ = REPORTS[name]
    path = _hand_written(tmp_path, name)
    assert load_schema(layout).validate(etree.parse(str(path)))
    con = duckdb.connect()
    result = load_outbound_file(con, path)
    assert (result.status, result.report_type) == ("loaded", name), result.error
    columns = [
        c for c in _columns(shadow) if c not in ("benefit_year", "issuer_id", "execution_zone")
    ]
    found = con.execute(
        f"SELECT {', '.join(columns)} FROM {reported_name(shadow)} WHERE {RUN_WHERE} ORDER BY ALL"
    ).fetchall()
    assert sorted(map(repr, found)) == sorted(map(repr, EXPECTED[name]))
    assert con.execute(
        f"SELECT DISTINCT report_type, outbound_file_identifier FROM {reported_name(shadow)}"
    ).fetchall() == [(name, f"RA12345T2025{layout.file_code}202520260601090000")]


def test_reader_refuses_a_hand_written_file_with_a_bad_amount(tmp_path: Path) -> None:
    path = _hand_written(tmp_path, "HCRPSR")
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "<hcrpChargeRate>0.003000<", "<hcrpChargeRate>0.0030001<"
        ),
        encoding="utf-8",
    )
    con = duckdb.connect()
    result = load_outbound_file(con, path)
    assert result.status == "failed"
    assert "element hcrpChargeRate" in result.error and "DECIMAL(8,6)" in result.error
    assert con.execute("SELECT count(*) FROM reported_hcrp_summary").fetchone() == (0,)


# -- reconciliation ---------------------------------------------------------------------------

#: report -> (old text, new text) of one changed row in its written file
TAMPER = {
    "RAUF": ("<userFeeAmount>3.19<", "<userFeeAmount>3.20<"),
    "HCRPSR": ("<hcrpChargeAmount>360.00<", "<hcrpChargeAmount>361.00<"),
    "HCRPDE": ("<hcrpReimbursementAmount>150000.06<", "<hcrpReimbursementAmount>150000.07<"),
}

#: the key of the row each tampering changes
TAMPERED_KEY = {
    "RAUF": {"state": "VA", "risk_pool": "individual", "plan_id": PLAN_A[:14], "rating_area": "1"},
    "HCRPSR": {"plan_id": PLAN_A[:14]},
    "HCRPDE": {"member_id": "M002 <&>", "plan_id": PLAN_A[:14]},
}


@pytest.mark.parametrize("name", list(REPORTS))
def test_reconciliation_finds_exactly_the_tampered_rows(
    written: dict[str, Path], tmp_path: Path, name: str
) -> None:
    _, _, rows, code = REPORTS[name]
    spec = SPECS[name]
    run = ScoringRun(*RUN)
    con = duckdb.connect()
    build_shadow(con)
    with pytest.raises(ReportsMissing, match=f"no {name} loaded"):
        refresh_row_differences(con, run, spec)
    assert load_outbound_file(con, written[code]).status == "loaded"
    clean = refresh_row_differences(con, run, spec)
    assert (clean.differences.num_rows, clean.compared) == (0, len(rows))

    old, new = TAMPER[name]
    text = written[code].read_text(encoding="utf-8")
    assert text.count(old) == 1
    tampered = tmp_path / written[code].name
    tampered.write_text(text.replace(old, new), encoding="utf-8")
    con = duckdb.connect()  # EDGE's answer with the one changed value instead
    build_shadow(con)
    result = load_outbound_file(con, tampered)
    assert result.status == "loaded", result.error
    changed = refresh_row_differences(con, run, spec)
    found = changed.differences.to_pylist()
    assert [(r["difference"], r["differing_columns"]) for r in found] == [
        ("values", {"RAUF": "user_fee", "HCRPSR": "hcrp_charge", "HCRPDE": "hcrp_payment"}[name])
    ]
    assert {k: found[0][k] for k in spec.key} == TAMPERED_KEY[name]
    assert con.execute(f"SELECT count(*) FROM {spec.table} WHERE {RUN_WHERE}").fetchone() == (1,)
    assert "member_id" not in spec.display
