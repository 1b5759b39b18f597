"""Hostile and broken delivery files (issue #7): each has a defined, tested outcome.

Every case builds its file from a small generated issuer (or by hand), loads it with
``load_paths`` *in one batch with the issuer's four good files* into a real DuckDB, and checks
the status, the recorded error (naming the problem, and the line where one applies), that no
row of the file is in any table, and that the good files still loaded.  Hostile files also
have to fail fast (a generous time guard) without reaching outside the file: a local secret,
a FIFO whose opening is noticed and a local TCP listener (``hostile_support.traps``) catch any
file or network access.

==========================================  ==========  ==========================================
Case                                        Outcome     Where tested
==========================================  ==========  ==========================================
XXE: local file (absolute, relative, FIFO)  failed      ``test_entity_and_dtd_attacks_are_refused``
XXE: network entity, parameter entity       failed      same (no connection, no hang)
External DTD (file, network)                failed      same
Billion laughs, quadratic blowup            failed      same ("a DOCTYPE/DTD is not allowed")
Entity expansion in an attribute            failed      same ("amplification", before the DOCTYPE
                                                        check: libxml2's own limit)
Undeclared entity ``&foo;`` (no DTD)        failed      same (names the entity and its line)
DOCTYPE with internal entity                failed      test_ingest ``..._recorded_reason[doctype]``
Deeply nested elements (10,000 levels)      failed      ``test_deep_nesting_is_refused_quickly``
300 MB text node (record / header)          failed      ``test_huge_constructs_are_refused_...``
300 MB comment, CDATA, attribute, PI        failed      same (refused after 64 MB read without a
(record / before the issuer)                            complete record; memory bounded)
Processing instructions (before the root,   failed      ``test_processing_instructions_...``
between children, splitting a value)                    (an ``xml-stylesheet`` PI is not fetched)
Comments (before the root, between          loaded      ``test_comments_are_ignored``
children, splitting a value)                            (values identical)
Unknown, repeated or misplaced root         failed      ``test_root_holds_header_then_issuer``
elements; a second issuer record
Zero-byte, whitespace-only, declaration-    failed      ``test_empty_files_fail``
only, BOM-only files                                    (zero bytes: test_ingest ``[empty]`` too)
Truncated mid-element (5 cut points)        failed      ``test_truncated_files_fail_...``; after
                                                        several batches: test_ingest
                                                        ``test_failure_midway_leaves_no_rows_...``
Wrong namespace                             failed      test_ingest ``..._recorded_reason[namespace]``
Unknown root, root without namespace        failed      ``test_unknown_root_fails``
Declared ISO-8859-1, Latin-1 bytes          loaded      ``test_encodings`` (é/É read correctly)
Declared (or default) UTF-8, Latin-1 bytes  failed      ``test_encodings`` ("Invalid bytes")
Declared ISO-8859-1, UTF-8 bytes            loaded      ``test_encodings``: undetectable; the
                                                        declaration is authoritative (mojibake)
Unsupported encoding name                   failed      ``test_encodings``
UTF-8 BOM, CRLF, BOM+CRLF, UTF-16 with BOM  loaded      ``test_benign_variants_load_identically``
Same file twice (one batch / two batches)   unchanged   ``test_the_same_file_twice_in_one_batch``;
                                                        across batches: test_ingest
                                                        ``test_identical_redelivery_...``
Same fileIdentifier, other content          refused     ``test_same_identifier_other_content_...``
                                                        (first one wins); across batches:
                                                        test_ingest ``test_reused_file_...``
Failed file, then good file with its id     loaded      ``test_a_failed_file_does_not_reserve...``
File still being written (sensor)           waits       test_inbox_sensor
                                                        ``test_a_file_still_being_written_waits``
File still being written (loaded anyway)    failed      truncated cases here; fixed file loads:
                                                        test_ingest ``test_failure_midway_...``
Bytes change between hashing and parsing    failed      ``test_a_file_changed_after_hashing_...``
Truncated in place while being read         failed      ``test_a_file_truncated_while_read_...``
Replaced by rename while being read         loaded      ``test_a_file_replaced_by_rename_...``
                                                        (the bytes hashed; the new file is
                                                        refused under the same fileIdentifier)
Parallel read: bytes changed under workers  failed      test_parallel_ingest
                                                        ``test_changed_bytes_are_detected``
Outbound report: XXE, laughs, external      failed      ``test_hostile_outbound_reports_...``;
DTD, undeclared entity, deep nesting, empty             internal DOCTYPE: test_outbound_load
                                                        ``test_hostile_or_foreign_files_...``
==========================================  ==========  ==========================================

libxml2 refuses a text node over 10 MB while it streams, but buffers a comment, CDATA section,
attribute or PI whole until its end is found; the readers therefore refuse a file once 64 MB
have been read without completing a record (``readers/xmlparse.py``), which the huge-construct
cases measure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from hostile_support import (
    SECRET,
    body,
    first_member_id,
    good_files,
    record_rows,
    run_with_timeout,
    table_counts,
    traps,
    warehouse_text,
    with_doctype,
    with_file_identifier,
)

from edge_pipeline.base import file_registry as file_loads
from edge_pipeline.base.digest import sha256_file
from edge_pipeline.edge.outbound import load_outbound_paths, write_phase1_reports
from edge_pipeline.edge.readers.header import read_header
from edge_pipeline.edge.warehouse import load as load_module
from edge_pipeline.edge.warehouse.load import LoadResult, load_paths

#: Generous guards: every hostile file here fails in well under a second.
MAX_SECONDS = 20.0
#: A 300 MB construct must not be held whole: the loads measured grow by ~100 MB.
MAX_RSS_GROWTH_MB = 200
HUGE_TEXT_MB = 300
ROOT = "edgeServerEnrollmentSubmission"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The four good inbound files of a small issuer, by submission type."""
    return good_files(tmp_path_factory.mktemp("issuer"), enrollees=30, seed=29)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, issuer: dict[str, Path]) -> dict:
    """Row counts of the good files alone: what every batch's warehouse must hold."""
    warehouse = tmp_path_factory.mktemp("reference") / "w.duckdb"
    results = load_paths(list(issuer.values()), warehouse)
    assert [r.status for r in results] == ["loaded"] * 4, [r.error for r in results]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return table_counts(con)


