"""One partition per inbound file, keyed by the file's ``fileIdentifier``.

``fileIdentifier`` is the master reconciliation key of EDGE: every outbound report of a file
echoes it, so keying on it lets later domains (outbound reports, risk adjustment) partition by
the same key.  A file whose header cannot be read has no identifier; it is keyed by its file
name instead, so it still gets a partition whose failed run records why.
"""

from __future__ import annotations

import dagster as dg

INBOUND_FILES_PARTITIONS_NAME = "inbound_files"

inbound_files = dg.DynamicPartitionsDefinition(name=INBOUND_FILES_PARTITIONS_NAME)
