"""Phase 1 shadow verification: what the EDGE server should have said about each file.

Pure domain code (no Dagster).  Typical use::

    load_reference_tables(con, "plan_registry.csv", extra_code_dirs=["inbox"])
    results = verify_all(con)          # every loaded file, in load order

Results land in ``shadow_file_status``, ``shadow_record_status``, ``shadow_record_error`` and
``shadow_level_summary`` (docs/phase1-contract.md); the error codes are documented in
``docs/error-catalog.md`` (``catalog.py``).
"""

from __future__ import annotations

from edge_pipeline.edge.verification.catalog import (
    CATALOG,
    CatalogEntry,
    render_catalog_markdown,
    write_catalog,
)
from edge_pipeline.edge.verification.engine import (
    ReferenceTablesMissing,
    VerificationFailure,
    VerificationResult,
    verify_all,
    verify_file,
    verify_load,
)
from edge_pipeline.edge.verification.reference_tables import (
    ReferenceLoad,
    load_reference_tables,
)
from edge_pipeline.edge.verification.schema import ensure_shadow_schema

__all__ = [
    "CATALOG",
    "CatalogEntry",
    "ReferenceLoad",
    "ReferenceTablesMissing",
    "VerificationFailure",
    "VerificationResult",
    "ensure_shadow_schema",
    "load_reference_tables",
    "render_catalog_markdown",
    "verify_all",
    "verify_file",
    "verify_load",
    "write_catalog",
]
