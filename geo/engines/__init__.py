"""Scan engines over the store: duckdb in process, dask on a cluster (layer 2)."""
