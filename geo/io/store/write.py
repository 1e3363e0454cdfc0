"""Writing to the store: idempotent ingest of validated incidents and sightings, rejects.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from geo.errors import InputError
from geo.io.store.layout import (
    DEFAULT_LOCK_TIMEOUT_S,
    LAYOUT_FILE,
    MAX_BUCKETS,
    PLATE_HASH,
    SightingsLayout,
    flat_files,
    init_sightings_store,
    month_codes,
    month_name,
    partition_files,
    plate_buckets,
    season_name,
    sightings_layout,
    store_root,
    writer_lock,
)
from geo.schema import BNG, INCIDENT_COLUMNS, SIGHTING_COLUMNS
from geo.validate.common import ValidationResult
from geo.validate.sightings import SIGHTING_KEY, sighting_keys

__all__ = [
    "IngestReport",
    "stamp_token",
    "writable_layout",
    "as_sightings_gdf",
    "partition_keys",
    "to_geoarrow",
    "write_groups",
    "write_sightings",
    "stored_read_keys",
    "new_mask",
    "ingest",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")




@dataclass(frozen=True)
class IngestReport:
    """What one :func:`ingest` call did.

    Attributes
    ----------
    kind : {"incidents", "sightings"}
    rows_added : int
        Accepted rows written to the store.
    rows_already_stored : int
        Accepted rows whose key was already stored (not written again).
    rows_rejected : int
        Rejected rows written to the rejects CSV.
    part_path : Path or None
        The first parquet file written (None when nothing was new).
    rejects_path : Path or None
        The rejects CSV written (None when nothing was rejected).
    part_paths : tuple of Path
        Every parquet file written (reads: one per season/month/bucket touched).
    """

    kind: str
    rows_added: int
    rows_already_stored: int
    rows_rejected: int
    part_path: Path | None
    rejects_path: Path | None
    part_paths: tuple[Path, ...] = ()

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {
            "kind": self.kind,
            "rows_added": self.rows_added,
            "rows_already_stored": self.rows_already_stored,
            "rows_rejected": self.rows_rejected,
            "part_path": None if self.part_path is None else str(self.part_path),
            "rejects_path": None if self.rejects_path is None else str(self.rejects_path),
            "part_paths": [str(p) for p in self.part_paths],
        }


def stamp_token() -> tuple[str, str]:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"), uuid.uuid4().hex


def writable_layout(root: Path) -> SightingsLayout:
    """The store's layout (created when missing); refuse a plate hash this code lacks."""
    if (root / "sightings" / LAYOUT_FILE).is_file():
        layout = sightings_layout(root)
    else:
        layout = init_sightings_store(root)
    if layout.hash != PLATE_HASH:
        raise InputError(
            f"the sightings store {root / 'sightings'} was bucketed with plate hash "
            f"{layout.hash!r}; this harewatch uses {PLATE_HASH!r} and cannot add reads to it"
        )
    return layout


def as_sightings_gdf(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    missing = [c for c in SIGHTING_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"sightings frame lacks column(s): {', '.join(missing)}")
    times = frame["read_at"]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise InputError(f"read_at must be timezone-aware (UTC), got {times.dtype}")
    if times.isna().any():
        raise InputError(f"read_at is missing in row(s) {np.flatnonzero(times.isna())[:5] + 1}")
    if isinstance(frame, gpd.GeoDataFrame) and "geometry" in frame.columns:
        return gpd.GeoDataFrame(frame[[*SIGHTING_COLUMNS, "geometry"]], geometry="geometry",
                                crs=frame.crs or BNG)
    geom = gpd.points_from_xy(frame["easting"].to_numpy(dtype="float64"),
                              frame["northing"].to_numpy(dtype="float64"), crs=BNG)
    return gpd.GeoDataFrame(frame[SIGHTING_COLUMNS], geometry=geom, crs=BNG)


def partition_keys(frame: pd.DataFrame, layout: SightingsLayout) -> tuple[np.ndarray, np.ndarray]:
    """(London month code, plate bucket) of each read."""
    return month_codes(frame["read_at"]), plate_buckets(frame["vrm"], layout.buckets)


def to_geoarrow(gdf: gpd.GeoDataFrame) -> pa.Table:
    """Non-empty reads as one Arrow table with GeoParquet metadata (geoarrow points).

    Converted once per batch, then sliced per partition. The ``geo`` metadata
    is geopandas' own (taken from a one-row GeoParquet) without the optional
    ``bbox``, which would differ per file.
    """
    table = pa.table(gdf.to_arrow(index=False, geometry_encoding="geoarrow", interleaved=False))
    buf = io.BytesIO()
    gdf.iloc[:1].to_parquet(buf, index=False, geometry_encoding="geoarrow")
    geo = json.loads(pq.read_schema(pa.BufferReader(buf.getvalue())).metadata[b"geo"])
    for column in geo["columns"].values():
        column.pop("bbox", None)
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"geo": json.dumps(geo).encode("utf-8")})


