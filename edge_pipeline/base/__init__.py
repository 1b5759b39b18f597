"""The shared base every data family builds on, and which imports no family.

What is the same whatever a file holds lives here: opening a delivered file safely
(:mod:`input_file`), its digest, safe names and error text, the registry of file loads, the
configuration-CSV reader, progress lines, and the DuckDB warehouse's connection, query and
transaction helpers (:mod:`warehouse`).  A family package (``edge_pipeline.edge`` for ACA EDGE)
imports from here; nothing here imports a family, so a new family plugs in beside the others.
"""
