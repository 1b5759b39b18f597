"""Reconciliation: what the EDGE server said (``reported_*``) against what it should have said
(``shadow_*``).  Pure domain code (no Dagster), like verification and the outbound reports.

Phase 1 (file processing)::

    result = refresh_phase1_reconciliation(con, "99810E402193")
    result.differences          # Arrow: one row per disagreeing record (and the file row)

See :mod:`edge_pipeline.edge.reconciliation.phase1` for what is compared and
:mod:`edge_pipeline.edge.reconciliation.reports` for which verdict and reports are compared.
"""

from __future__ import annotations

from edge_pipeline.edge.reconciliation.phase1 import (
    DIFFERENCE_COLUMNS,
    DIFFERENCE_KINDS,
    RECONCILIATION_DDL,
    ReconciliationResult,
    conservation_violations,
    ensure_reconciliation_schema,
    phase1_differences,
    refresh_phase1_reconciliation,
    reported_errors_without_record,
)
from edge_pipeline.edge.reconciliation.reports import (
    ReportSet,
    ReportsMissing,
    ShadowMissing,
    phase1_load_id,
    select_reports,
)

__all__ = [
    "DIFFERENCE_COLUMNS",
    "DIFFERENCE_KINDS",
    "RECONCILIATION_DDL",
    "ReconciliationResult",
    "ReportSet",
    "ReportsMissing",
    "ShadowMissing",
    "conservation_violations",
    "ensure_reconciliation_schema",
    "phase1_differences",
    "phase1_load_id",
    "refresh_phase1_reconciliation",
    "reported_errors_without_record",
    "select_reports",
]
