"""Where ``make demo`` reads and writes, and the constants every demo step shares.

Everything lives under one ``data`` folder of the checkout (or of ``root`` in tests); without a
``root``, the ``$EDGE_*`` folders the code location itself would use apply.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

#: The benefit year the demo's synthetic issuer is generated for and scored in.
BENEFIT_YEAR = 2025
#: Names of the files the last demo put in the inbox, so the next one removes only those.
DEMO_FILES_RECORD = "demo_inbox_files.json"


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo reads and writes, all under one ``data`` folder."""

    data: Path
    inbox: Path
    synthetic: Path
    warehouse: Path
    dagster_home: Path
    issuer: Path
    shadow_reports: Path
    outbox: Path
    reports: Path

    @classmethod
    def for_root(cls, root: Path | None) -> DemoPaths:
        """Paths of a checkout; with no ``root``, ``$EDGE_INBOX``, ``$EDGE_WAREHOUSE``,
        ``$EDGE_SHADOW_REPORTS``, ``$EDGE_OUTBOX`` and ``$EDGE_REPORTS`` apply.  The issuer
        folder is always ``data/issuer``: the demo writes its synthetic registry there and must
        never overwrite a real one that ``$EDGE_PLAN_REGISTRY`` points at."""
        from edge_pipeline.base.folders import data_dir
        from edge_pipeline.defs.inbound.resources import default_inbox_path
        from edge_pipeline.defs.report_files import default_outbox_path, default_shadow_reports_path
        from edge_pipeline.defs.reporting.assets import default_reports_path
        from edge_pipeline.defs.resources import default_warehouse_path

        data = data_dir(root)
        return cls(
            data=data,
            inbox=data / "inbox" if root else default_inbox_path(),
            synthetic=data / "synthetic",
            warehouse=data / "warehouse.duckdb" if root else default_warehouse_path(),
            dagster_home=data / "dagster_home",
            issuer=data / "issuer",
            shadow_reports=data / "shadow_reports" if root else default_shadow_reports_path(),
            outbox=data / "outbox" if root else default_outbox_path(),
            reports=data / "reports" if root else default_reports_path(),
        )


def prepare_dagster_home(dagster_home: Path) -> None:
    """Point Dagster at ``dagster_home`` and give it the project's instance settings."""
    from edge_pipeline.base.folders import REPO_ROOT

    dagster_home.mkdir(parents=True, exist_ok=True)
    settings = dagster_home / "dagster.yaml"
    if not settings.exists():
        shutil.copyfile(REPO_ROOT / "dagster.yaml", settings)
    os.environ["DAGSTER_HOME"] = str(dagster_home.resolve())
