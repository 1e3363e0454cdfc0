"""Validation of input tables: column matching, published layouts, incidents, ANPR reads, cameras."""
