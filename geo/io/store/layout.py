"""Store layout: where tables live, the sightings partition scheme (season, month, plate bucket), the writer lock.

A store (``data_dir``) holds::

    tables/incidents/                    Delta Lake table of accepted incidents
    tables/sightings/                    Delta Lake table of accepted ANPR reads, partitioned
      _layout.json                       {"version": 3, "format": "delta", "buckets": 16,
                                          "season_start_month": 9, "hash": "fnv1a64-utf8"}
      season=<label>/month=<YYYY-MM>/bucket=<NN>/part-<token>-<sha256>.parquet
    rejects/<kind>-<UTC stamp>-<uuid8>.csv
    alerts/alerts.sqlite                 the watcher's alerts and ledger
    cache/                               results derived from the store (the dashboard's
                                         default view on disk): personal data kept
                                         with the store's protection, emptied by a purge
    .harewatch-store.lock                the writer lock

Stores of harewatch 0.1.0/0.2.0 (``incidents/part-*.parquet``,
``sightings/...``) are moved into the tables by ``harewatch store upgrade``
(:mod:`geo.io.store.legacy`).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from filelock import FileLock, Timeout

from geo._config import DEFAULTS, Settings
from geo._frames import check_start_month, fnv1a64
from geo.errors import InputError, StoreLockTimeout
from geo.schema import LONDON

__all__ = [
    "DEFAULT_BUCKETS",
    "PLATE_HASH",
    "LAYOUT_FILE",
    "MAX_BUCKETS",
    "SEASON_RE",
    "MONTH_RE",
    "BUCKET_RE",
    "STORE_LOCK_FILE",
    "DEFAULT_LOCK_TIMEOUT_S",
    "SightingsLayout",
    "default_data_dir",
    "derived_dir",
    "DERIVED_FOLDER",
    "store_root",
    "check_lock_timeout",
    "writer_lock",
    "sightings_layout",
    "init_sightings_store",
    "plate_buckets",
    "month_codes",
    "month_name",
    "season_name",
    "as_utc",
    "month_window",
    "layout_path",
    "read_layout_file",
    "STORE_SORT_KEYS",
]



#: Plate buckets of a new sightings store.
DEFAULT_BUCKETS = 16


#: Name of the plate hash this code uses (recorded in ``_layout.json``):
#: FNV-1a, 64-bit, over the plate's UTF-8 bytes (http://www.isthe.com/chongo/tech/comp/fnv/):
#: a published, library-independent hash, so a store's buckets never depend on a package version.
PLATE_HASH = "fnv1a64-utf8"






_LAYOUT_VERSION = 3


LAYOUT_FILE = "_layout.json"


MAX_BUCKETS = 100  # bucket names have two digits


SEASON_RE = re.compile(r"^season=(.+)$")


MONTH_RE = re.compile(r"^month=(\d{4})-(\d{2})$")


BUCKET_RE = re.compile(r"^bucket=(\d{2})$")


#: Writer lock of a store, ``<data_dir>/.harewatch-store.lock`` (hidden: never listed).
STORE_LOCK_FILE = ".harewatch-store.lock"


#: Seconds a write waits for the writer lock before :class:`StoreLockTimeout`.
DEFAULT_LOCK_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class SightingsLayout:
    """How a sightings store is partitioned.

    Attributes
    ----------
    buckets : int
        Plate buckets (1..100); bucket directories are ``bucket=00`` ..
    season_start_month : int
        Month (1..12) seasons start in, for the ``season=`` directories.
    hash : str
        Name of the plate hash the store was written with (:data:`PLATE_HASH`).
    """

    buckets: int = DEFAULT_BUCKETS
    season_start_month: int = DEFAULTS.start_month
    hash: str = PLATE_HASH

    def to_dict(self) -> dict:
        """The ``_layout.json`` content."""
        return {"version": _LAYOUT_VERSION, "format": "delta", "buckets": self.buckets,
                "season_start_month": self.season_start_month, "hash": self.hash}


def default_data_dir() -> Path:
    """``$HAREWATCH_DATA_DIR`` when set, else ``<repo>/data/incidents``."""
    return Settings.from_env().data_dir


def store_root(data_dir: str | os.PathLike | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def derived_dir(data_dir: str | os.PathLike, kind: str) -> Path:
    """``<data_dir>/cache/<kind>``: results derived from the store's personal data.

    They sit with the store (its folder's access rights, its backups) rather than
    in a user's cache folder, and a purge of old reads deletes them
    (:func:`geo.io.store.retention.purge_reads`).
    """
    return Path(data_dir) / DERIVED_FOLDER / kind


#: Folder of a store's derived results (:func:`derived_dir`).
DERIVED_FOLDER = "cache"


def layout_path(data_dir: str | os.PathLike) -> Path:
    """``<data_dir>/tables/sightings/_layout.json``."""
    return Path(data_dir) / "tables" / "sightings" / LAYOUT_FILE


def check_lock_timeout(lock_timeout_s: float) -> float:
    try:
        value = float(lock_timeout_s)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(lock_timeout_s, bool) or not np.isfinite(value) or value < 0:
        raise InputError(f"lock_timeout_s must be a finite number >= 0, got {lock_timeout_s!r}")
    return value


@contextmanager
def writer_lock(root: Path, lock_timeout_s: float) -> Iterator[None]:
    """Hold the store's exclusive inter-process writer lock (readers never take it)."""
    timeout_s = check_lock_timeout(lock_timeout_s)
    root.mkdir(parents=True, exist_ok=True)
    path = root / STORE_LOCK_FILE
    # filelock: maintained, cross-platform OS lock (flock/msvcrt), freed when the holder dies
    lock = FileLock(path, timeout=timeout_s)
    try:
        lock.acquire()
    except Timeout as exc:
        raise StoreLockTimeout(
            f"could not lock the store {root} for writing within {timeout_s:g} s: another "
            f"process (ingest, watcher, upgrade or compaction) holds the lock file {path}; "
            "try again when it has finished"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def _check_buckets(buckets: int) -> int:
    if isinstance(buckets, bool) or not isinstance(buckets, int | np.integer):
        raise InputError(f"buckets must be an integer 1..{MAX_BUCKETS}, got {buckets!r}")
    if not 1 <= int(buckets) <= MAX_BUCKETS:
        raise InputError(f"buckets must be 1..{MAX_BUCKETS}, got {buckets}")
    return int(buckets)




def sightings_layout(data_dir: str | os.PathLike) -> SightingsLayout:
    """The partitioning of the sightings store at ``data_dir``.

    Returns
    -------
    SightingsLayout
        From ``<data_dir>/tables/sightings/_layout.json``; the default
        layout (:data:`DEFAULT_BUCKETS` buckets, seasons from September,
        :data:`PLATE_HASH`) when the store has none yet.

    Raises
    ------
    ValueError
        ``_layout.json`` unreadable, of another version, or with bad values.
    """
    return read_layout_file(layout_path(data_dir), _LAYOUT_VERSION)


def read_layout_file(path: Path, version: int) -> SightingsLayout:
    """A ``_layout.json`` of the given version (the default layout when the file is missing)."""
    if not path.is_file():
        return SightingsLayout()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        found = raw["version"]
        layout = SightingsLayout(buckets=_check_buckets(raw["buckets"]),
                                 season_start_month=check_start_month(raw["season_start_month"]),
                                 hash=str(raw["hash"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a valid sightings layout file ({exc})") from exc
    if found != version:
        raise InputError(f"{path}: layout version {found!r} is not supported here "
                         f"(expected version {version})")
    return layout


def _write_layout(path: Path, layout: SightingsLayout) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-layout-{uuid.uuid4().hex}.json")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(layout.to_dict(), indent=2) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def init_sightings_store(
    data_dir: str | os.PathLike, *, buckets: int = DEFAULT_BUCKETS, season_start_month: int = DEFAULTS.start_month
) -> SightingsLayout:
    """Create (or confirm) the sightings layout of a store.

    Parameters
    ----------
    data_dir : path
        Store root; ``<data_dir>/tables/sightings/_layout.json`` is written
        when missing (the table itself is created by the first write).
    buckets : int, default 16
        Plate buckets, 1..100.
    season_start_month : int, default 9
        Month seasons start in, for the ``season=`` directories.

    Returns
    -------
    SightingsLayout
        The store's layout.

    Raises
    ------
    ValueError
        Bad values, or the store already has a layout with other buckets or
        season start month (a layout never changes: use a new data dir).
    """
    buckets = _check_buckets(buckets)
    season_start_month = check_start_month(season_start_month)
    path = layout_path(data_dir)
    if path.is_file():
        have = sightings_layout(data_dir)
        if (have.buckets, have.season_start_month) != (buckets, season_start_month):
            raise InputError(
                f"sightings store {path.parent} already has buckets={have.buckets}, "
                f"season_start_month={have.season_start_month}; asked for buckets={buckets}, "
                f"season_start_month={season_start_month}. A store's layout cannot change: "
                "use another --data-dir"
            )
        return have
    layout = SightingsLayout(buckets=buckets, season_start_month=season_start_month)
    _write_layout(path, layout)
    return layout


def plate_buckets(vrms, buckets: int) -> np.ndarray:
    """Bucket (0..buckets-1) of each plate: a hash stable across processes and machines.

    Parameters
    ----------
    vrms : array-like of str
        Plates, already normalised (upper case, no spaces) as stored;
        missing values hash as ``""``.
    buckets : int
        Number of buckets, 1..100.

    Returns
    -------
    ndarray of int64
        ``hash(plate) % buckets`` with the hash named by :data:`PLATE_HASH`.
    """
    buckets = _check_buckets(buckets)
    return (fnv1a64(vrms) % np.uint64(buckets)).astype("int64")




def month_codes(read_at) -> np.ndarray:
    """Europe/London calendar month of each time as ``year * 12 + month - 1`` (int64)."""
    local = pd.to_datetime(pd.Series(read_at), utc=True).dt.tz_convert(LONDON)
    return (local.dt.year.to_numpy(dtype="int64") * 12
            + local.dt.month.to_numpy(dtype="int64") - 1)


def month_name(code: int) -> str:
    return f"{code // 12:04d}-{code % 12 + 1:02d}"


def season_name(code: int, start_month: int) -> str:
    from geo.seasons import season_of

    mid = pd.Timestamp(year=code // 12, month=code % 12 + 1, day=15, tz=LONDON)
    return str(season_of(pd.Series([mid]), start_month).iloc[0])


def as_utc(value, what: str) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise InputError(f"{what} must be timezone-aware (e.g. UTC), got {value!r}")
    return ts.tz_convert("UTC")


def month_window(
    season: str | None, start_month: int, time_range, margin_h: float
) -> tuple[int | None, int | None] | None:
    """Inclusive month-code range to keep, ``(None, None)`` for all, None for nothing."""
    if margin_h is None or not np.isfinite(margin_h) or margin_h < 0:
        raise InputError(f"margin_h must be a finite number >= 0, got {margin_h!r}")
    margin = pd.Timedelta(hours=float(margin_h))
    lo = hi = None  # inclusive UTC instants
    if season is not None:
        from geo.seasons import season_bounds

        start, end = season_bounds(season, start_month)
        lo, hi = start - margin, end - pd.Timedelta(microseconds=1)
    if time_range is not None:
        try:
            t_lo, t_hi = time_range
        except (TypeError, ValueError) as exc:
            raise InputError(f"time_range must be a pair (lo, hi), got {time_range!r}") from exc
        t_lo, t_hi = as_utc(t_lo, "time_range lo"), as_utc(t_hi, "time_range hi")
        if t_lo is not None:
            t_lo = t_lo - margin
            lo = t_lo if lo is None else max(lo, t_lo)
        if t_hi is not None:
            hi = t_hi if hi is None else min(hi, t_hi)
    if lo is not None and hi is not None and lo > hi:
        return None
    codes = [None if t is None else int(month_codes([t])[0]) for t in (lo, hi)]
    return codes[0], codes[1]


STORE_SORT_KEYS = ("read_at", "vrm", "camera_id", "source_row")
