"""Automation: every sensor and schedule of the project, so the chain reads in one place.

From a file landing in the inbox to the analyst report (each link RUNNING by default, so
``make dev`` starts them all):

1. ``inbox_sensor`` (``inbox.py``): a complete inbox submission -> ``ingest_<type>_files`` for
   its partition (the file's ``fileIdentifier``, in its type's partitions and ``inbound_files``);
   a file that is not a submission -> ``record_refused_inbound_file``, and no partition;
2. ``phase1_after_ingest`` (``phase1.py``): a succeeded ingest run -> ``phase1_shadow`` for the
   same partition;
3. ``phase2_after_phase1`` (``phase2.py``): a succeeded ``phase1_shadow`` run ->
   ``phase2_scoring`` for the benefit years the verdict can change;
4. ``outbox_sensor`` (``outbox.py``): EDGE's reports land -> ``phase1_reported`` for the file they
   answer, ``phase2_reported`` for the benefit year of an RA report;
5. ``nightly_reconciliation`` / ``nightly_phase1_reconciliation`` (``schedules.py``, 02:00): the
   reconciliations recomputed; ``monthly_data_quality`` (1st of the month, 06:00): the
   data-quality summary and the analyst report.

Blocking checks stop bad data inside a run (downstream steps do not run, the run fails), and a
failed run triggers nothing.  Sensors and schedules read the Dagster instance only, never DuckDB
(``runs.py``).  The domains under ``defs/`` define assets, checks, jobs and resources; this
package only decides when their jobs run, so it imports the domains and none imports it.
"""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.automation.inbox import inbox_sensor
from edge_pipeline.defs.automation.outbox import outbox_sensor
from edge_pipeline.defs.automation.phase1 import phase1_after_ingest
from edge_pipeline.defs.automation.phase2 import phase2_after_phase1
from edge_pipeline.defs.automation.schedules import SCHEDULES

defs = dg.Definitions(
    sensors=[inbox_sensor, phase1_after_ingest, phase2_after_phase1, outbox_sensor],
    schedules=SCHEDULES,
)

__all__ = ["defs"]
