"""No PHI outside the places the EDGE spec puts it (issue #7).

The shared demo run (the ``demo`` fixture of ``conftest.py``: 120 enrollees, defects on,
through Dagster, see :mod:`demo_support`), then the synthetic population's
member ids, subscriber ids and birth dates (read back from the warehouse, see
:mod:`phi_support`) are looked for in:

1. everything logged (root logger at DEBUG) and printed (stdout, stderr) during the run;
2. every event of every run in the Dagster instance (messages, materialization and asset
   check metadata, step failures), serialised whole, and every file of the instance's
   storage (run storage, event logs, compute logs) as a catch-all;
3. the analyst outputs: the HTML report and every XML part of the Excel workbook
   (``write_report``), and every generated outbound XML report *except* the issuer-only
   detail reports, which by spec carry member ids and offending values (ESDEE, ESDMCE, ESDPCE,
   ESDSFE, RACSD, RARSD, HCRPDE, ECD).

Not scanned, by design: the warehouse itself, the generated inbound files (``synthetic/``,
``inbox/``) and the issuer's reference folder (inputs, not outputs).

Masked ids (``M-`` + 8 hex, as the workbook shows them) are fine and must not match; a raw id
injected into a fake log line must (the negative control: the scan can fail).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from demo_support import ENROLLEES, DemoRun
from lxml import etree
from phi_support import Hit, PhiScanner, population_tokens, xlsx_parts

from edge_pipeline.edge.layouts.outbound import OUTBOUND_BY_ROOT, OutboundLayout
from edge_pipeline.edge.layouts.outbound.model import DetailLayout, Group, Leaf, Node
from edge_pipeline.edge.layouts.outbound.tree import tree
from edge_pipeline.edge.report.queries import mask_member_id

#: Leaves that make a report carry member data by design.
MEMBER_LEAVES = frozenset({"insuredMemberIdentifier", "insuredMemberBirthDate"})


def _leaves(node: Node) -> Iterator[str]:
    if isinstance(node, Leaf):
        yield node.name
    elif isinstance(node, Group):
        for child in node.children:
            yield from _leaves(child)


def carries_member_data(layout: OutboundLayout) -> bool:
    """Issuer-only detail reports: a detail report (offending values may be member data), or
    one whose layout declares a member id or birth date."""
    return isinstance(layout, DetailLayout) or bool(MEMBER_LEAVES & set(_leaves(tree(layout))))


@pytest.fixture(scope="module")
def scanner(demo: DemoRun) -> PhiScanner:
    """The demo population's member ids, subscriber ids and birth dates, to look for."""
    return PhiScanner(population_tokens(demo.data / "warehouse.duckdb"))


def _fail_on(hits: list[Hit]) -> None:
    if hits:
        listed = "\n  ".join(map(str, hits[:50]))
        more = f"\n  … and {len(hits) - 50} more" if len(hits) > 50 else ""
        pytest.fail(
            f"PHI of the synthetic population found in {len(hits)} place(s):\n  {listed}{more}"
        )


def test_demo_ran_and_the_population_is_there_to_look_for(
    demo: DemoRun, scanner: PhiScanner
) -> None:
    assert demo.exit_code == 0, demo.printed[-3000:]
    assert "Failures: none" in demo.printed
    kinds = scanner.kind.values()
    assert sum(k == "member or subscriber id" for k in kinds) >= ENROLLEES * 0.9
    assert sum(k == "birth date" for k in kinds) >= ENROLLEES * 0.5
    assert demo.logs.strip(), "no log record was captured: the handler saw nothing"
    assert len(demo.events) > 100
    assert demo.events[0][0].startswith("run "), "the demo recorded no Dagster run"


def test_no_phi_in_logs_or_printed_output(demo: DemoRun, scanner: PhiScanner) -> None:
    _fail_on(
        scanner.scan(demo.logs, "Python logging (DEBUG)")
        + scanner.scan(demo.printed, "demo stdout/stderr")
    )


def test_no_phi_in_dagster_events(demo: DemoRun, scanner: PhiScanner) -> None:
    hits = [hit for where, text in demo.events for hit in scanner.scan(text, where)]
    kinds = {where.rsplit(" ", 2)[-2] for where, _ in demo.events}
    # asset materializations and asset check evaluations are among what was scanned
    assert {"ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION"} <= kinds, kinds
    _fail_on(hits)


def test_no_phi_in_dagster_storage_files(demo: DemoRun, scanner: PhiScanner) -> None:
    home = demo.root / "data" / "dagster_home"
    files = [p for p in sorted(home.rglob("*")) if p.is_file()]
    assert files
    _fail_on(
        [
            hit
            for path in files
            for hit in scanner.scan(path.read_bytes(), f"dagster_home/{path.relative_to(home)}")
        ]
    )


def test_no_phi_in_analyst_reports(demo: DemoRun, scanner: PhiScanner) -> None:
    reports = demo.root / "data" / "reports"
    html = sorted(reports.glob("*.html"))
    books = sorted(reports.glob("*.xlsx"))
    assert html and books
    hits = [hit for path in html for hit in scanner.scan(path.read_bytes(), path.name)]
    for book in books:
        parts = list(xlsx_parts(book))
        assert any(name.startswith("xl/worksheets/") for name, _ in parts)
        hits += [hit for name, data in parts for hit in scanner.scan(data, f"{book.name}:{name}")]
    _fail_on(hits)


def test_no_phi_in_outbound_reports_that_spec_keeps_free_of_it(
    demo: DemoRun, scanner: PhiScanner
) -> None:
    data = demo.root / "data"
    scanned, skipped = set(), set()
    hits: list[Hit] = []
    for path in sorted((data / "shadow_reports").rglob("*.xml")) + sorted(
        (data / "outbox").rglob("*.xml")
    ):
        root = etree.parse(str(path)).getroot()
        layout = OUTBOUND_BY_ROOT[etree.QName(root).localname]
        if carries_member_data(layout):
            skipped.add(layout.name)
            continue
        scanned.add(layout.name)
        hits += scanner.scan(path.read_bytes(), str(path.relative_to(data)))
    assert skipped == {
        "ESDEE",
        "ESDMCE",
        "ESDPCE",
        "ESDSFE",
        "RACSD",
        "RARSD",
        "HCRPDE",
        "ECD",
    }, skipped
    assert {"ESFAR", "RACSS", "RARSS", "RATEE", "RAUF", "HCRPSR", "ECS"} <= scanned, scanned
    _fail_on(hits)


def test_masked_ids_do_not_match_and_raw_ones_do(demo: DemoRun, scanner: PhiScanner) -> None:
    ids = sorted(v for v, k in scanner.kind.items() if k == "member or subscriber id")
    dates = sorted(v for v, k in scanner.kind.items() if k == "birth date")
    masked = " ".join(mask_member_id(v) for v in ids)
    assert masked.count("M-") == len(ids)
    assert scanner.scan(f"INFO score differences for {masked}", "masked") == []
    # negative control: one raw id (and one birth date) in a fake log line is found
    line = f"2025-05-01 INFO edge.load: member {ids[0]} born {dates[0]} loaded"
    hits = scanner.scan(line, "fake log line")
    assert {h.kind for h in hits} == {"member or subscriber id", "birth date"}
    assert all(ids[0] not in str(h) and dates[0] not in str(h) for h in hits)  # masked
    with pytest.raises(pytest.fail.Exception, match="fake log line: member or subscriber id"):
        _fail_on(hits)
