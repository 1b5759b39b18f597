"""Phase 2 RA reports (RACSD, RACSS, RARSD, RARSS, RATEE): written from a scoring run's
``shadow_ra_*`` tables, read into ``reported_ra_*`` (layouts: ``layouts/outbound/ra*.py``)."""
