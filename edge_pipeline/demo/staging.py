"""What the demo puts in place before any run: the synthetic issuer's files in the inbox, a
stray file that is not a submission beside them, its reference files in the issuer folder, and
no leftovers of an earlier demo.

Only what an earlier demo wrote is removed: files someone else dropped in the inbox or the
outbox are left alone.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from edge_pipeline.demo.paths import BENEFIT_YEAR, DEMO_FILES_RECORD, DemoPaths
from edge_pipeline.demo.simulated_edge import SIMULATED_EDGE_DIR


@dataclass
class StagedIssuer:
    """What the demo put in the inbox, and what the previous demo had put there."""

    notes: dict[str, str]  # file name -> summary note (empty for the four submissions)
    identifiers: dict[str, str]  # file name -> fileIdentifier
    previous_identifiers: set[str]


def stage_synthetic_issuer(
    paths: DemoPaths, enrollees: int, seed: int, error_rate: float
) -> StagedIssuer:
    """Generate the issuer into ``synthetic`` and move its XML files into the inbox.

    The manifest and plan registry stay in ``synthetic``: only ``*.xml`` in the inbox is
    ingested.  The previous demo's inbox files are removed first, so a re-run is idempotent;
    files someone else dropped in the inbox are left alone.  A non-zero ``error_rate`` adds
    extra files with file-level defects; their note says what EDGE would do with them.
    """
    from edge_pipeline.edge.synth.generate import generate_issuer

    record = paths.synthetic / DEMO_FILES_RECORD
    previous: dict[str, str] = {}
    if record.exists():
        loaded = json.loads(record.read_text())
        previous = loaded if isinstance(loaded, dict) else {}
        for name in previous:
            (paths.inbox / Path(name).name).unlink(missing_ok=True)
    shutil.rmtree(paths.synthetic, ignore_errors=True)
    paths.synthetic.mkdir(parents=True)
    paths.inbox.mkdir(parents=True, exist_ok=True)

    manifest = generate_issuer(
        paths.synthetic,
        enrollees=enrollees,
        seed=seed,
        error_rate=error_rate,
        benefit_year=BENEFIT_YEAR,
    )
    staged = StagedIssuer(notes={}, identifiers={}, previous_identifiers=set(previous.values()))
    for entry in manifest.files:
        source = paths.synthetic / entry.path  # manifest paths are relative to the output dir
        shutil.move(source, paths.inbox / source.name)
        staged.identifiers[source.name] = entry.file_identifier
        staged.notes[source.name] = (
            "" if entry.role == "submission" else f"defect file, EDGE: {entry.expected_effect}"
        )
    record.write_text(json.dumps(staged.identifiers, indent=2, sort_keys=True) + "\n")
    return staged


#: The stray file the demo drops in the inbox beside the issuer's submissions, as a real inbox
#: gets them: an XML export of another system (another root element), named plainly.  It is not
#: a submission, so it gets no partition and is recorded as refused (``refused_inbound_files``).
STRAY_FILE = "plan_directory_export.xml"
_STRAY_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Not an EDGE submission: a plan directory exported by another system. -->
<planDirectoryExport exported="2025-01-01">
  <plan id="99810NC0010001" metal="platinum"/>
  <plan id="99810NC0010002" metal="gold"/>
</planDirectoryExport>
"""


def stage_stray_file(inbox: Path) -> Path:
    """Put :data:`STRAY_FILE` in the inbox (the same bytes every demo; rewritten only when
    they differ, so an unchanged file keeps its name, mtime and size)."""
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / STRAY_FILE
    if not path.is_file() or path.read_text() != _STRAY_CONTENT:
        path.write_text(_STRAY_CONTENT)
    return path


def forget_superseded_demo_loads(paths: DemoPaths, staged: StagedIssuer) -> int:
    """Remove an earlier demo's loads that this demo's files would collide with.

    The generator derives fileIdentifiers from the seed, so a demo with other parameters (or
    after a generator change) produces different bytes under identifiers already loaded, and
    the loader rightly refuses a reused identifier.  Only identifiers the previous demo itself
    staged, and only when their loaded bytes differ from this demo's file, are removed: a
    re-run with the same parameters still shows the loader's "unchanged" path, and nothing
    that did not come from the demo is touched.
    """
    from edge_pipeline.base.digest import sha256_file
    from edge_pipeline.defs.resources import warehouse_resource
    from edge_pipeline.edge.warehouse.forget import forget_files
    from edge_pipeline.edge.warehouse.schema import ensure_schema

    if not staged.previous_identifiers or not paths.warehouse.exists():
        return 0
    current = {
        staged.identifiers[name]: sha256_file(paths.inbox / name) for name in staged.identifiers
    }
    with warehouse_resource(paths.warehouse).get_connection() as con:
        ensure_schema(con)
        loaded = con.execute(
            "SELECT DISTINCT file_identifier, sha256 FROM submission_file WHERE status = 'loaded'"
        ).fetchall()
        stale = sorted(
            {
                fid
                for fid, sha in loaded
                if fid in staged.previous_identifiers and current.get(fid) != sha
            }
        )
        forget_files(con, stale)
    return len(stale)


def stage_issuer_reference(synthetic: Path, issuer: Path) -> list[str]:
    """Copy the generator's plan registry, code lists and transfer settings (GCF, market file)
    into the issuer folder (what an issuer deployment configures); returns the names copied."""
    from edge_pipeline.defs.phase2.resources import GCF_FILE, MARKET_FILE
    from edge_pipeline.defs.reference.resources import CODE_LIST_GLOB, PLAN_REGISTRY_FILE

    issuer.mkdir(parents=True, exist_ok=True)
    for stale in [*issuer.glob(CODE_LIST_GLOB), issuer / GCF_FILE, issuer / MARKET_FILE]:
        stale.unlink(missing_ok=True)
    copied = []
    settings = [synthetic / name for name in (GCF_FILE, MARKET_FILE) if (synthetic / name).exists()]
    for source in [
        synthetic / PLAN_REGISTRY_FILE,
        *sorted(synthetic.glob(CODE_LIST_GLOB)),
        *settings,
    ]:
        shutil.copyfile(source, issuer / source.name)
        copied.append(source.name)
    return copied


def clean_phase1_outputs(shadow_reports: Path, outbox: Path, identifiers: set[str]) -> None:
    """Remove what an earlier demo wrote: the shadow report folders of its files and the
    simulated EDGE server's outbox folder.  Nothing else in either folder is touched."""
    from edge_pipeline.base.folders import partition_folder_name

    for fid in identifiers:
        shutil.rmtree(shadow_reports / partition_folder_name(fid), ignore_errors=True)
    shutil.rmtree(outbox / SIMULATED_EDGE_DIR, ignore_errors=True)
