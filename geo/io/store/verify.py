"""Integrity of the store: every data file against its recorded SHA-256, and store statistics.

Readers call :func:`check_files` on the files they are about to read, so a
damaged or missing file becomes one :class:`geo.errors.StoreCorrupt` naming
it, never a traceback from deep inside a Parquet reader and never a silently
different answer. ``harewatch store verify`` runs :func:`verify_store` on
the whole store and names every damaged or missing file.

Hashing costs one pass over the bytes (about 0.45 GB/s per core here). A
process remembers files it has verified (path, size, modification time,
inode) so a long-running dashboard or watcher hashes each file once; a file
modified less than 2 s before it was hashed is not remembered (a change in
the same clock tick would keep its time). The same entries are kept in the
user cache (``<cache_dir>/verified/sha256.json``, at most 20,000 files, the
most recently verified kept; written to a temporary name and renamed into
place) so the next process does not hash unchanged files again either, for
a day (damage that keeps a file's size and time, such as failing media, is
then found at the first read of the next day, or by ``store verify``): on
the offenders command over a 10M-read store (544 files, 0.3 GB) that is
about 0.5 s of each run. A missing, unreadable or malformed cache file only
means the files are hashed again. ``harewatch store verify`` never uses
either memory: it reads every byte.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from geo.errors import StoreCorrupt
from geo.io.store.table import INCIDENTS, SIGHTINGS, load_snapshot, table_dir

__all__ = [
    "sha256_file",
    "file_problems",
    "check_files",
    "check_named_files",
    "corrupt_error",
    "VerifyReport",
    "verify_store",
    "store_stats",
    "forget_verified",
    "verified_cache_path",
    "load_verified",
    "save_verified",
]

_CHUNK_BYTES = 8 << 20

_RACY_S = 2.0

_CACHE_MAX = 200_000

_VERIFIED: OrderedDict[tuple, str] = OrderedDict()

_DISK_MAX = 20_000

_DISK_FORMAT = "harewatch-verified-2"

#: Seconds a file hashed by an earlier process stays vouched for (damage that keeps a
#: file's size and time, such as failing media, is found at most this long after).
_DISK_MAX_AGE_S = 24 * 3600.0

_Entry = tuple[int, int, int, str, float]

#: The user cache's entries as this process loaded them: {"path": file, "entries": {...}}.
_DISK: dict = {"path": None, "entries": None}


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def forget_verified() -> None:
    """Forget which files this process has verified and reload the user cache's record on
    the next read (files it does not vouch for are hashed again)."""
    _VERIFIED.clear()
    _DISK.update(path=None, entries=None)


def verified_cache_path(cache_dir: str | os.PathLike | None = None) -> Path | None:
    """The user cache's record of verified files (``cache_dir`` default: the settings' one);
    None without a user cache (``HAREWATCH_CACHE_DIR=off``)."""
    from geo.io.cache import cache_folder

    folder = cache_folder("verified", cache_dir)
    return None if folder is None else folder / "sha256.json"


def load_verified(path: Path | None) -> dict[str, _Entry]:
    """Verified files recorded at ``path``: ``{file: (size bytes, mtime ns, inode, sha256,
    hashed at (s since the epoch))}``.

    A missing, unreadable or malformed record gives ``{}`` (the files are hashed again).
    """
    if path is None:
        return {}
    try:
        doc = json.loads(path.read_bytes())
        if doc.get("format") != _DISK_FORMAT:
            return {}
        return {str(f): (int(size), int(mtime), int(ino), _hex64(sha), float(at))
                for f, size, mtime, ino, sha, at in doc["files"]}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _hex64(text: object) -> str:
    if not isinstance(text, str) or len(text) != 64:
        raise ValueError("not a SHA-256")
    return text


def save_verified(path: Path | None, entries: Mapping[str, _Entry], *,
                  limit: int = _DISK_MAX) -> None:
    """Record ``entries`` (as :func:`load_verified` gives them, oldest first) at ``path``,
    keeping the last ``limit``; written atomically. A read-only or full disk is ignored."""
    from geo.io.cache import write_atomic

    if path is None:
        return
    kept = list(entries.items())[-limit:] if limit > 0 else []
    doc = {"format": _DISK_FORMAT, "files": [[f, *v] for f, v in kept]}
    data = json.dumps(doc, separators=(",", ":")).encode()
    with contextlib.suppress(OSError):
        write_atomic(path, lambda fh: fh.write(data))


def _disk_entries(use_cache: bool) -> dict[str, _Entry]:
    """The user cache's verified files, loaded once per process (per cache location)."""
    if not use_cache:
        return {}
    path = verified_cache_path()
    if _DISK["entries"] is None or _DISK["path"] != path:
        _DISK.update(path=path, entries=load_verified(path))
    return _DISK["entries"]


