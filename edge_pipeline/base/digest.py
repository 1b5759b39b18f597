"""File digests: the sha256 that identifies a delivered file, taken without a second read.

Inbound and outbound loaders both hash a file up front (to decide "identical re-delivery")
and again while parsing it (to catch a file that changes under the parser); both use this.
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path
from typing import IO

HASH_CHUNK = 1 << 20


class HashingReader:
    """File wrapper that hashes exactly the bytes the parser consumes."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.digest.update(chunk)
        return chunk

    def finish(self) -> str:
        """Hash whatever the parser left unread (trailing whitespace) and return the digest."""
        while chunk := self.raw.read(HASH_CHUNK):
            self.digest.update(chunk)
        return self.digest.hexdigest()


def sha256_file(path: Path) -> str:
    return file_digests(path)[0]


def file_digests(
    source: Path | IO[bytes], cuts: tuple[int, ...] = ()
) -> tuple[str, tuple[int, ...]]:
    """The file's SHA-256 and, in the same pass, the CRC-32 of each byte range between the
    offsets in ``cuts`` (what the parallel workers report for the bytes they parsed).

    ``source`` is a path, or a file already open (the loaders' one open file: it is read from
    its first byte, so the hash is of the very file the header and records come from)."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as opened:
            return _digests(opened, cuts)
    source.seek(0)
    return _digests(source, cuts)


def _digests(source: IO[bytes], cuts: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    digest = hashlib.sha256()
    crcs: list[int] = []
    crc = position = 0
    pending = list(cuts)
    while chunk := source.read(HASH_CHUNK):
        digest.update(chunk)
        if not cuts:
            continue
        while pending and position + len(chunk) >= pending[0]:
            cut = pending.pop(0)
            crcs.append(zlib.crc32(chunk[: cut - position], crc))
            chunk, crc, position = chunk[cut - position :], 0, cut
        crc = zlib.crc32(chunk, crc)
        position += len(chunk)
    return digest.hexdigest(), (*crcs, crc) if cuts else ()
