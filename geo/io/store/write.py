"""Writing to the store: transactional, idempotent ingest of validated incidents and reads.

One :func:`ingest` is one table version: its data files are written
(page checksums, SHA-256 in the name, flushed), then one commit makes them
visible together (:mod:`geo.io.store.table`). Whatever stops the writer
before the commit (an exception, ``kill -9``, a full disk, a power cut)
leaves the store at its previous version; the files already written are
invisible and removed (or, after ``kill -9``, left for ``harewatch store
vacuum``). Rerunning the ingest completes it, storing nothing twice.

Keys (:mod:`geo.io.store.keys`, identifiers normalised first):

* incidents: the incident id. A known id with the same content is already
  stored (nothing written); with different content it is a **correction**:
  the stored row is replaced in the same commit (the table's previous
  version keeps the old one: time travel, :func:`geo.io.store.read.store_history`).
* ANPR reads: plate + time + camera (or position when no camera). Only the
  month/bucket partitions the batch touches are checked, inside the batch's
  time range, so the check stays cheap on a large store.

The rejects CSV (``<data_dir>/rejects/<kind>-<stamp>-<uuid8>.csv``) is safe
to open in a spreadsheet: a cell starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return is prefixed with ``'``.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from geo.errors import InputError
from geo.io.store.keys import (
    FORCE_COLUMNS,
    incident_keys,
    normalise_forces,
    normalise_ids,
    normalise_plates,
    read_keys,
)
from geo.io.store.layout import (
    DEFAULT_LOCK_TIMEOUT_S,
    MAX_BUCKETS,
    PLATE_HASH,
    SightingsLayout,
    init_sightings_store,
    layout_path,
    month_codes,
    month_name,
    plate_buckets,
    season_name,
    sightings_layout,
    store_root,
    writer_lock,
)
from geo.io.store.read import read_snapshot_table, require_upgraded
from geo.io.store.table import (
    INCIDENTS,
    OUTCOMES,
    PARTITION_COLUMNS,
    SIGHTINGS,
    NewFile,
    Snapshot,
    align_to_schema,
    arrow_schema,
    commit,
    ensure_table,
    fsync_dir,
    table_dir,
    write_data_file,
    write_guard,
)
from geo.schema import INCIDENT_COLUMNS, LONDON, SIGHTING_COLUMNS
from geo.validate.common import ValidationResult
from geo.validate.sightings import SIGHTING_KEY

__all__ = [
    "IngestReport",
    "writable_layout",
    "incidents_table",
    "sightings_table",
    "write_partitions",
    "write_sightings",
    "store_reads",
    "store_incidents",
    "IncidentPlan",
    "SIGHTINGS_FILE_SORT",
    "ingest",
]

#: Threads writing a batch's data files (Parquet encoding, SHA-256 and fsync release the GIL).
_WRITE_THREADS = min(8, max(2, 2 * (os.cpu_count() or 1)))

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Columns never compared when deciding whether an incident changed (the id matched as a key).
_NOT_CONTENT = ("source_row", "incident_id")

#: Sort of the rows inside a sightings file (row-group statistics then prune plate/time).
SIGHTINGS_FILE_SORT = ("vrm", "read_at", "camera_id")


@dataclass(frozen=True)
class IngestReport:
    """What one :func:`ingest` call did.

    Attributes
    ----------
    kind : {"incidents", "sightings"}
    rows_added : int
        Accepted rows new to the store.
    rows_already_stored : int
        Accepted rows whose key was already stored with the same content
        (nothing written).
    rows_rejected : int
        Rejected rows written to the rejects CSV.
    part_path : Path or None
        The first data file written (None when nothing was written).
    rejects_path : Path or None
        The rejects CSV written (None when nothing was rejected).
    part_paths : tuple of Path
        Every data file written (reads: one per season/month/bucket touched).
    rows_corrected : int
        Incidents whose stored version was replaced by a corrected one.
    version : int
        The table version after the ingest (unchanged when nothing was new;
        -1 when nothing was accepted).
    """

    kind: str
    rows_added: int
    rows_already_stored: int
    rows_rejected: int
    part_path: Path | None
    rejects_path: Path | None
    part_paths: tuple[Path, ...] = ()
    rows_corrected: int = 0
    version: int = -1

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {
            "kind": self.kind,
            "rows_added": self.rows_added,
            "rows_corrected": self.rows_corrected,
            "rows_already_stored": self.rows_already_stored,
            "rows_rejected": self.rows_rejected,
            "version": self.version,
            "part_path": None if self.part_path is None else str(self.part_path),
            "rejects_path": None if self.rejects_path is None else str(self.rejects_path),
            "part_paths": [str(p) for p in self.part_paths],
        }


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def writable_layout(root: Path) -> SightingsLayout:
    """The store's layout (created when missing); refuse a plate hash this code lacks."""
    layout = (sightings_layout(root) if layout_path(root).is_file()
              else init_sightings_store(root))
    if layout.hash != PLATE_HASH:
        raise InputError(
            f"the sightings store {layout_path(root).parent} was bucketed with plate hash "
            f"{layout.hash!r}; this harewatch uses {PLATE_HASH!r} and cannot add reads to it")
    return layout


