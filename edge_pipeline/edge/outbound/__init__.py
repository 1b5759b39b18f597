"""Outbound reports (spec sections 5 and 6): write them from ``shadow_*``, read them into
``reported_*``.  Pure domain core: no Dagster here.

Grouped by report family: :mod:`.core` (naming, errors, the reader driver, the XML writer,
column types, XSDs), then :mod:`.phase1` (ESFAR, detail, summary) and :mod:`.ra` (the RA
reports), which import the core and never each other; :mod:`.read` and :mod:`.load` sit above
both and pick the family by the report's root element.

* :func:`write_phase1_reports` -- ESFAR + detail + summary of one inbound file, as XML.
* :func:`write_phase2_reports` -- the RA reports (RACSD ... HCRPDE) of one scoring run, as XML.
* :func:`load_outbound_file` / :func:`load_outbound_paths` -- reports of either phase into
  ``reported_*`` and the ``outbound_file`` registry, one transaction per file (an RA report
  replaces its run's earlier snapshot of the same type).
* :func:`ensure_reported_tables` -- DDL of ``reported_*`` and ``outbound_file``, derived from
  the verification engine's ``shadow_*`` DDL.
"""

from __future__ import annotations

from edge_pipeline.edge.outbound.core.writer import EdgeServerInfo
from edge_pipeline.edge.outbound.load import (
    OutboundLoadResult,
    load_outbound_file,
    load_outbound_paths,
)
from edge_pipeline.edge.outbound.phase1.tables import (
    REPORTED_TABLES,
    SHADOW_TABLES,
    ensure_reported_tables,
)
from edge_pipeline.edge.outbound.phase1.write import write_phase1_reports
from edge_pipeline.edge.outbound.ra.tables import RA_REPORTED_TABLES, ensure_ra_reported_tables
from edge_pipeline.edge.outbound.ra.write import write_phase2_reports
from edge_pipeline.edge.outbound.read import OutboundReportReader, read_outbound_header

__all__ = [
    "RA_REPORTED_TABLES",
    "REPORTED_TABLES",
    "SHADOW_TABLES",
    "EdgeServerInfo",
    "OutboundLoadResult",
    "OutboundReportReader",
    "ensure_ra_reported_tables",
    "ensure_reported_tables",
    "load_outbound_file",
    "load_outbound_paths",
    "read_outbound_header",
    "write_phase1_reports",
    "write_phase2_reports",
]