@pytest.fixture(scope="module")
def enrollment(issuer: dict[str, Path]) -> bytes:
    return issuer["E"].read_bytes()


@dataclass
class Batch:
    results: list[LoadResult]
    con: duckdb.DuckDBPyConnection

    @property
    def bad(self) -> LoadResult:
        return self.results[0]

    def registry_row(self, result: LoadResult) -> tuple:
        return self.con.execute(
            "SELECT status, error, error_line, error_element FROM submission_file "
            "WHERE load_id = ?",
            [result.load_id],
        ).fetchone()


@pytest.fixture
def batch(tmp_path: Path, issuer: dict[str, Path]):
    """``load(files)``: load ``files`` first, then the issuer's good files, in one batch."""
    opened: list[duckdb.DuckDBPyConnection] = []

    def load(files: list[Path], good: list[Path] | None = None) -> Batch:
        good = list(issuer.values()) if good is None else good
        warehouse = tmp_path / "w.duckdb"
        results = run_with_timeout(60, lambda: load_paths([*files, *good], warehouse))
        assert [r.status for r in results[len(files) :]] == ["loaded"] * len(good), [
            r.error for r in results
        ]
        con = duckdb.connect(str(warehouse), read_only=True)
        opened.append(con)
        return Batch(results, con)

    yield load
    for con in opened:
        con.close()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def assert_failed(
    batch: Batch, reference: dict[str, int], *reasons: str, line: int | None = None
) -> None:
    """The first file failed for ``reasons``, is recorded so, and left no row anywhere."""
    result = batch.bad
    assert result.status == "failed", result
    assert result.error and result.file_name in result.error
    for reason in reasons:
        assert reason in result.error, result.error
    assert result.seconds < MAX_SECONDS
    status, error, error_line, _ = batch.registry_row(result)
    assert (status, error) == ("failed", result.error)
    if line is not None:
        assert error_line == line, result.error
    assert table_counts(batch.con) == reference  # nothing of the bad file, all of the good
    assert SECRET not in warehouse_text(batch.con)


# -- hostile XML ------------------------------------------------------------------------------

LAUGHS = "".join(
    f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' if i else '<!ENTITY l0 "lol">' for i in range(10)
)
DTD_ATTACKS = {
    "xxe_local_file": (f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "file://{{secret}}">]>', "&x;"),
    "xxe_relative_file": (f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "secret.txt">]>', "&x;"),
    "xxe_fifo": (f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "file://{{fifo}}">]>', "&x;"),
    "xxe_parameter_entity_fifo": (
        f'<!DOCTYPE {ROOT} [<!ENTITY % p SYSTEM "file://{{fifo}}"> %p;]>',
        None,
    ),
    "xxe_network": (
        f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "http://127.0.0.1:{{port}}/x">]>',
        "&x;",
    ),
    "xxe_network_parameter_entity": (
        f'<!DOCTYPE {ROOT} [<!ENTITY % p SYSTEM "http://127.0.0.1:{{port}}/p"> %p;]>',
        None,
    ),
    "external_dtd_file": (f'<!DOCTYPE {ROOT} SYSTEM "file://{{fifo}}">', None),
    "external_dtd_network": (
        f'<!DOCTYPE {ROOT} PUBLIC "-//X//EDGE//EN" "http://127.0.0.1:{{port}}/edge.dtd">',
        None,
    ),
    "billion_laughs": (f"<!DOCTYPE {ROOT} [{LAUGHS}]>", "&l9;"),
    "quadratic_blowup": (
        f'<!DOCTYPE {ROOT} [<!ENTITY a "{"A" * 50_000}">]>',
        "&a;" * 50_000,
    ),
}


