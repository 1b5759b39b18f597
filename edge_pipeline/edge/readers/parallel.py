"""Read one large inbound file on two cores: split it at a record boundary, one worker per half.

Why: parsing is CPU-bound and lxml holds the GIL, so a second core needs a second process.  Two
workers each parse *half* the bytes (a worker that parsed the whole file and kept every other
record would pay for the whole parse twice) and stream Arrow batches back over a pipe; the
calling process only inserts them into DuckDB, inside the load's single transaction.

How a file is split (``plan_split``), for a layout issuer > X > R (ESMCS: issuer > plan > claim):

* the split point is the start tag of the first R after the middle of the file;
* worker 1 reads ``bytes[0:split]`` followed by the end tags of X, the issuer and the root;
* worker 2 reads the root's start tag and header, the start tag and leaves of the issuer and of
  the X that is open at the split, a newline, then ``bytes[split:]``.  That issuer and X are
  *inherited*: worker 1 emits their rows, worker 2 only checks them.

Why that cannot change what is loaded:

* The split is planned only for a file the parser reads as UTF-8 (or its subset ASCII),
  detected as libxml2 does: a byte-order mark, else the XML declaration's ``encoding``.  The
  byte searches below look for ASCII bytes, which mean the same characters only there: in
  UTF-16, UTF-32 or EBCDIC a tag is other bytes, and in UTF-7 ``+ADw-`` is a ``<``.  Any
  other encoding is read serially (``splittable_encoding``).
* The split is planned only if no ``<!`` or ``<?`` occurs between the XML declaration and the
  split.  Then every ``<`` there starts a tag (text and attribute values cannot hold a raw
  ``<``), so byte searches for start tags find exactly the elements the parser sees.
* Each half is parsed by the ordinary hardened reader.  Worker 1 succeeding proves the bytes
  before the split are well-formed with exactly root > issuer > X open at the split; worker 2
  succeeding proves the rest is a well-formed continuation of that same stack, opened by
  verbatim copies of those start tags (so namespace bindings are the same).  Together that is
  the serial parse.  The reader refuses a record that is not directly inside its parent
  record, so the X and issuer found by searching backwards are the ones actually open.
* Rows of the inherited issuer and X come from worker 1, which saw all their leaves, unless a
  leaf follows the split; worker 2 detects that from line numbers (everything after its
  inserted newline is on a later line) and the file is read serially instead.
* Each worker checksums the bytes it owns; the loader compares them with the checksums it took
  while hashing the file, so a file that changes during the load is caught.
* The workers read the loader's own open file (the descriptor is inherited, read with
  ``pread`` so the processes share no file offset), never the path: a file renamed over the
  path mid-load is not read by anyone.

Document positions (``record_position``, see ``stream.py``): worker 1 numbers from 1 like the
serial reader, and its records (the inherited issuer and X included) are exactly the serial
reader's first records, so their positions are the serial ones.  Worker 2 cannot know how many
records precede the split (worker 1 is still counting), so it numbers from
``SECOND_WORKER_POSITIONS``: its positions are greater than any of worker 1's and in document
order, but not the serial values.  Positions order records; they are not contiguous and not
comparable across loads.

Any failure in a worker (a bad file, an unsafe split, a crash) raises ``WorkerFailedError``;
the loader then rolls back and reads the file serially, so what is loaded and every error
message are exactly the serial reader's.  A bad file therefore costs a second read; a good one
loads at nearly twice the serial speed.
"""

from __future__ import annotations

import gc
import importlib.abc
import json
import os
import queue
import re
import struct
import subprocess
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

import edge_pipeline
from edge_pipeline.base.errors import MAX_MESSAGE_CHARS, FileChangedError, shorten
from edge_pipeline.edge.layouts import BY_NAME, FileLayout, Record
from edge_pipeline.edge.readers.stream import NS, InboundStreamReader

