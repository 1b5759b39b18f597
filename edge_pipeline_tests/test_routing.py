"""Inbox routing (base/routing.py): each family's route claims its files by their first bytes,
so a second family plugs in beside EDGE without a change to the router."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import pytest
from record_builders import enrollee, enrollment_period, write_submission

from edge_pipeline.base.routing import NotRoutable, route
from edge_pipeline.edge.layouts import BY_NAME
from edge_pipeline.edge.routes import EDGE_INBOUND_ROUTES


class FixedWidthRoute:
    """A stand-in second family: fixed-width lines whose first 7 characters name the kind."""

    family = "fixed"

    def claims(self, head: bytes) -> bool:
        return head[:3] == b"MAO"

    def recognise(self, path: Path, source: IO[bytes]) -> tuple[str, str]:
        line = source.readline().decode("ascii", errors="replace")
        if len(line) < 20:
            raise NotRoutable("the header line is shorter than 20 characters")
        return line[:7].lower(), line[7:20].strip()


ROUTES = (*EDGE_INBOUND_ROUTES, FixedWidthRoute())


@pytest.fixture
def eses(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "enrollment.xml"
    member = enrollee("M1", [enrollment_period("12345TX0010001")])
    file_id = write_submission(path, BY_NAME["ESES"], 1, [(None, [member])])
    return path, file_id


def test_an_edge_submission_is_routed_by_its_header_not_its_name(
    eses: tuple[Path, str], tmp_path: Path
) -> None:
    path, file_id = eses
    renamed = tmp_path / "whatever.dat"
    path.rename(renamed)
    routed = route(renamed, ROUTES)
    assert (routed.family, routed.kind, routed.key) == ("edge", "eses", file_id)


def test_a_second_family_plugs_in_beside_edge(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(b"MAO0004H1234-2025-000017   \n" + b"X" * 100)
    routed = route(path, ROUTES)
    assert (routed.family, routed.kind, routed.key) == ("fixed", "mao0004", "H1234-2025-00")
    with pytest.raises(NotRoutable, match="any known family \\(edge\\)"):
        route(path, EDGE_INBOUND_ROUTES)  # the same file with EDGE alone: no family takes it


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00 binary", "not a file of any known family"),
        (b"MAO short", "shorter than 20 characters"),
        (b"<?xml version='1.0'?><notAnEdgeFile/>", "header unreadable"),
        (b"", "not a file of any known family"),
    ],
)
def test_a_file_no_route_takes_says_why(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "stray.xml"
    path.write_bytes(content)
    with pytest.raises(NotRoutable, match=reason):
        route(path, ROUTES)


def test_routing_never_follows_a_symlink_or_opens_a_fifo(
    eses: tuple[Path, str], tmp_path: Path
) -> None:
    link = tmp_path / "link.xml"
    link.symlink_to(eses[0])
    with pytest.raises(NotRoutable, match="symbolic link"):
        route(link, ROUTES)
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    with pytest.raises(NotRoutable, match="not a regular file"):
        route(fifo, ROUTES)  # returns at once: a FIFO is never opened for reading
