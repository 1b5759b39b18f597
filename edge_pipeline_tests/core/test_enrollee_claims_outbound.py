"""ECD and ECS: the enrollee claims reports as RA reports of a scoring run.

Each is declared once (``layouts/outbound/ecd.py``, ``ecs.py``), written from its shadow tables,
valid against its shipped XSD, read back exactly, read from a file written here by hand from the
element names (not by the writer), and reconciled: a reported file whose values were changed
gives exactly the changed row as a difference.  (The shadow itself, from a warehouse with a
planted orphan claim: ``test_claim_selection_rules.py``.)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest
from lxml import etree
from phase2_outbound_support import (
    ECD_ORPHANS,
    ECD_WITHOUT,
    PLAN_B,
    RUN,
    RUN_WHERE,
    build_shadow,
    hand_written_report,
    run_rows,
    written_reports,
)
from phase2_outbound_support import ECS as ECS_ROWS

from edge_pipeline.edge.layouts.outbound import ECD, ECS, OUTBOUND_BY_NAME, RA_LAYOUTS, Recipients
from edge_pipeline.edge.layouts.outbound.model import Group, Leaf, RaReportLayout
from edge_pipeline.edge.outbound import RA_REPORTED_TABLES, load_outbound_file
from edge_pipeline.edge.outbound.core.tables import ddl_columns
from edge_pipeline.edge.outbound.core.xsd import load_schema, render_xsd, shipped_xsd
from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.ra_runs.schema import SHADOW_PHASE2_DDL, reported_name
from edge_pipeline.edge.reconciliation import ReportsMissing
from edge_pipeline.edge.reconciliation.phase2 import (
    ECD_ENROLLEE_REPORT,
    ECD_ORPHAN_REPORT,
    ECS_REPORT,
    refresh_row_differences,
)

RUN_COLUMNS = ("benefit_year", "issuer_id", "execution_zone")
#: shadow table -> (its report, the fixture's rows)
TABLES = {
    "shadow_ecd_orphan_claim": (ECD, ECD_ORPHANS),
    "shadow_ecd_enrollee_without_claim": (ECD, ECD_WITHOUT),
    "shadow_ecs": (ECS, ECS_ROWS),
}


def _columns(shadow: str) -> list[str]:
    return [c for c in ddl_columns(SHADOW_PHASE2_DDL[shadow]) if c not in RUN_COLUMNS]


def _rows(con: duckdb.DuckDBPyConnection, table: str, shadow: str) -> list[str]:
    return run_rows(con, table, _columns(shadow))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return written_reports(tmp_path_factory.mktemp("enrollee_claims"), ["ECD", "ECS"])


def test_layouts_registered_with_every_shadow_column() -> None:
    assert RA_LAYOUTS[-2:] == (ECD, ECS)
    assert OUTBOUND_BY_NAME["ECD"] is ECD and OUTBOUND_BY_NAME["ECS"] is ECS
    assert (ECD.file_code, ECS.file_code) == ("EC", "CY")
    assert (ECD.recipients, ECS.recipients) == (Recipients.ISSUER_ONLY, Recipients.ISSUER_AND_CMS)
    groups = {ECD: list(ECD.body), ECS: list(ECS.body)}
    for shadow, (layout, _) in TABLES.items():
        assert reported_name(shadow) in layout.tables
        group = next(g for g in groups[layout] if isinstance(g, Group))
        groups[layout].remove(group)
        leaves = [c for c in group.children if isinstance(c, Leaf)]
        assert all(leaf.assumed for leaf in leaves)
        assert sorted(leaf.column for leaf in leaves) == sorted(_columns(shadow))
        assert set(RA_REPORTED_TABLES[reported_name(shadow)]) == {
            *_columns(shadow),
            *RUN_COLUMNS,
            "outbound_file_identifier",
            "report_type",
        }
    for layout in (ECD, ECS):
        assert shipped_xsd(layout) == render_xsd(layout)
        assert "(assumed)" in shipped_xsd(layout)


def test_only_the_detail_names_members() -> None:
    names = {
        layout.name: {leaf.name for g in layout.body for leaf in g.children}
        for layout in (ECD, ECS)
    }  # type: ignore[union-attr]
    assert "insuredMemberIdentifier" in names["ECD"]
    assert "insuredMemberIdentifier" not in names["ECS"]


@pytest.mark.parametrize("shadow", list(TABLES))
def test_written_valid_and_loaded_back_exactly(written: dict[str, Path], shadow: str) -> None:
    layout, rows = TABLES[shadow]
    path = written[layout.file_code]
    assert path.name == f"12345.{layout.file_code}.D05012026T120000.T.xml"
    schema = load_schema(layout)
    assert schema.validate(etree.parse(str(path))), schema.error_log
    con = duckdb.connect()
    build_shadow(con)
    result = load_outbound_file(con, path)
    assert (result.status, result.report_type) == ("loaded", layout.name)
    assert result.rows[reported_name(shadow)] == len(rows)
    assert _rows(con, reported_name(shadow), shadow) == _rows(con, shadow, shadow)


# -- hand-written files (the element names, not the writer) -----------------------------------

BODIES = {
    "ECD": """<includedOrphanClaim>
    <recordKindCode>medical</recordKindCode><claimIdentifier>C-9</claimIdentifier>
    <fileIdentifier>M00000000003</fileIdentifier><recordIdentifier>41</recordIdentifier>
    <insuredMemberIdentifier>M-0001</insuredMemberIdentifier>
    <insurancePlanIdentifier>12345VA001000104</insurancePlanIdentifier>
    <serviceFromDate>2025-04-01</serviceFromDate><serviceToDate>2025-04-03</serviceToDate>
    <orphanReasonCode>outside_enrollment_period</orphanReasonCode>
  </includedOrphanClaim>
  <includedOrphanClaim>
    <recordKindCode>pharmacy</recordKindCode><claimIdentifier>RX-1</claimIdentifier>
  </includedOrphanClaim>
  <includedEnrolleeWithoutClaim>
    <insuredMemberIdentifier>M-0002</insuredMemberIdentifier>
    <insurancePlanIdentifier>12345VA001000104</insurancePlanIdentifier>
    <memberMonths>7.5000</memberMonths>
  </includedEnrolleeWithoutClaim>""",
    "ECS": """<includedPlanEnrolleeClaimsSummary>
    <insurancePlanIdentifier>12345VA001000104</insurancePlanIdentifier>
    <enrolleeCount>3</enrolleeCount><enrolleeWithClaimCount>2</enrolleeWithClaimCount>
    <enrolleeWithoutClaimCount>1</enrolleeWithoutClaimCount>
    <linkedClaimCount>9</linkedClaimCount><orphanClaimCount>1</orphanClaimCount>
  </includedPlanEnrolleeClaimsSummary>
  <includedPlanEnrolleeClaimsSummary>
    <orphanClaimCount>1</orphanClaimCount>
  </includedPlanEnrolleeClaimsSummary>""",
}

#: What each hand-written file must load as, per table (the run's columns left out).
EXPECTED = {
    "shadow_ecd_orphan_claim": [
        ("medical", "C-9", "M00000000003", 41, "M-0001", "12345VA001000104",
         dt.date(2025, 4, 1), dt.date(2025, 4, 3), "outside_enrollment_period"),
        ("pharmacy", "RX-1", None, None, None, None, None, None, None),
    ],
    "shadow_ecd_enrollee_without_claim": [("M-0002", "12345VA001000104", D("7.5000"))],
    "shadow_ecs": [
        ("12345VA001000104", 3, 2, 1, 9, 1),
        (None, None, None, None, None, 1),
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", ["ECD", "ECS"])
def test_reader_loads_a_hand_written_file(tmp_path: Path, name: str) -> None:
    layout = OUTBOUND_BY_NAME[name]
    assert isinstance(layout, RaReportLayout)
    path = hand_written_report(tmp_path, layout, BODIES[name])
    assert load_schema(layout).validate(etree.parse(str(path)))
    con = duckdb.connect()
    result = load_outbound_file(con, path)
    assert (result.status, result.report_type) == ("loaded", name), result.error
    for shadow, (owner, _) in TABLES.items():
        if owner is layout:
            found = con.execute(
                f"SELECT {', '.join(_columns(shadow))} FROM {reported_name(shadow)} WHERE {RUN_WHERE}"
            ).fetchall()
            assert sorted(map(repr, found)) == sorted(map(repr, EXPECTED[shadow]))


# -- reconciliation ---------------------------------------------------------------------------

#: spec -> (file code, old text, new text, differing column, key of the changed row)
TAMPER = {
    ECD_ORPHAN_REPORT: (
        "EC",
        "<orphanReasonCode>outside_enrollment_period<",
        "<orphanReasonCode>not_enrolled_in_plan<",
        "orphan_reason",
        {"record_kind": "medical", "file_identifier": "M00000000002", "record_identifier": 3},
    ),
    ECD_ENROLLEE_REPORT: (
        "EC",
        "<memberMonths>0.0323<",
        "<memberMonths>0.0324<",
        "member_months",
        {"member_id": "M006", "plan_id": PLAN_B},
    ),
    ECS_REPORT: (
        "CY",
        "<linkedClaimCount>7<",
        "<linkedClaimCount>6<",
        "claims_linked",
        {"plan_id": "12345VA001000104"},
    ),
}


@pytest.mark.parametrize("spec", list(TAMPER), ids=lambda s: s.table)
def test_reconciliation_finds_exactly_the_tampered_row(
    written: dict[str, Path], tmp_path: Path, spec
) -> None:
    code, old, new, column, key = TAMPER[spec]
    run = ScoringRun(*RUN)
    con = duckdb.connect()
    build_shadow(con)
    with pytest.raises(ReportsMissing, match=f"no {spec.report} loaded"):
        refresh_row_differences(con, run, spec)
    assert load_outbound_file(con, written[code]).status == "loaded"
    clean = refresh_row_differences(con, run, spec)
    assert (clean.differences.num_rows, clean.compared) == (0, len(TABLES[spec.shadow][1]))

    text = written[code].read_text(encoding="utf-8")
    assert text.count(old) == 1
    tampered = tmp_path / written[code].name
    tampered.write_text(text.replace(old, new), encoding="utf-8")
    con = duckdb.connect()
    build_shadow(con)
    assert load_outbound_file(con, tampered).status == "loaded"
    found = refresh_row_differences(con, run, spec).differences.to_pylist()
    assert [(r["difference"], r["differing_columns"]) for r in found] == [("values", column)]
    assert {k: found[0][k] for k in spec.key} == key
    assert "member_id" not in spec.display
