"""Memory bounded whatever the values: per-element length limits and batches sized by bytes
(issue 12, item 9).

Every element has a load limit (``Element.max_length``: at least 256 characters, four times
the spec's stated length where it states one), far above any legitimate value, so values that
are somewhat too long still load for Phase 1 to report.  A value over it is refused with the
file, naming element, record and line, as the shipped XSD (``xs:maxLength``) refuses it.  And
the reader hands out a batch once its Arrow data reaches a byte budget, not only a row count,
so long values cannot make a 65,536-row batch huge.  Files here stay under ~10 MB; batching is
asserted from the reader's own batches (no RSS measurement in a test).
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from lxml import etree
from record_builders import submission_header, write_records

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.layouts import ESES, ESMCS, FileLayout
from edge_pipeline.edge.layouts.model import MIN_VALUE_LIMIT
from edge_pipeline.edge.readers.stream import InboundStreamReader
from edge_pipeline.edge.synth.bench import values_at_limit
from edge_pipeline.edge.warehouse.load import load_file
from edge_pipeline.edge.xsd import load_schema

BUDGET = 1 << 20  # the reader's byte budget in these tests (the default is 64 MB)
PLAN = "12345VA001000104"
ENROLLEES = 2_500
CLAIMS = 150


@pytest.fixture(scope="module")
def long_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An ESES and an ESMCS whose every value is as long as its element allows."""
    out = tmp_path_factory.mktemp("limits")
    enrollee = ESES.issuer.children[0]
    period = enrollee.children[0]
    people = [
        (str(n), {**values_at_limit(enrollee, n), period.level: [values_at_limit(period, n)]})
        for n in range(ENROLLEES)
    ]
    eses = out / "long.E.xml"
    write_records(eses, ESES, submission_header(ESES, "12345E000001"), [(None, people)])
    claim = ESMCS.issuer.children[0].children[0]
    line = claim.children[0]
    claims = [
        (
            str(n),
            {
                **values_at_limit(claim, n, repeats=99),
                line.level: [values_at_limit(line, 10 * n + k) for k in range(2)],
            },
        )
        for n in range(CLAIMS)
    ]
    esmcs = out / "long.M.xml"
    write_records(esmcs, ESMCS, submission_header(ESMCS, "12345M000001"), [(PLAN, claims)])
    return {"E": eses, "M": esmcs}


def _batches(layout: FileLayout, path: Path) -> dict[str, list[int]]:
    """Bytes of every batch the reader hands out, per table, under a 1 MB budget."""
    reader = InboundStreamReader(layout, path.name, batch_rows=10**9, batch_bytes=BUDGET)
    sizes: dict[str, list[int]] = defaultdict(list)
    with open(path, "rb") as source:
        for table, batch in reader.batches(source):
            sizes[table].append(batch.nbytes)
    return sizes


