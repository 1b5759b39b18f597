"""Phase 2 RA reports, round trip: shadow rows -> RACSD/RACSS/RARSD/RARSS/RATEE/RAUF/HCRPSR/HCRPDE/ECD/ECS XML ->
XSD-valid -> loaded -> ``reported_*`` equal to ``shadow_*`` for the run, column for column.

The summaries have no shadow twin: their numbers are checked against rollups written here in
plain SQL over the shadow tables, independently of the writer's own queries.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from lxml import etree
from phase2_outbound_support import OTHER_RUNS, RUN, TABLE_ROWS, build_shadow, insert

from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_ROOT, RA_LAYOUTS
from edge_pipeline.edge.layouts.outbound.hcrpde import ENROLLEE_HCRP
from edge_pipeline.edge.layouts.outbound.hcrpsr import PLAN_HCRP
from edge_pipeline.edge.layouts.outbound.model import Group, Leaf
from edge_pipeline.edge.layouts.outbound.racsd import CLAIM_SELECTION
from edge_pipeline.edge.layouts.outbound.racss import CLAIM_SELECTION_COUNT, PLAN_SUMMARY
from edge_pipeline.edge.layouts.outbound.rarsd import (
    DROPPED_HCC,
    ENROLLEE,
    HCC,
    HCC_SOURCE,
    RXC,
    RXC_SOURCE,
    TERM,
)
from edge_pipeline.edge.layouts.outbound.rarss import FREQUENCIES, PLAN_RATING_AREA
from edge_pipeline.edge.layouts.outbound.ratee import TRANSFER_ELEMENT
from edge_pipeline.edge.layouts.outbound.rauf import USER_FEE
from edge_pipeline.edge.outbound import load_outbound_file, write_phase2_reports
from edge_pipeline.edge.outbound.core.xsd import load_schema
from edge_pipeline.edge.outbound.ra.tables import RA_REPORTED_TABLES
from edge_pipeline.edge.ra_runs.schema import SHADOW_PHASE2_DDL, reported_name
from edge_pipeline.edge.verification.schema import ensure_shadow_schema
from edge_pipeline.edge.warehouse.schema import ensure_schema

GENERATED = dt.datetime(2026, 5, 1, 12, 0, 0)
WHERE = "benefit_year = 2025 AND issuer_id = '12345' AND execution_zone = 'T'"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[duckdb.DuckDBPyConnection, list]:
    """The ten reports of the run, written from the shadow and loaded back into the same
    warehouse (shadow and reported tables side by side, as in production)."""
    out = tmp_path_factory.mktemp("ra") / "outbox"
    con = duckdb.connect()
    build_shadow(con)
    paths = write_phase2_reports(con, out, *RUN, GENERATED)
    results = [load_outbound_file(con, path) for path in paths]
    return con, paths, results


def test_ten_reports_named_and_valid(loaded) -> None:
    _con, paths, results = loaded
    assert [p.name for p in paths] == [
        f"12345.{code}.D05012026T120000.T.xml"
        for code in ("CD", "CS", "RD", "RS", "TE", "UF", "HS", "HE", "EC", "CY")
    ]
    for path, layout in zip(paths, RA_LAYOUTS, strict=True):
        document = etree.parse(str(path))
        assert OUTBOUND_BY_ROOT[etree.QName(document.getroot()).localname] is layout
        schema = load_schema(layout)
        assert schema.validate(document), schema.error_log
    assert [(r.status, r.report_type) for r in results] == [
        ("loaded", layout.name) for layout in RA_LAYOUTS
    ]


def _rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[str]:
    """Order-insensitive, exact (repr keeps Decimal scale, date vs NULL, '' vs NULL)."""
    found = con.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {WHERE}").fetchall()
    return sorted(map(repr, found))


@pytest.mark.parametrize("shadow", list(SHADOW_PHASE2_DDL))
def test_reported_equals_shadow(loaded, shadow: str) -> None:
    con = loaded[0]
    columns = [
        c
        for c in RA_REPORTED_TABLES[reported_name(shadow)]
        if c not in ("outbound_file_identifier", "report_type")
    ]
    expected = _rows(con, shadow, columns)
    assert expected, f"{shadow}: the fixture has rows"
    assert _rows(con, reported_name(shadow), columns) == expected
    report = {
        "shadow_ra_claim_selection": "RACSD",
        "shadow_ratee": "RATEE",
        "shadow_rauf": "RAUF",
        "shadow_hcrp_summary": "HCRPSR",
        "shadow_hcrp_enrollee": "HCRPDE",
        "shadow_ecd_orphan_claim": "ECD",
        "shadow_ecd_enrollee_without_claim": "ECD",
        "shadow_ecs": "ECS",
    }.get(shadow, "RARSD")
    types = con.execute(
        f"SELECT DISTINCT report_type FROM {reported_name(shadow)} WHERE {WHERE}"
    ).fetchall()
    assert types == [(report,)]


def test_other_runs_are_not_reported(loaded) -> None:
    con = loaded[0]
    for shadow in SHADOW_PHASE2_DDL:
        table = reported_name(shadow)
        runs = con.execute(f"SELECT DISTINCT benefit_year, execution_zone FROM {table}").fetchall()
        assert runs == [(2025, "T")], table
    assert (
        con.execute("SELECT count(*) FROM shadow_risk_score WHERE benefit_year = 2024").fetchone()[
            0
        ]
        > 0
    )


def test_racss_is_the_rollup_of_the_claim_selection(loaded) -> None:
    con = loaded[0]
    rollup = con.execute(
        f"""
        SELECT plan_id, category, record_kind, included, reason_code, count(*)
        FROM shadow_ra_claim_selection WHERE {WHERE} GROUP BY ALL
        """
    ).fetchall()
    reported = con.execute(
        f"""
        SELECT plan_id, category, record_kind, included, reason_code, claim_count
        FROM reported_racss WHERE {WHERE}
        """
    ).fetchall()
    assert sorted(map(repr, reported)) == sorted(map(repr, rollup))
    assert sum(row[-1] for row in reported) == len(TABLE_ROWS["shadow_ra_claim_selection"])


def _mean(total: Decimal | None, count: int) -> Decimal | None:
    if not count:
        return None
    return (total / count).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def test_rarss_blocks_are_the_rollup_of_the_scores(loaded) -> None:
    con = loaded[0]
    blocks = con.execute(
        """
        SELECT s.plan_id, s.rating_area, count(*), sum(e.member_months),
               sum(s.billable_member_months), sum(s.score_raw), count(s.score_raw),
               sum(s.score_csr_adjusted), count(s.score_csr_adjusted)
        FROM shadow_risk_score s
        LEFT JOIN ra_enrollee e ON e.benefit_year = s.benefit_year
         AND e.issuer_id = s.issuer_id AND e.execution_zone = s.execution_zone
         AND e.member_id = s.member_id AND e.plan_id = s.plan_id
        WHERE s.benefit_year = 2025 AND s.issuer_id = '12345' AND s.execution_zone = 'T'
        GROUP BY ALL
        """
    ).fetchall()
    expected = sorted(
        repr((plan, area, n, mm, bmm, _mean(raw, n_raw), _mean(csr, n_csr)))
        for plan, area, n, mm, bmm, raw, n_raw, csr, n_csr in blocks
    )
    reported = con.execute(
        f"""
        SELECT plan_id, rating_area, enrollee_count, member_months, billable_member_months,
               average_score_raw, average_score_csr_adjusted
        FROM reported_rarss WHERE {WHERE}
        """
    ).fetchall()
    assert sorted(map(repr, reported)) == expected
    # the numbers the fixture was built for: plan A area 1 holds M001 (28.888) and M002 (0.452)
    plan_a = next(r for r in reported if r[0].startswith("12345VA001"))
    assert plan_a[5] == Decimal("14.670") and plan_a[3] == Decimal("15.9344")


def test_rarss_distributions_are_the_rollup_of_the_terms(loaded) -> None:
    con = loaded[0]
    s = f"(SELECT * FROM shadow_risk_score WHERE {WHERE})"
    expected = con.execute(
        f"""
        WITH s AS {s},
        t AS (SELECT s.plan_id, s.rating_area, s.member_id, t.variable, t.kind
              FROM shadow_risk_score_term t JOIN s USING (member_id, plan_id)
              WHERE t.benefit_year = 2025 AND t.issuer_id = '12345' AND t.execution_zone = 'T')
        SELECT plan_id, rating_area, 'hcc', variable, count(*) FROM t
        WHERE kind IN ('hcc', 'group') GROUP BY ALL
        UNION ALL SELECT plan_id, rating_area, 'rxc', variable, count(*) FROM t
        WHERE kind = 'rxc' GROUP BY ALL
        UNION ALL SELECT plan_id, rating_area, 'interaction', variable, count(*) FROM t
        WHERE kind IN ('rxc_interaction', 'severity', 'infant') GROUP BY ALL
        UNION ALL SELECT plan_id, rating_area, 'csr_factor', CAST(csr_factor AS VARCHAR),
               count(*) FROM s GROUP BY ALL
        UNION ALL SELECT s.plan_id, s.rating_area, 'dropped_hcc', d.hcc, count(*)
        FROM shadow_risk_dropped_hcc d JOIN s USING (member_id, plan_id)
        WHERE d.benefit_year = 2025 AND d.issuer_id = '12345' AND d.execution_zone = 'T'
        GROUP BY ALL
        """
    ).fetchall()
    reported = con.execute(
        f"""
        SELECT plan_id, rating_area, distribution, code, enrollee_count
        FROM reported_rarss_frequency WHERE {WHERE}
        """
    ).fetchall()
    assert sorted(map(repr, reported)) == sorted(map(repr, expected))
    assert {row[2] for row in reported} == set(FREQUENCIES)


def test_snapshot_index_names_each_report(loaded) -> None:
    con, _paths, results = loaded
    rows = con.execute(
        "SELECT report_type, outbound_file_identifier, inbound_file_identifier, generated_at "
        f"FROM reported_ra_report WHERE {WHERE} ORDER BY report_type"
    ).fetchall()
    assert rows == sorted(
        (r.report_type, r.outbound_file_identifier, "RA12345T2025", GENERATED) for r in results
    )


def test_rewrite_is_byte_identical(loaded, tmp_path: Path) -> None:
    con, paths, _ = loaded
    again = write_phase2_reports(con, tmp_path, *RUN, GENERATED)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]
    # writing into the same folder again is a no-op, not an error
    assert write_phase2_reports(con, paths[0].parent, *RUN, GENERATED) == paths


def test_subset_of_reports(tmp_path: Path) -> None:
    con = duckdb.connect()
    build_shadow(con)
    paths = write_phase2_reports(con, tmp_path, *RUN, GENERATED, reports=["RARSS", "RACSD"])
    assert [p.name.split(".")[1] for p in paths] == ["CD", "RS"]
    with pytest.raises(ValueError, match="not RA reports: ESFAR"):
        write_phase2_reports(con, tmp_path, *RUN, GENERATED, reports=["ESFAR"])


def test_header_links_the_replacing_eses(tmp_path: Path) -> None:
    """With Phase 1 data, inboundFileIdentifier is the run's latest accepted ESES."""
    con = duckdb.connect()
    ensure_schema(con)
    ensure_shadow_schema(con)
    build_shadow(con)
    loaded_at = dt.datetime(2026, 4, 2, 9, 30, 15)
    for load_id, fid, status in ((1, "E00000000001", "A"), (2, "E00000000002", "A"),
                                 (3, "E00000000003", "R")):  # fmt: skip
        con.execute(
            "INSERT INTO submission_file (load_id, file_identifier, submission_type, layout, "
            "execution_zone, icd_release, generation_datetime, issuer_id, path, file_name, "
            "loaded_at, status) VALUES (?, ?, 'E', 'ESES', 'T', '02.01.10', "
            "'2026-04-01T08:00:00', '12345', 'x', 'x', ?, 'loaded')",
            [load_id, fid, loaded_at],
        )
        con.execute(
            "INSERT INTO shadow_file_status (load_id, file_identifier, submission_type, "
            "execution_zone, issuer_id, status) VALUES (?, ?, 'E', 'T', '12345', ?)",
            [load_id, fid, status],
        )
        con.execute(
            "INSERT INTO shadow_record_status (load_id, file_identifier, record_identifier, "
            "level, status) VALUES (?, ?, 1, 'issuer', ?)",
            [load_id, fid, status],
        )
    (path,) = write_phase2_reports(con, tmp_path, *RUN, GENERATED, reports=["RACSS"])
    header = etree.parse(str(path)).getroot()[0]
    values = {etree.QName(e).localname: e.text for e in header}
    assert values["inboundFileIdentifier"] == "E00000000002"
    assert values["outboundFileIdentifier"] == "E00000000002CS202520260501120000"
    assert values["outboundFileTypeCode"] == "RACSS"
    assert values["inboundFileSubmissionDateTime"] == "2026-04-02T09:30:15"
    assert values["interfaceControlReleaseNumber"] == "02.01.10"
    assert values["edgeServerProcessIdentifier"] == "2"
    assert (values["benefitYear"], values["issuerID"], values["executionZoneCode"]) == (
        "2025",
        "12345",
        "T",
    )