def write_groups(
    gdf: gpd.GeoDataFrame, months: np.ndarray, buckets: np.ndarray, root: Path,
    layout: SightingsLayout,
) -> list[Path]:
    """One GeoParquet file per (month, bucket) of ``gdf`` (rows keep their order)."""
    if len(gdf) == 0:
        return []
    stamp, token = stamp_token()
    group = months * MAX_BUCKETS + buckets
    order = np.argsort(group, kind="stable")
    keys, starts = np.unique(group[order], return_index=True)
    ends = [*starts[1:], len(order)]
    table = to_geoarrow(gdf)
    written: list[Path] = []
    seasons: dict[int, str] = {}
    for key, a, b in zip(keys.tolist(), starts.tolist(), ends, strict=True):
        code, bucket = divmod(key, MAX_BUCKETS)
        if code not in seasons:
            seasons[code] = season_name(code, layout.season_start_month)
        folder = (root / "sightings" / f"season={seasons[code]}" / f"month={month_name(code)}"
                  / f"bucket={bucket:02d}")
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{stamp}-{token}.parquet"
        path = folder / f"part-{stamp}-{token}.parquet"
        pq.write_table(table.take(order[a:b]), tmp, compression="snappy")
        os.replace(tmp, path)  # readers never see a half-written file
        written.append(path)
    return written