# --------------------------------------------------------------------------- frames -> Arrow


def _to_arrow(frame: pd.DataFrame, columns: list[str]) -> pa.Table:
    table = pa.Table.from_pandas(pd.DataFrame(frame[columns]), preserve_index=False)
    return table.cast(arrow_schema(table)).replace_schema_metadata(None)


def incidents_table(frame: pd.DataFrame) -> pa.Table:
    """Validated incidents as stored: ``INCIDENT_COLUMNS`` and any extra column, no geometry.

    Raises
    ------
    InputError
        Missing columns or incident ids.
    """
    missing = [c for c in INCIDENT_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"incidents frame lacks column(s): {', '.join(missing)}")
    ids = frame["incident_id"]
    if ids.isna().any() or (ids.astype("str").str.strip() == "").any():
        raise InputError("incidents frame has rows without incident_id")
    extra = [c for c in frame.columns if c not in INCIDENT_COLUMNS and c != "geometry"]
    return _to_arrow(frame, [*INCIDENT_COLUMNS, *extra])


def sightings_table(frame: pd.DataFrame) -> pa.Table:
    """Validated reads as stored: ``SIGHTING_COLUMNS`` and extras, plates and camera ids
    normalised (:mod:`geo.io.store.keys`).

    Raises
    ------
    InputError
        Missing columns, naive or missing times.
    """
    missing = [c for c in SIGHTING_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"sightings frame lacks column(s): {', '.join(missing)}")
    times = frame["read_at"]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise InputError(f"read_at must be timezone-aware (UTC), got {times.dtype}")
    if times.isna().any():
        raise InputError(f"read_at is missing in row(s) {np.flatnonzero(times.isna())[:5] + 1}")
    skip = {"geometry", *PARTITION_COLUMNS[SIGHTINGS]}
    extra = [c for c in frame.columns if c not in SIGHTING_COLUMNS and c not in skip]
    table = _to_arrow(frame, [*SIGHTING_COLUMNS, *extra])
    for name, normalise in (("vrm", normalise_plates), ("camera_id", normalise_ids)):
        i = table.column_names.index(name)
        table = table.set_column(i, name, normalise(table[name]))
    return table


# --------------------------------------------------------------------------- sightings


def _partitions(table: pa.Table, layout: SightingsLayout) -> tuple[np.ndarray, np.ndarray]:
    months = month_codes(table["read_at"].to_pandas())
    return months, plate_buckets(table["vrm"], layout.buckets)


