"""Errors the domain core raises for bad input, and the rules that keep their text safe.

Every message names the file, and where known the line, record and element, because the person
reading it has to find the offending spot in a multi-GB XML file.  Messages carry structure
(not only text) so the loader can record each part in the warehouse.

Messages travel far (stdout, ``submission_file.error``, Dagster metadata, the event log), so
they obey two rules, enforced here at the root rather than by each caller:

* **No values.**  A bad value is *described* (``not an integer, 11 characters``), never quoted:
  it may be a member id, a name or a birth date.  Callers build reasons with
  :func:`describe_value`; text that did not come from this project (libxml2's messages, names
  found in the document) goes through :func:`safe_name` or is replaced by a description.
* **Names are markup.**  An element name found in the file (an unexpected ``<note>``) is
  shown, capped and escaped: it is structure, not a value.  Names that libxml2 quotes from
  text it could not parse (a stray ``<`` in a member id makes the id a "tag name") are not
  shown: see ``readers.xmlparse.libxml2_message``.
* **Bounded and one line.**  Every part is length-capped and control characters are escaped,
  so a 900 KB value or a file name holding a newline can neither flood a log nor forge a line
  of output; the whole message is at most :data:`MAX_MESSAGE_CHARS` characters.
"""

from __future__ import annotations

from pathlib import Path

from edge_pipeline.base.names import printable_name

#: Upper bound of a rendered error message, whatever the file holds.
MAX_MESSAGE_CHARS = 280
#: Caps of the parts a message is built from (names found in a file, the reason).
MAX_FILE_NAME_CHARS = 64
MAX_ELEMENT_CHARS = 48
MAX_REASON_CHARS = 160


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the cut marked with ``…``."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def safe_name(name: object, limit: int = MAX_ELEMENT_CHARS) -> str:
    """A name found in a file (element, file name) fit for a message: escaped and capped.

    A name that is too long keeps its start and end (file names differ at both) and says how
    long it was, so the reader can still find it.
    """
    raw = str(name)
    if len(raw) <= limit:
        text = printable_name(raw)
        if len(text) <= limit:
            return text
    head, tail = printable_name(raw[:limit]), printable_name(raw[-limit:])
    note = f"…({len(raw)} chars)…"
    keep = max(2, limit - len(note))
    return head[: keep - keep // 3] + note + tail[len(tail) - keep // 3 :]


def describe_value(text: str | None) -> str:
    """What a rejected value looks like, without any of it: ``11 characters, digits and
    letters``.  Safe for a member id, a birth date or 900 KB of text alike."""
    if text is None:
        return "absent"
    if not text:
        return "empty"
    n = len(text)
    size = f"{n:,} character{'s' if n != 1 else ''}"
    stripped = text.strip()
    if not stripped:
        return f"{size}, blank"
    kinds = []
    if any(c.isdigit() for c in stripped):
        kinds.append("digits")
    if any(c.isalpha() for c in stripped):
        kinds.append("letters")
    if any(not c.isalnum() for c in stripped):
        kinds.append("other characters")
    return f"{size}, {' and '.join(kinds)}"


def count_digits(text: str) -> str:
    """``5,000 digits``: the size of an out-of-range number, without its value."""
    n = len(text.strip())
    return f"{n:,} digit{'s' if n != 1 else ''}"


def too_long(text: str, limit: int) -> str:
    """Why a value over its element's length limit is refused (see ``Element.max_length``)."""
    return (
        f"value of {len(text):,} characters is over this element's load limit of {limit:,} "
        "(a memory bound; shorter values load and Phase 1 judges them)"
    )


class InboundFormatError(ValueError):
    """An inbound file cannot be read as the EDGE layout it claims (or any EDGE layout).

    ``reason`` is this project's text and must not quote a value (see the module doc); it is
    escaped and capped all the same.
    """

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
        self.file = safe_name(Path(file).name, MAX_FILE_NAME_CHARS)  # one line, capped
        self.reason = shorten(printable_name(reason[: 4 * MAX_REASON_CHARS]), MAX_REASON_CHARS)
        self.record = record
        self.record_identifier = record_identifier
        self.element = None if element is None else safe_name(element)
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        where = [f"file {self.file}"]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            rid = f" {self.record_identifier}" if self.record_identifier is not None else ""
            where.append(f"record {safe_name(self.record)}{rid}")
        if self.element is not None:
            where.append(f"element {self.element}")
        return shorten(f"{', '.join(where)}: {self.reason}", MAX_MESSAGE_CHARS)


class FileChangedError(InboundFormatError):
    """The file's bytes changed while it was being read (a delivery still in progress)."""
