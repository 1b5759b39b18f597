"""The sensors never fail a tick on what a file contains.

A sensor's tick is all or nothing: one run request for a partition that does not exist (an RA
report about benefit year 2099, a fileIdentifier Dagster refuses as a partition key) failed the
whole tick, so the valid reports beside it were never requested and the cursor never moved.
Each bad file is now logged with its name and reason and skipped until it changes; the rest of
the tick goes on.  The ticks are evaluated the way the daemon does it (``evaluate_tick`` with
the definitions, which resolves every requested partition).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.definitions.sensor_definition import SensorExecutionData
from outbound_support import VERIFIED_AT, Scenario, prepare
from phase2_outbound_support import RUN, build_shadow

from edge_pipeline.definitions import defs
from edge_pipeline.defs.inbound.partitions import INBOUND_FILES_PARTITIONS_NAME
from edge_pipeline.defs.inbound.resources import INBOX_FILE_TAG, InboxResource
from edge_pipeline.defs.report_files import OutboxResource
from edge_pipeline.edge.outbound import write_phase1_reports, write_phase2_reports

PHASE1_KEY = "S00000000001"


def _age(folder: Path) -> None:
    stamp = time.time() - 60
    for path in folder.rglob("*.xml"):
        os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Real reports: the five RA reports of BY2025 and the three Phase 1 reports of a file
    (and that inbound file)."""
    root = tmp_path_factory.mktemp("reports")
    con = duckdb.connect()
    build_shadow(con)
    ra = write_phase2_reports(con, root / "ra", *RUN, dt.datetime(2026, 5, 1, 12))
    con.close()
    con = duckdb.connect()
    prepare(con, root / "inbox", Scenario("S", PHASE1_KEY))
    phase1 = write_phase1_reports(con, PHASE1_KEY, root / "phase1", VERIFIED_AT)
    con.close()
    return {"ra": ra, "phase1": phase1, "inbound": sorted((root / "inbox").glob("*.xml"))}


def _outbox(tmp_path: Path, reports: dict[str, list[Path]]) -> Path:
    outbox = tmp_path / "outbox"
    for kind in ("ra", "phase1"):
        for path in reports[kind]:
            target = outbox / "good" / kind / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return outbox


def _bad(outbox: Path, name: str, content: bytes) -> Path:
    path = outbox / "bad" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _tick(sensor: str, resources: dict, cursor: str | None = None) -> SensorExecutionData:
    """One tick as the daemon evaluates it: every requested partition is resolved against the
    instance and the partitions the tick itself adds (the instance ref lets Dagster see those),
    where the inbound file's partition exists (the inbox sensor registered it when the file
    landed)."""
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(INBOUND_FILES_PARTITIONS_NAME, [PHASE1_KEY])
        context = dg.build_sensor_context(
            instance=instance,
            instance_ref=instance.get_ref(),
            cursor=cursor,
            definitions=defs,
            resources=resources,
        )
        with partition_loading_context(dynamic_partitions_store=instance):
            return defs.resolve_sensor_def(sensor).evaluate_tick(context)


class Logs:
    """What the tick logged: Dagster's context log (stderr) and the resources' own loggers."""

    def __init__(self, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture) -> None:
        self.capsys, self.caplog = capsys, caplog

    def text(self) -> str:
        return self.capsys.readouterr().err + self.caplog.text


@pytest.fixture
def logs(capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture) -> Logs:
    return Logs(capsys, caplog)


def _outbox_tick(outbox: Path, cursor: str | None = None) -> SensorExecutionData:
    if cursor is None:
        _age(outbox)  # once: a later tick must see the same mtime (the cursor's signature)
    return _tick(
        "outbox_sensor", {"outbox": OutboxResource(path=str(outbox), settle_seconds=0)}, cursor
    )


def _requested(result: SensorExecutionData) -> set[tuple[str, str]]:
    return {(r.job_name, r.partition_key) for r in result.run_requests}


GOOD = {("phase2_reported", "2025"), ("phase1_reported", PHASE1_KEY)}


def _variant(source: Path, pattern: str, replacement: str) -> bytes:
    text = source.read_text(encoding="utf-8")
    changed = re.sub(pattern, replacement, text, count=1)
    assert changed != text, pattern
    return changed.encode()


