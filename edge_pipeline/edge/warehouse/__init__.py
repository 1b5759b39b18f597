"""The DuckDB warehouse: schema derived from the layouts, and the one-transaction file loader."""
