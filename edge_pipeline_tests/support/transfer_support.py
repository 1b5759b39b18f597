"""Test support for the transfer: an independent implementation of the spec section 8 formula,
a test warehouse verified and scored, and a synthetic issuer run through the real pipeline up
to the transfer estimate.

Shared by the hand-built tests (``test_transfer_rows.py``, ``test_transfer_ratee_rules.py``,
``test_transfer_families.py``) and the synthetic ones (``test_transfer_synth.py``,
``test_transfer_recompute.py``), so each is written once.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import record_builders

from edge_pipeline.edge.claim_selection import select_claims
from edge_pipeline.edge.ra_runs.runs import ScoringRun
from edge_pipeline.edge.risk.run_scores import score_run
from edge_pipeline.edge.synth import Manifest
from edge_pipeline.edge.transfer import (
    TransferEstimate,
    compute_transfer_elements,
    estimate_transfers,
)
from edge_pipeline.edge.verification import load_reference_tables, verify_all
from edge_pipeline.edge.warehouse.load import load_paths

YEAR = record_builders.YEAR


def verify_and_score(con: duckdb.DuckDBPyConnection, issuer_id: str, zone: str) -> ScoringRun:
    """Phase 1 over every loaded file (reference tables loaded), then RA claim selection and
    scoring of ``YEAR`` for the issuer: the scoring run."""
    verify_all(con)
    select_claims(con, YEAR, issuer_id, zone)
    run = ScoringRun(YEAR, issuer_id, zone)
    score_run(con, run)
    return run


def run_to_transfer(
    issuer: Path, manifest: Manifest, warehouse: Path
) -> tuple[duckdb.DuckDBPyConnection, ScoringRun, TransferEstimate]:
    """The generated ``issuer`` (its folder and manifest) loaded into ``warehouse``, verified,
    selected, scored, its RATEE computed with its ``gcf.csv`` and its transfer estimated with
    its ``market_pool.csv``: the open connection, the scoring run and the estimate."""
    load_paths(sorted(issuer.glob("*.xml")), warehouse)
    con = duckdb.connect(str(warehouse))
    load_reference_tables(con, issuer / "plan_registry.csv", [issuer])
    run = verify_and_score(con, manifest.issuer_id, manifest.execution_zone)
    compute_transfer_elements(con, run, gcf_path=issuer / "gcf.csv")
    return con, run, estimate_transfers(con, run, market_path=issuer / "market_pool.csv")


#: Spec section 8: IDF and AV by metal (written out again here, not imported from the project).
IDF_AV = {
    "platinum": (Fraction("1.15"), Fraction("0.90")),
    "gold": (Fraction("1.08"), Fraction("0.80")),
    "silver": (Fraction("1.03"), Fraction("0.70")),
    "bronze": (Fraction("1.00"), Fraction("0.60")),
    "catastrophic": (Fraction("1.00"), Fraction("0.57")),
}


def reference(rows: list[dict[str, Any]]) -> list[Fraction]:
    """Spec section 8 in exact fractions: the transfer of each row of one pool.  Each row has
    ``metal``, ``bmm``, ``plrs``, ``arf``, ``gcf`` and ``premium`` (PMPM)."""
    bmm = [Fraction(r["bmm"]) for r in rows]
    total = sum(bmm)
    share = [b / total for b in bmm]
    premium = sum(s * Fraction(r["premium"]) for s, r in zip(share, rows, strict=True))
    risk, rating = [], []
    for r in rows:
        idf, av = IDF_AV[r["metal"]]
        risk.append(Fraction(r["plrs"]) * idf * Fraction(r["gcf"]))
        rating.append(av * Fraction(r["arf"]) * idf * Fraction(r["gcf"]))
    risk_mean = sum(s * x for s, x in zip(share, risk, strict=True))
    rating_mean = sum(s * x for s, x in zip(share, rating, strict=True))
    return [
        (x / risk_mean - y / rating_mean) * Fraction("0.86") * premium * b
        for x, y, b in zip(risk, rating, bmm, strict=True)
    ]
