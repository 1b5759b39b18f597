"""Where the issuer's own reference files live: its HIOS plan registry and extra code lists.

The referential checks need them (spec section 4), and they are the issuer's data, not the
project's: a deployment points at the issuer's export, the demo at a copy of what the
synthetic generator wrote.  Only paths are configured here; nothing is read until the
``reference_tables`` asset runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from edge_pipeline.base.folders import data_dir

#: Name of the plan registry file in the default issuer folder.
PLAN_REGISTRY_FILE = "plan_registry.csv"
#: Glob of the extra code list files (see ``edge.verification.reference_tables``).
CODE_LIST_GLOB = "code_list_*.csv"


def default_issuer_dir() -> Path:
    """``<repo>/data/issuer``: the demo copies the generator's registry and code lists here."""
    return data_dir() / "issuer"


def default_plan_registry() -> Path:
    """``$EDGE_PLAN_REGISTRY`` if set, else ``<repo>/data/issuer/plan_registry.csv``."""
    configured = os.environ.get("EDGE_PLAN_REGISTRY")
    return Path(configured) if configured else default_issuer_dir() / PLAN_REGISTRY_FILE


def default_code_lists() -> Path:
    """``$EDGE_CODE_LISTS`` if set, else ``<repo>/data/issuer``."""
    configured = os.environ.get("EDGE_CODE_LISTS")
    return Path(configured) if configured else default_issuer_dir()


class IssuerReferenceResource(dg.ConfigurableResource):
    """The issuer's plan registry CSV and the folder of its extra ``code_list_*.csv`` files."""

    plan_registry: str = Field(description="The issuer's HIOS plan registry (CSV).")
    code_lists: str = Field(
        description=(
            "Folder whose code_list_<icd10cm|ndc|hcpcs>*.csv files add codes to the DIY tables' "
            "(a missing folder adds none)."
        )
    )

    @property
    def registry_path(self) -> Path:
        return Path(self.plan_registry)

    @property
    def code_list_dir(self) -> Path:
        return Path(self.code_lists)

    def code_list_files(self) -> list[Path]:
        """The extra code lists that will be read, sorted (what the asset reports it used)."""
        if not self.code_list_dir.is_dir():
            return []
        return sorted(p for p in self.code_list_dir.glob(CODE_LIST_GLOB) if p.is_file())


def issuer_reference_resource(
    plan_registry: Path | str | None = None, code_lists: Path | str | None = None
) -> IssuerReferenceResource:
    """The issuer's reference files (defaults: :func:`default_plan_registry`,
    :func:`default_code_lists`)."""
    return IssuerReferenceResource(
        plan_registry=str(plan_registry or default_plan_registry()),
        code_lists=str(code_lists or default_code_lists()),
    )
