"""Test support for Phase 1 reconciliation: a verified synthetic issuer, and report surgery.

The reports compared are real files: written from the shadow by the project's writer, then
edited the way a misbehaving EDGE server would have written them (a status flipped, an error
dropped, an error on a record that does not exist), so the reader and the loader see exactly
what they would see from a real outbox.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
from lxml import etree
from record_builders import (
    ISSUER,
    KeyedGroups,
    enrollee,
    enrollment_period,
    file_identifier,
    medical_claim,
    pharmacy_claim,
    rendered_service,
    submission_header,
    supplemental_record,
    write_records,
)

from edge_pipeline.edge.layouts import ESES, ESMCS, ESPCS, ESSFS
from edge_pipeline.edge.layouts.model import FileLayout
from edge_pipeline.edge.synth import generate_issuer
from edge_pipeline.edge.verification import load_reference_tables, verify_all
from edge_pipeline.edge.warehouse.load import load_paths

#: Small but with errors at every level, and the generator's file-level defect files.
ENROLLEES, SEED, ERROR_RATE = 40, 5, 0.3
#: A record identifier no inbound file of the issuer has.
NO_SUCH_RECORD = 999_999


@dataclass(frozen=True)
class Issuer:
    """A generated issuer: its folder (XML, registry, code lists) and its files by role."""

    folder: Path
    submissions: dict[str, str]  # layout -> fileIdentifier of the four regular files
    defects: dict[str, str]  # fileIdentifier -> expected effect, of the extra defect files
    paths: dict[str, Path]  # fileIdentifier -> its XML file

    def header_rejected(self) -> str:
        """A defect file the generator meant to be rejected at header level."""
        return next(fid for fid, effect in self.defects.items() if effect == "file_rejected")


def generate(out: Path) -> Issuer:
    manifest = generate_issuer(out, enrollees=ENROLLEES, seed=SEED, error_rate=ERROR_RATE)
    return Issuer(
        folder=out,
        submissions={f.layout: f.file_identifier for f in manifest.files if f.role == "submission"},
        defects={
            f.file_identifier: f.expected_effect for f in manifest.files if f.role != "submission"
        },
        paths={f.file_identifier: out / f.path for f in manifest.files},
    )


def verified_warehouse(issuer: Issuer, warehouse: Path) -> None:
    """Load every XML of the issuer, its reference tables, and verify every file."""
    loads = load_paths(sorted(issuer.folder.glob("*.xml")), warehouse)
    assert all(r.status == "loaded" for r in loads), [r.error for r in loads]
    con = duckdb.connect(str(warehouse))
    try:
        load_reference_tables(con, issuer.folder / "plan_registry.csv", [issuer.folder])
        verify_all(con)
    finally:
        con.close()


# -- picking records to tamper with ----------------------------------------------------------


def accepted_record(con: duckdb.DuckDBPyConnection, fid: str, level: str) -> int:
    """The first record of ``level`` the shadow accepted."""
    return con.execute(
        "SELECT min(record_identifier) FROM shadow_record_status WHERE file_identifier = ? "
        "AND level = ? AND status = 'A'",
        [fid, level],
    ).fetchall()[0][0]


def single_error_record(con: duckdb.DuckDBPyConnection, fid: str, level: str) -> tuple[int, str]:
    """The first record of ``level`` rejected for exactly one error of its own, and its code."""
    rows = con.execute(
        """
        SELECT e.record_identifier, min(e.error_code) FROM shadow_record_error e
        JOIN shadow_record_status s USING (load_id, record_identifier)
        WHERE e.file_identifier = ? AND e.level = ? AND s.status = 'R'
        GROUP BY e.record_identifier HAVING count(*) = 1
        ORDER BY e.record_identifier LIMIT 1
        """,
        [fid, level],
    ).fetchall()
    assert rows, f"{fid} has no {level} rejected for a single error"
    return rows[0][0], rows[0][1]


# -- report surgery ----------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _child(element: etree._Element, name: str) -> etree._Element:
    return next(c for c in element if _local(c) == name)


def _result(root: etree._Element, record_identifier: int) -> etree._Element:
    """The processing result whose ``...RecordIdentifier`` child is ``record_identifier``."""
    for element in root.iter():
        for child in element:
            if _local(child).endswith("RecordIdentifier") and child.text == str(record_identifier):
                return element
    raise KeyError(record_identifier)


def _status(element: etree._Element) -> etree._Element:
    return _child(_child(element, "classifyingProcessingStatusType"), "statusTypeCode")


def _save(tree: etree._ElementTree, path: Path) -> None:
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def tamper_detail(
    path: Path,
    *,
    flip: int | None = None,
    drop_errors_of: int | None = None,
    copy_to_unknown: int | None = None,
) -> None:
    """Edit a detail report in place: flip one record's status (A<->R), drop one record's
    errors, and add a copy of one record's result (status and errors) under
    :data:`NO_SUCH_RECORD`, right after the original."""
    tree = etree.parse(str(path))
    root = tree.getroot()
    if copy_to_unknown is not None:
        original = _result(root, copy_to_unknown)
        clone = copy.deepcopy(original)
        for child in clone:
            if _local(child).endswith("RecordIdentifier"):
                child.text = str(NO_SUCH_RECORD)
        original.addnext(clone)
    if flip is not None:
        status = _status(_result(root, flip))
        status.text = "R" if status.text == "A" else "A"
    if drop_errors_of is not None:
        result = _result(root, drop_errors_of)
        for error in [c for c in result if _local(c) == "recordedError"]:
            result.remove(error)
    _save(tree, path)


def set_file_status(path: Path, status: str) -> None:
    """Set the file-level ``statusTypeCode`` of an ESFAR (or detail) report."""
    tree = etree.parse(str(path))
    _status(tree.getroot()).text = status
    _save(tree, path)


def add_to_summary_received(path: Path, level_element: str, delta: int) -> None:
    """Add ``delta`` to ``recordsReceived`` of the first counts block named ``level_element``."""
    tree = etree.parse(str(path))
    block = next(e for e in tree.getroot().iter() if _local(e) == level_element)
    received = _child(block, "recordsReceived")
    received.text = str(int(received.text) + delta)
    _save(tree, path)


def report_of(paths: list[Path], code: str) -> Path:
    """The report among ``paths`` whose file name carries the two-letter ``code``."""
    return next(p for p in paths if f".{code}." in p.name)


# -- small hand-written issuers ------------------------------------------------------------------


def reference_warehouse(folder: Path, registry_csv: Path) -> Path:
    """A warehouse holding only the reference tables (registry ``registry_csv``, the DIY code
    lists): loading them takes seconds, so a test that needs many fresh warehouses copies this
    one (:func:`fresh_warehouse`) instead."""
    warehouse = folder / "reference.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        load_reference_tables(con, registry_csv)
    finally:
        con.close()
    return warehouse


def fresh_warehouse(template: Path, warehouse: Path) -> Path:
    """A copy of the reference-only ``template`` at ``warehouse``."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, warehouse)
    return warehouse


