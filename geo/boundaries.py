"""Police force area boundaries: find, read, select and assign points.

The product reads the official ONS "Police Force Areas" file (any format and
CRS GDAL reads). The seven forces of the agreement are picked by ONS code;
every other force in the file is kept as context (a "neighbour").
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.schema import BNG, SEVEN_FORCES

__all__ = [
    "ATTRIBUTION",
    "BoundariesNotFound",
    "ForceAreas",
    "read_boundaries",
    "resolve_boundaries_path",
    "assign_force",
]

#: Must be shown wherever the boundaries are drawn.
ATTRIBUTION = (
    "Police force areas: Contains National Statistics and Ordnance Survey data "
    "\u00a9 Crown copyright and database right, Open Government Licence v3.0."
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BOUNDARIES_DIR = REPO_ROOT / "data" / "boundaries"
_BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".fgb")

_CODE_RE = re.compile(r"^pfa\d{2}cd$", re.IGNORECASE)
_NAME_RE = re.compile(r"^pfa\d{2}nm$", re.IGNORECASE)


class BoundariesNotFound(FileNotFoundError):
    """No boundary file was configured or found; the message says how to get one."""


@dataclass(frozen=True)
class ForceAreas:
    """Force areas in EPSG:27700.

    Attributes
    ----------
    gdf : GeoDataFrame
        Columns ``force_code``, ``force``, ``in_agreement`` (bool) and
        ``geometry``; the seven forces first (in ``SEVEN_FORCES`` order), then
        neighbours sorted by name.
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


def resolve_boundaries_path(
    path: str | os.PathLike | None = None,
    *,
    env: dict[str, str] | None = None,
    search_dir: Path = DEFAULT_BOUNDARIES_DIR,
) -> Path:
    """Find the boundary file: ``path``, then ``$HAREWATCH_BOUNDARIES``, then ``search_dir``.

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
    if search_dir.is_dir():
        found = sorted(p for p in search_dir.iterdir() if p.suffix.lower() in _BOUNDARY_SUFFIXES)
        if found:
            return found[0]
    raise BoundariesNotFound(
        "No police force area boundary file found. Download 'Police Force Areas "
        "(December 2023) Boundaries EW BUC' from the ONS Open Geography Portal and "
        "either pass --boundaries FILE, set HAREWATCH_BOUNDARIES=FILE, or put it in "
        f"{search_dir}. With internet access, 'harewatch boundaries fetch' downloads it."
    )


def _find_column(columns, pattern: re.Pattern, fallbacks: tuple[str, ...]) -> str | None:
    for c in columns:
        if pattern.match(str(c)):
            return c
    lowered = {str(c).lower(): c for c in columns}
    for f in fallbacks:
        if f in lowered:
            return lowered[f]
    return None


def read_boundaries(path: str | os.PathLike) -> ForceAreas:
    """Read an ONS police force area file and return it in EPSG:27700.

    Parameters
    ----------
    path : path-like
        Any vector format GDAL reads (GeoJSON, GeoPackage, Shapefile, zipped
        Shapefile, KML); any CRS (assumed WGS84 when the file declares none).

    Raises
    ------
    ValueError
        When the code/name columns cannot be found or none of the seven forces
        is present.
    """
    raw = gpd.read_file(path)
    code_col = _find_column(raw.columns, _CODE_RE, ("code", "pfa_code", "force_code"))
    name_col = _find_column(raw.columns, _NAME_RE, ("name", "pfa_name", "force", "force_name"))
    if name_col is None:
        raise ValueError(
            f"{path}: no police force name column (expected PFAyyNM, e.g. PFA23NM); "
            f"columns are {list(raw.columns)}"
        )
    if raw.crs is None:
        raw = raw.set_crs("EPSG:4326")
    gdf = gpd.GeoDataFrame(
        {
            "force_code": raw[code_col].astype(str).str.strip() if code_col else "",
            "force": raw[name_col].astype(str).str.strip(),
        },
        geometry=shapely.make_valid(raw.geometry.to_crs(BNG).values),
        crs=BNG,
    )
    by_name = {v.lower(): k for k, v in SEVEN_FORCES.items()}
    if code_col is None:
        gdf["force_code"] = gdf["force"].str.lower().map(by_name).fillna("")
    gdf["in_agreement"] = gdf["force_code"].isin(list(SEVEN_FORCES))
    if not gdf["in_agreement"].any():
        raise ValueError(f"{path}: none of the seven forces ({', '.join(SEVEN_FORCES.values())}) is in the file")
    order = {code: i for i, code in enumerate(SEVEN_FORCES)}
    gdf["_order"] = gdf["force_code"].map(order).fillna(len(order))
    gdf = gdf.sort_values(["_order", "force"]).drop(columns="_order").reset_index(drop=True)
    gdf = gdf[["force_code", "force", "in_agreement", "geometry"]]
    return ForceAreas(gdf=gdf, source=str(path))


def assign_force(areas: ForceAreas, easting_m: np.ndarray, northing_m: np.ndarray) -> np.ndarray:
    """Index (row of ``areas.gdf``) of the force area containing each point, -1 if none.

    Vectorised: a bounding-box prefilter, then prepared ``shapely.contains_xy``
    per force. Coordinates are EPSG:27700 metres.
    """
    x = np.asarray(easting_m, dtype="float64")
    y = np.asarray(northing_m, dtype="float64")
    out = np.full(x.shape, -1, dtype="int32")
    for i, geom in enumerate(areas.gdf.geometry.values):
        shapely.prepare(geom)
        xmin, ymin, xmax, ymax = geom.bounds
        cand = np.flatnonzero((out == -1) & (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
        if cand.size:
            hit = shapely.contains_xy(geom, x[cand], y[cand])
            out[cand[hit]] = i
    return out
