"""Reconciliation domain: Great Expectations suites over the warehouse, as Dagster asset checks
partitioned by benefit year (unlinked supplemental records, transfer elements, outbound report
linkage; ``checks.py``), and the nightly schedules that recompute every reconciliation
(``schedules.py``).  The reconciliation assets themselves live with the phase they reconcile
(``phase1_reconciliation``, ``risk_score_reconciliation``, ``transfer_reconciliation``) and are
shown in the ``reconciliation`` group."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.reconciliation.checks import RECONCILIATION_CHECKS
from edge_pipeline.defs.reconciliation.schedules import SCHEDULES

defs = dg.Definitions(asset_checks=RECONCILIATION_CHECKS, schedules=SCHEDULES)

__all__ = ["defs"]
