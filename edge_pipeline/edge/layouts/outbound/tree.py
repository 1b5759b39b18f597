"""The structural tree (names, order, nesting, repetition) of every outbound layout.

One derivation serves the XSD generator and the reader's structural checker, so the published
schema and what the loader accepts cannot drift apart.
"""

from __future__ import annotations

import functools

from edge_pipeline.edge.layouts.outbound.common import (
    ERROR_CODE_FREQUENCY,
    FILE_HEADER,
    RECORD_COUNTS,
    RECORDED_ERROR,
    STATUS,
)
from edge_pipeline.edge.layouts.outbound.frequency_common import DATA_ELEMENT_FREQUENCY
from edge_pipeline.edge.layouts.outbound.model import (
    CountsBlock,
    DetailLayout,
    FileStatusLayout,
    FormTypeCounts,
    FrequencyLayout,
    Group,
    Leaf,
    MemberMonths,
    MonthCounts,
    Node,
    OutboundLayout,
    RaReportLayout,
    ResultLevel,
    Rollup,
    ScopeSummary,
    SummaryLayout,
)
from edge_pipeline.edge.layouts.outbound.ra_common import RA_FILE_HEADER

#: The detail reports' file status block (assumed): without it a reader of the detail report
#: alone could not tell "rejected because the header failed" from any other cascade.
DETAIL_FILE_STATUS = STATUS.occurs(0, 1).named(
    STATUS.name, assumed=True, doc="status of the inbound file, as in its ESFAR (assumed)"
)


def result_group(result: ResultLevel) -> Group:
    """A detail report's processing result of one record level, with its child levels."""
    children: list[Node] = [Leaf(result.record_identifier, "integer", column="record_identifier")]
    if result.key:
        children.append(
            Leaf(
                result.key,
                "code",
                min_occurs=0,
                doc="absent when the inbound record had none",
                column="record_key",
            )
        )
    children += [STATUS, RECORDED_ERROR]
    children += [result_group(child).occurs(0, child.max_occurs) for child in result.children]
    doc = f"processing result of one {result.level} record"
    return Group(
        result.element,
        tuple(children),
        min_occurs=0,
        max_occurs=result.max_occurs,
        doc=f"{doc}; {result.doc}" if result.doc else doc,
        assumed=result.assumed,
    )


def counts_group(block: CountsBlock) -> Group:
    return RECORD_COUNTS.named(
        block.element, assumed=True, doc=f"record counts of level {block.level}"
    )


def _measure(measure: MemberMonths | MonthCounts | FormTypeCounts) -> tuple[Node, ...]:
    if isinstance(measure, MemberMonths):
        return (
            Leaf(measure.accepted, "integer", assumed=True, column="accepted_months"),
            Leaf(measure.rejected, "integer", assumed=True, column="rejected_months"),
        )
    if isinstance(measure, MonthCounts):
        return (counts_group(measure.counts),)
    form = Group(
        measure.element,
        (
            Leaf(measure.code, "code", assumed=True, column="form_type"),
            counts_group(measure.counts),
        ),
        min_occurs=0,
        max_occurs=None,
        assumed=True,
        doc="claim counts of one form type (I institutional, P professional)",
    )
    return (form,)


def rollup_group(rollup: Rollup) -> Group:
    """Year > month breakdown; enrollment years also carry their member month totals."""
    month_value = Leaf(
        rollup.month, "integer", assumed=True, doc="01-12; 00 when unknown", column="month"
    )
    month = Group(
        rollup.month_element,
        (month_value, *_measure(rollup.measure)),
        min_occurs=0,
        max_occurs=None,
        assumed=True,
    )
    year_totals = _measure(rollup.measure) if isinstance(rollup.measure, MemberMonths) else ()
    year_value = Leaf(
        rollup.year, "integer", assumed=True, doc="YYYY; 0000 when unknown", column="year"
    )
    return Group(
        rollup.year_element,
        (year_value, *year_totals, month),
        min_occurs=0,
        max_occurs=None,
        assumed=True,
    )


def scope_group(scope: ScopeSummary) -> Group:
    children: list[Node] = []
    if scope.record_identifier:
        children.append(
            Leaf(scope.record_identifier, "integer", assumed=True, column="scope_record_identifier")
        )
    children += [Leaf(scope.key, "code", assumed=True, column="scope_key"), STATUS]
    children += [counts_group(block).occurs(0, 1) for block in scope.counts]
    children.append(rollup_group(scope.rollup))
    return Group(
        scope.element,
        tuple(children),
        min_occurs=0,
        max_occurs=scope.max_occurs,
        assumed=True,
        doc=f"summary of the {scope.scope_level}",
    )


@functools.cache
def tree(layout: OutboundLayout) -> Group:
    """The root element of ``layout`` with everything below it."""
    if isinstance(layout, FileStatusLayout):
        children: tuple[Node, ...] = (FILE_HEADER, STATUS, RECORDED_ERROR)
        return Group(layout.root, children, doc=layout.doc)
    if isinstance(layout, DetailLayout):
        children = (FILE_HEADER, DETAIL_FILE_STATUS, result_group(layout.issuer))
        return Group(layout.root, children, doc=layout.doc, assumed=layout.assumed_root)
    if isinstance(layout, SummaryLayout):
        children = (
            FILE_HEADER,
            *(counts_group(block).occurs(0, 1) for block in layout.counts),
            scope_group(layout.issuer),
            ERROR_CODE_FREQUENCY,
            scope_group(layout.plan),
        )
        return Group(layout.root, children, doc=layout.doc, assumed=True)
    if isinstance(layout, RaReportLayout):
        # Phase 2: declared structurally already; every root name is this project's.
        return Group(layout.root, (RA_FILE_HEADER, *layout.body), doc=layout.doc, assumed=True)
    if isinstance(layout, FrequencyLayout):
        # one inbound file, as the summaries: the Phase 1 header, then the frequencies
        children = (FILE_HEADER, DATA_ELEMENT_FREQUENCY)
        return Group(layout.root, children, doc=layout.doc, assumed=True)
    raise TypeError(f"not an outbound layout: {layout!r}")
