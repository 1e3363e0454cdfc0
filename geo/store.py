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

import io
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from geo.columns import distinct_plates
from geo.schema import BNG, INCIDENT_COLUMNS, LONDON, SIGHTING_COLUMNS
from geo.sightings import SIGHTING_KEY, sighting_keys
from geo.validation import ValidationResult

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

REPO_ROOT = Path(__file__).resolve().parent.parent
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Plate buckets of a new sightings store.
DEFAULT_BUCKETS = 16
#: Name of the plate hash this code uses (recorded in ``_layout.json``): pandas'
#: ``hash_pandas_object`` (SipHash-2-4 of the UTF-8 plate, key "0123456789123456",
#: then pandas' 64-bit mix) of an object Series, as uint64, modulo the buckets.
#: FNV-1a, 64-bit, over the plate's UTF-8 bytes (http://www.isthe.com/chongo/tech/comp/fnv/):
#: a published, library-independent hash, so a store's buckets never depend on a package version.
PLATE_HASH = "fnv1a64-utf8"
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_LAYOUT_VERSION = 2
_LAYOUT_FILE = "_layout.json"
_MAX_BUCKETS = 100  # bucket names have two digits
_SEASON_RE = re.compile(r"^season=(.+)$")
_MONTH_RE = re.compile(r"^month=(\d{4})-(\d{2})$")
_BUCKET_RE = re.compile(r"^bucket=(\d{2})$")
_SORT_KEYS = ("read_at", "vrm", "camera_id", "source_row")
#: Writer lock of a store, ``<data_dir>/.harewatch-store.lock`` (hidden: never listed).
STORE_LOCK_FILE = ".harewatch-store.lock"
#: Seconds a write waits for the writer lock before :class:`StoreLockTimeout`.
DEFAULT_LOCK_TIMEOUT_S = 600.0
#: Order of the reads in a compacted file: row-group statistics then prune plate/time filters.
_COMPACT_SORT = ["vrm", "read_at", "camera_id"]
#: Rows per row group of a compacted file (about 5-10 MB of reads).
_COMPACT_ROW_GROUP_ROWS = 128 * 1024


class LegacyLayoutError(ValueError):
    """The sightings store still has flat 0.1.0 files; run ``harewatch store upgrade``."""


class StoreLockTimeout(TimeoutError):
    """Another process held the store's writer lock longer than the write would wait."""


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
    season_start_month: int = 9
    hash: str = PLATE_HASH

    def to_dict(self) -> dict:
        """The ``_layout.json`` content."""
        return {"version": _LAYOUT_VERSION, "buckets": self.buckets,
                "season_start_month": self.season_start_month, "hash": self.hash}


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


def default_data_dir() -> Path:
    """``$HAREWATCH_DATA_DIR`` when set, else ``<repo>/data/incidents``."""
    env = os.environ.get("HAREWATCH_DATA_DIR")
    return Path(env).expanduser() if env else REPO_ROOT / "data" / "incidents"


