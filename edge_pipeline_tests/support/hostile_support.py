"""Test support for hostile and broken delivery files (``test_hostile_files.py``).

Builders that derive a hostile file from a good generated one, and *traps* that notice if the
parser reaches outside the file: a secret file whose content must appear nowhere, a FIFO whose
opening is detected (a reader blocks on it until our watcher connects, so an open cannot go
unnoticed), and a local TCP listener that records every connection attempt.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from edge_pipeline.edge.readers.header import read_header
from edge_pipeline.edge.synth import generate_issuer
from edge_pipeline.edge.warehouse.schema import TABLES

SECRET = "HOSTILE-SECRET-9f27c1"
#: Tables holding a file's records (everything but the registry).
RECORD_TABLES = [t for t in TABLES if t != "submission_file"]

T = TypeVar("T")


def good_files(out: Path, enrollees: int, seed: int) -> dict[str, Path]:
    """The four inbound files of a small generated issuer (no defects), by submission type:
    the good files a hostile or odd file is loaded beside."""
    manifest = generate_issuer(out, enrollees=enrollees, seed=seed)
    files = [out / e.path for e in manifest.files if e.role == "submission"]
    by_type = {read_header(p).submission_type: p for p in files}
    assert sorted(by_type) == ["E", "M", "P", "S"]
    return by_type


def with_file_identifier(data: bytes, file_identifier: str) -> bytes:
    """``data`` with its header fileIdentifier replaced (so a variant is a file of its own)."""
    return re.sub(
        rb"<fileIdentifier>[^<]*</fileIdentifier>",
        f"<fileIdentifier>{file_identifier}</fileIdentifier>".encode(),
        data,
        count=1,
    )


def body(data: bytes) -> bytes:
    """Everything after the XML declaration."""
    return data[data.index(b"?>") + 2 :]


def with_doctype(data: bytes, doctype: str, reference: str | None = None) -> bytes:
    """A DOCTYPE after the declaration; ``reference`` (e.g. ``&x;``) replaces the zone code
    in the header and is appended to the first record identifier's neighbour value."""
    out = b'<?xml version="1.0" encoding="UTF-8"?>\n' + doctype.encode() + b"\n" + body(data)
    if reference is not None:
        ref = reference.encode()
        out = out.replace(b"<executionZoneCode>T<", b"<executionZoneCode>" + ref + b"<", 1)
        out = re.sub(
            rb"(<insuredMemberIdentifier>)([^<]*)(<)",
            rb"\g<1>\g<2>" + ref + rb"\g<3>",
            out,
            count=1,
        )
    return out


def first_member_id(data: bytes) -> bytes:
    found = re.search(rb"<insuredMemberIdentifier>([^<]+)</insuredMemberIdentifier>", data)
    assert found is not None
    return found.group(1)


def record_rows(con: duckdb.DuckDBPyConnection, file_identifier: str) -> dict[str, list[tuple]]:
    """Every record row of a file, without its ``file_identifier``, sorted per table."""
    return {
        table: sorted(
            con.execute(
                f"SELECT * EXCLUDE (file_identifier) FROM {table} WHERE file_identifier = ?",
                [file_identifier],
            ).fetchall(),
            key=repr,
        )
        for table in RECORD_TABLES
    }


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RECORD_TABLES}


def warehouse_text(con: duckdb.DuckDBPyConnection) -> str:
    """Every value of every table, as text (to search for leaked content)."""
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    return "\n".join(repr(con.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)


def run_with_timeout(seconds: float, call: Callable[[], T]) -> T:
    """Run ``call`` in a thread; fail (instead of hanging the suite) if it does not return."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"did not finish within {seconds} s (a fetch that hangs?)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass
class Traps:
    """Where a parser that follows references would go, and what it would have done there."""

    secret: Path
    fifo: Path
    port: int
    fifo_opened: list[float] = field(default_factory=list)
    connections: list[bytes] = field(default_factory=list)

    def format(self, template: str) -> str:
        return template.format(secret=self.secret, fifo=self.fifo, port=self.port)

    def assert_untouched(self) -> None:
        time.sleep(0.05)  # let the watchers notice a late access
        assert not self.fifo_opened, "the parser opened a local file"
        assert not self.connections, f"the parser connected to the network: {self.connections}"


@contextmanager
def traps(folder: Path) -> Iterator[Traps]:
    secret = folder / "secret.txt"
    secret.write_text(SECRET)
    fifo = folder / "secret.fifo"
    os.mkfifo(fifo)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.05)
    found = Traps(secret=secret, fifo=fifo, port=server.getsockname()[1])
    stop = threading.Event()

    def watch_fifo() -> None:
        while not stop.is_set():
            try:  # succeeds only while someone has the FIFO open for reading
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                time.sleep(0.002)
                continue
            found.fifo_opened.append(time.time())
            try:
                os.write(fd, SECRET.encode())
            finally:
                os.close(fd)

    def listen() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(0.5)
                try:
                    found.connections.append(conn.recv(200) or b"(connected)")
                except OSError:
                    found.connections.append(b"(connected)")

    threads = [threading.Thread(target=f, daemon=True) for f in (watch_fifo, listen)]
    for thread in threads:
        thread.start()
    try:
        yield found
    finally:
        stop.set()
        for thread in threads:
            thread.join(2)
        server.close()
