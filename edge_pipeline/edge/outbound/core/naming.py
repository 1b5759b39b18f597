"""Names of outbound files and reports (spec section 5), and the date-time forms they use.

``<issuer>.<XX>.D<MMDDYYYY>T<HHMMSS>.<zone>.xml``: the file name is the only place a Phase 1
report states the execution zone, so the reader takes the zone from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

OUTBOUND_NAME = re.compile(
    r"^(?P<issuer>[^.]+)\.(?P<code>[A-Z]{2})\.D(?P<date>\d{8})T(?P<time>\d{6})\.(?P<zone>[^.]+)\.xml$"
)
#: Characters kept from a value placed in a file name; anything else becomes ``_`` (an issuer
#: id or zone read from a defective inbound header must not make a path).
_UNSAFE = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True)
class OutboundName:
    """What an outbound file name says."""

    issuer: str
    code: str
    generated_at: datetime
    zone: str


def edge_datetime(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS``, the EDGE date-time form (no fraction, no zone)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def parse_edge_datetime(text: str | None) -> datetime | None:
    """A date-time as EDGE writes it, or ``None`` when it cannot be read.  An offset, if any,
    is converted to UTC and dropped so every stored timestamp compares alike."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _safe(text: str | None, fallback: str) -> str:
    cleaned = _UNSAFE.sub("_", text or "")
    return cleaned or fallback


def outbound_file_name(
    issuer: str | None, code: str, generated_at: datetime, zone: str | None
) -> str:
    """``<issuer>.<XX>.D<MMDDYYYY>T<HHMMSS>.<zone>.xml``."""
    stamp = generated_at.strftime("D%m%d%YT%H%M%S")
    return f"{_safe(issuer, 'UNKNOWN')}.{code}.{stamp}.{_safe(zone, 'U')}.xml"


def parse_outbound_file_name(name: str) -> OutboundName | None:
    """The parts of an outbound file name, or ``None`` if it does not follow the pattern."""
    match = OUTBOUND_NAME.match(name)
    if match is None:
        return None
    try:
        generated = datetime.strptime(match["date"] + match["time"], "%m%d%Y%H%M%S")
    except ValueError:
        return None
    return OutboundName(match["issuer"], match["code"], generated, match["zone"])


def outbound_file_identifier(
    inbound_file_identifier: str, code: str, generated_at: datetime
) -> str:
    """This project's ``outboundFileIdentifier`` (assumed form): the inbound fileIdentifier, the
    report code and the generation time, so it is unique per report and readable in an audit."""
    return f"{inbound_file_identifier}{code}{generated_at:%Y%m%d%H%M%S}"
