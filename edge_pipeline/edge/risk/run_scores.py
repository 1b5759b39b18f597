"""Score one run: the claim-selection outputs through the HHS-HCC model into ``shadow_risk_*``.

Why a separate step: the risk model (``edge_pipeline.edge.risk``) scores anonymous DIY
"persons" (the CMS DIY software's PERSON / DIAGNOSES / NDC / HCPCS inputs), which keeps it
usable on its own (``edge-pipeline score-diy``).  This module turns a run's ``ra_enrollee``
rows into such persons (one per enrollee x plan), scores them, and maps the results back to
members and plans, joining each HCC and RXC to the claims behind it (``ra_diagnosis``,
``ra_drug_code``) for the RARSD audit trail.

The run's five ``shadow_risk_*`` tables are replaced in one transaction: a failed scoring
leaves the previous scores as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from edge_pipeline.base.warehouse.query import first_row
from edge_pipeline.base.warehouse.transaction import rollback
from edge_pipeline.edge.ra_runs.runs import RUN_FILTER, ScoringRun, run_filter
from edge_pipeline.edge.ra_runs.schema import delete_run, ensure_phase2_schema
from edge_pipeline.edge.risk.csr_indicators import csr_indicator_for
from edge_pipeline.edge.risk.scoring import score_population

SCORE_TABLES = (
    "shadow_risk_score",
    "shadow_risk_score_term",
    "shadow_risk_hcc_source",
    "shadow_risk_rxc_source",
    "shadow_risk_dropped_hcc",
)

#: Prefix of the risk model's working tables for a run (temporary, per connection).
_OUT = "_p2_risk_"


@dataclass(frozen=True)
class RunScores:
    """What scoring a run produced: counts only (no member data)."""

    run: ScoringRun
    enrollees: int
    by_model: dict[str, int]
    mean_score_raw: float | None
    mean_score_csr_adjusted: float | None
    terms: int
    hccs: int


def _csr_indicators(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> None:
    """``_p2_csr``: the DIY CSR_INDICATOR of each (metal, CSR variant) the run's plans use.

    One call per distinct pair (a handful), so the rule lives in the risk model alone.
    """
    pairs = con.execute(
        f"SELECT DISTINCT metal, csr_variant FROM ra_enrollee WHERE {RUN_FILTER}", run.params
    ).fetchall()
    rows = [
        (metal, variant, csr_indicator_for(run.benefit_year, metal, variant))
        for metal, variant in pairs
    ]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _p2_csr "
        "(metal VARCHAR, csr_variant VARCHAR, csr_indicator INTEGER)"
    )
    if rows:
        con.executemany("INSERT INTO _p2_csr VALUES (?, ?, ?)", rows)


def _inputs(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> None:
    """The run's DIY inputs as temp tables: persons, diagnoses, NDCs, HCPCS."""
    _csr_indicators(con, run)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _p2_person AS
        SELECT CAST(row_number() OVER (ORDER BY e.member_id, e.plan_id) AS VARCHAR) AS person_id,
          e.member_id, e.plan_id,
          CASE upper(e.sex) WHEN 'M' THEN 1 ELSE 2 END AS sex,
          e.birth_date, e.age_last,
          upper(left(e.metal, 1)) AS metal,
          coalesce(e.csr_indicator, c.csr_indicator, 1) AS csr_indicator,
          e.enrollment_months AS enrol_duration
        FROM ra_enrollee e
        LEFT JOIN _p2_csr c ON c.metal IS NOT DISTINCT FROM e.metal
          AND c.csr_variant IS NOT DISTINCT FROM e.csr_variant
        WHERE {run_filter("e")}
        """,
        run.params,
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _p2_diagnosis AS
        SELECT p.person_id, d.diagnosis_code AS icd10, d.service_date
        FROM ra_diagnosis d JOIN _p2_person p USING (member_id, plan_id)
        WHERE {run_filter("d")}
        """,
        run.params,
    )
    for kind, column in (("NDC", "ndc"), ("HCPCS", "hcpcs")):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _p2_{column} AS
            SELECT DISTINCT p.person_id, c.code AS {column}
            FROM ra_drug_code c JOIN _p2_person p USING (member_id, plan_id)
            WHERE {run_filter("c")} AND c.code_type = '{kind}'
            """,
            run.params,
        )


def _store(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> None:
    """Map the model's results back to members and plans, with the claims behind them."""
    scope = "?::INTEGER AS benefit_year, ? AS issuer_id, ? AS execution_zone"
    con.execute(
        f"""
        INSERT INTO shadow_risk_score BY NAME
        SELECT {scope},
          e.member_id, e.plan_id, e.rating_area, e.metal, e.csr_variant,
          p.csr_indicator, s.csr_factor, e.sex, e.birth_date, e.age_last, s.model,
          e.enrollment_days, e.enrollment_months, e.billable_member_months,
          s.score_raw, s.score_csr_adjusted
        FROM _p2_person p
        JOIN {_OUT}score s USING (person_id)
        JOIN ra_enrollee e ON e.member_id = p.member_id AND e.plan_id = p.plan_id
          AND {run_filter("e")}
        """,
        run.params + run.params,
    )
    con.execute(
        f"""
        INSERT INTO shadow_risk_score_term BY NAME
        SELECT {scope}, p.member_id, p.plan_id, t.variable, t.kind, t.coefficient
        FROM {_OUT}term t JOIN _p2_person p USING (person_id)
        """,
        run.params,
    )
    con.execute(
        f"""
        INSERT INTO shadow_risk_hcc_source BY NAME
        SELECT DISTINCT {scope}, p.member_id, p.plan_id, h.hcc, h.icd10 AS diagnosis_code,
          d.source, d.claim_identifier, d.file_identifier, d.record_identifier
        FROM {_OUT}hcc_source h JOIN _p2_person p USING (person_id)
        LEFT JOIN ra_diagnosis d ON d.member_id = p.member_id AND d.plan_id = p.plan_id
          AND d.diagnosis_code = h.icd10
          AND {run_filter("d")}
        """,
        run.params + run.params,
    )
    con.execute(
        f"""
        INSERT INTO shadow_risk_rxc_source BY NAME
        SELECT DISTINCT {scope}, p.member_id, p.plan_id, r.rxc, r.code_type, r.code,
          c.claim_identifier, c.file_identifier, c.record_identifier
        FROM {_OUT}rxc_source r JOIN _p2_person p USING (person_id)
        LEFT JOIN ra_drug_code c ON c.member_id = p.member_id AND c.plan_id = p.plan_id
          AND c.code_type = r.code_type AND c.code = r.code
          AND {run_filter("c")}
        """,
        run.params + run.params,
    )
    con.execute(
        f"""
        INSERT INTO shadow_risk_dropped_hcc BY NAME
        SELECT {scope}, p.member_id, p.plan_id, x.hcc, x.dropped_by
        FROM {_OUT}dropped_hcc x JOIN _p2_person p USING (person_id)
        """,
        run.params,
    )


