"""Rolling a transaction back after a failure without hiding the failure.

Every writer of the core runs ``BEGIN`` ... ``COMMIT`` and, on any exception, ``ROLLBACK`` and
re-raise.  When the failure is DuckDB's own (the disk is full and the ``COMMIT`` could not write
the WAL, an I/O error, a fatal error that invalidated the database), DuckDB has usually ended the
transaction already, and the ``ROLLBACK`` raises "cannot rollback - no transaction is active".
Raised from the ``except`` block, that second error replaced the first, so the user was told
about a rollback instead of the full disk.  :func:`rollback` never raises: the original
exception is what propagates, with the rollback's failure attached to it as a note.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

log = logging.getLogger(__name__)


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """``ROLLBACK``, from an ``except`` block that re-raises: a failing rollback is logged and
    noted on the exception being handled, never raised in its place."""
    handled = sys.exc_info()[1]
    try:
        con.execute("ROLLBACK")
    except duckdb.Error as exc:
        log.debug("rollback after a failure did not run: %s", exc)
        if handled is not None:
            handled.add_note(f"(no rollback: {exc})")


@contextmanager
def noted_on(original: BaseException, action: str) -> Iterator[None]:
    """Run ``action`` (recording a failure, from the ``except`` block that will re-raise
    ``original``): if it fails too (the same full disk), that is noted on ``original`` instead
    of replacing it."""
    try:
        yield
    except Exception as exc:
        log.debug("%s failed too: %s", action, exc)
        original.add_note(f"({action} failed too: {exc})")
