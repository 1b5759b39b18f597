"""One partition per inbound file, keyed by the file's ``fileIdentifier``.

``fileIdentifier`` is the master reconciliation key of EDGE: every outbound report of a file
echoes it, so keying on it lets later domains (outbound reports, risk adjustment) partition by
the same key.  A file whose header cannot be read has no identifier; it is keyed by its file
name instead, so it still gets a partition whose failed run records why.  So is a file whose
``fileIdentifier`` Dagster cannot take as a partition key (see :func:`valid_partition_key`).
"""

from __future__ import annotations

import dagster as dg

INBOUND_FILES_PARTITIONS_NAME = "inbound_files"

inbound_files = dg.DynamicPartitionsDefinition(name=INBOUND_FILES_PARTITIONS_NAME)

#: Substrings Dagster refuses in a partition key (``dagster``'s own list): adding such a key
#: fails the sensor tick that asks for it, and with it every other file of the tick.
INVALID_KEY_SUBSTRINGS = ("...", "\a", "\b", "\f", "\n", "\r", "\t", "\v", "\0")
#: Longest key taken (a fileIdentifier is 12 characters; a file name is rarely over 100).
MAX_KEY_LENGTH = 255


def valid_partition_key(key: str) -> bool:
    """Whether Dagster accepts ``key`` as a dynamic partition key (it comes from a file's
    header or name, so it may hold anything)."""
    return (
        0 < len(key) <= MAX_KEY_LENGTH
        and key.isprintable()
        and not any(bad in key for bad in INVALID_KEY_SUBSTRINGS)
    )
