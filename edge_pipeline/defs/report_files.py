"""The report folders Phase 1 and Phase 2 share: the outbox EDGE answers into (and how an asset
loads the reports it finds there), and where the shadow's own reports go.

The outbox is found by reading report headers (cheap: parsing stops after
``includedFileHeader``), never by trusting file names: an outbound name carries no
fileIdentifier, only issuer, report code, time and zone, so the report's
``inboundFileIdentifier`` is the only link to a partition.  The outbox is searched
recursively, so reports may be filed in sub-folders (per download, or per file as the demo's
simulated EDGE server does, since two files of one issuer answered in the same second would
otherwise get the same outbound name).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from edge_pipeline.base.errors import InboundFormatError
from edge_pipeline.base.folders import (
    configured_folder,
    file_signature,
    is_settled,
    nested_files,
    partition_folder_name,
)
from edge_pipeline.base.input_file import open_input
from edge_pipeline.base.names import printable_name
from edge_pipeline.edge.layouts.outbound import (
    DETAIL_LAYOUTS,
    ESFAR,
    RA_LAYOUTS,
    SUMMARY_LAYOUTS,
    OutboundLayout,
    recipient_rows,
)
from edge_pipeline.edge.outbound import OutboundLoadResult, read_outbound_header
from edge_pipeline.edge.outbound.load import PreparedReport, load_prepared_report
from edge_pipeline.edge.reconciliation.reports import report_role

log = logging.getLogger(__name__)

#: Resource keys of the outbox and of the shadow reports folder.
OUTBOX_KEY = "outbox"
SHADOW_REPORTS_KEY = "shadow_reports"

#: Role of the Phase 2 RA reports (every layout of ``RA_LAYOUTS``: RACSD, RACSS, RARSD, RARSS,
#: RATEE): they answer a benefit year, not one inbound file, so they are routed to the Phase 2
#: partitions.
RISK_ADJUSTMENT_ROLE = "risk_adjustment"
_RA_REPORT_TYPES = frozenset(layout.name for layout in RA_LAYOUTS)


#: The Phase 1 reports of an inbound file, as the UI lists them.
PHASE1_LAYOUTS: tuple[OutboundLayout, ...] = (ESFAR, *DETAIL_LAYOUTS, *SUMMARY_LAYOUTS)


def recipients_metadata(layouts: Sequence[OutboundLayout]) -> dict[str, dg.TableMetadataValue]:
    """``recipients``: each report an asset reads or writes, who receives it (its layout's
    recipient class) and whether it may carry member-level identifiers, for the UI."""
    return {
        "recipients": dg.MetadataValue.table(
            records=[dg.TableRecord(row) for row in recipient_rows(layouts)],
            schema=dg.TableSchema(
                columns=[
                    dg.TableColumn("report", "string"),
                    dg.TableColumn("recipients", "string"),
                    dg.TableColumn("content", "string"),
                ]
            ),
        )
    }


def default_outbox_path() -> Path:
    """``$EDGE_OUTBOX`` if set, else ``<repo>/data/outbox``."""
    return configured_folder("EDGE_OUTBOX", "outbox")


def default_shadow_reports_path() -> Path:
    """``$EDGE_SHADOW_REPORTS`` if set, else ``<repo>/data/shadow_reports``."""
    return configured_folder("EDGE_SHADOW_REPORTS", "shadow_reports")


@dataclass(frozen=True)
class OutboxReport:
    """One report file in the outbox, as its header describes it."""

    path: Path
    report_type: str
    role: str  # file_status | detail | summary | risk_adjustment
    inbound_file_identifier: str
    outbound_file_identifier: str | None
    benefit_year: int | None = None  # RA reports: the benefit year they cover

    @property
    def is_risk_adjustment(self) -> bool:
        return self.role == RISK_ADJUSTMENT_ROLE


class OutboxResource(dg.ConfigurableResource):
    """The folder the EDGE server's outbound reports land in (``*.xml``, recursive): Phase 1
    reports about inbound files and Phase 2 RA reports about benefit years."""

    path: str = Field(description="Folder (searched recursively) EDGE outbound reports land in.")
    settle_seconds: float = Field(
        default=5.0,
        description=(
            "A report is picked up only when it has not been modified for this long and its "
            "size did not change since the previous sensor tick (a copy still in progress)."
        ),
    )

    @property
    def folder(self) -> Path:
        return Path(self.path)

    def xml_files(self) -> list[Path]:
        """The ``*.xml`` files under the outbox, sorted; hidden files and folders (a writer's
        partial output) are not reports yet."""
        return nested_files(self.folder, "*.xml")

    def relative(self, path: Path) -> Path:
        """``path`` relative to the outbox (the sensor's cursor key)."""
        return path.relative_to(self.folder)

    def signature(self, path: Path) -> str | None:
        """``<path in the outbox>:<mtime_ns>:<size>``: one version of one report, as the outbox
        sensor and the reported assets' ``outbox_signatures`` metadata name it; ``None`` when
        the file is gone."""
        return file_signature(self.folder, path)

    def report(self, path: Path, warn: bool = True) -> OutboxReport | None:
        """What the report is and which inbound file it answers; ``None`` when its header cannot
        be read (it cannot be linked to any partition)."""
        try:  # opened as the loader opens it: no symlink followed, no FIFO opened
            with open_input(path) as opened:
                header = read_outbound_header(path, opened.file)
        except (InboundFormatError, OSError, ValueError) as exc:
            # Deliberately broad: one bad report must not stop the others from being seen.
            if warn:
                name = printable_name(path.name)
                log.warning("%s: outbound header unreadable, not linked: %s", name, exc)
            return None
        inbound = (header.inbound_file_identifier or "").strip()
        if not inbound:
            return None
        benefit_year = None
        if header.report_type in _RA_REPORT_TYPES:
            year = (header.values.get("benefit_year") or "").strip()
            if not (year.isascii() and year.isdigit()):
                if warn:
                    log.warning("%s: RA report without a benefit year, not linked", path.name)
                return None
            role, benefit_year = RISK_ADJUSTMENT_ROLE, int(year)
        else:
            try:
                role = report_role(header.report_type)
            except ValueError as exc:
                if warn:
                    log.warning("%s: not linked: %s", path.name, exc)
                return None
        return OutboxReport(
            path=path,
            report_type=header.report_type,
            role=role,
            inbound_file_identifier=inbound,
            outbound_file_identifier=header.outbound_file_identifier,
            benefit_year=benefit_year,
        )

    def is_settled(self, path: Path, now: float | None = None) -> bool:
        """Not modified for ``settle_seconds``: a report still being copied is not read yet."""
        return is_settled(path, self.settle_seconds, now)

    def settled_reports(self) -> tuple[list[OutboxReport], int]:
        """Every settled, readable report in the outbox, in outbox order, and how many files
        were skipped because they are still being written (their header cannot tell yet whose
        they are)."""
        found = []
        landing = 0
        now = time.time()
        for path in self.xml_files():
            if not self.is_settled(path, now):
                landing += 1
                continue
            report = self.report(path, warn=False)
            if report is not None:
                found.append(report)
        return found, landing

    def ra_reports_for(self, benefit_year: int) -> tuple[list[OutboxReport], int]:
        """The settled RA reports of ``benefit_year`` (any issuer and zone), and how many
        outbox files are still being written."""
        reports, landing = self.settled_reports()
        return [r for r in reports if r.benefit_year == benefit_year], landing

    def reports_for(
        self, partition_key: str, roles: tuple[str, ...] | None = None
    ) -> tuple[list[OutboxReport], int]:
        """The settled Phase 1 reports answering the inbound file ``partition_key`` (optionally
        only the given roles), in outbox order, and how many outbox files are still being
        written."""
        reports, landing = self.settled_reports()
        return [
            r
            for r in reports
            if not r.is_risk_adjustment
            and r.inbound_file_identifier == partition_key
            and (roles is None or r.role in roles)
        ], landing


class ShadowReportsResource(dg.ConfigurableResource):
    """Where the shadow's own Phase 1 reports (what EDGE should have sent) are written: one
    sub-folder per inbound file, replaced as a whole each time its reports are rewritten."""

    path: str = Field(description="Folder of the shadow Phase 1 reports, one sub-folder per file.")

    @property
    def folder(self) -> Path:
        return Path(self.path)

    def partition_folder(self, partition_key: str) -> Path:
        return self.folder / partition_folder_name(partition_key)

    def phase2_folder(self, benefit_year: int) -> Path:
        """Where the RA reports of a benefit year go (one sub-folder per issuer and zone)."""
        return self.folder / "phase2" / f"BY{benefit_year}"


def outbox_resource(path: Path | str | None = None, settle_seconds: float = 5.0) -> OutboxResource:
    """The outbox at ``path`` (default: :func:`default_outbox_path`)."""
    return OutboxResource(path=str(path or default_outbox_path()), settle_seconds=settle_seconds)


def shadow_reports_resource(path: Path | str | None = None) -> ShadowReportsResource:
    """The shadow reports folder at ``path`` (default: :func:`default_shadow_reports_path`)."""
    return ShadowReportsResource(path=str(path or default_shadow_reports_path()))


@contextmanager
def prepared_reports(reports: list[OutboxReport]) -> Iterator[list[PreparedReport]]:
    """The reports opened, checked and hashed before the warehouse is opened, so that the
    writer lock is not held while they are hashed; closed on leaving."""
    with ExitStack() as stack:
        yield [stack.enter_context(PreparedReport(report.path)) for report in reports]


def load_reports(
    context: dg.AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    reports: list[PreparedReport],
) -> list[OutboundLoadResult]:
    results = []
    for report in reports:
        result = load_prepared_report(con, report)
        name = printable_name(result.file_name)
        context.log.info("%s %s: %s", result.report_type, name, result.status)
        results.append(result)
    return results


def load_metadata(results: list[OutboundLoadResult]) -> dict[str, object]:
    """Operational facts of the loads: names, statuses, rows; nothing about members."""
    metadata: dict[str, object] = {
        "files": ", ".join(printable_name(r.file_name) for r in results),
        "load_statuses": ", ".join(f"{printable_name(r.file_name)}: {r.status}" for r in results),
        "outbound_file_identifiers": ", ".join(r.outbound_file_identifier or "?" for r in results),
        "rows": sum(sum(r.rows.values()) for r in results),
    }
    errors = [f"{printable_name(r.file_name)}: {r.error}" for r in results if r.error]
    if errors:
        metadata["errors"] = "\n".join(errors)
    return metadata


#: Metadata key of the reported assets' materializations: the outbox report versions
#: (:meth:`OutboxResource.signature`) loaded successfully, read by the outbox sensor so that a
#: report already loaded is not requested again (a fresh sensor after ``make demo``).
OUTBOX_SIGNATURES_KEY = "outbox_signatures"


def loaded_signatures(
    outbox: OutboxResource, reports: list[OutboxReport], results: list[OutboundLoadResult]
) -> dict[str, object]:
    """The ``outbox_signatures`` metadata of a run that loaded ``reports`` with ``results``."""
    signatures = [
        outbox.signature(report.path)
        for report, result in zip(reports, results, strict=True)
        if result.ok
    ]
    return {OUTBOX_SIGNATURES_KEY: dg.MetadataValue.json(sorted(s for s in signatures if s))}


def no_reports_failure(missing: str, outbox: OutboxResource, why: str, landing: int) -> dg.Failure:
    """The failure of a reported-side asset whose reports are not in the outbox.

    A run for reports EDGE has not sent is a manual run or a moved file, not a data error: the
    failure says what is missing, where it was looked for, why it may be missing, and how many
    outbox files were left out because they are still being written (they may be the ones).
    """
    still = f" ({landing} outbox file(s) are still being written)" if landing else ""
    return dg.Failure(
        description=f"no {missing} in the outbox {outbox.folder}: {why}{still}",
        allow_retries=False,
    )


def fail_on_bad_loads(results: list[OutboundLoadResult]) -> None:
    bad = [r for r in results if not r.ok]
    if bad:
        raise dg.Failure(
            description="; ".join(
                f"{printable_name(r.file_name)} not loaded ({r.status}): {r.error}" for r in bad
            )
            + " (the attempts are recorded in outbound_file)",
            allow_retries=False,
        )


defs = dg.Definitions(
    resources={OUTBOX_KEY: outbox_resource(), SHADOW_REPORTS_KEY: shadow_reports_resource()}
)