@pytest.mark.parametrize("case", list(DTD_ATTACKS))
def test_entity_and_dtd_attacks_are_refused(
    tmp_path: Path, batch, reference: dict, enrollment: bytes, case: str
) -> None:
    doctype, reference_text = DTD_ATTACKS[case]
    with traps(tmp_path) as trap:
        data = with_doctype(
            with_file_identifier(enrollment, "HOSTILEDTD01"), trap.format(doctype), reference_text
        )
        loaded = batch([write(tmp_path, "hostile.xml", data)])
        assert_failed(loaded, reference, "a DOCTYPE/DTD is not allowed in EDGE files")
        trap.assert_untouched()
    assert SECRET not in loaded.bad.error


INLINE_ATTACKS = {
    # expanded while the root's start tag is parsed, before any DOCTYPE check can run:
    # libxml2's amplification limit refuses it
    "laughs_in_root_attribute": (
        lambda data: with_doctype(data, f"<!DOCTYPE {ROOT} [{LAUGHS}]>").replace(
            f"<{ROOT} ".encode(), f'<{ROOT} a="&l9;" '.encode(), 1
        ),
        ("not well-formed XML", "amplification"),
        4,
    ),
    "external_entity_in_attribute": (
        lambda data: with_doctype(
            data, f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "file://{{secret}}">]>'
        ).replace(f"<{ROOT} ".encode(), f'<{ROOT} a="&x;" '.encode(), 1),
        ("not well-formed XML", "Attribute references external entity '[1 chars]'"),
        4,
    ),
    # no DTD at all: an entity the parser cannot know (lxml alone reports "no element found")
    "undeclared_entity_in_record": (
        lambda data: data.replace(
            b"</insuredMemberIdentifier>", b"&foo;</insuredMemberIdentifier>", 1
        ),
        ("not well-formed XML", "Entity '[3 chars]' not defined"),
        "member",
    ),
}


@pytest.mark.parametrize("case", list(INLINE_ATTACKS))
def test_inline_entity_attacks_are_refused(
    tmp_path: Path, batch, reference: dict, enrollment: bytes, case: str
) -> None:
    mutate, reasons, line = INLINE_ATTACKS[case]
    with traps(tmp_path) as trap:
        data = with_file_identifier(enrollment, "HOSTILEENT01")
        hostile = mutate(data)
        hostile = hostile.replace(b"{secret}", str(trap.secret).encode())
        if line == "member":
            line = data[: data.index(b"</insuredMemberIdentifier>")].count(b"\n") + 1
        loaded = batch([write(tmp_path, "hostile.xml", hostile)])
        assert_failed(loaded, reference, *reasons, line=line)
        trap.assert_untouched()


@pytest.mark.parametrize("where", ["record", "header"])
def test_deep_nesting_is_refused_quickly(
    tmp_path: Path, batch, reference: dict, enrollment: bytes, where: str
) -> None:
    data = with_file_identifier(enrollment, "HOSTILEDEEP1")
    anchor = b"</recordIdentifier>" if where == "record" else b"</executionZoneCode>"
    at = data.index(anchor, data.index(b"<includedInsuredMember>") if where == "record" else 0)
    at += len(anchor)
    deep = data[:at] + b"<d>" * 10_000 + b"</d>" * 10_000 + data[at:]
    loaded = batch([write(tmp_path, "deep.xml", deep)])
    line = data[:at].count(b"\n") + 1
    assert_failed(loaded, reference, "not well-formed XML", "Excessive depth", line=line)