@pytest.mark.parametrize(
    ("table", "row", "match"),
    [
        (
            "shadow_ra_claim_selection",
            ("no_such_category", "medical", "C-1", "M1", 1, "M001", "P", "N", "R01"),
            "shadow_ra_claim_selection: 19 of 20 rows",
        ),
        (
            "shadow_risk_score_term",
            ("M999", "12345VA001000104", "HHS_HCC019", "hcc", Decimal("1.000")),
            "shadow_risk_score_term: 15 of 16 rows",
        ),
        (
            "shadow_risk_score",
            (None, "12345VA001000104", "1", "S", "04", 2, Decimal("1.120"), "F", None, 5,
             "adult", 1, 1, Decimal("1.0"), Decimal("1.0"), Decimal("1.0")),
            "insuredMemberIdentifier is required",
        ),
    ],
    ids=["unknown_category", "term_without_score", "null_member"],
)  # fmt: skip
def test_writer_refuses_rows_it_cannot_place(
    tmp_path: Path, table: str, row: tuple, match: str
) -> None:
    con = duckdb.connect()
    build_shadow(con)
    insert(con, table, RUN, [row])
    with pytest.raises(ValueError, match=match):
        write_phase2_reports(con, tmp_path, *RUN, GENERATED)
    assert not list(tmp_path.glob("*.RD.*"))
    assert not list(tmp_path.glob(".*.part"))


