"""Police force area boundaries: find, fetch, read, select and assign points.

The product reads the official ONS "Police Force Areas" file (any format and
CRS GDAL reads). The seven forces of the agreement are picked by ONS code (or
by name when the file has no code column); every other force in the file is
kept as context (a "neighbour").

On first run, when no file is configured, :func:`load_boundaries` can fetch
the file from the ONS Open Geography Portal's ArcGIS FeatureServer and cache
it in ``data/boundaries/``.

Boundary rule of :func:`assign_force`: polygons are treated as *closed* (a
point on a boundary line is covered), and a point covered by several areas
(a shared edge or vertex, or an overlap) goes to the first of them in
``areas.gdf`` order, i.e. the seven forces in ``SEVEN_FORCES`` order first,
then neighbours by name.
"""

from __future__ import annotations

import http.client
import io
import json
import math
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from geo.schema import BNG, SEVEN_FORCES, WGS84

__all__ = [
    "ATTRIBUTION",
    "BOUNDARIES_FILENAME",
    "DEFAULT_BOUNDARIES_DIR",
    "DEFAULT_URL",
    "BoundariesNotFound",
    "BoundaryFetchError",
    "ForceAreas",
    "assign_force",
    "display_boundaries",
    "fetch_boundaries",
    "load_boundaries",
    "read_boundaries",
    "resolve_boundaries_path",
]

#: Must be shown wherever the boundaries are drawn.
ATTRIBUTION = (
    "Police force areas: Contains National Statistics and Ordnance Survey data "
    "\u00a9 Crown copyright and database right, Open Government Licence v3.0."
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BOUNDARIES_DIR = REPO_ROOT / "data" / "boundaries"

#: ONS Open Geography Portal, "Police Force Areas (December 2023) Boundaries EW BUC",
#: all features and attributes as GeoJSON (WGS84).
DEFAULT_URL = (
    "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/"
    "Police_Force_Areas_December_2023_EW_BUC/FeatureServer/0/query"
    "?where=1%3D1&outFields=*&f=geojson"
)

#: File name used when the boundaries are fetched and cached.
BOUNDARIES_FILENAME = "police_force_areas.geojson"

_BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".fgb")
_MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024

_CODE_RE = re.compile(r"^pfa\d{2}cd$", re.IGNORECASE)
_NAME_RE = re.compile(r"^pfa\d{2}nm$", re.IGNORECASE)
_NAME_SUFFIX_RE = re.compile(r"\s+(police|constabulary)$")

_HOW_TO = (
    "To get the file: download 'Police Force Areas (December 2023) Boundaries EW BUC' "
    "(GeoJSON, GeoPackage, Shapefile or KML) from the ONS Open Geography Portal, "
    "https://geoportal.statistics.gov.uk/ (search 'Police Force Areas'), or "
    f"directly from {DEFAULT_URL} ; then either pass --boundaries FILE, set "
    "HAREWATCH_BOUNDARIES=FILE, or put the file in {search_dir}."
)


class BoundariesNotFound(FileNotFoundError):
    """No boundary file was configured or found; the message says how to get one."""


class BoundaryFetchError(RuntimeError):
    """Downloading the boundary file failed; the message says why (nothing was written)."""


@dataclass(frozen=True)
class ForceAreas:
    """Force areas in EPSG:27700.

    Attributes
    ----------
    gdf : GeoDataFrame
        Columns ``force_code``, ``force``, ``in_agreement`` (bool) and
        ``geometry`` (polygonal, metres); the seven forces first (in
        ``SEVEN_FORCES`` order), then neighbours sorted by name.
    source : str
        Where the file came from (path or URL), for display.
    attribution : str
        Licence text to show with every map.
    """

    gdf: gpd.GeoDataFrame
    source: str
    attribution: str = ATTRIBUTION

    @property
    def seven(self) -> gpd.GeoDataFrame:
        """The seven forces of the agreement."""
        return self.gdf[self.gdf["in_agreement"]]

    @property
    def neighbours(self) -> gpd.GeoDataFrame:
        """Every other force in the file (context only)."""
        return self.gdf[~self.gdf["in_agreement"]]

    @property
    def names(self) -> list[str]:
        """Names of the seven forces, in canonical order."""
        return list(self.seven["force"])

    def __getstate__(self) -> dict[str, Any]:
        # The point-assignment index is a cache: rebuilt on demand, never pickled.
        return {k: v for k, v in self.__dict__.items() if k != _INDEX_ATTR}


