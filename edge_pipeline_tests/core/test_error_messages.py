"""Error messages of the readers: short, one line, naming file, line, record and element, and
never quoting a value of the file (issue 12, items 3 and 4).

A bad value may be a member id, a birth date or 900 KB of text; the message goes to stdout,
``submission_file.error``, Dagster metadata and the event log.  So every case here checks
that no four characters in a row of the planted value appear in the error, that the error is
under 300 characters, and that it still says where the problem is.  libxml2's own messages
quote the document (tag and entity names, an unfinished CDATA section's text), and a huge
``recordIdentifier`` made ``int()`` raise (an internal error), so both are covered too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from outbound_support import VERIFIED_AT, Err, Scenario, prepare
from record_builders import (
    enrollee,
    enrollment_period,
    medical_claim,
    rendered_service,
    write_submission,
)

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.cli import main
from edge_pipeline.edge.layouts import ESES, ESMCS
from edge_pipeline.edge.outbound import load_outbound_file, write_phase1_reports
from edge_pipeline.edge.readers import parallel
from edge_pipeline.edge.synth import write_bench_esmcs
from edge_pipeline.edge.warehouse.load import load_file

PLAN = "12345VA001000104"
MEMBER_ID = "QX7Z9K2M4W"  # what a masked member id looks like: 10 characters
BIRTH_DATE = "1980-05-17"
SHORT = 300


def _grams(value: str, n: int = 4) -> set[str]:
    return {value[i : i + n] for i in range(max(1, len(value) - n + 1))}


def assert_safe(error: str | None, *values: str) -> None:
    """Short, one printable line, and no four characters in a row of any planted value."""
    assert error is not None
    assert len(error) < SHORT, f"{len(error)} characters: {error[:400]!r}"
    assert error.isprintable(), repr(error)
    for value in values:
        leaked = [g for g in _grams(value) if g in error]
        assert not leaked, f"{leaked[:3]} of the value in {error!r}"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A small valid ESES and ESMCS (their bytes), written by the project's writer."""
    out = tmp_path_factory.mktemp("messages")
    eses, esmcs = out / "eses.xml", out / "esmcs.xml"
    write_submission(
        eses,
        ESES,
        1,
        [(None, [enrollee("M0000001", [enrollment_period(PLAN)]), enrollee("M0000002", [])])],
    )
    lines = [rendered_service(1, "2025-03-01", "99213"), rendered_service(2, "2025-03-01", "99214")]
    claim = medical_claim(
        "C1", "M0000001", lines, start="2025-03-01", end="2025-03-01", processed="2025-03-02T08:00"
    )
    write_submission(esmcs, ESMCS, 2, [(PLAN, [claim, {**claim, "claim_identifier": "C2"}])])
    return {"E": eses.read_bytes(), "M": esmcs.read_bytes()}


def _replace_rid(data: bytes, record: str, value: bytes) -> tuple[bytes, int]:
    """``data`` with the recordIdentifier of the first ``record`` replaced; and the record's
    line (where its start tag is)."""
    found = re.search(rb"<" + record.encode() + rb">\s*<recordIdentifier>(\d+)<", data)
    assert found is not None, record
    start, end = found.span(1)
    return data[:start] + value + data[end:], data[: found.start()].count(b"\n") + 1


def _load(path: Path, warehouse: Path, **kwargs):
    con = connect(warehouse)
    try:
        result = load_file(con, path, **kwargs)
        row = con.execute(
            "SELECT status, error, error_line, error_record, error_element FROM submission_file "
            "WHERE file_name = ?",
            [path.name],
        ).fetchone()
    finally:
        con.close()
    return result, row


# -- item 3: values are described, never quoted ---------------------------------------------------

RID_VALUES = {
    "member-id": (MEMBER_ID, "not an integer, 10 characters, digits and letters"),
    "birth-date": (BIRTH_DATE, "not an integer, 10 characters, digits and other characters"),
    "900-kb-text": ("Zq" * 460_800, "not an integer, 921,600 characters, letters"),
}
RECORDS = {  # a record read on its own, one read as an ancestor, one read with its parent
    "E": ["includedInsuredMemberProfile", "includedInsuredMember", "includedEnrollmentIssuer"],
    "M": ["includedMedicalClaimDetail", "includedServiceLine", "includedMedicalClaimPlan"],
}


