"""``run_verify_benchmark``: shadow verification throughput next to plain ingest of the same files.

Why the comparison: verification runs after every load, so it should not cost much more than
the load itself (target: within 2x of ingest time).  One synthetic issuer is generated, loaded
(timed), its reference tables loaded (timed separately: once per deployment, not per file) and
every file verified in load order (timed).  Prints the figures; returns a CLI exit code.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from edge_pipeline.base.warehouse.connection import connect
from edge_pipeline.edge.synth import generate_issuer
from edge_pipeline.edge.verification.engine import verify_all
from edge_pipeline.edge.verification.reference_tables import load_reference_tables
from edge_pipeline.edge.warehouse.load import load_paths

#: Verification may take at most this multiple of the ingest time of the same files.
TARGET_RATIO = 2.0


def run_verify_benchmark(
    workdir: Path | str = "bench/verify", enrollees: int = 30_000, seed: int = 7
) -> int:
    """Generate, load and verify one issuer; print records/s of ingest and of verification.

    Returns 0 once it has run: like every benchmark here, it prints figures and a PASS/FAIL
    verdict against ``TARGET_RATIO`` rather than failing a build on a timing.
    """
    workdir = Path(workdir)
    out, warehouse = workdir / "issuer", workdir / "warehouse.duckdb"
    shutil.rmtree(out, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    print(f"EDGE verification benchmark: {enrollees} enrollees, seed {seed}, in {workdir}")
    started = time.perf_counter()
    manifest = generate_issuer(out, enrollees, seed=seed, error_rate=0.01)
    print(f"  generated {len(manifest.files)} files in {time.perf_counter() - started:.1f} s")
    claims_mb = (
        max((out / f.path).stat().st_size for f in manifest.files if f.submission_type == "M")
        / 2**20
    )
    print(f"  largest ESMCS      {claims_mb:>10.1f} MB (with its enrollment, plans and codes)")

    started = time.perf_counter()
    loads = load_paths([out], warehouse)
    ingest = time.perf_counter() - started
    records = sum(r.records for r in loads)

    con = connect(warehouse)
    try:
        started = time.perf_counter()
        load_reference_tables(con, out / manifest.plan_registry, [out])
        references = time.perf_counter() - started
        started = time.perf_counter()
        results = verify_all(con)
        verify = time.perf_counter() - started
    finally:
        con.close()

    ratio = verify / ingest if ingest else float("inf")
    rejected = sum(v for r in results for k, v in r.rejected.items() if k != "file")
    print(f"  records            {records:>12,}")
    print(f"  ingest             {ingest:>10.2f} s   {records / ingest:>12,.0f} records/s")
    print(f"  verification       {verify:>10.2f} s   {records / verify:>12,.0f} records/s")
    print(f"  reference tables   {references:>10.2f} s   (once per deployment)")
    print(f"  rejected records   {rejected:>12,}")
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(f"  verification / ingest = {ratio:.2f} (target <= {TARGET_RATIO:.1f}): {verdict}")
    return 0  # it ran; the verdict above is the figure that matters
