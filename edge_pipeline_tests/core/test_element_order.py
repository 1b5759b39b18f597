"""Element order: the loader refuses exactly what the shipped XSD's ``xs:sequence`` refuses
(issue 12, item 17).

The XSDs (rendered from the layouts) declare every root and record as a sequence: the header,
then the file totals, then the issuer record; in a record its leaves in layout order (a
repeated leaf's occurrences together), then its child records.  The reader checks the same
order once per child-tag signature (``InboundStreamReader._plan``), the root's once per file,
and that no leaf follows a record's child records.  Each case loads a real file through the
real reader into DuckDB and validates the same bytes with lxml's ``XMLSchema``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from test_xsd import CLAIM_DIAGNOSES, ESES_DOC, ESMCS_DOC

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.layouts import BY_ROOT, FileLayout
from edge_pipeline.edge.warehouse.load import load_file
from edge_pipeline.edge.xsd import load_schema

DOCS = {"E": ESES_DOC, "M": ESMCS_DOC}


def _swap(text: str, first: str, second: str) -> str:
    """Swap two (e:-prefixed) leaf elements, each present once, by their full text."""
    a = re.search(rf"<e:{first}(?:>[^<]*</e:{first}>|/>)", text)
    b = re.search(rf"<e:{second}(?:>[^<]*</e:{second}>|/>)", text)
    assert a and b and a.start() < b.start(), (first, second)
    return text[: a.start()] + b.group() + text[a.end() : b.start()] + a.group() + text[b.end() :]


def _move_after(text: str, element: str, anchor: str) -> str:
    """Move the first leaf ``element`` to just after the first occurrence of ``anchor``."""
    found = re.search(rf"<e:{element}(?:>[^<]*</e:{element}>|/>)", text)
    assert found and anchor in text
    without = text[: found.start()] + text[found.end() :]
    at = without.index(anchor) + len(anchor)
    return without[:at] + found.group() + without[at:]


OUT_OF_ORDER = {
    # case: (document, mutation, the element the loader names)
    "header-swap": ("M", lambda t: _swap(t, "fileIdentifier", "executionZoneCode"), None),
    "totals-before-header": (
        "E",
        lambda t: _move_after(
            t, "insuredMemberTotalQuantity", 'xmlns:e="http://vo.edge.fm.cms.hhs.gov">'
        ),
        None,
    ),
    "total-after-issuer": (
        "E",
        lambda t: _move_after(
            t, "insuredMemberProfileTotalQuantity", "</e:includedEnrollmentIssuer>"
        ),
        "insuredMemberProfileTotalQuantity",
    ),
    "record-leaf-swap": (
        "E",
        lambda t: _swap(t, "insuredMemberBirthDate", "insuredMemberGenderCode"),
        "insuredMemberBirthDate",
    ),
    "period-leaf-swap": (
        "E",
        lambda t: _swap(t, "coverageStartDate", "coverageEndDate"),
        "coverageStartDate",
    ),
    "service-line-leaf-swap": (
        "M",
        lambda t: _swap(t, "serviceFromDate", "serviceToDate"),
        "serviceFromDate",
    ),
    "repeated-element-moved": (
        "M",
        lambda t: t.replace(CLAIM_DIAGNOSES, "<e:diagnosisCode>E119</e:diagnosisCode>").replace(
            "<e:dischargeStatusCode/>",
            "<e:dischargeStatusCode/><e:diagnosisCode>I10</e:diagnosisCode>",
        ),
        "diagnosisCode",
    ),
    "leaf-after-child-records": (
        "E",
        lambda t: _move_after(t, "insuredMemberGenderCode", "</e:includedInsuredMemberProfile>"),
        "insuredMemberGenderCode",
    ),
    "issuer-leaf-after-plans": (
        "M",
        lambda t: _move_after(t, "issuerPlanPaidTotalAmount", "</e:includedMedicalClaimPlan>"),
        "issuerPlanPaidTotalAmount",
    ),
    "record-id-last": (
        "E",
        lambda t: t.replace("<e:recordIdentifier>3</e:recordIdentifier>", "", 1).replace(
            "<e:rateAreaIdentifier>001</e:rateAreaIdentifier>",
            "<e:rateAreaIdentifier>001</e:rateAreaIdentifier>"
            "<e:recordIdentifier>3</e:recordIdentifier>",
        ),
        "recordIdentifier",
    ),
}


def _layout(text: str) -> FileLayout:
    return BY_ROOT[etree.QName(etree.fromstring(text.encode())).localname]


def _load(tmp_path: Path, text: str, name: str = "file.xml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    con = connect(tmp_path / "w.duckdb")
    try:
        return load_file(con, path, parallel=False)
    finally:
        con.close()


@pytest.mark.parametrize("case", list(OUT_OF_ORDER))
def test_out_of_order_files_are_refused_by_reader_and_xsd_alike(tmp_path: Path, case: str) -> None:
    kind, mutate, element = OUT_OF_ORDER[case]
    text = mutate(DOCS[kind])
    assert text != DOCS[kind]
    assert not load_schema(_layout(text)).validate(etree.fromstring(text.encode()))
    result = _load(tmp_path, text)
    assert result.status == "failed", case
    assert "out of order" in result.error or "after the" in result.error, result.error
    assert re.search(r"line \d+", result.error), result.error
    if element is not None:
        assert f"element {element}" in result.error, result.error


OPTIONAL_OMITTED = {
    "E": [
        "<e:subscriberIdentifier/>",
        "<e:insuredMemberGenderCode>F</e:insuredMemberGenderCode>",
        "<e:insuredMemberTotalQuantity>1</e:insuredMemberTotalQuantity>",
    ],
    "M": [
        "<e:billTypeCode/>",
        "<e:diagnosisCode>I10</e:diagnosisCode>",
        "<e:serviceModifierCode>25</e:serviceModifierCode>",
        "<e:fileIdentifier>F00000000001</e:fileIdentifier>",
    ],
}


@pytest.mark.parametrize("kind", list(OPTIONAL_OMITTED))
def test_in_order_files_with_optional_elements_omitted_pass_both(tmp_path: Path, kind: str) -> None:
    text = DOCS[kind]
    for fragment in OPTIONAL_OMITTED[kind]:
        assert fragment in text
        text = text.replace(fragment, "", 1)
    if kind == "M":  # the header reader needs a fileIdentifier to register the file
        text = text.replace(
            "<e:executionZoneCode>",
            "<e:fileIdentifier>F00000000002</e:fileIdentifier><e:executionZoneCode>",
            1,
        )
    assert load_schema(_layout(text)).validate(etree.fromstring(text.encode()))
    result = _load(tmp_path, text)
    assert result.status == "loaded", result.error
    for original in DOCS.values():
        assert load_schema(_layout(original)).validate(etree.fromstring(original.encode()))
