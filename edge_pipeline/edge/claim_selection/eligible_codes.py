"""The DIY code lists claim selection joins against, as warehouse tables.

* ``ra_ref_service_code(benefit_year, code)`` -- CPT/HCPCS codes of DIY table 2 flagged as on
  the benefit year's included list (R03).
* ``ra_ref_ndc(benefit_year, ndc, rxc)`` -- DIY table 10a, NDC -> RXC (R13).

Why separate from Phase 1's ``ref_hcpcs`` / ``ref_ndc``: those answer "is this a real code"
(every table-2 row, eligible or not, plus everyday code lists) for every year at once; RA
selection needs "is this code eligible *in this benefit year*", and the table-2 flag differs
between years.  The ``ra_ref_`` prefix keeps them apart from the risk model's ``diy_*`` tables.

The CSVs are read from the reference directory at run time (never copied into the repository);
a missing benefit year is an error, because selecting with another year's list would silently
change which claims count.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from edge_pipeline.edge.reference import read_diy_rows

ELIGIBLE_CODE_DDL: dict[str, str] = {
    "ra_ref_service_code": "benefit_year INTEGER, code VARCHAR",
    "ra_ref_ndc": "benefit_year INTEGER, ndc VARCHAR, rxc VARCHAR",
}

_TABLE_2, _TABLE_10A = "table_2.csv", "table_10a.csv"


def ensure_eligible_code_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the two tables if they do not exist."""
    for table, ddl in ELIGIBLE_CODE_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl})")


def included_column(fieldnames: list[str], benefit_year: int) -> str:
    """The table-2 column flagging the benefit year's included list.

    The workbook spells it inconsistently (``in_cy2025_included_list?``,
    ``in_cy2024__included_list?``), so it is found by prefix and content, not by exact name.
    """
    for name in fieldnames:
        if name.startswith(f"in_cy{benefit_year}") and "included" in name:
            return name
    raise KeyError(f"DIY table 2 has no included-list column for {benefit_year}: {fieldnames}")


def eligible_service_codes(benefit_year: int) -> list[str]:
    """CPT/HCPCS codes on the benefit year's RA included list (flag ``yes``; ``N/A`` is not)."""
    rows = read_diy_rows(benefit_year, _TABLE_2)
    if not rows:
        return []
    names = list(rows[0])
    flag, code = included_column(names, benefit_year), names[0]
    found = {
        row[code].strip()
        for row in rows
        if (row.get(flag) or "").strip().lower() == "yes" and row[code]
    }
    return sorted(found)


def ndc_rxc_pairs(benefit_year: int) -> list[tuple[str, str]]:
    """(NDC, RXC) pairs of DIY table 10a of the benefit year."""
    rows = read_diy_rows(benefit_year, _TABLE_10A)
    pairs = {(row["ndc"].strip(), row["rxc"].strip()) for row in rows if row.get("ndc")}
    return sorted(pairs)


def load_eligible_codes(con: duckdb.DuckDBPyConnection, benefit_year: int) -> dict[str, int]:
    """Replace the benefit year's rows of both tables (inside the caller's transaction, if any).

    Idempotent: the same reference directory gives the same rows.  Returns row counts.
    """
    ensure_eligible_code_tables(con)
    codes = eligible_service_codes(benefit_year)
    pairs = ndc_rxc_pairs(benefit_year)
    batches = {
        "ra_ref_service_code": pa.table(
            {"benefit_year": pa.array([benefit_year] * len(codes), pa.int32()), "code": codes}
        ),
        "ra_ref_ndc": pa.table(
            {
                "benefit_year": pa.array([benefit_year] * len(pairs), pa.int32()),
                "ndc": [p[0] for p in pairs],
                "rxc": [p[1] for p in pairs],
            }
        ),
    }
    for table, rows in batches.items():
        con.execute(f"DELETE FROM {table} WHERE benefit_year = ?", [benefit_year])
        con.register("_ra_ref_rows", rows)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _ra_ref_rows")
        finally:
            con.unregister("_ra_ref_rows")
    return {table: rows.num_rows for table, rows in batches.items()}