def _cases(reports: dict[str, list[Path]]) -> dict[str, tuple[str, bytes]]:
    rarss = next(p for p in reports["ra"] if ".RS." in p.name)
    status = reports["phase1"][0]
    return {
        "benefit year 2099": (
            "ra-2099.xml",
            _variant(rarss, r"<benefitYear>\d+</benefitYear>", "<benefitYear>2099</benefitYear>"),
        ),
        "benefit year 0": (
            "ra-0.xml",
            _variant(rarss, r"<benefitYear>\d+</benefitYear>", "<benefitYear>0</benefitYear>"),
        ),
        "key Dagster refuses": (
            "dots.xml",
            _variant(
                status,
                r"<inboundFileIdentifier>[^<]*</inboundFileIdentifier>",
                "<inboundFileIdentifier>a...b</inboundFileIdentifier>",
            ),
        ),
        "unparsable header": ("broken.xml", status.read_bytes()[:300]),
        "unknown report type": (
            "unknown.xml",
            b'<?xml version="1.0"?><someOtherReport><includedFileHeader>'
            b"<inboundFileIdentifier>X1</inboundFileIdentifier></includedFileHeader>"
            b"</someOtherReport>",
        ),
        "garbage bytes": ("garbage.xml", bytes(range(256)) * 40),
        "empty file": ("empty.xml", b""),
    }


def test_a_2099_report_does_not_stop_the_valid_ones(
    reports: dict[str, list[Path]], tmp_path: Path, logs: Logs
) -> None:
    outbox = _outbox(tmp_path, reports)
    name, content = _cases(reports)["benefit year 2099"]
    _bad(outbox, name, content)
    first = _outbox_tick(outbox)
    assert _requested(first) == GOOD
    text = logs.text()
    assert "bad/ra-2099.xml" in text and "benefit year 2099" in text
    # the cursor moved past every report, the bad one too: the next tick asks for nothing
    second = _outbox_tick(outbox, first.cursor)
    assert not second.run_requests and second.skip_message


@pytest.mark.parametrize(
    "case",
    [
        "benefit year 0",
        "key Dagster refuses",
        "unparsable header",
        "unknown report type",
        "garbage bytes",
        "empty file",
    ],
)
def test_each_bad_report_is_skipped_and_named(
    case: str, reports: dict[str, list[Path]], tmp_path: Path, logs: Logs
) -> None:
    outbox = _outbox(tmp_path, reports)
    name, content = _cases(reports)[case]
    _bad(outbox, name, content)
    first = _outbox_tick(outbox)
    assert _requested(first) == GOOD
    assert name in logs.text()
    assert not _outbox_tick(outbox, first.cursor).run_requests


def test_a_symlinked_report_is_not_followed(
    reports: dict[str, list[Path]], tmp_path: Path, logs: Logs
) -> None:
    """A symlink in the outbox (to a real report elsewhere) is named and skipped, never read
    through: the loader would refuse it too, so no run is requested for it."""
    outbox = _outbox(tmp_path, reports)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "other.xml"
    target.write_bytes(
        _variant(
            reports["phase1"][0],
            r"<inboundFileIdentifier>[^<]*</inboundFileIdentifier>",
            "<inboundFileIdentifier>S00000000009</inboundFileIdentifier>",
        )
    )
    link = outbox / "bad" / "link.xml"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    first = _outbox_tick(outbox)
    assert _requested(first) == GOOD
    text = logs.text()
    assert "link.xml: outbound header unreadable" in text and "symbolic link" in text


def test_all_bad_reports_in_one_tick(reports: dict[str, list[Path]], tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, reports)
    for name, content in _cases(reports).values():
        _bad(outbox, name, content)
    first = _outbox_tick(outbox)
    assert _requested(first) == GOOD
    assert not _outbox_tick(outbox, first.cursor).run_requests


def test_inbox_files_that_cannot_be_partitions_are_refused_by_name(
    reports: dict[str, list[Path]], tmp_path: Path, logs: Logs
) -> None:
    """The inbox sensor takes partition keys from headers too: a file whose fileIdentifier
    Dagster refuses, or whose header is unreadable, gets no partition (it would fail the tick)
    but a run recording it as refused, named in the log; the good file beside it goes on."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    text = reports["inbound"][0].read_text(encoding="utf-8")
    good = inbox / "good.xml"
    good.write_text(text, encoding="utf-8")
    dots = inbox / "dots.xml"
    dots.write_text(
        re.sub(r"<fileIdentifier>[^<]*<", "<fileIdentifier>x...y<", text, count=1),
        encoding="utf-8",
    )
    hopeless = inbox / "a...b.xml"
    hopeless.write_text("not xml", encoding="utf-8")
    _age(inbox)
    result = _tick("inbox_sensor", {"inbox": InboxResource(path=str(inbox), settle_seconds=0)})
    added = {k for r in result.dynamic_partitions_requests for k in r.partition_keys}
    assert added == {PHASE1_KEY}
    refused = [r for r in result.run_requests if r.job_name == "record_refused_inbound_file"]
    (ingest,) = [r for r in result.run_requests if r not in refused]
    assert ingest.partition_key == PHASE1_KEY and ingest.job_name.startswith("ingest_")
    assert {r.tags[INBOX_FILE_TAG] for r in refused} == {"dots.xml", "a...b.xml"}
    assert all(r.partition_key is None for r in refused)
    text = logs.text()
    assert "a...b.xml" in text and "dots.xml" in text