def _summary(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> RunScores:
    filter_params = run.params
    enrollees, mean_raw, mean_csr = first_row(
        con,
        "SELECT count(*), avg(score_raw)::DOUBLE, avg(score_csr_adjusted)::DOUBLE "
        f"FROM shadow_risk_score WHERE {RUN_FILTER}",
        filter_params,
    )
    by_model = dict(
        con.execute(
            f"SELECT model, count(*) FROM shadow_risk_score WHERE {RUN_FILTER} GROUP BY model",
            filter_params,
        ).fetchall()
    )
    terms, hccs = first_row(
        con,
        "SELECT count(*), count(*) FILTER (WHERE kind IN ('hcc', 'group')) "
        f"FROM shadow_risk_score_term WHERE {RUN_FILTER}",
        filter_params,
    )
    return RunScores(run, enrollees, by_model, mean_raw, mean_csr, terms, hccs)


def score_run(con: duckdb.DuckDBPyConnection, run: ScoringRun) -> RunScores:
    """Score every enrollee x plan of ``run`` and replace the run's ``shadow_risk_*`` rows.

    Claim selection (``ra_enrollee``, ``ra_diagnosis``, ``ra_drug_code``) must have run first.
    """
    ensure_phase2_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        _inputs(con, run)
        score_population(
            con,
            run.benefit_year,
            persons="_p2_person",
            diagnoses="_p2_diagnosis",
            ndcs="_p2_ndc",
            hcpcs="_p2_hcpcs",
            out_prefix=_OUT,
        )
        delete_run(con, SCORE_TABLES, *run.params)
        _store(con, run)
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return _summary(con, run)
