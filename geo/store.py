"""Append validated incidents and ANPR reads to a GeoParquet store, idempotently.

Layout under ``data_dir``::

    incidents/part-<UTC stamp>-<uuid>.parquet   accepted incidents (GeoParquet, EPSG:27700)
    sightings/part-<UTC stamp>-<uuid>.parquet   accepted ANPR reads
    rejects/<kind>-<UTC stamp>-<uuid8>.csv      rejected rows with reasons (row, id, reason)

Ingesting is idempotent: rows whose key is already stored are not written
again and are counted as "already stored". Keys: ``incident_id`` for
incidents (an incident id already stored with different content keeps the
stored version); plate + time + camera (or position when no camera) for
reads (:func:`geo.sightings.sighting_keys`).

The rejects CSV is safe to open in a spreadsheet: a cell starting with
``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'`` so
it is never run as a formula.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from geo.schema import INCIDENT_COLUMNS, SIGHTING_COLUMNS
from geo.sightings import SIGHTING_KEY, sighting_keys
from geo.validation import ValidationResult

__all__ = [
    "IngestReport",
    "default_data_dir",
    "ingest",
    "read_incidents",
    "read_sightings",
    "sightings_paths",
    "incidents_paths",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
        The parquet file written (None when nothing was new).
    rejects_path : Path or None
        The rejects CSV written (None when nothing was rejected).
    """

    kind: str
    rows_added: int
    rows_already_stored: int
    rows_rejected: int
    part_path: Path | None
    rejects_path: Path | None

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {
            "kind": self.kind,
            "rows_added": self.rows_added,
            "rows_already_stored": self.rows_already_stored,
            "rows_rejected": self.rows_rejected,
            "part_path": None if self.part_path is None else str(self.part_path),
            "rejects_path": None if self.rejects_path is None else str(self.rejects_path),
        }


def default_data_dir() -> Path:
    """``$HAREWATCH_DATA_DIR`` when set, else ``<repo>/data/incidents``."""
    env = os.environ.get("HAREWATCH_DATA_DIR")
    return Path(env).expanduser() if env else REPO_ROOT / "data" / "incidents"


def _paths(data_dir: str | os.PathLike, kind: str) -> list[Path]:
    folder = Path(data_dir) / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("part-*.parquet") if p.is_file())


def sightings_paths(data_dir: str | os.PathLike) -> list[Path]:
    """Parquet files holding stored ANPR reads (sorted; for duckdb/pyarrow scans)."""
    return _paths(data_dir, "sightings")


def incidents_paths(data_dir: str | os.PathLike) -> list[Path]:
    """Parquet files holding stored incidents (sorted)."""
    return _paths(data_dir, "incidents")


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


def _stored_keys(data_dir: Path, kind: str, accepted: pd.DataFrame) -> pd.DataFrame | None:
    """Keys already stored that could clash with ``accepted`` (None when the store is empty).

    For reads only stored rows inside the new batch's time range are read
    (row-group statistics let Parquet skip the rest).
    """
    paths = _paths(data_dir, kind)
    if not paths or accepted.empty:
        return None
    if kind == "incidents":
        frames = [pq.read_table(p, columns=["incident_id"]).to_pandas() for p in paths]
        return pd.concat(frames, ignore_index=True)
    cols = ["vrm", "read_at", "camera_id", "easting", "northing"]
    times = pd.to_datetime(accepted["read_at"], utc=True)
    lo, hi = times.min().to_pydatetime(), times.max().to_pydatetime()
    frames = [
        pq.read_table(p, columns=cols, filters=[("read_at", ">=", lo), ("read_at", "<=", hi)])
        .to_pandas()
        for p in paths
    ]
    stored = pd.concat(frames, ignore_index=True)
    return sighting_keys(stored) if len(stored) else None


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


def ingest(result: ValidationResult, data_dir: str | os.PathLike | None = None) -> IngestReport:
    """Store a validation result: new accepted rows as GeoParquet, rejects as CSV.

    Parameters
    ----------
    result : ValidationResult
        From :func:`geo.incidents.validate_incidents` or
        :func:`geo.sightings.validate_sightings`. Not modified.
    data_dir : path, optional
        Store root (default :func:`default_data_dir`).

    Returns
    -------
    IngestReport
        Rows added, rows already stored, rows rejected and the files written.
    """
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    kind = result.kind
    columns = INCIDENT_COLUMNS if kind == "incidents" else SIGHTING_COLUMNS
    accepted = result.accepted
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    token = uuid.uuid4().hex

    new = _new_mask(accepted, _stored_keys(root, kind, accepted), kind)
    to_write = accepted[new] if not new.all() else accepted
    part_path = None
    if len(to_write):
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        part_path = folder / f"part-{stamp}-{token}.parquet"
        tmp = folder / f".tmp-{stamp}-{token}.parquet"
        gdf = gpd.GeoDataFrame(to_write[[*columns, "geometry"]], geometry="geometry",
                               crs=accepted.crs)
        gdf.to_parquet(tmp, index=False, geometry_encoding="geoarrow", compression="snappy")
        os.replace(tmp, part_path)  # readers never see a half-written part

    rejects_path = None
    if result.n_rejected:
        rejects_path = root / "rejects" / f"{kind}-{stamp}-{token[:8]}.csv"
        _write_rejects(result.rejects, rejects_path)

    return IngestReport(
        kind=kind,
        rows_added=int(len(to_write)),
        rows_already_stored=int(len(accepted) - len(to_write)),
        rows_rejected=int(result.n_rejected),
        part_path=part_path,
        rejects_path=rejects_path,
    )


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
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    return _read(incidents_paths(root), None)


def read_sightings(
    data_dir: str | os.PathLike | None = None, columns: list[str] | None = None
) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """Stored ANPR reads, None if none.

    Parameters
    ----------
    data_dir : path, optional
        Store root (default :func:`default_data_dir`).
    columns : list of str, optional
        Columns to read; a plain DataFrame is returned when ``"geometry"`` is
        not among them (cheaper for large stores), a GeoDataFrame otherwise.
    """
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    return _read(sightings_paths(root), columns)
