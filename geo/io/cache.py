"""The user cache: rebuildable files keyed by a hash of what they are made from.

Files live under :attr:`geo.Settings.cache_dir` (``$XDG_CACHE_HOME/harewatch``
by default, never in the repository). A file's name is the SHA-256 of its
inputs (file contents, parameters, the harewatch version), so a changed input
gets a new file and an old one is simply never read again. Entries are
written to a temporary name and renamed into place (a reader never sees half
a file); any problem reading or writing the cache only means the value is
computed again.

Only plain numpy arrays (``.npz``, loaded without pickle) and Parquet files are
stored: nothing here runs code from the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from geo import __version__

__all__ = ["cache_folder", "content_key", "file_sha256", "write_atomic", "cached_arrays",
           "cached_frames"]


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
                  build: Callable[[], dict[str, object]]) -> dict[str, object]:
    """DataFrames stored under ``key`` in ``folder`` (one Parquet file each); else ``build()``
    (a dict of name -> DataFrame, or None for "no frame"), stored for next time.

    Frames come back as pandas DataFrames with the dtypes Arrow keeps (the caller restores
    anything else, e.g. geometry from coordinates).
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    if folder is not None:
        index = folder / f"{key}.names"
        try:
            names = index.read_text(encoding="utf-8").split()
            got: dict[str, object] = {}
            for entry in names:
                name, _, present = entry.partition(":")
                got[name] = (pq.read_table(folder / f"{key}-{name}.parquet").to_pandas()
                             if present == "1" else None)
            return got
        except (OSError, ValueError, pa.ArrowException):
            pass  # missing or unreadable: rebuild
    frames = build()
    if folder is not None:
        try:
            for name, frame in frames.items():
                if frame is not None:
                    table = pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False)
                    write_atomic(folder / f"{key}-{name}.parquet",
                                  lambda fh, t=table: pq.write_table(t, fh))
            listing = " ".join(f"{n}:{int(f is not None)}" for n, f in frames.items())
            write_atomic(folder / f"{key}.names", lambda fh: fh.write(listing.encode()))
        except (OSError, pa.ArrowException):
            pass
    return frames
