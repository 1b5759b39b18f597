"""Open a delivered file once, safely, and refuse what is not worth reading before reading it.

Both loaders (inbound files, outbound reports) take every file through :func:`open_input`:

* **One open file.**  The header, the hash and the records are all read from the one file
  descriptor opened here (the parallel workers inherit it), so a file renamed over the path
  mid-load cannot lend its content to the identity (header, sha256) of the file that was
  there: whatever happens to the path, the load is of the file that was opened.
* **Never a FIFO, a device or a directory, never through a symlink.**  The path is
  ``lstat``-ed and must be a regular file; it is then opened with ``O_NOFOLLOW`` (a symlink
  swapped in meanwhile is refused) and ``O_NONBLOCK`` (a FIFO swapped in cannot hang the
  open), and the open file is ``fstat``-ed again.  A symlink is refused rather than followed:
  it can point anywhere, and the target's name, size and hash are not the delivery's.
* **Cheap refusals first.**  A file over the size limit (``EDGE_MAX_FILE_BYTES``, default
  16 GiB), or one that does not start with markup (after an optional byte order mark and
  XML whitespace, in UTF-8, UTF-16 or UTF-32), is refused from its size and first bytes,
  before it is hashed: a 20 GB sparse file costs a ``stat`` and a 4 KB read, not minutes.

Every refusal is an :class:`UnreadableFileError` (an ``InboundFormatError``), which the
loaders record as a ``failed`` attempt naming the file and the reason, then go on.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from edge_pipeline.base.errors import InboundFormatError

#: Environment variable setting the largest file the loaders read, in bytes.
MAX_FILE_BYTES_ENV = "EDGE_MAX_FILE_BYTES"
#: Default limit: well above any real EDGE file (the largest are a few GB), well below what
#: would hold the pipeline for hours.
DEFAULT_MAX_FILE_BYTES = 16 * 2**30
#: How far into a file markup must have started (past a BOM and whitespace).
_MARKUP_WITHIN = 1 << 16
_WHITESPACE = " \t\r\n"
#: Byte order marks and, without one, how ``<`` starts a UTF-16/32 file (XML 1.0, appendix F).
_ENCODING_SIGNS: tuple[tuple[bytes, str, int], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be", 4),
    (b"\xff\xfe\x00\x00", "utf-32-le", 4),
    (b"\xef\xbb\xbf", "utf-8", 3),
    (b"\xfe\xff", "utf-16-be", 2),
    (b"\xff\xfe", "utf-16-le", 2),
    (b"\x00\x00\x00", "utf-32-be", 0),
    (b"\x00", "utf-16-be", 0),
    (b"<\x00\x00\x00", "utf-32-le", 0),
    (b"<\x00", "utf-16-le", 0),
)


class UnreadableFileError(InboundFormatError):
    """The path is not a file the loaders read: gone, not a regular file, a symlink, not
    readable, too large, or not XML.  Refused before any of it is parsed."""


def max_file_bytes() -> int:
    """The size limit: ``$EDGE_MAX_FILE_BYTES`` (a whole number of bytes) or the default."""
    raw = os.environ.get(MAX_FILE_BYTES_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_MAX_FILE_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_FILE_BYTES_ENV} must be a whole number of bytes, at least 1")
    return int(raw)


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, kind in (
        (stat.S_ISLNK, "a symbolic link (not followed: it may point anywhere)"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n:,} bytes ({n / 2**30:.1f} GiB)" if n >= 2**30 else f"{n:,} bytes"


class InputFile:
    """A regular file opened once for reading (see the module doc); close it when done."""

    def __init__(self, path: Path, fd: int, size: int) -> None:
        self.path = path
        self.fd = fd
        self.size = size
        #: The buffered reader over ``fd`` that the header reader, the hash and the serial
        #: record reader use in turn (each from offset 0: see :meth:`rewound`).
        raw = io.FileIO(fd, "rb", closefd=True)
        raw.name = str(path)  # for messages and repr, never for opening
        self.file: BinaryIO = io.BufferedReader(raw)  # type: ignore[assignment]

    def rewound(self) -> BinaryIO:
        """The open file, positioned at its first byte."""
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> InputFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_input(path: Path, max_bytes: int | None = None, *, markup: bool = True) -> InputFile:
    """Open ``path`` for one load, or raise :class:`UnreadableFileError` saying why not.

    ``markup=False`` skips the "markup at byte 0" refusal, for a caller that decides itself
    what a file is (:mod:`edge_pipeline.base.routing`: not every family's files are XML)."""
    limit = max_file_bytes() if max_bytes is None else max_bytes
    try:
        before = os.lstat(path)
    except OSError as exc:
        raise _refusal(path, exc) from exc
    if not stat.S_ISREG(before.st_mode):
        raise UnreadableFileError(path, f"not a regular file: it is {_kind(before.st_mode)}")
    flags = os.O_RDONLY | os.O_NONBLOCK
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _refusal(path, exc) from exc
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped for something else since the lstat
            raise UnreadableFileError(path, f"not a regular file: it is {_kind(opened.st_mode)}")
        if opened.st_size > limit:
            raise UnreadableFileError(
                path,
                f"the file is {_size(opened.st_size)}, over the limit of {_size(limit)} "
                f"(set {MAX_FILE_BYTES_ENV} to change it); not read",
            )
        os.set_blocking(fd, True)
        if markup:
            _refuse_unless_markup(path, os.pread(fd, _MARKUP_WITHIN, 0), opened.st_size)
    except OSError as exc:
        os.close(fd)
        raise _refusal(path, exc) from exc
    except BaseException:
        os.close(fd)
        raise
    return InputFile(path, fd, opened.st_size)


def _text_start(head: bytes) -> tuple[str, int]:
    """The start of ``head`` as text past its byte-order mark and leading whitespace, and the
    length of the mark."""
    encoding, skip = "utf-8", 0
    for sign, name, length in _ENCODING_SIGNS:
        if head.startswith(sign):
            encoding, skip = name, length
            break
    return head[skip:].decode(encoding, errors="replace").lstrip(_WHITESPACE), skip


def looks_like_markup(head: bytes) -> bool:
    """Whether a file starting with ``head`` starts (past a BOM and whitespace) with ``<``."""
    return _text_start(head)[0].startswith("<")


def _refuse_unless_markup(path: Path, head: bytes, size: int) -> None:
    """Refuse a file whose first character (past a BOM and whitespace) is not ``<``.  An
    empty or all-whitespace file is left to the parser, whose message for it is precise."""
    text, skip = _text_start(head)
    if text.startswith("<"):
        return
    if not text:
        if size <= len(head):
            return
        reason = f"no markup in the first {len(head):,} bytes (only whitespace)"
    else:
        at = len(head) - len(head[skip:].lstrip(b" \t\r\n"))
        reason = f"byte {at:,} is 0x{head[at]:02x}, not the start of markup"
    raise UnreadableFileError(path, f"not an XML file: {reason}; not read")


def _refusal(path: Path, exc: OSError) -> UnreadableFileError:
    """An ``OSError`` from looking at or opening ``path`` as the file's recorded failure."""
    if isinstance(exc, UnreadableFileError):
        return exc
    if exc.errno == errno.ENOENT:
        reason = "the file no longer exists (removed or renamed before it could be read)"
    elif exc.errno == errno.ELOOP:
        reason = "not a regular file: it is a symbolic link (not followed: it may point anywhere)"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        reason = "the file cannot be read: permission denied"
    else:
        reason = f"the file cannot be read: {exc.strerror or exc}"
    return UnreadableFileError(path, reason)


def read_error(path: Path, exc: OSError) -> UnreadableFileError:
    """An ``OSError`` while reading an opened file (an I/O error, a vanished network share)
    as the file's recorded failure."""
    return UnreadableFileError(path, f"the file could not be read: {exc.strerror or exc}")