HUGE_TEXT_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from edge_pipeline.edge.warehouse.load import load_paths

    source, folder, megabytes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    anchor, opening, closing = (a.encode() for a in sys.argv[4:7])
    data = source.read_bytes()
    data = data.replace(b"<fileIdentifier>", b"<fileIdentifier>H", 1)
    cut = data.index(anchor) + len(anchor)
    huge = folder / "huge.xml"
    with huge.open("wb") as out:  # streamed to disk, never held in memory
        out.write(data[:cut] + opening)
        block = b"A" * (1 << 20)
        for _ in range(megabytes):
            out.write(block)
        out.write(closing + data[cut:])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    results = load_paths([huge, source], folder / "w.duckdb")
    seconds = time.perf_counter() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    huge.unlink()
    print(json.dumps({
        "statuses": [r.status for r in results], "error": results[0].error,
        "seconds": seconds, "rss_growth_mb": growth / 1024, "size": megabytes,
    }))
    """
)

#: How libxml2 refuses a text node it streams, and how the readers refuse the rest.
TEXT_LIMIT = ("not well-formed XML", "Text node too long", "line ")
NO_RECORD = ("more than 64 MB read", "without a complete record")

HUGE_CONSTRUCTS = {
    # case: (insert after, opening, closing, expected phrases)
    "text_in_record": ("<insuredMemberIdentifier>", "", "", TEXT_LIMIT),
    "text_in_header": ("<executionZoneCode>", "", "", TEXT_LIMIT),
    "comment_in_record": ("</recordIdentifier>", "<!--", "-->", NO_RECORD),
    "comment_before_issuer": ("</executionZoneCode>", "<!--", "-->", NO_RECORD),
    "cdata_value": ("<insuredMemberIdentifier>", "<![CDATA[", "]]>", NO_RECORD),
    "attribute_value": ("<insuredMemberIdentifier", ' a="', '"', NO_RECORD),
    "processing_instruction": ("</recordIdentifier>", "<?x ", "?>", NO_RECORD),
}


@pytest.mark.parametrize("case", list(HUGE_CONSTRUCTS))
def test_huge_constructs_are_refused_fast_with_bounded_memory(
    tmp_path: Path, issuer: dict[str, Path], case: str
) -> None:
    """A 300 MB text node, comment, CDATA section, attribute value or processing instruction
    is refused while it streams; measured in a subprocess so the peak RSS is the load's own."""
    if shutil.disk_usage(tmp_path).free < (HUGE_TEXT_MB + 200) * 2**20:
        pytest.skip("not enough disk for the huge file")
    anchor, opening, closing, phrases = HUGE_CONSTRUCTS[case]
    arguments = [str(issuer["E"]), str(tmp_path), str(HUGE_TEXT_MB), anchor, opening, closing]
    run = subprocess.run(
        [sys.executable, "-c", HUGE_TEXT_SCRIPT, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["statuses"] == ["failed", "loaded"], outcome
    for phrase in phrases:
        assert phrase in outcome["error"], outcome
    assert outcome["seconds"] < MAX_SECONDS
    assert outcome["rss_growth_mb"] < MAX_RSS_GROWTH_MB, outcome


PROCESSING_INSTRUCTIONS = {
    "stylesheet_pi_before_root": (
        lambda d: d.replace(
            b"?>",
            b'?>\n<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:{port}/x.xsl"?>',
            1,
        ),
        "<?xml-stylesheet?>",
        b"<?xml-stylesheet",
    ),
    "pi_between_record_children": (
        lambda d: d.replace(b"</recordIdentifier>", b"</recordIdentifier><?edge hint?>", 3),
        "<?edge?>",
        b"<?edge",
    ),
    "pi_splitting_a_value": (
        lambda d: d.replace(
            first_member_id(d), first_member_id(d)[:4] + b"<?x y?>" + first_member_id(d)[4:], 1
        ),
        "<?x?>",
        b"<?x y",
    ),
}


@pytest.mark.parametrize("case", list(PROCESSING_INSTRUCTIONS))
def test_processing_instructions_are_refused(
    tmp_path: Path, batch, reference: dict, enrollment: bytes, case: str
) -> None:
    """Refused with the PI's target and line (EDGE files carry none); never fetched or run."""
    mutate, shown, marker = PROCESSING_INSTRUCTIONS[case]
    with traps(tmp_path) as trap:
        data = with_file_identifier(enrollment, "HOSTILEPI001")
        variant = mutate(data).replace(b"{port}", str(trap.port).encode())
        loaded = batch([write(tmp_path, "pi.xml", variant)])
        trap.assert_untouched()
    line = variant[: variant.index(marker)].count(b"\n") + 1
    assert_failed(loaded, reference, f"processing instruction {shown} is not allowed", line=line)


COMMENTS = {
    "comment_before_root": lambda d: d.replace(b"?>", b"?>\n<!-- from the issuer -->", 1),
    "comment_between_record_children": lambda d: d.replace(
        b"</recordIdentifier>", b"</recordIdentifier><!-- c -->", 3
    ),
    "comment_splitting_a_value": lambda d: d.replace(
        first_member_id(d), first_member_id(d)[:4] + b"<!-- c -->" + first_member_id(d)[4:], 1
    ),
}


@pytest.mark.parametrize("case", list(COMMENTS))
def test_comments_are_ignored(
    tmp_path: Path, batch, issuer: dict[str, Path], enrollment: bytes, case: str
) -> None:
    """Defined outcome: loaded; the values are those of the file without the comments, even
    where one splits a value's text."""
    data = with_file_identifier(enrollment, "HOSTILECMT01")
    loaded = batch([write(tmp_path, "comment.xml", COMMENTS[case](data))])
    assert loaded.bad.status == "loaded", loaded.bad.error
    original = read_header(issuer["E"]).file_identifier
    assert record_rows(loaded.con, "HOSTILECMT01") == record_rows(loaded.con, original)


ISSUER = b"<includedEnrollmentIssuer>"
END = f"</{ROOT}>".encode()
ZONE = b"<executionZoneCode>T</executionZoneCode>"

ROOT_STRUCTURE = {
    # case: (mutation, expected reason, element named, marker whose line is reported)
    "unknown_before_issuer": (
        lambda d: d.replace(ISSUER, b"<note>x</note>" + ISSUER, 1),
        "unexpected element",
        "note",
        b"<note>",
    ),
    "unknown_after_issuer": (
        lambda d: d.replace(END, b"<note>x</note>" + END),
        "unexpected element after the includedEnrollmentIssuer record",
        "note",
        b"<note>",
    ),
    "header_element_twice": (
        lambda d: d.replace(ZONE, ZONE + b"<executionZoneCode>P</executionZoneCode>", 1),
        "element appears more than once",
        "executionZoneCode",
        b"<executionZoneCode>P",
    ),
    "header_element_after_issuer": (
        lambda d: d.replace(ZONE, b"", 1).replace(END, ZONE + END),
        "unexpected element after the includedEnrollmentIssuer record",
        "executionZoneCode",
        ZONE,
    ),
    "header_value_holding_an_element": (
        lambda d: d.replace(ZONE, b"<executionZoneCode>T<x/></executionZoneCode>", 1),
        "a value element holds elements, not text",
        "executionZoneCode",
        b"<executionZoneCode>T<x/>",
    ),
    "second_issuer_record": (
        lambda d: d.replace(
            END,
            ISSUER + b"<recordIdentifier>999</recordIdentifier></includedEnrollmentIssuer>" + END,
        ),
        "a file holds at most 1 such record",
        "includedEnrollmentIssuer",
        b"<recordIdentifier>999",
    ),
}


@pytest.mark.parametrize("case", list(ROOT_STRUCTURE))
def test_root_holds_header_then_issuer(
    tmp_path: Path, batch, reference: dict, enrollment: bytes, case: str
) -> None:
    """The root holds the header and totals (each once, text only), then one issuer record,
    then nothing, as the XSD says.  Anything else is refused, naming the element and line,
    rather than read differently by the header reader (which stops at the first record)."""
    mutate, reason, element, marker = ROOT_STRUCTURE[case]
    data = mutate(with_file_identifier(enrollment, "HOSTILEROOT1"))
    assert data != enrollment
    loaded = batch([write(tmp_path, "root.xml", data)])
    line = data[: data.rindex(marker)].count(b"\n") + 1
    assert_failed(loaded, reference, reason, f"element {element}", line=line)


# -- broken files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason", "line"),
    [
        (b"", "the file is empty (0 bytes)", None),
        (b"  \r\n\t\n", "Start tag expected", 3),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n', "Start tag expected", 2),
        (b"\xef\xbb\xbf", "Start tag expected", 1),
    ],
    ids=["zero_bytes", "whitespace_only", "declaration_only", "bom_only"],
)
def test_empty_files_fail(
    tmp_path: Path, batch, reference: dict, data: bytes, reason: str, line: int | None
) -> None:
    loaded = batch([write(tmp_path, "empty.xml", data)])
    assert_failed(loaded, reference, "not well-formed XML", reason, line=line)


TRUNCATIONS = {
    "in_the_header": lambda d: d.index(b"<fileIdentifier>") + 20,
    "mid_start_tag": lambda d: d.index(b"<insuredMemberBirthDate>") + 8,
    "mid_text": lambda d: d.index(b"<insuredMemberBirthDate>") + 27,
    "between_records": lambda d: d.index(b"</includedInsuredMember>") + 24,
    "before_root_end_tag": lambda d: d.rindex(b"</"),
}


@pytest.mark.parametrize("case", list(TRUNCATIONS))
def test_truncated_files_fail_with_the_line(
    tmp_path: Path, batch, reference: dict, enrollment: bytes, case: str
) -> None:
    """A file cut mid-element (a delivery still being written, loaded anyway) fails."""
    data = with_file_identifier(enrollment, "HOSTILECUT01")
    cut = TRUNCATIONS[case](data)
    loaded = batch([write(tmp_path, "cut.xml", data[:cut])])
    assert_failed(loaded, reference, "not well-formed XML")
    _, _, error_line, _ = loaded.registry_row(loaded.bad)
    assert error_line == data[:cut].count(b"\n") + 1, loaded.bad.error


@pytest.mark.parametrize(
    ("root", "reason"),
    [
        (
            '<edgeServerSomethingElse xmlns="http://vo.edge.fm.cms.hhs.gov">',
            "unknown root element edgeServerSomethingElse (expected one of",
        ),
        ("<edgeServerEnrollmentSubmission>", "is in namespace (none)"),
    ],
    ids=["unknown_root", "no_namespace"],
)
def test_unknown_root_fails(
    tmp_path: Path, batch, reference: dict, enrollment: bytes, root: str, reason: str
) -> None:
    data = with_file_identifier(enrollment, "HOSTILEROOT1")
    start = data.index(f"<{ROOT}".encode())
    end = data.index(b">", start) + 1
    close = f"</{etree_local(root)}>".encode()
    foreign = data[:start] + root.encode() + data[end:].replace(f"</{ROOT}>".encode(), close)
    loaded = batch([write(tmp_path, "root.xml", foreign)])
    assert_failed(loaded, reference, reason)


def etree_local(start_tag: str) -> str:
    return start_tag.strip("<>").split()[0]


NAME = "Zoë-Émile"


def _latin1_member(data: bytes, declared: bytes | None) -> bytes:
    """The first member identifier holds ``NAME`` in Latin-1 bytes; ``declared`` replaces the
    declaration's encoding (``None``: no declaration at all)."""
    data = data.replace(first_member_id(data), NAME.encode("latin-1"), 1)
    if declared is None:
        return body(data).lstrip()
    return data.replace(b'encoding="UTF-8"', b'encoding="' + declared + b'"', 1)


def test_encodings(tmp_path: Path, batch, reference: dict, enrollment: bytes) -> None:
    member = first_member_id(enrollment)
    line = enrollment[: enrollment.index(member)].count(b"\n") + 1
    files = {
        "latin1_declared.xml": _latin1_member(
            with_file_identifier(enrollment, "ENCODING0001"), b"ISO-8859-1"
        ),
        "latin1_as_utf8.xml": _latin1_member(
            with_file_identifier(enrollment, "ENCODING0002"), b"UTF-8"
        ),
        "latin1_undeclared.xml": _latin1_member(
            with_file_identifier(enrollment, "ENCODING0003"), None
        ),
        "utf8_as_latin1.xml": with_file_identifier(enrollment, "ENCODING0004")
        .replace(member, NAME.encode(), 1)
        .replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1),
        "unknown_encoding.xml": with_file_identifier(enrollment, "ENCODING0005").replace(
            b'encoding="UTF-8"', b'encoding="X-NO-SUCH-CHARSET"', 1
        ),
    }
    paths = [write(tmp_path, name, data) for name, data in files.items()]
    loaded = batch(paths)
    by_name = {r.file_name: r for r in loaded.results}

    def member_ids(fid: str) -> list[str]:
        return [
            r[0]
            for r in loaded.con.execute(
                "SELECT insured_member_identifier FROM enrollee WHERE file_identifier = ?", [fid]
            ).fetchall()
        ]

    # declared correctly: the text is read correctly
    assert by_name["latin1_declared.xml"].status == "loaded"
    assert NAME in member_ids("ENCODING0001")
    # mislabelled (declared UTF-8, or no declaration so UTF-8): refused at the bad byte
    for name in ("latin1_as_utf8.xml", "latin1_undeclared.xml"):
        result = by_name[name]
        assert result.status == "failed"
        assert "Invalid bytes in character encoding" in result.error and name in result.error
        assert loaded.registry_row(result)[2] == line - (0 if "as_utf8" in name else 1)
    # the reverse mislabel cannot be detected (every byte is Latin-1): the declaration wins
    assert by_name["utf8_as_latin1.xml"].status == "loaded"
    assert NAME.encode().decode("latin-1") in member_ids("ENCODING0004")
    result = by_name["unknown_encoding.xml"]
    assert result.status == "failed" and "X-NO-SUCH-CHARSET" in result.error, result.error
    for fid in ("ENCODING0002", "ENCODING0003", "ENCODING0005"):
        assert not any(record_rows(loaded.con, fid).values()), fid


