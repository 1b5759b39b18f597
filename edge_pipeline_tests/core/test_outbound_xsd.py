"""The Phase 1 outbound layouts and their shipped XSDs (generated, compilable, consistent).

The layouts must also agree with the inbound ones: a detail report has one result level per
inbound record level, and a summary counts every one of those levels plus the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from xsd_support import assert_writes_the_shipped_xsds, rendered_schema

from edge_pipeline.edge.layouts import BY_TYPE
from edge_pipeline.edge.layouts.outbound import (
    DETAIL_LAYOUTS,
    OUTBOUND_LAYOUTS,
    PHASE1_REPORTS,
    SUMMARY_LAYOUTS,
    OutboundLayout,
)
from edge_pipeline.edge.layouts.outbound.model import Group
from edge_pipeline.edge.layouts.outbound.tree import tree
from edge_pipeline.edge.outbound.core.xsd import load_schema, render_xsd, shipped_xsd, write_xsds

XS = {"xs": "http://www.w3.org/2001/XMLSchema"}
IDS = [layout.name for layout in OUTBOUND_LAYOUTS]


@pytest.mark.parametrize("layout", OUTBOUND_LAYOUTS, ids=IDS)
def test_shipped_xsd_is_the_rendered_layout(layout: OutboundLayout) -> None:
    assert shipped_xsd(layout) == render_xsd(layout), (
        f"{layout.name}.xsd is stale: run `python -m edge_pipeline.edge.outbound.core.xsd`"
    )


@pytest.mark.parametrize("layout", OUTBOUND_LAYOUTS, ids=IDS)
def test_render_is_deterministic_and_compiles(layout: OutboundLayout) -> None:
    document = rendered_schema(render_xsd, layout)
    (root,) = document.xpath("xs:element", namespaces=XS)
    assert root.get("name") == layout.root
    assert isinstance(load_schema(layout), etree.XMLSchema)


@pytest.mark.parametrize("layout", OUTBOUND_LAYOUTS, ids=IDS)
def test_assumed_names_are_marked(layout: OutboundLayout) -> None:
    """Every declaration of an assumed element says so in the XSD."""
    document = etree.fromstring(render_xsd(layout).encode())
    assumed: set[str] = set()

    def visit(group: Group) -> None:
        for child in group.children:
            if child.assumed:
                assumed.add(child.name)
            if isinstance(child, Group):
                visit(child)

    visit(tree(layout))
    for name in assumed:
        for node in document.xpath(f"//xs:element[@name='{name}']", namespaces=XS):
            text = node.findtext("xs:annotation/xs:documentation", namespaces=XS) or ""
            if text:
                assert "(assumed)" in text, name
    if tree(layout).assumed:
        (root,) = document.xpath("xs:element", namespaces=XS)
        assert "(assumed)" in root.findtext("xs:annotation/xs:documentation", namespaces=XS)


def test_write_xsds_and_module_entry(tmp_path: Path) -> None:
    assert_writes_the_shipped_xsds(
        tmp_path, OUTBOUND_LAYOUTS, write_xsds, shipped_xsd, "edge_pipeline.edge.outbound.core.xsd"
    )


def test_report_sets_and_file_codes() -> None:
    codes = {
        kind: (reports.file_status_code, reports.detail.file_code, reports.summary.file_code)
        for kind, reports in PHASE1_REPORTS.items()
    }
    assert codes == {
        "E": ("EH", "ED", "ES"),
        "M": ("MH", "MD", "MS"),
        "P": ("PH", "PD", "PS"),
        "S": ("SH", "SD", "SS"),
    }
    roots = [layout.root for layout in OUTBOUND_LAYOUTS]
    assert len(set(roots)) == len(roots)


@pytest.mark.parametrize("layout", DETAIL_LAYOUTS, ids=[d.name for d in DETAIL_LAYOUTS])
def test_detail_levels_are_the_inbound_record_levels(layout) -> None:
    inbound = BY_TYPE[layout.submission_type]
    assert [r.level for r, _ in layout.levels()] == [r.level for r, _ in inbound.records()]
    elements = [r.element for r, _ in layout.levels()]
    assert len(set(elements)) == len(elements), "the reader maps result elements to levels"


@pytest.mark.parametrize("layout", SUMMARY_LAYOUTS, ids=[s.name for s in SUMMARY_LAYOUTS])
def test_summaries_count_every_level(layout) -> None:
    inbound = BY_TYPE[layout.submission_type]
    levels = ["file", *(r.level for r, _ in inbound.records())]
    assert [block.level for block in layout.counts] == levels
    assert layout.source.level in levels
