"""``edge-pipeline score-diy``: real DIY input CSV files through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_pipeline.cli import main

PERSON_HEADER = "ID,SEX,DOB,AGE_LAST,METAL,CSR_INDICATOR,ENROLDURATION\n"
DX_HEADER = "ID,ICD10,DIAGNOSIS_SERVICE_DATE\n"


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def run(tmp_path: Path, folder: Path, year: int = 2025) -> tuple[int, str]:
    out = tmp_path / "scores.csv"
    code = main(
        ["score-diy", "--benefit-year", str(year), "--input", str(folder), "--output", str(out)]
    )
    return code, out.read_text(encoding="utf-8") if out.exists() else ""


def test_worked_example_and_friends(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "in",
        PERSON=PERSON_HEADER
        + "E2,1,19850101,40,S,2,12\n"  # silver with a gold indicator: adjusted score missing
        + "E1,2,19700301,55,S,3,4\n"
        + "E3,1,19850101,40,S,1,12\n",
        DIAGNOSES=DX_HEADER
        + "E1,A419,20250301\nE1,I5022,2025-03-01\nE1,E1165,20250301\nE1,N186,20250301\n"
        + "E3,E1122,20250301\n",
        NDC="ID,NDC\nE3,00002021301\n",
    )
    code, text = run(tmp_path, folder)
    assert code == 0
    assert text.splitlines() == [
        "ID,SCORE_RAW,SCORE_CSR_ADJUSTED",
        "E1,28.888,32.355",  # the spec's worked example
        "E2,0.143,",  # MAGE_LAST_40_44; indicator 2 adjusts gold only -> missing
        "E3,1.865,1.865",  # .143 + G01 .172 + RXC_06 1.018 + RXC_06_X_HCC018_019_020_021 .532
    ]


def test_2024_run(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "in",
        PERSON=PERSON_HEADER + "E1,2,19690301,55,S,3,4\n",
        DIAGNOSES=DX_HEADER + "E1,A419,20240301\nE1,I5022,20240301\nE1,E1165,20240301\n"
        "E1,N186,20240301\n",
    )
    assert run(tmp_path, folder, 2024) == (0, "ID,SCORE_RAW,SCORE_CSR_ADJUSTED\nE1,31.418,35.188\n")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"PERSON": PERSON_HEADER + "E1,2,19700301,55,S,3,4\nE2,3,19700301,55,S,3,4\n"},
            "PERSON.csv line 3, column SEX: '3' is not 1 (male) or 2 (female)",
        ),
        (
            {"PERSON": PERSON_HEADER + "E1,2,1970-03-01,55,S,3,4\n"},
            "PERSON.csv line 2, column DOB: '1970-03-01' is not a date YYYYMMDD",
        ),
        (
            {"PERSON": PERSON_HEADER + "E1,2,19700301,55,S,12,4\n"},
            "PERSON.csv line 2, column CSR_INDICATOR: '12' is not a CSR_INDICATOR",
        ),
        (
            {"PERSON": PERSON_HEADER + "E1,2,19700301,55,S,1,13\n"},
            "PERSON.csv line 2, column ENROLDURATION: '13' is not an integer from 1 to 12",
        ),
        (
            {"PERSON": PERSON_HEADER + "E1,2,19700301,55,X,1,4\n"},
            "PERSON.csv line 2, column METAL: 'X' is not one of P G S B C",
        ),
        (
            {"PERSON": PERSON_HEADER + "E1,2,19700301,55,S,1,4\nE1,2,19700301,55,S,1,4\n"},
            "PERSON.csv line 3, column ID: ID 'E1' repeated",
        ),
        (
            {
                "PERSON": PERSON_HEADER + "E1,2,19700301,55,S,1,4\n",
                "DIAGNOSES": DX_HEADER + "E1,A419,20250301\nE1,I5022,20251301\n",
            },
            "DIAGNOSES.csv line 3, column DIAGNOSIS_SERVICE_DATE: '20251301' is not a date",
        ),
        (
            {
                "PERSON": PERSON_HEADER + "E1,2,19700301,55,S,1,4\n",
                "NDC": "ID,NDC\nE9,00002021301\n",
            },
            "NDC.csv line 2, column ID: ID 'E9' is not in PERSON.csv",
        ),
        ({"PERSON": "ID,SEX\nE1,2\n"}, "PERSON.csv line 1: missing column(s) DOB, AGE_LAST"),
        ({"NDC": "ID,NDC\n"}, "PERSON.csv: missing or empty"),
    ],
)
def test_bad_input_exits_2_naming_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], message: str
) -> None:
    code, _ = run(tmp_path, write(tmp_path / "in", **files))
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_input_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, tmp_path / "nope")[0] == 2
    assert "no such input directory" in capsys.readouterr().err
