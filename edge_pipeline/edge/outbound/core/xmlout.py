"""A small streaming XML text writer for the outbound reports.

The reports are written as text, element by element, in the style of
:mod:`edge_pipeline.edge.writers.submission`: no element tree is ever built, so a detail report of
millions of records is written with flat memory.  The file appears under its final name only
when complete (a ``.part`` file is renamed), and a report already on disk is never silently
replaced by a different one.
"""

from __future__ import annotations

import filecmp
import os
from pathlib import Path
from types import TracebackType

from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE
from edge_pipeline.edge.writers.submission import xml_escape

_INDENT = "  "
_FLUSH_PARTS = 8_192


class XmlStream:
    """Write one XML document with a default-namespace root to ``path``."""

    def __init__(self, path: Path, root: str) -> None:
        self.path = Path(path)
        self.root = root
        self._tmp = self.path.with_name(f".{self.path.name}.part")
        self._file = open(self._tmp, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._parts: list[str] = [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<{root} xmlns="{EDGE_NAMESPACE}">',
        ]
        self._open: list[str] = []

    @property
    def depth(self) -> int:
        """How many elements below the root are open."""
        return len(self._open)

    def start(self, name: str) -> None:
        self._parts.append(f"\n{_INDENT * (len(self._open) + 1)}<{name}>")
        self._open.append(name)

    def end(self, name: str) -> None:
        opened = self._open.pop()
        if opened != name:
            raise RuntimeError(f"closing {name} while {opened} is open")
        self._parts.append(f"\n{_INDENT * (len(self._open) + 1)}</{name}>")
        if len(self._parts) > _FLUSH_PARTS:
            self._flush()

    def leaf(self, name: str, value: object | None) -> None:
        """``None`` omits the element; an empty value writes ``<name/>``."""
        if value is None:
            return
        text = xml_escape(value if isinstance(value, str) else str(value))
        pad = _INDENT * (len(self._open) + 1)
        self._parts.append(f"\n{pad}<{name}>{text}</{name}>" if text else f"\n{pad}<{name}/>")

    def finish(self) -> Path:
        """Close the document and move it into place.

        An identical file already at ``path`` is kept (writing the same report twice is a
        no-op); a different one is an error rather than an overwrite, since two reports may not
        share a name.
        """
        if self._open:
            raise RuntimeError(f"finish() with {self._open[-1]} still open")
        self._parts.append(f"\n</{self.root}>\n")
        self._flush()
        self._file.close()
        if self.path.exists():
            same = filecmp.cmp(self._tmp, self.path, shallow=False)
            self._tmp.unlink()
            if not same:
                raise FileExistsError(
                    f"{self.path.name} already exists with different content; not overwritten"
                )
            return self.path
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial output."""
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)

    def _flush(self) -> None:
        self._file.write("".join(self._parts))
        self._parts = []

    def __enter__(self) -> XmlStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