def write_sightings(
    frame: pd.DataFrame, data_dir: str | os.PathLike, *,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> list[Path]:
    """Append reads to the partitioned store without a duplicate check (for generators).

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        ``SIGHTING_COLUMNS`` (+ ``geometry``; built from easting/northing in
        EPSG:27700 when absent), ``read_at`` tz-aware. Not modified.
    data_dir : path
        Store root; the layout is created (defaults) when missing.
    lock_timeout_s : float, default 600
        Seconds to wait for the store's writer lock.

    Returns
    -------
    list of Path
        The files written, one per (season, month, bucket) touched.

    Raises
    ------
    ValueError
        Missing columns, naive or missing times, a store bucketed with
        another plate hash.
    StoreLockTimeout
        Another writer held the lock for ``lock_timeout_s``.
    """
    root = Path(data_dir)
    gdf = as_sightings_gdf(frame)
    with writer_lock(root, lock_timeout_s):
        layout = writable_layout(root)
        months, buckets = partition_keys(gdf, layout)
        return write_groups(gdf, months, buckets, root, layout)


def _neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_rejects(rejects: pd.DataFrame, path: Path) -> None:
    safe = rejects.copy()
    for c in ("id", "reason"):
        safe[c] = safe[c].map(_neutralise)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    safe.to_csv(tmp, index=False, encoding="utf-8")
    os.replace(tmp, path)


_KEY_READ_COLUMNS = ["vrm", "read_at", "camera_id", "easting", "northing"]


def stored_read_keys(files: list[Path], accepted: pd.DataFrame) -> pd.DataFrame | None:
    """Keys of stored reads in ``files`` inside the batch's time range (None if none)."""
    if not files or accepted.empty:
        return None
    times = pd.to_datetime(accepted["read_at"], utc=True)
    lo, hi = times.min().to_pydatetime(), times.max().to_pydatetime()
    dataset = pads.dataset([str(p) for p in files], format="parquet")
    when = (pads.field("read_at") >= pa.scalar(lo)) & (pads.field("read_at") <= pa.scalar(hi))
    stored = dataset.to_table(columns=_KEY_READ_COLUMNS, filter=when).to_pandas()
    return sighting_keys(stored) if len(stored) else None


#: Columns that identify a stored row of each flat table.
_FLAT_KEYS = {"incidents": ["incident_id"], "outcomes": ["incident_id", "occurred_at", "outcome"]}


def _stored_incident_keys(root: Path, accepted: pd.DataFrame, kind: str = "incidents"
                          ) -> pd.DataFrame | None:
    paths = flat_files(root / kind)
    if not paths or accepted.empty:
        return None
    frames = [pq.read_table(p, columns=_FLAT_KEYS[kind]).to_pandas() for p in paths]
    return pd.concat(frames, ignore_index=True)


def new_mask(accepted: pd.DataFrame, stored: pd.DataFrame | None, kind: str) -> np.ndarray:
    """True for accepted rows whose key is not in the store yet."""
    if stored is None or stored.empty or accepted.empty:
        return np.ones(len(accepted), dtype=bool)
    if kind == "incidents":
        return ~accepted["incident_id"].isin(stored["incident_id"]).to_numpy(dtype=bool)
    if kind == "outcomes":
        keys = _FLAT_KEYS[kind]
        both = pd.concat([stored[keys], pd.DataFrame(accepted[keys])], ignore_index=True)
        return ~both.duplicated(keep="first").to_numpy(dtype=bool)[len(stored):]
    new = sighting_keys(accepted).reset_index(drop=True)
    both = pd.concat([stored[list(SIGHTING_KEY)], new], ignore_index=True)
    seen = both.duplicated(keep="first").to_numpy(dtype=bool)[len(stored):]
    return ~seen


def _touched_files(root: Path, months: np.ndarray, buckets: np.ndarray) -> list[Path]:
    """Stored files that may hold reads of these (month, bucket) pairs, legacy files included."""
    pairs = set(zip(months.tolist(), buckets.tolist(), strict=True))
    touched_months = {m for m, _ in pairs}
    folder = root / "sightings"
    parts = partition_files(folder, touched_months.__contains__, lambda _b: True)
    return [*flat_files(folder), *(p for m, b, p in parts if (m, b) in pairs)]


def _ingest_sightings(accepted: pd.DataFrame, root: Path) -> tuple[int, list[Path]]:
    """Write the new reads of ``accepted``; (rows written, files written)."""
    if accepted.empty:
        return 0, []
    layout = writable_layout(root)
    gdf = as_sightings_gdf(accepted)
    months, buckets = partition_keys(gdf, layout)
    stored = stored_read_keys(_touched_files(root, months, buckets), gdf)
    new = new_mask(gdf, stored, "sightings")
    if not new.all():
        gdf, months, buckets = gdf[new], months[new], buckets[new]
    return int(len(gdf)), write_groups(gdf, months, buckets, root, layout)


def ingest(
    result: ValidationResult, data_dir: str | os.PathLike | None = None, *,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> IngestReport:
    """Store a validation result: new accepted rows as GeoParquet, rejects as CSV.

    Parameters
    ----------
    result : ValidationResult
        From :func:`geo.incidents.validate_incidents` or
        :func:`geo.sightings.validate_sightings`. Not modified.
    data_dir : path, optional
        Store root (default :func:`default_data_dir`).
    lock_timeout_s : float, default 600
        Seconds to wait for the store's writer lock, held from the duplicate
        check to the last file written (concurrent ingests of one batch
        store it once).

    Returns
    -------
    IngestReport
        Rows added, rows already stored, rows rejected and the files written
        (reads: one file per season/month/bucket the new rows touch).

    Raises
    ------
    StoreLockTimeout
        Another writer held the lock for ``lock_timeout_s``.
    """
    root = store_root(data_dir)
    with writer_lock(root, lock_timeout_s):
        return _ingest_locked(result, root)


def _ingest_locked(result: ValidationResult, root: Path) -> IngestReport:
    kind = result.kind
    accepted = result.accepted
    stamp, token = stamp_token()

    if kind == "sightings":
        n_added, paths = _ingest_sightings(accepted, root)
    else:
        new = new_mask(accepted, _stored_incident_keys(root, accepted, kind), kind)
        to_write = accepted[new] if not new.all() else accepted
        n_added, paths = int(len(to_write)), []
        if n_added:
            folder = root / kind
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{stamp}-{token}.parquet"
            tmp = folder / f".tmp-{stamp}-{token}.parquet"
            gdf = gpd.GeoDataFrame(to_write[[*INCIDENT_COLUMNS, "geometry"]], geometry="geometry",
                                   crs=accepted.crs)
            gdf.to_parquet(tmp, index=False, geometry_encoding="geoarrow", compression="snappy")
            os.replace(tmp, path)  # readers never see a half-written part
            paths = [path]

    rejects_path = None
    if result.n_rejected:
        rejects_path = root / "rejects" / f"{kind}-{stamp}-{token[:8]}.csv"
        _write_rejects(result.rejects, rejects_path)

    return IngestReport(
        kind=kind,
        rows_added=n_added,
        rows_already_stored=int(len(accepted) - n_added),
        rows_rejected=int(result.n_rejected),
        part_path=paths[0] if paths else None,
        rejects_path=rejects_path,
        part_paths=tuple(paths),
    )
