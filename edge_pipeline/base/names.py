"""File names as text that is safe to print, log and store.

A file name is chosen by whoever drops the file.  On POSIX it may hold any byte but ``/`` and
NUL: a newline forges a second output line, an ANSI escape repaints the terminal, a
right-to-left override reverses what follows, and bytes that are not UTF-8 (decoded by Python
as lone surrogates) make ``print`` and DuckDB raise.  Every line and message that shows a file
name shows it through :func:`printable_name`.
"""

from __future__ import annotations

import unicodedata

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    # Cc: control characters (C0, DEL, C1: newline, ESC, ...); Cf: format characters such as
    # the bidirectional overrides; Cs: lone surrogates; Zl/Zp: line and paragraph separators.
    return char == "\\" or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def printable_name(name: str) -> str:
    """``name`` with every control, format or undecodable character shown as an escape
    (``\\n``, ``\\x1b``, ``\\u202e``, ``\\xff``) and backslashes doubled, so the result is one
    line that renders as plain text and can be told apart from the name of another file."""
    if name.isprintable() and "\\" not in name:  # the common case, at C speed
        return name
    return "".join(_escaped(c) if _unsafe(c) else c for c in name)


def storable_name(name: str) -> str:
    """``name`` as valid Unicode for the warehouse: unchanged unless it holds bytes that are
    not UTF-8, which are escaped as in :func:`printable_name`."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escaped(c) if unicodedata.category(c) == "Cs" else c for c in name)
    return name
