"""HHS-HCC risk adjustment exactly as the CMS DIY software computes it, vectorized in DuckDB.

Public API:

* ``score_population(con, benefit_year, persons=, diagnoses=, ndcs=, hcpcs=, out_prefix=)``
  scores a whole population set-based (``scoring.py``);
* ``load_diy_model(year)`` / ``load_diy_tables(con, year)``: the validated DIY tables as a
  Python structure / as ``diy_*`` warehouse tables; ``DiyTableError`` when one is bad;
* ``csr_indicator_for(year, metal, csr_variant)``, ``enrollment_months(days)``,
  ``enrollment_months_sql(col)``;
* ``score_diy_files(folder, year, output)``: the DIY CSV interface (``edge-pipeline score-diy``).

Module map: ``conditions`` (age/sex texts), ``sas`` (SAS statement parser), ``program`` (a
model's statement program and the two stated intent rules), ``program_sql`` (program → SQL),
``diy_tables`` / ``diy_warehouse`` (reading / storing the tables), ``csr``, ``enrollment``,
``metals``, ``enrollees`` (Python objects ↔ input tables), ``baseline`` (per-enrollee Python
scorer), ``population`` (synthetic data), ``bench``.
"""

from edge_pipeline.edge.risk.csr_indicators import csr_indicator_for
from edge_pipeline.edge.risk.diy_io import DiyInputError, score_diy_files
from edge_pipeline.edge.risk.diy_tables import DiyModel, DiyTableError, load_diy_model
from edge_pipeline.edge.risk.diy_warehouse import load_diy_tables
from edge_pipeline.edge.risk.enrollment import enrollment_months, enrollment_months_sql
from edge_pipeline.edge.risk.scoring import score_population

__all__ = [
    "DiyInputError",
    "DiyModel",
    "DiyTableError",
    "csr_indicator_for",
    "enrollment_months",
    "enrollment_months_sql",
    "load_diy_model",
    "load_diy_tables",
    "score_diy_files",
    "score_population",
]