def write_partitions(path: Path, table: pa.Table, months: np.ndarray, buckets: np.ndarray,
                     layout: SightingsLayout, pending: list[Path], *,
                     sort_by: tuple[str, ...] = ()) -> list[NewFile]:
    """One data file per (season, month, bucket) of ``table`` (not committed).

    Rows are put in partition order once (a stable sort: batch order within a
    file, or ``sort_by`` within each partition); each file is a zero-copy slice.
    """
    if table.num_rows == 0:
        return []
    group = months * MAX_BUCKETS + buckets
    if sort_by:
        keyed = table.append_column("__group", pa.array(group, type=pa.int64()))
        keyed = keyed.sort_by([("__group", "ascending"), *((c, "ascending") for c in sort_by)])
        ordered, sorted_group = keyed.drop_columns(["__group"]), keyed["__group"].to_numpy()
    else:
        order = np.argsort(group, kind="stable")
        ordered, sorted_group = table.take(order), group[order]
    keys, starts = np.unique(sorted_group, return_index=True)
    ends = [*starts[1:].tolist(), len(sorted_group)]
    seasons = {code: season_name(code, layout.season_start_month)
               for code in np.unique(months).tolist()}
    jobs = []
    for key, a, b in zip(keys.tolist(), starts.tolist(), ends, strict=True):
        code, bucket = divmod(key, MAX_BUCKETS)
        part = {"season": seasons[code], "month": month_name(code), "bucket": f"{bucket:02d}"}
        jobs.append((ordered.slice(a, b - a), part))
    if len(jobs) < 4:
        return [write_data_file(path, t, part, pending=pending) for t, part in jobs]
    # encoding, hashing and flushing release the GIL: files are written in parallel
    # (results in partition order; ``pending`` lists every file before it is written)
    with ThreadPoolExecutor(max_workers=_WRITE_THREADS) as pool:
        return list(pool.map(lambda job: write_data_file(path, job[0], job[1], pending=pending),
                             jobs))


