"""How far real coastal places fall outside the generalised (BUC) force boundaries.

The ONS BUC police force areas are "ultra generalised, clipped to the
coastline": the coast is simplified to about 500 m, so quays, piers, islands
and estuary banks can fall just outside every force. This script measures, for
hand-picked coastal places of the seven forces (WGS84 positions of the
places, to about 50 m), whether each falls inside a force of the boundary file
and, if not, how far it is from the nearest one. The default
``coastal_tolerance_m`` of :class:`geo.Settings` is chosen from these figures
(README, "Boundaries and the coast").

Usage: ``.venv/bin/python benchmarks/coastal_tolerance.py [BOUNDARY_FILE]``
(default: the ONS file shipped in data/boundaries/).
"""

from __future__ import annotations

import sys

import numpy as np
import shapely
from pyproj import Transformer

from geo.io.boundaries import load_boundaries

#: (place, latitude, longitude, force it belongs to)
COASTAL_PLACES = [
    ("Canvey Island, Concord Beach", 51.5163, 0.5960, "Essex"),
    ("Canvey Point", 51.5320, 0.6300, "Essex"),
    ("Southend Pier entrance", 51.5336, 0.7159, "Essex"),
    ("Southend Pier head (2 km out)", 51.5093, 0.7176, "Essex"),
    ("Old Leigh quay", 51.5410, 0.6520, "Essex"),
    ("Shoeburyness East Beach", 51.5285, 0.7950, "Essex"),
    ("Burnham-on-Crouch quay", 51.6253, 0.8150, "Essex"),
    ("Maldon, Hythe Quay", 51.7305, 0.6875, "Essex"),
    ("West Mersea, Coast Road", 51.7770, 0.9150, "Essex"),
    ("Brightlingsea hard", 51.8080, 1.0240, "Essex"),
    ("Clacton Pier", 51.7868, 1.1545, "Essex"),
    ("Walton-on-the-Naze Pier", 51.8466, 1.2717, "Essex"),
    ("Harwich, Ha'penny Pier", 51.9461, 1.2889, "Essex"),
    ("Tilbury, cruise terminal", 51.4560, 0.3550, "Essex"),
    ("Felixstowe Pier", 51.9560, 1.3513, "Suffolk"),
    ("Orford quay", 52.0930, 1.5360, "Suffolk"),
    ("Aldeburgh beach", 52.1520, 1.6030, "Suffolk"),
    ("Southwold Pier", 52.3288, 1.6856, "Suffolk"),
    ("Lowestoft, Claremont Pier", 52.4681, 1.7483, "Suffolk"),
    ("Great Yarmouth, Britannia Pier", 52.6094, 1.7394, "Norfolk"),
    ("Cromer Pier", 52.9337, 1.3011, "Norfolk"),
    ("Blakeney quay", 52.9573, 1.0186, "Norfolk"),
    ("Wells-next-the-Sea quay", 52.9549, 0.8513, "Norfolk"),
    ("Hunstanton seafront", 52.9394, 0.4863, "Norfolk"),
    ("King's Lynn, South Quay", 52.7535, 0.3939, "Norfolk"),
    ("Isle of Grain", 51.4550, 0.7150, "Kent"),
    ("Sheerness seafront", 51.4447, 0.7605, "Kent"),
    ("Minster (Sheppey) seafront", 51.4320, 0.8190, "Kent"),
    ("Leysdown-on-Sea", 51.3970, 0.9230, "Kent"),
    ("Whitstable harbour", 51.3613, 1.0230, "Kent"),
    ("Herne Bay Pier", 51.3750, 1.1216, "Kent"),
    ("Margate harbour arm", 51.3925, 1.3790, "Kent"),
    ("North Foreland lighthouse", 51.3750, 1.4456, "Kent"),
    ("Ramsgate harbour", 51.3270, 1.4190, "Kent"),
    ("Dover, Admiralty Pier", 51.1175, 1.3047, "Kent"),
    ("Folkestone Harbour Arm", 51.0770, 1.1935, "Kent"),
    ("Dungeness", 50.9135, 0.9770, "Kent"),
]


def measure(path: str | None = None) -> list[tuple[str, str, str, float]]:
    """(place, expected force, force found or nearest, metres outside) per place."""
    areas = load_boundaries(path, allow_fetch=False)
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    lat = np.array([p[1] for p in COASTAL_PLACES])
    lon = np.array([p[2] for p in COASTAL_PLACES])
    e, n = to_bng.transform(lon, lat)
    pts = shapely.points(e, n)
    geoms = areas.gdf.geometry.to_numpy()
    out = []
    for (place, _, _, want), pt in zip(COASTAL_PLACES, pts, strict=True):
        d = shapely.distance(geoms, pt)
        i = int(np.argmin(d))
        out.append((place, want, str(areas.gdf["force"].iat[i]), float(d[i])))
    return out


def main() -> None:
    rows = measure(sys.argv[1] if len(sys.argv) > 1 else None)
    outside = np.array([r[3] for r in rows if r[3] > 0])
    for place, want, got, d in rows:
        flag = "" if got == want else f"  (nearest is {got}, not {want})"
        print(f"{place:34s} {want:15s} {'inside' if d == 0 else f'{d:7.0f} m outside'}{flag}")
    print(f"\n{len(rows)} places; {len(outside)} outside every force")
    if len(outside):
        print(f"metres outside: median {np.median(outside):.0f}, 90th pct {np.percentile(outside, 90):.0f}, max {outside.max():.0f}")


if __name__ == "__main__":
    main()
