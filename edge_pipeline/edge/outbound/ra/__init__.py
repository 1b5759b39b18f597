"""Phase 2 RA reports (RACSD, RACSS, RARSD, RARSS, RATEE, RAUF, HCRPSR, HCRPDE): written from a
scoring run's ``shadow_*`` tables, read into ``reported_*`` (layouts: ``layouts/outbound/ra*.py``,
``rauf.py``, ``hcrpsr.py``, ``hcrpde.py``)."""
