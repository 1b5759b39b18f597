"""The error catalog (stable codes, documented in docs/), the rules that use it, the reference
tables the referential checks look values up in, and the SQL fragments the rules are built of."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from edge_pipeline.cli import main
from edge_pipeline.edge.layouts import BY_NAME
from edge_pipeline.edge.sql import as_date, npi_valid
from edge_pipeline.edge.synth.ids import npi_pool
from edge_pipeline.edge.verification import (
    CATALOG,
    ReferenceTablesMissing,
    load_reference_tables,
    render_catalog_markdown,
    verify_all,
)
from edge_pipeline.edge.verification.chains import CHAINS
from edge_pipeline.edge.verification.header import header_source
from edge_pipeline.edge.verification.inventory import SEQUENCE_SOURCE
from edge_pipeline.edge.verification.reference_tables import icd10cm_valid
from edge_pipeline.edge.verification.rules import sources
from edge_pipeline.edge.writers.totals import total_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "error-catalog.md"
CHECK_DIGITS = {"1": "required", "2": "face", "3": "referential", "4": "logical"}


def _used_codes() -> set[str]:
    used = {rule.code for rule in SEQUENCE_SOURCE.rules}
    for name in BY_NAME:
        for source in (*sources(name), header_source(name)):
            used |= {rule.code for rule in source.rules}
    for spec in CHAINS.values():
        used |= {spec.no_target, spec.not_later, spec.superseded, spec.other_member}
    return used


def test_docs_error_catalog_is_the_rendered_catalog() -> None:
    assert DOC.read_text(encoding="utf-8") == render_catalog_markdown(), (
        "regenerate with: edge-pipeline catalog --out docs/error-catalog.md"
    )


def test_cli_writes_the_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "catalog.md"
    assert main(["catalog", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_catalog_markdown()


def test_codes_are_unique_and_say_their_check() -> None:
    codes = [e.code for e in CATALOG]
    assert len(codes) == len(set(codes))
    for item in CATALOG:
        assert re.fullmatch(r"[HXEMPS][1-4]\d\d", item.code), item.code
        assert CHECK_DIGITS[item.code[1]] == item.check, item.code


def test_catalog_elements_exist_in_the_layouts() -> None:
    structural = {"*", "includedInsuredMemberProfile", "includedDetailServiceLine"}
    for item in CATALOG:
        if item.element in structural or item.level == "*":
            continue
        for name in item.file_types:
            layout = BY_NAME[name]
            if item.level == "file":
                names = {e.name for e in (*layout.header, *layout.totals)}
            else:
                names = {
                    f.name for r, _ in layout.records() if r.level == item.level for f in r.fields
                }
            assert item.element in names, (item.code, name)


def test_every_catalog_entry_is_checked_and_every_rule_is_catalogued() -> None:
    used = _used_codes()
    assert used - {e.code for e in CATALOG} == set()
    assert {e.code for e in CATALOG if not e.retired} - used == set()


def test_every_required_element_has_a_required_check() -> None:
    """Control totals share one ``*`` entry per level; every other required element has its
    own (recordIdentifier is required by the loader: a record without one is unreadable)."""
    required = {
        (n, e.level, e.element) for e in CATALOG if e.check == "required" for n in e.file_types
    }
    for layout in BY_NAME.values():
        totals = set(total_rules(layout.name))
        for record, _ in layout.records():
            for element in record.fields:
                if element.requirement != "R" or element.name == "recordIdentifier":
                    continue
                name = "*" if element.column in totals else element.name
                assert (layout.name, record.level, name) in required, (layout.name, element.name)


def test_verification_refuses_to_run_without_reference_tables() -> None:
    con = duckdb.connect()
    with pytest.raises(ReferenceTablesMissing):
        verify_all(con)


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("refs")
    registry = root / "registry.csv"
    registry.write_text(
        "insurance_plan_identifier,rating_areas\n12345NC001000101,001;002\n", encoding="utf-8"
    )
    (root / "code_list_ndc.csv").write_text("code\n00071015523\n", encoding="utf-8")
    con = duckdb.connect()
    first = load_reference_tables(con, registry, [root])
    second = load_reference_tables(con, registry, [root])
    assert first.rows == second.rows  # idempotent
    return con


def test_icd10cm_validity_follows_the_fiscal_year_rule(refs: duckdb.DuckDBPyConnection) -> None:
    # C81.0A was added in FY2026 (October 2025): DIY table 3 flags decide.
    assert not icd10cm_valid(refs, "C810A", dt.date(2025, 9, 30))
    assert icd10cm_valid(refs, "C810A", dt.date(2025, 10, 1))
    # E20.8 was expanded in FY2025: valid in 2024 until September, not after.
    assert icd10cm_valid(refs, "E208", dt.date(2024, 9, 30))
    assert not icd10cm_valid(refs, "E208", dt.date(2024, 10, 1))
    # Codes without HCC: the package's billable codes, any year; categories are not billable.
    assert icd10cm_valid(refs, "J069", dt.date(2019, 1, 1))
    assert not icd10cm_valid(refs, "J06", dt.date(2025, 1, 1))
    assert not icd10cm_valid(refs, "A0009", dt.date(2025, 1, 1))


def test_plan_registry_and_code_lists(refs: duckdb.DuckDBPyConnection) -> None:
    plan = refs.execute(
        "SELECT issuer_identifier, csr_variant, rating_areas, effective_start_date FROM ref_plan"
    ).fetchall()
    assert plan == [("12345", "01", ["001", "002"], None)]
    sources = dict(refs.execute("SELECT code, source FROM ref_ndc WHERE code IN "
                                "('00071015523', '00003196401')").fetchall())  # fmt: skip
    assert sources["00071015523"].endswith("code_list_ndc.csv")
    assert sources["00003196401"].startswith("DIY")
    assert refs.execute("SELECT count(*) FROM ref_hcpcs WHERE code = '99213'").fetchall() == [(1,)]


def test_registry_without_plan_column_is_refused(tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text("plan\nX\n", encoding="utf-8")
    with pytest.raises(ValueError, match="insurance_plan_identifier"):
        load_reference_tables(duckdb.connect(), registry)


def test_npi_check_digit_and_dates_in_sql() -> None:
    con = duckdb.connect()
    good = npi_pool(3, 50)
    bad = [n[:-1] + str((int(n[-1]) + 1) % 10) for n in good]
    check = f"SELECT list_transform(?, lambda x: {npi_valid('x')})"
    assert all(con.execute(check, [good]).fetchall()[0][0])
    assert not any(con.execute(check, [bad]).fetchall()[0][0])
    dates = con.execute(
        f"SELECT list_transform(['2025-02-28', '2025-02-30', '02/28/2025', '2025-2-28'], "
        f"lambda x: {as_date('x')})"
    ).fetchall()[0][0]
    assert dates == [dt.date(2025, 2, 28), None, None, None]
