"""The store's Delta Lake tables: snapshots, data files with checksums, atomic commits.

Each table (``<data_dir>/tables/incidents``, ``<data_dir>/tables/sightings``)
is a Delta Lake table (``deltalake``, delta-rs): Parquet data files plus a
transaction log ``_delta_log/<version>.json``. A version becomes visible
when its log file appears, which is one atomic rename; until then its data
files are invisible (never listed in a snapshot), so a batch is visible all
at once or not at all, whatever happens to the writer (crash, ``kill -9``,
disk full, power loss).

Harewatch writes the data files itself (pyarrow), because delta-rs' Parquet
writer has no page checksums:

* every data page carries a CRC-32 (``write_page_checksum=True``), checked
  on every pyarrow read (``page_checksum_verification=True``);
* the file's SHA-256 is part of its name, ``part-<token>-<sha256>.parquet``,
  so the content hash of every live file is recorded in the same log entry
  that makes the file visible (the manifest *is* the log);
* each commit also records in its ``commitInfo`` the number of live files,
  their rows and a digest of their paths and sizes
  (``harewatch.files``, ``harewatch.rows``, ``harewatch.digest``); a
  snapshot whose file list does not match is refused, so a damaged log
  cannot silently hide or resurrect files;
* data files and log entries are flushed to disk (``fsync``) before and
  after the commit.

Only functions of :mod:`geo.io.store` use this module; all of them hold the
store's writer lock around a write.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from geo.errors import InputError, StoreCorrupt, StoreError, StoreWriteFailed
from geo.io.store.layout import fnv1a64

__all__ = [
    "TABLES_DIR",
    "INCIDENTS",
    "SIGHTINGS",
    "PARTITION_COLUMNS",
    "NewFile",
    "Snapshot",
    "table_dir",
    "has_table",
    "load_snapshot",
    "ensure_table",
    "write_data_file",
    "commit",
    "write_guard",
    "table_history",
    "files_digest",
    "arrow_schema",
    "align_to_schema",
    "parquet_format",
    "sha256_of_name",
    "fsync_dir",
]

#: Folder of the Delta tables under the store root.
TABLES_DIR = "tables"

INCIDENTS = "incidents"

SIGHTINGS = "sightings"

#: data.police.uk outcomes of crimes (one row per crime, month and outcome).
OUTCOMES = "outcomes"

#: Partition columns of each table (string values; folders ``name=value``).
PARTITION_COLUMNS: dict[str, tuple[str, ...]] = {
    INCIDENTS: (),
    SIGHTINGS: ("season", "month", "bucket"),
    OUTCOMES: (),
}

#: Table properties. Incidents keep every version (corrections stay auditable) for 10 years.
_TABLE_CONFIG: dict[str, dict[str, str]] = {
    INCIDENTS: {"delta.logRetentionDuration": "interval 3650 days",
                "delta.deletedFileRetentionDuration": "interval 3650 days"},
    SIGHTINGS: {},
    OUTCOMES: {},
}

_SHA_NAME = re.compile(r"-([0-9a-f]{64})\.parquet$")

#: Time column whose min/max each data file's log entry records (Delta stats), per table.
_STATS_TIME: dict[str, str] = {SIGHTINGS: "read_at"}

#: Operations that change no data (another tool's vacuum): allowed after a harewatch commit.
_NO_DATA_OPS = ("VACUUM START", "VACUUM END")

_META_PREFIX = "harewatch."

_ROW_GROUP_ROWS = 128 * 1024


def table_dir(root: str | os.PathLike, kind: str) -> Path:
    """``<root>/tables/<kind>``."""
    if kind not in PARTITION_COLUMNS:
        raise InputError(f"table must be one of {', '.join(PARTITION_COLUMNS)}, got {kind!r}")
    return Path(root) / TABLES_DIR / kind


def has_table(path: Path) -> bool:
    """Whether ``path`` holds a Delta table (a ``_delta_log`` with at least one commit)."""
    log = path / "_delta_log"
    return log.is_dir() and any(p.suffix == ".json" for p in log.iterdir())


def sha256_of_name(name: str) -> str | None:
    """The SHA-256 recorded in a data file's name, None for a file not written by harewatch."""
    m = _SHA_NAME.search(name)
    return m.group(1) if m else None


