"""Which checks an element gets (issuer guide): in ESES, ESMCS and ESPCS every applicable check
runs, so a value that fails face validity and is also not in its reference list gets both
errors; only ESSFS skips referential and logical checks after a required or face failure.
And "exactly one of subscriberIndicator / subscriberIdentifier" is a Required check
(situational): neither is E111, both is E118 (E411 is retired).

One warehouse: the small issuer of ``phase1_support`` with these values changed, then loaded
and verified in order:

* ESES: B's period in plan ``P15`` (15 characters, not registered); C (a new subscriber) with
  both subscriber elements, D with neither;
* ESMCS: MC2's diagnosis ``J06.9`` and its line's service code ``9921`` (malformed, in no
  list), MC1's member id of 51 characters (too long, not enrolled);
* ESPCS: RX2's NDC of 10 digits (malformed, in no list);
* ESSFS: S2's diagnosis ``E11.9`` and S1's member id of 51 characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pytest
from phase1_support import (
    SMALL_PLAN,
    fresh_warehouse,
    reference_warehouse,
    small_issuer_files,
)
from record_builders import (
    enrollee,
    enrollment_period,
    file_identifier,
    submission_header,
    write_plan_registry,
    write_records,
)

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.verification import verify_all
from edge_pipeline.edge.verification.catalog import entry, render_catalog_markdown
from edge_pipeline.edge.warehouse.load import load_file

BAD_PLAN = SMALL_PLAN[:-1]  # 15 characters: face error, and in no registry
LONG_MEMBER = "M" * 51  # too long, and enrolled nowhere
BAD_NDC = "0000319640"  # 10 digits


def _records(files: list) -> dict[str, dict]:
    """Every keyed record of the small issuer, by key (keys are unique across its files)."""
    return {key: record for _, groups in files for _, items in groups for key, record in items}


@dataclass
class Verified:
    con: duckdb.DuckDBPyConnection
    ids: dict[tuple[str, str], int]  # (layout, record key) -> recordIdentifier
    fids: dict[str, str]  # layout -> fileIdentifier

    def errors(self, layout: str, key: str, offset: int) -> set[str]:
        """Error codes of the record ``offset`` after the keyed record ``key`` of ``layout``."""
        rows = self.con.execute(
            "SELECT error_code FROM shadow_record_error WHERE file_identifier = ? "
            "AND record_identifier = ?",
            [self.fids[layout], self.ids[(layout, key)] + offset],
        ).fetchall()
        return {code for (code,) in rows}


@pytest.fixture(scope="module")
def v(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verified]:
    folder = tmp_path_factory.mktemp("all_checks")
    registry = write_plan_registry(folder / "registry.csv", [SMALL_PLAN])
    files = small_issuer_files()
    records = _records(files)
    records["B"]["enrollment_period"][0]["insurance_plan_identifier"] = BAD_PLAN
    records["MC2"]["diagnosis_code"] = ["J06.9"]
    records["MC2"]["line"][0]["service_code"] = "9921"
    records["MC1"]["insured_member_identifier"] = LONG_MEMBER
    records["RX2"]["national_drug_code"] = BAD_NDC
    records["S2"]["supplemental_diagnosis_code"] = ["E11.9"]
    records["S1"]["insured_member_identifier"] = LONG_MEMBER
    eses_items = files[0][1][0][1]
    both = enrollment_period(SMALL_PLAN, subscriber_identifier="MEMBERA")  # indicator S too
    neither = enrollment_period(SMALL_PLAN, subscriber_indicator="")
    eses_items += [("C", enrollee("MEMBERC", [both])), ("D", enrollee("MEMBERD", [neither]))]
    connection = connect(fresh_warehouse(reference_warehouse(folder, registry), folder / "w.db"))
    verified = Verified(connection, {}, {})
    for n, (layout, groups) in enumerate(files, 1):
        path = folder / f"{n}.xml"
        verified.fids[layout.name] = file_identifier(layout, n)
        header = submission_header(layout, verified.fids[layout.name])
        written = write_records(path, layout, header, groups)
        verified.ids.update({(layout.name, key): rid for key, rid in written.items()})
        assert load_file(connection, path).status == "loaded"
    verify_all(connection)
    yield verified
    connection.close()


#: (layout, record key, offset to the record holding the element, face code, referential code)
BOTH = {
    "ESES plan id": ("ESES", "B", 1, "E212", "E311"),
    "ESMCS diagnosis code": ("ESMCS", "MC2", 0, "M209", "M302"),
    "ESMCS service code": ("ESMCS", "MC2", 1, "M226", "M321"),
    "ESMCS member id": ("ESMCS", "MC1", 0, "M201", "M301"),
    "ESPCS NDC": ("ESPCS", "RX2", 0, "P209", "P302"),
}
#: The same kinds of defects in an ESSFS: the face error only.
FACE_ONLY = {
    "ESSFS diagnosis code": ("ESSFS", "S2", 0, "S210", "S302"),
    "ESSFS member id": ("ESSFS", "S1", 0, "S201", "S301"),
}


@pytest.mark.parametrize("case", BOTH)
def test_a_face_failure_still_gets_its_referential_result(v: Verified, case: str) -> None:
    layout, key, offset, face, referential = BOTH[case]
    assert (entry(face).check, entry(referential).check) == ("face", "referential")
    assert {face, referential} <= v.errors(layout, key, offset)


@pytest.mark.parametrize("case", FACE_ONLY)
def test_in_an_essfs_a_face_failure_skips_the_referential_check(v: Verified, case: str) -> None:
    layout, key, offset, face, referential = FACE_ONLY[case]
    errors = v.errors(layout, key, offset)
    assert face in errors and referential not in errors


def test_both_subscriber_elements_is_a_required_error(v: Verified) -> None:
    assert v.errors("ESES", "C", 1) == {"E118"}
    assert entry("E118").check == "required" and entry("E411").retired


def test_neither_subscriber_element_is_a_required_error(v: Verified) -> None:
    assert v.errors("ESES", "D", 1) == {"E111"}
    assert entry("E111").check == "required"


def test_the_catalog_lists_each_elements_checks() -> None:
    text = render_catalog_markdown()
    assert "| ESMCS | claim | diagnosisCode | M108 | M209 | M302 | - |" in text
    assert "| ESES | enrollment_period | subscriberIdentifier | E118 | E219 | E313 | - |" in text
    assert "E411" not in text.split("## Checks per element")[1]
