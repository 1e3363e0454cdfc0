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
the same clock tick would keep its time).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Sequence
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
]

_CHUNK_BYTES = 8 << 20

_RACY_S = 2.0

_CACHE_MAX = 200_000

_VERIFIED: OrderedDict[tuple, str] = OrderedDict()


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def forget_verified() -> None:
    """Forget which files this process has verified (the next reads hash them again)."""
    _VERIFIED.clear()


def _problem(path: Path, size_bytes: int, sha256: str, use_cache: bool) -> str | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if size_bytes >= 0 and st.st_size != size_bytes:
        return f"{st.st_size} bytes, the log records {size_bytes} (damaged or truncated)"
    if not sha256:
        return "no content hash recorded (not written by harewatch)"
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if use_cache and _VERIFIED.get(key) == sha256:
        _VERIFIED.move_to_end(key)
        return None
    started = time.time()
    try:
        got = sha256_file(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if got != sha256:
        return "content does not match its SHA-256 (damaged)"
    if use_cache and st.st_mtime_ns < (started - _RACY_S) * 1e9:
        _VERIFIED[key] = sha256
        if len(_VERIFIED) > _CACHE_MAX:
            _VERIFIED.popitem(last=False)
    return None


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
        Skip files this process already verified (unchanged since).
    workers : int, default 2
        Threads hashing files at once.

    Returns
    -------
    list of (Path, str)
        Each bad file and what is wrong with it, in input order.
    """
    jobs = list(zip(paths, sizes, shas, strict=True))
    if len(jobs) <= 1 or workers <= 1:
        found = [_problem(Path(p), int(s), str(h), use_cache) for p, s, h in jobs]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            found = list(pool.map(lambda j: _problem(Path(j[0]), int(j[1]), str(j[2]),
                                                     use_cache), jobs))
    return [(Path(j[0]), f) for j, f in zip(jobs, found, strict=True) if f is not None]


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
