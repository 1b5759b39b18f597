"""Phase 1 outbound reports (ESFAR, detail, summary, frequency by data element) into ``reported_*`` rows: their handlers.

Detail reports can hold millions of results: each result element is released as soon as it has
been turned into rows, so memory does not grow with the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from edge_pipeline.edge.layouts import BY_TYPE
from edge_pipeline.edge.layouts.outbound.common import (
    ERROR_CODE_FREQUENCY,
    RECORD_COUNTS,
    RECORDED_ERROR,
    STATUS,
)
from edge_pipeline.edge.layouts.outbound.frequency_common import DATA_ELEMENT_FREQUENCY
from edge_pipeline.edge.layouts.outbound.model import (
    DetailLayout,
    FormTypeCounts,
    Group,
    Leaf,
    MemberMonths,
    MonthCounts,
    Node,
    ResultLevel,
    ScopeSummary,
    SummaryLayout,
)
from edge_pipeline.edge.layouts.outbound.tree import tree
from edge_pipeline.edge.outbound.core.reader import (
    FILE_LEVEL,
    NS,
    Handler,
    ReportReader,
    Row,
    TableRow,
    blank_to_none,
    read_block,
    release,
    to_int,
)
from edge_pipeline.edge.outbound.phase1.reasons import ResultFrame, rejection_reason


class FileStatusHandler(Handler):
    """ESFAR: one ``reported_file_status`` row and the header-level errors."""

    status: str | None = None

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        reader = self.reader
        if depth == 1 and node.name == STATUS.name:
            self.status = blank_to_none(read_block(elem, STATUS)["status"])
        elif depth == 1 and node.name == RECORDED_ERROR.name:
            for row in reader.error_rows(elem, None, FILE_LEVEL):
                yield "reported_record_error", row
        elif depth == 0:
            assert reader.header is not None
            values = reader.header.values
            inbound = BY_TYPE.get(values.get("submission_type") or "")
            yield (
                "reported_file_status",
                reader.row(
                    submission_type=values.get("submission_type"),
                    execution_zone=reader.zone,
                    issuer_id=values.get("issuer_id"),
                    status=self.status,
                    verified_at=reader.header.generated_at,
                    layout=inbound.name if inbound else None,
                    # not stated by an ESFAR: the summary's error code frequencies add up to it
                    error_count=None,
                ),
            )


class DetailHandler(Handler):
    """Detail reports: a ``reported_record_status`` row per result, its errors, and the
    rejection reason derived from the tree (:mod:`edge_pipeline.edge.outbound.phase1.reasons`)."""

    def __init__(self, reader: ReportReader, layout: DetailLayout) -> None:
        super().__init__(reader)
        self.results: dict[str, ResultLevel] = {r.element: r for r, _ in layout.levels()}
        self.frame: ResultFrame | None = None
        self.file_rejected = False

    def start(self, elem: Any, node: Node, depth: int) -> None:
        result = self.results.get(node.name) if isinstance(node, Group) else None
        if result is not None:
            self.frame = ResultFrame(result, self.frame)

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        frame = self.frame
        if frame is None:
            if depth == 1 and node.name == STATUS.name:
                self.file_rejected = read_block(elem, STATUS)["status"] == "R"
            return
        if node.name == frame.result.element and isinstance(node, Group):
            yield from self._finish(frame, elem)
            return
        if (
            elem.getparent() is None
            or etree.QName(elem.getparent()).localname != frame.result.element
        ):
            return
        if isinstance(node, Leaf) and node.column == "record_identifier":
            frame.record_identifier = to_int(elem.text)
        elif isinstance(node, Leaf) and node.column == "record_key":
            frame.key = elem.text or ""
        elif node.name == STATUS.name:
            frame.status = blank_to_none(read_block(elem, STATUS)["status"])
        elif node.name == RECORDED_ERROR.name:
            rows = self.reader.error_rows(elem, frame.record_identifier, frame.result.level)
            frame.errors += len(rows)
            for row in rows:
                yield "reported_record_error", row

    def _finish(self, frame: ResultFrame, elem: Any) -> Iterator[TableRow]:
        parent = frame.parent
        row = self.reader.row(
            record_identifier=frame.record_identifier,
            level=frame.result.level,
            parent_record_identifier=parent.record_identifier if parent else None,
            record_key=frame.key,
            status=frame.status,
            failed_self=frame.failed_self,
            rejection_reason=None,
        )
        if parent is not None:
            parent.child_done(frame)
        waiting = frame.waiting_group()
        settled: list[tuple[Row, ResultFrame]] = [(row, frame), *frame.pending]
        frame.pending = []
        if waiting is not None:
            waiting.pending.extend(settled)
        else:
            for done, of in settled:
                done["rejection_reason"] = rejection_reason(of, self.file_rejected)
                yield "reported_record_status", done
        self.frame = parent
        release(elem)


class SummaryHandler(Handler):
    """Summaries: level counts, issuer and plan blocks with their rollups, error frequencies."""

    def __init__(self, reader: ReportReader, layout: SummaryLayout) -> None:
        super().__init__(reader)
        self.layout = layout
        self.counts = {block.element: block.level for block in layout.counts}

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        if depth != 1:
            return
        reader = self.reader
        layout = self.layout
        if node.name in self.counts and isinstance(node, Group):
            values = {k: to_int(v) for k, v in read_block(elem, node).items()}
            yield "reported_level_summary", reader.row(level=self.counts[node.name], **values)
        elif node.name == ERROR_CODE_FREQUENCY.name:
            block = read_block(elem, ERROR_CODE_FREQUENCY)
            yield (
                "reported_error_frequency",
                reader.row(
                    error_code=blank_to_none(block["error_code"]),
                    frequency=to_int(block["frequency"]),
                ),
            )
        elif node.name in (layout.issuer.element, layout.plan.element):
            declared = layout.issuer if node.name == layout.issuer.element else layout.plan
            yield from self._scope(elem, declared)
        release(elem)

    def _scope(self, elem: Any, declared: ScopeSummary) -> Iterator[TableRow]:
        reader = self.reader
        scope_tree = tree(self.layout).child(declared.element)
        assert isinstance(scope_tree, Group)
        identity = read_block(elem, scope_tree)
        key = blank_to_none(identity.get("scope_key"))
        status = None
        base = {"scope_level": declared.scope_level, "scope_key": key}
        count_blocks = {block.element: block.level for block in declared.counts}
        rows: list[Row] = []
        for child in elem:
            local = etree.QName(child).localname
            if local == STATUS.name:
                status = blank_to_none(read_block(child, STATUS)["status"])
            elif local in count_blocks:
                rows.append(self._counts_row(base, child, count_blocks[local]))
            elif local == declared.rollup.year_element:
                rows.extend(self._year_rows(base, child, declared))
        yield (
            "reported_scope_summary",
            reader.row(
                scope_level=declared.scope_level,
                scope_record_identifier=to_int(identity.get("scope_record_identifier")),
                scope_key=key,
                status=status,
            ),
        )
        for row in rows:
            yield "reported_summary_counts", reader.row(**row)

    @staticmethod
    def _counts_row(base: Row, elem: Any, level: str, **where: Any) -> Row:
        counts = {k: to_int(v) for k, v in read_block(elem, RECORD_COUNTS).items()}
        return {
            **base,
            "year": where.get("year"),
            "month": where.get("month"),
            "form_type": where.get("form_type"),
            "level": level,
            **counts,
            "accepted_months": where.get("accepted_months"),
            "rejected_months": where.get("rejected_months"),
        }

    def _months_row(
        self, base: Row, elem: Any, measure: MemberMonths, year: int | None, month: int | None
    ) -> Row:
        """Member months of a year (``month`` None) or of a month."""
        values = {etree.QName(c).localname: c.text for c in elem}
        return {
            **base,
            "year": year,
            "month": month,
            "form_type": None,
            "level": self.layout.source.level,
            **dict.fromkeys(("received", "accepted", "resolved", "rejected", "new_accepted")),
            "accepted_months": to_int(values.get(measure.accepted)),
            "rejected_months": to_int(values.get(measure.rejected)),
        }

    def _year_rows(self, base: Row, elem: Any, declared: ScopeSummary) -> list[Row]:
        rollup = declared.rollup
        level = self.layout.source.level
        year = to_int(elem.findtext(f"{NS}{rollup.year}"))
        rows: list[Row] = []
        if isinstance(rollup.measure, MemberMonths):
            rows.append(self._months_row(base, elem, rollup.measure, year, None))
        for month_elem in elem.iterfind(f"{NS}{rollup.month_element}"):
            month = to_int(month_elem.findtext(f"{NS}{rollup.month}"))
            measure = rollup.measure
            if isinstance(measure, MemberMonths):
                rows.append(self._months_row(base, month_elem, measure, year, month))
            elif isinstance(measure, MonthCounts):
                counts = month_elem.find(f"{NS}{measure.counts.element}")
                rows.append(self._counts_row(base, counts, level, year=year, month=month))
            else:
                assert isinstance(measure, FormTypeCounts)
                for form in month_elem.iterfind(f"{NS}{measure.element}"):
                    rows.append(
                        self._counts_row(
                            base,
                            form.find(f"{NS}{measure.counts.element}"),
                            level,
                            year=year,
                            month=month,
                            form_type=form.findtext(f"{NS}{measure.code}"),
                        )
                    )
        return rows


class FrequencyHandler(Handler):
    """Frequency by data element (FDEEAF ... FDESAF): one ``reported_data_element_frequency``
    row per entry."""

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        if depth == 1 and node.name == DATA_ELEMENT_FREQUENCY.name:
            block = read_block(elem, DATA_ELEMENT_FREQUENCY)
            yield (
                "reported_data_element_frequency",
                self.reader.row(
                    element=blank_to_none(block["element"]),
                    value=blank_to_none(block["value"]),
                    frequency=to_int(block["frequency"]),
                ),
            )
        if depth == 1:
            release(elem)
