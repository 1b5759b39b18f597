"""Values from files reach DuckDB only as bound parameters: a header or issuer value carrying
SQL fragments is judged exactly like a plain bad value of the same length.

Each case writes the same small issuer (``phase1_support.small_issuer_files``: an ESES, an
ESMCS, an ESPCS and an ESSFS, all clean) twice into fresh warehouses: once with one element
(fileIdentifier, executionZoneCode, generationDateTime of every header, or issuerIdentifier of
every issuer record) set to a hostile value, once set to ``Z`` repeated to the same length.  Both are loaded and verified;
every shadow verdict (file status, record statuses and reasons, error codes, elements and
values, with the hostile value standing for the plain one) must be the same.  A query that
spliced the value into its text would break (an error), switch checks off or on (other
verdicts), or read a local file into an error value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from phase1_support import SMALL_PLAN, fresh_warehouse, reference_warehouse, write_small_issuer
from record_builders import ISSUER, write_plan_registry

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.verification import verify_all
from edge_pipeline.edge.warehouse.load import load_file

#: SQL fragments: quotes, the engine's former token names, statement breaks, comments and
#: DuckDB functions that read local files.
HOSTILE = (
    "x@issuer",
    "@fid@lid@received@generated",
    "x' OR '1'='1",
    "'); SELECT 1; --",
    "' || read_text('/etc/passwd') || '",
    "$fid $issuer ? $1",
    "\\'; DROP TABLE enrollee; --",
)
#: The elements whose values the verification queries use (header and issuer record).
ELEMENTS = ("file_identifier", "issuer_identifier", "execution_zone", "generation_datetime")
_PASSWD = "||".join(f"chr({ord(c)})" for c in "/etc/passwd")
#: Values of two elements together: the engine spliced a token in one element's value (here
#: the fileIdentifier) into SQL text, so the other's value (the issuerIdentifier) ran as bare
#: SQL: every file's rows passed the row filter, none did, or a local file was read.
COMBINED = (
    {"file_identifier": "@issuer0001", "issuer_identifier": " OR TRUE OR ' = "},
    {"file_identifier": "@issuer0001", "issuer_identifier": " AND FALSE AND ' = "},
    {
        "file_identifier": "@issuer0001",
        "issuer_identifier": f" AND (SELECT count(*) FROM read_text({_PASSWD})) > 0 AND ' = ",
    },
)
CASES = [{element: value} for element in ELEMENTS for value in HOSTILE] + list(COMBINED)


def _verdicts(template: Path, folder: Path, values: dict[str, str]) -> dict[str, list]:
    """Load and verify the issuer with the elements of ``values`` set to their values; every
    shadow verdict, by file position (not identifier), without timestamps."""
    warehouse = fresh_warehouse(template, folder / "warehouse.duckdb")
    header = {k: v for k, v in values.items() if k != "issuer_identifier"}
    issuer = values.get("issuer_identifier", ISSUER)
    con = connect(warehouse)
    try:
        for path, _ in write_small_issuer(folder, header, issuer):
            load_file(con, path)
        verify_all(con)
        return _shadow(con)
    finally:
        con.close()


def _shadow(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return {
        "files": con.execute(
            "SELECT load_id, submission_type, status, layout, error_count "
            "FROM shadow_file_status ORDER BY load_id"
        ).fetchall(),
        "records": con.execute(
            "SELECT load_id, record_identifier, level, parent_record_identifier, status, "
            "failed_self, rejection_reason FROM shadow_record_status ORDER BY ALL"
        ).fetchall(),
        "errors": con.execute(
            "SELECT load_id, record_identifier, level, element, error_code, check_kind, value "
            "FROM shadow_record_error ORDER BY ALL"
        ).fetchall(),
        "levels": con.execute(
            "SELECT load_id, level, received, accepted, rejected FROM shadow_level_summary "
            "ORDER BY ALL"
        ).fetchall(),
    }


def _standing_for(verdicts: dict[str, list], values: dict[str, str]) -> dict[str, list]:
    """``verdicts`` with each value of ``values`` replaced by its plain stand-in (``Z``s of the
    same length) wherever it is echoed (an error's value, a fileIdentifier)."""

    def plain(text: str) -> str:
        for value in sorted(values.values(), key=len, reverse=True):
            text = text.replace(value, "Z" * len(value))
        return text

    return {
        kind: sorted(tuple(plain(v) if isinstance(v, str) else v for v in row) for row in rows)
        for kind, rows in verdicts.items()
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("reference")
    yield reference_warehouse(folder, write_plan_registry(folder / "registry.csv", [SMALL_PLAN]))


def test_the_clean_issuer_is_accepted(template: Path, tmp_path: Path) -> None:
    """The baseline: with its own values every record of the four files is accepted, so any
    difference below comes from the elements under test."""
    verdicts = _verdicts(template, tmp_path, {})
    assert [f[2] for f in verdicts["files"]] == ["A", "A", "A", "A"]
    assert verdicts["errors"] == []
    assert {r[4] for r in verdicts["records"]} == {"A"}


@pytest.mark.parametrize("values", CASES, ids=lambda v: "+".join(f"{k}={w}" for k, w in v.items()))
def test_sql_fragments_in_a_value_are_judged_like_a_plain_bad_value(
    template: Path, tmp_path: Path, values: dict[str, str]
) -> None:
    plain = {element: "Z" * len(value) for element, value in values.items()}
    hostile = _verdicts(template, tmp_path / "hostile", values)
    expected = _verdicts(template, tmp_path / "plain", plain)
    assert _standing_for(hostile, values) == _standing_for(expected, {})
    assert expected["errors"], "the plain bad value must be reported"
    assert not any("root:" in str(row) for row in hostile["errors"])
