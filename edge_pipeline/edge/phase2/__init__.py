"""Phase 2 (risk adjustment): the tables RA claim selection, scoring and the RA reports share."""