@dataclass(frozen=True)
class NewFile:
    """A data file written (not yet committed).

    Attributes
    ----------
    path : str
        Relative to the table folder (``season=../month=../bucket=../part-...``).
    size_bytes, rows : int
    sha256 : str
    partition : dict of str to str
        Partition values (empty for an unpartitioned table).
    stats : dict
        Delta statistics of the file (``numRecords``; ``minValues`` /
        ``maxValues`` of the table's time column, widened to whole ms).
    """

    path: str
    size_bytes: int
    rows: int
    sha256: str
    partition: Mapping[str, str] = field(default_factory=dict)
    stats: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """One version of a table: its live data files.

    Attributes
    ----------
    table_dir : Path
    version : int
        -1 when the table does not exist yet.
    files : DataFrame
        One row per live data file: ``path`` (relative), ``size_bytes``,
        ``rows``, ``sha256`` ("" when the name carries none), ``added_ms``
        (when it was written, ms since the epoch) and one column per
        partition column; in the order the files were added.
    schema : pyarrow.Schema or None
        The table schema without partition columns (None without a table).
    partition_by : tuple of str
    handle : deltalake.DeltaTable or None
        The open table of this version (reused by :func:`commit`).
    """

    table_dir: Path
    version: int
    files: pd.DataFrame
    schema: pa.Schema | None
    partition_by: tuple[str, ...] = ()
    handle: object = field(default=None, repr=False, compare=False)

    @property
    def rows(self) -> int:
        """Rows in the live files."""
        return int(self.files["rows"].sum()) if len(self.files) else 0

    def absolute(self, rel: Sequence[str] | None = None) -> list[Path]:
        """Absolute paths of ``rel`` (default: every live file)."""
        rel = self.files["path"].tolist() if rel is None else rel
        return [self.table_dir / r for r in rel]


def _empty_files(partition_by: Sequence[str]) -> pd.DataFrame:
    cols = {"path": pd.Series([], dtype="str"), "size_bytes": pd.Series([], dtype="int64"),
            "rows": pd.Series([], dtype="int64"), "sha256": pd.Series([], dtype="str"),
            "added_ms": pd.Series([], dtype="int64"), "time_min_us": pd.Series([], dtype="int64"),
            "time_max_us": pd.Series([], dtype="int64")}
    cols.update({c: pd.Series([], dtype="str") for c in partition_by})
    return pd.DataFrame(cols)


def _log_error(path: Path, exc: Exception) -> StoreCorrupt:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    log = path / "_delta_log"
    commits = sorted(log.glob("*.json")) if log.is_dir() else []
    last = f" (newest commit file {commits[-1]})" if commits else ""
    return StoreCorrupt(
        f"the transaction log of the store table {path} cannot be read: {first}{last}. "
        "The log is damaged; `harewatch store verify` lists what it can check",
        (str(log),))


def _open(path: Path, version: int | None = None):
    from deltalake import DeltaTable

    try:
        return DeltaTable(str(path), version=version)
    except Exception as exc:  # delta-rs raises DeltaError, OSError, ValueError...
        if version is not None and "version" in str(exc).lower():
            raise InputError(f"{path}: no version {version} ({str(exc).splitlines()[0]})") from exc
        raise _log_error(path, exc) from exc


