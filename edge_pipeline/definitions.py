"""The one Definitions object Dagster loads (``workspace.yaml``, ``[tool.dagster]``).

Each domain under ``edge_pipeline/defs/`` exposes its own ``defs`` (assets, checks, jobs,
resources); ``defs/automation`` exposes every sensor and schedule; this module only merges them
with the shared resources, so adding a domain is one import and one argument.  Nothing here
connects to DuckDB or reads the inbox: resources open connections when an asset runs.
"""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs import (
    automation,
    inbound,
    phase1,
    phase2,
    reconciliation,
    reference,
    report_files,
    reporting,
)
from edge_pipeline.defs import resources as shared

defs = dg.Definitions.merge(
    shared.defs,
    report_files.defs,
    inbound.defs,
    reference.defs,
    phase1.defs,
    phase2.defs,
    reconciliation.defs,
    reporting.defs,
    automation.defs,
)
