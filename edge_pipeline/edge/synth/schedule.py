"""File names, file identifiers, generation date-times and headers of the generated files.

All derive from the seed and benefit year (never the wall clock), so regenerating gives the same
bytes.  Files are stamped a few minutes apart in early April after the benefit year (before the
April 30 submission deadline), later than every claim's processed date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edge_pipeline.edge.layouts.model import FileLayout
from edge_pipeline.edge.synth.ids import derive_seed

#: interfaceControlReleaseNumber written in every header (``NN.NN.NN``).
ICD_RELEASE = "02.01.10"
ZONES = ("T", "P", "V")


def issuer_for(seed: int) -> str:
    """The synthetic issuer's 5-digit HIOS id."""
    return f"{10000 + derive_seed(seed, 'issuer') % 90000:05d}"


@dataclass(frozen=True)
class FileSlot:
    """Name and header identity of one file to write."""

    layout: FileLayout
    name: str
    file_identifier: str
    generation_datetime: str
    zone: str

    def header(self) -> dict[str, str]:
        """Header values keyed by layout column."""
        return {
            "file_identifier": self.file_identifier,
            "execution_zone": self.zone,
            "icd_release": ICD_RELEASE,
            "generation_datetime": self.generation_datetime,
            "submission_type": self.layout.submission_type,
        }


class FileSchedule:
    """Hands out distinct, deterministic names and identifiers, one per file in write order."""

    def __init__(self, seed: int, issuer_id: str, benefit_year: int, zone: str) -> None:
        if zone not in ZONES:
            raise ValueError(f"execution zone must be one of {ZONES}, got {zone!r}")
        self.issuer_id = issuer_id
        self.zone = zone
        mix = derive_seed(seed, "issuer", 3)
        self._base = dt.datetime(benefit_year + 1, 4, 1, 8, 0, 0) + dt.timedelta(
            days=mix % 14, seconds=(mix >> 8) % 3600
        )
        self._serial = (mix >> 20) % 900_000
        self._count = 0

    def next(self, layout: FileLayout) -> FileSlot:
        k = self._count
        self._count += 1
        stamp = self._base + dt.timedelta(minutes=7 * k, seconds=13 * k)
        name = (
            f"{self.issuer_id}.{layout.submission_type}."
            f"D{stamp:%m%d%Y}T{stamp:%H%M%S}.{self.zone}.xml"
        )
        file_identifier = f"{self.issuer_id}{layout.submission_type}{self._serial + k:06d}"
        return FileSlot(
            layout, name, file_identifier, stamp.isoformat(timespec="seconds"), self.zone
        )
