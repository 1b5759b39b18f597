"""Check 1: unlinked supplemental records, recomputed from Phase 1 and compared with RACSD.

A supplemental (ESSFS) record is *linked* when its ``originalClaimIdentifier`` names an active
accepted medical claim (``active_medical_claim``: accepted, neither voided nor replaced) of the
same enrollee, issuer and zone; otherwise EDGE must report it unlinked (R10, RACSD category
``unlinked_supplemental``).  This module recomputes linkage straight from the Phase 1 tables,
independently of claim selection, and lines every accepted ESSFS record of a scoring run up
with its RACSD row (full join on fileIdentifier + recordIdentifier).

The frame GX validates has one row per record, member identifiers are used for the join only
and never selected::

    file_identifier, record_identifier, action (A/D/V), accepted, linked, unlinked,
    in_racsd, racsd_category, racsd_included, racsd_reason_code, racsd_unlinked

Expectations (suite ``unlinked_supplemental_records``):

* ``unlinked`` equals ``racsd_unlinked`` on every row: each accepted record without an active
  claim is R10 in RACSD, and RACSD reports no linked (or unknown) record as R10;
* ``in_racsd`` is true: every accepted ESSFS record is accounted for in RACSD;
* the sum of ``unlinked`` (the unlinked records we count) equals the number of RACSD rows in
  category ``unlinked_supplemental``.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from edge_pipeline.base.warehouse.query import scalar, table_exists
from edge_pipeline.edge.quality.gx_suite import Expect, Frame, QualityCheck, run_suite
from edge_pipeline.edge.ra_runs.runs import ScoringRun

SUITE = "unlinked_supplemental_records"

#: RACSD category and reason of an unlinked supplemental record.
UNLINKED_CATEGORY, UNLINKED_REASON = "unlinked_supplemental", "R10"

#: Columns of the frame (and of the rows in metadata): identifiers, codes and flags only.
FRAME_COLUMNS = (
    "file_identifier",
    "record_identifier",
    "action",
    "accepted",
    "linked",
    "unlinked",
    "in_racsd",
    "racsd_category",
    "racsd_included",
    "racsd_reason_code",
    "racsd_unlinked",
)

#: Columns of the unlinked-record list the check's metadata carries.
UNLINKED_COLUMNS = ("file_identifier", "record_identifier", "action", "racsd_reason_code")

# Accepted = the record's file and the record itself accepted by the Phase 1 shadow (ESSFS is
# incremental: every accepted record of the issuer and zone stays stored).
_FRAME_SQL = f"""
WITH accepted AS (
  SELECT t.file_identifier, t.record_identifier,
    upper(trim(t.add_delete_void_code)) AS action,
    EXISTS (
      SELECT 1 FROM active_medical_claim m
      WHERE m.issuer_id = f.issuer_id AND m.execution_zone = f.execution_zone
        AND m.member_id = t.insured_member_identifier
        AND m.claim_identifier = nullif(trim(t.original_claim_identifier), '')
    ) AS linked
  FROM supplemental_record t
  JOIN shadow_file_status f ON f.file_identifier = t.file_identifier AND f.status = 'A'
    AND f.submission_type = 'S'
  JOIN shadow_record_status s ON s.load_id = f.load_id AND s.level = 'supplemental'
    AND s.record_identifier = t.record_identifier AND s.status = 'A'
  WHERE f.issuer_id = $issuer AND f.execution_zone = $zone
), racsd AS (
  SELECT file_identifier, record_identifier, category, included, reason_code
  FROM reported_ra_claim_selection
  WHERE benefit_year = $year AND issuer_id = $issuer AND execution_zone = $zone
    AND record_kind = 'supplemental'
)
SELECT coalesce(a.file_identifier, r.file_identifier) AS file_identifier,
  coalesce(a.record_identifier, r.record_identifier) AS record_identifier,
  a.action,
  a.file_identifier IS NOT NULL AS accepted,
  coalesce(a.linked, FALSE) AS linked,
  a.file_identifier IS NOT NULL AND NOT a.linked AS unlinked,
  r.file_identifier IS NOT NULL AS in_racsd,
  r.category AS racsd_category, r.included AS racsd_included, r.reason_code AS racsd_reason_code,
  coalesce(r.reason_code = '{UNLINKED_REASON}', FALSE) AS racsd_unlinked
FROM accepted a
FULL JOIN racsd r ON r.file_identifier = a.file_identifier
  AND r.record_identifier = a.record_identifier
ORDER BY file_identifier, record_identifier
"""


def _params(run: ScoringRun) -> dict[str, object]:
    return {"year": run.benefit_year, "issuer": run.issuer_id, "zone": run.execution_zone}


def unlinked_frame(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> pd.DataFrame:
    """One row per accepted ESSFS record of the run's issuer and zone and per RACSD
    supplemental row of the run (columns :data:`FRAME_COLUMNS`; no member data)."""
    frame = con.sql(_FRAME_SQL, params=_params(run)).df()
    return frame[list(FRAME_COLUMNS)].reset_index(drop=True)


def racsd_unlinked_count(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> int:
    """Rows of the run's RACSD in category ``unlinked_supplemental``."""
    return int(
        scalar(
            con,
            "SELECT count(*) FROM reported_ra_claim_selection WHERE benefit_year = $year "
            f"AND issuer_id = $issuer AND execution_zone = $zone "
            f"AND category = '{UNLINKED_CATEGORY}'",
            _params(run),
        )
        or 0
    )


def unlinked_expectations(racsd_count: int) -> list[Expect]:
    """The suite: per-record agreement, completeness, and the count of the category."""
    return [
        Expect(
            "expect_column_pair_values_to_be_equal",
            {"column_A": "unlinked", "column_B": "racsd_unlinked"},
            "an accepted ESSFS record is unlinked (no active accepted ESMCS claim of the same "
            "enrollee) exactly when RACSD reports it as R10",
        ),
        Expect(
            "expect_column_values_to_be_in_set",
            {"column": "in_racsd", "value_set": [True]},
            "every accepted ESSFS record appears in RACSD",
        ),
        Expect(
            "expect_column_sum_to_be_between",
            {"column": "unlinked", "min_value": racsd_count, "max_value": racsd_count},
            f"the unlinked records counted here equal RACSD's {UNLINKED_CATEGORY} category "
            f"({racsd_count})",
        ),
    ]


def check_unlinked_supplemental(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> QualityCheck:
    """Run the suite for one scoring run; ``rows`` lists every unlinked record we computed
    (fileIdentifier, recordIdentifier, action, what RACSD said)."""
    for table in ("supplemental_record", "shadow_file_status", "reported_ra_claim_selection"):
        if not table_exists(con, table):
            raise LookupError(f"{run.label}: table {table} is missing (load and verify first)")
    frame = unlinked_frame(con, run)
    expected = racsd_unlinked_count(con, run)
    outcome = run_suite(SUITE, Frame("records", frame, unlinked_expectations(expected)))
    unlinked = frame[frame["unlinked"]][list(UNLINKED_COLUMNS)]
    rows = [
        {c: (None if pd.isna(v) else v) for c, v in row.items()}
        for row in unlinked.astype(object).to_dict("records")
    ]
    for row in rows:
        row["record_identifier"] = int(row["record_identifier"])
    return QualityCheck(run.label, outcome, rows)
