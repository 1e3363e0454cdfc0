"""The camera register in the store: ``<store>/cameras/cameras.parquet``.

One file, replaced atomically (written beside, then renamed) under the
store's writer lock. Importing a register again updates the cameras it names
(by id, ignoring case and spacing) and keeps the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.io.store.layout import DEFAULT_LOCK_TIMEOUT_S, store_root, writer_lock
from geo.validate.cameras import CAMERA_COLUMNS
from geo.validate.common import ValidationResult, camera_key

__all__ = ["CameraReport", "cameras_path", "read_cameras", "import_cameras"]


@dataclass(frozen=True)
class CameraReport:
    """What an import did: cameras added, updated, and in the register now."""

    added: int
    updated: int
    total: int
    path: Path

    def to_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "total": self.total,
                "path": str(self.path)}


def cameras_path(data_dir: str | os.PathLike | None) -> Path:
    """Where the register of a store lives."""
    return store_root(data_dir) / "cameras" / "cameras.parquet"


def read_cameras(data_dir: str | os.PathLike | None) -> gpd.GeoDataFrame | None:
    """The camera register (``CAMERA_COLUMNS`` + geometry), None when none was imported."""
    path = cameras_path(data_dir)
    if not path.is_file():
        return None
    return gpd.read_parquet(path)


def import_cameras(result: ValidationResult, data_dir: str | os.PathLike | None, *,
                   lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> CameraReport:
    """Add or update the accepted cameras of ``result`` in the store's register."""
    path = cameras_path(data_dir)
    with writer_lock(store_root(data_dir), lock_timeout_s):
        old = read_cameras(data_dir)
        new = result.accepted[[*CAMERA_COLUMNS, "geometry"]]
        if old is None or old.empty:
            merged, updated = new, 0
        else:
            new_keys = set(camera_key(new["camera_id"]))
            old_keys = camera_key(old["camera_id"])
            kept = old[~old_keys.isin(new_keys).to_numpy(dtype=bool)]
            updated = int(len(old) - len(kept))
            merged = pd.concat([kept, new], ignore_index=True)
        merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=new.crs)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        merged.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    return CameraReport(added=int(len(new) - updated), updated=updated, total=int(len(merged)),
                        path=path)
