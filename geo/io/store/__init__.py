"""Append validated incidents and ANPR reads to a GeoParquet store, idempotently.

Layout under ``data_dir``::

    incidents/part-<UTC stamp>-<uuid>.parquet      accepted incidents (GeoParquet, EPSG:27700)
    sightings/_layout.json                         {"version": 2, "buckets": 16,
                                                    "season_start_month": 9, "hash": "..."}
    sightings/season=<label>/month=<YYYY-MM>/bucket=<NN>/part-<UTC stamp>-<uuid>.parquet
                                                   accepted ANPR reads (hive partitions)
    rejects/<kind>-<UTC stamp>-<uuid8>.csv         rejected rows with reasons (row, id, reason)

Sightings are partitioned by the Europe/London calendar month of ``read_at``
(``month``), the coursing season of that month (``season``, see
:func:`geo.seasons.season_of` with the layout's ``season_start_month``) and a
stable hash of the plate modulo the layout's ``buckets`` (``bucket``, two
digits), so every read of one plate in one month lies in one directory.
Scans prune by season / time range (month directories) and by plate (bucket
directories): see :func:`sightings_paths` and :func:`sightings_partitions`.
Stores written by harewatch 0.1.0 keep their reads in flat
``sightings/part-*.parquet`` files; they are still read (never pruned) until
``harewatch store upgrade`` (:func:`upgrade_sightings_store`) moves them into
the layout.

Files are written to a hidden ``.tmp-*`` file and renamed into place, so
readers never see a half-written file; hidden files are ignored everywhere.

Every write (:func:`ingest`, :func:`write_sightings`,
:func:`upgrade_sightings_store`, :func:`compact_sightings`) holds an
exclusive inter-process lock on ``<data_dir>/.harewatch-store.lock`` from its
duplicate check to its last file, waiting up to ``lock_timeout_s``; readers
never lock. :func:`compact_sightings` rewrites the many small parts that
ingests leave in a ``season=/month=/bucket=`` folder as one sorted file.

Ingesting is idempotent: rows whose key is already stored are not written
again and are counted as "already stored". Keys: ``incident_id`` for
incidents (an incident id already stored with different content keeps the
stored version); plate + time + camera (or position when no camera) for
reads (:func:`geo.sightings.sighting_keys`). For reads only the month/bucket
directories the batch touches are checked, and only inside the batch's time
range, so the check stays cheap on a large store.

The rejects CSV is safe to open in a spreadsheet: a cell starting with
``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'`` so
it is never run as a formula.
"""

from __future__ import annotations

from geo._frames import fnv1a64
from geo.errors import LegacyLayoutError, StoreLockTimeout
from geo.io.store.layout import (
    DEFAULT_BUCKETS,
    DEFAULT_LOCK_TIMEOUT_S,
    PLATE_HASH,
    STORE_LOCK_FILE,
    SightingsLayout,
    default_data_dir,
    incidents_paths,
    init_sightings_store,
    plate_buckets,
    sightings_layout,
)
from geo.io.store.maintain import CompactReport, compact_sightings, upgrade_sightings_store
from geo.io.store.read import read_incidents, read_sightings, sightings_partitions, sightings_paths
from geo.io.store.write import IngestReport, ingest, write_sightings

__all__ = [
    "DEFAULT_BUCKETS",
    "DEFAULT_LOCK_TIMEOUT_S",
    "PLATE_HASH",
    "fnv1a64",
    "STORE_LOCK_FILE",
    "CompactReport",
    "IngestReport",
    "LegacyLayoutError",
    "SightingsLayout",
    "StoreLockTimeout",
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
    "upgrade_sightings_store",
    "write_sightings",
]
