"""What the inbound loader (:mod:`edge_pipeline.edge.warehouse.load`) and the outbound loader
(:mod:`edge_pipeline.edge.outbound.load`) share, so that their registries read the same way.

Each loader takes files one transaction at a time and records every attempt in its registry
table (``submission_file``, ``outbound_file``) under one vocabulary of outcomes: a file whose
identifier is already loaded with the same bytes is ``unchanged``, with other bytes
``refused``.  Kept in one place here: the outcome's common fields (:class:`FileLoadResult`),
the registry's look-up and attempt row (:class:`FileRegistry`), which files a list of
paths names (:func:`xml_paths`), and a file opened, checked, its header read and hashed before
the warehouse is needed (:class:`PreparedInput`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

import duckdb

from edge_pipeline.base.digest import file_digests
from edge_pipeline.base.input_file import InputFile, UnreadableFileError, open_input, read_error
from edge_pipeline.base.names import storable_name
from edge_pipeline.base.warehouse.query import scalar


@dataclass
class FileLoadResult:
    """What happened to one file; safe to log (no member data).  Each loader adds its own
    identifiers (load id, file identifier, layout or report type)."""

    status: str  # loaded | unchanged | refused | failed (| replaced, outbound only)
    path: str
    file_name: str
    size_bytes: int
    sha256: str
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """The file's content is in the warehouse: loaded now, or already (a re-delivery)."""
        return self.status in ("loaded", "unchanged")


@dataclass(frozen=True)
class FileRegistry:
    """A registry table of load attempts: one row per attempt that changed something, its id
    drawn from ``sequence``; a file is keyed by its ``identifier_column`` (the identifier the
    file's header gives it), and counts as in the warehouse in one of ``loaded_statuses``."""

    table: str
    id_column: str
    sequence: str
    identifier_column: str
    loaded_statuses: tuple[str, ...]

    def loaded_sha256s(self, con: duckdb.DuckDBPyConnection, identifier: str | None) -> list[str]:
        """The sha256 of every file loaded under ``identifier``.  A file among them is a
        re-delivery (``unchanged``); any other file reusing the identifier is ``refused``."""
        statuses = ", ".join("?" for _ in self.loaded_statuses)
        rows = con.execute(
            f"SELECT sha256 FROM {self.table} "
            f"WHERE status IN ({statuses}) AND {self.identifier_column} = ?",
            [*self.loaded_statuses, identifier],
        ).fetchall()
        return [sha256 for (sha256,) in rows]

    def insert_attempt(
        self,
        con: duckdb.DuckDBPyConnection,
        result: FileLoadResult,
        status: str,
        values: Mapping[str, object],
    ) -> int:
        """Record one attempt at ``result``'s file as ``status``, with the loader's own
        ``values`` (header fields, error position) after the common ones; its new id."""
        row: dict[str, object] = {
            "path": result.path,
            "file_name": result.file_name,
            "size_bytes": result.size_bytes,
            "sha256": result.sha256,
            "loaded_at": datetime.now(),
            "status": status,
            "error": result.error,
            **values,
        }
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        inserted = scalar(
            con,
            f"INSERT INTO {self.table} ({self.id_column}, {names}) "
            f"VALUES (nextval('{self.sequence}'), {marks}) RETURNING {self.id_column}",
            list(row.values()),
        )
        assert inserted is not None
        return int(inserted)


def xml_paths(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Expand directories into their ``*.xml`` entries (sorted, so loads are reproducible).

    A path named directly is the user's choice: a symlink there is resolved to its target.
    A directory's entries are taken as they are, whatever they are (a symlink, a FIFO, a
    directory named ``*.xml``): the loader refuses each one that is not a regular file and
    records why, rather than following a link out of the folder or skipping it unseen.
    """
    for item in map(Path, paths):
        if item.is_dir():
            yield from sorted(item.glob("*.xml"))
        else:
            yield item.resolve()


R = TypeVar("R", bound=FileLoadResult)
H = TypeVar("H")


class PreparedInput(Generic[R, H]):
    """A delivered file opened once, checked, its header read and hashed: everything a load
    learns before it needs the warehouse, so that the writer lock is not held meanwhile.

    Header, hash and records all come from the one open file (:mod:`..input_file`).  A refusal
    of the file (unreadable, not a regular file, too large, not XML) or a header that cannot
    be read is kept in ``error``, raised again by the load once it can be recorded.  Each
    loader says how it reads a header and hashes (:meth:`_read`).  Use as a context manager:
    leaving it closes the file.
    """

    def __init__(self, path: Path | str, result: type[R]) -> None:
        self.started = time.perf_counter()
        path = Path(path)
        # The directory is made canonical; the name is not resolved (a symlink is refused).
        self.path = path.parent.resolve() / path.name
        self.result: R = result(
            status="failed",
            path=storable_name(str(self.path)),
            file_name=storable_name(self.path.name),
            size_bytes=0,
            sha256="",
        )
        self.header: H | None = None
        self.error: Exception | None = None
        self.input: InputFile | None = None
        try:
            self.input = open_input(self.path)
            self.result.size_bytes = self.input.size
            self._read(self.input)
        except UnreadableFileError as exc:
            self.error = exc
        except BaseException:
            self.close()
            raise

    def _read(self, opened: InputFile) -> None:
        """Read the header (:meth:`_read_header`) and hash the file (:meth:`_hash`)."""
        raise NotImplementedError

    def _read_header(self, reader: Callable[[Path, IO[bytes]], H]) -> None:
        """The header, by ``reader``; a header that cannot be read is the file's ``error``."""
        assert self.input is not None
        try:
            self.header = reader(self.path, self.input.file)
        except OSError as exc:
            raise read_error(self.path, exc) from exc
        except Exception as exc:
            self.error = exc

    def _hash(self, cuts: Sequence[int] = ()) -> Any:
        """Hash the whole file into ``result.sha256``; the checksums of the pieces ``cuts``
        makes (see :func:`..digest.file_digests`)."""
        assert self.input is not None
        try:
            self.result.sha256, checksums = file_digests(self.input.file, cuts)
        except OSError as exc:
            raise read_error(self.path, exc) from exc
        return checksums

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self.input is not None:
            self.input.close()

    def __enter__(self) -> PreparedInput[R, H]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
