"""Synthetic EDGE issuers: deterministic, streaming generation of the four inbound files.

Pure domain code (no Dagster): the CLI, the demo and the tests call it directly.
"""

from __future__ import annotations

from edge_pipeline.edge.synth.bench import write_bench_esmcs
from edge_pipeline.edge.synth.generate import generate_issuer
from edge_pipeline.edge.synth.manifest import FileEntry, Manifest

__all__ = ["FileEntry", "Manifest", "generate_issuer", "write_bench_esmcs"]
