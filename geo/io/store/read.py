"""Reading the store: incidents, sightings, and pruned file lists for the engines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from geo._config import DEFAULTS
from geo._frames import distinct_plates
from geo.errors import InputError, LegacyLayoutError
from geo.io.store.layout import (
    PLATE_HASH,
    STORE_SORT_KEYS,
    flat_files,
    incidents_paths,
    month_window,
    partition_files,
    plate_buckets,
    sightings_layout,
    store_root,
)
from geo.schema import BNG, INCIDENT_COLUMNS, INCIDENT_DEFAULTS, SIGHTING_COLUMNS

__all__ = [
    "partition_files",
    "sightings_paths",
    "sightings_partitions",
    "read_incidents",
    "read_sightings",
]






def _select(
    data_dir: str | os.PathLike,
    season: str | None,
    start_month: int,
    time_range,
    plates: Iterable[str] | None,
    margin_h: float,
) -> tuple[list[Path], list[tuple[int, int, Path]]]:
    """(legacy flat files, partitioned files) a filtered scan must read."""
    root = Path(data_dir)
    folder = root / "sightings"
    window = month_window(season, start_month, time_range, margin_h)
    wanted = None
    if plates is not None:
        plate_list = distinct_plates(plates)
        if not plate_list:
            return [], []
        layout = sightings_layout(root)
        if layout.hash == PLATE_HASH:  # else plates may lie in any bucket: read all
            wanted = set(plate_buckets(plate_list, layout.buckets).tolist())
    if window is None:
        return [], []
    lo, hi = window

    def keep_month(code: int) -> bool:
        return (lo is None or code >= lo) and (hi is None or code <= hi)

    def keep_bucket(bucket: int) -> bool:
        return wanted is None or bucket in wanted

    return flat_files(folder), partition_files(folder, keep_month, keep_bucket)


def sightings_paths(
    data_dir: str | os.PathLike,
    *,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    time_range: tuple | None = None,
    plates: Iterable[str] | None = None,
    margin_h: float = 0.0,
) -> list[Path]:
    """Parquet files holding stored ANPR reads, pruned by month and plate bucket.

    The files hold every read a filtered scan needs, and usually others
    (whole months, whole buckets): filter the rows yourself. Flat files of a
    0.1.0 store (``sightings/part-*.parquet``) are always included.

    Parameters
    ----------
    data_dir : path
        Store root.
    season : str, optional
        Season label (as :func:`geo.seasons.season_bounds`, with
        ``start_month``, which may differ from the store's): keep the London
        months overlapping ``[season start - margin_h, season end)``.
    start_month : int, default 9
        Month ``season`` starts in.
    time_range : (Timestamp, Timestamp), optional
        Tz-aware ``(lo, hi)``, either may be None (open): keep the London
        months overlapping ``[lo - margin_h, hi]``. With ``season`` too, the
        intersection.
    plates : iterable of str, optional
        Only the buckets these plates (normalised: upper case, no spaces)
        hash to; an empty iterable gives no files. Not pruned when the
        store's plate hash is not :data:`PLATE_HASH`.
    margin_h : float, default 0.0
        Hours read before the start of the window, e.g. the crossing scan's
        ``max_gap_h`` so a trip running into the season is complete.

    Returns
    -------
    list of Path
        Sorted (legacy flat files first, then season, month, bucket order);
        hidden files are never listed.
    """
    legacy, parts = _select(data_dir, season, start_month, time_range, plates, margin_h)
    return [*legacy, *sorted(p for _, _, p in parts)]


def sightings_partitions(
    data_dir: str | os.PathLike,
    *,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    time_range: tuple | None = None,
    plates: Iterable[str] | None = None,
    margin_h: float = 0.0,
) -> dict[int, list[Path]]:
    """Files of each plate bucket, pruned as :func:`sightings_paths`.

    Every read of a plate lies in one bucket, so a per-plate scan can run
    one task per bucket without a shuffle.

    Returns
    -------
    dict of int to list of Path
        Bucket -> sorted files, buckets ascending; only buckets with files.

    Raises
    ------
    LegacyLayoutError
        The store still has flat 0.1.0 files (not bucketed by plate).
    """
    legacy, parts = _select(data_dir, season, start_month, time_range, plates, margin_h)
    if not legacy:
        legacy = flat_files(Path(data_dir) / "sightings")  # even when pruned to nothing
    if legacy:
        raise LegacyLayoutError(
            f"the sightings store {Path(data_dir) / 'sightings'} has {len(legacy)} file(s) in "
            "the old flat layout (sightings/part-*.parquet), which are not partitioned by plate; "
            f"run `harewatch store upgrade --data-dir {data_dir}` first"
        )
    out: dict[int, list[Path]] = {}
    for _, bucket, path in parts:
        out.setdefault(bucket, []).append(path)
    return {b: sorted(out[b]) for b in sorted(out)}


def _read(paths: list[Path], columns: list[str] | None):
    if not paths:
        return None
    if columns is not None and "geometry" not in columns:
        table = pq.ParquetDataset([str(p) for p in paths]).read(columns=list(columns))
        return table.to_pandas()
    frames = [gpd.read_parquet(p, columns=columns) for p in paths]
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frames[0].crs)


def read_incidents(data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame | None:
    """All stored incidents (``INCIDENT_COLUMNS`` + geometry, EPSG:27700), None if none.

    Rows stored by an older version get the columns added since with their
    :data:`~geo.schema.INCIDENT_DEFAULTS`.
    """
    out = _read(incidents_paths(store_root(data_dir)), None)
    if out is None:
        return None
    for column, default in INCIDENT_DEFAULTS.items():
        out[column] = out[column].fillna(default) if column in out.columns else default
    return out[[*INCIDENT_COLUMNS, "geometry"]]


def read_sightings(
    data_dir: str | os.PathLike | None = None, columns: list[str] | None = None
) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """All stored ANPR reads, None if none.

    Parameters
    ----------
    data_dir : path, optional
        Store root (default :func:`default_data_dir`).
    columns : list of str, optional
        Columns to read; a plain DataFrame is returned when ``"geometry"`` is
        not among them (cheaper for large stores), a GeoDataFrame otherwise.

    Returns
    -------
    GeoDataFrame, DataFrame or None
        ``SIGHTING_COLUMNS`` + geometry (EPSG:27700), or ``columns``; no
        partition columns. Rows sorted by ``read_at``, ``vrm``, ``camera_id``,
        ``source_row`` (stable), index 0..n-1.
    """
    paths = sightings_paths(store_root(data_dir))
    if not paths:
        return None
    # schema of a partitioned file when there is one (legacy files sort first)
    schema = pq.read_schema(paths[-1])
    dataset = pads.dataset([str(p) for p in paths], schema=schema, format="parquet")
    want = [*SIGHTING_COLUMNS, "geometry"] if columns is None else list(columns)
    unknown = [c for c in want if c not in schema.names]
    if unknown:
        raise InputError(f"stored sightings have no column(s): {', '.join(unknown)}")
    keys = [c for c in STORE_SORT_KEYS if c in schema.names]
    table = dataset.to_table(columns=list(dict.fromkeys([*want, *keys])))
    table = table.sort_by([(c, "ascending") for c in keys]).select(want)
    if "geometry" not in want:
        return table.to_pandas()
    gdf = gpd.GeoDataFrame.from_arrow(table, geometry="geometry")
    return gdf if gdf.crs is not None else gdf.set_crs(BNG)
