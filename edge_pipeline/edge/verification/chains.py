"""Replacements and voids: does the record named in the reference element exist, and may it be
replaced or voided?

Why not a plain rule: a replacement may name a claim earlier in the SAME file, which is stored
only if it was accepted, which may itself depend on the claim it replaces (chains A <- B <- C).
The EDGE server processes records in document order; the set-based equivalent resolves the
successors of a file in rounds: a successor is decided once the record it names is decided
(stored in an earlier file, or decided earlier in this file).  Each round is one SQL statement
over all decidable successors, so the number of rounds is the longest chain in the file, not
the number of records.

A successor fails when:
* it names no stored record (none accepted in an earlier file, and none earlier in this file
  without errors of its own -- for an ESMCS claim, of its header or any of its lines);
* it names a record of another enrollee;
* it is not processed later than the record it names;
* the record it names is a void, or was already replaced or voided (by a stored successor, an
  earlier successor of this file, or -- among successors decided together -- the one with
  the lowest recordIdentifier).

In-file predecessors count as stored when they have no error of their own; the plan and issuer
cascade is not applied to them (a replacement sits in the same plan as the claim it replaces).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from edge_pipeline.edge.sql import as_timestamp, lit, present
from edge_pipeline.edge.verification.catalog import entry


@dataclass(frozen=True)
class ChainSpec:
    """Columns and catalog codes of one file type's successor resolution."""

    table: str
    level: str
    key: str
    reference: str
    code: str
    successor_codes: tuple[str, ...]
    member: str
    processed: str
    stored_sql: str  # key, member_id, processed, code, superseded of earlier files' records
    no_target: str
    not_later: str
    superseded: str
    other_member: str
    #: Error codes on the reference element that skip the resolution (ESSFS rule).
    skip_codes: tuple[str, ...] = ()


_STORED_CLAIMS = (
    "SELECT claim_identifier AS key, member_id, processed, void_replace_code AS code, "
    "superseded FROM _v_stored"
)

CHAINS: dict[str, ChainSpec] = {
    "ESMCS": ChainSpec(
        "medical_claim", "claim", "claim_identifier", "original_claim_identifier",
        "void_replace_code", ("R", "V"), "insured_member_identifier",
        "claim_processed_datetime", _STORED_CLAIMS, "M403", "M404", "M405", "M416",
    ),
    "ESPCS": ChainSpec(
        "pharmacy_claim", "claim", "claim_identifier", "original_claim_identifier",
        "void_replace_code", ("R", "V"), "insured_member_identifier",
        "claim_processed_datetime", _STORED_CLAIMS, "P403", "P404", "P405", "P410",
    ),
    "ESSFS": ChainSpec(
        "supplemental_record", "supplemental", "supplemental_diagnosis_detail_record_identifier",
        "original_supplemental_detail_id", "add_delete_void_code", ("V",),
        "insured_member_identifier", "detail_record_processed_datetime",
        "SELECT detail_id AS key, member_id, processed, code, superseded FROM _v_stored_supp",
        "S403", "S404", "S407", "S409", skip_codes=("S206",),
    ),
}  # fmt: skip

#: Guard against a malformed state (cannot happen: a successor only waits for an earlier one).
_MAX_ROUNDS = 1000


def resolve_chains(con: duckdb.DuckDBPyConnection, layout: str, fid: str) -> int:
    """Add the successor errors of file ``fid`` to ``_v_err``; returns the rounds taken."""
    spec = CHAINS.get(layout)
    if spec is None:
        return 0
    skip = ", ".join(lit(code) for code in spec.skip_codes) or "NULL"
    successor_codes = ", ".join(lit(code) for code in spec.successor_codes)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _v_chain AS
        SELECT t.record_identifier AS rid, t.{spec.key} AS key, t.{spec.reference} AS ref,
          t.{spec.code} AS code, t.{spec.member} AS member_id, t.{spec.processed} AS processed_text,
          {as_timestamp(f"t.{spec.processed}")} AS processed,
          (t.{spec.code} IN ({successor_codes}) AND {present(f"t.{spec.reference}")}
           AND sk.rid IS NULL) AS successor,
          fc.rid IS NOT NULL AS failed, CAST(NULL AS VARCHAR) AS state
        FROM {spec.table} t
        LEFT JOIN (SELECT DISTINCT r.k3 AS rid FROM _v_err e JOIN _v_rec r
                   ON r.level = e.level AND r.record_identifier = e.record_identifier
                   WHERE r.depth >= 3) fc ON fc.rid = t.record_identifier
        LEFT JOIN (SELECT DISTINCT record_identifier AS rid FROM _v_err
                   WHERE error_code IN ({skip})) sk ON sk.rid = t.record_identifier
        WHERE t.file_identifier = $fid""",
        {"fid": fid},
    )
    con.execute(
        "UPDATE _v_chain SET state = CASE WHEN failed THEN 'fail' ELSE 'ok' END WHERE NOT successor"
    )
    rounds = 0
    while rounds < _MAX_ROUNDS:
        con.execute(_round_sql(spec))
        decided = con.execute("SELECT count(*) FROM _v_round").fetchall()[0][0]
        if decided == 0:
            break
        rounds += 1
        _record_errors(con, spec)
        con.execute(
            "UPDATE _v_chain SET state = r.state FROM _v_round r WHERE _v_chain.rid = r.rid"
        )
    con.execute("DROP TABLE IF EXISTS _v_round")
    con.execute("DROP TABLE IF EXISTS _v_chain")
    return rounds


def _round_sql(spec: ChainSpec) -> str:
    """The successors decidable now, with their target and the failures found."""
    return f"""CREATE OR REPLACE TEMP TABLE _v_round AS
    WITH pending AS (SELECT * FROM _v_chain WHERE state IS NULL),
    earlier AS (
      SELECT p.rid, min(c.rid) AS target_rid FROM pending p
      JOIN _v_chain c ON c.key = p.ref AND c.rid < p.rid GROUP BY p.rid
    ),
    cand AS (
      SELECT p.*, c.state AS t_state, c.member_id AS t_member, c.processed AS t_processed,
        c.code AS t_code, st.key IS NOT NULL AS t_stored, st.member_id AS s_member,
        st.processed AS s_processed, st.code AS s_code, st.superseded AS s_superseded
      FROM pending p
      LEFT JOIN earlier e ON e.rid = p.rid
      LEFT JOIN _v_chain c ON c.rid = e.target_rid
      LEFT JOIN ({spec.stored_sql}) st ON st.key = p.ref
      WHERE e.target_rid IS NULL OR c.state IS NOT NULL OR st.key IS NOT NULL
    ),
    judged AS (
      SELECT cand.*,
        t_stored OR coalesce(t_state = 'ok', FALSE) AS has_target,
        CASE WHEN t_stored THEN s_member ELSE t_member END AS target_member,
        CASE WHEN t_stored THEN s_processed ELSE t_processed END AS target_processed,
        CASE WHEN t_stored THEN s_code ELSE t_code END AS target_code,
        coalesce(t_stored AND s_superseded, FALSE) OR EXISTS (
          SELECT 1 FROM _v_chain u WHERE u.successor AND u.state = 'ok'
            AND u.ref = cand.ref AND u.rid < cand.rid) AS superseded_before
      FROM cand
    ),
    flagged AS (
      SELECT *, NOT has_target AS e_no_target,
        has_target AND target_member IS DISTINCT FROM member_id AS e_other_member,
        has_target AND coalesce(processed <= target_processed, FALSE) AS e_not_later,
        has_target AND (target_code = 'V' OR superseded_before) AS e_superseded
      FROM judged
    ),
    ranked AS (
      SELECT *, NOT (failed OR e_no_target OR e_other_member OR e_not_later OR e_superseded)
        AS pre_ok FROM flagged
    )
    SELECT rid, ref, processed_text, e_no_target, e_other_member, e_not_later,
      e_superseded OR (pre_ok AND row_number() OVER (
        PARTITION BY ref, pre_ok ORDER BY rid) > 1) AS e_superseded_any,
      CASE WHEN pre_ok AND row_number() OVER (PARTITION BY ref, pre_ok ORDER BY rid) = 1
        THEN 'ok' ELSE 'fail' END AS state
    FROM ranked"""


def _record_errors(con: duckdb.DuckDBPyConnection, spec: ChainSpec) -> None:
    for code, flag, value in (
        (spec.no_target, "e_no_target", "ref"),
        (spec.other_member, "e_other_member", "ref"),
        (spec.not_later, "e_not_later", "processed_text"),
        (spec.superseded, "e_superseded_any", "ref"),
    ):
        item = entry(code)
        con.execute(
            f"INSERT INTO _v_err SELECT rid, {lit(spec.level)}, {lit(code)}, "
            f"{lit(item.element)}, {value} FROM _v_round WHERE {flag}"
        )
