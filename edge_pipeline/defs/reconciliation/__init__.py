"""Reconciliation domain: Great Expectations suites over the warehouse, as Dagster asset checks
partitioned by benefit year (unlinked supplemental records, transfer elements, outbound report
linkage; ``checks.py``).  The reconciliation assets themselves live with the phase they reconcile
(``phase1/reconciliation.py``, ``phase2/reconciliation.py``) and are shown in the
``reconciliation`` group; the nightly schedules that recompute them are in
``defs/automation/schedules.py``."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.reconciliation.checks import RECONCILIATION_CHECKS

defs = dg.Definitions(asset_checks=RECONCILIATION_CHECKS)

__all__ = ["defs"]
