"""Test support for the reconciliation checks: RA reports re-sent with a discrepancy.

A misbehaving EDGE server is simulated the way :mod:`phase2_support` does it for RARSD: a copy
of a real shadow report is edited with lxml (a RATEE entry's PLRS or billable member months
moved, a RACSD entry moved to another category) and written as a newer snapshot of the run --
later ``outboundFileGenerationDateTime``, new ``outboundFileIdentifier``, the file name EDGE
would give it -- so the real loader replaces the run's report of that type with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lxml import etree
from phase2_support import child, local

from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_ROOT
from edge_pipeline.edge.layouts.outbound.racsd import CATEGORY_ELEMENTS
from edge_pipeline.edge.outbound.core.naming import edge_datetime, outbound_file_name

Edit = Callable[[etree._Element], None]


@dataclass(frozen=True)
class Resent:
    """An edited report as re-sent: where it is and how its header names it."""

    path: Path
    outbound_file_identifier: str
    generated_at: dt.datetime


def resend(
    original: Path,
    folder: Path,
    edit: Edit | None = None,
    *,
    later: dt.timedelta = dt.timedelta(hours=1),
) -> Resent:
    """A copy of ``original`` in ``folder``, ``edit`` applied to its root, generated ``later``
    under a new ``outboundFileIdentifier`` (the generation stamp it ends with moved too)."""
    tree = etree.parse(str(original))
    root = tree.getroot()
    header = child(root, "includedFileHeader")
    generated = child(header, "outboundFileGenerationDateTime")
    old_time = dt.datetime.fromisoformat(generated.text)
    new_time = old_time + later
    generated.text = edge_datetime(new_time)
    identifier = child(header, "outboundFileIdentifier")
    old_stamp = f"{old_time:%Y%m%d%H%M%S}"
    assert identifier.text.endswith(old_stamp), identifier.text
    identifier.text = identifier.text.removesuffix(old_stamp) + f"{new_time:%Y%m%d%H%M%S}"
    if edit is not None:
        edit(root)
    code = OUTBOUND_BY_ROOT[local(root)].file_code
    issuer = child(header, "issuerID").text
    zone = child(header, "executionZoneCode").text
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / outbound_file_name(issuer, code, new_time, zone)
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    return Resent(path, identifier.text, new_time)


# --------------------------------------------------------------------------- RATEE

#: RATEE key element names, in ``reported_ratee`` key order (state, risk pool, plan, area).
RATEE_KEY_ELEMENTS = (
    "stateCode",
    "riskPoolCode",
    "standardComponentIdentifier",
    "ratingAreaIdentifier",
)


def transfer_element(root: etree._Element, key: tuple[str, str, str, str]) -> etree._Element:
    """The ``includedTransferElement`` of one state x risk pool x plan x rating area."""
    found = [
        entry
        for entry in root
        if local(entry) == "includedTransferElement"
        and tuple(child(entry, name).text for name in RATEE_KEY_ELEMENTS) == key
    ]
    assert len(found) == 1, (key, len(found))
    return found[0]


def bump_ratee(key: tuple[str, str, str, str], element: str, delta: Decimal) -> Edit:
    """An edit adding ``delta`` to one decimal element of one RATEE entry (scale kept)."""

    def edit(root: etree._Element) -> None:
        leaf = child(transfer_element(root, key), element)
        leaf.text = str(Decimal(leaf.text) + delta)

    return edit


# --------------------------------------------------------------------------- RACSD


def _category(root: etree._Element, category: str) -> etree._Element:
    return child(root, CATEGORY_ELEMENTS[category])


def _selection(container: etree._Element, record: tuple[str, int]) -> etree._Element:
    fid, rid = record
    found = [
        entry
        for entry in container
        if child(entry, "fileIdentifier").text == fid
        and child(entry, "recordIdentifier").text == str(rid)
    ]
    assert len(found) == 1, (local(container), record, len(found))
    return found[0]


def include_unlinked(record: tuple[str, int]) -> Edit:
    """An edit moving a supplemental record from the unlinked category (R10) to the included
    supplemental claims: ``raIncludedIndicator`` Y, no exclusion reason."""

    def edit(root: etree._Element) -> None:
        entry = _selection(_category(root, "unlinked_supplemental"), record)
        child(entry, "raIncludedIndicator").text = "Y"
        entry.remove(child(entry, "raExclusionReasonCode"))
        _category(root, "supplemental_claim").append(entry)  # moves it

    return edit


def unlink_included(record: tuple[str, int]) -> Edit:
    """An edit moving an included supplemental record to the unlinked category, N / R10."""

    def edit(root: etree._Element) -> None:
        entry = _selection(_category(root, "supplemental_claim"), record)
        included = child(entry, "raIncludedIndicator")
        included.text = "N"
        reason = etree.SubElement(
            entry, etree.QName(etree.QName(included).namespace, "raExclusionReasonCode")
        )
        reason.text = "R10"
        _category(root, "unlinked_supplemental").append(entry)

    return edit


def drop_selection(category: str, record: tuple[str, int]) -> Edit:
    """An edit removing one entry (a record EDGE forgot to report) from a RACSD category."""

    def edit(root: etree._Element) -> None:
        container = _category(root, category)
        container.remove(_selection(container, record))

    return edit
