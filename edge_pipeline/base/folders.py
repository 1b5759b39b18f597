"""The data folders every family shares: where they are, which of their entries count, and how a
folder of reports is replaced as a whole.

An inbox is where another system drops files and an outbox where CMS's answers land; both are
read while files are still arriving.  What is safe to read, and when, is the same whatever the
files hold, so it is decided here once: entries are listed without following symlinks, a name
from a run tag never escapes its folder, a file still being copied is left for later, and a
rewritten set of reports appears all at once.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The checkout the package runs from (``data/`` beside it by default).
REPO_ROOT = Path(__file__).resolve().parents[2]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def data_dir(root: Path | None = None) -> Path:
    """``<root>/data``: inbox, outbox, warehouse, reports and Dagster home of a checkout."""
    return (root or REPO_ROOT) / "data"


def configured_folder(env_var: str, default_name: str) -> Path:
    """``$env_var`` if set, else ``data/<default_name>`` of the checkout."""
    configured = os.environ.get(env_var)
    return Path(configured) if configured else data_dir() / default_name


def folder_entries(folder: Path, pattern: str) -> list[Path]:
    """The entries of ``folder`` matching ``pattern``, sorted by name (a stable sensor order).

    Every entry, not only regular files: a symlink (never followed: it may point out of the
    folder), a FIFO or a directory of a matching name is listed too, so that the loader refuses
    it and records why instead of it being skipped unseen."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob(pattern))


def nested_files(folder: Path, pattern: str) -> list[Path]:
    """Regular files matching ``pattern`` anywhere under ``folder``, sorted; hidden files and
    folders (a writer's partial output) are not there yet."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob(pattern)
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def folder_member(folder: Path, name: str | None, suffix: str) -> Path | None:
    """``name`` (from a run tag, so from anywhere) as an existing entry directly in ``folder``
    ending in ``suffix``; ``None`` for a name that is absent or would escape the folder."""
    if not name or Path(name).name != name or not name.endswith(suffix):
        return None
    candidate = folder / name
    return candidate if os.path.lexists(candidate) else None


def file_signature(folder: Path, path: Path) -> str | None:
    """``<path in folder>:<mtime_ns>:<size>``: one version of one file, as sensors and the
    runs that load it name it; ``None`` when the file is gone."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return f"{path.relative_to(folder).as_posix()}:{stat.st_mtime_ns}:{stat.st_size}"


def is_settled(path: Path, settle_seconds: float, now: float | None = None) -> bool:
    """Not modified for ``settle_seconds``: a file still being copied is not read yet."""
    try:
        modified = path.stat().st_mtime
    except FileNotFoundError:
        return False
    return (now if now is not None else time.time()) - modified >= settle_seconds


def partition_folder_name(partition_key: str) -> str:
    """A folder name for a key read from a file (a fileIdentifier may hold anything): every
    character that could make a path (``/``, ``..``) is replaced."""
    return _UNSAFE.sub("_", partition_key) or "_"


@contextmanager
def replaced_folder(target: Path) -> Iterator[Path]:
    """Yield a fresh staging folder beside ``target``; on success it replaces ``target`` as a
    whole, so readers never see a half-written set of reports or a mix of two versions."""
    staging = target.with_name(f".{target.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