@pytest.mark.parametrize("value", list(RID_VALUES))
@pytest.mark.parametrize(
    ("kind", "record"), [(k, r) for k, records in RECORDS.items() for r in records]
)
def test_unparsable_record_identifier_is_described_not_quoted(
    tmp_path: Path, files: dict[str, bytes], kind: str, record: str, value: str
) -> None:
    text, described = RID_VALUES[value]
    data, line = _replace_rid(files[kind], record, text.encode())
    path = tmp_path / f"bad-{kind}.xml"
    path.write_bytes(data)
    result, row = _load(path, tmp_path / "w.duckdb", parallel=False)
    assert result.status == "failed"
    assert row[:2] == ("failed", result.error)
    assert_safe(result.error, text)
    assert f"file {path.name}, line {line}, record {record}" in result.error
    assert "element recordIdentifier" in result.error and described in result.error
    assert row[2:] == (line, record, "recordIdentifier")


SYNTAX_ERRORS = {  # markup damage inside a member id, each a libxml2 error quoting the file
    "tag-mismatch": MEMBER_ID[:5].encode() + b"<" + MEMBER_ID[5:].encode() + b">",
    "undeclared-entity": b"&" + MEMBER_ID.encode() + b";",
    "unfinished-cdata": b"<![CDATA[" + MEMBER_ID.encode() + b" " + BIRTH_DATE.encode(),
    "undeclared-prefix": b"<" + MEMBER_ID.encode() + b":x/>",
    "invalid-utf8": MEMBER_ID[:5].encode() + b"\xff" + MEMBER_ID[5:].encode(),
    "control-character": MEMBER_ID[:5].encode() + b"\x01" + MEMBER_ID[5:].encode(),
    "entity-with-date": b"&d" + BIRTH_DATE.encode() + b";",
}


@pytest.mark.parametrize("damage", list(SYNTAX_ERRORS))
def test_libxml2_errors_around_member_data_quote_nothing(
    tmp_path: Path, files: dict[str, bytes], damage: str
) -> None:
    data = files["E"].replace(
        b"<insuredMemberIdentifier>M0000001<",
        b"<insuredMemberIdentifier>" + SYNTAX_ERRORS[damage] + b"<",
        1,
    )
    path = tmp_path / "broken.xml"
    path.write_bytes(data)
    result, row = _load(path, tmp_path / "w.duckdb", parallel=False)
    assert result.status == "failed" and row[1] == result.error
    assert_safe(result.error, MEMBER_ID, MEMBER_ID[4:], BIRTH_DATE)
    assert result.error.startswith(f"file {path.name}, line ") and row[2] is not None


def test_file_names_are_escaped_and_bounded(tmp_path: Path, files: dict[str, bytes]) -> None:
    """A newline in a file name cannot forge a line of output; a long one is cut."""
    data, _ = _replace_rid(files["E"], "includedInsuredMember", MEMBER_ID.encode())
    for name in ("ok\nloaded   ESES  forged.xml", "tab\tand\x1b[31mescape.xml", "n" * 250 + ".xml"):
        path = tmp_path / name
        path.write_bytes(data)
        result, _ = _load(path, tmp_path / "w.duckdb", parallel=False)
        assert result.status == "failed"
        assert_safe(result.error, MEMBER_ID)
        assert "\n" not in result.error and "\x1b" not in result.error
    assert (
        "ok\\nloaded"
        in _load(tmp_path / "ok\nloaded   ESES  forged.xml", tmp_path / "x.duckdb")[0].error
    )