def _stored_keys(snap: Snapshot, months: np.ndarray, buckets: np.ndarray,
                 batch: pa.Table) -> pd.DataFrame | None:
    """Keys of the stored reads the batch could repeat: same partitions, files whose recorded
    time range overlaps the batch's, rows inside it."""
    files = snap.files
    if files.empty:
        return None
    codes = np.unique(months * MAX_BUCKETS + buckets).tolist()
    pairs = {(month_name(c // MAX_BUCKETS), f"{c % MAX_BUCKETS:02d}") for c in codes}
    near = files[files["month"].isin({m for m, _ in pairs})]
    hit = [(m, b) in pairs for m, b in zip(near["month"], near["bucket"], strict=True)]
    near = near[np.asarray(hit, dtype=bool)]
    lo, hi = pc.min(batch["read_at"]), pc.max(batch["read_at"])
    lo_us, hi_us = (int(t.cast(pa.int64()).as_py()) for t in (lo, hi))
    unknown = near["time_min_us"] < 0  # files without recorded times are always read
    overlap = (near["time_min_us"] <= hi_us) & (near["time_max_us"] >= lo_us)
    near = near[unknown | overlap]
    if near.empty:
        return None
    when = (pads.field("read_at") >= lo) & (pads.field("read_at") <= hi)
    cols = ["vrm", "read_at", "camera_id", "easting", "northing"]
    stored = read_snapshot_table(snap, near, cols, filter=when).to_pandas()
    return read_keys(stored, normalised=True) if len(stored) else None


def _new_reads(snap: Snapshot, batch: pa.Table, months: np.ndarray,
               buckets: np.ndarray) -> np.ndarray:
    """True for reads of ``batch`` not stored yet (and first of their key in the batch)."""
    stored = _stored_keys(snap, months, buckets, batch)
    # a key holds the time: only reads whose time repeats in the batch or is stored can be
    # repeats, so the full key is compared for those alone
    read_at = pd.to_datetime(batch["read_at"].to_pandas(), utc=True).dt.as_unit("us")
    micros = read_at.dt.tz_localize(None).to_numpy().view("int64")
    maybe = pd.Series(micros).duplicated(keep=False).to_numpy(dtype=bool, copy=True)
    if stored is not None:
        maybe |= pd.Series(micros).isin(stored["read_at"].to_numpy()).to_numpy(dtype=bool)
    new = np.ones(batch.num_rows, dtype=bool)
    pos = np.flatnonzero(maybe)
    if not len(pos):
        return new
    keys = read_keys(batch.take(pa.array(pos)).select(
        ["vrm", "read_at", "camera_id", "easting", "northing"]).to_pandas(), normalised=True)
    both = keys if stored is None else pd.concat([stored[list(SIGHTING_KEY)], keys],
                                                 ignore_index=True)
    seen = both.duplicated(keep="first").to_numpy(dtype=bool)
    new[pos] = ~seen[len(both) - len(keys):]
    return new


def store_reads(root: Path, frame: pd.DataFrame, dedupe: bool,
                pending: list[Path]) -> tuple[int, list[NewFile], int]:
    """Write the (new) reads of ``frame`` in one commit: (rows added, files, version).

    The caller holds the writer lock and a :func:`write_guard` (``pending``).
    """
    layout = writable_layout(root)
    table = sightings_table(frame)
    snap = ensure_table(table_dir(root, SIGHTINGS), table.schema)
    months, buckets = _partitions(table, layout)
    if dedupe and table.num_rows:
        new = _new_reads(snap, table, months, buckets)
        if not new.all():
            table, months, buckets = table.filter(pa.array(new)), months[new], buckets[new]
    if table.num_rows == 0:
        return 0, [], snap.version
    aligned = align_to_schema(table, snap.schema, "sightings")
    adds = write_partitions(snap.table_dir, aligned, months, buckets, layout, pending)
    version = commit(snap, adds, op="ingest", extra={"rows_added": table.num_rows},
                     pending=pending)
    return table.num_rows, adds, version


def write_sightings(
    frame: pd.DataFrame, data_dir: str | os.PathLike, *,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> list[Path]:
    """Append reads to the sightings table without a duplicate check (for generators).

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        ``SIGHTING_COLUMNS`` (geometry, if any, is not stored: it is rebuilt
        from easting/northing), ``read_at`` tz-aware. Not modified.
    data_dir : path
        Store root; the layout and table are created (defaults) when missing.
    lock_timeout_s : float, default 600
        Seconds to wait for the store's writer lock.

    Returns
    -------
    list of Path
        The data files written, one per (season, month, bucket) touched,
        all made visible by one commit.

    Raises
    ------
    ValueError
        Missing columns, naive or missing times, a store bucketed with
        another plate hash.
    StoreLockTimeout, StoreWriteFailed
    """
    root = Path(data_dir)
    sightings_table(frame)  # validate before taking the lock
    with writer_lock(root, lock_timeout_s):
        require_upgraded(root)
        with write_guard(root, f"{len(frame)} ANPR read(s)") as pending:
            _, adds, _ = store_reads(root, frame, False, pending)
    return [table_dir(root, SIGHTINGS) / a.path for a in adds]


# --------------------------------------------------------------------------- incidents


def _text_equal(a: pa.ChunkedArray, b: pa.ChunkedArray, force: bool) -> np.ndarray:
    if force:
        return normalise_forces(a) == normalise_forces(b)
    left = pc.fill_null(a.cast(pa.string()), "")
    right = pc.fill_null(b.cast(pa.string()), "")
    return pc.equal(left, right).to_numpy(zero_copy_only=False)


def _column_equal(name: str, a: pa.ChunkedArray, b: pa.ChunkedArray) -> np.ndarray:
    """Row-wise "same value" of two aligned columns (missing equals missing; "" equals missing)."""
    if pa.types.is_string(a.type) or pa.types.is_string(b.type):
        return _text_equal(a, b, name in FORCE_COLUMNS)
    if a.type != b.type:
        b = b.cast(a.type)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    if pa.types.is_floating(a.type):
        both_null = pc.or_(both_null, pc.and_(pc.is_nan(a), pc.is_nan(b)))
    same = pc.fill_null(pc.equal(a, b), False)
    return pc.or_(same, both_null).to_numpy(zero_copy_only=False)


def _same_content(stored: pa.Table, batch: pa.Table) -> np.ndarray:
    """Row-wise: does the batch row say what the stored row says? (both aligned by key)."""
    same = np.ones(batch.num_rows, dtype=bool)
    for name in batch.column_names:
        if name in _NOT_CONTENT:
            continue
        if name in stored.column_names:
            same &= _column_equal(name, stored[name], batch[name])
        else:  # a column the table lacks: only missing/empty values say the same
            col = batch[name]
            empty = pc.is_null(col) if not pa.types.is_string(col.type) else pc.equal(
                pc.fill_null(col, ""), "")
            same &= pc.fill_null(empty, True).to_numpy(zero_copy_only=False)
    return same


@dataclass(frozen=True)
class IncidentPlan:
    """What an incidents batch changes.

    Attributes
    ----------
    write : pyarrow.Table
        New and corrected rows, in batch order.
    rewrite : dict of str to pyarrow.Table
        Stored file (absolute path) -> its rows to keep (corrected rows removed).
    added, corrected, unchanged : int
        Rows new to the store; replacing a stored version; already stored as they are.
    """

    write: pa.Table
    rewrite: dict[str, pa.Table]
    added: int
    corrected: int
    unchanged: int


def _plan_incidents(snap: Snapshot, batch: pa.Table) -> IncidentPlan:
    keys = incident_keys(batch["incident_id"].to_pandas()).to_numpy()
    first = ~pd.Series(keys).duplicated(keep="first").to_numpy()
    if snap.files.empty:
        return IncidentPlan(batch.filter(pa.array(first)), {}, int(first.sum()), 0,
                             int((~first).sum()))
    stored = read_snapshot_table(snap, snap.files, [*snap.schema.names, "__filename"])
    stored_keys = incident_keys(stored["incident_id"].to_pandas()).to_numpy()
    where = pd.Series(np.arange(len(stored_keys)), index=stored_keys)
    where = where[~where.index.duplicated(keep="last")]
    pos = where.reindex(keys).to_numpy()
    known = ~np.isnan(pos)
    same = np.zeros(len(keys), dtype=bool)
    if known.any():
        idx = pos[known].astype("int64")
        same[known] = _same_content(stored.take(idx), batch.filter(pa.array(known)))
    corrected = known & ~same & first
    new = ~known & first
    rewrite: dict[str, pa.Table] = {}
    if corrected.any():
        gone = set(pos[corrected].astype("int64").tolist())
        files = stored["__filename"].to_numpy(zero_copy_only=False)
        keep_row = np.ones(stored.num_rows, dtype=bool)
        keep_row[list(gone)] = False
        for name in sorted({files[i] for i in gone}):
            rows = (files == name) & keep_row
            rewrite[name] = stored.drop_columns(["__filename"]).filter(pa.array(rows))
    write = batch.filter(pa.array(new | corrected))
    return IncidentPlan(write, rewrite, int(new.sum()), int(corrected.sum()),
                         int(len(keys) - new.sum() - corrected.sum()))


def store_incidents(root: Path, frame: pd.DataFrame, pending: list[Path], table: str = INCIDENTS,
                    ) -> tuple[IncidentPlan, list[NewFile], int]:
    """Write new and corrected incidents of ``frame`` in one commit: (plan, files, version).

    The caller holds the writer lock and a :func:`write_guard` (``pending``).
    ``table`` is "incidents", or "outcomes" for data.police.uk outcomes (keyed
    by crime, month and outcome: see :func:`outcome_rows`).
    """
    batch = incidents_table(frame)
    snap = ensure_table(table_dir(root, table), batch.schema)
    plan = _plan_incidents(snap, batch)
    if plan.write.num_rows == 0:
        return plan, [], snap.version
    adds = [write_data_file(snap.table_dir, align_to_schema(plan.write, snap.schema,
                                                            "incidents"), pending=pending)]
    removes = []
    for name, rows in plan.rewrite.items():
        removes.append(Path(name).relative_to(snap.table_dir).as_posix())
        if rows.num_rows:
            adds.append(write_data_file(snap.table_dir, rows, pending=pending))
    version = commit(snap, adds, removes, op="ingest", pending=pending,
                     extra={"rows_added": plan.added, "rows_corrected": plan.corrected})
    return plan, adds, version


def outcome_rows(accepted: pd.DataFrame) -> pd.DataFrame:
    """Outcomes keyed by crime, month and outcome (a crime has one outcome per month at most).

    ``incident_id`` becomes ``<Crime ID>|<YYYY-MM>|<outcome>``; ``crime_id`` keeps the Crime ID.
    """
    month = accepted["occurred_at"].dt.tz_convert(LONDON).dt.strftime("%Y-%m")
    key = accepted["incident_id"].astype("str") + "|" + month + "|" + accepted["outcome"].astype("str")
    return accepted.assign(crime_id=accepted["incident_id"].astype("str"), incident_id=key)


# --------------------------------------------------------------------------- ingest


def _neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_rejects(rejects: pd.DataFrame, path: Path, pending: list[Path]) -> None:
    safe = rejects.copy()
    for c in ("id", "reason"):
        safe[c] = safe[c].map(_neutralise)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pending.append(path)
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        safe.to_csv(fh, index=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def ingest(
    result: ValidationResult, data_dir: str | os.PathLike | None = None, *,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> IngestReport:
    """Store a validation result in one commit: new and corrected rows, rejects as CSV.

    Parameters
    ----------
    result : ValidationResult
        From :func:`geo.validate.incidents.validate_incidents` or
        :func:`geo.validate.sightings.validate_sightings`. Not modified.
    data_dir : path, optional
        Store root (default :func:`geo.io.store.layout.default_data_dir`).
    lock_timeout_s : float, default 600
        Seconds to wait for the store's writer lock, held from the duplicate
        check to the commit (concurrent ingests of one batch store it once).

    Returns
    -------
    IngestReport
        Rows added, corrected (incidents), already stored and rejected; the
        files written and the table version.

    Raises
    ------
    StoreLockTimeout
        Another writer held the lock for ``lock_timeout_s``.
    StoreWriteFailed
        The write failed (e.g. disk full): nothing of it was stored.
    StoreCorrupt
        A stored file the duplicate check had to read is damaged (named).
    LegacyLayoutError
        The store still has 0.1.0/0.2.0 files (run ``harewatch store upgrade``).
    """
    root = store_root(data_dir)
    what = f"{result.n_accepted} {result.kind} row(s)"
    with writer_lock(root, lock_timeout_s):
        require_upgraded(root)
        with write_guard(root, what) as pending:
            return _ingest_locked(result, root, pending)


def _ingest_locked(result: ValidationResult, root: Path, pending: list[Path]) -> IngestReport:
    kind, accepted = result.kind, result.accepted
    rejects_path = None
    if result.n_rejected:
        rejects_path = root / "rejects" / f"{kind}-{_stamp()}-{uuid.uuid4().hex[:8]}.csv"
        _write_rejects(result.rejects, rejects_path, pending)
    corrected, version, adds = 0, -1, []
    if kind == SIGHTINGS:
        added, adds, version = (store_reads(root, accepted, True, pending)
                                if len(accepted) else (0, [], -1))
    elif len(accepted):
        rows = outcome_rows(accepted) if kind == OUTCOMES else accepted
        plan, adds, version = store_incidents(root, rows, pending, table=kind)
        added, corrected = plan.added, plan.corrected
    else:
        added = 0
    pending.clear()  # committed (or nothing to commit): the rejects CSV stays
    folder = table_dir(root, kind)
    paths = tuple(folder / a.path for a in adds)
    return IngestReport(
        kind=kind, rows_added=added, rows_already_stored=int(len(accepted) - added - corrected),
        rows_rejected=int(result.n_rejected), part_path=paths[0] if paths else None,
        rejects_path=rejects_path, part_paths=paths, rows_corrected=corrected, version=version)