# --------------------------------------------------------------------------
# Finding, fetching and loading
# --------------------------------------------------------------------------


def resolve_boundaries_path(
    path: str | os.PathLike | None = None,
    *,
    env: Mapping[str, str] | None = None,
    search_dir: Path = DEFAULT_BOUNDARIES_DIR,
) -> Path:
    """Find the boundary file: ``path``, then ``$HAREWATCH_BOUNDARIES``, then ``search_dir``.

    Parameters
    ----------
    path : path-like, optional
        Explicit file (the CLI's ``--boundaries``); wins over everything.
    env : mapping, optional
        Environment to read ``HAREWATCH_BOUNDARIES`` from (default ``os.environ``).
    search_dir : Path
        Folder searched last; the first boundary-like file (by name) is used.

    Raises
    ------
    BoundariesNotFound
        When none of the three gives an existing file.
    """
    env = os.environ if env is None else env
    for candidate, origin in ((path, "--boundaries"), (env.get("HAREWATCH_BOUNDARIES"), "HAREWATCH_BOUNDARIES")):
        if candidate:
            p = Path(candidate).expanduser()
            if not p.is_file():
                raise BoundariesNotFound(f"{origin} points at {p}, which is not a file.")
            return p
    search_dir = Path(search_dir)
    if search_dir.is_dir():
        found = sorted(
            p
            for p in search_dir.iterdir()
            if p.suffix.lower() in _BOUNDARY_SUFFIXES and not p.name.startswith(".") and p.is_file()
        )
        if found:
            return found[0]
    raise BoundariesNotFound(
        "No police force area boundary file found. "
        + _HOW_TO.format(search_dir=search_dir)
        + " With internet access, 'harewatch boundaries fetch' downloads it."
    )


