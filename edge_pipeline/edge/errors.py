"""Errors the domain core raises for bad input.

Every message names the file, and where known the record and element, because the person
reading it has to find the offending spot in a multi-GB XML file.  Messages carry structure
(not only text) so the loader can record each part in the warehouse.
"""

from __future__ import annotations

from pathlib import Path

from edge_pipeline.edge.names import printable_name


class InboundFormatError(ValueError):
    """An inbound file cannot be read as the EDGE layout it claims (or any EDGE layout)."""

    def __init__(
        self,
        file: str | Path,
        reason: str,
        *,
        record: str | None = None,
        record_identifier: int | None = None,
        element: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = printable_name(Path(file).name)  # one line, whatever the name holds
        self.reason = reason
        self.record = record
        self.record_identifier = record_identifier
        self.element = element
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        where = [f"file {self.file}"]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            rid = f" {self.record_identifier}" if self.record_identifier is not None else ""
            where.append(f"record {self.record}{rid}")
        if self.element is not None:
            where.append(f"element {self.element}")
        return f"{', '.join(where)}: {self.reason}"


class FileChangedError(InboundFormatError):
    """The file's bytes changed while it was being read (a delivery still in progress)."""
