"""Benefit-year partitions: the DIY tables are per year, and CMS scores a whole year at once.

The years are the ones the risk model supports (DIY tables shipped for them); a year's
partition scores every issuer and execution zone with enrollment in it (``ScoringRun``).
"""

from __future__ import annotations

import dagster as dg

from edge_pipeline.edge.ra_runs.runs import SUPPORTED_BENEFIT_YEARS

benefit_years = dg.StaticPartitionsDefinition([str(year) for year in SUPPORTED_BENEFIT_YEARS])