def _download(url: str, timeout_s: float) -> bytes:
    """GET ``url`` and return the body; every failure becomes BoundaryFetchError."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise BoundaryFetchError(f"cannot fetch {url!r}: only http(s) URLs are supported")
    from geo import __version__

    request = urllib.request.Request(
        url,
        headers={
            "User-Agent": f"harewatch/{__version__}",
            "Accept": "application/geo+json, application/json;q=0.9, */*;q=0.1",
        },
    )
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    total = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                total += len(chunk)
                if total > _MAX_DOWNLOAD_BYTES:
                    raise BoundaryFetchError(
                        f"{url}: response larger than {_MAX_DOWNLOAD_BYTES // 2**20} MB; "
                        "this is not a police force area file"
                    )
                chunks.append(chunk)
    except urllib.error.HTTPError as e:
        raise BoundaryFetchError(f"{url}: the server answered HTTP {e.code} {e.reason}") from e
    except urllib.error.URLError as e:
        if isinstance(e.reason, TimeoutError):
            raise BoundaryFetchError(f"{url}: no answer within {timeout_s:g} s (timed out)") from e
        raise BoundaryFetchError(f"{url}: could not connect ({e.reason})") from e
    except TimeoutError as e:
        raise BoundaryFetchError(f"{url}: download did not finish within {timeout_s:g} s (timed out)") from e
    except (OSError, http.client.HTTPException) as e:
        raise BoundaryFetchError(f"{url}: network error while downloading ({e!r})") from e
    return b"".join(chunks)


def _check_payload(body: bytes, url: str) -> ForceAreas:
    """Validate a downloaded GeoJSON body; return it parsed, else BoundaryFetchError."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        head = body[:80].decode("utf-8", "replace")
        raise BoundaryFetchError(f"{url}: the answer is not JSON ({e}); it starts with {head!r}") from e
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        err = doc["error"]
        details = "; ".join(str(d) for d in err.get("details") or [] if d)
        raise BoundaryFetchError(
            f"{url}: the ArcGIS server returned an error (code {err.get('code', '?')}): "
            f"{err.get('message', 'no message')}" + (f" ({details})" if details else "")
        )
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise BoundaryFetchError(f"{url}: the answer is JSON but not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryFetchError(f"{url}: the FeatureCollection has no features")
    props = doc.get("properties") if isinstance(doc.get("properties"), dict) else {}
    if doc.get("exceededTransferLimit") or props.get("exceededTransferLimit"):
        raise BoundaryFetchError(
            f"{url}: the server truncated the answer (exceededTransferLimit); download the file manually"
        )
    keys = {str(k) for f in features if isinstance(f, dict) for k in (f.get("properties") or {})}
    if not any(_CODE_RE.match(k) or _NAME_RE.match(k) for k in keys):
        raise BoundaryFetchError(
            f"{url}: no PFAyyCD / PFAyyNM column in the features (properties: {sorted(keys)[:20]})"
        )
    try:
        raw = gpd.read_file(io.BytesIO(body))
        return _areas_from_frame(raw, url)
    except ValueError as e:
        raise BoundaryFetchError(f"{url}: not a usable police force area file: {e}") from e
    except Exception as e:  # GDAL/pyogrio errors on malformed geometry
        raise BoundaryFetchError(f"{url}: could not read the GeoJSON ({e})") from e


def fetch_boundaries(dest_dir: str | os.PathLike, url: str = DEFAULT_URL, timeout_s: float = 60.0) -> Path:
    """Download the ONS police force area GeoJSON into ``dest_dir``.

    The answer is validated (GeoJSON FeatureCollection with features, a
    ``PFAyyCD``/``PFAyyNM`` column and at least one of the seven forces)
    before anything is written; the file is then written atomically (a
    temporary file in ``dest_dir`` renamed over the target), so a failure
    never leaves a partial file.

    Parameters
    ----------
    dest_dir : path-like
        Folder to write ``police_force_areas.geojson`` into (created if needed).
    url : str
        HTTP(S) URL of a GeoJSON answer; default the ONS ArcGIS FeatureServer query.
    timeout_s : float
        Seconds allowed for connecting and for the whole download.

    Returns
    -------
    Path
        ``dest_dir / "police_force_areas.geojson"``.

    Raises
    ------
    BoundaryFetchError
        Network failure, HTTP error, timeout, ArcGIS error answer, or content
        that is not a usable police force area file.
    """
    if not (timeout_s > 0 and math.isfinite(timeout_s)):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    body = _download(url, timeout_s)
    _check_payload(body, url)
    dest = Path(dest_dir)
    final = dest / BOUNDARIES_FILENAME
    tmp: str | None = None
    try:
        dest.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".police_force_areas.", suffix=".part", dir=dest)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
        tmp = None
    except OSError as e:
        raise BoundaryFetchError(f"could not write {final}: {e}") from e
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return final


