"""Read the Phase 2 RA reports (RACSD, RACSS, RARSD, RARSS, RATEE, RAUF, HCRPSR, HCRPDE, ECD,
ECS) into
``reported_*`` rows, streaming.

This is the RA part of :class:`~edge_pipeline.edge.outbound.read.OutboundReportReader`: the
reader there parses with the hardened iterparse, checks every element against the layout's
tree as it arrives (the same tree the shipped XSD is rendered from) and hands each completed
element to the handler of the report type; for an RA report, this one.

Why entry by entry: a RACSD has one entry per claim and a RARSD one per enrollee, so each entry
(a claim selection, a plan block, an enrollee with everything nested in it) is turned into rows
when it closes and then released; memory does not grow with the report.

Every row carries the scoring run from the header (``benefitYear``, ``issuerID``,
``executionZoneCode``), checked before the first entry is read: a report whose run is
incomplete, or whose file name states another zone, is refused, since its rows would replace
another run's snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

from edge_pipeline.base.errors import safe_name
from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE
from edge_pipeline.edge.layouts.outbound.common import FILE_HEADER
from edge_pipeline.edge.layouts.outbound.ecd import ECD, ECD_ENTRIES
from edge_pipeline.edge.layouts.outbound.ecs import ECS, PLAN_ENROLLEE_CLAIMS
from edge_pipeline.edge.layouts.outbound.hcrpde import ENROLLEE_HCRP, HCRPDE
from edge_pipeline.edge.layouts.outbound.hcrpsr import HCRPSR, PLAN_HCRP
from edge_pipeline.edge.layouts.outbound.model import Group, Node, RaReportLayout
from edge_pipeline.edge.layouts.outbound.racsd import CATEGORY_ELEMENTS, CLAIM_SELECTION, RACSD
from edge_pipeline.edge.layouts.outbound.racss import (
    CLAIM_SELECTION_COUNT,
    PLAN_SUMMARY,
    RACSS,
)
from edge_pipeline.edge.layouts.outbound.rarsd import (
    DROPPED_HCC,
    ENROLLEE,
    HCC,
    HCC_SOURCE,
    RARSD,
    RXC,
    RXC_SOURCE,
    TERM,
)
from edge_pipeline.edge.layouts.outbound.rarss import FREQUENCIES, PLAN_RATING_AREA, RARSS
from edge_pipeline.edge.layouts.outbound.ratee import RATEE, TRANSFER_ELEMENT
from edge_pipeline.edge.layouts.outbound.rauf import RAUF, USER_FEE
from edge_pipeline.edge.outbound.core.errors import OutboundFormatError
from edge_pipeline.edge.outbound.core.reader import Handler, ReportReader, Row, TableRow, release
from edge_pipeline.edge.outbound.ra.xml import read_entry
from edge_pipeline.edge.ra_runs.schema import reported_name

NS = f"{{{EDGE_NAMESPACE}}}"
_YEAR = re.compile(r"[0-9]{4}")
_CATEGORY_OF = {element: category for category, element in CATEGORY_ELEMENTS.items()}


def _children(elem: Any, group: Group) -> Iterator[Any]:
    return elem.iterfind(f"{NS}{group.name}")


class RaReportHandler(Handler):
    """Rows of one RA report: its entries, and one ``reported_ra_report`` row for the report."""

    def __init__(self, reader: ReportReader, layout: RaReportLayout) -> None:
        super().__init__(reader)
        self.layout = layout
        self.base: Row | None = None
        #: element name -> (depth at which it is an entry, how it becomes rows)
        self.entries: dict[str, tuple[int, Callable[[Any], Iterator[TableRow]]]] = {
            RACSD.name: {CLAIM_SELECTION.name: (2, self._claim_selection)},
            RACSS.name: {PLAN_SUMMARY.name: (1, self._plan_summary)},
            RARSD.name: {ENROLLEE.name: (1, self._enrollee)},
            RARSS.name: {PLAN_RATING_AREA.name: (1, self._plan_rating_area)},
            RATEE.name: {TRANSFER_ELEMENT.name: (1, self._flat(RATEE, TRANSFER_ELEMENT))},
            RAUF.name: {USER_FEE.name: (1, self._flat(RAUF, USER_FEE))},
            HCRPSR.name: {PLAN_HCRP.name: (1, self._flat(HCRPSR, PLAN_HCRP))},
            HCRPDE.name: {ENROLLEE_HCRP.name: (1, self._flat(HCRPDE, ENROLLEE_HCRP))},
            ECD.name: {
                group.name: (1, self._entry(group, reported_name(table)))
                for group, table in ECD_ENTRIES
            },
            ECS.name: {PLAN_ENROLLEE_CLAIMS.name: (1, self._flat(ECS, PLAN_ENROLLEE_CLAIMS))},
        }[layout.name]

    # -- the run ------------------------------------------------------------------------------

    def _refuse(self, elem: Any, reason: str, element: str | None = None) -> OutboundFormatError:
        local = element or etree.QName(elem).localname
        return OutboundFormatError(self.reader.name, reason, element=local, line=elem.sourceline)

    def _run(self, elem: Any) -> Row:
        """The columns every row of the report carries, checked once the header is read."""
        if self.base is not None:
            return self.base
        header = self.reader.header
        if header is None:
            raise self._refuse(elem, "the report has no includedFileHeader", FILE_HEADER.name)
        values = header.values
        year = values.get("benefit_year") or ""
        issuer = values.get("issuer_id")
        zone = values.get("execution_zone")
        if not _YEAR.fullmatch(year.strip()):
            raise self._refuse(elem, "benefitYear must be a year YYYY", "benefitYear")
        if not issuer:
            raise self._refuse(elem, "issuerID is empty; the run cannot be known", "issuerID")
        if not zone:
            raise self._refuse(elem, "executionZoneCode is empty", "executionZoneCode")
        if self.reader.zone and self.reader.zone != zone:
            raise self._refuse(
                elem,
                f"executionZoneCode {safe_name(zone, 16)} contradicts the file name's zone "
                f"{self.reader.zone}",
                "executionZoneCode",
            )
        self.base = {
            "benefit_year": int(year),
            "issuer_id": issuer,
            "execution_zone": zone,
            "outbound_file_identifier": header.outbound_file_identifier,
            "report_type": self.layout.name,
        }
        return self.base

    def _row(self, elem: Any, group: Group, table: str, **extra: Any) -> Row:
        values = read_entry(elem, group, table, self.reader.name)
        return {**values, **extra, **self._run(elem)}

    # -- events -------------------------------------------------------------------------------

    def start(self, elem: Any, node: Node, depth: int) -> None:
        if depth == 1 and node.name != FILE_HEADER.name:
            self._run(elem)

    def end(self, elem: Any, node: Node, depth: int) -> Iterator[TableRow]:
        entry = self.entries.get(node.name)
        if entry is not None and entry[0] == depth:
            yield from entry[1](elem)
            release(elem)
        elif depth == 1 and node.name != FILE_HEADER.name:
            release(elem)  # a RACSD category container, its entries already read
        elif depth == 0:
            header = self.reader.header
            assert header is not None
            yield (
                "reported_ra_report",
                {
                    **self._run(elem),
                    "inbound_file_identifier": header.inbound_file_identifier,
                    "generated_at": header.generated_at,
                },
            )

    # -- entries ------------------------------------------------------------------------------

    def _claim_selection(self, elem: Any) -> Iterator[TableRow]:
        category = _CATEGORY_OF[etree.QName(elem.getparent()).localname]
        table = "reported_ra_claim_selection"
        yield table, self._row(elem, CLAIM_SELECTION, table, category=category)

    def _plan_summary(self, elem: Any) -> Iterator[TableRow]:
        table = "reported_racss"
        plan = read_entry(elem, PLAN_SUMMARY, table, self.reader.name)["plan_id"]
        for count in _children(elem, CLAIM_SELECTION_COUNT):
            yield table, self._row(count, CLAIM_SELECTION_COUNT, table, plan_id=plan)

    def _enrollee(self, elem: Any) -> Iterator[TableRow]:
        score = self._row(elem, ENROLLEE, "reported_risk_score")
        key = {"member_id": score["member_id"], "plan_id": score["plan_id"]}
        yield "reported_risk_score", score
        for group, source, column, table in (
            (HCC, HCC_SOURCE, "hcc", "reported_risk_hcc_source"),
            (RXC, RXC_SOURCE, "rxc", "reported_risk_rxc_source"),
        ):
            for factor in _children(elem, group):
                term = self._row(factor, group, "reported_risk_score_term", **key)
                if term["kind"] is not None:
                    yield "reported_risk_score_term", term
                elif term["coefficient"] is not None:
                    raise self._refuse(
                        factor, f"{group.name} has a coefficient but no riskFactorTypeCode"
                    )
                for item in _children(factor, source):
                    yield table, self._row(item, source, table, **key, **{column: term["variable"]})
        for dropped in _children(elem, DROPPED_HCC):
            table = "reported_risk_dropped_hcc"
            yield table, self._row(dropped, DROPPED_HCC, table, **key)
        for term in _children(elem, TERM):
            table = "reported_risk_score_term"
            yield table, self._row(term, TERM, table, **key)

    def _plan_rating_area(self, elem: Any) -> Iterator[TableRow]:
        block = self._row(elem, PLAN_RATING_AREA, "reported_rarss")
        yield "reported_rarss", block
        key = {"plan_id": block["plan_id"], "rating_area": block["rating_area"]}
        table = "reported_rarss_frequency"
        for distribution, group in FREQUENCIES.items():
            for item in _children(elem, group):
                yield table, self._row(item, group, table, distribution=distribution, **key)

    def _flat(self, layout: RaReportLayout, group: Group) -> Callable[[Any], Iterator[TableRow]]:
        """An entry that is one row of the report's one table (RATEE, RAUF, HCRPSR, HCRPDE,
        ECS)."""
        (table,) = layout.tables
        return self._entry(group, table)

    def _entry(self, group: Group, table: str) -> Callable[[Any], Iterator[TableRow]]:
        """An entry that is one row of ``table`` (each of the ECD's two lists has its own)."""

        def rows(elem: Any) -> Iterator[TableRow]:
            yield table, self._row(elem, group, table)

        return rows