#: The one plan of the small issuer.
SMALL_PLAN = f"{ISSUER}NC001000101"


def small_issuer_files() -> list[tuple[FileLayout, KeyedGroups]]:
    """A small clean issuer, one file per type in load order: subscriber A and dependent B;
    A's medical claims MC1 (two service lines) and MC2; pharmacy claims RX1 and RX2; and the
    supplemental records S1 and S2 of MC1.  Phase 1 accepts every record."""
    day = "2025-02-01"

    def claim(name: str, lines: int) -> tuple[str, dict]:
        services = [rendered_service(i + 1, day, "99213") for i in range(lines)]
        return name, medical_claim(
            name, "MEMBERA", services, start=day, end=day, processed="2025-03-01T10:00:00"
        )

    return [
        (
            ESES,
            [
                (
                    None,
                    [
                        ("A", enrollee("MEMBERA", [enrollment_period(SMALL_PLAN)])),
                        (
                            "B",
                            enrollee(
                                "MEMBERB", [enrollment_period(SMALL_PLAN, subscriber="MEMBERA")]
                            ),
                        ),
                    ],
                )
            ],
        ),
        (ESMCS, [(SMALL_PLAN, [claim("MC1", 2), claim("MC2", 1)])]),
        (
            ESPCS,
            [(SMALL_PLAN, [(rx, pharmacy_claim(rx, "MEMBERA")) for rx in ("RX1", "RX2")])],
        ),
        (
            ESSFS,
            [
                (
                    SMALL_PLAN,
                    [(d, supplemental_record(d, "MEMBERA", "MC1")) for d in ("S1", "S2")],
                )
            ],
        ),
    ]


def write_small_issuer(
    folder: Path,
    header_values: dict[str, str] | None = None,
    issuer: str = ISSUER,
) -> list[tuple[Path, dict[str, int]]]:
    """Write :func:`small_issuer_files` into ``folder`` as ``1.xml`` .. ``4.xml`` (fileIdentifier
    ``<issuer><type><n>``); ``header_values`` replace header values of every file (a
    fileIdentifier is prefixed with the file's number, so each stays distinct).  Returns each
    file's path and the recordIdentifier of each keyed record."""
    written = []
    for n, (layout, groups) in enumerate(small_issuer_files(), 1):
        header = submission_header(layout, file_identifier(layout, n))
        for element, value in (header_values or {}).items():
            header[element] = f"{n}{value}" if element == "file_identifier" else value
        path = folder / f"{n}.xml"
        written.append((path, write_records(path, layout, header, groups, issuer=issuer)))
    return written
