"""The user cache: rebuildable files keyed by a hash of what they are made from.

Files live under :attr:`geo.Settings.cache_dir` (``$XDG_CACHE_HOME/harewatch``
by default, never in the repository). A file's name is the SHA-256 of its
inputs (file contents, parameters, the harewatch version), so a changed input
gets a new file and an old one is simply never read again. Entries are
written to a temporary name and renamed into place (a reader never sees half
a file); any problem reading or writing the cache only means the value is
computed again.

Only plain numpy arrays (``.npz``, loaded without pickle) and Parquet files are
stored: nothing here runs code from the cache. A folder can be bounded
(``keep``: the most recently used entries are kept, the others deleted).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from geo import __version__

__all__ = ["cache_folder", "content_key", "file_sha256", "source_digest", "write_atomic",
           "cached_arrays", "cached_frames", "prune"]


def cache_folder(kind: str, cache_dir: str | os.PathLike | None = None) -> Path | None:
    """``<cache_dir>/<kind>`` (``cache_dir`` default: the settings' one), None without a cache."""
    if cache_dir is None:
        from geo._config import Settings

        cache_dir = Settings.from_env().cache_dir
    return None if cache_dir is None else Path(cache_dir) / kind


def file_sha256(path: str | os.PathLike) -> str | None:
    """SHA-256 of a regular file's bytes; None for anything else (a folder, a URL)."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except (OSError, TypeError, ValueError):
        return None


@functools.lru_cache(maxsize=8)
def source_digest(*roots: str) -> str:
    """SHA-256 of the Python source under ``roots`` (files, or folders searched for ``*.py``):
    a code version that changes with any edit, read once per process (about 1 MB: ms).

    Parameters
    ----------
    roots : str
        Paths of source files or package folders; a missing one counts as empty.
    """
    h = hashlib.sha256()
    for root in roots:
        p = Path(root)
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            with contextlib.suppress(OSError):
                data = f.read_bytes()
                h.update(f"{f.relative_to(p) if p.is_dir() else f.name}\0{len(data)}\0".encode())
                h.update(data)
    return h.hexdigest()


def content_key(*parts: object) -> str:
    """One hex key of the parts (their ``repr``) and the harewatch version."""
    h = hashlib.sha256(f"harewatch {__version__}".encode())
    for p in parts:
        h.update(b"\0" + repr(p).encode())
    return h.hexdigest()


def write_atomic(path: Path, write: Callable[[object], None]) -> None:
    """Write ``path`` through ``write(binary file)`` to a temporary name, then rename it into
    place: a reader sees the old file or the whole new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cached_arrays(folder: Path | None, key: str,
                  build: Callable[[], dict[str, np.ndarray]],
                  names: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """The arrays stored under ``key`` in ``folder``; else ``build()``, stored for next time.

    ``names``: arrays a usable entry must hold (else it is rebuilt).
    """
    if folder is not None:
        path = folder / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                got = {k: z[k] for k in z.files}
            if all(n in got for n in names):
                return got
        except (OSError, ValueError, KeyError, EOFError):
            pass  # missing or unreadable: rebuild
    arrays = build()
    if folder is not None:
        with contextlib.suppress(OSError):  # a read-only or full disk: the next process builds it
            write_atomic(folder / f"{key}.npz", lambda fh: np.savez(fh, **arrays))
    return arrays


def cached_frames(folder: Path | None, key: str,
                  build: Callable[[], dict[str, object]], *,
                  python_objects: bool = False, keep: int | None = None,
                  max_age_s: float | None = None) -> dict[str, object]:
    """DataFrames stored under ``key`` in ``folder`` (one Parquet file each); else ``build()``
    (a dict of name -> DataFrame, or None for "no frame"), stored for next time.

    Frames come back as pandas DataFrames with the dtypes Arrow keeps (the caller restores
    anything else, e.g. geometry from coordinates).

    Parameters
    ----------
    python_objects : bool
        Nested columns (Arrow lists, structs, maps) come back as Python lists and dicts,
        as they were built, instead of numpy arrays.
    keep : int, optional
        Bound the folder: after a write, only the ``keep`` most recently used entries stay
        (a hit counts as a use).
    max_age_s : float, optional
        After a write, entries unused for longer than this many seconds are deleted too.
    """
    if folder is not None:
        got = _read_frames(folder, key, python_objects)
        if got is not None:
            return got
    frames = build()
    if folder is not None:
        _write_frames(folder, key, frames)
        if keep is not None or max_age_s is not None:
            prune(folder, keep, max_age_s=max_age_s)
    return frames


def _read_frames(folder: Path, key: str, python_objects: bool) -> dict[str, object] | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    index = folder / f"{key}.names"
    try:
        names = index.read_text(encoding="utf-8").split()
        got: dict[str, object] = {}
        for entry in names:
            name, _, present = entry.partition(":")
            got[name] = (_to_pandas(pq.read_table(folder / f"{key}-{name}.parquet"), python_objects)
                         if present == "1" else None)
    except (OSError, ValueError, pa.ArrowException):
        return None  # missing or unreadable: rebuild
    with contextlib.suppress(OSError):
        os.utime(index)  # most recently used (see prune)
    return got


def _to_pandas(table, python_objects: bool):
    import pandas as pd
    import pyarrow as pa

    df = table.to_pandas()
    if python_objects:
        for i, f in enumerate(table.schema):
            if pa.types.is_nested(f.type):
                df[f.name] = pd.Series(table.column(i).to_pylist(), index=df.index, dtype=object)
    return df


def _write_frames(folder: Path, key: str, frames: dict[str, object]) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        for name, frame in frames.items():
            if frame is not None:
                table = pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False)
                write_atomic(folder / f"{key}-{name}.parquet",
                              lambda fh, t=table: pq.write_table(t, fh))
        listing = " ".join(f"{n}:{int(f is not None)}" for n, f in frames.items())
        write_atomic(folder / f"{key}.names", lambda fh: fh.write(listing.encode()))
    except (OSError, pa.ArrowException):
        pass  # a read-only or full disk, an unstorable frame: the next process builds it


def prune(folder: Path, keep: int | None, *, max_age_s: float | None = None) -> int:
    """Delete all but the ``keep`` most recently used entries of ``cached_frames`` in ``folder``,
    and those unused for more than ``max_age_s`` seconds (None: no such bound).

    Returns
    -------
    int
        Number of entries deleted (0 when the folder cannot be listed).
    """
    try:
        used = {p: p.stat().st_mtime_ns for p in folder.glob("*.names")}
    except OSError:
        return 0
    entries = sorted(used, key=used.get, reverse=True)
    now_ns = time.time_ns()
    stale = [] if max_age_s is None else [p for p in entries if now_ns - used[p] > max_age_s * 1e9]
    old = entries[max(keep, 0):] if keep is not None else []
    gone = 0
    for index in dict.fromkeys([*old, *stale]):
        key = index.name[: -len(".names")]
        for f in [index, *folder.glob(f"{key}-*.parquet")]:
            with contextlib.suppress(OSError):
                f.unlink()
        gone += 1
    return gone
