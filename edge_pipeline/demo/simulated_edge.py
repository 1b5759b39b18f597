"""The demo's stand-in for the EDGE server: there is none, so its answer is simulated.

The shadow's own reports (what EDGE *should* send) are copied into the outbox under
``simulated_edge_server/`` and the demo's output says so; the reported side then loads them
exactly as it would load EDGE's, so the reconciliation must find no difference and every check
must pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: Sub-folder of the outbox the simulated EDGE server writes to (the demo's own; replaced on
#: every demo run, so nothing else in the outbox is touched).
SIMULATED_EDGE_DIR = "simulated_edge_server"
#: Where, under the outbox's simulated EDGE folder, the RA reports are dropped.
PHASE2_DIR = "phase2"


def simulate_edge_server(shadow_reports: Path, outbox: Path, keys: list[str]) -> dict[str, int]:
    """SIMULATED: drop each file's shadow reports into the outbox as if EDGE had sent them.

    One sub-folder per file: outbound file names carry no fileIdentifier, so two files of the
    issuer answered in the same second would otherwise collide.  Returns the reports copied
    per partition (files without shadow reports left out).
    """
    from edge_pipeline.base.folders import partition_folder_name

    copied = {}
    for key in keys:
        source = shadow_reports / partition_folder_name(key)
        if not source.is_dir():
            continue
        target = outbox / SIMULATED_EDGE_DIR / partition_folder_name(key)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
        copied[key] = len(list(target.glob("*.xml")))
    return copied


def simulate_edge_ra_reports(shadow_reports: Path, outbox: Path, benefit_year: int) -> int:
    """SIMULATED: drop the year's shadow RA reports into the outbox as if EDGE had sent them;
    returns the number of reports copied."""
    from edge_pipeline.defs.report_files import ShadowReportsResource

    source = ShadowReportsResource(path=str(shadow_reports)).phase2_folder(benefit_year)
    target = outbox / SIMULATED_EDGE_DIR / PHASE2_DIR / f"BY{benefit_year}"
    shutil.rmtree(target, ignore_errors=True)
    if not source.is_dir():
        return 0
    shutil.copytree(source, target)
    return len(list(target.rglob("*.xml")))
