"""Dagster definitions, one sub-package per domain; ``edge_pipeline.definitions`` merges them.

The domain logic lives in ``edge_pipeline.edge`` (pure Python, no Dagster); these modules only
wire it to partitions, resources, assets, sensors and jobs, so the CLI and Dagster run the very
same code.
"""
