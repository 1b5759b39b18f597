"""How every domain declares its asset checks: partitioned like the asset they check.

Partitioned checks are a Dagster preview feature in 1.13; the UI then shows each partition's
own result rather than whichever partition ran last.  The preview warning is silenced here,
where that choice is made once for every domain.
"""

from __future__ import annotations

import warnings

import dagster as dg


def partitioned_check_spec(
    name: str,
    asset: dg.AssetKey,
    description: str,
    *,
    blocking: bool,
    partitions_def: dg.PartitionsDefinition,
) -> dg.AssetCheckSpec:
    """An ``AssetCheckSpec`` partitioned by ``partitions_def`` (the asset's partitions)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name,
            asset=asset,
            description=description,
            blocking=blocking,
            partitions_def=partitions_def,
        )