BENIGN = {
    "utf8_bom": lambda d: b"\xef\xbb\xbf" + d,
    "crlf": lambda d: d.replace(b"\n", b"\r\n"),
    "bom_and_crlf": lambda d: b"\xef\xbb\xbf" + d.replace(b"\n", b"\r\n"),
    "utf16_with_bom": lambda d: (
        d.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    ),
}


def test_benign_variants_load_identically(
    tmp_path: Path, batch, issuer: dict[str, Path], enrollment: bytes
) -> None:
    paths = [
        write(
            tmp_path,
            f"{case}.xml",
            variant(with_file_identifier(enrollment, f"BENIGN{n:06d}")),
        )
        for n, (case, variant) in enumerate(BENIGN.items())
    ]
    loaded = batch(paths)
    assert [r.status for r in loaded.results[: len(paths)]] == ["loaded"] * len(paths), [
        r.error for r in loaded.results
    ]
    expected = record_rows(loaded.con, read_header(issuer["E"]).file_identifier)
    assert sum(map(len, expected.values())) > 30
    for n, case in enumerate(BENIGN):
        assert record_rows(loaded.con, f"BENIGN{n:06d}") == expected, case


# -- the same file, or the same identifier, more than once -------------------------------------


def test_the_same_file_twice_in_one_batch(
    tmp_path: Path, batch, issuer: dict[str, Path], reference: dict
) -> None:
    again = Path(shutil.copy(issuer["M"], tmp_path / "resent-claims.xml"))
    loaded = batch([issuer["M"], again], good=[issuer["E"], issuer["P"], issuer["S"]])
    assert [r.status for r in loaded.results[:2]] == ["loaded", "unchanged"]
    assert loaded.results[1].load_id is None  # a re-delivery writes nothing, not even a row
    assert table_counts(loaded.con) == reference
    (registered,) = loaded.con.execute("SELECT count(*) FROM submission_file").fetchone()
    assert registered == 4