def load_boundaries(
    path: str | os.PathLike | None = None,
    *,
    allow_fetch: bool = True,
    search_dir: str | os.PathLike = DEFAULT_BOUNDARIES_DIR,
    env: Mapping[str, str] | None = None,
    log: Callable[[str], Any] = print,
    url: str = DEFAULT_URL,
    timeout_s: float = 60.0,
) -> ForceAreas:
    """Resolve, else (first run) fetch and cache, then read the boundaries.

    Order: ``path`` (``--boundaries``), ``$HAREWATCH_BOUNDARIES``, a file in
    ``search_dir``; if none exists and ``allow_fetch``, the ONS file is
    downloaded into ``search_dir`` (announced through ``log``). An explicit
    ``path`` or environment variable that points at a missing file is an
    error, never a reason to fetch.

    Parameters
    ----------
    path : path-like, optional
        Explicit boundary file.
    allow_fetch : bool
        Download when nothing is found (needs network).
    search_dir : path-like
        Folder searched, and where a fetched file is cached.
    env : mapping, optional
        Environment for ``HAREWATCH_BOUNDARIES`` (default ``os.environ``).
    log : callable
        Receives one-line progress messages (default ``print``).
    url : str
        Download URL (default :data:`DEFAULT_URL`).
    timeout_s : float
        Download timeout in seconds.

    Raises
    ------
    BoundariesNotFound
        Nothing found and fetching disabled or failed; the message says how
        to get the file.
    ValueError
        The file found is not a usable police force area file.
    """
    env = os.environ if env is None else env
    search_dir = Path(search_dir)
    try:
        resolved = resolve_boundaries_path(path, env=env, search_dir=search_dir)
    except BoundariesNotFound:
        if path or env.get("HAREWATCH_BOUNDARIES") or not allow_fetch:
            raise
        host = urlsplit(url).netloc or url
        log(
            f"No boundary file found; fetching ONS police force areas from {host} "
            f"into {search_dir}/ (first run)"
        )
        try:
            resolved = fetch_boundaries(search_dir, url=url, timeout_s=timeout_s)
        except BoundaryFetchError as e:
            raise BoundariesNotFound(
                f"No police force area boundary file found, and fetching it failed: {e}. "
                + _HOW_TO.format(search_dir=search_dir)
            ) from e
        log(f"Saved police force areas to {resolved}")
    return read_boundaries(resolved)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _find_column(columns, pattern: re.Pattern, fallbacks: tuple[str, ...]) -> str | None:
    for c in columns:
        if pattern.match(str(c)):
            return c
    lowered = {str(c).lower(): c for c in columns}
    for f in fallbacks:
        if f in lowered:
            return lowered[f]
    return None


