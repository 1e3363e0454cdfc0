"""Store maintenance: upgrade of 0.1.0 stores and compaction of small files.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geo.errors import InputError
from geo.io.store.layout import (
    DEFAULT_LOCK_TIMEOUT_S,
    as_utc,
    check_lock_timeout,
    flat_files,
    partition_files,
    writer_lock,
)
from geo.io.store.write import (
    as_sightings_gdf,
    new_mask,
    partition_keys,
    stamp_token,
    stored_read_keys,
    to_geoarrow,
    writable_layout,
    write_groups,
)
from geo.schema import BNG, LONDON
from geo.validate.sightings import sighting_keys

__all__ = [
    "upgrade_sightings_store",
    "CompactReport",
    "compact_sightings",
]

#: Order of the reads in a compacted file: row-group statistics then prune plate/time filters.
_COMPACT_SORT = ["vrm", "read_at", "camera_id"]


#: Rows per row group of a compacted file (about 5-10 MB of reads).
_COMPACT_ROW_GROUP_ROWS = 128 * 1024


def _read_legacy(path: Path) -> gpd.GeoDataFrame:
    """A sightings file, flat 0.1.0 or partitioned (geometry rebuilt from easting/northing
    if absent)."""
    try:
        geo = b"geo" in (pq.read_schema(path).metadata or {})
        gdf = gpd.read_parquet(path) if geo else pq.read_table(path).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot read this sightings file ({exc})") from exc
    try:
        return as_sightings_gdf(gdf)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from exc


def upgrade_sightings_store(
    data_dir: str | os.PathLike, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S
) -> int:
    """Move the flat 0.1.0 sightings files of a store into the partitioned layout.

    Each flat file is rewritten into ``season/month/bucket`` files (new files
    first), then removed. Reads already in the layout are not written again,
    so rerunning after an interruption is safe.

    Parameters
    ----------
    data_dir : path
        Store root.
    lock_timeout_s : float, default 600
        Seconds to wait for the store's writer lock (held throughout).

    Returns
    -------
    int
        Reads written into the layout (0 when there was nothing to move).

    Raises
    ------
    ValueError
        A flat file cannot be read or lacks sighting columns (named).
    StoreLockTimeout
        Another writer held the lock for ``lock_timeout_s``.
    """
    root = Path(data_dir)
    if not flat_files(root / "sightings"):
        return 0
    with writer_lock(root, lock_timeout_s):
        return _upgrade_locked(root)


def _upgrade_locked(root: Path) -> int:
    folder = root / "sightings"
    legacy = flat_files(folder)  # again: another process may have upgraded meanwhile
    if not legacy:
        return 0
    layout = writable_layout(root)
    moved = 0
    for path in legacy:  # one file in memory at a time
        gdf = _read_legacy(path)
        months, buckets = partition_keys(gdf, layout)
        pairs = set(zip(months.tolist(), buckets.tolist(), strict=True))
        parts = partition_files(folder, {m for m, _ in pairs}.__contains__, lambda _b: True)
        stored = stored_read_keys([p for m, b, p in parts if (m, b) in pairs], gdf)
        new = new_mask(gdf, stored, "sightings")
        write_groups(gdf[new], months[new], buckets[new], root, layout)
        moved += int(new.sum())
        path.unlink()
    return moved


@dataclass(frozen=True)
class CompactReport:
    """What one :func:`compact_sightings` call did.

    Attributes
    ----------
    folders : int
        ``season=/month=/bucket=`` folders rewritten.
    files_before, files_after : int
        Part files in those folders before and after (``files_after`` is one
        per folder, 0 for a folder whose parts held no rows).
    rows : int
        Reads written into the compacted files.
    bytes_before, bytes_after : int
        Size on disk of those folders' part files before and after.
    duplicates_dropped : int
        Reads dropped because their key (:func:`geo.sightings.sighting_keys`)
        was already in the folder: 0 unless an earlier compaction was
        interrupted between writing its file and deleting the old parts.
    legacy_files : int
        Flat 0.1.0 files in ``sightings/``, left alone (run
        :func:`upgrade_sightings_store` first).
    """

    folders: int = 0
    files_before: int = 0
    files_after: int = 0
    rows: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    duplicates_dropped: int = 0
    legacy_files: int = 0

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return asdict(self)


def _month_end(code: int) -> pd.Timestamp:
    """First instant (UTC) after the London month ``code``."""
    nxt = code + 1
    return pd.Timestamp(year=nxt // 12, month=nxt % 12 + 1, day=1, tz=LONDON).tz_convert("UTC")


def _remove_parts(paths: list[Path]) -> None:
    """Delete replaced part files (a crash here leaves old + new: the next run dedupes)."""
    for path in paths:
        path.unlink(missing_ok=True)


def _compact_folder(files: list[Path]) -> tuple[Path | None, int, int]:
    """Rewrite ``files`` (one folder) as one sorted, deduplicated part.

    Returns (new file or None when the parts held no rows, rows, duplicates dropped).
    """
    frames = [_read_legacy(p) for p in files]  # oldest first: a duplicate keeps its first copy
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=BNG)
    dup = sighting_keys(gdf).duplicated(keep="first").to_numpy(dtype=bool)
    if dup.any():
        gdf = gdf[~dup]
    new_path = None
    if len(gdf):
        gdf = gdf.sort_values(_COMPACT_SORT, kind="mergesort")
        folder = files[0].parent
        stamp, token = stamp_token()
        tmp = folder / f".tmp-{stamp}-{token}.parquet"
        new_path = folder / f"part-{stamp}-{token}.parquet"
        pq.write_table(to_geoarrow(gdf), tmp, compression="snappy",
                       row_group_size=_COMPACT_ROW_GROUP_ROWS)
        os.replace(tmp, new_path)  # readers never see a half-written file
    _remove_parts(files)
    return new_path, int(len(gdf)), int(dup.sum())


def compact_sightings(
    data_dir: str | os.PathLike,
    *,
    min_files: int = 2,
    before=None,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> CompactReport:
    """Rewrite each ``season=/month=/bucket=`` folder of many small parts as one file.

    For each folder with at least ``min_files`` part files, under the
    store's writer lock (taken per folder, so ingests wait for one folder at
    most): read its parts, drop reads whose key is already in the folder,
    sort by plate, time and camera (row-group statistics then prune plate
    and time filters), write one GeoParquet file as ingest does (hidden
    ``.tmp`` file, then ``os.replace``), then delete the old parts.

    A crash leaves the old parts, or the old parts and the new file; the
    next run (``min_files=2``) drops the repeated reads, so no read is lost
    or finally stored twice. A scan running meanwhile may see a read twice
    (old part and new file): a repeated read of one plate, time and camera
    is a zero-gap step within one force, so crossings do not change. A scan
    that listed the old parts before they were deleted can fail with "file
    not found": rerun it. Flat 0.1.0 files are left alone.

    Parameters
    ----------
    data_dir : path
        Store root.
    min_files : int, default 2
        Compact only folders with at least this many part files (>= 2).
    before : Timestamp, optional
        Tz-aware: compact only London months ending at or before it (e.g.
        the first of this month: closed months only).
    lock_timeout_s : float, default 600
        Seconds to wait for the writer lock, per folder.

    Returns
    -------
    CompactReport

    Raises
    ------
    ValueError
        Bad arguments; a part file that cannot be read (named; its folder is
        left as it was).
    StoreLockTimeout
        Another writer held the lock for ``lock_timeout_s``.
    """
    if isinstance(min_files, bool) or not isinstance(min_files, int | np.integer) \
            or min_files < 2:
        raise InputError(f"min_files must be an integer >= 2, got {min_files!r}")
    cutoff = as_utc(before, "before")
    check_lock_timeout(lock_timeout_s)
    root = Path(data_dir)
    folder = root / "sightings"
    legacy = len(flat_files(folder))
    plan: dict[Path, int] = {}
    for code, _bucket, path in partition_files(folder, lambda _m: True, lambda _b: True):
        if cutoff is None or _month_end(code) <= cutoff:
            plan[path.parent] = plan.get(path.parent, 0) + 1
    totals = dict.fromkeys(("folders", "files_before", "files_after", "rows", "bytes_before",
                            "bytes_after", "duplicates_dropped"), 0)
    for part_dir in sorted(d for d, n in plan.items() if n >= min_files):
        with writer_lock(root, lock_timeout_s):
            files = flat_files(part_dir)  # again, under the lock
            if len(files) < min_files:
                continue
            size_before = sum(p.stat().st_size for p in files)
            new_path, rows, dropped = _compact_folder(files)
            size_after = 0 if new_path is None else new_path.stat().st_size
        totals["folders"] += 1
        totals["files_before"] += len(files)
        totals["files_after"] += int(new_path is not None)
        totals["rows"] += rows
        totals["bytes_before"] += size_before
        totals["bytes_after"] += size_after
        totals["duplicates_dropped"] += dropped
    return CompactReport(**totals, legacy_files=legacy)