def test_same_identifier_other_content_in_one_batch(
    tmp_path: Path, batch, issuer: dict[str, Path], reference: dict
) -> None:
    """The first file to load keeps the identifier; the other one is refused and recorded."""
    original = issuer["E"].read_bytes()
    member = first_member_id(original)
    other = write(tmp_path, "other.xml", original.replace(member, b"CHANGED" + member[7:], 1))
    loaded = batch([issuer["E"], other], good=[issuer["M"], issuer["P"], issuer["S"]])
    first, second = loaded.results[:2]
    assert (first.status, second.status) == ("loaded", "refused")
    assert "fileIdentifier is already loaded from a different file" in second.error
    assert "other.xml" in second.error
    assert loaded.registry_row(second)[:2] == ("refused", second.error)
    assert table_counts(loaded.con) == reference
    fid = read_header(issuer["E"]).file_identifier
    ids = loaded.con.execute(
        "SELECT insured_member_identifier FROM enrollee WHERE file_identifier = ?", [fid]
    ).fetchall()
    assert (member.decode(),) in ids and ("CHANGED" + member[7:].decode(),) not in ids


def test_a_failed_file_does_not_reserve_its_identifier(
    tmp_path: Path, batch, issuer: dict[str, Path], reference: dict
) -> None:
    data = issuer["E"].read_bytes()
    broken = write(tmp_path, "broken.xml", data[: len(data) // 2])
    loaded = batch([broken])  # the good E file with the same fileIdentifier follows
    assert_failed(loaded, reference, "not well-formed XML")


# -- a file that changes while it is read -----------------------------------------------------


def test_a_file_changed_after_hashing_fails_and_leaves_nothing(
    tmp_path: Path, batch, issuer: dict[str, Path], reference: dict, monkeypatch
) -> None:
    """The bytes change between the up-front hash and the parse (an in-place rewrite): the
    parse is of other bytes than the ones registered, so the load fails and rolls back."""
    target = Path(shutil.copy(issuer["M"], tmp_path / "rewritten.xml"))
    data = with_file_identifier(target.read_bytes(), "CHANGING0001")
    target.write_bytes(data)
    real = file_loads.file_digests

    def digests_then_rewrite(source, cuts: tuple[int, ...] = ()):
        digests = real(source, cuts)
        if Path(source.name).name == target.name:  # the loader's open file, named by its path
            with open(target, "r+b") as out:  # same size, one value changed, still valid XML
                out.write(data.replace(b"<recordIdentifier>3<", b"<recordIdentifier>4<", 1))
        return digests

    monkeypatch.setattr(file_loads, "file_digests", digests_then_rewrite)
    loaded = batch([target])
    assert_failed(loaded, reference, "the file changed while it was being loaded")


class _TruncatingReader(load_module.HashingReader):
    """After the parser's first chunk, the file is cut short in place."""

    target = ""

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        if getattr(self.raw, "name", "").endswith(self.target) and not getattr(self, "cut", 0):
            self.cut = 1
            os.truncate(self.raw.name, len(chunk) + 1000)
        return chunk


def test_a_file_truncated_while_read_fails_and_leaves_nothing(
    tmp_path: Path, batch, issuer: dict[str, Path], reference: dict, monkeypatch
) -> None:
    target = Path(shutil.copy(issuer["M"], tmp_path / "shrinking.xml"))
    target.write_bytes(with_file_identifier(target.read_bytes(), "CHANGING0002"))
    assert target.stat().st_size > 3 * 32768  # the parser reads it in several chunks
    _TruncatingReader.target = target.name
    monkeypatch.setattr(load_module, "HashingReader", _TruncatingReader)
    loaded = batch([target])
    assert_failed(loaded, reference, "not well-formed XML")


def test_a_file_replaced_by_rename_while_read_loads_the_bytes_it_hashed(
    tmp_path: Path, batch, issuer: dict[str, Path], reference: dict, monkeypatch
) -> None:
    """An atomic replacement (rename over the path) after the parser opened the file: the
    open file is the old one, so the old bytes load, under the hash that was registered; the
    new file, delivered again, is then refused as a reuse of the fileIdentifier."""
    target = Path(shutil.copy(issuer["E"], tmp_path / "replaced.xml"))
    old = target.read_bytes()
    old_sha = sha256_file(target)
    member = first_member_id(old)
    new = old.replace(member, b"REPLACED" + member[8:], 1)

    class Replacing(load_module.HashingReader):
        done = False

        def read(self, size: int = -1) -> bytes:
            chunk = super().read(size)
            if not Replacing.done and getattr(self.raw, "name", "").endswith(target.name):
                Replacing.done = True
                staged = tmp_path / "staged.tmp"
                staged.write_bytes(new)
                os.replace(staged, target)
            return chunk

    monkeypatch.setattr(load_module, "HashingReader", Replacing)
    loaded = batch([target], good=[issuer["M"], issuer["P"], issuer["S"]])
    assert Replacing.done and target.read_bytes() == new
    result = loaded.bad
    assert result.status == "loaded" and result.sha256 == old_sha
    assert table_counts(loaded.con) == reference  # the old content, which is the E file's
    loaded.con.close()
    monkeypatch.undo()
    (again,) = load_paths([target], tmp_path / "w.duckdb")
    assert again.status == "refused"


# -- outbound reports -------------------------------------------------------------------------

OUTBOUND_NAME = "99999.MH.D01012025T000000.T.xml"
STATUS_ROOT = "fileProcessingResultStatus"
OUTBOUND_ATTACKS = {
    "xxe_local_file": (
        f'<!DOCTYPE {STATUS_ROOT} [<!ENTITY x SYSTEM "file://{{secret}}">]>'
        f'<{STATUS_ROOT} xmlns="http://vo.edge.fm.cms.hhs.gov">&x;</{STATUS_ROOT}>',
        "DOCTYPE",
    ),
    "xxe_network": (
        f'<!DOCTYPE {STATUS_ROOT} [<!ENTITY x SYSTEM "http://127.0.0.1:{{port}}/x">]>'
        f'<{STATUS_ROOT} xmlns="http://vo.edge.fm.cms.hhs.gov">&x;</{STATUS_ROOT}>',
        "DOCTYPE",
    ),
    "external_dtd": (
        f'<!DOCTYPE {STATUS_ROOT} SYSTEM "file://{{fifo}}">'
        f'<{STATUS_ROOT} xmlns="http://vo.edge.fm.cms.hhs.gov"/>',
        "DOCTYPE",
    ),
    "billion_laughs": (
        f'<!DOCTYPE {STATUS_ROOT} [{LAUGHS}]><{STATUS_ROOT} xmlns="http://vo.edge.fm.cms.hhs.gov">'
        f"&l9;</{STATUS_ROOT}>",
        "DOCTYPE",
    ),
    "undeclared_entity": (
        f'<{STATUS_ROOT} xmlns="http://vo.edge.fm.cms.hhs.gov">\n&foo;</{STATUS_ROOT}>',
        "Entity '[3 chars]' not defined",
    ),
    "deep_nesting": (
        f'<{STATUS_ROOT} xmlns="http://vo.edge.fm.cms.hhs.gov">'
        + "<d>" * 10_000
        + "</d>" * 10_000
        + f"</{STATUS_ROOT}>",
        # refused by the structure check at the first <d>, before libxml2's depth limit (256)
        "element d is not expected here",
    ),
    "zero_bytes": ("", "the file is empty (0 bytes)"),
}


@pytest.fixture(scope="module")
def good_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from outbound_support import VERIFIED_AT, Scenario, prepare

    base = tmp_path_factory.mktemp("reports")
    scenario = Scenario("M", "M00000000007")
    con = duckdb.connect()
    prepare(con, base / "inbox", scenario)
    paths = write_phase1_reports(con, scenario.file_identifier, base / "outbox", VERIFIED_AT)
    con.close()
    return paths[0]


@pytest.mark.parametrize("case", list(OUTBOUND_ATTACKS))
def test_hostile_outbound_reports_are_refused_and_recorded(
    tmp_path: Path, good_report: Path, case: str
) -> None:
    template, reason = OUTBOUND_ATTACKS[case]
    with traps(tmp_path) as trap:
        hostile = tmp_path / OUTBOUND_NAME
        hostile.write_text(trap.format(template) if template else "", encoding="utf-8")
        good = Path(shutil.copy(good_report, tmp_path / good_report.name))
        warehouse = tmp_path / "out.duckdb"
        results = run_with_timeout(60, lambda: load_outbound_paths([hostile, good], warehouse))
        trap.assert_untouched()
    assert [r.status for r in results] == ["failed", "loaded"], [r.error for r in results]
    bad = results[0]
    assert reason in bad.error and OUTBOUND_NAME in bad.error, bad.error
    assert bad.seconds < MAX_SECONDS and SECRET not in bad.error
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT file_name, status, error FROM outbound_file ORDER BY outbound_load_id"
        ).fetchall()
        assert rows[0] == (OUTBOUND_NAME, "failed", bad.error)
        assert rows[1][:2] == (good.name, "loaded")
        assert SECRET not in warehouse_text(con)
