"""Which paths may be opened as the warehouse.

DuckDB opens almost anything it is given: an existing ``t.csv`` became an in-memory database
(a load "succeeded" and nothing was saved), a directory was an internal error, and a missing
parent folder was created silently (a typo made a new, empty warehouse).  So before DuckDB sees
a path it must end in ``.duckdb`` or ``.db``, its folder must exist, and it must be either
absent (a new warehouse, when writing) or an existing DuckDB database file.
"""

from __future__ import annotations

from pathlib import Path

from edge_pipeline.base.input_errors import UserInputError

#: File name endings a warehouse may have (``.duckdb`` is what the project writes).
WAREHOUSE_SUFFIXES = (".duckdb", ".db")
#: DuckDB's magic bytes, at offset 8 of every database file.
_MAGIC, _MAGIC_AT = b"DUCK", 8


class WarehousePathError(UserInputError):
    """The path cannot be the warehouse; the message says why."""


def check_warehouse_path(warehouse: Path | str, *, read_only: bool = False) -> Path:
    """``warehouse`` as a :class:`Path` if it can be opened as the warehouse (see the module
    doc; ``read_only`` means it must exist already), else :class:`WarehousePathError`."""
    path = Path(warehouse)
    if path.suffix.lower() not in WAREHOUSE_SUFFIXES:
        raise WarehousePathError(
            f"the warehouse must be a DuckDB file ending in .duckdb or .db: {path}"
        )
    if path.is_dir():
        raise WarehousePathError(f"the warehouse is a directory, not a DuckDB file: {path}")
    if not path.parent.is_dir():
        raise WarehousePathError(f"the warehouse's folder does not exist: {path.parent}")
    if not path.exists():
        if read_only:
            raise WarehousePathError(f"no such warehouse: {path}")
        return path
    if not path.is_file():
        raise WarehousePathError(f"the warehouse is not a regular file: {path}")
    try:
        with path.open("rb") as f:
            head = f.read(_MAGIC_AT + len(_MAGIC))
    except OSError as exc:
        raise WarehousePathError(f"the warehouse cannot be read: {path}: {exc.strerror}") from exc
    # shorter than DuckDB's header: being created by another process, or empty; DuckDB decides
    # (a lock conflict, or "not a valid DuckDB database file": see ``not_a_database``)
    if len(head) == len(_MAGIC) + _MAGIC_AT and head[_MAGIC_AT:] != _MAGIC:
        raise not_a_database(path)
    return path


def not_a_database(path: Path | str) -> WarehousePathError:
    """The refusal of an existing file that is not a DuckDB database."""
    return WarehousePathError(f"not a DuckDB database (refused as the warehouse): {path}")
