"""Stores written by harewatch 0.1.0 and 0.2.0: found and read, for ``harewatch store upgrade``.

Layouts before the Delta tables (see :mod:`geo.io.store.layout`)::

    incidents/part-<stamp>-<uuid>.parquet                        0.1.0 and 0.2.0
    sightings/part-<stamp>-<uuid>.parquet                        0.1.0 (flat)
    sightings/_layout.json                                       0.2.0 (version 2)
    sightings/season=<label>/month=<YYYY-MM>/bucket=<NN>/part-*.parquet   0.2.0

These files carry no transaction log and no content hashes; nothing reads
them any more except :func:`geo.io.store.maintain.upgrade_store`, which
moves them into the tables.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geo.errors import InputError
from geo.io.store.layout import (
    BUCKET_RE,
    LAYOUT_FILE,
    MONTH_RE,
    SEASON_RE,
    SightingsLayout,
    read_layout_file,
)

__all__ = [
    "LEGACY_LAYOUT_VERSION",
    "legacy_incident_files",
    "legacy_sighting_files",
    "legacy_layout",
    "has_legacy_files",
    "read_legacy_file",
]

#: ``_layout.json`` version of the 0.2.0 hive layout.
LEGACY_LAYOUT_VERSION = 2


def _visible(name: str) -> bool:
    return not name.startswith((".", "_"))


def _flat(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.parquet") if _visible(p.name) and p.is_file())


def _entries(path: Path) -> list[os.DirEntry]:
    with os.scandir(path) as it:
        return sorted((e for e in it if _visible(e.name)), key=lambda e: e.name)


def _partitioned(folder: Path) -> list[Path]:
    """``season=/month=/bucket=/*.parquet`` files of a 0.2.0 sightings folder."""
    out: list[Path] = []
    if not folder.is_dir():
        return out
    for s in _entries(folder):
        if not s.is_dir():
            continue
        if not SEASON_RE.match(s.name):
            raise InputError(f"unexpected folder {s.path} in the 0.2.0 sightings store")
        for m in _entries(Path(s.path)):
            if not (MONTH_RE.match(m.name) and m.is_dir()):
                raise InputError(f"unexpected entry {m.path} in the 0.2.0 sightings store")
            for b in _entries(Path(m.path)):
                if not (BUCKET_RE.match(b.name) and b.is_dir()):
                    raise InputError(f"unexpected entry {b.path} in the 0.2.0 sightings store")
                out += _flat(Path(b.path))
    return out


def legacy_incident_files(root: str | os.PathLike) -> list[Path]:
    """0.1.0/0.2.0 incident files (``<root>/incidents/*.parquet``), sorted."""
    return _flat(Path(root) / "incidents")


def legacy_sighting_files(root: str | os.PathLike) -> list[Path]:
    """0.1.0 flat and 0.2.0 partitioned sightings files (flat first, then by folder)."""
    folder = Path(root) / "sightings"
    return [*_flat(folder), *_partitioned(folder)]


def legacy_layout(root: str | os.PathLike) -> SightingsLayout | None:
    """The 0.2.0 ``sightings/_layout.json``, None when there is none."""
    path = Path(root) / "sightings" / LAYOUT_FILE
    return read_layout_file(path, LEGACY_LAYOUT_VERSION) if path.is_file() else None


def has_legacy_files(root: str | os.PathLike) -> bool:
    """Whether the store still has an ``incidents/`` or ``sightings/`` folder of 0.1.0/0.2.0
    with anything in it (cheap: no walk)."""
    for name in ("incidents", "sightings"):
        folder = Path(root) / name
        if folder.is_dir() and any(_visible(e.name) for e in _entries(folder)):
            return True
    return False


def read_legacy_file(path: Path) -> pd.DataFrame:
    """One legacy file as a frame (geometry, if any, dropped: it is rebuilt from easting/northing).

    Raises
    ------
    InputError
        The file cannot be read (names it).
    """
    import geopandas as gpd  # only legacy GeoParquet files need it

    try:
        geo = b"geo" in (pq.read_schema(path).metadata or {})
        frame = gpd.read_parquet(path) if geo else pq.read_table(path).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot read this stored file ({exc})") from exc
    return pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns]))
