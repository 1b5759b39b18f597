"""The Phase 1 outbound report layouts (spec section 5), one declarative module per report.

For each inbound submission type the EDGE server answers with three reports: the file
accept/reject (ESFAR, file code ``XH``), a detail error report (``XD``: ESDEE, ESDMCE, ESDPCE,
ESDSFE) and a summary (``XS``: ESSEFE, ESSMFE, ESSPFE, ESSSFE, the issuer guide's acronyms;
formerly ESESAR, ESMCSAR, ESPCSAR, ESSFSAR, kept as ``former_names``).
Phase 2 adds the risk adjustment reports of a scoring run (spec section 6): RACSD (``CD``),
RACSS (``CS``), RARSD (``RD``), RARSS (``RS``), RATEE (``TE``), and the transfer's RAUF
(``UF``), HCRPSR (``HS``) and HCRPDE (``HE``), and the enrollee claims reports ECD (``EC``) and
ECS (``CY``) (file codes of the last five assumed), in ``RA_LAYOUTS``.
The frequency by data element reports answer one inbound file each, like the summaries:
FDEEAF (``EF``), FDEMAF (``MF``), FDEPAF (``PF``), FDESAF (``SF``) (file codes assumed), in
``FREQUENCY_LAYOUTS``.

Every layout declares its ``recipients`` (:class:`~.model.Recipients`): who receives it, and
so whether it may carry member-level identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edge_pipeline.edge.layouts.outbound.ecd import ECD
from edge_pipeline.edge.layouts.outbound.ecs import ECS
from edge_pipeline.edge.layouts.outbound.esdee import ESDEE
from edge_pipeline.edge.layouts.outbound.esdmce import ESDMCE
from edge_pipeline.edge.layouts.outbound.esdpce import ESDPCE
from edge_pipeline.edge.layouts.outbound.esdsfe import ESDSFE
from edge_pipeline.edge.layouts.outbound.esfar import ESFAR
from edge_pipeline.edge.layouts.outbound.essefe import ESSEFE
from edge_pipeline.edge.layouts.outbound.essmfe import ESSMFE
from edge_pipeline.edge.layouts.outbound.esspfe import ESSPFE
from edge_pipeline.edge.layouts.outbound.esssfe import ESSSFE
from edge_pipeline.edge.layouts.outbound.fdeeaf import FDEEAF
from edge_pipeline.edge.layouts.outbound.fdemaf import FDEMAF
from edge_pipeline.edge.layouts.outbound.fdepaf import FDEPAF
from edge_pipeline.edge.layouts.outbound.fdesaf import FDESAF
from edge_pipeline.edge.layouts.outbound.hcrpde import HCRPDE
from edge_pipeline.edge.layouts.outbound.hcrpsr import HCRPSR
from edge_pipeline.edge.layouts.outbound.model import (
    DetailLayout,
    FileStatusLayout,
    FrequencyLayout,
    OutboundLayout,
    RaReportLayout,
    Recipients,
    SummaryLayout,
)
from edge_pipeline.edge.layouts.outbound.racsd import RACSD
from edge_pipeline.edge.layouts.outbound.racss import RACSS
from edge_pipeline.edge.layouts.outbound.rarsd import RARSD
from edge_pipeline.edge.layouts.outbound.rarss import RARSS
from edge_pipeline.edge.layouts.outbound.ratee import RATEE
from edge_pipeline.edge.layouts.outbound.rauf import RAUF

DETAIL_LAYOUTS: tuple[DetailLayout, ...] = (ESDEE, ESDMCE, ESDPCE, ESDSFE)
SUMMARY_LAYOUTS: tuple[SummaryLayout, ...] = (ESSEFE, ESSMFE, ESSPFE, ESSSFE)
#: Phase 2 risk adjustment reports, in the order the writer produces them.
RA_LAYOUTS: tuple[RaReportLayout, ...] = (
    RACSD,
    RACSS,
    RARSD,
    RARSS,
    RATEE,
    RAUF,
    HCRPSR,
    HCRPDE,
    ECD,
    ECS,
)
#: Phase 1 frequency by data element reports, one per submission type (E, M, P, S).
FREQUENCY_LAYOUTS: tuple[FrequencyLayout, ...] = (FDEEAF, FDEMAF, FDEPAF, FDESAF)
FREQUENCY_BY_TYPE: dict[str, FrequencyLayout] = {
    layout.submission_type: layout for layout in FREQUENCY_LAYOUTS
}
OUTBOUND_LAYOUTS: tuple[OutboundLayout, ...] = (
    ESFAR,
    *DETAIL_LAYOUTS,
    *SUMMARY_LAYOUTS,
    *FREQUENCY_LAYOUTS,
    *RA_LAYOUTS,
)
OUTBOUND_BY_ROOT: dict[str, OutboundLayout] = {layout.root: layout for layout in OUTBOUND_LAYOUTS}
OUTBOUND_BY_NAME: dict[str, OutboundLayout] = {layout.name: layout for layout in OUTBOUND_LAYOUTS}
#: A report type's former name (declared in its layout) -> its name now.
FORMER_NAMES: dict[str, str] = {
    former: layout.name
    for layout in OUTBOUND_LAYOUTS
    for former in getattr(layout, "former_names", ())
}


def recipient_rows(layouts: Sequence[OutboundLayout] = OUTBOUND_LAYOUTS) -> list[dict[str, str]]:
    """Each report with its recipient class and what it may hold, as the UI and the analyst
    report list them: ``report``, ``recipients``, ``content``."""
    return [
        {
            "report": layout.name,
            "recipients": str(layout.recipients),
            "content": layout.recipients.content,
        }
        for layout in layouts
    ]


def current_report_type(name: str) -> str:
    """``name`` as the report type is called now: a former name (``ESESAR``) maps to the
    guide's acronym (``ESSEFE``); any other name is returned as it is."""
    return FORMER_NAMES.get(name, name)


