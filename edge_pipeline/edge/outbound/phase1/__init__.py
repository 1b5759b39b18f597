"""Phase 1 reports (ESFAR, the detail and summary error reports): written from ``shadow_*``,
read into ``reported_*`` (layouts: ``layouts/outbound/es*.py``)."""
