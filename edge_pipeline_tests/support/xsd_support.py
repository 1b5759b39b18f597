"""Test support for the tests of the generated XSDs (inbound submissions, outbound reports).

Both kinds of schema are rendered from layout declarations by the same machinery
(``edge_pipeline.edge.xsd``, reused by ``edge_pipeline.edge.outbound.core.xsd``), shipped in
``edge_pipeline/xsd/`` and regenerated with ``python -m <module> DIR``; the properties every
rendered schema must have, and the round trip from writing to the shipped files, are checked
the same way for each.  One copy here, so the two test modules differ only in what is specific
to their layouts.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from lxml import etree

from edge_pipeline.edge.layouts.model import EDGE_NAMESPACE


class _Named(Protocol):
    @property
    def name(self) -> str: ...


Layout = TypeVar("Layout", bound=_Named)


def rendered_schema(render: Callable[[Layout], str], layout: Layout) -> etree._Element:
    """The schema document ``render`` makes of ``layout``, asserting what every shipped XSD
    needs to be diffable and usable: the same text each time, exactly one final newline, the
    EDGE target namespace and qualified elements."""
    text = render(layout)
    assert text == render(layout)
    assert text.endswith("\n") and not text.endswith("\n\n")
    document = etree.fromstring(text.encode())
    assert document.get("targetNamespace") == EDGE_NAMESPACE
    assert document.get("elementFormDefault") == "qualified"
    return document


def assert_writes_the_shipped_xsds(
    tmp_path: Path,
    layouts: Sequence[Layout],
    write_xsds: Callable[[Path], list[Path]],
    shipped_xsd: Callable[[Layout], str],
    module: str,
) -> None:
    """``write_xsds`` writes one ``<name>.xsd`` per layout, in order, each the shipped text, and
    ``python -m module DIR`` (the regeneration command) writes the same files."""
    written = write_xsds(tmp_path / "api")
    assert [p.name for p in written] == [f"{layout.name}.xsd" for layout in layouts]
    for path, layout in zip(written, layouts, strict=True):
        assert path.read_text(encoding="utf-8") == shipped_xsd(layout)
    out = tmp_path / "cli"
    subprocess.run([sys.executable, "-m", module, str(out)], check=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