_EMPTY_POLYGON = shapely.Polygon()


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Repair geometries and keep their polygonal parts (empty polygon when none)."""
    repaired = shapely.make_valid(geoms)
    out = np.empty(len(repaired), dtype=object)
    for i, g in enumerate(repaired):  # one iteration per force area, not per point
        if g is None or g.is_empty:
            out[i] = _EMPTY_POLYGON
        elif g.geom_type in ("Polygon", "MultiPolygon"):
            out[i] = g
        else:  # GeometryCollection from make_valid: drop stray lines/points
            parts = shapely.get_parts(shapely.get_parts(g))
            polys = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
            out[i] = shapely.multipolygons(polys) if len(polys) else _EMPTY_POLYGON
    return out


def _name_key(names: pd.Series) -> pd.Series:
    return (
        names.str.lower()
        .str.replace(r"\s+", " ", regex=True)
        .str.replace("&", "and", regex=False)
        .str.replace(_NAME_SUFFIX_RE, "", regex=True)
        .str.strip()
    )


def _areas_from_frame(raw: gpd.GeoDataFrame, source: str) -> ForceAreas:
    """Normalise a raw boundary frame (any columns, any CRS) into ForceAreas."""
    code_col = _find_column(raw.columns, _CODE_RE, ("code", "pfa_code", "force_code"))
    name_col = _find_column(raw.columns, _NAME_RE, ("name", "pfa_name", "force", "force_name"))
    if name_col is None or name_col == raw.geometry.name:
        raise ValueError(
            f"{source}: no police force name column (expected PFAyyNM, e.g. PFA23NM, or 'name'); "
            f"columns are {[c for c in raw.columns if c != raw.geometry.name]}"
        )
    if len(raw) == 0:
        raise ValueError(f"{source}: the file has no features")
    geo = raw.geometry
    if geo.crs is None:
        xmin, ymin, xmax, ymax = geo.total_bounds
        if all(np.isfinite([xmin, ymin, xmax, ymax])) and max(abs(xmin), abs(xmax)) <= 180 and max(abs(ymin), abs(ymax)) <= 90:
            geo = geo.set_crs(WGS84)
        elif xmin >= -1e5 and ymin >= -1e5 and xmax <= 8e5 and ymax <= 1.4e6:
            warnings.warn(
                f"{source}: no CRS declared; coordinates look like British National Grid, assuming EPSG:27700",
                stacklevel=3,
            )
            geo = geo.set_crs(BNG)
        else:
            raise ValueError(f"{source}: the file declares no CRS and its coordinates are neither lon/lat nor EPSG:27700")
    geoms = _polygonal(np.asarray(geo.to_crs(BNG).values, dtype=object))
    unusable = shapely.is_empty(geoms)

    names = raw[name_col].astype("string").fillna("").str.strip()
    by_name = {_name_key(pd.Series([v])).iloc[0]: k for k, v in SEVEN_FORCES.items()}
    from_name = _name_key(names).map(by_name).fillna("").astype("string")
    if code_col is not None:
        codes = raw[code_col].astype("string").fillna("").str.strip().str.upper()
        codes = codes.where(codes != "", from_name)
    else:
        codes = from_name
    in_agreement = codes.isin(list(SEVEN_FORCES)).to_numpy(dtype=bool)
    if not in_agreement.any():
        raise ValueError(
            f"{source}: none of the seven forces ({', '.join(SEVEN_FORCES.values())}) is in the file "
            f"(looked at column {code_col!r} for ONS codes and {name_col!r} for names)"
        )
    # The seven get their canonical names; neighbours keep the file's.
    force = names.where(~in_agreement, codes.map(SEVEN_FORCES))
    if unusable.any():
        bad = ", ".join(str(n) for n in force[unusable])
        warnings.warn(f"{source}: unusable (empty) geometry for {bad}; no point will be assigned to it", stacklevel=3)

    gdf = gpd.GeoDataFrame(
        {
            "force_code": codes.astype(object).to_numpy(),
            "force": force.astype(object).to_numpy(),
            "in_agreement": in_agreement,
        },
        geometry=gpd.GeoSeries(geoms, crs=BNG).values,
        crs=BNG,
    )
    order = {code: i for i, code in enumerate(SEVEN_FORCES)}
    gdf["_order"] = gdf["force_code"].map(order).fillna(len(order))
    gdf = gdf.sort_values(["_order", "force"], kind="stable").drop(columns="_order").reset_index(drop=True)
    gdf = gdf[["force_code", "force", "in_agreement", "geometry"]]
    return ForceAreas(gdf=gdf, source=str(source))


def read_boundaries(path: str | os.PathLike) -> ForceAreas:
    """Read an ONS police force area file and return it in EPSG:27700.

    Parameters
    ----------
    path : path-like
        Any vector format GDAL reads (GeoJSON, GeoPackage, Shapefile, zipped
        Shapefile given as a ``.zip`` path, KML, FlatGeobuf); any CRS (assumed
        WGS84 when the file declares none and coordinates are lon/lat, EPSG:27700
        when they look like British National Grid metres). Code and name
        columns are found by pattern (``PFAyyCD``/``PFAyyNM`` for any year,
        any case), else ``code``/``name``; a file with names only is matched
        to the seven forces by name.

    Returns
    -------
    ForceAreas
        Geometries repaired with ``make_valid`` (polygonal parts only); an
        unusable geometry becomes an empty polygon (with a warning).

    Raises
    ------
    ValueError
        When no name column is found or none of the seven forces is present.
    """
    raw = gpd.read_file(path)
    return _areas_from_frame(raw, str(path))


def display_boundaries(
    areas: ForceAreas, tolerance_m: float = 100.0, *, precision_deg: float | None = 1e-5
) -> gpd.GeoDataFrame:
    """Lightweight copy of the boundaries for web maps, in EPSG:4326.

    Each area is simplified in EPSG:27700 (Douglas-Peucker with
    ``preserve_topology=True``, so no area collapses), re-projected, and its
    coordinates snapped to a ``precision_deg`` grid (shorter numbers in
    GeoJSON); any geometry left invalid is repaired. Shared borders are simplified independently per area,
    so slivers of up to about ``tolerance_m`` can appear between neighbours:
    fine for display, never use this copy for analysis. ``areas`` is not
    modified.

    Parameters
    ----------
    areas : ForceAreas
        Boundaries as read by :func:`read_boundaries`.
    tolerance_m : float
        Simplification tolerance in metres (0 keeps every vertex).
    precision_deg : float or None
        Coordinate grid in degrees after re-projection (1e-5 degrees is about
        1.1 m north-south, 0.7 m east-west here); None keeps full precision.

    Returns
    -------
    GeoDataFrame
        Columns ``force_code``, ``force``, ``in_agreement``, ``geometry``
        (EPSG:4326), same rows and order as ``areas.gdf``.
    """
    if not (math.isfinite(tolerance_m) and tolerance_m >= 0):
        raise ValueError(f"tolerance_m must be a finite number of metres >= 0, got {tolerance_m!r}")
    src = areas.gdf
    geoms = shapely.simplify(np.asarray(src.geometry.values, dtype=object), tolerance_m, preserve_topology=True)
    out = gpd.GeoDataFrame(
        {c: src[c].to_numpy(copy=True) for c in ("force_code", "force", "in_agreement")},
        geometry=gpd.GeoSeries(geoms, crs=src.crs if src.crs is not None else BNG).values,
    )
    out = out.to_crs(WGS84)
    if precision_deg is not None:
        if not (math.isfinite(precision_deg) and precision_deg > 0):
            raise ValueError(f"precision_deg must be a positive number of degrees or None, got {precision_deg!r}")
        out["geometry"] = shapely.set_precision(np.asarray(out.geometry.values, dtype=object), precision_deg)
    geoms = np.asarray(out.geometry.values, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = _polygonal(geoms[invalid])
        out["geometry"] = gpd.GeoSeries(geoms, crs=WGS84).values
    return out


# --------------------------------------------------------------------------
# Assigning points to force areas
# --------------------------------------------------------------------------

_INDEX_ATTR = "_assign_index"
#: Upper bound on grid cells of the assignment index (int32 each: 8 MB).
_MAX_CELLS = 2_000_000
#: Grid cells per boundary vertex aimed at when sizing the grid.
_CELLS_PER_VERTEX = 64


@dataclass(frozen=True)
class _CellIndex:
    """Uniform grid over the areas' bounds, each cell pre-classified.

    ``lut[cell]`` >= 0: every point of the cell belongs to that area row;
    -1: no area covers the cell; <= -2: a boundary crosses the cell, and
    ``states[-2 - lut[cell]]`` holds, per area, 0 (cell outside), 1 (cell
    inside) or 2 (boundary crosses the cell: exact test needed).
    """

    key: tuple[int, ...]
    geoms: np.ndarray
    x0: float
    y0: float
    inv_cell: float
    nx: int
    ny: int
    lut: np.ndarray
    states: np.ndarray


def _closed_first_hit(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """First area (in order) covering each point: bbox prefilter + ``intersects_xy``."""
    out = np.full(x.shape, -1, dtype=np.int32)
    for i, g in enumerate(geoms):  # one iteration per area
        if g.is_empty:
            continue
        xmin, ymin, xmax, ymax = g.bounds
        cand = np.flatnonzero((out == -1) & (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
        if cand.size:
            out[cand[shapely.intersects_xy(g, x[cand], y[cand])]] = i
    return out


def _build_index(geoms_in: np.ndarray, key: tuple[int, ...]) -> _CellIndex:
    # Private prepared copies: the caller's geometries are left untouched.
    geoms = shapely.from_wkb(shapely.to_wkb(geoms_in))
    geoms = np.array([_EMPTY_POLYGON if g is None else g for g in geoms], dtype=object)
    shapely.prepare(geoms)
    n = len(geoms)
    usable = ~shapely.is_empty(geoms)
    empty_lut = np.zeros(0, dtype=np.int32)
    if not usable.any():
        return _CellIndex(key, geoms, 0.0, 0.0, 1.0, 0, 0, empty_lut, np.zeros((0, n), np.int8))
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms[usable])
    w, h = max(xmax - xmin, 1e-6), max(ymax - ymin, 1e-6)
    target = int(np.clip(_CELLS_PER_VERTEX * shapely.get_num_coordinates(geoms).sum(), 4096, _MAX_CELLS))
    cell = max(math.sqrt(w * h / target), max(w, h) / 4096)
    nx, ny = int(w // cell) + 1, int(h // cell) + 1  # grid strictly covers [min, max]
    ncell = nx * ny
    # Cells are tested grown by eps, so a point that rounding puts in a
    # neighbouring cell is still classified correctly.
    eps = cell * 1e-3 + 1e-9 * max(abs(xmin), abs(xmax), abs(ymin), abs(ymax))
    inv = 1.0 / cell

    # 1. Cells each boundary crosses: candidates are the 3x3 neighbourhoods of
    #    boundary vertices after densifying to cell/2, then an exact test.
    touched = np.zeros(ncell, dtype=bool)
    crossing: list[tuple[int, np.ndarray]] = []
    offs = np.array([-1, 0, 1])
    for i in np.flatnonzero(usable):  # one iteration per area
        ring = shapely.segmentize(shapely.boundary(geoms[i]), cell / 2)
        xy = shapely.get_coordinates(ring)
        ix = np.clip(np.floor((xy[:, 0] - xmin) * inv).astype(np.intp), 0, nx - 1)
        iy = np.clip(np.floor((xy[:, 1] - ymin) * inv).astype(np.intp), 0, ny - 1)
        cx = np.clip(ix[:, None, None] + offs[None, :, None], 0, nx - 1)
        cy = np.clip(iy[:, None, None] + offs[None, None, :], 0, ny - 1)
        cand = np.unique((cy * nx + cx).ravel())
        bx, by = cand % nx, cand // nx
        boxes = shapely.box(
            xmin + bx * cell - eps, ymin + by * cell - eps, xmin + (bx + 1) * cell + eps, ymin + (by + 1) * cell + eps
        )
        shapely.prepare(ring)
        hit = cand[shapely.intersects(ring, boxes)]
        crossing.append((i, hit))
        touched[hit] = True

    lut = np.empty(ncell, dtype=np.int32)
    # 2. Cells no boundary crosses: connected groups of them are uniformly
    #    inside/outside every area; classify one cell centre per group.
    labels, nlab = ndimage.label(~touched.reshape(ny, nx))
    labels = labels.ravel()
    rep = np.zeros(nlab + 1, dtype=np.intp)
    rep[labels] = np.arange(ncell)  # any member cell represents its group
    rep = rep[1:]
    value = np.full(nlab + 1, -1, dtype=np.int32)
    value[1:] = _closed_first_hit(geoms, xmin + (rep % nx + 0.5) * cell, ymin + (rep // nx + 0.5) * cell)
    free = labels > 0
    lut[free] = value[labels[free]]

    # 3. Crossed cells: per-area state; the first area (in order) that is not
    #    "outside" decides, unless its boundary crosses the cell (mixed).
    tcells = np.flatnonzero(touched)
    pos = np.full(ncell, -1, dtype=np.intp)
    pos[tcells] = np.arange(tcells.size)
    states = np.zeros((tcells.size, n), dtype=np.int8)
    for i, hit in crossing:
        states[pos[hit], i] = 2
    ccx = xmin + (tcells % nx + 0.5) * cell
    ccy = ymin + (tcells // nx + 0.5) * cell
    for i in np.flatnonzero(usable):
        need = np.flatnonzero(states[:, i] == 0)
        if need.size:
            inside = shapely.intersects_xy(geoms[i], ccx[need], ccy[need])
            states[need[inside], i] = 1
    nonzero = states != 0
    has = nonzero.any(axis=1)
    first = nonzero.argmax(axis=1)
    first_state = states[np.arange(tcells.size), first]
    mixed = has & (first_state == 2)
    tval = np.where(has, first, -1).astype(np.int32)
    tval[mixed] = -2 - np.arange(int(mixed.sum()), dtype=np.int32)
    lut[tcells] = tval
    return _CellIndex(key, geoms, float(xmin), float(ymin), inv, nx, ny, lut, states[mixed].copy())


def _index_for(areas: ForceAreas) -> _CellIndex:
    geoms = np.asarray(areas.gdf.geometry.values, dtype=object)
    key = tuple(map(id, geoms))
    cached = areas.__dict__.get(_INDEX_ATTR)
    if cached is not None and cached.key == key:
        return cached
    index = _build_index(geoms, key)
    # A cache on a frozen dataclass: stored directly, invisible to eq/repr/pickle.
    areas.__dict__[_INDEX_ATTR] = index
    return index


def _resolve_mixed(index: _CellIndex, rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact answer for points in cells a boundary crosses."""
    states = index.states[rows]
    out = np.full(rows.shape, -1, dtype=np.int32)
    pending = np.arange(rows.size)
    for i, g in enumerate(index.geoms):  # one iteration per area
        if not pending.size:
            break
        s = states[pending, i]
        hit = s == 1
        test = np.flatnonzero(s == 2)
        if test.size:
            p = pending[test]
            hit[test] = shapely.intersects_xy(g, x[p], y[p])
        out[pending[hit]] = i
        pending = pending[~hit]
    return out