def test_cli_prints_the_described_error(
    tmp_path: Path, files: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    data, line = _replace_rid(files["M"], "includedServiceLine", BIRTH_DATE.encode())
    path = tmp_path / "claims.xml"
    path.write_bytes(data)
    assert main(["ingest", str(path), "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    out, err = capsys.readouterr()
    (printed,) = out.splitlines()
    assert_safe(printed, BIRTH_DATE)
    assert f"line {line}, record includedServiceLine" in printed
    assert BIRTH_DATE[:4] not in err


# -- item 4: a recordIdentifier of any size is a clean refusal ------------------------------------

OUT_OF_RANGE = {
    "19-digits-just-over-bigint": ("9223372036854775808", "19 digits"),
    "4301-digits": ("9" * 4301, "4,301 digits"),
    "5000-digits": ("7" * 5000, "5,000 digits"),
    "leading-zeros-over-bigint": ("0" * 30 + "9223372036854775808", "49 digits"),
    "5000-digits-leading-zeros": ("0" * 4000 + "1" * 1000, "5,000 digits"),
}


@pytest.mark.parametrize("size", list(OUT_OF_RANGE))
@pytest.mark.parametrize("record", RECORDS["E"])
def test_huge_record_identifiers_are_refused_as_out_of_range(
    tmp_path: Path, files: dict[str, bytes], record: str, size: str
) -> None:
    digits, described = OUT_OF_RANGE[size]
    data, line = _replace_rid(files["E"], record, digits.encode())
    path = tmp_path / "huge.xml"
    path.write_bytes(data)
    result, row = _load(path, tmp_path / "w.duckdb", parallel=False)
    assert result.status == "failed", result.error
    assert "internal error" not in result.error
    assert f"recordIdentifier is out of range, {described}" in result.error
    assert f"line {line}, record {record}, element recordIdentifier" in result.error
    assert_safe(result.error)
    assert row[2:] == (line, record, "recordIdentifier")


def test_leading_zeros_within_range_load(tmp_path: Path, files: dict[str, bytes]) -> None:
    """As the XSD's nonNegativeInteger: zeros before the digits do not change the value."""
    data, _ = _replace_rid(files["E"], "includedInsuredMemberProfile", b"0" * 5000 + b"3")
    path = tmp_path / "zeros.xml"
    path.write_bytes(data)
    result, _ = _load(path, tmp_path / "w.duckdb", parallel=False)
    assert result.status == "loaded", result.error
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        rids = con.execute("SELECT record_identifier FROM enrollment_period").fetchall()
    assert rids == [(3,)]


def test_huge_record_identifier_in_the_parallel_half(tmp_path: Path) -> None:
    """The two-process reader meets it in its second worker: the file is read serially and
    refused exactly as the serial reader refuses it."""
    source = tmp_path / "bench.xml"
    write_bench_esmcs(source, 2 * 2**20, seed=3)
    data = source.read_bytes()
    at = data.index(b"<includedMedicalClaimDetail>", len(data) * 3 // 4)
    found = re.search(rb"<includedMedicalClaimDetail>\s*<recordIdentifier>(\d+)<", data[at:])
    assert found is not None
    start, end = (at + found.start(1), at + found.end(1))
    data = data[:start] + b"8" * 5000 + data[end:]
    path = tmp_path / "huge.xml"
    path.write_bytes(data)
    assert parallel.plan_split(path, ESMCS) is not None
    serial, _ = _load(path, tmp_path / "s.duckdb", parallel=False)
    both, _ = _load(path, tmp_path / "p.duckdb", parallel=True)
    assert both.status == serial.status == "failed"
    assert both.error == serial.error and "out of range, 5,000 digits" in serial.error
    assert_safe(serial.error)


# -- outbound reports -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def detail_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("outbound")
    error = Err("insuredMemberIdentifier", MEMBER_ID, "M301", "face")
    scenario = Scenario("M", "M00000000009", record_errors={3: [error]})
    con = duckdb.connect()
    prepare(con, base / "inbox", scenario)
    paths = write_phase1_reports(con, scenario.file_identifier, base / "outbox", VERIFIED_AT)
    con.close()
    (detail,) = [p for p in paths if ".MD." in p.name]
    return detail


CLAIM_RID = rb"<medicalClaimRecordIdentifier>\d+<"
OUTBOUND_DAMAGE = {
    "member-id-as-record-id": (CLAIM_RID, b"<medicalClaimRecordIdentifier>QX7Z9K2M4W<"),
    "birth-date-as-record-id": (CLAIM_RID, b"<medicalClaimRecordIdentifier>1980-05-17<"),
    "5000-digit-record-id": (CLAIM_RID, b"<medicalClaimRecordIdentifier>" + b"9" * 5000 + b"<"),
    "4301-digit-zeros": (CLAIM_RID, b"<medicalClaimRecordIdentifier>" + b"0" * 4301 + b"<"),
    "entity-in-a-value": (
        rb"<offendingElementValue>[^<]*<",
        b"<offendingElementValue>QX7Z&K2M4W;<",
    ),
    "stray-lt-in-a-value": (
        rb"<offendingElementValue>[^<]*<",
        b"<offendingElementValue>QX7Z<K2M4W<",
    ),
}


@pytest.mark.parametrize("damage", list(OUTBOUND_DAMAGE))
def test_outbound_report_errors_quote_nothing(
    tmp_path: Path, detail_report: Path, damage: str
) -> None:
    pattern, replacement = OUTBOUND_DAMAGE[damage]
    path = Path(shutil.copy(detail_report, tmp_path / detail_report.name))
    data = path.read_bytes()
    changed = re.sub(pattern, replacement, data, count=1)
    assert changed != data
    path.write_bytes(changed)
    con = duckdb.connect(str(tmp_path / "out.duckdb"))
    try:
        result = load_outbound_file(con, path)
        (stored,) = con.execute("SELECT error FROM outbound_file").fetchone()
    finally:
        con.close()
    assert stored == result.error
    if damage == "4301-digit-zeros":  # zero, written long: a value, not an error
        assert result.status == "loaded", result.error
        return
    assert result.status == "failed", damage
    assert "internal error" not in result.error
    assert_safe(result.error, MEMBER_ID, "9" * 20)
    assert result.error.startswith(f"file {path.name}, line ")
    if damage == "5000-digit-record-id":
        assert "out of range, 5,000 digits" in result.error
