"""Retention: ANPR reads past the retention period leave the store, atomically.

:func:`purge_reads` drops every read older than a cut-off
(:func:`geo.access.retention_cutoff`) from the sightings table in **one**
Delta commit: data files wholly older are removed, files that straddle the
cut-off are rewritten without the old reads. Readers see the table before or
after that commit, never in between. Then the removed files are deleted
from disk (a vacuum with no retention, so time travel cannot bring the reads
back), the watcher's alerts raised on those reads are deleted (one sqlite
transaction) and the sightings rejects files older than the cut-off go.

Killed at any point (``kill -9``), a rerun completes the job: before the
commit nothing changed (files written for it are invisible orphans the
vacuum deletes); after it, only the deletions are repeated.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import StoreWriteFailed
from geo.io.alert_db import purge_alerts
from geo.io.store.layout import DEFAULT_LOCK_TIMEOUT_S, DERIVED_FOLDER, writer_lock
from geo.io.store.read import read_snapshot_table, require_upgraded
from geo.io.store.table import (
    SIGHTINGS,
    NewFile,
    Snapshot,
    commit,
    has_table,
    load_snapshot,
    table_dir,
    write_data_file,
    write_guard,
)
from geo.io.store.write import SIGHTINGS_FILE_SORT

__all__ = ["PurgeReport", "plan_purge", "purge_reads"]


@dataclass(frozen=True)
class PurgeReport:
    """What :func:`purge_reads` did (or, with ``dry_run``, would do).

    Attributes
    ----------
    cutoff : str
        ISO time (UTC): reads before it go.
    dry_run : bool
    reads_removed : int
        Reads dropped from the table.
    files_removed, files_rewritten : int
        Data files dropped whole; files rewritten without their old reads.
    months : list of str
        London months (``YYYY-MM``) that lost reads.
    files_deleted : int
        Data files deleted from disk (no longer used by the table).
    alerts_removed : int
        Watcher alerts on reads before the cut-off.
    rejects_removed : list of str
        Sightings rejects files (``rejects/``) older than the cut-off.
    derived_removed : int
        Files of results derived from the store (``cache/``, the dashboard's
        results on disk), deleted whatever their age: they may hold the reads.
    committed : bool
        Whether a table version was written by this call.
    """

    cutoff: str
    dry_run: bool
    reads_removed: int = 0
    files_removed: int = 0
    files_rewritten: int = 0
    months: list[str] = field(default_factory=list)
    files_deleted: int = 0
    alerts_removed: int = 0
    rejects_removed: list[str] = field(default_factory=list)
    derived_removed: int = 0
    committed: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def _us(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).tz_convert("UTC").value // 1000)


def plan_purge(files: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a snapshot's files: (wholly before ``cutoff``, possibly holding reads before it).

    Uses the read-time range each file's log entry records (``time_min_us``,
    ``time_max_us``; -1 unknown: such a file must be read to know).
    """
    cut = _us(cutoff)
    if not len(files):
        return files, files
    lo, hi = files["time_min_us"], files["time_max_us"]
    known = (lo >= 0) & (hi >= 0)
    whole = known & (hi < cut)
    partial = ~whole & (~known | (lo < cut))
    return files[whole], files[partial]


def _rewrite(snap: Snapshot, files: pd.DataFrame, cutoff: pd.Timestamp,
             pending: list[Path] | None) -> tuple[list[NewFile], list[str], int, list[str]]:
    """Straddling files without their old reads: (new files, replaced paths, reads dropped, months)."""
    cut = pa.scalar(pd.Timestamp(cutoff).tz_convert("UTC").to_pydatetime(),
                    type=pa.timestamp("us", tz="UTC"))
    adds, removes, dropped, months = [], [], 0, []
    for _, row in files.iterrows():
        one = files.loc[[row.name]]
        table = read_snapshot_table(snap, one, None)
        keep = pc.fill_null(pc.greater_equal(table["read_at"], cut), True)
        kept = table.filter(keep)
        if kept.num_rows == table.num_rows:
            continue
        dropped += table.num_rows - kept.num_rows
        removes.append(str(row["path"]))
        months.append(str(row["month"]))
        if kept.num_rows and pending is not None:
            part = {c: str(row[c]) for c in snap.partition_by}
            adds.append(write_data_file(snap.table_dir, kept, part, sort_by=SIGHTINGS_FILE_SORT,
                                        pending=pending))
    return adds, removes, dropped, months


