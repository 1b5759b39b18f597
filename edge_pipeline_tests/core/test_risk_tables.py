"""The DIY tables: loading, the properties the engine relies on, the two stated intent rules
tied to the published text, and loud failures on missing or malformed tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from edge_pipeline.edge.reference import diy_dir
from edge_pipeline.edge.risk import DiyTableError, load_diy_model, load_diy_tables
from edge_pipeline.edge.risk.diy_tables import hcc_variable
from edge_pipeline.edge.risk.program import INTENT_FIXES
from edge_pipeline.edge.risk.sas import (
    AllOf,
    AnyOf,
    Compare,
    If,
    parse_statements,
    statement_writes,
)

YEARS = (2024, 2025)


@pytest.mark.parametrize("year", YEARS)
def test_tables_load_and_hierarchies_are_transitively_closed(year: int) -> None:
    model = load_diy_model(year)
    for table in (model.hierarchy, model.rxc_hierarchy):
        for var, zeroed in table.items():
            assert var not in zeroed
            for middle in zeroed:
                assert set(table[middle]) <= set(zeroed), (var, middle)
    assert model.rxc_hierarchy["RXC_06"] == ("RXC_07",)
    # table 9's HCCs are exactly the payment HCCs (table 4 minus table 12) of adult and child
    for name in ("adult", "child"):
        hccs = {v for v in model.coefficients[name] if v.startswith("HHS_HCC")}
        assert hccs == set(model.payment_hccs[name])


def test_hcc_spellings_of_tables_3_4_and_9_agree() -> None:
    assert hcc_variable("37.1") == hcc_variable("37_1") == "HHS_HCC037_1"
    assert hcc_variable("3.0") == hcc_variable("3") == "HHS_HCC003"
    assert hcc_variable("115") == "HHS_HCC115"


def _rows(year: int, table: str) -> list[dict]:
    return json.loads((diy_dir(year) / table).read_text(encoding="utf-8"))


def test_2024_rule_rxc_interactions_run_before_groups() -> None:
    """Table 6 of 2024 lists the groups before the RXC rows; read literally, the insulin x
    diabetes interaction could never fire (HCC 18 is absorbed by G24, 19-21 by G01)."""
    variables = [r["variable"] for r in _rows(2024, "table_6.json")]
    assert variables.index("G01") < variables.index("RXC_06_X_HCC018_019_020_021")
    text = next(r for r in _rows(2024, "table_6.json") if r["variable"] == "G01")
    members = "\n".join([text["definition"]] + [c["definition"] for c in text["continuation"]])
    for hcc in ("HHS_HCC019", "HHS_HCC020", "HHS_HCC021"):
        assert f"{hcc}   = 0" in members
    writes = [statement_writes(s) for s in load_diy_model(2024).programs["adult"].statements]
    first_group = next(i for i, w in enumerate(writes) if "G01" in w)
    assert writes.index({"RXC_06_X_HCC018_019_020_021"}) < first_group
    assert writes.index({"RXC_10_X_HCC159_158"}) < first_group


def test_child_severe_count_6_7_rule_is_tied_to_the_table_text() -> None:
    literal, intended = INTENT_FIXES[("child", "SEVERE_HCC_COUNT6_7")]
    for year in YEARS:
        row = next(r for r in _rows(year, "table_7.json") if r["variable"] == "SEVERE_HCC_COUNT6_7")
        assert row["definition"] == literal
        assert row["description"] == "Severe illness, 6 or 7 HCCs"
    # literal SAS precedence: (SEVERE and CNT = 6) or CNT = 7
    (as_written,) = parse_statements(literal)
    assert isinstance(as_written, If) and isinstance(as_written.cond, AnyOf)
    (fixed,) = parse_statements(intended)
    assert fixed.cond == AllOf(
        (
            Compare("SEVERE", "=", 1),
            AnyOf((Compare("HCC_CNT", "=", 6), Compare("HCC_CNT", "=", 7))),
        )
    )
    for year in YEARS:
        program = load_diy_model(year).programs["child"]
        used = [s for s in program.statements if "SEVERE_HCC_COUNT6_7" in statement_writes(s)]
        assert [s.cond for s in used] == [fixed.cond]


def test_load_diy_tables_writes_and_replaces_one_year() -> None:
    con = duckdb.connect()
    first = load_diy_tables(con, 2025)
    load_diy_tables(con, 2024)
    again = load_diy_tables(con, 2025)
    assert first == again and first["diy_icd_hcc"] > 10_000
    years = con.execute("SELECT DISTINCT benefit_year FROM diy_coefficient ORDER BY 1").fetchall()
    assert years == [(2024,), (2025,)]
    count = con.execute("SELECT count(*) FROM diy_icd_hcc WHERE benefit_year = 2025").fetchall()
    assert count[0][0] == first["diy_icd_hcc"]
    factor = con.execute(
        "SELECT factor FROM diy_csr_factor WHERE benefit_year = 2025 AND model = 'adult' "
        "AND csr_indicator = 10"
    ).fetchall()
    assert str(factor[0][0]) == "1.460"


# --- broken tables: a copy of cy2025 in a tmp dir, one file damaged -----------------------


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Copy the 2025 tables to tmp and point EDGE_REFERENCE_DIR there; yields the folder."""
    target = tmp_path / "hhs_hcc_diy" / "cy2025"
    shutil.copytree(diy_dir(2025), target)
    monkeypatch.setenv("EDGE_REFERENCE_DIR", str(tmp_path))
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_missing_table(broken: Path) -> None:
    (broken / "table_9.csv").unlink()
    with pytest.raises(DiyTableError, match=r"table_9\.csv: file missing"):
        load_diy_model(2025)


