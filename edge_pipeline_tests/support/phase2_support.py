"""Test support for the Phase 2 Dagster layer: RA report validation and RARSD surgery.

The reports are real files written by the shadow; a misbehaving EDGE server is simulated by
editing a copy with lxml (one enrollee's score changed, one HCC of another enrollee dropped)
and re-sending it as a newer snapshot, so the reader, the loader and the reconciliation see
exactly what they would see from a real outbox.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lxml import etree

from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_ROOT
from edge_pipeline.edge.outbound.core.naming import edge_datetime, outbound_file_name
from edge_pipeline.edge.outbound.core.xsd import load_schema

#: Small and fast, with a few Phase 1 defects (rejected records) and every selection reason.
ENROLLEES, SEED, ERROR_RATE, YEAR = 200, 11, 0.02, 2025

#: What the tampered RARSD adds to one enrollee's raw score.
SCORE_DELTA = Decimal("0.500")


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def child(element: etree._Element, name: str) -> etree._Element:
    return next(c for c in element if local(c) == name)


def xsd_errors(path: Path) -> list[str]:
    """Errors of the report against the shipped XSD of its type (empty when valid)."""
    document = etree.parse(str(path))
    layout = OUTBOUND_BY_ROOT[local(document.getroot())]
    schema = load_schema(layout)
    if schema.validate(document):
        return []
    return [str(error) for error in schema.error_log]


def header_value(path: Path, name: str) -> str | None:
    """The text of one ``includedFileHeader`` element of a report."""
    header = child(etree.parse(str(path)).getroot(), "includedFileHeader")
    return child(header, name).text


def _enrollee(root: etree._Element, member_id: str, plan_id: str) -> etree._Element:
    for entry in root:
        if local(entry) != "includedEnrolleeRiskScore":
            continue
        if (
            child(entry, "insuredMemberIdentifier").text == member_id
            and child(entry, "insurancePlanIdentifier").text == plan_id
        ):
            return entry
    raise KeyError((member_id, plan_id))


@dataclass(frozen=True)
class Resent:
    """The tampered RARSD as re-sent: where it is and how its header names it."""

    path: Path
    outbound_file_identifier: str
    generated_at: dt.datetime
    score_raw: Decimal  # the re-sent raw score of the re-scored enrollee


def resend_tampered_rarsd(
    original: Path,
    folder: Path,
    *,
    rescore: tuple[str, str],
    drop_hcc: tuple[str, str, str],
    later: dt.timedelta = dt.timedelta(hours=1),
) -> Resent:
    """A newer RARSD in ``folder``: ``rescore`` (member, plan) gets ``riskScore`` +
    :data:`SCORE_DELTA`, ``drop_hcc`` (member, plan, HCC) loses that ``includedHcc`` (with its
    sources), the generation time moves ``later`` and the report gets a new
    ``outboundFileIdentifier`` and the file name EDGE would give it."""
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

    score = child(_enrollee(root, *rescore), "riskScore")
    new_score = Decimal(score.text) + SCORE_DELTA
    score.text = str(new_score)

    member, plan, hcc = drop_hcc
    entry = _enrollee(root, member, plan)
    dropped = [
        e for e in entry if local(e) == "includedHcc" and child(e, "hccIdentifier").text == hcc
    ]
    assert len(dropped) == 1, (hcc, len(dropped))
    entry.remove(dropped[0])

    issuer = child(header, "issuerID").text
    zone = child(header, "executionZoneCode").text
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / outbound_file_name(issuer, "RD", new_time, zone)
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    return Resent(path, identifier.text, new_time, new_score)
