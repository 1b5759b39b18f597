"""Reference domain: the issuer's plan registry and code lists → DuckDB reference tables."""

from __future__ import annotations

from edge_pipeline.defs.domain import Domain
from edge_pipeline.defs.metadata import asset_tags, owners
from edge_pipeline.defs.reference.assets import (
    DIY_TABLES,
    REFERENCE_TABLES,
    diy_tables,
    reference_tables,
)
from edge_pipeline.defs.reference.jobs import refresh_reference_tables
from edge_pipeline.defs.reference.resources import issuer_reference_resource

ISSUER_REFERENCE_KEY = "issuer_reference"
REFERENCE = Domain("reference", owners=owners("reference"), tags=asset_tags("reference"))

defs = REFERENCE.definitions(
    assets=[reference_tables, diy_tables],
    jobs=[refresh_reference_tables],
    resources={ISSUER_REFERENCE_KEY: issuer_reference_resource()},
)

__all__ = ["DIY_TABLES", "ISSUER_REFERENCE_KEY", "REFERENCE_TABLES", "defs"]
