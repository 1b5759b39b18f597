"""The real ``edge-pipeline`` command, run in a subprocess as a user would run it.

One runner for every test module that drives the command line: this interpreter, output
captured as text, and a timeout that fails a test which hangs instead of stalling the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def run_cli(
    *args: str, timeout: float = 300, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``edge-pipeline ARGS``; ``env`` adds to (or overrides) this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "edge_pipeline.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else {**os.environ, **env},
    )


def cli_ok(*args: str, timeout: float = 300) -> str:
    """``edge-pipeline ARGS``, which must exit 0; its standard output."""
    done = run_cli(*args, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout
