"""``select_claims``: RA claim selection and the scoring inputs of one scoring run.

Reads the Phase 1 warehouse (``active_enrollment``, the active-claim views, accepted ESSFS
records, ``ref_plan``) and DIY tables 2 and 10a of the benefit year, and replaces the run's
rows of ``shadow_ra_claim_selection``, ``ra_enrollee_month``, ``ra_enrollee``, ``ra_diagnosis``,
``ra_drug_code`` and the ECD/ECS shadow (``enrollee_claims.py``) in one transaction: a failure leaves the previous selection intact, and running twice gives the
same rows.  Logs carry counts only, never member data.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import duckdb

from edge_pipeline.base.warehouse.query import first_row
from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.claim_selection.drug_codes import drug_code_sql
from edge_pipeline.edge.claim_selection.eligible_codes import load_eligible_codes
from edge_pipeline.edge.claim_selection.enrollee_claims import (
    ENROLLEE_CLAIMS_TABLES,
    enrollee_claims_sql,
)
from edge_pipeline.edge.claim_selection.enrollees import enrollee_month_sql, enrollee_sql
from edge_pipeline.edge.claim_selection.facts import build_enrollment, build_medical, build_pharmacy
from edge_pipeline.edge.claim_selection.rules import (
    MEDICAL,
    PHARMACY,
    SUPPLEMENTAL,
    category_case,
)
from edge_pipeline.edge.claim_selection.run import Run, drop_temp
from edge_pipeline.edge.claim_selection.supplemental import build_supplemental, diagnosis_sql
from edge_pipeline.edge.ra_runs.schema import delete_run, ensure_phase2_schema
from edge_pipeline.edge.sql import lit

log = logging.getLogger(__name__)

#: The tables a selection run writes (and replaces).
OUTPUT_TABLES = (
    "shadow_ra_claim_selection",
    "ra_enrollee_month",
    "ra_enrollee",
    "ra_diagnosis",
    "ra_drug_code",
    *ENROLLEE_CLAIMS_TABLES,
)

#: Views and tables selection reads (Phase 1 must have run).
_REQUIRED = ("active_enrollment", "active_medical_claim", "active_pharmacy_claim", "ref_plan")

#: Fact table, claim-identifier column of each record kind.
_SOURCES = {
    MEDICAL: ("_cs_medical", "claim_identifier"),
    PHARMACY: ("_cs_pharmacy", "claim_identifier"),
    SUPPLEMENTAL: ("_cs_supplemental", "detail_id"),
}


class SelectionInputsMissing(RuntimeError):
    """Claim selection needs the Phase 1 warehouse (verification and reference tables)."""


@dataclass
class SelectionResult:
    """What one selection run wrote; counts only (safe to log and to put in metadata)."""

    benefit_year: int
    issuer_id: str
    execution_zone: str
    considered: dict[str, int] = field(default_factory=dict)  # record kind -> rows
    included: dict[str, int] = field(default_factory=dict)  # record kind -> included rows
    reasons: dict[str, int] = field(default_factory=dict)  # reason code -> excluded rows
    categories: dict[str, int] = field(default_factory=dict)  # RACSD category -> rows
    rows: dict[str, int] = field(default_factory=dict)  # output table -> rows of the run
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.considered.values())


def select_claims(
    con: duckdb.DuckDBPyConnection, benefit_year: int, issuer_id: str, execution_zone: str
) -> SelectionResult:
    """Select the RA claims of one run and write the scoring inputs (replacing the run's rows).

    Every active accepted medical and pharmacy claim and every accepted supplemental record of
    the issuer and zone gets exactly one ``shadow_ra_claim_selection`` row, whatever its dates
    (a claim of another year reports R07/R11), so the selection accounts for everything stored.
    """
    started = time.perf_counter()
    check_inputs(con)
    run = Run(benefit_year, issuer_id, execution_zone)
    ensure_phase2_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        load_eligible_codes(con, benefit_year)
        build_enrollment(con, run)
        build_medical(con, run)
        build_pharmacy(con, run)
        build_supplemental(con, run)
        delete_run(con, OUTPUT_TABLES, benefit_year, issuer_id, execution_zone)
        _write(con, run)
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    finally:
        drop_temp(con)
    result = _summarise(con, run)
    result.seconds = time.perf_counter() - started
    log.info(
        "RA claim selection %s/%s/%s: %d records, %s included, %d enrollees in %.1f s",
        benefit_year,
        issuer_id,
        execution_zone,
        result.total,
        result.included,
        result.rows.get("ra_enrollee", 0),
        result.seconds,
    )
    return result


def check_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """:class:`SelectionInputsMissing` unless the Phase 1 views and reference tables exist."""
    names = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    }
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        raise SelectionInputsMissing(
            f"claim selection needs {', '.join(missing)}: load the reference tables and run "
            "the Phase 1 verification first"
        )


def _selection_sql(run: Run, kind: str) -> str:
    table, identifier = _SOURCES[kind]
    return f"""
SELECT {run.columns()}, {category_case(kind)} AS category, {lit(kind)} AS record_kind,
  {identifier} AS claim_identifier, file_identifier, record_identifier, member_id, plan_id,
  CASE WHEN reason_code IS NULL THEN 'Y' ELSE 'N' END AS included, reason_code
FROM {table}
"""


def _write(con: duckdb.DuckDBPyConnection, run: Run) -> None:
    for kind in _SOURCES:
        con.execute(
            f"INSERT INTO shadow_ra_claim_selection BY NAME {_selection_sql(run, kind)}", run.params
        )
    for table, sql in (
        ("ra_enrollee_month", enrollee_month_sql(run)),  # read by enrollee_sql
        ("ra_enrollee", enrollee_sql(run)),  # read by the ECD/ECS shadow
        ("ra_diagnosis", diagnosis_sql(run)),
        ("ra_drug_code", drug_code_sql(run)),
        *enrollee_claims_sql(run),
    ):
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT {run.columns()}, x.* FROM ({sql}) x", run.params
        )


def _summarise(con: duckdb.DuckDBPyConnection, run: Run) -> SelectionResult:
    result = SelectionResult(run.benefit_year, run.issuer_id, run.execution_zone)
    key = [run.benefit_year, run.issuer_id, run.execution_zone]
    where = "WHERE benefit_year = ? AND issuer_id = ? AND execution_zone = ?"
    for kind, included, reason, category, n in con.execute(
        "SELECT record_kind, included, reason_code, category, count(*) "
        f"FROM shadow_ra_claim_selection {where} GROUP BY ALL",
        key,
    ).fetchall():
        result.considered[kind] = result.considered.get(kind, 0) + n
        result.categories[category] = result.categories.get(category, 0) + n
        if included == "Y":
            result.included[kind] = result.included.get(kind, 0) + n
        else:
            result.reasons[reason] = result.reasons.get(reason, 0) + n
    for table in OUTPUT_TABLES:
        result.rows[table] = first_row(con, f"SELECT count(*) FROM {table} {where}", key)[0]
    return result
