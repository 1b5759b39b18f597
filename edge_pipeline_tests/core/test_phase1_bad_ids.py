"""One file's recordIdentifiers never break the verification or the reports of the others.

The small issuer of ``phase1_support`` (an ESES, an ESMCS, an ESPCS and an ESSFS, all clean) is
written, one of its files edited the way an issuer's broken numbering would leave it, and the
four files loaded and verified in order:

* the largest BIGINT (9223372036854775807) followed by another record: a sequence error (X401)
  on that file, not an integer overflow that stops every later verification run;
* two records sharing a recordIdentifier: the file is rejected (H405: its records cannot be
  told apart), the others are verified, and ``edge-pipeline validate`` writes every report;
* a failure of one file's verification or of its reports (an internal error, simulated) is
  reported for that file, and ``validate`` still verifies and reports the files after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from phase1_support import (
    SMALL_PLAN,
    fresh_warehouse,
    reference_warehouse,
    write_small_issuer,
)
from record_builders import file_identifier, write_plan_registry

from edge_pipeline import cli
from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge import outbound
from edge_pipeline.edge.layouts import ESMCS
from edge_pipeline.edge.verification import engine, verify_all
from edge_pipeline.edge.warehouse.load import load_file

LARGEST = 9223372036854775807
#: The small issuer's files, in load order, by layout.
ORDER = ("ESES", "ESMCS", "ESPCS", "ESSFS")

#: (file, record whose identifier becomes LARGEST); a record follows each in its file.
LARGEST_CASES = {
    "first service line": ("ESMCS", lambda ids: ids["MC1"] + 1),
    "dependent enrollee": ("ESES", lambda ids: ids["B"]),
    "pharmacy claim": ("ESPCS", lambda ids: ids["RX1"]),
    "plan": ("ESSFS", lambda ids: ids[f"plan.{SMALL_PLAN}"]),
}
#: (file, record whose identifier changes, the identifier it gets: another record's).
Rid = Callable[[dict[str, int]], int]
REPEATED_CASES: dict[str, tuple[str, Rid, Rid]] = {
    "sibling service lines": ("ESMCS", lambda ids: ids["MC1"] + 2, lambda ids: ids["MC1"] + 1),
    "sibling medical claims": ("ESMCS", lambda ids: ids["MC2"], lambda ids: ids["MC1"]),
    "sibling enrollees": ("ESES", lambda ids: ids["B"], lambda ids: ids["A"]),
    "sibling pharmacy claims": ("ESPCS", lambda ids: ids["RX2"], lambda ids: ids["RX1"]),
    "sibling supplementals": ("ESSFS", lambda ids: ids["S2"], lambda ids: ids["S1"]),
    "a claim and its line": ("ESMCS", lambda ids: ids["MC2"] + 1, lambda ids: ids["MC2"]),
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_plan_registry(tmp_path_factory.mktemp("registry") / "registry.csv", [SMALL_PLAN])


@pytest.fixture(scope="module")
def template(registry: Path) -> Iterator[Path]:
    yield reference_warehouse(registry.parent, registry)


def _renumber(path: Path, old: int, new: int) -> None:
    """Give the record numbered ``old`` the recordIdentifier ``new`` (text edit of the XML)."""
    text = path.read_text(encoding="utf-8")
    tag = "<recordIdentifier>{}</recordIdentifier>"
    assert text.count(tag.format(old)) == 1
    path.write_text(text.replace(tag.format(old), tag.format(new)), encoding="utf-8")


def _issuer(folder: Path, layout: str, old: Rid, new: Rid) -> list[Path]:
    """The small issuer in ``folder`` with one record of ``layout`` renumbered."""
    written = write_small_issuer(folder)
    path, ids = written[ORDER.index(layout)]
    _renumber(path, old(ids), new(ids))
    return [p for p, _ in written]


def _verify(template: Path, folder: Path, paths: list[Path]) -> duckdb.DuckDBPyConnection:
    con = connect(fresh_warehouse(template, folder / "warehouse.duckdb"))
    for path in paths:
        assert load_file(con, path).status == "loaded"
    verify_all(con)
    return con


def _verdicts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per file in load order: status and its error codes."""
    return con.execute(
        "SELECT f.status, coalesce(list(DISTINCT e.error_code ORDER BY e.error_code) "
        "FILTER (WHERE e.error_code IS NOT NULL), []) "
        "FROM shadow_file_status f LEFT JOIN shadow_record_error e USING (load_id) "
        "GROUP BY f.load_id, f.status ORDER BY f.load_id"
    ).fetchall()


@pytest.mark.parametrize("case", LARGEST_CASES)
def test_the_largest_identifier_is_a_sequence_error_not_an_overflow(
    template: Path, tmp_path: Path, case: str
) -> None:
    layout, record = LARGEST_CASES[case]
    con = _verify(template, tmp_path, _issuer(tmp_path, layout, record, lambda _: LARGEST))
    try:
        expected = [("A", []) for _ in ORDER]
        expected[ORDER.index(layout)] = ("A", ["X401"])
        assert _verdicts(con) == expected
        flagged = con.execute(
            "SELECT list(value ORDER BY record_identifier) FROM shadow_record_error "
            "WHERE error_code = 'X401'"
        ).fetchall()[0][0]
        assert str(LARGEST) in flagged and len(flagged) == 2  # it, and the record after it
        verify_all(con)  # every later run verifies every file again
        assert _verdicts(con) == expected
    finally:
        con.close()


