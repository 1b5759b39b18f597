"""Phase 2 of a benefit year end to end (:mod:`pipeline`): claim selection, scoring, transfer
and the shadow RA reports, chained for the CLI.  The top of the EDGE core: it imports the
concepts it chains, and none of them imports it."""