def _root(data_dir: str | os.PathLike | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def _visible(name: str) -> bool:
    return not name.startswith((".", "_"))


def _flat_files(folder: Path) -> list[Path]:
    """Visible ``*.parquet`` files directly in ``folder`` (sorted)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.parquet") if _visible(p.name) and p.is_file())


def incidents_paths(data_dir: str | os.PathLike) -> list[Path]:
    """Parquet files holding stored incidents (sorted)."""
    return _flat_files(Path(data_dir) / "incidents")


# --------------------------------------------------------------------------- writer lock


def _check_lock_timeout(lock_timeout_s: float) -> float:
    try:
        value = float(lock_timeout_s)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(lock_timeout_s, bool) or not np.isfinite(value) or value < 0:
        raise ValueError(f"lock_timeout_s must be a finite number >= 0, got {lock_timeout_s!r}")
    return value


@contextmanager
def _writer_lock(root: Path, lock_timeout_s: float) -> Iterator[None]:
    """Hold the store's exclusive inter-process writer lock (readers never take it)."""
    timeout_s = _check_lock_timeout(lock_timeout_s)
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


# --------------------------------------------------------------------------- layout


def _check_buckets(buckets: int) -> int:
    if isinstance(buckets, bool) or not isinstance(buckets, int | np.integer):
        raise ValueError(f"buckets must be an integer 1..{_MAX_BUCKETS}, got {buckets!r}")
    if not 1 <= int(buckets) <= _MAX_BUCKETS:
        raise ValueError(f"buckets must be 1..{_MAX_BUCKETS}, got {buckets}")
    return int(buckets)


def _check_start_month(start_month: int) -> int:
    if isinstance(start_month, bool) or not isinstance(start_month, int | np.integer):
        raise ValueError(f"season_start_month must be an integer 1..12, got {start_month!r}")
    if not 1 <= int(start_month) <= 12:
        raise ValueError(f"season_start_month must be 1..12, got {start_month}")
    return int(start_month)


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
    path = Path(data_dir) / "sightings" / _LAYOUT_FILE
    if not path.is_file():
        return SightingsLayout()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        version = raw["version"]
        layout = SightingsLayout(buckets=_check_buckets(raw["buckets"]),
                                 season_start_month=_check_start_month(raw["season_start_month"]),
                                 hash=str(raw["hash"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a valid sightings layout file ({exc})") from exc
    if version != _LAYOUT_VERSION:
        raise ValueError(f"{path}: layout version {version!r} is not supported "
                         f"(this harewatch reads version {_LAYOUT_VERSION})")
    return layout


def _write_layout(folder: Path, layout: SightingsLayout) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-layout-{uuid.uuid4().hex}.json"
    tmp.write_text(json.dumps(layout.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / _LAYOUT_FILE)


def init_sightings_store(
    data_dir: str | os.PathLike, *, buckets: int = DEFAULT_BUCKETS, season_start_month: int = 9
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
    season_start_month = _check_start_month(season_start_month)
    folder = Path(data_dir) / "sightings"
    if (folder / _LAYOUT_FILE).is_file():
        have = sightings_layout(data_dir)
        if (have.buckets, have.season_start_month) != (buckets, season_start_month):
            raise ValueError(
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


def fnv1a64(values) -> np.ndarray:
    """64-bit FNV-1a hash of each string's UTF-8 bytes (vectorised; missing values as ``""``).

    One pass per byte position over the strings still that long, so the cost
    is proportional to the total number of bytes (about 10 numpy operations
    for 1M plates).

    Parameters
    ----------
    values : array-like of str

    Returns
    -------
    ndarray of uint64
    """
    if not isinstance(values, pd.Series | pa.Array | pa.ChunkedArray):
        values = pd.Series(np.asarray(values, dtype=object), dtype=object)
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(
        values, from_pandas=True)
    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    out = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    if n == 0:
        return out
    _validity, offs_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offs_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = (np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None
            else np.zeros(0, dtype=np.uint8))
    lengths = np.diff(offsets)
    by_length = np.argsort(-lengths, kind="stable")  # longest first: step k uses a prefix
    neg_sorted = -lengths[by_length]  # ascending
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the algorithm
        for k in range(int(-neg_sorted[0])):
            # the strings longer than k bytes are the first ones in by_length
            rows = by_length[: int(np.searchsorted(neg_sorted, -k, side="left"))]
            byte = data[offsets[rows] + k].astype(np.uint64)
            out[rows] = (out[rows] ^ byte) * _FNV_PRIME
    return out


# --------------------------------------------------------------------------- months


def _month_codes(read_at) -> np.ndarray:
    """Europe/London calendar month of each time as ``year * 12 + month - 1`` (int64)."""
    local = pd.to_datetime(pd.Series(read_at), utc=True).dt.tz_convert(LONDON)
    return (local.dt.year.to_numpy(dtype="int64") * 12
            + local.dt.month.to_numpy(dtype="int64") - 1)


def _month_name(code: int) -> str:
    return f"{code // 12:04d}-{code % 12 + 1:02d}"


def _season_name(code: int, start_month: int) -> str:
    from geo.seasons import season_of

    mid = pd.Timestamp(year=code // 12, month=code % 12 + 1, day=15, tz=LONDON)
    return str(season_of(pd.Series([mid]), start_month).iloc[0])


def _as_utc(value, what: str) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (e.g. UTC), got {value!r}")
    return ts.tz_convert("UTC")


def _month_window(
    season: str | None, start_month: int, time_range, margin_h: float
) -> tuple[int | None, int | None] | None:
    """Inclusive month-code range to keep, ``(None, None)`` for all, None for nothing."""
    if margin_h is None or not np.isfinite(margin_h) or margin_h < 0:
        raise ValueError(f"margin_h must be a finite number >= 0, got {margin_h!r}")
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
            raise ValueError(f"time_range must be a pair (lo, hi), got {time_range!r}") from exc
        t_lo, t_hi = _as_utc(t_lo, "time_range lo"), _as_utc(t_hi, "time_range hi")
        if t_lo is not None:
            t_lo = t_lo - margin
            lo = t_lo if lo is None else max(lo, t_lo)
        if t_hi is not None:
            hi = t_hi if hi is None else min(hi, t_hi)
    if lo is not None and hi is not None and lo > hi:
        return None
    codes = [None if t is None else int(_month_codes([t])[0]) for t in (lo, hi)]
    return codes[0], codes[1]


# --------------------------------------------------------------------------- listing


def _scan_dir(path: Path) -> list[os.DirEntry]:
    with os.scandir(path) as it:
        return sorted((e for e in it if _visible(e.name)), key=lambda e: e.name)


def _partition_files(folder: Path, keep_month, keep_bucket) -> list[tuple[int, int, Path]]:
    """``(month code, bucket, file)`` of every partitioned file passing both filters."""
    out: list[tuple[int, int, Path]] = []
    if not folder.is_dir():
        return out
    for s in _scan_dir(folder):
        if not s.is_dir():
            continue  # legacy part-*.parquet (see _flat_files) and other files
        if not _SEASON_RE.match(s.name):
            raise ValueError(f"unexpected folder {s.path} in the sightings store "
                             "(expected season=<label>)")
        for m in _scan_dir(Path(s.path)):
            mm = _MONTH_RE.match(m.name)
            if not mm or not m.is_dir():
                raise ValueError(f"unexpected entry {m.path} in the sightings store "
                                 "(expected a folder month=YYYY-MM)")
            code = int(mm.group(1)) * 12 + int(mm.group(2)) - 1
            if not keep_month(code):
                continue
            for b in _scan_dir(Path(m.path)):
                bm = _BUCKET_RE.match(b.name)
                if not bm or not b.is_dir():
                    raise ValueError(f"unexpected entry {b.path} in the sightings store "
                                     "(expected a folder bucket=NN)")
                bucket = int(bm.group(1))
                if not keep_bucket(bucket):
                    continue
                for f in _scan_dir(Path(b.path)):
                    if f.name.endswith(".parquet") and f.is_file():
                        out.append((code, bucket, Path(f.path)))
    return out


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
    window = _month_window(season, start_month, time_range, margin_h)
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

    return _flat_files(folder), _partition_files(folder, keep_month, keep_bucket)


def sightings_paths(
    data_dir: str | os.PathLike,
    *,
    season: str | None = None,
    start_month: int = 9,
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
    start_month: int = 9,
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
        legacy = _flat_files(Path(data_dir) / "sightings")  # even when pruned to nothing
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


# --------------------------------------------------------------------------- writing


def _stamp_token() -> tuple[str, str]:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"), uuid.uuid4().hex


def _writable_layout(root: Path) -> SightingsLayout:
    """The store's layout (created when missing); refuse a plate hash this code lacks."""
    if (root / "sightings" / _LAYOUT_FILE).is_file():
        layout = sightings_layout(root)
    else:
        layout = init_sightings_store(root)
    if layout.hash != PLATE_HASH:
        raise ValueError(
            f"the sightings store {root / 'sightings'} was bucketed with plate hash "
            f"{layout.hash!r}; this harewatch uses {PLATE_HASH!r} and cannot add reads to it"
        )
    return layout


def _as_sightings_gdf(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    missing = [c for c in SIGHTING_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"sightings frame lacks column(s): {', '.join(missing)}")
    times = frame["read_at"]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"read_at must be timezone-aware (UTC), got {times.dtype}")
    if times.isna().any():
        raise ValueError(f"read_at is missing in row(s) {np.flatnonzero(times.isna())[:5] + 1}")
    if isinstance(frame, gpd.GeoDataFrame) and "geometry" in frame.columns:
        return gpd.GeoDataFrame(frame[[*SIGHTING_COLUMNS, "geometry"]], geometry="geometry",
                                crs=frame.crs or BNG)
    geom = gpd.points_from_xy(frame["easting"].to_numpy(dtype="float64"),
                              frame["northing"].to_numpy(dtype="float64"), crs=BNG)
    return gpd.GeoDataFrame(frame[SIGHTING_COLUMNS], geometry=geom, crs=BNG)


def _partition_keys(frame: pd.DataFrame, layout: SightingsLayout) -> tuple[np.ndarray, np.ndarray]:
    """(London month code, plate bucket) of each read."""
    return _month_codes(frame["read_at"]), plate_buckets(frame["vrm"], layout.buckets)


def _to_geoarrow(gdf: gpd.GeoDataFrame) -> pa.Table:
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


def _write_groups(
    gdf: gpd.GeoDataFrame, months: np.ndarray, buckets: np.ndarray, root: Path,
    layout: SightingsLayout,
) -> list[Path]:
    """One GeoParquet file per (month, bucket) of ``gdf`` (rows keep their order)."""
    if len(gdf) == 0:
        return []
    stamp, token = _stamp_token()
    group = months * _MAX_BUCKETS + buckets
    order = np.argsort(group, kind="stable")
    keys, starts = np.unique(group[order], return_index=True)
    ends = [*starts[1:], len(order)]
    table = _to_geoarrow(gdf)
    written: list[Path] = []
    seasons: dict[int, str] = {}
    for key, a, b in zip(keys.tolist(), starts.tolist(), ends, strict=True):
        code, bucket = divmod(key, _MAX_BUCKETS)
        if code not in seasons:
            seasons[code] = _season_name(code, layout.season_start_month)
        folder = (root / "sightings" / f"season={seasons[code]}" / f"month={_month_name(code)}"
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
    gdf = _as_sightings_gdf(frame)
    with _writer_lock(root, lock_timeout_s):
        layout = _writable_layout(root)
        months, buckets = _partition_keys(gdf, layout)
        return _write_groups(gdf, months, buckets, root, layout)


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


def _stored_read_keys(files: list[Path], accepted: pd.DataFrame) -> pd.DataFrame | None:
    """Keys of stored reads in ``files`` inside the batch's time range (None if none)."""
    if not files or accepted.empty:
        return None
    times = pd.to_datetime(accepted["read_at"], utc=True)
    lo, hi = times.min().to_pydatetime(), times.max().to_pydatetime()
    dataset = pads.dataset([str(p) for p in files], format="parquet")
    when = (pads.field("read_at") >= pa.scalar(lo)) & (pads.field("read_at") <= pa.scalar(hi))
    stored = dataset.to_table(columns=_KEY_READ_COLUMNS, filter=when).to_pandas()
    return sighting_keys(stored) if len(stored) else None


def _stored_incident_keys(root: Path, accepted: pd.DataFrame) -> pd.DataFrame | None:
    paths = incidents_paths(root)
    if not paths or accepted.empty:
        return None
    frames = [pq.read_table(p, columns=["incident_id"]).to_pandas() for p in paths]
    return pd.concat(frames, ignore_index=True)


def _new_mask(accepted: pd.DataFrame, stored: pd.DataFrame | None, kind: str) -> np.ndarray:
    """True for accepted rows whose key is not in the store yet."""
    if stored is None or stored.empty or accepted.empty:
        return np.ones(len(accepted), dtype=bool)
    if kind == "incidents":
        return ~accepted["incident_id"].isin(stored["incident_id"]).to_numpy(dtype=bool)
    new = sighting_keys(accepted).reset_index(drop=True)
    both = pd.concat([stored[list(SIGHTING_KEY)], new], ignore_index=True)
    seen = both.duplicated(keep="first").to_numpy(dtype=bool)[len(stored):]
    return ~seen


def _touched_files(root: Path, months: np.ndarray, buckets: np.ndarray) -> list[Path]:
    """Stored files that may hold reads of these (month, bucket) pairs, legacy files included."""
    pairs = set(zip(months.tolist(), buckets.tolist(), strict=True))
    touched_months = {m for m, _ in pairs}
    folder = root / "sightings"
    parts = _partition_files(folder, touched_months.__contains__, lambda _b: True)
    return [*_flat_files(folder), *(p for m, b, p in parts if (m, b) in pairs)]


def _ingest_sightings(accepted: pd.DataFrame, root: Path) -> tuple[int, list[Path]]:
    """Write the new reads of ``accepted``; (rows written, files written)."""
    if accepted.empty:
        return 0, []
    layout = _writable_layout(root)
    gdf = _as_sightings_gdf(accepted)
    months, buckets = _partition_keys(gdf, layout)
    stored = _stored_read_keys(_touched_files(root, months, buckets), gdf)
    new = _new_mask(gdf, stored, "sightings")
    if not new.all():
        gdf, months, buckets = gdf[new], months[new], buckets[new]
    return int(len(gdf)), _write_groups(gdf, months, buckets, root, layout)


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
    root = _root(data_dir)
    with _writer_lock(root, lock_timeout_s):
        return _ingest_locked(result, root)


def _ingest_locked(result: ValidationResult, root: Path) -> IngestReport:
    kind = result.kind
    accepted = result.accepted
    stamp, token = _stamp_token()

    if kind == "sightings":
        n_added, paths = _ingest_sightings(accepted, root)
    else:
        new = _new_mask(accepted, _stored_incident_keys(root, accepted), kind)
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


# --------------------------------------------------------------------------- upgrade


def _read_legacy(path: Path) -> gpd.GeoDataFrame:
    """A sightings file, flat 0.1.0 or partitioned (geometry rebuilt from easting/northing
    if absent)."""
    try:
        geo = b"geo" in (pq.read_schema(path).metadata or {})
        gdf = gpd.read_parquet(path) if geo else pq.read_table(path).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ValueError(f"{path}: cannot read this sightings file ({exc})") from exc
    try:
        return _as_sightings_gdf(gdf)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


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
    if not _flat_files(root / "sightings"):
        return 0
    with _writer_lock(root, lock_timeout_s):
        return _upgrade_locked(root)


def _upgrade_locked(root: Path) -> int:
    folder = root / "sightings"
    legacy = _flat_files(folder)  # again: another process may have upgraded meanwhile
    if not legacy:
        return 0
    layout = _writable_layout(root)
    moved = 0
    for path in legacy:  # one file in memory at a time
        gdf = _read_legacy(path)
        months, buckets = _partition_keys(gdf, layout)
        pairs = set(zip(months.tolist(), buckets.tolist(), strict=True))
        parts = _partition_files(folder, {m for m, _ in pairs}.__contains__, lambda _b: True)
        stored = _stored_read_keys([p for m, b, p in parts if (m, b) in pairs], gdf)
        new = _new_mask(gdf, stored, "sightings")
        _write_groups(gdf[new], months[new], buckets[new], root, layout)
        moved += int(new.sum())
        path.unlink()
    return moved


# --------------------------------------------------------------------------- compaction


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
        stamp, token = _stamp_token()
        tmp = folder / f".tmp-{stamp}-{token}.parquet"
        new_path = folder / f"part-{stamp}-{token}.parquet"
        pq.write_table(_to_geoarrow(gdf), tmp, compression="snappy",
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
        raise ValueError(f"min_files must be an integer >= 2, got {min_files!r}")
    cutoff = _as_utc(before, "before")
    _check_lock_timeout(lock_timeout_s)
    root = Path(data_dir)
    folder = root / "sightings"
    legacy = len(_flat_files(folder))
    plan: dict[Path, int] = {}
    for code, _bucket, path in _partition_files(folder, lambda _m: True, lambda _b: True):
        if cutoff is None or _month_end(code) <= cutoff:
            plan[path.parent] = plan.get(path.parent, 0) + 1
    totals = dict.fromkeys(("folders", "files_before", "files_after", "rows", "bytes_before",
                            "bytes_after", "duplicates_dropped"), 0)
    for part_dir in sorted(d for d, n in plan.items() if n >= min_files):
        with _writer_lock(root, lock_timeout_s):
            files = _flat_files(part_dir)  # again, under the lock
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


# --------------------------------------------------------------------------- reading


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
    """All stored incidents (``INCIDENT_COLUMNS`` + geometry, EPSG:27700), None if none."""
    return _read(incidents_paths(_root(data_dir)), None)


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
    paths = sightings_paths(_root(data_dir))
    if not paths:
        return None
    # schema of a partitioned file when there is one (legacy files sort first)
    schema = pq.read_schema(paths[-1])
    dataset = pads.dataset([str(p) for p in paths], schema=schema, format="parquet")
    want = [*SIGHTING_COLUMNS, "geometry"] if columns is None else list(columns)
    unknown = [c for c in want if c not in schema.names]
    if unknown:
        raise ValueError(f"stored sightings have no column(s): {', '.join(unknown)}")
    keys = [c for c in _SORT_KEYS if c in schema.names]
    table = dataset.to_table(columns=list(dict.fromkeys([*want, *keys])))
    table = table.sort_by([(c, "ascending") for c in keys]).select(want)
    if "geometry" not in want:
        return table.to_pandas()
    gdf = gpd.GeoDataFrame.from_arrow(table, geometry="geometry")
    return gdf if gdf.crs is not None else gdf.set_crs(BNG)
