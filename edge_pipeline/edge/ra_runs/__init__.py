"""An RA scoring run (issuer x execution zone x benefit year) and the Phase 2 tables it writes.

The shared ground of Phase 2: claim selection, scoring, transfer, the RA reports and their
reconciliation all key on :class:`runs.ScoringRun` and write the tables of :mod:`schema`; none
of them is imported here, so each can build on this package without a cycle.
"""