def _remember_on_disk(new: dict[str, _Entry]) -> None:
    """Add ``new`` verified files to the user cache (merged with what other processes wrote)."""
    path = _DISK["path"]
    if not new or path is None:
        return
    merged = load_verified(path)
    for f, v in new.items():
        merged.pop(f, None)
        merged[f] = v  # the newest last: the first to be dropped are the oldest
    _DISK["entries"] = merged
    save_verified(path, merged)


def _vouched(entry: _Entry | None, file: tuple, now: float) -> bool:
    """An earlier process's entry vouches for ``file`` (size, mtime ns, inode, sha256) now:
    same key and hash, the file settled when hashed and hashed less than a day ago."""
    return (entry is not None and entry[:4] == file and _settled(file[1], now)
            and 0 <= now - entry[4] < _DISK_MAX_AGE_S)


def _settled(mtime_ns: int, at: float) -> bool:
    """Modified at least the racy window before ``at`` (s): a later change changes its time."""
    return mtime_ns < (at - _RACY_S) * 1e9


def _problem(path: Path, size_bytes: int, sha256: str, use_cache: bool,
             disk: Mapping[str, tuple]) -> tuple[str | None, tuple | None]:
    """(what is wrong with the file or None, its cache entry if it was hashed and settled)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "missing", None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})", None
    if size_bytes >= 0 and st.st_size != size_bytes:
        return f"{st.st_size} bytes, the log records {size_bytes} (damaged or truncated)", None
    if not sha256:
        return "no content hash recorded (not written by harewatch)", None
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if use_cache and _VERIFIED.get(key) == sha256:
        _VERIFIED.move_to_end(key)
        return None, None
    started = time.time()
    if use_cache and _vouched(disk.get(key[0]), (*key[1:], sha256), started):
        _VERIFIED[key] = sha256
        return None, None
    try:
        got = sha256_file(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})", None
    if got != sha256:
        return "content does not match its SHA-256 (damaged)", None
    if not (use_cache and _settled(st.st_mtime_ns, started)):
        return None, None
    _VERIFIED[key] = sha256
    if len(_VERIFIED) > _CACHE_MAX:
        _VERIFIED.popitem(last=False)
    return None, (*key, sha256, started)


def file_problems(
    paths: Sequence[Path], sizes: Sequence[int], shas: Sequence[str], *,
    use_cache: bool = True, workers: int = 2,
) -> list[tuple[Path, str]]:
    """Files that are missing, of the wrong size or whose bytes do not match their SHA-256.

    Parameters
    ----------
    paths : sequence of Path
    sizes : sequence of int
        Sizes in bytes recorded in the table log (-1: not checked).
    shas : sequence of str
        SHA-256 recorded for each file ("" when none).
    use_cache : bool, default True
        Skip files this process or the user cache's record
        (:func:`verified_cache_path`) already verified, unchanged since; record the
        files hashed now.
    workers : int, default 2
        Threads hashing files at once.

    Returns
    -------
    list of (Path, str)
        Each bad file and what is wrong with it, in input order.
    """
    jobs = list(zip(paths, sizes, shas, strict=True))
    disk = _disk_entries(use_cache)

    def one(job):
        return _problem(Path(job[0]), int(job[1]), str(job[2]), use_cache, disk)

    if len(jobs) <= 1 or workers <= 1:
        found = [one(j) for j in jobs]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            found = list(pool.map(one, jobs))
    _remember_on_disk({k[0]: k[1:] for _, k in found if k is not None})
    return [(Path(j[0]), f) for j, (f, _) in zip(jobs, found, strict=True) if f is not None]


def corrupt_error(problems: Sequence[tuple[Path, str]], what: str) -> StoreCorrupt:
    """One :class:`StoreCorrupt` naming every bad file."""
    lines = "; ".join(f"{p} ({why})" for p, why in problems[:20])
    more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
    return StoreCorrupt(
        f"{len(problems)} stored file(s) of {what} are damaged or missing: {lines}{more}. "
        "Nothing was read; run `harewatch store verify` for the full list",
        tuple(str(p) for p, _ in problems))


def check_files(paths: Sequence[Path], sizes: Sequence[int], shas: Sequence[str],
                what: str) -> None:
    """Raise :class:`StoreCorrupt` naming every damaged or missing file among ``paths``."""
    problems = file_problems(paths, sizes, shas)
    if problems:
        raise corrupt_error(problems, what)


def check_named_files(paths: Sequence[str | os.PathLike], what: str) -> None:
    """:func:`check_files` with the SHA-256 each file's name records (e.g. on a dask worker)."""
    from geo.io.store.table import sha256_of_name

    names = [Path(p) for p in paths]
    check_files(names, [-1] * len(names), [sha256_of_name(p.name) or "" for p in names], what)


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify_store` found.

    Attributes
    ----------
    data_dir : str
    tables : dict
        Per table: ``version``, ``files``, ``bytes`` checked.
    problems : list of dict
        ``{"table", "path", "problem"}`` for every damaged or missing file
        (or unreadable log); empty when the store is intact.
    """

    data_dir: str
    tables: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def verify_store(data_dir: str | os.PathLike, *, workers: int = 2) -> VerifyReport:
    """Check every live data file of every table against its recorded size and SHA-256.

    Parameters
    ----------
    data_dir : path
        Store root.
    workers : int, default 2
        Threads hashing files at once.

    Returns
    -------
    VerifyReport
        Every file is read in full (no cache); the log of each table is
        checked against its manifest too.
    """
    root = Path(data_dir)
    tables: dict[str, dict] = {}
    problems: list[dict] = []
    for kind in (INCIDENTS, SIGHTINGS):
        path = table_dir(root, kind)
        try:
            snap = load_snapshot(path)
        except StoreCorrupt as exc:
            problems.append({"table": kind, "path": str(path / "_delta_log"), "problem": str(exc)})
            continue
        files = snap.files
        tables[kind] = {"version": snap.version, "files": len(files),
                        "bytes": int(files["size_bytes"].sum()) if len(files) else 0}
        bad = file_problems(snap.absolute(), files["size_bytes"].tolist(),
                            files["sha256"].tolist(), use_cache=False, workers=workers)
        problems += [{"table": kind, "path": str(p), "problem": why} for p, why in bad]
    return VerifyReport(str(root), tables, problems)


def store_stats(data_dir: str | os.PathLike) -> dict:
    """Row counts, files and bytes of a store, from its logs (no data file is read).

    Returns
    -------
    dict
        ``{"data_dir", "incidents", "sightings", "alerts"}`` (row counts), and
        ``files``, ``bytes``, ``versions`` per table.
    """
    from geo.io.alert_db import count_alerts

    root = Path(data_dir)
    out: dict = {"data_dir": str(root), "files": {}, "bytes": {}, "versions": {}}
    for kind in (INCIDENTS, SIGHTINGS):
        snap = load_snapshot(table_dir(root, kind))
        out[kind] = snap.rows
        out["files"][kind] = len(snap.files)
        out["bytes"][kind] = int(snap.files["size_bytes"].sum()) if len(snap.files) else 0
        out["versions"][kind] = snap.version
    out["alerts"] = count_alerts(root)
    return out