@pytest.mark.parametrize("case", REPEATED_CASES)
def test_a_repeated_identifier_rejects_only_that_file(
    template: Path, tmp_path: Path, case: str
) -> None:
    """The others are judged as if the file had not been sent (a rejected ESES leaves the
    claims without enrollment: M301, P301, S301)."""
    layout, old, new = REPEATED_CASES[case]
    paths = _issuer(tmp_path, layout, old, new)
    index = ORDER.index(layout)
    without = tmp_path / "without"
    without.mkdir()
    baseline = _verify(template, without, paths[:index] + paths[index + 1 :])
    try:
        expected = _verdicts(baseline)
    finally:
        baseline.close()
    expected.insert(index, ("R", ["H405"]))
    con = _verify(template, tmp_path, paths)
    try:
        assert _verdicts(con) == expected
        rejected = con.execute(
            "SELECT DISTINCT rejection_reason FROM shadow_record_status s "
            "JOIN shadow_file_status f USING (load_id) WHERE f.status = 'R'"
        ).fetchall()
        assert rejected == [("header_rejected",)]
    finally:
        con.close()


# -- the CLI ------------------------------------------------------------------------------------


def _validate(folder: Path, registry: Path, capsys: pytest.CaptureFixture[str]) -> tuple:
    """Run ``edge-pipeline validate`` in-process; exit code, output lines and report names."""
    out = folder / "reports"
    code = cli.main(
        [
            "validate",
            str(folder / "in"),
            "--warehouse",
            str(folder / "warehouse.duckdb"),
            "--out",
            str(out),
            "--plan-registry",
            str(registry),
            "--generated-at",
            "2026-05-01T00:00:00",
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    return code, lines, sorted(p.name for p in out.glob("*.xml")) if out.exists() else []


def _report_types(names: list[str]) -> set[str]:
    """The report codes written (``EH``, ``MD`` ...), from names like ``12345.MD.D....xml``."""
    return {name.split(".")[1] for name in names}


def _all_reports(*layouts: str) -> set[str]:
    return {f"{layout[2]}{kind}" for layout in layouts for kind in "HDSF"}


@pytest.mark.parametrize("case", ["sibling service lines", "sibling enrollees"])
def test_validate_reports_every_file_when_one_repeats_an_identifier(
    tmp_path: Path, registry: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    layout, old, new = REPEATED_CASES[case]
    (tmp_path / "in").mkdir()
    _issuer(tmp_path / "in", layout, old, new)
    code, lines, reports = _validate(tmp_path, registry, capsys)
    assert code == cli.EXIT_OK
    assert _report_types(reports) == _all_reports(*ORDER)
    assert [line.split()[:2] for line in lines] == [
        ["R" if name == layout else "A", name] for name in ORDER
    ]


def _failing(original: Callable, layout: str) -> Callable:
    def fail_for_one(con: duckdb.DuckDBPyConnection, name: str, *args: object) -> object:
        if name == layout:
            raise RuntimeError("simulated")
        return original(con, name, *args)

    return fail_for_one


def test_validate_goes_on_after_one_file_fails_verification(
    tmp_path: Path, registry: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    (tmp_path / "in").mkdir()
    write_small_issuer(tmp_path / "in")
    monkeypatch.setattr(engine, "resolve_chains", _failing(engine.resolve_chains, "ESPCS"))
    code, lines, reports = _validate(tmp_path, registry, capsys)
    assert code == cli.EXIT_INTERNAL
    assert _report_types(reports) == _all_reports("ESES", "ESMCS", "ESSFS")
    assert lines[2] == "error     3.xml: not verified (internal error RuntimeError)"
    assert [line.split()[:2] for i, line in enumerate(lines) if i != 2] == [
        ["A", name] for name in ("ESES", "ESMCS", "ESSFS")
    ]


def test_validate_goes_on_after_one_file_fails_its_reports(
    tmp_path: Path, registry: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    (tmp_path / "in").mkdir()
    write_small_issuer(tmp_path / "in")
    original = outbound.write_phase1_reports
    medical = file_identifier(ESMCS, 2)

    def fail_for_medical(con, file_identifier, *args, **kwargs):
        if file_identifier == medical:
            raise ValueError("simulated")
        return original(con, file_identifier, *args, **kwargs)

    monkeypatch.setattr(outbound, "write_phase1_reports", fail_for_medical)
    code, lines, reports = _validate(tmp_path, registry, capsys)
    assert code == cli.EXIT_INTERNAL
    assert _report_types(reports) == _all_reports("ESES", "ESPCS", "ESSFS")
    assert lines[1] == "error     2.xml: reports not written (internal error ValueError)"
    assert [line.split()[:2] for i, line in enumerate(lines) if i != 1] == [
        ["A", name] for name in ("ESES", "ESPCS", "ESSFS")
    ]
