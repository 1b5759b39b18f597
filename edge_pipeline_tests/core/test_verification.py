"""Shadow verification of generated issuers against the generator's answer key (manifest.json).

The files go through the real loader into a real DuckDB and are verified in load order.  The
manifest lists every injected defect with its record, element, check kind and cascade effect;
the generator guarantees no collateral rejection.  So the shadow must report every defect where
the manifest says, reject exactly the records the listed effects imply, and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import duckdb
import pytest

from edge_pipeline.edge.synth import Manifest, generate_issuer
from edge_pipeline.edge.synth.inject_claims import (
    esmcs_injectors,
    espcs_injectors,
    essfs_injectors,
)
from edge_pipeline.edge.synth.inject_enrollment import eses_injectors
from edge_pipeline.edge.verification import load_reference_tables, verify_all
from edge_pipeline.edge.verification.engine import verify_file
from edge_pipeline.edge.warehouse.load import load_paths

#: (enrollees, seed, error rate): a sparse run, and a dense one that hits every defect variant.
RUNS = {"sparse": (300, 11, 0.05), "dense": (800, 2, 0.5)}
Run = tuple[Manifest, duckdb.DuckDBPyConnection]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    found: dict[str, Run] = {}
    for name, (enrollees, seed, rate) in RUNS.items():
        out = tmp_path_factory.mktemp(f"issuer_{name}")
        manifest = generate_issuer(out, enrollees, seed=seed, error_rate=rate)
        warehouse = out / "warehouse.duckdb"
        loads = load_paths([out], warehouse)
        assert all(r.status == "loaded" for r in loads), [r.error for r in loads]
        con = duckdb.connect(str(warehouse))
        load_reference_tables(con, out / manifest.plan_registry, [out])
        verify_all(con)
        found[name] = (manifest, con)
    yield found
    for _, con in found.values():
        con.close()


@pytest.fixture(params=sorted(RUNS))
def run(request: pytest.FixtureRequest, runs: dict[str, Run]) -> Run:
    return runs[request.param]


def _tree(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict, dict]:
    """Records per file, children per (file, record) and parent per (file, record)."""
    records: dict[str, set[int]] = defaultdict(set)
    children: dict[tuple[str, int], list[int]] = defaultdict(list)
    parent: dict[tuple[str, int], int] = {}
    for fid, rid, par in con.execute(
        "SELECT file_identifier, record_identifier, parent_record_identifier "
        "FROM shadow_record_status"
    ).fetchall():
        records[fid].add(rid)
        if par is not None:
            children[(fid, par)].append(rid)
            parent[(fid, rid)] = par
    return records, children, parent


def _expected_rejections(manifest: Manifest, con: duckdb.DuckDBPyConnection) -> set[tuple]:
    """(file, record) pairs the manifest's expected effects reject (spec section 4)."""
    records, children, parent = _tree(con)

    def subtree(fid: str, rid: int) -> set[tuple[str, int]]:
        found = {(fid, rid)}
        for child in children[(fid, rid)]:
            found |= subtree(fid, child)
        return found

    expected: set[tuple[str, int]] = set()
    for d in manifest.defects:
        fid, rid, effect = d.file_identifier, d.record_identifier, d.expected_effect
        if effect in ("file_rejected", "issuer_rejected"):
            expected |= {(fid, r) for r in records[fid]}
        elif effect == "plan_rejected":
            expected |= subtree(fid, rid)
        elif effect == "enrollee_rejected":
            expected |= subtree(fid, rid if d.level == "enrollee" else parent[(fid, rid)])
        elif effect == "claim_rejected":
            expected |= subtree(fid, rid if d.level == "claim" else parent[(fid, rid)])
        else:
            assert effect == "record_rejected"
            expected.add((fid, rid))
    return expected


def test_every_defect_is_reported_where_the_manifest_says(run) -> None:
    manifest, con = run
    errors = {
        tuple(row)
        for row in con.execute(
            "SELECT file_identifier, record_identifier, level, element, check_kind "
            "FROM shadow_record_error"
        ).fetchall()
    }
    missing = [
        (d.variant, d.file, d.record_identifier, d.element)
        for d in manifest.defects
        if (d.file_identifier, d.record_identifier, d.level, d.element, d.check) not in errors
    ]
    assert manifest.defects and not missing


def test_exactly_the_cascade_of_the_listed_defects_is_rejected(run) -> None:
    manifest, con = run
    rejected = set(
        con.execute(
            "SELECT file_identifier, record_identifier FROM shadow_record_status WHERE status = 'R'"
        ).fetchall()
    )
    expected = _expected_rejections(manifest, con)
    assert sorted(expected - rejected) == [], "listed defects whose records were accepted"
    assert sorted(rejected - expected) == [], "clean records rejected"


def test_errors_sit_only_on_records_named_in_the_manifest(run) -> None:
    manifest, con = run
    named = {(d.file_identifier, d.record_identifier) for d in manifest.defects}
    stray = [
        row
        for row in con.execute(
            "SELECT file_identifier, record_identifier, error_code FROM shadow_record_error"
        ).fetchall()
        if (row[0], row[1]) not in named
    ]
    assert stray == []


def test_file_status_follows_the_file_level_effects(run) -> None:
    manifest, con = run
    status = dict(con.execute("SELECT file_identifier, status FROM shadow_file_status").fetchall())
    assert len(status) == len(manifest.files)
    for entry in manifest.files:
        expected = "R" if entry.expected_effect == "file_rejected" else "A"
        assert status[entry.file_identifier] == expected, entry.path


def test_every_record_of_every_file_has_a_status_and_levels_conserve(run) -> None:
    manifest, con = run
    for entry in manifest.files:
        rows = dict(
            con.execute(
                "SELECT level, count(*) FROM shadow_record_status WHERE file_identifier = ? "
                "GROUP BY level",
                [entry.file_identifier],
            ).fetchall()
        )
        assert sum(rows.values()) == entry.records, entry.path
        summary = con.execute(
            "SELECT level, received, accepted, rejected FROM shadow_level_summary "
            "WHERE file_identifier = ?",
            [entry.file_identifier],
        ).fetchall()
        for level, received, accepted, rejected in summary:
            assert received == accepted + rejected
            assert received == (1 if level == "file" else rows[level])


def test_the_dense_run_covers_every_defect_variant(runs: dict[str, Run]) -> None:
    """The answer key is only as good as its coverage: every variant appears."""
    variants = {
        (kind, injector.variant)
        for kind, injectors in (
            ("E", eses_injectors),
            ("M", esmcs_injectors),
            ("P", espcs_injectors),
            ("S", essfs_injectors),
        )
        for injector in injectors()
    }
    manifest, _ = runs["dense"]
    seen = {(d.file.split(".")[1], d.variant) for d in manifest.defects}
    assert variants - seen == set()


def test_verifying_before_anything_was_ingested_names_the_file(tmp_path) -> None:
    """A fresh warehouse (no ``submission_file`` yet) gives the same clear "never loaded" error
    as an unknown file, which the Dagster asset turns into "ingest it first"."""
    with (
        duckdb.connect(str(tmp_path / "fresh.duckdb")) as con,
        pytest.raises(KeyError, match="file 12345E000001 was never loaded"),
    ):
        verify_file(con, "12345E000001")
