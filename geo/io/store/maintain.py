"""Store maintenance: upgrade of 0.1.0/0.2.0 stores, compaction, vacuum.

Every operation here holds the store's writer lock and changes a table in
atomic commits, so readers see the store before or after each commit, never
in between.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from geo.errors import InputError, StoreWriteFailed
from geo.io.store.keys import read_keys
from geo.io.store.layout import (
    DEFAULT_LOCK_TIMEOUT_S,
    LAYOUT_FILE,
    as_utc,
    check_lock_timeout,
    init_sightings_store,
    layout_path,
    writer_lock,
)
from geo.io.store.legacy import (
    legacy_incident_files,
    legacy_layout,
    legacy_sighting_files,
    read_legacy_file,
)
from geo.io.store.read import read_snapshot_table, require_upgraded
from geo.io.store.table import (
    INCIDENTS,
    SIGHTINGS,
    NewFile,
    Snapshot,
    commit,
    load_snapshot,
    table_dir,
    write_data_file,
    write_guard,
)
from geo.io.store.write import SIGHTINGS_FILE_SORT, store_incidents, store_reads
from geo.schema import LONDON

__all__ = [
    "UpgradeReport",
    "upgrade_store",
    "CompactReport",
    "compact_sightings",
    "compact_incidents",
    "vacuum_store",
]

#: Rows moved per commit by an upgrade (bounded memory; a rerun resumes from the last commit).
_UPGRADE_ROWS_PER_COMMIT = 2_000_000

#: Partitions rewritten per compaction commit (the lock is released between commits).
_COMPACT_PARTITIONS_PER_COMMIT = 16


@dataclass(frozen=True)
class UpgradeReport:
    """What one :func:`upgrade_store` call did.

    Attributes
    ----------
    incidents_moved, sightings_moved : int
        Rows written into the tables (rows already there are not counted).
    legacy_files : int
        0.1.0/0.2.0 files read, then removed.
    layout : dict
        The sightings layout of the upgraded store.
    """

    incidents_moved: int = 0
    sightings_moved: int = 0
    legacy_files: int = 0
    layout: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _chunks(paths: list[Path], rows_per_chunk: int):
    """Legacy files read and concatenated into frames of about ``rows_per_chunk`` rows."""
    frames, rows = [], 0
    for path in paths:
        frame = read_legacy_file(path)
        frames.append(frame)
        rows += len(frame)
        if rows >= rows_per_chunk:
            yield pd.concat(frames, ignore_index=True)
            frames, rows = [], 0
    if frames:
        yield pd.concat(frames, ignore_index=True)


def _as_utc_times(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if column in frame and not isinstance(frame[column].dtype, pd.DatetimeTZDtype):
        return frame.assign(**{column: pd.to_datetime(frame[column], utc=True)})
    return frame


def upgrade_store(
    data_dir: str | os.PathLike, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    rows_per_commit: int = _UPGRADE_ROWS_PER_COMMIT,
) -> UpgradeReport:
    """Move the files of a harewatch 0.1.0/0.2.0 store into the Delta tables.

    Incidents (``incidents/*.parquet``) and reads (0.1.0 flat
    ``sightings/*.parquet`` and 0.2.0 ``sightings/season=../month=../bucket=..``
    files) are written into the tables in commits of about
    ``rows_per_commit`` rows, through the same duplicate check as an ingest;
    the old files are removed only after everything is committed. A 0.2.0
    store keeps its bucket count and season start month. Rerunning after an
    interruption completes the upgrade and stores nothing twice.

    Parameters
    ----------
    data_dir : path
        Store root.
    lock_timeout_s : float, default 600
        Seconds to wait for the writer lock (held throughout).
    rows_per_commit : int, default 2,000,000
        Rows moved per commit (memory bound).

    Returns
    -------
    UpgradeReport

    Raises
    ------
    InputError
        An old file cannot be read (named; nothing is removed).
    StoreLockTimeout, StoreWriteFailed
    """
    root = Path(data_dir)
    with writer_lock(root, lock_timeout_s):
        incidents, reads = legacy_incident_files(root), legacy_sighting_files(root)
        if not incidents and not reads:
            return UpgradeReport(layout=_layout_dict(root))
        old = legacy_layout(root)
        if old is not None and not layout_path(root).is_file():
            init_sightings_store(root, buckets=old.buckets,
                                 season_start_month=old.season_start_month)
        moved = {INCIDENTS: 0, SIGHTINGS: 0}
        with write_guard(root, "the upgraded store") as pending:
            for frame in _chunks(incidents, rows_per_commit):
                plan, _, _ = store_incidents(root, _as_utc_times(frame, "occurred_at"), pending)
                moved[INCIDENTS] += plan.added + plan.corrected
            for frame in _chunks(reads, rows_per_commit):
                added, _, _ = store_reads(root, _as_utc_times(frame, "read_at"), True, pending)
                moved[SIGHTINGS] += added
        _remove_legacy(root, [*incidents, *reads])
    return UpgradeReport(moved[INCIDENTS], moved[SIGHTINGS], len(incidents) + len(reads),
                         _layout_dict(root))


def _layout_dict(root: Path) -> dict:
    from geo.io.store.layout import sightings_layout

    return sightings_layout(root).to_dict()


def _remove_legacy(root: Path, files: list[Path]) -> None:
    """Delete moved legacy files, then the old folders if nothing else is left in them."""
    for path in files:
        path.unlink(missing_ok=True)
    (root / "sightings" / LAYOUT_FILE).unlink(missing_ok=True)
    for name in ("incidents", "sightings"):
        folder = root / name
        if not folder.is_dir():
            continue
        leftovers = [p for p in folder.rglob("*") if p.is_file()
                     and not p.name.startswith(".tmp")]
        if not leftovers:
            shutil.rmtree(folder)


@dataclass(frozen=True)
class CompactReport:
    """What one :func:`compact_sightings` call did.

    Attributes
    ----------
    folders : int
        ``season=/month=/bucket=`` partitions rewritten.
    files_before, files_after : int
        Live data files in those partitions before and after (``files_after``
        is one per partition, 0 for a partition whose files held no rows).
    rows : int
        Reads written into the compacted files.
    bytes_before, bytes_after : int
        Size of those partitions' live files before and after.
    duplicates_dropped : int
        Reads dropped because their key was already in the partition (0 in
        a healthy store).
    commits : int
        Table versions written (the lock is released between them).
    """

    folders: int = 0
    files_before: int = 0
    files_after: int = 0
    rows: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    duplicates_dropped: int = 0
    commits: int = 0

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return asdict(self)


def _month_end(month: str) -> pd.Timestamp:
    """First instant (UTC) after the London month ``"YYYY-MM"``."""
    start = pd.Timestamp(f"{month}-01", tz=LONDON)
    return (start + pd.offsets.MonthBegin(1)).tz_convert("UTC")


def _compact_partition(snap: Snapshot, files: pd.DataFrame,
                       pending: list[Path]) -> tuple[NewFile | None, int, int]:
    """One partition's live files as one sorted file: (new file or None, rows, duplicates)."""
    table = read_snapshot_table(snap, files, None)  # files in the order they were added
    keys = read_keys(table.select(["vrm", "read_at", "camera_id", "easting", "northing"])
                     .to_pandas(), normalised=True)  # stored ids are in normal form
    dup = keys.duplicated(keep="first").to_numpy(dtype=bool)
    if dup.any():
        table = table.filter(pa.array(~dup))
    if table.num_rows == 0:
        return None, 0, int(dup.sum())
    part = {c: str(files[c].iloc[0]) for c in snap.partition_by}
    new = write_data_file(snap.table_dir, table, part, sort_by=SIGHTINGS_FILE_SORT,
                          pending=pending)
    return new, table.num_rows, int(dup.sum())


def _compact_chunk(root: Path, wanted: list[tuple], min_files: int) -> dict[str, int]:
    """Rewrite some partitions in one commit (under the lock); their totals."""
    totals = dict.fromkeys(("folders", "files_before", "files_after", "rows", "bytes_before",
                            "bytes_after", "duplicates_dropped", "commits"), 0)
    snap = load_snapshot(table_dir(root, SIGHTINGS))
    groups = dict(list(snap.files.groupby(list(snap.partition_by), sort=True)))
    adds, removes = [], []
    with write_guard(root, "a compaction") as pending:
        for key in wanted:
            files = groups.get(key)
            if files is None or len(files) < min_files:
                continue  # changed since planned
            new, rows, dropped = _compact_partition(snap, files, pending)
            adds += [new] if new is not None else []
            removes += files["path"].tolist()
            totals["folders"] += 1
            totals["files_before"] += len(files)
            totals["files_after"] += int(new is not None)
            totals["rows"] += rows
            totals["bytes_before"] += int(files["size_bytes"].sum())
            totals["bytes_after"] += 0 if new is None else new.size_bytes
            totals["duplicates_dropped"] += dropped
        if removes:
            commit(snap, adds, removes, op="compact", data_change=False, pending=pending)
            totals["commits"] = 1
    return totals


def compact_sightings(
    data_dir: str | os.PathLike,
    *,
    min_files: int = 2,
    before=None,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> CompactReport:
    """Rewrite each ``season=/month=/bucket=`` partition of many small files as one file.

    Partitions with at least ``min_files`` live files are read (verified),
    cleared of repeated read keys, sorted by plate, time and camera
    (row-group statistics then prune plate and time filters) and written as
    one file; the new files replace the old ones in one commit per
    :data:`_COMPACT_PARTITIONS_PER_COMMIT` partitions (``data_change=False``:
    the same rows). Readers see either the old files or the new one, never
    both; the old files stay on disk for time travel until
    :func:`vacuum_store`. A crash leaves the last committed state.

    Parameters
    ----------
    data_dir : path
        Store root.
    min_files : int, default 2
        Compact only partitions with at least this many files (>= 2).
    before : Timestamp, optional
        Tz-aware: compact only London months ending at or before it (e.g.
        the first of this month: closed months only).
    lock_timeout_s : float, default 600
        Seconds to wait for the writer lock, per commit.

    Returns
    -------
    CompactReport

    Raises
    ------
    ValueError
        Bad arguments.
    StoreCorrupt
        A file to compact is damaged (named; nothing is changed).
    StoreLockTimeout, StoreWriteFailed
    """
    if isinstance(min_files, bool) or not isinstance(min_files, int | np.integer) \
            or min_files < 2:
        raise InputError(f"min_files must be an integer >= 2, got {min_files!r}")
    cutoff = as_utc(before, "before")
    check_lock_timeout(lock_timeout_s)
    root = Path(data_dir)
    require_upgraded(root)
    files = load_snapshot(table_dir(root, SIGHTINGS)).files
    plan = []
    if len(files):
        counts = files.groupby(["season", "month", "bucket"], sort=True).size()
        plan = [k for k, n in counts.items() if n >= min_files
                and (cutoff is None or _month_end(k[1]) <= cutoff)]
    totals = dict.fromkeys(CompactReport.__dataclass_fields__, 0)
    for i in range(0, len(plan), _COMPACT_PARTITIONS_PER_COMMIT):
        with writer_lock(root, lock_timeout_s):
            part = _compact_chunk(root, plan[i:i + _COMPACT_PARTITIONS_PER_COMMIT], min_files)
        totals = {k: totals[k] + part[k] for k in totals}
    return CompactReport(**totals)


def compact_incidents(
    data_dir: str | os.PathLike, *, min_files: int = 2,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> dict[str, int]:
    """Rewrite the incidents table's files as one file (when it has ``min_files`` or more).

    Returns
    -------
    dict
        ``files_before``, ``files_after``, ``rows``.
    """
    if isinstance(min_files, bool) or not isinstance(min_files, int | np.integer) \
            or min_files < 2:
        raise InputError(f"min_files must be an integer >= 2, got {min_files!r}")
    root = Path(data_dir)
    with writer_lock(root, lock_timeout_s):
        require_upgraded(root)
        snap = load_snapshot(table_dir(root, INCIDENTS))
        n = len(snap.files)
        if n < min_files:
            return {"files_before": n, "files_after": n, "rows": snap.rows}
        with write_guard(root, "a compaction of the incidents") as pending:
            table = read_snapshot_table(snap, snap.files, None)
            new = write_data_file(snap.table_dir, table, pending=pending)
            commit(snap, [new], snap.files["path"].tolist(), op="compact", data_change=False,
                   pending=pending)
    return {"files_before": n, "files_after": 1, "rows": table.num_rows}


def vacuum_store(
    data_dir: str | os.PathLike, *, retention_h: float | None = None, dry_run: bool = False,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> dict[str, list[str]]:
    """Delete data files no current version uses, older than the retention period.

    Files replaced by a compaction or a correction, and files an interrupted
    write left behind. Time travel to versions older than the retention then
    stops working for the deleted files.

    Parameters
    ----------
    data_dir : path
        Store root.
    retention_h : float, optional
        Keep files removed less than this many hours ago. Default: each
        table's own setting (sightings 7 days; incidents 10 years, so
        corrections stay auditable).
    dry_run : bool, default False
        Only list what would be deleted.
    lock_timeout_s : float, default 600

    Returns
    -------
    dict
        Table -> files deleted (or to delete), relative to the table.
    """
    if retention_h is not None and not (np.isfinite(retention_h) and retention_h >= 0):
        raise InputError(f"retention_h must be a number of hours >= 0, got {retention_h!r}")
    from deltalake import DeltaTable

    root = Path(data_dir)
    out: dict[str, list[str]] = {}
    with writer_lock(root, lock_timeout_s):
        require_upgraded(root)
        for kind in (INCIDENTS, SIGHTINGS):
            path = table_dir(root, kind)
            snap = load_snapshot(path)
            if snap.version < 0:
                out[kind] = []
                continue
            try:
                done = DeltaTable(str(path)).vacuum(
                    retention_hours=None if retention_h is None else int(np.ceil(retention_h)),
                    dry_run=dry_run, enforce_retention_duration=retention_h is None, full=True)
            except Exception as exc:  # delta-rs reports a bad retention as a generic error
                raise StoreWriteFailed(f"vacuum of the store table {path} failed: "
                                       f"{str(exc).splitlines()[0]}") from exc
            out[kind] = sorted(str(Path(p).relative_to(path)) if Path(p).is_absolute()
                               else str(p) for p in done)
    return out
