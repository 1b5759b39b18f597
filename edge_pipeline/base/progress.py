"""Progress of a long command on stderr: ``files N/M, records R, R/s`` at most once a second.

Shown only when stderr is a terminal or when asked (``--progress``), so piped output and logs
stay clean.  Counts only: no file content, no member data.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Count files and records; print a line when at least ``interval`` seconds passed."""

    def __init__(
        self,
        total_files: int,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        interval: float = 1.0,
        label: str = "files",
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.total_files = total_files
        self.files = 0
        self.records = 0
        self.interval = interval
        self.label = label
        self._started = time.monotonic()
        self._last: float | None = None

    def line(self) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = self.records / elapsed
        return (
            f"{self.label} {self.files}/{self.total_files}, records {self.records:,}, "
            f"{rate:,.0f} records/s, {elapsed:.1f} s"
        )

    def advance(self, files: int = 1, records: int = 0) -> None:
        """``files`` more done, with ``records`` records; print when the interval has passed."""
        self.files += files
        self.records += records
        now = time.monotonic()
        if self.enabled and (self._last is None or now - self._last >= self.interval):
            self._last = now
            self._emit()

    def done(self) -> None:
        """The final line (always, when enabled)."""
        if self.enabled:
            self._emit()

    def _emit(self) -> None:
        print(self.line(), file=self.stream, flush=True)
