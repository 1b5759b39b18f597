"""The DIY tables of a benefit year as relational tables, for the SQL engine and the warehouse.

``load_diy_tables(con, year)`` keeps persistent ``diy_*`` tables (one row set per benefit
year, replaced on reload) so analysts can join scores to the rules that produced them.  The
engine writes the same tables as per-run TEMP tables (``write_reference_tables(...,
temporary=True)``) so scoring never modifies the warehouse as a side effect.  One writer, one
DDL: the two can not drift apart.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from edge_pipeline.edge.risk.conditions import AgeSexCondition
from edge_pipeline.edge.risk.diy_tables import DiyModel, load_diy_model

#: Table name suffix → DDL; every table carries the benefit year of its rows.
REFERENCE_DDL: dict[str, str] = {
    "model_age": "benefit_year INTEGER, model VARCHAR, age_min INTEGER, age_max INTEGER",
    "icd_hcc": (
        "benefit_year INTEGER, icd10 VARCHAR, valid_fy BOOLEAN, valid_fy_next BOOLEAN, "
        "mce_age_min INTEGER, mce_age_max INTEGER, mce_sex INTEGER, split_age_min INTEGER, "
        "split_age_max INTEGER, split_sex INTEGER, hcc VARCHAR"
    ),
    "hierarchy": (
        "benefit_year INTEGER, kind VARCHAR, var VARCHAR, position INTEGER, "
        "var_to_zero VARCHAR, zero_position INTEGER"
    ),
    "model_var": "benefit_year INTEGER, model VARCHAR, var VARCHAR",
    "rxc_code": "benefit_year INTEGER, code_type VARCHAR, code VARCHAR, rxc VARCHAR",
    "coefficient": (
        "benefit_year INTEGER, model VARCHAR, variable VARCHAR, kind VARCHAR, metal VARCHAR, "
        "coefficient DECIMAL(12,3)"
    ),
    # csr_indicator NULL: the formula's `else do` branch (any indicator not listed)
    "csr_factor": (
        "benefit_year INTEGER, model VARCHAR, csr_indicator INTEGER, metal VARCHAR, "
        "factor DECIMAL(6,3)"
    ),
}


def load_diy_tables(con: duckdb.DuckDBPyConnection, benefit_year: int) -> dict[str, int]:
    """Replace the rows of ``benefit_year`` in the persistent ``diy_*`` tables.

    Returns row counts per table.  Raises DiyTableError before writing if a table is bad.
    """
    return write_reference_tables(con, load_diy_model(benefit_year), "diy_", temporary=False)


def write_reference_tables(
    con: duckdb.DuckDBPyConnection, model: DiyModel, prefix: str, *, temporary: bool
) -> dict[str, int]:
    """Write ``model`` into ``{prefix}<name>`` tables; TEMP tables are recreated, persistent
    ones keep the rows of other benefit years."""
    counts = {}
    for suffix, rows in _rows(model).items():
        name = f"{prefix}{suffix}"
        ddl = REFERENCE_DDL[suffix]
        if temporary:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({ddl})")
        else:
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({ddl})")
            con.execute(f"DELETE FROM {name} WHERE benefit_year = ?", [model.benefit_year])
        columns = [c.split()[0] for c in ddl.split(", ")]
        data = pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
        if rows:
            con.register("_diy_rows", data)
            try:
                con.execute(f"INSERT INTO {name} SELECT * FROM _diy_rows")
            finally:
                con.unregister("_diy_rows")
        counts[name] = len(rows)
    return counts


def _rows(model: DiyModel) -> dict[str, list[tuple]]:
    year = model.benefit_year
    hierarchy = []
    for kind, order, table in (
        ("HCC", model.hcc_order, model.hierarchy),
        ("RXC", model.rxc_order, model.rxc_hierarchy),
    ):
        position = {var: i for i, var in enumerate(order, start=1)}
        for var in order:
            hierarchy += [(year, kind, var, position[var], z, position[z]) for z in table[var]]
    coefficients = [
        (year, m, var, model.term_kind(m, var), metal, value)
        for m, variables in model.coefficients.items()
        for var, by_metal in variables.items()
        for metal, value in by_metal.items()
    ]
    csr = []
    for m, rule in model.csr.items():
        csr += [(year, m, ind, metal, f) for ind, (metal, f) in rule.by_indicator.items()]
        csr += [(year, m, None, metal, f) for metal, f in rule.otherwise.items()]
    return {
        "model_age": [(year, m, c.min_age, c.max_age) for m, c in model.model_ages.items()],
        "icd_hcc": [
            (year, r.icd10, r.valid_fy, r.valid_fy_next, *_limits(r.mce), *_limits(r.split), r.hcc)
            for r in model.icd
        ],
        "hierarchy": hierarchy,
        "model_var": [
            (year, m, var) for m, program in model.programs.items() for var in program.flags
        ],
        "rxc_code": [(year, *row) for row in model.rxc_codes],
        "coefficient": coefficients,
        "csr_factor": csr,
    }


def _limits(condition: AgeSexCondition) -> tuple[int | None, int | None, int | None]:
    return condition.min_age, condition.max_age, condition.sex
