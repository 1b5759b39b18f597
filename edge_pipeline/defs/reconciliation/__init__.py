"""Reconciliation domain: Great Expectations suites over the warehouse, as Dagster asset checks
partitioned by benefit year (unlinked supplemental records, transfer elements, outbound report
linkage).  See ``checks.py``."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.reconciliation.checks import RECONCILIATION_CHECKS

defs = dg.Definitions(asset_checks=RECONCILIATION_CHECKS)

__all__ = ["defs"]
