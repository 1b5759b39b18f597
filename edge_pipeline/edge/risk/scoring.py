"""The HHS-HCC risk score of a whole population, set-based in DuckDB, as the DIY software does.

``score_population`` runs these steps as SQL over every enrollee at once (no Python loop per
enrollee or diagnosis; loops run over models and rules only):

1. **Model** by AGE_LAST (table 1).
2. **Diagnoses → CCs** (table 3): a code counts when flagged valid for the fiscal year of its
   service date (October-December belong to the next FY: ``valid_fy`` flags FY = benefit year,
   the second flag FY = benefit year + 1, as ``ICD10CM_RULE``; other FYs have no flag and are
   dropped), passes the MCE age/sex edit on the age at diagnosis (whole years from the birth
   date), and its CC row's age/sex split holds on AGE_LAST / SEX.  Up to three CCs per code.
3. **Hierarchies** (table 4) over all CCs, set-based; exact because the loader proves the table
   transitively closed (``diy_tables``).  ``dropped_by`` is the HCC whose row zeroes it first
   when the table runs in order: the earliest-ranked present HCC listing it that no earlier
   present HCC zeroes.  Then the model's **payment HCCs** only (table 12 exclusions removed).
4. **RXCs** (adult: tables 10a/10b) with the RXC hierarchy (table 11), the same way.
5. **The model program** (tables 5 and 6/7/8, ``program.py``) on one wide row per enrollee,
   compiled by ``program_sql``.  Enrollees without any HCC or RXC differ only by AGE_LAST,
   SEX and ENROLDURATION, so they run as one row per such profile and are joined back.
6. **Terms**: every 0/1 variable that is 1 and has a table 9 coefficient for the model, at
   the enrollee's metal; raw score = their exact decimal sum.
7. **CSR**: factor from the model's CSR formula (``csr.py``): an indicator listed in the
   formula adjusts only its own metal (another metal → NULL factor and NULL adjusted score, as
   the SAS leaves it missing); indicators not listed take the ``else`` factor (1.00).
   Adjusted = raw x factor rounded half-up to three decimals.

Output (TEMP tables, replaced on each call): ``{out_prefix}score``, ``term``, ``hcc_source``,
``rxc_source``, ``dropped_hcc``; see ``score_population``.  An enrollee whose AGE_LAST fits no
model, or whose METAL is not P/G/S/B/C, gets a score row with NULL scores.
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.risk.diy_tables import DiyModel, load_diy_model
from edge_pipeline.edge.risk.diy_warehouse import REFERENCE_DDL, write_reference_tables
from edge_pipeline.edge.risk.metals import METALS
from edge_pipeline.edge.risk.program import SCALARS
from edge_pipeline.edge.risk.program_sql import program_sql, quote

OUTPUTS = ("score", "term", "hcc_source", "rxc_source", "dropped_hcc")


def score_population(
    con: duckdb.DuckDBPyConnection,
    benefit_year: int,
    *,
    persons: str,
    diagnoses: str,
    ndcs: str,
    hcpcs: str,
    out_prefix: str = "risk_",
) -> None:
    """Score every enrollee of ``persons``; results in TEMP tables named ``{out_prefix}*``.

    Inputs (tables or views of ``con``): ``persons(person_id, sex 1/2, birth_date, age_last,
    metal P/G/S/B/C, csr_indicator, enrol_duration 1-12)``, ``diagnoses(person_id, icd10,
    service_date)``, ``ndcs(person_id, ndc)``, ``hcpcs(person_id, hcpcs)``.

    Outputs: ``score(person_id, model, csr_factor, score_raw, score_csr_adjusted)`` one row per
    person; ``term(person_id, variable, kind, coefficient)`` summing to ``score_raw``;
    ``hcc_source(person_id, hcc, icd10)``; ``rxc_source(person_id, rxc, code_type, code)``;
    ``dropped_hcc(person_id, hcc, dropped_by)`` (HCCs and RXCs zeroed by a hierarchy).
    Raises DiyTableError for bad reference tables, ValueError for a repeated person_id.
    """
    model = load_diy_model(benefit_year)
    run = _Run(con, model, out_prefix)
    try:
        run.execute(persons, diagnoses, ndcs, hcpcs)
    finally:
        run.drop_work_tables()


class _Run:
    """One scoring run: names its working tables and executes the steps in order."""

    def __init__(self, con: duckdb.DuckDBPyConnection, model: DiyModel, out: str) -> None:
        self.con = con
        self.model = model
        self.out = out
        self.ref = f"{out}ref_"
        self.work = f"{out}w_"
        self.work_tables: list[str] = []

    # --- helpers -------------------------------------------------------------------------
    def temp(self, name: str, sql: str, *, work: bool = True) -> str:
        table = f"{self.work if work else self.out}{name}"
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
        if work:
            self.work_tables.append(table)
        return table

    def drop_work_tables(self) -> None:
        for table in self.work_tables:
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        for suffix in REFERENCE_DDL:
            self.con.execute(f"DROP TABLE IF EXISTS {self.ref}{suffix}")

    # --- steps ---------------------------------------------------------------------------
    def execute(self, persons: str, diagnoses: str, ndcs: str, hcpcs: str) -> None:
        write_reference_tables(self.con, self.model, self.ref, temporary=True)
        person = self.persons(persons)
        hccs, hcc_dropped = self.hccs(person, diagnoses)
        rxcs, rxc_dropped = self.rxcs(person, ndcs, hcpcs)
        flags = self.temp(
            "flag", f"SELECT person_id, var FROM {hccs} UNION ALL SELECT person_id, var FROM {rxcs}"
        )
        self.temp(
            "dropped_hcc",
            f"SELECT person_id, var AS hcc, dropped_by FROM {hcc_dropped} UNION ALL "
            f"SELECT person_id, var, dropped_by FROM {rxc_dropped}",
            work=False,
        )
        unit = self.program_terms(person, flags)
        self.terms_and_scores(unit)

    def persons(self, persons: str) -> str:
        model_case = " ".join(
            f"WHEN {cond.sql('age_last', 'sex')} THEN '{name}'"
            for name, cond in self.model.model_ages.items()
        )
        metals = ", ".join(f"'{code}'" for code in METALS)
        person = self.temp(
            "person",
            f"""SELECT person_id, sex, birth_date, age_last, upper(trim(metal)) AS metal,
                       csr_indicator, enrol_duration,
                       CASE WHEN upper(trim(metal)) IN ({metals}) THEN
                            CASE {model_case} END END AS model
                FROM {persons}""",
        )
        repeated = self.con.execute(
            f"SELECT person_id FROM {person} GROUP BY person_id HAVING count(*) > 1 LIMIT 1"
        ).fetchall()
        if repeated:
            raise ValueError(f"persons: person_id {repeated[0][0]!r} appears more than once")
        return person

    def hccs(self, person: str, diagnoses: str) -> tuple[str, str]:
        """Steps 2 and 3: kept payment HCCs ``(person_id, var)`` and dropped ones."""
        year = self.model.benefit_year
        dx = self.temp(
            "dx",
            f"""WITH d AS (
                    SELECT d.person_id, upper(replace(trim(d.icd10), '.', '')) AS icd10,
                           year(d.service_date)
                             + CASE WHEN month(d.service_date) >= 10 THEN 1 ELSE 0 END AS fy,
                           year(d.service_date) - year(p.birth_date)
                             - CASE WHEN month(d.service_date) * 100 + day(d.service_date)
                                       < month(p.birth_date) * 100 + day(p.birth_date)
                                    THEN 1 ELSE 0 END AS age_dx,
                           p.sex, p.age_last
                    FROM {diagnoses} d JOIN {person} p USING (person_id)
                    WHERE p.model IS NOT NULL)
                SELECT DISTINCT d.person_id, d.icd10, m.hcc
                FROM d JOIN {self.ref}icd_hcc m ON m.icd10 = d.icd10
                WHERE ((d.fy = {year} AND m.valid_fy) OR (d.fy = {year + 1} AND m.valid_fy_next))
                  AND (m.mce_age_min IS NULL OR d.age_dx >= m.mce_age_min)
                  AND (m.mce_age_max IS NULL OR d.age_dx <= m.mce_age_max)
                  AND (m.mce_sex IS NULL OR d.sex = m.mce_sex)
                  AND (m.split_age_min IS NULL OR d.age_last >= m.split_age_min)
                  AND (m.split_age_max IS NULL OR d.age_last <= m.split_age_max)
                  AND (m.split_sex IS NULL OR d.sex = m.split_sex)""",
        )
        present = self.temp("hcc_present", f"SELECT DISTINCT person_id, hcc AS var FROM {dx}")
        kept, dropped = self.hierarchy(present, "HCC", person)
        self.temp(
            "hcc_source",
            f"SELECT DISTINCT dx.person_id, dx.hcc, dx.icd10 FROM {dx} dx "
            f"JOIN {kept} k ON k.person_id = dx.person_id AND k.var = dx.hcc",
            work=False,
        )
        return kept, dropped

    def rxcs(self, person: str, ndcs: str, hcpcs: str) -> tuple[str, str]:
        """Step 4: RXCs of enrollees whose model has RXC variables."""
        codes = self.temp(
            "rxc_code",
            f"""WITH c AS (
                    SELECT person_id, 'NDC' AS code_type, upper(trim(ndc)) AS code FROM {ndcs}
                    UNION ALL
                    SELECT person_id, 'HCPCS', upper(trim(hcpcs)) FROM {hcpcs})
                SELECT DISTINCT c.person_id, r.rxc AS var, c.code_type, c.code
                FROM c JOIN {self.ref}rxc_code r ON r.code_type = c.code_type AND r.code = c.code
                JOIN {person} p ON p.person_id = c.person_id
                JOIN {self.ref}model_var v ON v.model = p.model AND v.var = r.rxc""",
        )
        present = self.temp("rxc_present", f"SELECT DISTINCT person_id, var FROM {codes}")
        kept, dropped = self.hierarchy(present, "RXC", person)
        self.temp(
            "rxc_source",
            f"SELECT c.person_id, c.var AS rxc, c.code_type, c.code FROM {codes} c "
            f"JOIN {kept} k ON k.person_id = c.person_id AND k.var = c.var",
            work=False,
        )
        return kept, dropped

    def hierarchy(self, present: str, kind: str, person: str) -> tuple[str, str]:
        """Kept and dropped ``(person_id, var)`` under the table 4 / 11 hierarchy; both are
        restricted to the variables of the enrollee's model (a non-payment HCC may still
        drop a payment HCC: the hierarchy runs over all CCs, before the model's exclusions)."""
        rules = f"(SELECT * FROM {self.ref}hierarchy WHERE kind = '{kind}')"
        low = kind.lower()
        fired = self.temp(
            f"{low}_fired",
            f"""SELECT p.person_id, p.var FROM {present} p
                WHERE NOT EXISTS (
                    SELECT 1 FROM {rules} h JOIN {present} q ON q.var = h.var
                    WHERE q.person_id = p.person_id AND h.var_to_zero = p.var
                      AND h.position < h.zero_position)""",
        )
        dropped_all = self.temp(
            f"{low}_dropped_all",
            f"""SELECT c.person_id, c.var, arg_min(h.var, h.position) AS dropped_by
                FROM {present} c JOIN {rules} h ON h.var_to_zero = c.var
                JOIN {fired} f ON f.person_id = c.person_id AND f.var = h.var
                GROUP BY c.person_id, c.var""",
        )
        in_model = (
            f"JOIN {person} pm ON pm.person_id = x.person_id "
            f"JOIN {self.ref}model_var mv ON mv.model = pm.model AND mv.var = x.var"
        )
        kept = self.temp(
            f"{low}_kept",
            f"""SELECT x.person_id, x.var FROM {present} x {in_model}
                WHERE NOT EXISTS (SELECT 1 FROM {dropped_all} d
                                  WHERE d.person_id = x.person_id AND d.var = x.var)""",
        )
        dropped = self.temp(
            f"{low}_dropped",
            f"SELECT x.person_id, x.var, x.dropped_by FROM {dropped_all} x {in_model}",
        )
        return kept, dropped

    def program_terms(self, person: str, flags: str) -> str:
        """Step 5: run each model's program; returns ``(model, unit_key, variable)`` rows."""
        unit = self.temp(
            "unit",
            f"""SELECT p.person_id, p.model, p.metal, p.csr_indicator,
                       CASE WHEN f.person_id IS NOT NULL THEN 'p' || p.person_id
                            ELSE concat_ws(':', 'd', p.age_last, coalesce(p.sex::VARCHAR, ''),
                                           coalesce(p.enrol_duration::VARCHAR, ''))
                       END AS unit_key,
                       p.age_last, p.sex, p.enrol_duration
                FROM {person} p
                LEFT JOIN (SELECT DISTINCT person_id FROM {flags}) f USING (person_id)
                WHERE p.model IS NOT NULL""",
        )
        var_lists = self.temp(
            "flag_list",
            f"SELECT 'p' || person_id AS unit_key, list(var) AS vars "
            f"FROM {flags} GROUP BY person_id",
        )
        selects = []
        for name, program in self.model.programs.items():
            flag_cols = ", ".join(
                f"coalesce(list_contains(v.vars, '{f}'), FALSE) AS {quote(f)}"
                for f in program.flags
            )
            scalars = dict(zip(SCALARS, ("age_last", "sex", "enrol_duration"), strict=True))
            scalar_cols = ", ".join(f"u.{col} AS {quote(var)}" for var, col in scalars.items())
            source = f"""SELECT u.unit_key, {scalar_cols}, {flag_cols}
                         FROM (SELECT DISTINCT unit_key, age_last, sex, enrol_duration
                               FROM {unit} WHERE model = '{name}') u
                         LEFT JOIN {var_lists} v USING (unit_key)"""
            wide = self.temp(f"wide_{name}", program_sql(program, source))
            variables = [v for v in self.model.coefficients[name] if v in program.columns]
            columns = ", ".join(quote(v) for v in variables)
            selects.append(
                f"""SELECT '{name}' AS model, unit_key, variable FROM (
                        UNPIVOT (SELECT unit_key, {columns} FROM {wide})
                        ON {columns} INTO NAME variable VALUE is_set)
                    WHERE is_set"""
            )
        self.temp("unit_term", " UNION ALL ".join(selects))
        return unit

    def terms_and_scores(self, unit: str) -> None:
        """Steps 6 and 7 over the enrollee → unit map and the unit terms of step 5."""
        term = self.temp(
            "term",
            f"""SELECT u.person_id, t.variable, c.kind, c.coefficient
                FROM {unit} u
                JOIN {self.work}unit_term t ON t.model = u.model AND t.unit_key = u.unit_key
                JOIN {self.ref}coefficient c
                  ON c.model = u.model AND c.variable = t.variable AND c.metal = u.metal""",
            work=False,
        )
        person = f"{self.work}person"
        self.temp(
            "score",
            f"""WITH raw AS (SELECT person_id, sum(coefficient) AS raw FROM {term} GROUP BY 1),
                f AS (
                    SELECT p.person_id, p.model,
                           CASE WHEN p.model IS NULL THEN NULL
                                WHEN listed.csr_indicator IS NULL THEN other.factor
                                WHEN listed.metal = p.metal THEN listed.factor END AS csr_factor,
                           CASE WHEN p.model IS NOT NULL THEN coalesce(raw.raw, 0) END AS raw
                    FROM {person} p
                    LEFT JOIN raw USING (person_id)
                    LEFT JOIN {self.ref}csr_factor listed
                      ON listed.model = p.model AND listed.csr_indicator = p.csr_indicator
                    LEFT JOIN {self.ref}csr_factor other
                      ON other.model = p.model AND other.csr_indicator IS NULL
                     AND other.metal = p.metal)
                SELECT person_id, model, csr_factor::DECIMAL(6,3) AS csr_factor,
                       raw::DECIMAL(12,3) AS score_raw,
                       round(raw::DECIMAL(12,3) * csr_factor::DECIMAL(6,3), 3)::DECIMAL(12,3)
                         AS score_csr_adjusted
                FROM f""",
            work=False,
        )
