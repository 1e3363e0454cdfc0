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
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd

from geo._config import DEFAULTS, Settings
from geo.areas import (
    INDEX_FORMAT,
    PFA_CODE_RE,
    PFA_NAME_RE,
    ForceAreas,
    areas_from_frame,
    assignment_index,
    use_assignment_index,
)
from geo.errors import BoundariesNotFound, BoundaryFetchError, InputError

__all__ = [
    "BOUNDARIES_FILENAME",
    "DEFAULT_BOUNDARIES_DIR",
    "DEFAULT_URL",
    "fetch_boundaries",
    "load_boundaries",
    "read_boundaries",
    "resolve_boundaries_path",
    "with_cached_index",
]


DEFAULT_BOUNDARIES_DIR = DEFAULTS.boundaries_dir

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


_HOW_TO = (
    "To get the file: download 'Police Force Areas (December 2023) Boundaries EW BUC' "
    "(GeoJSON, GeoPackage, Shapefile or KML) from the ONS Open Geography Portal, "
    "https://geoportal.statistics.gov.uk/ (search 'Police Force Areas'), or "
    f"directly from {DEFAULT_URL} ; then either pass --boundaries FILE, set "
    "HAREWATCH_BOUNDARIES=FILE, or put the file in {search_dir}."
)








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
    configured = Settings.from_env(env).boundaries
    for candidate, origin in ((path, "--boundaries"), (configured, "HAREWATCH_BOUNDARIES")):
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
    if not any(PFA_CODE_RE.match(k) or PFA_NAME_RE.match(k) for k in keys):
        raise BoundaryFetchError(
            f"{url}: no PFAyyCD / PFAyyNM column in the features (properties: {sorted(keys)[:20]})"
        )
    try:
        raw = gpd.read_file(io.BytesIO(body))
        return areas_from_frame(raw, url)
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
        raise InputError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
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
    search_dir = Path(search_dir)
    try:
        resolved = resolve_boundaries_path(path, env=env, search_dir=search_dir)
    except BoundariesNotFound:
        if path or Settings.from_env(env).boundaries or not allow_fetch:
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
    areas = areas_from_frame(raw, str(path))
    with_cached_index(areas, path)
    return areas


def with_cached_index(areas: ForceAreas, path: str | os.PathLike) -> None:
    """Give ``areas`` the point-assignment index from the user cache, keyed by the boundary
    file's SHA-256 (built and stored there on a miss), so no process builds it twice.

    Parameters
    ----------
    areas : ForceAreas
        Read from ``path`` (:func:`read_boundaries` does this itself; for areas kept
        elsewhere, e.g. the dashboard's disk cache).
    path : path-like
        The boundary file.
    """
    from geo.io.cache import cache_folder, cached_arrays, content_key, file_sha256

    digest = file_sha256(path)
    folder = cache_folder("force-index")
    if digest is None or folder is None:
        return
    key = content_key("force-index", INDEX_FORMAT, digest)
    arrays = cached_arrays(folder, key, lambda: assignment_index(areas), ("lut", "states"))
    use_assignment_index(areas, arrays)




# --------------------------------------------------------------------------
# Assigning points to force areas
# --------------------------------------------------------------------------















