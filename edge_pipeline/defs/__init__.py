"""Dagster definitions; ``edge_pipeline.definitions`` merges them.

* one sub-package per domain (``inbound``, ``reference``, ``phase1``, ``phase2``,
  ``reconciliation``, ``reporting``): its assets (each module declaring its asset keys and the
  checks its assets evaluate), jobs and resources, built into the domain's ``defs`` by
  ``domain.Domain``, which gives every asset the domain's group, owners, tags and writer pool;
* ``automation``: every sensor and schedule, the chain from a landed file to the reports;
* modules every domain shares: ``resources`` (data folders, the DuckDB warehouse, the writer
  pool), ``report_files`` (the outbox and the shadow reports folder), ``metadata`` and
  ``arrow_metadata`` (what an asset shows in the UI), ``check_specs``, ``domain``.

Imports run one way: the shared modules import no domain, a domain imports only the shared
modules and the domains upstream of it (Phase 2 imports Phase 1's asset keys, never the
reverse), and only ``automation`` imports the jobs of several domains.  The domain logic lives
in ``edge_pipeline.edge`` (pure Python, no Dagster), so the CLI and Dagster run the same code.
"""
