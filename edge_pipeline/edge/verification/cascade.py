"""The rejection cascade of spec section 4, set-based over ``_v_rec`` and ``_v_err``.

Three steps, each a single statement over the whole file:

1. own errors: ``failed_self`` for every record with an error of its own;
2. top-down: a header failure rejects every record; an issuer failure every record of the
   issuer; a plan (M, P, S) or enrollee (E) failure every record below it; in an ESMCS a
   failure of the claim header or of any of its lines rejects the claim and all its lines;
3. bottom-up: a plan or enrollee all of whose children are rejected is rejected, then an
   issuer all of whose plans or enrollees are rejected.  (A parent rejected bottom-up has only
   rejected children, so nothing needs to cascade down again.)

``rejection_reason``: ``own_error`` for a record that failed itself, else the outermost cause
(``header_rejected``, ``issuer_rejected``, ``plan_rejected``/``enrollee_rejected``,
``claim_rejected``), else ``all_children_rejected``.  The contract applies "all children
failed" to plans of all three claim files alike (the spec states it for ESMCS claims).
"""

from __future__ import annotations

import duckdb


def compute_status(con: duckdb.DuckDBPyConnection, layout: str, header_failed: bool) -> None:
    """Create ``_v_status``: every record of ``_v_rec`` with status, failed_self and reason."""
    depth2_reason = "enrollee_rejected" if layout == "ESES" else "plan_rejected"
    claim_group = "TRUE" if layout == "ESMCS" else "FALSE"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _v_status AS
        WITH own AS (
          SELECT DISTINCT level, record_identifier FROM _v_err WHERE record_identifier IS NOT NULL
        ), r AS (
          SELECT v.*, o.record_identifier IS NOT NULL AS failed_self
          FROM _v_rec v LEFT JOIN own o
            ON o.level = v.level AND o.record_identifier = v.record_identifier
        ), failed AS (
          SELECT depth, record_identifier FROM r WHERE failed_self
        ), claims AS (
          SELECT DISTINCT k3 FROM r WHERE failed_self AND depth >= 3
        )
        SELECT r.record_identifier, r.level, r.depth, r.parent_record_identifier, r.record_key,
          r.k1, r.k2, r.k3, r.failed_self,
          CASE
            WHEN {header_failed} THEN 'header_rejected'
            WHEN r.failed_self THEN 'own_error'
            WHEN i.record_identifier IS NOT NULL THEN 'issuer_rejected'
            WHEN r.depth > 2 AND p.record_identifier IS NOT NULL THEN '{depth2_reason}'
            WHEN {claim_group} AND r.depth >= 3 AND c.k3 IS NOT NULL THEN 'claim_rejected'
          END AS rejection_reason
        FROM r
        LEFT JOIN (SELECT DISTINCT record_identifier FROM failed WHERE depth = 1) i ON TRUE
        LEFT JOIN failed p ON p.depth = 2 AND p.record_identifier = r.k2
        LEFT JOIN claims c ON c.k3 = r.k3"""
    )
    for depth in (2, 1):
        con.execute(
            f"""UPDATE _v_status SET rejection_reason = 'all_children_rejected'
            WHERE depth = {depth} AND rejection_reason IS NULL
              AND EXISTS (SELECT 1 FROM _v_status c WHERE c.depth = {depth + 1}
                          AND c.parent_record_identifier = _v_status.record_identifier)
              AND NOT EXISTS (SELECT 1 FROM _v_status c WHERE c.depth = {depth + 1}
                              AND c.parent_record_identifier = _v_status.record_identifier
                              AND c.rejection_reason IS NULL)"""
        )
