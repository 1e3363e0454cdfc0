"""Harewatch analysis library: hare coursing across seven police forces.

Pure functions and small classes over (Geo)DataFrames in British National
Grid (EPSG:27700). No user-interface code lives here.

The public API is re-exported here (geopandas style) and imported lazily on
first use, so ``import geo`` stays cheap for the CLI and the dask workers::

    import geo
    areas = geo.load_boundaries()
    result = geo.load_incidents("incidents.csv", areas)
    hotspots = geo.find_hotspots(result.accepted, eps_m=1500, min_samples=6)

Layers (``docs/architecture.md``): the pure core (this package's top-level
modules) at the bottom; ``geo.io`` (files, the store); ``geo.engines``
(duckdb, dask) and ``geo.pipeline`` (ingest, watcher); ``geo.cli`` on top.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.3.0"

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    # configuration and errors
    "Settings": "geo._config",
    "DEFAULTS": "geo._config",
    "HarewatchError": "geo.errors",
    "InputError": "geo.errors",
    "UnreadableFile": "geo.errors",
    "BoundariesNotFound": "geo.errors",
    "StoreError": "geo.errors",
    "StoreCorrupt": "geo.errors",
    "StoreWriteFailed": "geo.errors",
    # force areas
    "ForceAreas": "geo.areas",
    "assign_force": "geo.areas",
    "load_boundaries": "geo.io.boundaries",
    "read_boundaries": "geo.io.boundaries",
    # reading and validating
    "read_table": "geo.io.readers",
    "ValidationResult": "geo.validate.common",
    "validate_incidents": "geo.validate.incidents",
    "validate_sightings": "geo.validate.sightings",
    "check_file": "geo.pipeline.ingest",
    "load_incidents": "geo.pipeline.ingest",
    "load_sightings": "geo.pipeline.ingest",
    # analysis
    "season_of": "geo.seasons",
    "season_bounds": "geo.seasons",
    "filter_incidents": "geo.seasons",
    "find_hotspots": "geo.hotspots",
    "hotspots_with_trend": "geo.hotspots",
    "HotspotResult": "geo.hotspots",
    "dbscan_labels": "geo.hotspots",
    "vehicle_points": "geo.movements",
    "trips": "geo.movements",
    "border_crossings": "geo.movements",
    "ladder": "geo.offenders",
    "STAGES": "geo.offenders",
    "mask_frame": "geo.privacy",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
