"""Inbound domain: issuer XML files landed in the inbox → DuckDB landing tables."""

from __future__ import annotations

from edge_pipeline.defs.domain import Domain
from edge_pipeline.defs.inbound.assets import inbox_xml_file, ingest_inbound_file
from edge_pipeline.defs.inbound.jobs import INBOUND_JOBS
from edge_pipeline.defs.inbound.resources import inbox_resource
from edge_pipeline.defs.metadata import asset_tags, owners

INBOX_KEY = "inbox"
INBOUND = Domain("inbound", owners=owners("inbound"), tags=asset_tags("inbound"))

defs = INBOUND.definitions(
    assets=[inbox_xml_file, ingest_inbound_file],
    jobs=INBOUND_JOBS,
    resources={INBOX_KEY: inbox_resource()},
)

__all__ = ["INBOX_KEY", "defs"]
