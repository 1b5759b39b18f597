"""The reference tables the referential checks join against, as one unpartitioned asset.

One asset for the four tables (plan registry, ICD-10-CM, NDC, CPT/HCPCS) because
``load_reference_tables`` replaces them together in one transaction: they are one snapshot.
Its data version is a digest of the issuer's input files, so the UI tells when a reload
changed nothing.  Metadata: row counts and source paths, no member data (there is none in
reference data).
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context type, resources) at definition time and needs real types, not strings.
import hashlib
from pathlib import Path

import dagster as dg

from edge_pipeline.base.digest import sha256_file
from edge_pipeline.defs.metadata import table_metadata
from edge_pipeline.defs.reference.partitions import benefit_years
from edge_pipeline.defs.reference.resources import IssuerReferenceResource
from edge_pipeline.defs.resources import WarehouseResource
from edge_pipeline.edge.reference import diy_dir
from edge_pipeline.edge.risk import DiyTableError, load_diy_tables
from edge_pipeline.edge.verification import load_reference_tables
from edge_pipeline.edge.verification.reference_tables import REFERENCE_DDL

REFERENCE_TABLES = dg.AssetKey("reference_tables")


@dg.asset(
    key=REFERENCE_TABLES,
    kinds={"duckdb"},
    description=(
        "Reference tables of the Phase 1 referential checks: ref_plan (the issuer's HIOS plan "
        "registry), ref_icd10cm, ref_ndc and ref_hcpcs (DIY tables plus the issuer's extra "
        "code lists), and ref_source (what was loaded). Replaced together in one transaction; "
        "materialize again when the issuer's registry or code lists change."
    ),
    metadata={"warehouse_tables": ", ".join(REFERENCE_DDL)},
)
def reference_tables(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    issuer_reference: IssuerReferenceResource,
) -> dg.MaterializeResult:
    """Load the reference tables from the configured issuer folder."""
    registry = issuer_reference.registry_path
    if not registry.is_file():
        raise dg.Failure(
            description=(
                f"no plan registry at {registry}: point EDGE_PLAN_REGISTRY (or the "
                "issuer_reference resource) at the issuer's plan_registry.csv; `make demo` "
                "copies the synthetic issuer's there"
            ),
            allow_retries=False,
        )
    code_lists = issuer_reference.code_list_files()
    with warehouse.get_connection() as con:
        loaded = load_reference_tables(con, registry, [issuer_reference.code_list_dir])
        tables = table_metadata(con, list(REFERENCE_DDL), preview_table="ref_plan")
    context.log.info(
        "reference tables loaded: %s",
        ", ".join(f"{table} {rows}" for table, rows in loaded.rows.items()),
    )
    return dg.MaterializeResult(
        metadata={
            **tables,
            **{f"rows/{table}": rows for table, rows in loaded.rows.items()},
            "benefit_years": ", ".join(map(str, loaded.benefit_years)),
            "plan_registry": str(registry),
            "code_lists": ", ".join(p.name for p in code_lists) or "none",
        },
        data_version=dg.DataVersion(_inputs_digest([registry, *code_lists])),
    )


def _inputs_digest(paths: list[Path]) -> str:
    """One digest over the issuer's input files (names and contents)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.name}:{sha256_file(path)}\n".encode())
    return digest.hexdigest()


DIY_TABLES = dg.AssetKey("diy_tables")


@dg.asset(
    key=DIY_TABLES,
    partitions_def=benefit_years,
    kinds={"duckdb"},
    description=(
        "The CMS DIY HHS-HCC tables of the benefit year (tables 1-13: ICD-10-CM to CC, "
        "hierarchies, groups, interactions, coefficients, NDC/HCPCS to RXC, CSR factors), read "
        "from EDGE_REFERENCE_DIR and validated; a missing or malformed table fails naming the "
        "file. Replaced for the year in one transaction."
    ),
)
def diy_tables(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Load and validate the year's DIY tables into the warehouse."""
    year = int(context.partition_key)
    try:
        with warehouse.get_connection() as con:
            loaded = load_diy_tables(con, year)
            tables = table_metadata(
                con, list(loaded), ("benefit_year = ?", [year]), preview_table="diy_coefficient"
            )
    except (DiyTableError, FileNotFoundError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    context.log.info("DIY tables of BY%d loaded", year)
    return dg.MaterializeResult(
        metadata={
            **tables,
            "reference_dir": str(diy_dir(year)),
            **{f"rows/{table}": rows for table, rows in loaded.items()},
        },
        data_version=dg.DataVersion(_inputs_digest(sorted(diy_dir(year).iterdir()))),
    )