#: Files smaller than this are read serially: starting two workers costs ~0.3 s.
PARALLEL_MIN_BYTES = 32 * 2**20
#: Rows per batch a worker sends: small enough that a batch in flight costs a few MB.
WORKER_BATCH_ROWS = 16_384
#: ... and few enough bytes, whatever the values' lengths (see ``DEFAULT_BATCH_BYTES``).
WORKER_BATCH_BYTES = 16 * 2**20
#: A head piece (root start tag and header, or a record's start tag and leaves) is small; a
#: large one means an odd file, which is read serially rather than copied.
_MAX_HEAD_PIECE = 1 << 20
_READ_CHUNK = 1 << 16
_SCAN_CHUNK = 4 << 20
_DELIMITERS = frozenset(b" \t\r\n>/")
_UTF8_BOM = b"\xef\xbb\xbf"
#: Encoding names (lower case) under which the file's bytes are UTF-8: splittable.
_SPLITTABLE_ENCODINGS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_DECLARED_ENCODING = re.compile(
    rb"<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*[\"']([^\"']*)[\"']"
)
#: A frame on a worker's stdout: kind, name length, payload length; then name and payload.
_FRAME = struct.Struct("<cHQ")
_BATCH, _DONE, _ERROR = b"B", b"D", b"E"
#: Frames the calling process may hold before a worker waits (bounds memory).
_QUEUE_FRAMES = 4
#: Worker 2's first document position: above any position worker 1 can reach.
SECOND_WORKER_POSITIONS = 1 + (1 << 40)


class WorkerFailedError(Exception):
    """A parallel read did not complete; the caller should read the file serially."""


@dataclass(frozen=True)
class Piece:
    """Bytes ``start:end`` of the file, or (``literal``) bytes that are not in the file."""

    start: int = 0
    end: int = 0
    literal: str | None = None  # latin-1 text, so it survives JSON
    owned: bool = False  # the worker is responsible for (and checksums) these file bytes


@dataclass(frozen=True)
class WorkerSpec:
    """Everything one worker needs, passed as JSON on its command line."""

    path: str
    name: str
    layout: str
    batch_rows: int
    pieces: tuple[Piece, ...]
    inherited: tuple[str, ...] = ()
    boundary_line: int = 0
    first_position: int = 1  # document position of the first record this worker reads
    fd: int = -1  # the caller's open file, inherited by the worker; -1: open ``path``
    batch_bytes: int = WORKER_BATCH_BYTES

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        data = json.loads(text)
        data["pieces"] = tuple(Piece(**piece) for piece in data["pieces"])
        data["inherited"] = tuple(data["inherited"])
        return cls(**data)


@dataclass(frozen=True)
class SplitPlan:
    """Where a file is cut and what each half reads."""

    size: int
    split: int
    workers: tuple[WorkerSpec, WorkerSpec]

    @property
    def cuts(self) -> tuple[int, ...]:
        """Offsets between the byte ranges the workers own (for checksumming)."""
        return (self.split,)


def split_record(layout: FileLayout) -> tuple[Record, Record, Record] | None:
    """The (issuer, X, R) a layout is split at: R two levels below the issuer, no wrappers."""
    for record, ancestors in layout.records():
        if len(ancestors) == 2 and record.container is None and ancestors[1].container is None:
            return ancestors[0], ancestors[1], record
    return None


def plan_split(
    path: Path,
    layout: FileLayout,
    batch_rows: int = WORKER_BATCH_ROWS,
    source: IO[bytes] | None = None,
) -> SplitPlan | None:
    """Plan a two-way split of ``path``, or ``None`` if it cannot be split safely.

    ``source``: the file already open; the workers then read that open file (inherited),
    not the path."""
    levels = split_record(layout)
    if levels is None:
        return None
    if source is None:
        with open(path, "rb") as opened:
            return _plan(path, layout, batch_rows, opened, levels, -1)
    return _plan(path, layout, batch_rows, source, levels, source.fileno())


def _plan(
    path: Path,
    layout: FileLayout,
    batch_rows: int,
    source: IO[bytes],
    levels: tuple[Record, Record, Record],
    fd: int,
) -> SplitPlan | None:
    size = os.fstat(source.fileno()).st_size
    if size == 0:
        return None
    cut = _find_cut(_Scanner(source, size), levels)
    if cut is None:
        return None
    split, head, closing, boundary_line = cut
    issuer, x, _ = levels
    common = {"path": str(path), "name": path.name, "layout": layout.name, "fd": fd}
    first = WorkerSpec(
        **common,
        batch_rows=batch_rows,
        pieces=(Piece(0, split, owned=True), Piece(literal=closing.decode("latin-1"))),
    )
    second = WorkerSpec(
        **common,
        batch_rows=batch_rows,
        pieces=(
            *(Piece(a, b) for a, b in head),
            Piece(literal="\n"),
            Piece(split, size, owned=True),
        ),
        inherited=(NS + issuer.element, NS + x.element),
        boundary_line=boundary_line,
        first_position=SECOND_WORKER_POSITIONS,
    )
    return SplitPlan(size=size, split=split, workers=(first, second))


