"""What the header of a Phase 2 RA report states: the scoring run and the enrollment it scored.

A Phase 1 report answers one inbound file, whose fileIdentifier is the link key.  An RA report
answers a scoring run (benefit year, issuer, zone), computed from all the issuer's data; the
one file it most directly rests on is the enrollment snapshot scored, i.e. the run's
*replacing ESES* (the latest accepted ESES of the issuer and zone,
:func:`~edge_pipeline.edge.verification.schema.replacing_eses_sql`), so its fileIdentifier
fills ``inboundFileIdentifier`` and its load facts the other inbound header fields (assumed).
When no verified ESES is known (a warehouse holding only Phase 2 tables) the header says
``RA<issuer><zone><benefit year>`` (12 characters for a 5-digit issuer id) and leaves the
inbound fields empty, so the report still links to its run and never to a wrong file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from edge_pipeline.base.warehouse.query import first_row
from edge_pipeline.edge.layouts.outbound.model import RaReportLayout
from edge_pipeline.edge.layouts.outbound.ra_common import RA_FILE_HEADER
from edge_pipeline.edge.outbound.core.naming import (
    edge_datetime,
    outbound_file_identifier,
    outbound_file_name,
)
from edge_pipeline.edge.outbound.core.writer import EdgeServerInfo
from edge_pipeline.edge.outbound.core.xmlout import XmlStream
from edge_pipeline.edge.outbound.ra.xml import write_entry
from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.verification.schema import replacing_eses_sql

#: Tables the replacing ESES is found in (the Phase 1 verification and the inbound registry).
_ESES_TABLES = ("shadow_file_status", "shadow_record_status", "submission_file")


@dataclass(frozen=True)
class RunFacts:
    """A scoring run and the enrollment file it scored: everything an RA header states."""

    run: ScoringRun
    inbound_file_identifier: str
    load_id: int | None = None
    icd_release: str | None = None
    generation_datetime: str | None = None
    loaded_at: datetime | None = None
    submission_type: str | None = None


def fallback_identifier(run: ScoringRun) -> str:
    """``RA<issuer><zone><year>``: the link key of a run without a known ESES."""
    return f"RA{run.issuer_id}{run.execution_zone}{run.benefit_year}"


def run_facts(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> RunFacts:
    """The run with its replacing ESES, or the fallback identifier when there is none."""
    present = first_row(
        con,
        "SELECT count(DISTINCT table_name) FROM duckdb_tables() WHERE table_name IN (?, ?, ?)",
        list(_ESES_TABLES),
    )
    if present and present[0] == len(_ESES_TABLES):
        row = first_row(
            con,
            f"""
            SELECT r.file_identifier, r.load_id, f.icd_release, f.generation_datetime,
                   f.loaded_at, f.submission_type
            FROM ({replacing_eses_sql()}) r
            LEFT JOIN submission_file f ON f.load_id = r.load_id
            WHERE r.issuer_id = ? AND r.execution_zone = ?
            """,
            [run.issuer_id, run.execution_zone],
        )
        if row is not None and row[0]:
            return RunFacts(run, *row)
    return RunFacts(run, fallback_identifier(run))


def report_path(
    facts: RunFacts, layout: RaReportLayout, out_dir: Path, generated_at: datetime
) -> Path:
    """``<issuer>.<XX>.D<MMDDYYYY>T<HHMMSS>.<zone>.xml`` (the Phase 1 naming, RA codes)."""
    run = facts.run
    return out_dir / outbound_file_name(
        run.issuer_id, layout.file_code, generated_at, run.execution_zone
    )


def header_values(
    facts: RunFacts, layout: RaReportLayout, generated_at: datetime, server: EdgeServerInfo
) -> dict[str, object]:
    """``includedFileHeader`` values by column.  ``outboundFileIdentifier`` is the Phase 1 form
    with the benefit year after the code (two runs of one ESES must not share an id)."""
    run = facts.run
    process = server.process_identifier
    if process is None:
        process = "" if facts.load_id is None else str(facts.load_id)
    return {
        "outbound_file_identifier": outbound_file_identifier(
            facts.inbound_file_identifier, f"{layout.file_code}{run.benefit_year}", generated_at
        ),
        "generated_at": edge_datetime(generated_at),
        "inbound_file_identifier": facts.inbound_file_identifier,
        "icd_release": facts.icd_release or "",
        "server_version": server.version,
        "server_process_identifier": process,
        "inbound_generated_at": facts.generation_datetime or "",
        "file_type_code": layout.name,
        "server_identifier": server.server_identifier,
        "issuer_id": run.issuer_id,
        "inbound_submitted_at": edge_datetime(facts.loaded_at) if facts.loaded_at else "",
        "submission_type": facts.submission_type or "",
        "benefit_year": run.benefit_year,
        "execution_zone": run.execution_zone,
    }


def write_header(
    out: XmlStream,
    facts: RunFacts,
    layout: RaReportLayout,
    generated_at: datetime,
    server: EdgeServerInfo,
) -> None:
    """The RA ``includedFileHeader`` (every leaf is required; missing facts are written empty)."""
    write_entry(out, RA_FILE_HEADER, header_values(facts, layout, generated_at, server))