#: Layout group -> the reported table its leaves' columns belong to.
GROUP_TABLES: list[tuple[Group, str]] = [
    (CLAIM_SELECTION, "reported_ra_claim_selection"),
    (PLAN_SUMMARY, "reported_racss"),
    (CLAIM_SELECTION_COUNT, "reported_racss"),
    (ENROLLEE, "reported_risk_score"),
    (HCC, "reported_risk_score_term"),
    (RXC, "reported_risk_score_term"),
    (TERM, "reported_risk_score_term"),
    (HCC_SOURCE, "reported_risk_hcc_source"),
    (RXC_SOURCE, "reported_risk_rxc_source"),
    (DROPPED_HCC, "reported_risk_dropped_hcc"),
    (PLAN_RATING_AREA, "reported_rarss"),
    *((group, "reported_rarss_frequency") for group in FREQUENCIES.values()),
    (TRANSFER_ELEMENT, "reported_ratee"),
    (USER_FEE, "reported_rauf"),
    (PLAN_HCRP, "reported_hcrp_summary"),
    (ENROLLEE_HCRP, "reported_hcrp_enrollee"),
]


@pytest.mark.parametrize(("group", "table"), GROUP_TABLES, ids=[g.name for g, _ in GROUP_TABLES])
def test_every_leaf_is_a_column(group: Group, table: str) -> None:
    """The layouts and the DDL agree: every leaf names a column of its table."""
    for leaf in group.children:
        if isinstance(leaf, Leaf):
            assert leaf.column in RA_REPORTED_TABLES[table], (group.name, leaf.name)
            assert leaf.assumed, leaf.name


def test_ra_codes_and_roots() -> None:
    assert [(l.name, l.file_code, l.root) for l in RA_LAYOUTS] == [  # noqa: E741
        ("RACSD", "CD", "raClaimSelectionDetail"),
        ("RACSS", "CS", "raClaimSelectionSummary"),
        ("RARSD", "RD", "raRiskScoreDetail"),
        ("RARSS", "RS", "raRiskScoreSummary"),
        ("RATEE", "TE", "raTransferElementDetail"),
        ("RAUF", "UF", "raUserFee"),
        ("HCRPSR", "HS", "highCostRiskPoolSummary"),
        ("HCRPDE", "HE", "highCostRiskPoolEnrolleeDetail"),
        ("ECD", "EC", "enrolleeClaimsDetail"),
        ("ECS", "CY", "enrolleeClaimsSummary"),
    ]
    assert len(OTHER_RUNS) == 2
