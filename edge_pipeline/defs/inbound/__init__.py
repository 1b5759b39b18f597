"""Inbound domain: issuer XML files landed in the inbox → DuckDB landing tables."""

from __future__ import annotations

import dagster as dg

from edge_pipeline.defs.inbound.assets import inbox_xml_file, ingest_inbound_file
from edge_pipeline.defs.inbound.jobs import INBOUND_JOBS
from edge_pipeline.defs.inbound.resources import inbox_resource
from edge_pipeline.defs.inbound.sensors import inbox_sensor

INBOX_KEY = "inbox"

defs = dg.Definitions(
    assets=[inbox_xml_file, ingest_inbound_file],
    jobs=INBOUND_JOBS,
    sensors=[inbox_sensor],
    resources={INBOX_KEY: inbox_resource()},
)

__all__ = ["INBOX_KEY", "defs"]
