"""Reconciliation checks with Great Expectations 1.x: pure domain code (no Dagster).

Each check builds pandas frames from the warehouse for a scoring run, states what they must
satisfy as GX expectations and runs them in an ephemeral GX context
(:func:`~edge_pipeline.edge.quality.gx_suite.run_suite`), returning plain values
(:class:`~edge_pipeline.edge.quality.gx_suite.QualityCheck`): success, statistics, failed
expectations with sample rows, and the rows the check lists.  Frames hold file and record
identifiers, plans, pools and amounts, never a member identifier, name or birth date.

* :func:`check_unlinked_supplemental` -- ESSFS records without an active claim are R10 in RACSD;
* :func:`check_transfer_elements` -- RATEE against RARSD, the estimate against the formula;
* :func:`check_outbound_linkage` -- outbound reports name known inbound files and records.

Importing this package does not import Great Expectations (that takes seconds); running a
check does.
"""

from __future__ import annotations

from edge_pipeline.edge.quality.gx_suite import (
    Expect,
    FailedExpectation,
    Frame,
    QualityCheck,
    SuiteOutcome,
    run_suite,
)
from edge_pipeline.edge.quality.linkage import check_outbound_linkage
from edge_pipeline.edge.quality.transfer_checks import check_transfer_elements
from edge_pipeline.edge.quality.unlinked import check_unlinked_supplemental

__all__ = [
    "Expect",
    "FailedExpectation",
    "Frame",
    "QualityCheck",
    "SuiteOutcome",
    "check_outbound_linkage",
    "check_transfer_elements",
    "check_unlinked_supplemental",
    "run_suite",
]