def _files_frame(dt, kind: str, partition_by: Sequence[str]) -> pd.DataFrame:
    actions = pa.table(dt.get_add_actions(flatten=True))
    if actions.num_rows == 0:
        return _empty_files(partition_by)
    rows = (actions["num_records"].to_numpy(zero_copy_only=False)
            if "num_records" in actions.column_names else np.full(actions.num_rows, np.nan))
    out = pd.DataFrame({
        "path": pd.Series(actions["path"].to_pylist(), dtype="str"),
        "size_bytes": actions["size_bytes"].to_numpy().astype("int64"),
        "rows": np.nan_to_num(np.asarray(rows, dtype="float64"), nan=-1).astype("int64"),
    })
    out["sha256"] = pd.Series([sha256_of_name(p) or "" for p in out["path"]], dtype="str")
    out["added_ms"] = actions["modification_time"].to_numpy().astype("int64")
    out["time_min_us"], out["time_max_us"] = _time_bounds(actions, _STATS_TIME.get(kind))
    for c in partition_by:
        out[c] = pd.Series(actions[f"partition.{c}"].to_pylist(), dtype="str")
    # commit order (the add time), then path: incidents read back in the order they came
    return out.sort_values(["added_ms", "path"], kind="stable").reset_index(drop=True)


def _time_bounds(actions: pa.Table, column: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Recorded min/max of the time column per file, microseconds (unknown: -1)."""
    n = actions.num_rows
    out = []
    for side in ("min", "max"):
        name = f"{side}.{column}"
        if column is None or name not in actions.column_names:
            out.append(np.full(n, -1, dtype="int64"))
            continue
        values = actions[name].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        out.append(np.asarray(pc.fill_null(values, -1).to_numpy(zero_copy_only=False),
                              dtype="int64"))
    return out[0], out[1]


def files_digest(paths: Sequence[str], sizes: Sequence[int]) -> str:
    """Order-free digest of a set of (path, size): sum of FNV-1a 64 hashes, hex."""
    if len(paths) == 0:
        return f"{0:016x}"
    lines = [f"{p}\t{int(s)}" for p, s in zip(paths, sizes, strict=True)]
    return f"{int(np.sum(fnv1a64(lines), dtype=np.uint64)):016x}"


def _manifest_of(files: pd.DataFrame) -> dict[str, object]:
    return {f"{_META_PREFIX}files": len(files),
            f"{_META_PREFIX}rows": int(files["rows"].clip(lower=0).sum()) if len(files) else 0,
            f"{_META_PREFIX}digest": files_digest(files["path"].tolist(),
                                                  files["size_bytes"].tolist())}


def _recorded_manifest(dt, path: Path) -> dict | None:
    """The manifest of the newest harewatch commit; None when none applies (checked)."""
    history = dt.history(16)
    if len(history) == 16 and not any(f"{_META_PREFIX}digest" in h for h in history):
        history = dt.history()
    for entry in history:
        if f"{_META_PREFIX}digest" in entry:
            return entry
        op = str(entry.get("operation", ""))
        if op and op not in _NO_DATA_OPS:
            raise StoreCorrupt(
                f"the store table {path} was changed by another tool (operation {op!r} "
                f"in version {entry.get('version')}); harewatch cannot check it against its "
                "manifest. Rebuild the store with harewatch, or restore the table",
                (str(path / "_delta_log"),))
    return None


def _check_manifest(dt, path: Path, files: pd.DataFrame) -> None:
    recorded = _recorded_manifest(dt, path)
    if recorded is None:
        if len(files):
            raise StoreCorrupt(f"the store table {path} has {len(files)} file(s) but no "
                               "harewatch manifest in its log", (str(path / "_delta_log"),))
        return
    want = {k: str(recorded[k]) for k in (f"{_META_PREFIX}files", f"{_META_PREFIX}digest")}
    have = {k: str(v) for k, v in _manifest_of(files).items() if k in want}
    if want != have:
        raise StoreCorrupt(
            f"the transaction log of the store table {path} does not match its last commit's "
            f"manifest ({want[_META_PREFIX + 'files']} file(s) recorded, {len(files)} listed): "
            "the log is damaged", (str(path / "_delta_log"),))


def load_snapshot(path: Path, version: int | None = None, *, check: bool = True) -> Snapshot:
    """The live files of the table at ``path`` (latest version, or ``version``).

    Parameters
    ----------
    path : Path
        Table folder.
    version : int, optional
        Time travel: the table as it was at this version.
    check : bool, default True
        Compare the file list with the manifest recorded by the latest commit
        (only for the latest version).

    Raises
    ------
    StoreCorrupt
        The log cannot be read or does not match its manifest (names the log).
    """
    kind = path.name
    partition_by = PARTITION_COLUMNS.get(kind, ())
    if not has_table(path):
        return Snapshot(path, -1, _empty_files(partition_by), None, tuple(partition_by))
    dt = _open(path, version)
    try:
        files = _files_frame(dt, kind, partition_by)
        schema = pa.schema(dt.schema().to_arrow())
    except StoreCorrupt:
        raise
    except Exception as exc:
        raise _log_error(path, exc) from exc
    if check and version is None:
        _check_manifest(dt, path, files)
    data_schema = pa.schema([f for f in schema if f.name not in partition_by])
    return Snapshot(path, int(dt.version()), files, data_schema, tuple(partition_by), dt)


def arrow_schema(frame_table: pa.Table) -> pa.Schema:
    """Storage types of a batch: large strings as strings, times as UTC microseconds."""
    fields = []
    for f in frame_table.schema:
        t = f.type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        elif pa.types.is_timestamp(t):
            if t.tz is None:
                raise InputError(f"column {f.name} holds naive times; the store keeps UTC times")
            t = pa.timestamp("us", tz="UTC")
        elif pa.types.is_null(t) or pa.types.is_dictionary(t):
            t = pa.string()
        fields.append(pa.field(f.name, t, nullable=True))
    return pa.schema(fields)


def align_to_schema(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """``table`` with exactly ``schema``'s columns: missing ones null, others cast.

    Raises
    ------
    InputError
        A column cannot be cast to the stored type (names it).
    """
    cols = []
    for f in schema:
        if f.name not in table.column_names:
            cols.append(pa.nulls(table.num_rows, type=f.type))
            continue
        col = table[f.name]
        if col.type != f.type:
            try:
                col = col.cast(f.type, safe=not pa.types.is_timestamp(f.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InputError(f"{what}: column {f.name} of type {col.type} cannot be stored "
                                 f"as {f.type} ({exc})") from exc
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=schema)


def _meta(files: pd.DataFrame, op: str, extra: Mapping[str, object] | None = None):
    from deltalake import CommitProperties

    meta = {**_manifest_of(files), f"{_META_PREFIX}op": op}
    meta.update({f"{_META_PREFIX}{k}": v for k, v in (extra or {}).items()})
    return CommitProperties(custom_metadata=meta)


def ensure_table(path: Path, batch_schema: pa.Schema) -> Snapshot:
    """Create the table when missing; add columns the batch has and the table lacks.

    New columns are added (nullable) in one commit of their own, before the
    data; files written earlier read them as null. A column the table has
    and the batch lacks is written as null.

    Returns
    -------
    Snapshot
        Of the table as it now is.
    """
    from deltalake import DeltaTable, Field

    kind = path.name
    partition_by = list(PARTITION_COLUMNS[kind])
    if not has_table(path):
        schema = pa.schema([*batch_schema, *(pa.field(c, pa.string()) for c in partition_by)])
        path.mkdir(parents=True, exist_ok=True)
        DeltaTable.create(str(path), schema, mode="error", partition_by=partition_by or None,
                          name=f"harewatch-{kind}", configuration=_TABLE_CONFIG[kind] or None,
                          commit_properties=_meta(_empty_files(partition_by), "create"))
        _sync_log(path)
        return load_snapshot(path)
    snap = load_snapshot(path)
    have = {f.name: f for f in snap.schema}
    new = [f for f in batch_schema if f.name not in have and f.name not in partition_by]
    if new:
        dt = _open(path)
        dt.alter.add_columns([Field.from_arrow(f) for f in new],
                             commit_properties=_meta(snap.files, "add-columns"))
        _sync_log(path)
        snap = load_snapshot(path)
    return snap


def parquet_format() -> pads.ParquetFileFormat:
    """Parquet reading with page checksum verification (for pyarrow datasets)."""
    return pads.ParquetFileFormat(default_fragment_scan_options=pads.ParquetFragmentScanOptions(
        page_checksum_verification=True))


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (new or renamed files) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_data_file(path: Path, table: pa.Table, partition: Mapping[str, str] | None = None,
                    *, sort_by: Sequence[str] = (), pending: list[Path] | None = None) -> NewFile:
    """Write one data file (page checksums, SHA-256 in its name, flushed); not committed.

    Parameters
    ----------
    path : Path
        Table folder.
    table : pyarrow.Table
        Rows, in the table's schema without partition columns.
    partition : dict, optional
        Partition values: the file goes to ``name=value/...`` folders.
    sort_by : sequence of str
        Sort the rows by these columns first (row-group statistics then prune).
    pending : list of Path, optional
        The file's absolute path is appended before writing (see :func:`write_guard`).
    """
    partition = dict(partition or {})
    if sort_by:
        table = table.sort_by([(c, "ascending") for c in sort_by])
    stats = _file_stats(table, _STATS_TIME.get(path.name))
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy", write_page_checksum=True,
                   row_group_size=_ROW_GROUP_ROWS)
    data = buf.getbuffer()
    sha = hashlib.sha256(data).hexdigest()
    folder = "/".join(f"{k}={v}" for k, v in partition.items())
    rel = (f"{folder}/" if folder else "") + f"part-{uuid.uuid4().hex[:12]}-{sha}.parquet"
    target = path / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if pending is not None:
        pending.append(target)
    with open(target, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return NewFile(rel, len(data), table.num_rows, sha, partition, stats)


def _file_stats(table: pa.Table, time_column: str | None) -> dict:
    """Delta ``stats`` of a file: rows, and the time column's range widened to whole ms."""
    stats: dict[str, object] = {"numRecords": table.num_rows}
    if time_column is None or time_column not in table.column_names or table.num_rows == 0:
        return stats
    us = table[time_column].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    lo, hi = pc.min(us).as_py(), pc.max(us).as_py()
    if lo is None:
        return stats
    lo_ms, hi_ms = lo // 1000, -(-hi // 1000)  # floor, ceiling: the range only widens

    def iso(ms: int) -> str:
        return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    stats.update({"minValues": {time_column: iso(lo_ms)}, "maxValues": {time_column: iso(hi_ms)},
                  "nullCount": {time_column: int(table[time_column].null_count)}})
    return stats


def _sync_dirs(path: Path, adds: Sequence[NewFile]) -> None:
    """Flush the folders holding new files (and new partition folders) before the commit."""
    folders: set[Path] = {path}
    for a in adds:
        folder = (path / a.path).parent
        while folder != path and folder not in folders:
            folders.add(folder)
            folder = folder.parent
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        fsync_dir(folder)


def _sync_log(path: Path) -> None:
    """Flush the newest log entries (commit, checkpoint) and the log folder to disk."""
    log = path / "_delta_log"
    newest = sorted(log.glob("*.json"))[-1:]
    extra = [p for p in (log / "_last_checkpoint",) if p.exists()]
    for p in [*newest, *sorted(log.glob("*.checkpoint*.parquet"))[-1:], *extra]:
        with open(p, "rb") as fh:
            os.fsync(fh.fileno())
    fsync_dir(log)


def commit(snapshot: Snapshot, adds: Sequence[NewFile], removes: Sequence[str] = (), *,
           op: str, data_change: bool = True, extra: Mapping[str, object] | None = None,
           pending: list[Path] | None = None) -> int:
    """Make ``adds`` visible and ``removes`` invisible in one atomic table version.

    Parameters
    ----------
    snapshot : Snapshot
        The version the change was computed from (the writer lock is held).
    adds : sequence of NewFile
        Data files written by :func:`write_data_file`.
    removes : sequence of str
        Relative paths of live files to drop (they stay on disk for time
        travel until ``vacuum``).
    op : str
        What the commit does ("ingest", "compact", "upgrade"...), recorded in its metadata.
    data_change : bool, default True
        False for a rewrite of the same rows (compaction).
    extra : dict, optional
        More commit metadata (e.g. rows added, rows corrected).
    pending : list of Path, optional
        Emptied once the commit is written (its files are then the table's).

    Returns
    -------
    int
        The new version.

    Raises
    ------
    StoreWriteFailed
        The commit could not be written; the table stays at its version.
    """
    from deltalake.transaction import AddAction, RemoveAction

    files = snapshot.files
    gone = set(removes)
    by_path = files.set_index("path") if len(files) else None
    kept = files[~files["path"].isin(gone)]
    added = pd.DataFrame({"path": [a.path for a in adds],
                          "size_bytes": [a.size_bytes for a in adds],
                          "rows": [a.rows for a in adds]})
    after = pd.concat([kept[["path", "size_bytes", "rows"]], added], ignore_index=True)
    now_ms = int(time.time() * 1000)
    actions: list = [
        AddAction(a.path, a.size_bytes, dict(a.partition), now_ms, data_change,
                  json.dumps(dict(a.stats) or {"numRecords": a.rows}))
        for a in adds]
    for rel in removes:
        row = by_path.loc[rel]
        pv = {c: str(row[c]) for c in snapshot.partition_by}
        actions.append(RemoveAction(rel, data_change, now_ms, int(row["size_bytes"]), pv or None))
    dt = snapshot.handle if snapshot.handle is not None else _open(snapshot.table_dir)
    if int(dt.version()) != snapshot.version:
        raise StoreWriteFailed(f"the store table {snapshot.table_dir} is at version "
                               f"{dt.version()}, not {snapshot.version}; nothing stored")
    schema = pa.schema([*snapshot.schema, *(pa.field(c, pa.string())
                                            for c in snapshot.partition_by)])
    _sync_dirs(snapshot.table_dir, adds)  # the new files' names survive a power cut too
    dt.create_write_transaction(actions, "append", schema,
                                partition_by=list(snapshot.partition_by) or None,
                                commit_properties=_meta(after, op, extra))
    if pending is not None:
        pending.clear()
    try:
        _sync_log(snapshot.table_dir)
    except OSError as exc:
        raise StoreWriteFailed(
            f"version {snapshot.version + 1} of the store table {snapshot.table_dir} was "
            f"committed but could not be flushed to disk ({_cause(exc)}): it is visible now "
            "and could be lost on a power cut") from exc
    return snapshot.version + 1


def _cause(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "the disk is full"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{os.strerror(exc.errno).lower()} ({exc})"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def write_guard(root: Path, what: str) -> Iterator[list[Path]]:
    """Turn a failed write into :class:`StoreWriteFailed` and remove its uncommitted files.

    Yields the list of data files written and not yet committed (fill it via
    ``pending=`` of :func:`write_data_file` and :func:`commit`). On any
    failure before the commit those files are deleted (they were never
    visible); an ``OSError`` (disk full, permissions) or a delta-rs error
    becomes :class:`StoreWriteFailed` naming the store and the cause.
    """
    from deltalake.exceptions import DeltaError

    pending: list[Path] = []
    try:
        yield pending
    except BaseException as exc:
        for p in pending:
            with contextlib.suppress(OSError):  # an orphan file is invisible; vacuum removes it
                p.unlink(missing_ok=True)
        if isinstance(exc, StoreError) or not isinstance(exc, OSError | DeltaError):
            raise
        raise StoreWriteFailed(
            f"could not write {what} to the store {root}: {_cause(exc)}. Nothing of it was "
            "stored; the store is as it was before") from exc


def table_history(path: Path, limit: int | None = None) -> list[dict]:
    """Commit infos of a table, newest first (``version``, ``timestamp``, ``operation``,
    ``harewatch.*``); empty without a table."""
    if not has_table(path):
        return []
    return list(_open(path).history(limit))
