"""The embedded DuckDB warehouse, as every family uses it: opening it (:mod:`connection`,
:mod:`path`), whole-result queries (:mod:`query`) and rollback that keeps the first error
(:mod:`transaction`).  Each family's tables and loaders live in the family's package."""
