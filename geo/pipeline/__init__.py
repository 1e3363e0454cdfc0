"""Pipelines: the one read-validate-ingest path, and the ANPR folder watcher (layer 2)."""
