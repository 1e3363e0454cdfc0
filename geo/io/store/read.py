"""Reading the store: incidents, sightings, pruned file lists for the engines, history.

Every reader works on one snapshot (one table version) and checks the files
it is about to read against their recorded SHA-256 first
(:func:`geo.io.store.verify.check_files`); pyarrow also checks every page's
CRC. A damaged or missing file raises :class:`geo.errors.StoreCorrupt`
naming it. A store still in the 0.1.0/0.2.0 layout raises
:class:`geo.errors.LegacyLayoutError` (run ``harewatch store upgrade``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

from geo._config import DEFAULTS
from geo._frames import distinct_plates
from geo.errors import InputError, LegacyLayoutError, StoreCorrupt
from geo.io.store.layout import (
    PLATE_HASH,
    STORE_SORT_KEYS,
    month_window,
    plate_buckets,
    sightings_layout,
    store_root,
)
from geo.io.store.legacy import has_legacy_files
from geo.io.store.table import (
    INCIDENTS,
    OUTCOMES,
    SIGHTINGS,
    Snapshot,
    load_snapshot,
    parquet_format,
    table_dir,
    table_history,
)
from geo.io.store.verify import check_files
from geo.schema import BNG, INCIDENT_DEFAULTS

if TYPE_CHECKING:  # imported where used: readers that need no geometry skip geopandas
    import geopandas as gpd

__all__ = [
    "require_upgraded",
    "incidents_paths",
    "sightings_paths",
    "sightings_partitions",
    "read_incidents",
    "read_outcomes",
    "read_sightings",
    "store_version",
    "store_token",
    "store_stamp",
    "stored_rows",
    "store_history",
    "read_snapshot_table",
    "read_snapshot_files",
]


def require_upgraded(root: Path) -> None:
    """Raise :class:`LegacyLayoutError` while the store still holds 0.1.0/0.2.0 files."""
    if has_legacy_files(root):
        raise LegacyLayoutError(
            f"the store {root} still holds files of harewatch 0.1.0/0.2.0 (incidents/ or "
            "sightings/ with Parquet parts and no transaction log); run "
            f"`harewatch store upgrade --data-dir {root}` to move them into the tables first")


def _snapshot(data_dir, kind: str, version: int | None = None) -> Snapshot:
    root = store_root(data_dir)
    require_upgraded(root)
    return load_snapshot(table_dir(root, kind), version)


def incidents_paths(data_dir: str | os.PathLike) -> list[Path]:
    """Data files of the current incidents version, in the order they were added (not verified)."""
    return _snapshot(data_dir, INCIDENTS).absolute()


def _month_codes(labels: pd.Series) -> np.ndarray:
    text = labels.astype("str")
    return (text.str[:4].astype("int64") * 12 + text.str[5:7].astype("int64") - 1).to_numpy()


def _select(
    data_dir, season: str | None, start_month: int, time_range, plates: Iterable[str] | None,
    margin_h: float,
) -> tuple[Snapshot, pd.DataFrame]:
    """The current sightings snapshot and its files a filtered scan must read."""
    snap = _snapshot(data_dir, SIGHTINGS)
    files = snap.files
    window = month_window(season, start_month, time_range, margin_h)
    keep = np.ones(len(files), dtype=bool)
    if window is None:
        keep[:] = False
    elif window != (None, None) and len(files):
        codes = _month_codes(files["month"])
        lo, hi = window
        keep &= (codes >= (lo if lo is not None else codes.min()))
        keep &= (codes <= (hi if hi is not None else codes.max()))
    if plates is not None:
        plate_list = distinct_plates(plates)
        layout = sightings_layout(store_root(data_dir))
        if not plate_list:
            keep[:] = False
        elif layout.hash == PLATE_HASH and len(files):  # else plates may lie in any bucket
            wanted = set(plate_buckets(plate_list, layout.buckets).tolist())
            keep &= files["bucket"].astype("int64").isin(wanted).to_numpy()
    chosen = files[keep]
    return snap, chosen.sort_values(["season", "month", "bucket", "path"], kind="stable")


def _checked(snap: Snapshot, files: pd.DataFrame, verify: bool) -> list[Path]:
    paths = snap.absolute(files["path"].tolist())
    if verify:
        check_files(paths, files["size_bytes"].tolist(), files["sha256"].tolist(),
                    f"the table {snap.table_dir}")
    return paths


def sightings_paths(
    data_dir: str | os.PathLike,
    *,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    time_range: tuple | None = None,
    plates: Iterable[str] | None = None,
    margin_h: float = 0.0,
    verify: bool = True,
) -> list[Path]:
    """Data files of the current sightings version, pruned by month and plate bucket.

    The files hold every read a filtered scan needs, and usually others
    (whole months, whole buckets): filter the rows yourself. Only files of
    the current version are listed (never a file a compaction replaced or an
    interrupted write left behind), so the list can be handed to duckdb.

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
        hash to; an empty iterable gives no files.
    margin_h : float, default 0.0
        Hours read before the start of the window, e.g. the crossing scan's
        ``max_gap_h`` so a trip running into the season is complete.
    verify : bool, default True
        Check the listed files against their recorded SHA-256 first.

    Returns
    -------
    list of Path
        Sorted by season, month, bucket, then name.

    Raises
    ------
    StoreCorrupt
        A listed file is damaged or missing, or the log is (names them).
    LegacyLayoutError
        The store still has 0.1.0/0.2.0 files.
    """
    snap, files = _select(data_dir, season, start_month, time_range, plates, margin_h)
    return _checked(snap, files, verify)


def sightings_partitions(
    data_dir: str | os.PathLike,
    *,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    time_range: tuple | None = None,
    plates: Iterable[str] | None = None,
    margin_h: float = 0.0,
    verify: bool = True,
) -> dict[int, list[Path]]:
    """Files of each plate bucket, pruned as :func:`sightings_paths`.

    Every read of a plate lies in one bucket, so a per-plate scan can run
    one task per bucket without a shuffle.

    Returns
    -------
    dict of int to list of Path
        Bucket -> sorted files, buckets ascending; only buckets with files.
    """
    snap, files = _select(data_dir, season, start_month, time_range, plates, margin_h)
    paths = _checked(snap, files, verify)
    out: dict[int, list[Path]] = {}
    for bucket, path in zip(files["bucket"].astype("int64").tolist(), paths, strict=True):
        out.setdefault(bucket, []).append(path)
    return {b: sorted(out[b]) for b in sorted(out)}


def read_snapshot_files(table: str | os.PathLike) -> list[Path]:
    """Verified data files of the current version of a store table folder.

    Raises
    ------
    StoreCorrupt
        A file is damaged or missing, or the log is (named).
    """
    snap = load_snapshot(Path(table))
    return _checked(snap, snap.files, True)


def read_snapshot_table(snap: Snapshot, files: pd.DataFrame, columns: list[str] | None,
                        *, verify: bool = True, filter=None) -> pa.Table:
    """Rows of some files of a snapshot as one Arrow table (in the table schema).

    Files are verified first (``verify``); pyarrow checks page CRCs while
    reading. Missing columns of older files read as null.

    Raises
    ------
    StoreCorrupt
        A file is damaged or missing (named).
    """
    paths = _checked(snap, files, verify)
    if not paths:
        return snap.schema.empty_table() if columns is None else \
            snap.schema.empty_table().select(columns)
    dataset = pads.dataset([str(p) for p in paths], schema=snap.schema, format=parquet_format())
    try:
        return dataset.to_table(columns=columns, filter=filter)
    except (OSError, pa.ArrowInvalid) as exc:
        bad = _first_unreadable(paths, snap.schema)
        raise StoreCorrupt(f"a stored file of {snap.table_dir} cannot be read: {bad or exc}",
                           (str(bad or snap.table_dir),)) from exc


def _first_unreadable(paths: list[Path], schema: pa.Schema) -> str | None:
    for p in paths:
        try:
            pads.dataset(str(p), schema=schema, format=parquet_format()).to_table()
        except (OSError, pa.ArrowInvalid) as exc:
            return f"{p} ({str(exc).splitlines()[0]})"
    return None


def _with_geometry(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    import geopandas as gpd

    geom = gpd.points_from_xy(frame["easting"].to_numpy(dtype="float64"),
                              frame["northing"].to_numpy(dtype="float64"), crs=BNG)
    return gpd.GeoDataFrame(frame, geometry=geom, crs=BNG)


def read_incidents(
    data_dir: str | os.PathLike | None = None, *, version: int | None = None,
    geometry: bool = True,
) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """All stored incidents, None if none.

    Parameters
    ----------
    data_dir : path, optional
        Store root (default :func:`geo.io.store.layout.default_data_dir`).
    version : int, optional
        Time travel: the incidents as they were at this table version (see
        :func:`store_history`; e.g. before a correction).
    geometry : bool, default True
        Build the point geometry. False gives a plain DataFrame (no
        geopandas import, no point per row) for analyses that read
        ``easting``/``northing`` only, such as the offenders ladder.

    Returns
    -------
    GeoDataFrame, DataFrame or None
        The table's columns (``INCIDENT_COLUMNS``, plus any added later) and
        (``geometry=True``) point geometry from easting/northing (EPSG:27700),
        in the order the rows were stored.
    """
    snap = _snapshot(data_dir, INCIDENTS, version)
    if snap.version < 0 or snap.files.empty:
        return None
    frame = read_snapshot_table(snap, snap.files, None).to_pandas()
    for column, default in INCIDENT_DEFAULTS.items():  # rows stored before a column existed
        frame[column] = frame[column].fillna(default) if column in frame.columns else default
    return _with_geometry(frame) if geometry else frame


def read_outcomes(data_dir: str | os.PathLike | None = None) -> pd.DataFrame | None:
    """Stored data.police.uk outcomes (``crime_id``, month in ``occurred_at``, ``outcome``, ...).

    None when none were ingested.
    """
    root = store_root(data_dir)
    if not table_dir(root, OUTCOMES).exists():
        return None
    snap = load_snapshot(table_dir(root, OUTCOMES))
    if snap.version < 0 or snap.files.empty:
        return None
    return read_snapshot_table(snap, snap.files, None).to_pandas()


def read_sightings(
    data_dir: str | os.PathLike | None = None, columns: list[str] | None = None, *,
    version: int | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """All stored ANPR reads, None if none.

    Parameters
    ----------
    data_dir : path, optional
        Store root (default :func:`geo.io.store.layout.default_data_dir`).
    columns : list of str, optional
        Columns to read; a plain DataFrame is returned when ``"geometry"`` is
        not among them (cheaper for large stores), a GeoDataFrame otherwise.
    version : int, optional
        Time travel to this table version.

    Returns
    -------
    GeoDataFrame, DataFrame or None
        ``SIGHTING_COLUMNS`` (plus any added later) + geometry (EPSG:27700),
        or ``columns``; no partition columns. Rows sorted by ``read_at``,
        ``vrm``, ``camera_id``, ``source_row`` (stable), index 0..n-1.
    """
    snap = _snapshot(data_dir, SIGHTINGS, version)
    if snap.version < 0 or snap.files.empty:
        return None
    names = snap.schema.names
    want = [*names, "geometry"] if columns is None else list(columns)
    unknown = [c for c in want if c not in names and c != "geometry"]
    if unknown:
        raise InputError(f"stored sightings have no column(s): {', '.join(unknown)}")
    keys = [c for c in STORE_SORT_KEYS if c in names]
    read = list(dict.fromkeys([*(c for c in want if c != "geometry"), *keys,
                               *(("easting", "northing") if "geometry" in want else ())]))
    table = read_snapshot_table(snap, snap.files, read)
    frame = table.sort_by([(c, "ascending") for c in keys]).to_pandas()
    if "geometry" not in want:
        return frame[want]
    return _with_geometry(frame)[want]


def stored_rows(data_dir: str | os.PathLike, table: str) -> int:
    """Rows of a table's current version, from its log (no data file read).

    Raises
    ------
    LegacyLayoutError
        The store still has 0.1.0/0.2.0 files.
    StoreCorrupt
        The log is damaged.
    """
    return _snapshot(data_dir, table).rows


def store_version(data_dir: str | os.PathLike) -> dict[str, int]:
    """Current version of each table (-1: not created yet); cheap, no data read."""
    root = store_root(data_dir)
    return {kind: load_snapshot(table_dir(root, kind), check=False).version
            for kind in (INCIDENTS, SIGHTINGS)}


def store_token(data_dir: str | os.PathLike) -> tuple[int, ...]:
    """A cheap change token of the store: the newest commit of each table (-1: none), read
    from the names in its Delta log folder (one directory listing per table, no file read).

    It changes with every ingest, correction, compaction or upgrade; equal tokens mean
    the same data (as :func:`store_version`, without opening the tables).
    """
    root = store_root(data_dir)
    out = []
    for kind in (INCIDENTS, SIGHTINGS, OUTCOMES):
        newest = -1
        try:
            with os.scandir(table_dir(root, kind) / "_delta_log") as entries:
                for e in entries:
                    name = e.name
                    if len(name) == 25 and name.endswith(".json") and name[:20].isdigit():
                        newest = max(newest, int(name[:20]))
        except OSError:
            pass
        out.append(newest)
    return tuple(out)


def store_stamp(data_dir: str | os.PathLike) -> tuple[tuple[int, int], ...]:
    """:func:`store_token` with the modification time (ns) of each table's newest commit file:
    ``((version, mtime_ns), ...)``, ``(-1, 0)`` for a table with none. Commit files are never
    rewritten, so a store deleted and made again at the same versions stamps differently
    (what a cache kept across processes needs; one ``stat`` per table on top of the token).
    """
    root = store_root(data_dir)
    out = []
    for kind, version in zip((INCIDENTS, SIGHTINGS, OUTCOMES), store_token(data_dir), strict=True):
        mtime = 0
        if version >= 0:
            with contextlib.suppress(OSError):
                mtime = (table_dir(root, kind) / "_delta_log" / f"{version:020d}.json").stat().st_mtime_ns
        out.append((version, mtime))
    return tuple(out)


def store_history(data_dir: str | os.PathLike, table: str = INCIDENTS,
                  limit: int | None = None) -> pd.DataFrame:
    """The versions of a table, newest first.

    Parameters
    ----------
    data_dir : path
        Store root.
    table : {"incidents", "sightings"}
    limit : int, optional
        At most this many versions.

    Returns
    -------
    DataFrame
        ``version``, ``at`` (UTC), ``operation`` (harewatch's: ingest,
        compact, upgrade...), ``rows_added``, ``rows_corrected``, ``files``,
        ``rows`` (live after the commit).
    """
    entries = table_history(table_dir(store_root(data_dir), table), limit)
    rows = [{
        "version": int(e.get("version", -1)),
        "at": pd.Timestamp(int(e.get("timestamp", 0)), unit="ms", tz="UTC"),
        "operation": str(e.get("harewatch.op", e.get("operation", ""))),
        "rows_added": int(e.get("harewatch.rows_added", 0) or 0),
        "rows_corrected": int(e.get("harewatch.rows_corrected", 0) or 0),
        "files": int(e.get("harewatch.files", -1)),
        "rows": int(e.get("harewatch.rows", -1)),
    } for e in entries]
    cols = ["version", "at", "operation", "rows_added", "rows_corrected", "files", "rows"]
    return pd.DataFrame(rows, columns=cols)