@dataclass(frozen=True)
class Phase1Reports:
    """The three reports answering one inbound submission type, with their file codes."""

    submission_type: str
    file_status: FileStatusLayout
    detail: DetailLayout
    summary: SummaryLayout

    @property
    def file_status_code(self) -> str:
        return self.file_status.file_codes[self.submission_type]


#: Submission type (E, M, P, S) -> its Phase 1 reports.
PHASE1_REPORTS: dict[str, Phase1Reports] = {
    detail.submission_type: Phase1Reports(detail.submission_type, ESFAR, detail, summary)
    for detail, summary in zip(DETAIL_LAYOUTS, SUMMARY_LAYOUTS, strict=True)
}

__all__ = [
    "DETAIL_LAYOUTS",
    "ECD",
    "ECS",
    "ESDEE",
    "ESDMCE",
    "ESDPCE",
    "ESDSFE",
    "ESFAR",
    "ESSEFE",
    "ESSMFE",
    "ESSPFE",
    "ESSSFE",
    "FDEEAF",
    "FDEMAF",
    "FDEPAF",
    "FDESAF",
    "FORMER_NAMES",
    "FREQUENCY_BY_TYPE",
    "FREQUENCY_LAYOUTS",
    "HCRPDE",
    "HCRPSR",
    "OUTBOUND_BY_NAME",
    "OUTBOUND_BY_ROOT",
    "OUTBOUND_LAYOUTS",
    "PHASE1_REPORTS",
    "RACSD",
    "RACSS",
    "RARSD",
    "RARSS",
    "RATEE",
    "RAUF",
    "RA_LAYOUTS",
    "SUMMARY_LAYOUTS",
    "DetailLayout",
    "FileStatusLayout",
    "FrequencyLayout",
    "OutboundLayout",
    "Phase1Reports",
    "RaReportLayout",
    "Recipients",
    "SummaryLayout",
    "current_report_type",
    "recipient_rows",
]
