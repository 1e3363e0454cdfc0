"""The data store: incidents and ANPR reads in Delta Lake tables, transactional and verified.

Layout under ``data_dir`` (see :mod:`geo.io.store.layout`)::

    tables/incidents/        Delta table of accepted incidents (unpartitioned)
    tables/sightings/        Delta table of accepted ANPR reads, partitioned by
                             season / London month / plate bucket; _layout.json
    rejects/                 rejected rows with reasons (CSV, formula-safe)
    alerts/alerts.sqlite     the watcher's alerts and processed-file ledger

* **Transactions** (:mod:`~geo.io.store.table`): an ingest, upgrade or
  compaction becomes visible all at once (one Delta commit) or not at all,
  after a crash, ``kill -9``, a full disk or a power cut; writers also hold
  an inter-process lock (``.harewatch-store.lock``).
* **Integrity** (:mod:`~geo.io.store.verify`): Parquet page checksums on
  write and read, each file's SHA-256 in its name (committed with it), and
  a manifest (file count and digest) in every commit; readers refuse a
  damaged or missing file with :class:`geo.errors.StoreCorrupt` naming it.
* **Corrections** (:mod:`~geo.io.store.write`): an incident id stored
  again with other content replaces the stored row; the previous version
  stays readable (``read_incidents(data_dir, version=...)``, :func:`store_history`).
* **Maintenance** (:mod:`~geo.io.store.maintain`): ``upgrade_store``
  (0.1.0/0.2.0 files into the tables), ``compact_sightings`` /
  ``compact_incidents``, ``vacuum_store``.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> module that defines it. Imported on first use (PEP 562), so reading the
#: store does not import the writers (and their geopandas/shapely validation) on the way.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        ["LegacyLayoutError", "StoreCorrupt", "StoreLockTimeout", "StoreWriteFailed"],
        "geo.errors",
    ),
    **dict.fromkeys(
        ["DEFAULT_BUCKETS", "DEFAULT_LOCK_TIMEOUT_S", "PLATE_HASH", "STORE_LOCK_FILE",
         "SightingsLayout", "default_data_dir", "fnv1a64", "init_sightings_store",
         "plate_buckets", "sightings_layout"],
        "geo.io.store.layout",
    ),
    **dict.fromkeys(
        ["CompactReport", "UpgradeReport", "compact_incidents", "compact_sightings",
         "upgrade_store", "vacuum_store"],
        "geo.io.store.maintain",
    ),
    **dict.fromkeys(
        ["incidents_paths", "read_incidents", "read_sightings", "sightings_partitions",
         "sightings_paths", "store_history", "store_version"],
        "geo.io.store.read",
    ),
    **dict.fromkeys(["VerifyReport", "store_stats", "verify_store"], "geo.io.store.verify"),
    **dict.fromkeys(["IngestReport", "ingest", "write_sightings"], "geo.io.store.write"),
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'geo.io.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_BUCKETS",
    "DEFAULT_LOCK_TIMEOUT_S",
    "PLATE_HASH",
    "STORE_LOCK_FILE",
    "fnv1a64",
    "CompactReport",
    "IngestReport",
    "UpgradeReport",
    "VerifyReport",
    "LegacyLayoutError",
    "SightingsLayout",
    "StoreCorrupt",
    "StoreLockTimeout",
    "StoreWriteFailed",
    "compact_incidents",
    "compact_sightings",
    "default_data_dir",
    "ingest",
    "incidents_paths",
    "init_sightings_store",
    "plate_buckets",
    "read_incidents",
    "read_sightings",
    "sightings_layout",
    "sightings_partitions",
    "sightings_paths",
    "store_history",
    "store_stats",
    "store_version",
    "upgrade_store",
    "vacuum_store",
    "verify_store",
    "write_sightings",
]