def _find_cut(
    scanner: _Scanner, levels: tuple[Record, Record, Record]
) -> tuple[int, list[tuple[int, int]], bytes, int] | None:
    """Split offset, worker 2's head ranges, worker 1's closing tags and the boundary line."""
    content, root = scanner.root()
    if root is None:
        return None
    prefix = root.rpartition(b":")[0] + b":" if b":" in root else b""
    issuer, x, record = (prefix + level.element.encode() for level in levels)
    split = scanner.find_tag(record, scanner.size // 2, scanner.size)
    last = scanner.survey(content, split, (issuer, x)) if split >= 0 else None
    if last is None or last[issuer] < 0 or last[x] < last[issuer]:
        return None
    head = [
        (0, scanner.find_tag(issuer, content, split)),
        (last[issuer], scanner.find_tag(x, last[issuer], split)),
        (last[x], scanner.find_tag(record, last[x], split + 1)),
    ]
    if any(not start < end <= split or end - start > _MAX_HEAD_PIECE for start, end in head):
        return None
    closing = b"</" + x + b"></" + issuer + b"></" + root + b">\n"
    boundary_line = 1 + sum(scanner.read(start, end).count(b"\n") for start, end in head)
    return split, head, closing, boundary_line


class _Scanner:
    """Byte searches over a file, read in chunks so resident memory stays small."""

    def __init__(self, source: IO[bytes], size: int) -> None:
        self.source = source
        self.size = size

    def read(self, start: int, end: int) -> bytes:
        self.source.seek(start)
        return self.source.read(end - start)

    def root(self) -> tuple[int, bytes | None]:
        """Offset where markup starts (past BOM and XML declaration) and the root's name;
        no name if the file is not UTF-8 (see ``splittable_encoding``)."""
        head = self.read(0, 1 << 16)
        if not splittable_encoding(head):
            return 0, None
        content = 3 if head.startswith(_UTF8_BOM) else 0
        if head.startswith(b"<?xml", content):
            content = head.find(b"?>", content) + 2
            if content < 2:
                return 0, None
        at = head.find(b"<", content)
        if at < 0 or head[at + 1 : at + 2] in (b"!", b"?"):
            return content, None
        end = at + 1
        while end < len(head) and head[end] not in _DELIMITERS:
            end += 1
        return content, (head[at + 1 : end] if end < len(head) else None) or None

    def _chunks(self, start: int, end: int, overlap: int) -> Iterator[tuple[int, int, bytes]]:
        """``(offset, length of the part starting in [start, end), bytes + overlap)``."""
        for offset in range(start, end, _SCAN_CHUNK):
            length = min(_SCAN_CHUNK, end - offset)
            yield offset, length, self.read(offset, offset + length + overlap)

    def find_tag(self, name: bytes, start: int, end: int) -> int:
        """Offset of the first start tag ``<name`` beginning in ``[start, end)``, or -1."""
        needle = b"<" + name
        for offset, length, data in self._chunks(start, end, len(needle) + 1):
            at = data.find(needle, 0, length + len(needle))
            while 0 <= at < length:
                if _is_start_tag(data, at, needle):
                    return offset + at
                at = data.find(needle, at + 1, length + len(needle))
        return -1

    def survey(self, start: int, end: int, names: Sequence[bytes]) -> dict[bytes, int] | None:
        """One pass over ``[start, end)``: the last start tag of each name (-1 if none), or
        ``None`` if a comment, CDATA section, DOCTYPE or processing instruction occurs."""
        last = dict.fromkeys(names, -1)
        overlap = max(len(name) for name in names) + 2
        for offset, length, data in self._chunks(start, end, overlap):
            if _has_markup_declaration(data, length):
                return None
            for name in names:
                needle = b"<" + name
                at = data.rfind(needle, 0, length + len(needle))
                while at >= length or (at >= 0 and not _is_start_tag(data, at, needle)):
                    at = data.rfind(needle, 0, at)
                if at >= 0:
                    last[name] = offset + at
        return last


def splittable_encoding(head: bytes) -> bool:
    """Whether a file starting with ``head`` is read as UTF-8, the way libxml2 decides: a
    UTF-8 byte-order mark or none; then an XML declaration in ASCII whose ``encoding`` (if
    any) names UTF-8 or ASCII, or no declaration and markup starting with an ASCII ``<``.

    Anything else (a UTF-16/32 mark, UTF-16/32 or EBCDIC without one, a declaration naming
    another encoding) is read serially: only the speed differs.
    """
    body = head[3:] if head.startswith(_UTF8_BOM) else head
    if body.startswith(b"<?xml"):
        end = body.find(b"?>")
        if end < 0:
            return False
        found = _DECLARED_ENCODING.match(body[: end + 2])
        return found is None or found.group(1).decode("latin-1").lower() in _SPLITTABLE_ENCODINGS
    # No declaration: UTF-8 by default, if the markup is (ASCII whitespace, then "<" + name).
    start = body.lstrip(b" \t\r\n")
    return start[:1] == b"<" and start[1:2].isascii() and start[1:2].isalpha()


def _has_markup_declaration(data: bytes, length: int) -> bool:
    """Whether ``<!`` or ``<?`` starts in ``data[:length]``.  Searches for the rare ``!`` and
    ``?`` (memchr speed) rather than for ``<``, which starts every tag."""
    for mark in (b"!", b"?"):
        at = data.find(mark, 1, length + 1)
        while at >= 0:
            if data[at - 1] == 0x3C:  # "<"
                return True
            at = data.find(mark, at + 1, length + 1)
    return False


def _is_start_tag(data: bytes, at: int, needle: bytes) -> bool:
    after = at + len(needle)
    return after < len(data) and data[after] in _DELIMITERS


class ParallelReader:
    """Runs the two workers of a ``SplitPlan`` and yields their batches as they arrive.

    The workers start at construction, so they parse while the caller hashes the file and
    checks the registry; ``close()`` (or leaving the ``with`` block) stops them, whether or not
    the batches were read.  Before reading, set ``checksums``: the CRC-32s of the byte ranges
    the workers own, taken when the file was hashed.  A worker that read different bytes means
    the file changed during the load.
    """

    def __init__(self, plan: SplitPlan) -> None:
        self.plan = plan
        self.checksums: tuple[int, ...] = ()
        self.records_read = 0
        self._frames: queue.Queue[_Frame] = queue.Queue(_QUEUE_FRAMES)
        self._workers: list[_Worker] = []
        try:
            for index, spec in enumerate(plan.workers):
                self._workers.append(_Worker(spec, index, self._frames))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ParallelReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        for worker in self._workers:
            worker.stop()

    def batches(self) -> Iterator[tuple[str, pa.Table]]:
        try:
            done: dict[int, dict[str, Any]] = {}
            while len(done) < len(self._workers):
                index, kind, table, payload = self._frames.get()
                if kind == _BATCH and payload is not None:
                    yield table, pa.ipc.open_stream(pa.py_buffer(payload)).read_all()
                elif kind == _DONE and payload is not None:
                    done[index] = json.loads(payload)
                else:
                    worker = self._workers[index]
                    raise WorkerFailedError(f"worker {index + 1}: {_describe(worker, payload)}")
            self._finish(done)
        finally:
            self.close()

    def _finish(self, done: dict[int, dict[str, Any]]) -> None:
        spec = self.plan.workers[0]
        path = Path(spec.path)
        size = os.fstat(spec.fd).st_size if spec.fd >= 0 else path.stat().st_size
        got = tuple(done[i]["crc32"] for i in range(len(done)))
        if got != self.checksums or size != self.plan.size:
            raise FileChangedError(path, "the file changed while it was being loaded")
        self.records_read = sum(stats["records"] for stats in done.values())


def _describe(worker: _Worker, payload: bytes | bytearray | None) -> str:
    if payload is not None:  # the worker's error: bounded (errors.py) unless an internal one
        return shorten(bytes(payload).decode("utf-8", "replace"), 2 * MAX_MESSAGE_CHARS)
    return f"exited with code {worker.process.wait()} without finishing: {worker.stderr_tail()}"


#: (worker index, kind, table, payload); payload ``None``: the worker's stream ended early.
_Frame = tuple[int, bytes, str, bytes | bytearray | None]


class _Worker:
    """One worker process and the thread that moves its frames into the shared queue."""

    def __init__(self, spec: WorkerSpec, index: int, frames: queue.Queue[_Frame]) -> None:
        self.index = index
        self.frames = frames
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, spec.to_json()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=_worker_env(),
            bufsize=0,
            pass_fds=(spec.fd,) if spec.fd >= 0 else (),
        )
        self.stopping = False
        self.thread = threading.Thread(target=self._pump, name=f"edge-worker-{index}", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        """Read frames until end of stream; a stream that ends early is reported as ``None``."""
        stream = self.process.stdout
        assert stream is not None
        try:
            while not self.stopping:
                header = _read_exact(stream, _FRAME.size)
                if header is None:
                    self._put(_ERROR, None)
                    return
                kind, name_size, size = _FRAME.unpack(header)
                name = _read_exact(stream, name_size)
                payload = _read_exact(stream, size)
                if name is None or payload is None:
                    self._put(_ERROR, None)
                    return
                self._put(kind, payload, name.decode())
                if kind != _BATCH:
                    return
        except OSError:
            self._put(_ERROR, None)

    def _put(self, kind: bytes, payload: bytes | bytearray | None, table: str = "") -> None:
        """Queue a frame, waiting while the queue is full unless the reader is stopping."""
        while not self.stopping:
            try:
                self.frames.put((self.index, kind, table, payload), timeout=0.1)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        """Kill the process if it still runs and release its pipe, thread and log file."""
        if self.stopping:
            return
        self.stopping = True
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.thread.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.stderr.close()

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()[-2000:].decode("utf-8", "replace").strip() or "(no output)"


def _read_exact(stream: IO[bytes], size: int) -> bytearray | None:
    """Exactly ``size`` bytes from a pipe, or ``None`` at end of stream."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = stream.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            return None
        got += n
    return buffer


def _worker_env() -> dict[str, str]:
    """The caller's environment, with this package importable even when not installed, and
    numpy's BLAS kept single-threaded: its idle threads spin on the cores the parse needs."""
    env = dict(os.environ)
    root = str(Path(edge_pipeline.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


# -- worker side -----------------------------------------------------------------------------


class _PieceReader:
    """File-like ``read`` over a worker's pieces; checksums the file bytes it owns.  Reads
    with ``pread``: the inherited descriptor's offset is shared with the other processes."""

    def __init__(self, path: str, pieces: Sequence[Piece], fd: int = -1) -> None:
        self.owns_fd = fd < 0
        self.fd = os.open(path, os.O_RDONLY) if fd < 0 else fd
        self.pieces = list(pieces)
        self.crc32 = 0
        self._current: Piece | None = None
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        size = _READ_CHUNK if size is None or size < 0 else size
        while self.pieces or self._current is not None:
            if self._current is None:
                self._current = self.pieces.pop(0)
                if self._current.literal is not None:
                    text, self._current = self._current.literal, None
                    return text.encode("latin-1")
                self._position = self._current.start
            piece = self._current
            chunk = os.pread(self.fd, min(size, piece.end - self._position), self._position)
            if not chunk:
                self._current = None  # the file is shorter than planned: the parse will fail
                continue
            self._position += len(chunk)
            if piece.owned:
                self.crc32 = zlib.crc32(chunk, self.crc32)
            if self._position >= piece.end:
                self._current = None
            return chunk
        return b""

    def close(self) -> None:
        if self.owns_fd:
            os.close(self.fd)


class _NoPandas(importlib.abc.MetaPathFinder):
    """Keep pandas out of a worker.  pyarrow imports pandas, if installed, the first time it
    converts a Python list (~0.4 s of start-up); a worker converts lists and nothing else."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ImportError("pandas is not used by ingest workers")


def _write_frame(out: IO[bytes], kind: bytes, payload: bytes | pa.Buffer, name: str = "") -> None:
    encoded = name.encode()
    out.write(_FRAME.pack(kind, len(encoded), len(payload)) + encoded)
    out.write(payload)
    out.flush()


def _serialize(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def run_worker(spec: WorkerSpec, out: IO[bytes]) -> None:
    """Parse the worker's pieces and write its frames to ``out`` (the protocol above)."""
    reader = InboundStreamReader(
        BY_NAME[spec.layout],
        spec.name,
        spec.batch_rows,
        batch_bytes=spec.batch_bytes,
        inherited=frozenset(spec.inherited),
        boundary_line=spec.boundary_line,
        first_position=spec.first_position,
    )
    source = _PieceReader(spec.path, spec.pieces, spec.fd)
    try:
        for table, batch in reader.batches(source):
            _write_frame(out, _BATCH, _serialize(batch), table)
        stats = {"records": reader.records_read, "crc32": source.crc32}
        _write_frame(out, _DONE, json.dumps(stats).encode())
    except Exception as exc:  # reported to the caller, which reads the file serially instead
        _write_frame(out, _ERROR, f"{type(exc).__name__}: {exc}".encode())
    finally:
        source.close()


def main(argv: Sequence[str]) -> int:
    """Worker entry point: ``python -m edge_pipeline.edge.readers.parallel SPEC_JSON``."""
    sys.meta_path.insert(0, _NoPandas())
    # The parse allocates millions of short-lived containers and creates no cycles: collect
    # rarely, and never walk the long-lived import-time objects.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    run_worker(WorkerSpec.from_json(argv[0]), sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