def test_missing_column(broken: Path) -> None:
    _edit(broken / "table_3.csv", ",cc_age_split,", ",age_split,")
    with pytest.raises(DiyTableError, match=r"table_3\.csv: expected one column matching"):
        load_diy_model(2025)


def test_bad_coefficient_names_file_and_line(broken: Path) -> None:
    _edit(broken / "table_9.csv", "9.075,8.875,8.83,", "9.075,8.875,nine,")
    with pytest.raises(
        DiyTableError, match=r"table_9\.csv, line 21: silver_level 'nine' is not a number"
    ):
        load_diy_model(2025)


def test_bad_condition_names_file_and_line(broken: Path) -> None:
    _edit(broken / "table_3.csv", "age < 21", "age ~ 21")
    with pytest.raises(DiyTableError, match=r"table_3\.csv, line \d+: unrecognised age/sex"):
        load_diy_model(2025)


def test_hierarchy_not_closed_is_refused(broken: Path) -> None:
    _edit(broken / "table_4.csv", '8,"9 ,10 ,11 ,12 ,13"', '8,"9 ,10 ,11 ,12"')
    with pytest.raises(DiyTableError, match="not transitively closed"):
        load_diy_model(2025)


def test_unparseable_sas_names_the_variable(broken: Path) -> None:
    _edit(broken / "table_6.json", "HCC_CNT >= 10 then", "HCC_CNT => 10 then")
    with pytest.raises(DiyTableError, match=r"table_6\.json: SEVERE_HCC_COUNT10PLUS"):
        load_diy_model(2025)


def test_table_13_disagreeing_with_the_csr_formula(broken: Path) -> None:
    _edit(broken / "table_13.csv", "Silver,10,1.46", "Silver,10,1.47")
    with pytest.raises(DiyTableError, match=r"table_13\.csv, line 5: .*1\.47 disagrees"):
        load_diy_model(2025)


def test_coefficient_for_an_unknown_variable(broken: Path) -> None:
    _edit(broken / "table_9.csv", "Adult,G01,", "Adult,G99,")
    with pytest.raises(DiyTableError, match="G99 is no variable of the adult model"):
        load_diy_model(2025)


def test_missing_year() -> None:
    with pytest.raises(DiyTableError, match="no DIY tables for benefit year 1999"):
        load_diy_model(1999)