@pytest.mark.parametrize(
    ("kind", "table"),
    [("E", "enrollment_period"), ("E", "enrollee"), ("M", "medical_claim_diagnosis")],
)
def test_long_values_are_batched_by_bytes(
    long_files: dict[str, Path], kind: str, table: str
) -> None:
    layout = ESES if kind == "E" else ESMCS
    sizes = _batches(layout, long_files[kind])[table]
    # several batches, not one: the byte budget cut them (the row count never would)
    assert len(sizes) >= max(2, sum(sizes) // (2 * BUDGET)), sizes
    assert max(sizes) <= 2 * BUDGET, sizes


@pytest.mark.parametrize("kind", ["E", "M"])
def test_values_at_their_limit_load_intact(
    tmp_path: Path, long_files: dict[str, Path], kind: str
) -> None:
    path = long_files[kind]
    layout = ESES if kind == "E" else ESMCS
    assert load_schema(layout).validate(etree.parse(str(path)))  # the XSD accepts them too
    con = connect(tmp_path / "w.duckdb")
    try:
        result = load_file(con, path, parallel=False)
        assert result.status == "loaded", result.error
        tree = etree.parse(str(path))
        for record, _ in layout.records():
            for field in record.fields:
                if field.name == "recordIdentifier":
                    continue
                want = Counter(
                    leaf.text
                    for elem in tree.iter(f"{{*}}{record.element}")
                    for leaf in elem.iterchildren(f"{{*}}{field.name}")
                )
                if field.repeated:
                    query = f"SELECT {field.column} FROM {field.table}"
                else:
                    query = f"SELECT {field.column} FROM {record.table}"
                got = Counter(v for (v,) in con.execute(query).fetchall())
                if record.table == "submission_issuer" or record.level == "plan":
                    continue  # issuer and plan values written by the writer, not long
                assert got == want, (record.table, field.name)
                assert {len(v) for v in got} == {field.max_length}
    finally:
        con.close()


def _longer(path: Path, element: str, length: int, occurrence: int = 1) -> tuple[bytes, int]:
    """The file with the ``occurrence``-th ``element``'s text ``length`` characters long, and
    that element's line."""
    tree = etree.parse(str(path))
    found = [e for e in tree.iter(f"{{*}}{element}")][occurrence - 1]
    found.text = "W" * length
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8"), found.sourceline


OVER = {
    # case: (file, element, length, record named, occurrence)
    "member-id-just-over": ("E", "insuredMemberIdentifier", 257, "includedInsuredMember", 1),
    "birth-date-1mb": ("E", "insuredMemberBirthDate", 2**20, "includedInsuredMember", 7),
    "period-plan-id": ("E", "insurancePlanIdentifier", 300, "includedInsuredMemberProfile", 2),
    "repeated-diagnosis": ("M", "diagnosisCode", 5_000, "includedMedicalClaimDetail", 40),
    "service-line-code": ("M", "serviceCode", 9 * 2**20, "includedServiceLine", 3),
    "header-file-identifier": ("E", "fileIdentifier", 4_000, None, 1),
    "file-total": ("M", "claimDetailTotalQuantity", 2**20, None, 1),
}


@pytest.mark.parametrize("case", list(OVER))
def test_values_over_their_limit_are_refused_cleanly(
    tmp_path: Path, long_files: dict[str, Path], case: str
) -> None:
    kind, element, length, record, occurrence = OVER[case]
    layout = ESES if kind == "E" else ESMCS
    data, line = _longer(long_files[kind], element, length, occurrence)
    assert not load_schema(layout).validate(etree.parse(io.BytesIO(data)))
    path = tmp_path / "over.xml"
    path.write_bytes(data)
    con = connect(tmp_path / "w.duckdb")
    try:
        result = load_file(con, path, parallel=False)
        stored = con.execute(
            "SELECT error, error_line, error_element, file_identifier FROM submission_file"
        ).fetchone()
        rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in layout.tables())
    finally:
        con.close()
    assert result.status == "failed" and stored[0] == result.error
    limit = max(MIN_VALUE_LIMIT, 4 * 12) if element == "fileIdentifier" else MIN_VALUE_LIMIT
    assert f"value of {length:,} characters is over this element's load limit of {limit}" in (
        result.error
    )
    assert f"line {line}" in result.error and f"element {element}" in result.error
    if record is not None:
        assert f"record {record}" in result.error
    assert stored[1:3] == (line, element)
    assert len(result.error) < 300 and "WWWW" not in result.error
    assert stored[3] is None or len(stored[3]) <= limit  # no oversized header value stored
    assert rows == 0


def test_limits_are_declared_in_the_layout_and_the_xsd() -> None:
    """One declaration: the layout's ``max_length``, rendered into the XSD as maxLength."""
    for layout in (ESES, ESMCS):
        schema = load_schema(layout)
        assert schema is not None
        leaves = [*layout.header, *layout.totals]
        leaves += [f for r, _ in layout.records() for f in r.fields]
        assert {f.max_length for f in leaves} >= {MIN_VALUE_LIMIT}
        plan_id = next(f for f in leaves if f.name == "insurancePlanIdentifier")
        assert plan_id.max_length == max(MIN_VALUE_LIMIT, 4 * 16)
        text = etree.tostring(etree.parse(str(_xsd_path(layout))), encoding="unicode")
        assert f'<xs:maxLength value="{MIN_VALUE_LIMIT}"/>' in text


def _xsd_path(layout: FileLayout) -> Path:
    from edge_pipeline.edge.xsd import default_xsd_dir, xsd_filename

    return default_xsd_dir() / xsd_filename(layout)


def test_duckdb_sees_whole_values(tmp_path: Path, long_files: dict[str, Path]) -> None:
    """The longest values arrive whole (no truncation anywhere between parser and table)."""
    con = connect(tmp_path / "w.duckdb")
    try:
        assert load_file(con, long_files["M"], parallel=False).status == "loaded"
        lengths = con.execute(
            "SELECT min(length(diagnosis_code)), max(length(diagnosis_code)), count(*) "
            "FROM medical_claim_diagnosis"
        ).fetchone()
    finally:
        con.close()
    assert lengths == (MIN_VALUE_LIMIT, MIN_VALUE_LIMIT, CLAIMS * 99)
