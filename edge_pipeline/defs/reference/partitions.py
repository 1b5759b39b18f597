"""Benefit-year partitions: the DIY tables are per year, and CMS scores a whole year at once.

Dynamic, so that only the years that have data show up in the UI (a static list of every
supported year left a year "never materialized" forever).  A year becomes a partition when it
first gets data: the ``phase2_after_phase1`` sensor registers the years a ``shadow_phase1``
verdict touches (its ``benefit_years`` metadata), the outbox sensor the year of an RA report,
the demo the year it scores, each through :func:`benefit_year_requests` /
:func:`register_benefit_year`.  Only supported years are taken (the risk model ships DIY tables
for them, ``SUPPORTED_BENEFIT_YEARS``); any other year is refused as before.  A year's partition
scores every issuer and execution zone with enrollment in it (``ScoringRun``).
"""

from __future__ import annotations

import dagster as dg

from edge_pipeline.edge.ra_runs.runs import SUPPORTED_BENEFIT_YEARS

BENEFIT_YEARS_PARTITIONS_NAME = "benefit_years"

benefit_years = dg.DynamicPartitionsDefinition(name=BENEFIT_YEARS_PARTITIONS_NAME)

#: The partition keys a benefit year may take, in order.
SUPPORTED_YEAR_KEYS: tuple[str, ...] = tuple(str(year) for year in SUPPORTED_BENEFIT_YEARS)


def supported_year(year: object) -> bool:
    """Whether ``year`` (an int or a key) is a benefit year the risk model supports."""
    return str(year) in SUPPORTED_YEAR_KEYS


def benefit_year_requests(
    instance: dg.DagsterInstance, years: list[str]
) -> list[dg.AddDynamicPartitionsRequest]:
    """What a sensor returns to register the supported ``years`` not yet registered."""
    new = [
        year
        for year in dict.fromkeys(years)
        if supported_year(year)
        and not instance.has_dynamic_partition(BENEFIT_YEARS_PARTITIONS_NAME, year)
    ]
    return [dg.AddDynamicPartitionsRequest(BENEFIT_YEARS_PARTITIONS_NAME, new)] if new else []


def register_benefit_year(instance: dg.DagsterInstance, year: int | str) -> None:
    """Register ``year`` as a benefit-year partition (idempotent); refuses an unsupported one."""
    if not supported_year(year):
        raise ValueError(f"benefit year {year} is not supported ({', '.join(SUPPORTED_YEAR_KEYS)})")
    for request in benefit_year_requests(instance, [str(year)]):
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def registered_years(instance: dg.DagsterInstance) -> list[str]:
    """The registered benefit years, oldest first."""
    return sorted(instance.get_dynamic_partitions(BENEFIT_YEARS_PARTITIONS_NAME))
