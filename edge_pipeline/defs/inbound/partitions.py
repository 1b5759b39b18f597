"""Inbound file partitions: one dynamic partitions definition per file type, keyed by the
file's ``fileIdentifier``, plus ``inbound_files`` holding every recognisable file.

Why one definition per type: ``eses_enrollment`` can only ever be materialized from an ESES
file, so its partitions are the ESES files (``eses_files``), not every file of the inbox (which
would show "2 materialized / 7 missing" forever).  Likewise ``esmcs_files``, ``espcs_files``
and ``essfs_files``; each type has its own ingest job (``ingest_eses_files``, ...), because a
Dagster job runs over one partitions definition.

Why one more, ``inbound_files``: Phase 1 is the same for a file of any type (a verdict, EDGE's
three reports, their reconciliation), and EDGE's reports name the file they answer by its
``inboundFileIdentifier`` only, not its type.  So the Phase 1 assets (``shadow_phase1`` ...
``phase1_reconciliation``) and the landed ``inbox_xml_file`` are partitioned by ``inbound_files``
and depend on the landing assets with Dagster's default identity mapping: partition ``K`` of
``shadow_phase1`` reads partition ``K`` of the one landing asset whose type ``K`` is.

``fileIdentifier`` is the master reconciliation key of EDGE: every outbound report of a file
echoes it.  A file that is not a recognisable submission (header unreadable, unknown root
element, no ``fileIdentifier``, or one Dagster cannot take as a key, see
:func:`valid_partition_key`) gets no partition at all: the inbox sensor records it as refused
(``refused_inbound_files``).

Every caller (the sensors, the demo, tests, the CLI) registers a file through
:func:`register_file_partition` (or, in a sensor, the requests of
:func:`file_partition_requests`), so a file is always in its type's definition and in
``inbound_files`` together.  A bad partition is removed with ``edge-pipeline partitions remove``
(:func:`remove_file_partition`).
"""

from __future__ import annotations

import dagster as dg

from edge_pipeline.edge.layouts import INBOUND_LAYOUTS

INBOUND_FILES_PARTITIONS_NAME = "inbound_files"

#: Every recognisable inbound file, whatever its type: the Phase 1 partitions.
inbound_files = dg.DynamicPartitionsDefinition(name=INBOUND_FILES_PARTITIONS_NAME)

#: The file types ("kinds"), lower-case layout names: ``eses``, ``esmcs``, ``espcs``, ``essfs``.
FILE_KINDS: tuple[str, ...] = tuple(layout.name.lower() for layout in INBOUND_LAYOUTS)

_BY_KIND: dict[str, dg.DynamicPartitionsDefinition] = {
    kind: dg.DynamicPartitionsDefinition(name=f"{kind}_files") for kind in FILE_KINDS
}

#: Substrings Dagster refuses in a partition key (``dagster``'s own list): adding such a key
#: fails the sensor tick that asks for it, and with it every other file of the tick.
INVALID_KEY_SUBSTRINGS = ("...", "\a", "\b", "\f", "\n", "\r", "\t", "\v", "\0")
#: Longest key taken (a fileIdentifier is 12 characters).
MAX_KEY_LENGTH = 255


def valid_partition_key(key: str) -> bool:
    """Whether Dagster accepts ``key`` as a dynamic partition key (it comes from a file's
    header, so it may hold anything)."""
    return (
        0 < len(key) <= MAX_KEY_LENGTH
        and key.isprintable()
        and not any(bad in key for bad in INVALID_KEY_SUBSTRINGS)
    )


def file_kind(layout_name: str) -> str:
    """The file kind of a layout name (``ESES`` -> ``eses``)."""
    kind = layout_name.lower()
    if kind not in _BY_KIND:
        raise ValueError(f"unknown inbound file kind {layout_name!r} (one of {FILE_KINDS})")
    return kind


def file_partitions_def(file_kind: str) -> dg.DynamicPartitionsDefinition:
    """The partitions of the landing asset of ``file_kind`` (``eses_files`` for ``eses``)."""
    try:
        return _BY_KIND[file_kind.lower()]
    except KeyError:
        raise ValueError(f"unknown inbound file kind {file_kind!r} (one of {FILE_KINDS})") from None


def file_partition_requests(
    file_kind: str, keys: list[str]
) -> list[dg.AddDynamicPartitionsRequest]:
    """What a sensor returns to register ``keys`` as files of ``file_kind``: the kind's
    definition and ``inbound_files``.  Refuses a key Dagster would not take (that would fail
    the whole tick)."""
    bad = [key for key in keys if not valid_partition_key(key)]
    if bad:
        raise ValueError(f"not a valid partition key: {bad[0]!r}")
    if not keys:
        return []
    return [
        dg.AddDynamicPartitionsRequest(file_partitions_def(file_kind).name, list(keys)),
        dg.AddDynamicPartitionsRequest(INBOUND_FILES_PARTITIONS_NAME, list(keys)),
    ]


def register_file_partition(instance: dg.DagsterInstance, file_kind: str, key: str) -> None:
    """Register ``key`` (a fileIdentifier) as a file of ``file_kind`` on ``instance``: the one
    way a file becomes a partition outside a sensor (the demo, tests, the CLI).  Idempotent."""
    for request in file_partition_requests(file_kind, [key]):
        if not instance.has_dynamic_partition(request.partitions_def_name, key):
            instance.add_dynamic_partitions(request.partitions_def_name, [key])


def file_partitions(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """Registered partitions per definition name (``inbound_files`` and each kind's)."""
    names = [INBOUND_FILES_PARTITIONS_NAME, *(d.name for d in _BY_KIND.values())]
    return {name: list(instance.get_dynamic_partitions(name)) for name in names}


def registered_kind(instance: dg.DagsterInstance, key: str) -> str | None:
    """The kind whose definition holds ``key``, if any."""
    for kind, definition in _BY_KIND.items():
        if instance.has_dynamic_partition(definition.name, key):
            return kind
    return None


def remove_file_partition(instance: dg.DagsterInstance, key: str) -> list[str]:
    """Delete partition ``key`` from every inbound definition holding it; returns their names.

    Dagster keeps the runs and materialization events of a deleted partition in the event log
    (the asset's history), but the partition no longer counts as missing or materialized and
    no sensor or backfill can target it.  The warehouse is not touched (``edge-pipeline
    forget`` takes a file's rows out of it).
    """
    removed = []
    for name in (INBOUND_FILES_PARTITIONS_NAME, *(d.name for d in _BY_KIND.values())):
        if instance.has_dynamic_partition(name, key):
            instance.delete_dynamic_partition(name, key)
            removed.append(name)
    return removed
