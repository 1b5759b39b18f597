"""A seeded synthetic population in DuckDB, in the engine's input shape (benchmark, tests).

Generated set-based (one SQL statement per table), so a million enrollees take seconds.
Randomness is ``hash(row, stream, seed)``, not ``random()``: the same seed gives the same
population whatever the thread count.  The shape is meant to be realistic for load, not for
actuarial statistics: most enrollees have no diagnosis, a long tail has many; about a third of
diagnosis codes map to an HCC (drawn uniformly from table 3), the rest are everyday codes
without one; some adults fill RXC drugs (NDC or HCPCS), others drugs without an RXC.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from edge_pipeline.edge.risk.diy_tables import load_diy_model

#: Common ICD-10-CM codes that map to no HHS-HCC (hypertension, URI, back pain, ...).
NON_HCC_CODES = (
    "I10", "E785", "J069", "Z0000", "M545", "R05", "K219", "F419", "J309", "N390",
    "Z23", "R509", "E669", "M25561", "R1010", "H6691", "J029", "L309", "Z3400", "R51",
)  # fmt: skip
#: Table names written, by role, for ``score_population``'s keyword arguments.
ROLES = ("persons", "diagnoses", "ndcs", "hcpcs")


def synthesize_population(
    con: duckdb.DuckDBPyConnection,
    benefit_year: int,
    enrollees: int,
    seed: int,
    prefix: str = "synth_",
) -> dict[str, str]:
    """Create ``{prefix}person/diagnosis/ndc/hcpcs`` tables; returns role → table name."""
    model = load_diy_model(benefit_year)
    codes = sorted({r.icd10 for r in model.icd})
    ndcs = sorted(code for kind, code, _ in model.rxc_codes if kind == "NDC")
    hcpcs = sorted(code for kind, code, _ in model.rxc_codes if kind == "HCPCS")
    csr = model.csr["adult"]
    by_metal = {m: [i for i, (metal, _) in csr.by_indicator.items() if metal == m] for m in "PGSBC"}
    lists = pa.table(
        {
            "name": ["hcc", "plain", "ndc", "hcpcs", *(f"csr_{m}" for m in "PGSBC")],
            "items": [codes, list(NON_HCC_CODES), ndcs, hcpcs]
            + [[str(i) for i in [1, *by_metal[m]]] for m in "PGSBC"],
        }
    )
    con.register("_synth_lists", lists)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _synth_list AS SELECT * FROM _synth_lists")
    finally:
        con.unregister("_synth_lists")

    def rnd(k: int, row: str = "i") -> str:
        """A uniform [0, 1) draw for ``row`` from stream ``k``."""
        return f"((hash({row}, {k}, {seed}) % 1000003) / 1000003.0)"

    def pick(name: str, k: int, row: str = "i") -> str:
        items = f"(SELECT items FROM _synth_list WHERE name = {name})"
        return f"{items}[1 + floor({rnd(k, row)} * len({items}))::INTEGER]"

    person, diagnosis = f"{prefix}person", f"{prefix}diagnosis"
    con.execute(
        f"""CREATE OR REPLACE TABLE {person} AS
        WITH base AS (
            SELECT i,
                   CASE WHEN {rnd(1)} < 0.03 THEN floor({rnd(2)} * 2)
                        WHEN {rnd(1)} < 0.28 THEN 2 + floor({rnd(2)} * 19)
                        ELSE 21 + floor({rnd(2)} * 44) END::INTEGER AS age_last,
                   CASE WHEN {rnd(3)} < 0.05 THEN 'P' WHEN {rnd(3)} < 0.20 THEN 'G'
                        WHEN {rnd(3)} < 0.65 THEN 'S' WHEN {rnd(3)} < 0.95 THEN 'B'
                        ELSE 'C' END AS metal
            FROM range({enrollees}) t(i))
        SELECT 'E' || lpad(i::VARCHAR, 9, '0') AS person_id,
               CASE WHEN {rnd(4)} < 0.5 THEN 1 ELSE 2 END AS sex,
               make_date({benefit_year} - age_last, 1, 1)
                 + floor({rnd(5)} * 365)::INTEGER AS birth_date,
               age_last, metal,
               CASE WHEN {rnd(6)} < 0.6 THEN 1
                    ELSE {pick("'csr_' || metal", 7)}::INTEGER END AS csr_indicator,
               CASE WHEN {rnd(8)} < 0.7 THEN 12 ELSE 1 + floor({rnd(9)} * 11) END::INTEGER
                 AS enrol_duration,
               CASE WHEN {rnd(10)} < 0.55 THEN 0
                    ELSE least(40, 1 + floor(-ln(1 - {rnd(11)}) * 2.5)) END::INTEGER AS n_dx,
               CASE WHEN age_last >= 21 AND {rnd(12)} < 0.15 THEN 1 + floor({rnd(13)} * 3)
                    ELSE 0 END::INTEGER AS n_ndc,
               CASE WHEN age_last >= 21 AND {rnd(14)} < 0.03 THEN 1 ELSE 0 END AS n_hcpcs
        FROM base"""
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {diagnosis} AS
        WITH d AS (
            SELECT person_id, birth_date, hash(person_id, unnest(range(n_dx))) AS i
            FROM {person} WHERE n_dx > 0)
        SELECT person_id,
               CASE WHEN {rnd(20)} < 0.35 THEN {pick("'hcc'", 21)}
                    ELSE {pick("'plain'", 22)} END AS icd10,
               greatest(birth_date, make_date({benefit_year}, 1, 1)
                 + floor({rnd(23)} * 365)::INTEGER) AS service_date
        FROM d"""
    )
    for kind, column, count in (("ndc", "ndc", "n_ndc"), ("hcpcs", "hcpcs", "n_hcpcs")):
        fake = (
            f"lpad((hash(i, 31, {seed}) % 100000000000)::VARCHAR, 11, '0')"
            if kind == "ndc"
            else f"'A' || lpad((hash(i, 31, {seed}) % 10000)::VARCHAR, 4, '0')"
        )
        con.execute(
            f"""CREATE OR REPLACE TABLE {prefix}{kind} AS
            WITH c AS (
                SELECT person_id, hash(person_id, unnest(range({count})), 7) AS i
                FROM {person} WHERE {count} > 0)
            SELECT person_id,
                   CASE WHEN {rnd(30)} < 0.5 THEN {pick(f"'{kind}'", 32)} ELSE {fake} END
                     AS {column}
            FROM c"""
        )
    con.execute("DROP TABLE _synth_list")
    return dict(zip(ROLES, (person, diagnosis, f"{prefix}ndc", f"{prefix}hcpcs"), strict=True))
