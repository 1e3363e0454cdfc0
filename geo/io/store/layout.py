"""Store layout: where files live, the sightings partition scheme (season, month, plate bucket), the writer lock.
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
    "store_root",
    "visible",
    "flat_files",
    "incidents_paths",
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
]



#: Plate buckets of a new sightings store.
DEFAULT_BUCKETS = 16


#: Name of the plate hash this code uses (recorded in ``_layout.json``): pandas'
#: ``hash_pandas_object`` (SipHash-2-4 of the UTF-8 plate, key "0123456789123456",
#: then pandas' 64-bit mix) of an object Series, as uint64, modulo the buckets.
#: FNV-1a, 64-bit, over the plate's UTF-8 bytes (http://www.isthe.com/chongo/tech/comp/fnv/):
#: a published, library-independent hash, so a store's buckets never depend on a package version.
PLATE_HASH = "fnv1a64-utf8"






_LAYOUT_VERSION = 2


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
        return {"version": _LAYOUT_VERSION, "buckets": self.buckets,
                "season_start_month": self.season_start_month, "hash": self.hash}


def default_data_dir() -> Path:
    """``$HAREWATCH_DATA_DIR`` when set, else ``<repo>/data/incidents``."""
    return Settings.from_env().data_dir


def store_root(data_dir: str | os.PathLike | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def visible(name: str) -> bool:
    return not name.startswith((".", "_"))


def flat_files(folder: Path) -> list[Path]:
    """Visible ``*.parquet`` files directly in ``folder`` (sorted)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.parquet") if visible(p.name) and p.is_file())


def incidents_paths(data_dir: str | os.PathLike) -> list[Path]:
    """Parquet files holding stored incidents (sorted)."""
    return flat_files(Path(data_dir) / "incidents")


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
        From ``<data_dir>/sightings/_layout.json``; the default layout
        (:data:`DEFAULT_BUCKETS` buckets, seasons from September,
        :data:`PLATE_HASH`) when the store has none yet.

    Raises
    ------
    ValueError
        ``_layout.json`` unreadable, of another version, or with bad values.
    """
    path = Path(data_dir) / "sightings" / LAYOUT_FILE
    if not path.is_file():
        return SightingsLayout()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        version = raw["version"]
        layout = SightingsLayout(buckets=_check_buckets(raw["buckets"]),
                                 season_start_month=check_start_month(raw["season_start_month"]),
                                 hash=str(raw["hash"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a valid sightings layout file ({exc})") from exc
    if version != _LAYOUT_VERSION:
        raise InputError(f"{path}: layout version {version!r} is not supported "
                         f"(this harewatch reads version {_LAYOUT_VERSION})")
    return layout


def _write_layout(folder: Path, layout: SightingsLayout) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-layout-{uuid.uuid4().hex}.json"
    tmp.write_text(json.dumps(layout.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / LAYOUT_FILE)


def init_sightings_store(
    data_dir: str | os.PathLike, *, buckets: int = DEFAULT_BUCKETS, season_start_month: int = DEFAULTS.start_month
) -> SightingsLayout:
    """Create (or confirm) the sightings layout of a store.

    Parameters
    ----------
    data_dir : path
        Store root; ``<data_dir>/sightings/_layout.json`` is written when missing.
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
    folder = Path(data_dir) / "sightings"
    if (folder / LAYOUT_FILE).is_file():
        have = sightings_layout(data_dir)
        if (have.buckets, have.season_start_month) != (buckets, season_start_month):
            raise InputError(
                f"sightings store {folder} already has buckets={have.buckets}, "
                f"season_start_month={have.season_start_month}; asked for buckets={buckets}, "
                f"season_start_month={season_start_month}. A store's layout cannot change: "
                "use another --data-dir"
            )
        return have
    layout = SightingsLayout(buckets=buckets, season_start_month=season_start_month)
    _write_layout(folder, layout)
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


def _scan_dir(path: Path) -> list[os.DirEntry]:
    with os.scandir(path) as it:
        return sorted((e for e in it if visible(e.name)), key=lambda e: e.name)


def partition_files(folder: Path, keep_month, keep_bucket) -> list[tuple[int, int, Path]]:
    """``(month code, bucket, file)`` of every partitioned file passing both filters."""
    out: list[tuple[int, int, Path]] = []
    if not folder.is_dir():
        return out
    for s in _scan_dir(folder):
        if not s.is_dir():
            continue  # legacy part-*.parquet (see flat_files) and other files
        if not SEASON_RE.match(s.name):
            raise InputError(f"unexpected folder {s.path} in the sightings store "
                             "(expected season=<label>)")
        for m in _scan_dir(Path(s.path)):
            mm = MONTH_RE.match(m.name)
            if not mm or not m.is_dir():
                raise InputError(f"unexpected entry {m.path} in the sightings store "
                                 "(expected a folder month=YYYY-MM)")
            code = int(mm.group(1)) * 12 + int(mm.group(2)) - 1
            if not keep_month(code):
                continue
            for b in _scan_dir(Path(m.path)):
                bm = BUCKET_RE.match(b.name)
                if not bm or not b.is_dir():
                    raise InputError(f"unexpected entry {b.path} in the sightings store "
                                     "(expected a folder bucket=NN)")
                bucket = int(bm.group(1))
                if not keep_bucket(bucket):
                    continue
                for f in _scan_dir(Path(b.path)):
                    if f.name.endswith(".parquet") and f.is_file():
                        out.append((code, bucket, Path(f.path)))
    return out