def _lookup(index: _CellIndex, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, -1, dtype=np.int32)
    if index.nx == 0 or x.size == 0:
        return out
    fx = x - index.x0
    fx *= index.inv_cell
    fy = y - index.y0
    fy *= index.inv_cell
    ok = (fx >= 0) & (fx < index.nx) & (fy >= 0) & (fy < index.ny)  # NaN -> False
    sel = None
    if not ok.all():
        sel = np.flatnonzero(ok)
        fx, fy = fx[sel], fy[sel]
    cell = fy.astype(np.intp)
    cell *= index.nx
    cell += fx.astype(np.intp)
    val = index.lut[cell]
    mixed = np.flatnonzero(val <= -2)
    if mixed.size:
        pts = mixed if sel is None else sel[mixed]
        val[mixed] = _resolve_mixed(index, -2 - val[mixed], x[pts], y[pts])
    if sel is None:
        return val
    out[sel] = val
    return out


def assign_force(areas: ForceAreas, easting_m: np.ndarray, northing_m: np.ndarray) -> np.ndarray:
    """Row of ``areas.gdf`` whose force area covers each point, -1 if none.

    Boundary rule: areas are closed, so a point exactly on a boundary is
    covered; where several areas cover a point (shared edge or vertex,
    overlap) the first in ``areas.gdf`` order wins. The result equals, point
    for point, ``shapely.intersects_xy`` per area in order with first hit
    kept; away from boundaries that is the same as ``shapely.contains_xy``.

    Fast path: a uniform grid index (built once per ``ForceAreas`` and
    cached on it) labels whole cells as inside one area or outside all;
    only points in cells a boundary crosses get an exact point-in-polygon test.

    Parameters
    ----------
    areas : ForceAreas
        Force areas in EPSG:27700.
    easting_m, northing_m : array-like of float
        Point coordinates in EPSG:27700 metres, same shape. NaN gives -1.

    Returns
    -------
    ndarray of int32
        Same shape as the inputs; row index into ``areas.gdf`` or -1.

    Raises
    ------
    ValueError
        Shapes differ, or the coordinates look like longitude/latitude
        degrees (every finite |x| <= 180 and |y| <= 90).
    """
    x = np.asarray(easting_m, dtype="float64")
    y = np.asarray(northing_m, dtype="float64")
    if x.shape != y.shape:
        raise ValueError(f"easting_m and northing_m must have the same shape, got {x.shape} and {y.shape}")
    shape = x.shape
    x, y = x.ravel(), y.ravel()
    if x.size:
        xmax, xmin = np.fmax.reduce(x), np.fmin.reduce(x)
        ymax, ymin = np.fmax.reduce(y), np.fmin.reduce(y)
        if max(abs(xmax), abs(xmin)) <= 180 and max(abs(ymax), abs(ymin)) <= 90:
            raise ValueError(
                "expected EPSG:27700 metres (easting, northing), but every coordinate is within "
                "|x| <= 180, |y| <= 90: these look like longitude/latitude degrees; "
                "convert with GeoSeries.to_crs('EPSG:27700') first"
            )
    return _lookup(_index_for(areas), x, y).reshape(shape)
