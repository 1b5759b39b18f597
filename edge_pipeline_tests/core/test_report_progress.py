"""Progress of long CLI commands: `files N/M, records R, R/s` on stderr with --progress."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from edge_pipeline.base.progress import Progress
from edge_pipeline.cli import main


def test_progress_rate_limited_and_final_line() -> None:
    stream = io.StringIO()
    progress = Progress(3, enabled=True, stream=stream, interval=3600)
    progress.advance(records=10)
    progress.advance(records=5)  # within the interval: not printed
    progress.advance(records=5)
    progress.done()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("files 1/3, records 10,")
    assert lines[1].startswith("files 3/3, records 20,") and "records/s" in lines[1]


def test_progress_silent_when_not_a_tty_and_not_asked() -> None:
    stream = io.StringIO()  # isatty() is False
    progress = Progress(1, stream=stream)
    progress.advance(records=1)
    progress.done()
    assert stream.getvalue() == ""


def test_cli_ingest_and_validate_show_progress_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbound = tmp_path / "in"
    assert main(["synth", "--out", str(inbound), "--enrollees", "5", "--seed", "2"]) == 0
    capsys.readouterr()
    assert main(["ingest", str(inbound), "--warehouse", str(tmp_path / "a.duckdb")]) == 0
    assert "records/s" not in capsys.readouterr().err
    assert (
        main(["ingest", str(inbound), "--warehouse", str(tmp_path / "b.duckdb"), "--progress"]) == 0
    )
    captured = capsys.readouterr()
    assert "files 4/4, records " in captured.err and "records/s" in captured.err
    assert "records/s" not in captured.out  # stdout stays the per-file listing
    args = ["validate", str(inbound), "--warehouse", str(tmp_path / "c.duckdb")]
    assert main([*args, "--out", str(tmp_path / "p1"), "--progress"]) == 0
    assert "files 4/4" in capsys.readouterr().err
    assert (
        main(
            [
                "load-outbound",
                str(tmp_path / "p1"),
                "--warehouse",
                str(tmp_path / "c.duckdb"),
                "--progress",
            ]
        )
        == 0
    )
    assert "records/s" in capsys.readouterr().err
