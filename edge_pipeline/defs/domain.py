"""What every asset of a domain shares, applied once when the domain builds its ``Definitions``.

A domain's assets are declared with what is particular to each (key, upstream assets, kinds,
partitions, checks, description); the group the UI shows them in, their owners, their tags and
the ``duckdb_writer`` concurrency pool are the domain's, stated once in its ``__init__``::

    PHASE1 = Domain("phase1", owners=owners("phase1"), tags=asset_tags("phase1"))
    defs = PHASE1.definitions(assets=[...], jobs=[...])

An asset that declares a group or owners of its own is refused, so the domain stays the one
place they are set.  Every asset that runs code gets the writer pool: each of them opens the
DuckDB warehouse, and DuckDB admits one writing process (``defs/resources.py``); external assets
(files Dagster observes but does not produce) run nothing and get none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.definitions.op_definition import OpDefinition

from edge_pipeline.defs.resources import DUCKDB_WRITER_POOL

AssetLike = dg.AssetsDefinition | dg.AssetSpec


@dataclass(frozen=True)
class Domain:
    """The group, owners and tags of a domain's assets, and the pool their ops run in."""

    group: str
    owners: Sequence[str]
    tags: Mapping[str, str] = field(default_factory=dict)
    pool: str = DUCKDB_WRITER_POOL

    def spec(self, spec: dg.AssetSpec) -> dg.AssetSpec:
        """``spec`` in this domain's group, owned by its owners, with its tags (the asset's own
        tags, such as its kinds, are kept and win over the domain's)."""
        if spec.group_name not in (None, "default") or spec.owners:
            raise dg.DagsterInvalidDefinitionError(
                f"{spec.key.to_user_string()} declares its own group or owners; they are the "
                f"domain's ({self.group}): see defs/domain.py"
            )
        return spec.replace_attributes(
            group_name=self.group,
            owners=list(self.owners),
            tags={**self.tags, **spec.tags},
        )

    def assets(self, assets: Sequence[AssetLike]) -> list[AssetLike]:
        """``assets`` with this domain's group, owners and tags, computed in its pool."""
        return [
            in_pool(asset, self.pool) if isinstance(asset, dg.AssetsDefinition) else asset
            for asset in dg.map_asset_specs(self.spec, assets)
        ]

    def definitions(self, *, assets: Sequence[AssetLike] = (), **kwargs: object) -> dg.Definitions:
        """The domain's ``Definitions``: ``assets`` as :meth:`assets` makes them, and the
        jobs, checks and resources of ``kwargs`` as given."""
        return dg.Definitions(assets=self.assets(assets), **kwargs)  # type: ignore[arg-type]


def in_pool(assets_def: dg.AssetsDefinition, pool: str) -> dg.AssetsDefinition:
    """``assets_def`` with its op in the concurrency pool ``pool`` (unchanged if it is already).

    The pool is a property of the op, not of the asset spec, and Dagster 1.13 has no public way
    to set it on a built asset: this is ``OpDefinition.with_replaced_properties`` with the pool
    added, and the asset rebuilt around the new op as ``map_asset_specs`` rebuilds it.
    ``test_dagster_defs`` and the definitions snapshot check every op reports its pool.
    """
    if not assets_def.is_executable:
        return assets_def
    op = assets_def.op
    if op.pool == pool:
        return assets_def
    if op.pool is not None:
        raise dg.DagsterInvalidDefinitionError(
            f"{op.name} runs in pool {op.pool}, not its domain's {pool}"
        )
    pooled = OpDefinition.dagster_internal_init(
        name=op.name,
        ins={input_def.name: dg.In.from_definition(input_def) for input_def in op.input_defs},
        outs={output_def.name: dg.Out.from_definition(output_def) for output_def in op.output_defs},
        compute_fn=op.compute_fn,
        config_schema=op.config_schema,
        description=op.description,
        tags=op.tags,
        required_resource_keys=op.required_resource_keys,
        code_version=op._version,  # what with_replaced_properties passes
        retry_policy=op.retry_policy,
        version=None,
        pool=pool,
    )
    return dg.AssetsDefinition.dagster_internal_init(
        **{**assets_def.get_attributes_dict(), "node_def": pooled}
    )