def _delete_unused(path: Path, dry_run: bool) -> int:
    """Delete data files the table no longer uses (no retention: purged reads are gone)."""
    from deltalake import DeltaTable

    if not has_table(path):
        return 0
    try:
        table = DeltaTable(str(path))
        done = table.vacuum(retention_hours=0, dry_run=True, enforce_retention_duration=False,
                            full=True)
        if done and not dry_run:  # no empty vacuum commits when there is nothing to delete
            done = table.vacuum(retention_hours=0, dry_run=False,
                                enforce_retention_duration=False, full=True)
    except Exception as exc:  # delta-rs reports its failures as generic errors
        raise StoreWriteFailed(f"deleting the purged files of {path} failed: "
                               f"{str(exc).splitlines()[0]}") from exc
    return len(done)


def _old_rejects(root: Path, cutoff: pd.Timestamp, dry_run: bool) -> list[str]:
    """Sightings rejects files last written before the cut-off (deleted unless ``dry_run``)."""
    folder = root / "rejects"
    if not folder.is_dir():
        return []
    cut_s = pd.Timestamp(cutoff).timestamp()
    old = sorted(p for p in folder.glob("sightings-*.csv") if p.stat().st_mtime < cut_s)
    if not dry_run:
        for p in old:
            p.unlink(missing_ok=True)
    return [p.name for p in old]


def _drop_derived(root: Path, dry_run: bool) -> int:
    """Delete the store's derived results (``cache/``); the number of files."""
    folder = root / DERIVED_FOLDER
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
    if not dry_run and folder.is_dir():
        shutil.rmtree(folder)
    return len(files)


def purge_reads(data_dir: str | os.PathLike, *, cutoff: pd.Timestamp, dry_run: bool = False,
                lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> PurgeReport:
    """Remove every ANPR read before ``cutoff`` from the store (see the module notes).

    Parameters
    ----------
    data_dir : path
        Store root.
    cutoff : Timestamp
        Tz-aware; reads strictly before it go.
    dry_run : bool, default False
        Only count what would go (reads, files, alerts, rejects files).
    lock_timeout_s : float, default 600
        Seconds to wait for the store's writer lock (held throughout).

    Returns
    -------
    PurgeReport

    Raises
    ------
    StoreCorrupt
        A file to rewrite is damaged (named; nothing changed).
    StoreLockTimeout, StoreWriteFailed
    """
    root = Path(data_dir)
    path = table_dir(root, SIGHTINGS)
    with writer_lock(root, lock_timeout_s):
        require_upgraded(root)
        snap = load_snapshot(path)
        whole, partial = plan_purge(snap.files, cutoff)
        with write_guard(root, "a purge of old ANPR reads") as pending:
            adds, rewritten, dropped, months = _rewrite(snap, partial, cutoff,
                                                        None if dry_run else pending)
            removes = [*whole["path"].astype(str), *rewritten]
            reads = int(whole["rows"].clip(lower=0).sum()) + dropped
            if removes and not dry_run:
                commit(snap, adds, removes, op="purge", pending=pending,
                       extra={"rows_purged": reads, "cutoff": pd.Timestamp(cutoff).isoformat()})
        deleted = _delete_unused(path, dry_run)
        alerts = purge_alerts(root, cutoff, dry_run=dry_run)
        rejects = _old_rejects(root, cutoff, dry_run)
        derived = _drop_derived(root, dry_run)
    return PurgeReport(
        cutoff=pd.Timestamp(cutoff).tz_convert("UTC").isoformat(), dry_run=dry_run,
        reads_removed=reads, files_removed=len(whole), files_rewritten=len(rewritten),
        months=sorted({*whole["month"].astype(str), *months}) if len(snap.files) else [],
        files_deleted=deleted, alerts_removed=alerts, rejects_removed=rejects,
        derived_removed=derived, committed=bool(removes) and not dry_run)
