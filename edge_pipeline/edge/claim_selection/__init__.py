"""RA claim selection (spec section 6) and the scoring inputs, as set-based DuckDB SQL.

Pure domain code (no Dagster).  Typical use, after Phase 1 verification::

    result = select_claims(con, benefit_year=2025, issuer_id="12345", execution_zone="P")

writes the run's rows of ``shadow_ra_claim_selection`` (RACSD: one row per active medical
claim, active pharmacy claim and accepted supplemental record, with the first failing rule of
R01-R14), ``ra_enrollee_month``, ``ra_enrollee``, ``ra_diagnosis`` and ``ra_drug_code``
(docs/phase2-contract.md).
The rules are data in ``rules.py``; DIY tables 2 and 10a are loaded as ``ra_ref_service_code``
and ``ra_ref_ndc`` (``eligible_codes.py``).
"""

from __future__ import annotations

from edge_pipeline.edge.claim_selection.eligible_codes import load_eligible_codes
from edge_pipeline.edge.claim_selection.enrollees import enrollment_months
from edge_pipeline.edge.claim_selection.rules import ALL_RULES, BY_CODE, EDGE_RULES, Rule
from edge_pipeline.edge.claim_selection.select import (
    OUTPUT_TABLES,
    SelectionInputsMissing,
    SelectionResult,
    select_claims,
)

__all__ = [
    "ALL_RULES",
    "BY_CODE",
    "EDGE_RULES",
    "OUTPUT_TABLES",
    "Rule",
    "SelectionInputsMissing",
    "SelectionResult",
    "enrollment_months",
    "load_eligible_codes",
    "select_claims",
]
