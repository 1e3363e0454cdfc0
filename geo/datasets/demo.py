"""Seeded synthetic demo scenario: incidents and ANPR reads as users' files look.

Everything here is generated. The totals match the published regional figures
(2,044 coursing reports in 2020-21 and 1,415 in 2021-22, a 31 % fall) and the
places are real rural coursing areas, but no row describes a real incident,
vehicle or person. Plates are random strings in the current UK format and
nominal ids are random ``N`` + 7 digits.

The scenario contains:

* incidents concentrated in named rural hotspots (:data:`HOTSPOT_AREAS`), some
  straddling force borders, never inside the seven forces' neighbours, the sea
  or the town centres in :data:`TOWN_CENTRES`; mostly September to March,
  peaking October to January, dawn/dusk and weekend heavy;
* repeat offender groups (1-3 vehicles, 2-5 nominals each) that hop across
  force borders and climb the warning / ASB measures / prosecution ladder,
  pairs that offend exactly twice in a season, and one-off vehicles;
* ANPR cameras on main roads and reads of the offender vehicles travelling in
  and out around their incidents, plus ordinary commuter traffic;
* locations given row by row as latitude/longitude, easting/northing or OS grid
  reference; a few reporting-force mismatches; and hostile-looking note text
  (markup, a spreadsheet formula, ``£`` and ``é``) that must be shown verbatim.

The demo files are valid: every row is accepted by the validators.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
from pyproj import Transformer

from geo.areas import ForceAreas, assign_force
from geo.schema import BNG, LONDON, WGS84

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.validate.common import ValidationResult

__all__ = [
    "DEMO_NOTICE",
    "SEASON_TOTALS",
    "HOTSPOT_AREAS",
    "TOWN_CENTRES",
    "HOSTILE_NOTES",
    "INCIDENT_RAW_COLUMNS",
    "SIGHTING_RAW_COLUMNS",
    "CAMERA_COLUMNS",
    "HotspotArea",
    "TownCentre",
    "DemoData",
    "make_demo",
    "SYNTHETIC_LABEL",
    "demo_result",
    "load_or_demo",
    "write_demo",
    "make_bad_rows_example",
]

#: One sentence for the user interface wherever demo data is shown.
DEMO_NOTICE = (
    "Synthetic demo data: generated, not real incidents, vehicles or people; "
    "totals match the published 2020-21 and 2021-22 figures."
)

#: Short label stamped on every output made from demo data (map, PNG, every PDF page).
SYNTHETIC_LABEL = "SYNTHETIC DEMO DATA – not real incidents, vehicles or people"

#: Published regional totals of hare coursing reports per season (Sep-Aug).
SEASON_TOTALS: dict[str, int] = {"2020-21": 2044, "2021-22": 1415}

_SEASON_START_YEAR: dict[str, int] = {"2020-21": 2020, "2021-22": 2021}

INCIDENT_RAW_COLUMNS: list[str] = [
    "Incident Ref",
    "Date/Time Reported",
    "Latitude",
    "Longitude",
    "Easting",
    "Northing",
    "Grid Ref",
    "Reporting Force",
    "VRMs",
    "Suspects",
    "Dogs Seen",
    "Outcome",
    "Notes",
]
SIGHTING_RAW_COLUMNS: list[str] = ["vrm", "read_at", "lat", "lon", "camera_id"]
CAMERA_COLUMNS: list[str] = ["camera_id", "lat", "lon", "force", "site_name"]


class HotspotArea(NamedTuple):
    """A rural coursing area: a Gaussian cloud of incidents around a BNG centre.

    ``force`` is the force containing the centre; ``partner`` the force across
    the nearby border for areas that straddle one ("" otherwise).
    """

    name: str
    easting_m: float
    northing_m: float
    spread_m: float
    weight: float
    force: str
    partner: str = ""


class TownCentre(NamedTuple):
    """A town centre where no demo incident is placed (within ``radius_m``)."""

    name: str
    easting_m: float
    northing_m: float
    radius_m: float


#: Named rural coursing areas (approximate OS centres, EPSG:27700 metres).
HOTSPOT_AREAS: tuple[HotspotArea, ...] = (
    HotspotArea("Fens: Wisbech / Guyhirn", 541_000, 305_500, 5_000, 10, "Cambridgeshire"),
    HotspotArea("Fens: March / Chatteris", 538_000, 291_000, 6_000, 10, "Cambridgeshire"),
    HotspotArea("Fens: Whittlesey / Thorney", 528_500, 300_500, 5_000, 6, "Cambridgeshire"),
    HotspotArea("Fens: Ramsey", 529_000, 287_000, 5_000, 4, "Cambridgeshire"),
    HotspotArea("Fens: Ely fen edge", 549_000, 278_500, 5_000, 7, "Cambridgeshire"),
    HotspotArea("Fens: Upwell / Outwell", 550_500, 302_000, 4_500, 8, "Norfolk", "Cambridgeshire"),
    HotspotArea("Fens: Walpole / Marshland", 549_500, 313_500, 4_000, 4, "Norfolk", "Cambridgeshire"),
    HotspotArea("Fens: Downham Market / Hilgay", 560_000, 298_000, 5_500, 6, "Norfolk"),
    HotspotArea("Breckland: Thetford / Brandon", 581_000, 287_500, 6_000, 6, "Suffolk", "Norfolk"),
    HotspotArea("Breckland: Swaffham", 586_000, 304_000, 6_000, 6, "Norfolk"),
    HotspotArea("North Norfolk farmland", 598_000, 333_000, 8_000, 6, "Norfolk"),
    HotspotArea("Mildenhall / Isleham fen", 567_000, 280_000, 5_000, 4, "Suffolk", "Cambridgeshire"),
    HotspotArea("Royston / Bassingbourn", 533_500, 243_500, 5_000, 7, "Cambridgeshire", "Hertfordshire"),
    HotspotArea("Buntingford farmland", 535_000, 230_000, 5_000, 3, "Hertfordshire"),
    HotspotArea("Biggleswade / Potton clay vale", 523_000, 249_000, 5_000, 6, "Bedfordshire", "Cambridgeshire"),
    HotspotArea("Stour valley / Sudbury", 589_500, 238_000, 5_500, 6, "Suffolk", "Essex"),
    HotspotArea("South Suffolk: Hadleigh / Lavenham", 597_000, 246_500, 6_000, 5, "Suffolk"),
    HotspotArea("Central Essex: Dunmow", 565_000, 218_000, 6_000, 5, "Essex"),
    HotspotArea("Essex: Dengie peninsula", 597_500, 201_500, 4_000, 3, "Essex"),
    HotspotArea("Isle of Sheppey marshes", 600_000, 169_500, 4_000, 4, "Kent"),
    HotspotArea("North Kent marshes: Hoo peninsula", 578_000, 176_000, 3_000, 3, "Kent"),
)

#: Town centres kept free of demo incidents (approximate OS centres, metres).
TOWN_CENTRES: tuple[TownCentre, ...] = (
    TownCentre("Cambridge", 545_000, 258_500, 4_000),
    TownCentre("Norwich", 623_000, 308_500, 4_000),
    TownCentre("Ipswich", 616_500, 244_500, 4_000),
    TownCentre("Peterborough", 519_000, 298_500, 4_000),
    TownCentre("Colchester", 599_500, 225_300, 3_000),
    TownCentre("Chelmsford", 570_800, 206_900, 3_000),
    TownCentre("Luton", 509_000, 221_300, 4_000),
    TownCentre("Bedford", 505_000, 249_700, 3_000),
    TownCentre("St Albans", 514_700, 207_200, 3_000),
    TownCentre("Maidstone", 576_000, 155_700, 3_000),
    TownCentre("Canterbury", 615_000, 157_800, 3_000),
    TownCentre("King's Lynn", 562_000, 320_000, 3_000),
    TownCentre("Southend-on-Sea", 588_000, 185_500, 3_000),
    TownCentre("Basildon", 571_000, 189_000, 3_000),
    TownCentre("Stevenage", 523_500, 224_500, 3_000),
    TownCentre("Hemel Hempstead", 505_500, 207_000, 3_000),
    TownCentre("Watford", 511_000, 196_500, 3_000),
    TownCentre("Harlow", 544_500, 210_500, 3_000),
    TownCentre("Great Yarmouth", 652_500, 307_500, 3_000),
    TownCentre("Lowestoft", 654_500, 293_000, 3_000),
    TownCentre("Bury St Edmunds", 585_300, 264_200, 3_000),
    TownCentre("Huntingdon", 524_000, 271_700, 2_000),
    TownCentre("Wisbech", 546_200, 309_600, 2_000),
    TownCentre("March", 541_700, 296_900, 1_500),
    TownCentre("Ely", 554_000, 280_300, 1_500),
    TownCentre("Chatteris", 539_300, 286_000, 1_500),
    TownCentre("Whittlesey", 527_000, 297_200, 1_500),
    TownCentre("Downham Market", 561_200, 303_300, 1_500),
    TownCentre("Thetford", 587_000, 283_000, 2_000),
    TownCentre("Brandon", 578_500, 286_500, 1_000),
    TownCentre("Swaffham", 581_800, 309_000, 1_500),
    TownCentre("Fakenham", 592_000, 329_800, 1_500),
    TownCentre("Royston", 535_700, 240_800, 1_500),
    TownCentre("Biggleswade", 519_200, 244_700, 1_500),
    TownCentre("Sudbury", 587_400, 241_200, 1_500),
    TownCentre("Hadleigh", 602_600, 242_500, 1_000),
    TownCentre("Great Dunmow", 562_700, 221_900, 1_000),
    TownCentre("Mildenhall", 571_000, 274_500, 1_000),
    TownCentre("Sheerness", 592_000, 175_000, 2_000),
    TownCentre("Sittingbourne", 590_500, 163_500, 2_000),
)

#: Hostile-looking note texts that the product must show verbatim, never run.
HOSTILE_NOTES: tuple[str, ...] = (
    "<img src=x onerror=alert(1)>",
    '=HYPERLINK("http://x","click")',
    "<script>alert(1)</script>",
    "Crop damage estimated at £2,500 by the landowner",
    "Reported by Renée from the café on the fen road",
)

_ABBR: dict[str, str] = {
    "Cambridgeshire": "CAM",
    "Norfolk": "NFK",
    "Suffolk": "SFK",
    "Bedfordshire": "BED",
    "Hertfordshire": "HRT",
    "Essex": "ESX",
    "Kent": "KNT",
}

# Main roads as (name, [(place, easting, northing), ...]) waypoint polylines.
_ROADS: tuple[tuple[str, tuple[tuple[str, float, float], ...]], ...] = (
    ("A11", (("Great Chesterford", 550_500, 243_000), ("Six Mile Bottom", 557_500, 257_000),
             ("Newmarket", 564_500, 263_500), ("Barton Mills", 571_500, 274_000),
             ("Elveden", 582_000, 280_000), ("Thetford", 587_000, 283_500),
             ("Attleborough", 604_500, 295_500), ("Wymondham", 611_000, 301_000),
             ("Norwich", 619_000, 304_500))),
    ("M11", (("Harlow", 546_000, 208_500), ("Bishop's Stortford", 549_000, 221_000),
             ("Stansted", 551_000, 228_000), ("Duxford", 548_000, 246_000),
             ("Cambridge", 541_500, 257_000), ("Girton", 541_500, 262_500))),
    ("A14", (("Catworth", 509_000, 274_500), ("Ellington", 516_000, 272_000),
             ("Huntingdon", 524_000, 270_000), ("Bar Hill", 538_000, 263_500),
             ("Milton", 547_000, 262_500), ("Newmarket", 565_000, 264_500),
             ("Bury St Edmunds", 585_000, 265_500), ("Stowmarket", 605_000, 258_500),
             ("Ipswich", 614_500, 241_500), ("Felixstowe", 628_000, 236_000))),
    ("A47", (("Wansford", 508_500, 299_500), ("Peterborough", 519_000, 301_500),
             ("Thorney", 528_000, 304_000), ("Guyhirn", 540_000, 303_500),
             ("Wisbech", 546_000, 308_000), ("King's Lynn", 564_500, 317_500),
             ("Swaffham", 582_000, 309_500), ("Dereham", 598_000, 312_000),
             ("Norwich", 619_000, 311_500), ("Acle", 640_000, 310_000),
             ("Great Yarmouth", 650_500, 307_500))),
    ("A10", (("Ware", 536_000, 214_500), ("Buntingford", 536_000, 229_500),
             ("Royston", 536_000, 241_500), ("Harston", 542_500, 251_000),
             ("Cambridge", 544_500, 261_000), ("Ely", 553_500, 279_000),
             ("Littleport", 557_000, 287_000), ("Downham Market", 561_000, 302_500),
             ("King's Lynn", 562_500, 316_500))),
    ("A12", (("Brentwood", 560_000, 193_500), ("Chelmsford", 572_000, 208_500),
             ("Kelvedon", 586_000, 218_500), ("Colchester", 597_500, 226_500),
             ("Stratford St Mary", 604_000, 234_000), ("Ipswich", 613_000, 243_500),
             ("Wickham Market", 630_000, 256_000), ("Saxmundham", 638_000, 263_000),
             ("Lowestoft", 653_000, 290_500))),
    ("A120", (("Bishop's Stortford", 549_500, 221_500), ("Great Dunmow", 562_500, 221_000),
              ("Braintree", 575_500, 222_500), ("Marks Tey", 591_500, 224_000),
              ("Colchester", 602_000, 226_000), ("Harwich", 621_000, 230_500))),
    ("A1(M)", (("South Mimms", 522_500, 200_500), ("Hatfield", 522_500, 209_000),
               ("Stevenage", 524_500, 224_000), ("Baldock", 524_500, 234_000),
               ("Biggleswade", 520_000, 244_500), ("Sandy", 517_500, 249_500),
               ("St Neots", 519_500, 260_000), ("Alconbury", 519_000, 276_500),
               ("Norman Cross", 516_000, 291_000))),
    ("A505", (("Luton", 511_000, 223_000), ("Hitchin", 518_500, 229_000),
              ("Baldock", 525_000, 234_000), ("Royston", 535_000, 240_000),
              ("Duxford", 547_500, 245_000))),
    ("A2/M2", (("Dartford", 554_500, 173_500), ("Gravesend", 565_000, 172_000),
               ("Rochester", 573_000, 167_500), ("Sittingbourne", 590_000, 161_500),
               ("Faversham", 600_000, 160_000), ("Canterbury", 616_000, 156_500),
               ("Dover", 630_000, 143_000))),
    ("A249", (("Detling", 579_000, 158_500), ("Sittingbourne", 589_000, 165_500),
              ("Isle of Sheppey", 593_500, 171_500))),
    ("A134", (("Colchester", 598_500, 228_500), ("Sudbury", 588_000, 239_500),
              ("Long Melford", 586_000, 246_000), ("Bury St Edmunds", 585_500, 262_000),
              ("Thetford", 587_500, 281_500), ("Northwold", 576_000, 297_000))),
    ("A141", (("Huntingdon", 526_000, 273_000), ("Chatteris", 540_000, 285_000),
              ("March", 542_500, 296_000), ("Guyhirn", 540_500, 303_500))),
    ("A148", (("King's Lynn", 565_500, 321_000), ("Fakenham", 592_000, 331_000),
              ("Holt", 608_000, 338_500), ("Cromer", 621_000, 341_000))),
    ("A421", (("Bedford", 507_500, 247_500), ("Black Cat", 516_500, 254_500),
              ("Cambourne", 532_000, 259_500))),
    ("A282", (("Thurrock", 558_500, 180_500), ("Dartford Crossing", 556_500, 174_500))),
)

# Where travelling groups enter the region (origins of their journeys).
_ENTRY_POINTS: tuple[tuple[str, float, float], ...] = (
    ("A1 Wansford", 508_000, 298_500),
    ("A14 Catworth", 508_500, 274_500),
    ("M1 junction 13", 497_000, 237_500),
    ("M1 Dunstable", 501_500, 222_000),
    ("M25 South Mimms", 522_500, 200_000),
    ("M11 Harlow", 545_500, 206_500),
    ("A12 Brentwood", 559_500, 193_000),
    ("A282 Thurrock", 558_500, 181_000),
    ("M20 Maidstone", 575_000, 159_000),
    ("A17 Long Sutton", 543_000, 322_000),
    ("A47 Great Yarmouth", 650_000, 307_000),
)

_NUM_CAMERAS = 120
_NUM_GROUPS = 40
_GROUP_SHARE = 0.38
_PAIRS_PER_SEASON = 20
_NUM_COMMUTERS = 1_500
_BACKGROUND_SHARE = 0.08
_TOWN_MARGIN_M = 10.0

# Month weights, September first: 85 % from September to March, peak Oct-Jan.
_MONTH_WEIGHTS = np.array([10, 15, 15, 14, 14, 10, 7, 2, 1, 1, 4, 7], dtype="float64")
_MONTH_ORDER = np.array([9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8])
# Approximate sunrise / sunset (London clock hours) for months 1..12.
_SUNRISE_H = np.array([8.0, 7.3, 6.3, 6.2, 5.3, 4.8, 5.0, 5.8, 6.7, 7.2, 7.2, 7.9])
_SUNSET_H = np.array([16.3, 17.2, 18.0, 19.8, 20.7, 21.3, 21.2, 20.3, 19.2, 17.8, 16.3, 15.9])

_PLATE_FIRST = np.array(list("ABCDEFGHKLMNOPRSTVWY"))
_PLATE_LETTERS = np.array(list("ABCDEFGHJKLMNOPRSTUVWXY"))
_PLATE_AGES = np.array([f"{a:02d}" for a in [*range(5, 21), *range(55, 71)]])

_DOGS = np.array(["", "1 lurcher", "2 lurchers", "3 lurchers", "2 dogs", "greyhound x2",
                  "saluki", "4 dogs, sighthound type", "Unknown"])
_DOGS_P = np.array([0.18, 0.14, 0.22, 0.08, 0.12, 0.08, 0.05, 0.05, 0.08])
_OUTCOMES = np.array(["Words of advice given", "Community Protection Warning issued",
                      "Community Protection Notice issued", "Vehicle seized (s.59)",
                      "Dispersal order (s.35)", "Report for summons", "Arrested",
                      "No trace on arrival", "Suspects left before police arrival",
                      "Intelligence report submitted"])
_OUTCOMES_P = np.array([0.14, 0.10, 0.05, 0.05, 0.06, 0.04, 0.04, 0.24, 0.20, 0.08])
_NOTES = np.array([
    "",
    "Vehicle driving across stubble field, dogs released after hares",
    "Landowner reports group walking the field edge with dogs at dawn",
    "Lamping reported, lights seen sweeping across fields",
    "4x4 parked in field gateway, men with lurchers nearby",
    "Hares seen chased by dogs, vehicle left towards the main road",
    "Gate damaged, tyre tracks across drilled field",
    "Threats made to farmer when challenged",
    "Drone seen filming the dogs, possible betting",
    "Dead hare found near field entrance",
    "Crop damage, farmer estimates £800",
])
_NOTES_P = np.array([0.2, 0.12, 0.1, 0.08, 0.1, 0.1, 0.08, 0.06, 0.04, 0.06, 0.06])


@dataclass(frozen=True, eq=False)
class DemoData:
    """A synthetic scenario as the raw files a user would load.

    Attributes
    ----------
    incidents_raw : DataFrame
        One row per incident, every column text (see ``INCIDENT_RAW_COLUMNS``);
        times are UK ``dd/mm/yyyy HH:MM`` Europe/London local; each row gives its
        location as ``Latitude``/``Longitude``, ``Easting``/``Northing`` (metres)
        or ``Grid Ref`` (10-figure OS grid reference), the others empty.
    sightings_raw : DataFrame
        ANPR reads, every column text: ``vrm``, ``read_at`` (ISO 8601 with UTC
        offset), ``lat``, ``lon`` (WGS84 degrees), ``camera_id``.
    cameras : DataFrame
        ``camera_id``, ``lat``, ``lon`` (floats, WGS84 degrees), ``force``,
        ``site_name``.
    seed : int
        Seed the scenario was generated from.
    """

    incidents_raw: pd.DataFrame
    sightings_raw: pd.DataFrame
    cameras: pd.DataFrame
    seed: int


# --------------------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=2)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _transformer(BNG, WGS84).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def _to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = _transformer(WGS84, BNG).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def _choice_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Sample one column index per row of a non-negative weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _seven_lookup(areas: ForceAreas) -> tuple[np.ndarray, np.ndarray]:
    """(is-one-of-the-seven per gdf row, force names per gdf row)."""
    gdf = areas.gdf
    return gdf["in_agreement"].to_numpy(dtype=bool), gdf["force"].astype(str).to_numpy()


def _near_town(x: np.ndarray, y: np.ndarray, margin_m: float = 0.0) -> np.ndarray:
    towns = np.array([(t.easting_m, t.northing_m, t.radius_m) for t in TOWN_CENTRES])
    d2 = (x[:, None] - towns[:, 0]) ** 2 + (y[:, None] - towns[:, 1]) ** 2
    return (d2 < (towns[:, 2] + margin_m) ** 2).any(axis=1)


def _sample_points(
    rng: np.random.Generator,
    areas: ForceAreas,
    centre_x: np.ndarray,
    centre_y: np.ndarray,
    spread_m: np.ndarray,
    *,
    avoid_towns: bool = True,
    max_rounds: int = 500,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rejection-sample whole-metre points inside the seven forces.

    Rows with a NaN centre are drawn uniformly over the seven forces' bounding
    box. The loop runs over rounds (redrawing only the rejected points), not rows.
    """
    n = centre_x.size
    seven, _ = _seven_lookup(areas)
    xmin, ymin, xmax, ymax = areas.seven.total_bounds
    x = np.empty(n)
    y = np.empty(n)
    force = np.full(n, -1, dtype="int64")
    todo = np.arange(n)
    for _ in range(max_rounds):
        if todo.size == 0:
            break
        cx, cy, s = centre_x[todo], centre_y[todo], spread_m[todo]
        uniform = np.isnan(cx)
        px = np.where(uniform, rng.uniform(xmin, xmax, todo.size), cx + rng.normal(0, 1, todo.size) * s)
        py = np.where(uniform, rng.uniform(ymin, ymax, todo.size), cy + rng.normal(0, 1, todo.size) * s)
        px, py = np.round(px), np.round(py)
        idx = assign_force(areas, px, py)
        ok = idx >= 0
        ok[ok] = seven[idx[ok]]
        if avoid_towns:
            ok &= ~_near_town(px, py, _TOWN_MARGIN_M)
        done = todo[ok]
        x[done], y[done], force[done] = px[ok], py[ok], idx[ok]
        todo = todo[~ok]
    if todo.size:
        raise RuntimeError(f"could not place {todo.size} demo points inside the seven forces")
    return x, y, force


def _make_plates(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct random plates in the current UK format, e.g. ``AB12CDE``."""
    m = int(n * 1.2) + 16
    parts = [
        _PLATE_FIRST[rng.integers(0, _PLATE_FIRST.size, m)],
        _PLATE_LETTERS[rng.integers(0, _PLATE_LETTERS.size, m)],
        _PLATE_AGES[rng.integers(0, _PLATE_AGES.size, m)],
        *(_PLATE_LETTERS[rng.integers(0, _PLATE_LETTERS.size, m)] for _ in range(3)),
    ]
    plates = pd.Series(parts[0], dtype=object)
    for p in parts[1:]:
        plates = plates + p
    uniq = pd.unique(plates.to_numpy())
    if uniq.size < n:  # pragma: no cover - astronomically unlikely
        raise RuntimeError("plate space exhausted")
    return np.asarray(uniq[:n], dtype=object)


def _make_nominals(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct nominal ids ``N`` + 7 digits."""
    draws = pd.unique(rng.integers(1_000_000, 10_000_000, int(n * 1.2) + 16))
    if draws.size < n:  # pragma: no cover
        raise RuntimeError("nominal id space exhausted")
    return ("N" + pd.Series(draws[:n]).astype(str)).to_numpy(dtype=object)


def _season_days(label: str) -> tuple[np.ndarray, np.ndarray]:
    """Days of a Sep-Aug season (datetime64[D]) and their sampling probabilities."""
    y0 = _SEASON_START_YEAR[label]
    days = np.arange(np.datetime64(f"{y0}-09-01"), np.datetime64(f"{y0 + 1}-09-01"))
    months = pd.DatetimeIndex(days).month.to_numpy()
    weekday = pd.DatetimeIndex(days).day_of_week.to_numpy()
    month_w = dict(zip(_MONTH_ORDER.tolist(), _MONTH_WEIGHTS.tolist(), strict=True))
    w = np.select([weekday >= 5, weekday == 4], [2.0, 1.2], 1.0)
    # weekend-heavy within each month, month shares exactly as weighted
    month_sum = pd.Series(w).groupby(months).transform("sum").to_numpy()
    p = w / month_sum * np.array([month_w[m] for m in range(1, 13)])[months - 1]
    return days, p / p.sum()


def _times_of_day_h(rng: np.random.Generator, months: np.ndarray) -> np.ndarray:
    """Hours (float, London clock) from a dawn / dusk / day / night mixture."""
    n = months.size
    kind = rng.choice(4, size=n, p=[0.35, 0.30, 0.22, 0.13])
    dawn = _SUNRISE_H[months - 1] + 0.3 + rng.normal(0, 0.9, n)
    dusk = _SUNSET_H[months - 1] - 0.2 + rng.normal(0, 0.9, n)
    day = rng.uniform(9.5, 16.0, n)
    night = rng.uniform(21.0, 29.0, n)
    h = np.choose(kind, [dawn, dusk, day, night])
    return np.mod(h, 24.0)


def _dst_safe(local: np.ndarray) -> np.ndarray:
    """Move local times in the 01:00-02:00 hour of clock-change days to 03:xx."""
    idx = pd.DatetimeIndex(local)
    changes = pd.DatetimeIndex(["2020-10-25", "2021-03-28", "2021-10-31", "2022-03-27"])
    bad = idx.normalize().isin(changes) & (idx.hour < 3) & (idx.hour >= 1)
    return np.where(bad, local + np.timedelta64(2, "h"), local)


def _grid_refs(x: np.ndarray, y: np.ndarray) -> pd.Series:
    """10-figure OS grid references, e.g. ``TL 45123 67890``, for whole-metre BNG points."""
    xi = x.astype("int64")
    yi = y.astype("int64")
    e100, n100 = xi // 100_000, yi // 100_000
    l1 = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    l2 = (19 - n100) * 5 % 25 + e100 % 5
    letters = np.array(list("ABCDEFGHJKLMNOPQRSTUVWXYZ"))
    sq = pd.Series(letters[l1], dtype=object) + letters[l2]
    ee = pd.Series(xi % 100_000).astype(str).str.zfill(5)
    nn = pd.Series(yi % 100_000).astype(str).str.zfill(5)
    return sq + " " + ee + " " + nn


def _plate_display(rng: np.random.Generator, plates: np.ndarray) -> np.ndarray:
    """Plates as people type them: ``AB12 CDE``, ``AB12CDE``, ``ab12 cde``, ``Ab12 cde``."""
    s = pd.Series(plates, dtype=object)
    spaced = s.str[:4] + " " + s.str[4:]
    style = rng.choice(4, size=s.size, p=[0.5, 0.25, 0.15, 0.1])
    out = np.select(
        [style == 0, style == 1, style == 2],
        [spaced, s, spaced.str.lower()],
        spaced.str[:1] + spaced.str[1:].str.lower(),
    )
    return np.asarray(out, dtype=object)


def _join_slots(texts: list[np.ndarray], sep: str) -> np.ndarray:
    """Join per-slot text arrays row-wise with ``sep``, skipping empty strings."""
    out = pd.Series(texts[0], dtype=object)
    for t in texts[1:]:  # loop over slots (2-3), not rows
        v = pd.Series(t, dtype=object)
        glue = np.where((v != "") & (out != ""), sep, "")
        out = out + glue + v
    return out.to_numpy(dtype=object)


def _slot_text(values: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """``values[slot]`` with ``""`` where ``slot`` is -1."""
    return np.where(slot >= 0, values[np.maximum(slot, 0)], "").astype(object)


def _ragged_arange(lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(l)`` for each l in ``lengths``."""
    lengths = np.asarray(lengths, dtype="int64")
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total) - starts


# --------------------------------------------------------------------------- cameras


def _make_cameras(rng: np.random.Generator, areas: ForceAreas) -> pd.DataFrame:
    """ANPR cameras spread along the main roads, inside the seven forces."""
    seg_road, seg_x0, seg_y0, seg_x1, seg_y1, seg_len, seg_place0, seg_place1 = ([] for _ in range(8))
    road_len = []
    for r, (_, pts) in enumerate(_ROADS):
        arr = np.array([(p[1], p[2]) for p in pts], dtype="float64")
        lens = np.hypot(*np.diff(arr, axis=0).T)
        road_len.append(lens.sum())
        seg_road += [r] * lens.size
        seg_x0 += arr[:-1, 0].tolist()
        seg_y0 += arr[:-1, 1].tolist()
        seg_x1 += arr[1:, 0].tolist()
        seg_y1 += arr[1:, 1].tolist()
        seg_len += lens.tolist()
        seg_place0 += [p[0] for p in pts[:-1]]
        seg_place1 += [p[0] for p in pts[1:]]
    road_len = np.array(road_len)
    n_per_road = np.maximum(2, np.round(_NUM_CAMERAS * road_len / road_len.sum())).astype("int64")
    cam_road = np.repeat(np.arange(len(_ROADS)), n_per_road)
    frac = (_ragged_arange(n_per_road) + 0.5) / n_per_road[cam_road]
    seg_road_a = np.array(seg_road)
    seg_len_a = np.array(seg_len)
    seg_cum = pd.Series(seg_len_a).groupby(seg_road_a).cumsum().to_numpy()
    n = cam_road.size
    x = np.empty(n)
    y = np.empty(n)
    pos = np.empty(n)
    force = np.full(n, -1, dtype="int64")
    seg_of = np.empty(n, dtype="int64")
    seven, names = _seven_lookup(areas)
    todo = np.arange(n)
    for attempt in range(200):
        if todo.size == 0:
            break
        jitter = rng.uniform(-0.45, 0.45, todo.size) if attempt else rng.uniform(-0.2, 0.2, todo.size)
        f = np.clip(frac[todo] + jitter / n_per_road[cam_road[todo]], 0.0, 1.0)
        d = f * road_len[cam_road[todo]]
        # segment containing distance d along its road
        seg = np.empty(todo.size, dtype="int64")
        for r in np.unique(cam_road[todo]):  # loop over roads (~16), not cameras
            m = cam_road[todo] == r
            idx_r = np.flatnonzero(seg_road_a == r)
            k = np.searchsorted(seg_cum[idx_r], d[m], side="left")
            seg[m] = idx_r[np.minimum(k, idx_r.size - 1)]
        t = 1.0 - (seg_cum[seg] - d) / seg_len_a[seg]
        t = np.clip(t, 0.0, 1.0)
        px = np.round(np.array(seg_x0)[seg] + t * (np.array(seg_x1)[seg] - np.array(seg_x0)[seg]))
        py = np.round(np.array(seg_y0)[seg] + t * (np.array(seg_y1)[seg] - np.array(seg_y0)[seg]))
        lon, lat = _to_lonlat(px, py)
        lon, lat = np.round(lon, 6), np.round(lat, 6)
        bx, by = _to_bng(lon, lat)
        idx = assign_force(areas, px, py)
        ok = (idx >= 0) & (assign_force(areas, bx, by) == idx)
        ok[ok] = seven[idx[ok]]
        done = todo[ok]
        x[done], y[done], force[done], pos[done], seg_of[done] = px[ok], py[ok], idx[ok], d[ok], seg[ok]
        todo = todo[~ok]
    keep = force >= 0  # cameras that never landed inside (none in practice) are dropped
    x, y, force, pos, seg_of, cam_road = x[keep], y[keep], force[keep], pos[keep], seg_of[keep], cam_road[keep]
    lon, lat = _to_lonlat(x, y)
    road_names = np.array([r[0] for r in _ROADS], dtype=object)
    frac_seg = 1.0 - (seg_cum[seg_of] - pos) / seg_len_a[seg_of]
    place = np.where(frac_seg < 0.5, np.array(seg_place0, dtype=object)[seg_of],
                     np.array(seg_place1, dtype=object)[seg_of])
    fnames = names[force]
    abbr = pd.Series(fnames).map(_ABBR).to_numpy(dtype=object)
    road_code = pd.Series(road_names[cam_road]).str.replace(r"[^A-Za-z0-9]", "", regex=True)
    cams = pd.DataFrame({
        "road": road_names[cam_road], "road_idx": cam_road, "pos_m": pos,
        "easting": x, "northing": y, "lat": np.round(lat, 6), "lon": np.round(lon, 6),
        "force": fnames, "abbr": abbr, "road_code": road_code.to_numpy(dtype=object),
        "place": place,
    }).sort_values(["road_idx", "pos_m"], kind="stable").reset_index(drop=True)
    k = cams.groupby(["abbr", "road_code"]).cumcount() + 1
    cams["camera_id"] = cams["abbr"] + "-" + cams["road_code"] + "-" + k.astype(str).str.zfill(2)
    cams["site_name"] = cams["road"] + " near " + cams["place"]
    return cams


# --------------------------------------------------------------------------- incidents


def _make_incident_table(rng: np.random.Generator, areas: ForceAreas) -> tuple[pd.DataFrame, dict]:
    """Internal incident table (one row per incident) plus plate / nominal pools."""
    n_areas = len(HOTSPOT_AREAS)
    area_w = np.array([a.weight for a in HOTSPOT_AREAS], dtype="float64")
    area_p = area_w / area_w.sum()
    area_force = np.array([a.force for a in HOTSPOT_AREAS], dtype=object)
    n_entry = len(_ENTRY_POINTS)

    # --- offender groups: vehicles, nominals, areas, origin
    g = _NUM_GROUPS
    g_nveh = rng.choice([1, 2, 3], size=g, p=[0.4, 0.4, 0.2])
    g_nnom = rng.integers(2, 6, g)
    g_home = rng.choice(n_areas, size=g, p=area_p)
    hopper = rng.random(g) < 0.55
    other_force = (area_force[None, :] != area_force[g_home][:, None]).astype(float)
    same_force = 1.0 - other_force
    w2 = area_w[None, :] * np.where(hopper[:, None], other_force, same_force)
    g_second = _choice_rows(rng, w2)
    g_third = np.where(hopper & (rng.random(g) < 0.4), rng.choice(n_areas, size=g, p=area_p), -1)
    g_areas = np.stack([g_home, g_second, g_third], axis=1)
    g_origin = rng.integers(0, n_entry, g)

    # pools: plates / nominals are handed out from running counters
    veh_start = np.concatenate([[0], np.cumsum(g_nveh)[:-1]])
    nom_start = np.concatenate([[0], np.cumsum(g_nnom)[:-1]])
    n_plate = int(g_nveh.sum())
    n_nom = int(g_nnom.sum())

    parts = []
    for label, total in SEASON_TOTALS.items():
        n_group = round(total * _GROUP_SHARE)
        n_pair = 2 * _PAIRS_PER_SEASON
        n_one = total - n_group - n_pair
        # group activity this season (some groups are inactive)
        act = rng.gamma(1.5, 1.0, g) * (rng.random(g) > 0.15)
        counts = rng.multinomial(n_group, act / act.sum())
        gid = np.repeat(np.arange(g), counts)
        # area: home / second / third
        aw = np.where(g_areas[gid] >= 0, np.array([0.55, 0.3, 0.15]), 0.0)
        area = g_areas[gid, _choice_rows(rng, aw)]
        # plates: primary vehicle always, sometimes a second from the group
        second = np.where((g_nveh[gid] > 1) & (rng.random(gid.size) < 0.35),
                          1 + (rng.random(gid.size) * (g_nveh[gid] - 1)).astype(int), -1)
        plates = np.stack([veh_start[gid], np.where(second >= 0, veh_start[gid] + second, -1)], axis=1)
        # nominals: 0-3 of the group's 2-5, in random order
        k = rng.choice(4, size=gid.size, p=[0.15, 0.35, 0.35, 0.15])
        k = np.minimum(k, g_nnom[gid])
        keys = rng.random((gid.size, 5))
        keys[np.arange(5)[None, :] >= g_nnom[gid][:, None]] = np.inf
        order = np.argsort(keys, axis=1)[:, :3]
        noms = np.where(np.arange(3)[None, :] < k[:, None], nom_start[gid][:, None] + order, -1)
        grp = pd.DataFrame({"kind": "group", "group": gid, "area": area, "origin": g_origin[gid],
                            "p0": plates[:, 0], "p1": plates[:, 1],
                            "n0": noms[:, 0], "n1": noms[:, 1], "n2": noms[:, 2]})

        # pairs: one vehicle and 1-2 nominals offending exactly twice this season
        npairs = _PAIRS_PER_SEASON
        pair_plate = n_plate + np.arange(npairs)
        n_plate += npairs
        pk = rng.integers(1, 3, npairs)
        pair_nom = n_nom + np.stack([np.arange(npairs) * 2, np.arange(npairs) * 2 + 1], axis=1)
        pair_nom[:, 1] = np.where(pk > 1, pair_nom[:, 1], -1)
        n_nom += 2 * npairs
        a1 = rng.choice(n_areas, size=npairs, p=area_p)
        hop = rng.random(npairs) < 0.6
        w_other = area_w[None, :] * np.where(
            hop[:, None], (area_force[None, :] != area_force[a1][:, None]), np.eye(n_areas)[a1])
        a2 = _choice_rows(rng, w_other)
        origin = rng.integers(0, n_entry, npairs)
        pr = pd.DataFrame({
            "kind": "pair", "group": -1, "area": np.concatenate([a1, a2]),
            "origin": np.tile(origin, 2), "p0": np.tile(pair_plate, 2), "p1": -1,
            "n0": np.tile(pair_nom[:, 0], 2), "n1": np.tile(pair_nom[:, 1], 2), "n2": -1,
        })

        # one-offs: fresh plates (0-2) and nominals (0-3); some outside the hotspots
        area1 = np.where(rng.random(n_one) < _BACKGROUND_SHARE, -1,
                         rng.choice(n_areas, size=n_one, p=area_p))
        kp = rng.choice(3, size=n_one, p=[0.45, 0.45, 0.10])
        kn = rng.choice(4, size=n_one, p=[0.5, 0.25, 0.17, 0.08])
        p_first = n_plate + np.cumsum(kp) - kp
        n_plate += int(kp.sum())
        n_first = n_nom + np.cumsum(kn) - kn
        n_nom += int(kn.sum())
        slot = np.arange(3)[None, :]
        pslots = np.where(slot[:, :2] < kp[:, None], p_first[:, None] + slot[:, :2], -1)
        nslots = np.where(slot < kn[:, None], n_first[:, None] + slot, -1)
        one = pd.DataFrame({"kind": "oneoff", "group": -1, "area": area1,
                            "origin": rng.integers(0, n_entry, n_one),
                            "p0": pslots[:, 0], "p1": pslots[:, 1],
                            "n0": nslots[:, 0], "n1": nslots[:, 1], "n2": nslots[:, 2]})
        part = pd.concat([grp, pr, one], ignore_index=True)
        part["season"] = label
        # dates and times of day (London clock)
        days, p = _season_days(label)
        day = days[rng.choice(days.size, size=len(part), p=p)]
        months = pd.DatetimeIndex(day).month.to_numpy()
        hours = _times_of_day_h(rng, months)
        minutes = np.floor(hours * 60).astype("int64")
        local = day.astype("datetime64[m]") + minutes.astype("timedelta64[m]")
        part["local"] = _dst_safe(local)
        parts.append(part)

    inc = pd.concat(parts, ignore_index=True)

    # --- locations
    has_area = inc["area"].to_numpy() >= 0
    a_idx = np.maximum(inc["area"].to_numpy(), 0)
    cx = np.where(has_area, np.array([a.easting_m for a in HOTSPOT_AREAS])[a_idx], np.nan)
    cy = np.where(has_area, np.array([a.northing_m for a in HOTSPOT_AREAS])[a_idx], np.nan)
    sp = np.where(has_area, np.array([a.spread_m for a in HOTSPOT_AREAS])[a_idx], np.nan)
    x, y, force = _sample_points(rng, areas, cx, cy, sp)
    inc["easting"], inc["northing"], inc["force_idx"] = x, y, force
    inc = inc.sort_values(["local", "easting"], kind="stable").reset_index(drop=True)

    pools = {
        "plates": _make_plates(rng, n_plate + _NUM_COMMUTERS),
        "nominals": _make_nominals(rng, n_nom),
        "n_offender_plates": n_plate,
    }
    return inc, pools


def _location_columns(rng: np.random.Generator, areas: ForceAreas, inc: pd.DataFrame) -> pd.DataFrame:
    """Latitude/Longitude, Easting/Northing or Grid Ref, mixed row by row."""
    n = len(inc)
    x = inc["easting"].to_numpy()
    y = inc["northing"].to_numpy()
    style = rng.choice(3, size=n, p=[0.45, 0.35, 0.20])  # 0 lat/lon, 1 E/N, 2 grid ref
    lon, lat = _to_lonlat(x, y)
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    bx, by = _to_bng(lon, lat)
    # a lat/lon whose rounding would move it across a border falls back to E/N
    moved = (assign_force(areas, bx, by) != inc["force_idx"].to_numpy()) | _near_town(bx, by)
    style = np.where((style == 0) & moved, 1, style)
    empty = np.full(n, "", dtype=object)
    lat_s = pd.Series(lat).astype(str).to_numpy(dtype=object)
    lon_s = pd.Series(lon).astype(str).to_numpy(dtype=object)
    e_s = pd.Series(x.astype("int64")).astype(str).to_numpy(dtype=object)
    n_s = pd.Series(y.astype("int64")).astype(str).to_numpy(dtype=object)
    gr = _grid_refs(x, y).to_numpy(dtype=object)
    return pd.DataFrame({
        "Latitude": np.where(style == 0, lat_s, empty),
        "Longitude": np.where(style == 0, lon_s, empty),
        "Easting": np.where(style == 1, e_s, empty),
        "Northing": np.where(style == 1, n_s, empty),
        "Grid Ref": np.where(style == 2, gr, empty),
    })


def _incidents_raw(rng: np.random.Generator, areas: ForceAreas, inc: pd.DataFrame, pools: dict) -> pd.DataFrame:
    n = len(inc)
    _, names = _seven_lookup(areas)
    force = names[inc["force_idx"].to_numpy()]
    # a few reporting-force mismatches near borders (still valid rows)
    reported = force.astype(object).copy()
    a = inc["area"].to_numpy()
    partner = np.array([h.partner for h in HOTSPOT_AREAS] + [""], dtype=object)[np.where(a >= 0, a, -1)]
    primary = np.array([h.force for h in HOTSPOT_AREAS] + [""], dtype=object)[np.where(a >= 0, a, -1)]
    border_rows = np.flatnonzero(partner != "")
    pick = rng.choice(border_rows, size=min(12, border_rows.size), replace=False)
    reported[pick] = np.where(force[pick] == partner[pick], primary[pick], partner[pick])

    # refs: per reporting force and calendar year, increasing with gaps
    local = pd.DatetimeIndex(inc["local"].to_numpy())
    year = local.year.to_numpy()
    abbr = pd.Series(reported).map(_ABBR)
    step = pd.Series(rng.integers(1, 40, n))
    seq = step.groupby([abbr.to_numpy(), year]).cumsum()
    ref = abbr + "-" + pd.Series(year).astype(str) + "-" + seq.astype(str).str.zfill(5)

    stamp = pd.Series(np.datetime_as_string(inc["local"].to_numpy().astype("datetime64[m]"), unit="m"))
    when = stamp.str[8:10] + "/" + stamp.str[5:7] + "/" + stamp.str[0:4] + " " + stamp.str[11:16]

    plates = pools["plates"]
    vrms = _join_slots(
        [np.where(inc[c] >= 0, _plate_display(rng, _slot_text(plates, inc[c].to_numpy())), "")
         for c in ("p0", "p1")],
        "; ",
    )
    suspects = _join_slots([_slot_text(pools["nominals"], inc[c].to_numpy()) for c in ("n0", "n1", "n2")], ";")

    notes = _NOTES[rng.choice(_NOTES.size, size=n, p=_NOTES_P)].astype(object)
    special = rng.choice(n, size=len(HOSTILE_NOTES), replace=False)
    notes[special] = np.array(HOSTILE_NOTES, dtype=object)

    raw = pd.DataFrame({"Incident Ref": ref.to_numpy(dtype=object), "Date/Time Reported": when.to_numpy(dtype=object)})
    raw = pd.concat([raw, _location_columns(rng, areas, inc)], axis=1)
    raw["Reporting Force"] = reported
    raw["VRMs"] = vrms
    raw["Suspects"] = suspects
    raw["Dogs Seen"] = _DOGS[rng.choice(_DOGS.size, size=n, p=_DOGS_P)].astype(object)
    raw["Outcome"] = _OUTCOMES[rng.choice(_OUTCOMES.size, size=n, p=_OUTCOMES_P)].astype(object)
    raw["Notes"] = notes
    return raw[INCIDENT_RAW_COLUMNS].astype(object)


# --------------------------------------------------------------------------- ANPR reads


def _format_read_at(utc: np.ndarray) -> np.ndarray:
    """ISO 8601 with the Europe/London offset, e.g. ``2020-10-12T06:42:13+01:00``."""
    idx = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(LONDON)
    local = idx.tz_localize(None).to_numpy()
    offset_h = ((local - utc) / np.timedelta64(1, "h")).round().astype("int64")
    text = pd.Series(np.datetime_as_string(local.astype("datetime64[s]"), unit="s"), dtype=object)
    return (text + np.where(offset_h == 1, "+01:00", "+00:00")).to_numpy(dtype=object)


def _offender_reads(
    rng: np.random.Generator, inc: pd.DataFrame, cams: pd.DataFrame, pools: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reads of incident vehicles driving in from their origin and back out."""
    p = np.concatenate([inc["p0"].to_numpy(), inc["p1"].to_numpy()])
    row = np.concatenate([np.arange(len(inc))] * 2)
    kind = inc["kind"].to_numpy()[row]
    keep = (p >= 0) & ((kind != "oneoff") | (rng.random(p.size) < 0.5))
    p, row = p[keep], row[keep]
    ox = np.array([e[1] for e in _ENTRY_POINTS])[inc["origin"].to_numpy()[row]]
    oy = np.array([e[2] for e in _ENTRY_POINTS])[inc["origin"].to_numpy()[row]]
    ix, iy = inc["easting"].to_numpy()[row], inc["northing"].to_numpy()[row]
    utc = (pd.DatetimeIndex(inc["local"].to_numpy()).tz_localize(LONDON).tz_convert("UTC")
           .tz_localize(None).to_numpy())[row]
    cx, cy = cams["easting"].to_numpy(), cams["northing"].to_numpy()
    # distance of every camera from the straight origin -> incident segment
    dx, dy = (ix - ox)[:, None], (iy - oy)[:, None]
    seg_len = np.hypot(dx, dy)
    t = np.clip(((cx[None, :] - ox[:, None]) * dx + (cy[None, :] - oy[:, None]) * dy)
                / np.maximum(seg_len**2, 1.0), 0.0, 1.0)
    d = np.hypot(ox[:, None] + t * dx - cx[None, :], oy[:, None] + t * dy - cy[None, :])
    near = d < 6_000.0
    speed_m_per_h = rng.uniform(55_000, 75_000, p.size)[:, None]
    to_go_h = (1.0 - t) * seg_len / speed_m_per_h
    out_reads = []
    for leg in (0, 1):  # inbound, outbound
        pick = near & (rng.random(near.shape) < (0.75 if leg == 0 else 0.6))
        trip, cam = np.nonzero(pick)
        if leg == 0:
            delta_h = -(to_go_h[trip, cam] + rng.uniform(0.08, 0.5, trip.size))
        else:
            delta_h = to_go_h[trip, cam] + rng.uniform(0.3, 1.5, trip.size)
        at = utc[trip] + (delta_h * 3_600_000).astype("int64").astype("timedelta64[ms]")
        out_reads.append((p[trip], at, cam))
    plates = np.concatenate([r[0] for r in out_reads])
    at = np.concatenate([r[1] for r in out_reads])
    cam = np.concatenate([r[2] for r in out_reads])
    return pools["plates"][plates], at, cam


def _commuter_reads(
    rng: np.random.Generator, cams: pd.DataFrame, pools: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ordinary traffic: weekday runs along one road, often across force borders."""
    m = _NUM_COMMUTERS
    plates = pools["plates"][pools["n_offender_plates"]:pools["n_offender_plates"] + m]
    road = cams["road_idx"].to_numpy()
    road_first = pd.Series(np.arange(len(cams))).groupby(road).min()
    road_count = pd.Series(road).value_counts().sort_index()
    roads = road_count.index.to_numpy()
    r = rng.choice(roads, size=m, p=(road_count / road_count.sum()).to_numpy())
    n_r = road_count.loc[r].to_numpy()
    run = np.minimum(rng.integers(2, 6, m), n_r)
    start = road_first.loc[r].to_numpy() + (rng.random(m) * (n_r - run + 1)).astype("int64")
    reverse = rng.random(m) < 0.5
    # weekdays of the two seasons
    days = np.arange(np.datetime64("2020-09-01"), np.datetime64("2022-09-01"))
    days = days[pd.DatetimeIndex(days).day_of_week.to_numpy() < 5]
    n_days = 1 + rng.poisson(3.0, m)
    who = np.repeat(np.arange(m), n_days)
    day = days[rng.integers(0, days.size, who.size)]
    # morning leg always, evening leg (reversed) usually
    evening = rng.random(who.size) < 0.75
    leg_who = np.concatenate([who, who[evening]])
    leg_day = np.concatenate([day, day[evening]])
    leg_rev = np.concatenate([reverse[who], ~reverse[who[evening]]])
    dep_h = np.concatenate([rng.uniform(6.5, 9.0, who.size), rng.uniform(16.5, 19.0, int(evening.sum()))])
    n_cam = run[leg_who]
    k = _ragged_arange(n_cam)
    leg = np.repeat(np.arange(leg_who.size), n_cam)
    offset = np.where(leg_rev[leg], n_cam[leg] - 1 - k, k)
    cam = start[leg_who][leg] + offset
    hop_min = rng.uniform(5.0, 14.0, leg.size)
    minutes = dep_h[leg] * 60.0 + k * hop_min
    local = leg_day[leg].astype("datetime64[s]") + (minutes * 60).astype("int64").astype("timedelta64[s]")
    utc = (pd.DatetimeIndex(local).tz_localize(LONDON, ambiguous="NaT", nonexistent="shift_forward")
           .tz_convert("UTC").tz_localize(None).to_numpy())
    return plates[leg_who][leg], utc, cam


def _sightings_raw(
    rng: np.random.Generator, inc: pd.DataFrame, cams: pd.DataFrame, pools: dict
) -> pd.DataFrame:
    op, oat, ocam = _offender_reads(rng, inc, cams, pools)
    cp, cat, ccam = _commuter_reads(rng, cams, pools)
    plate = np.concatenate([op, cp])
    at = np.concatenate([oat.astype("datetime64[ms]"), cat.astype("datetime64[ms]")])
    cam = np.concatenate([ocam, ccam])
    # ANPR times are to the second; add jitter to the second
    at = (at + rng.integers(0, 60, at.size).astype("timedelta64[s]")).astype("datetime64[s]")
    order = np.lexsort((cam, plate.astype(str), at))
    plate, at, cam = plate[order], at[order], cam[order]
    # one read per plate, camera and second (overlapping trips on busy days)
    dup = pd.DataFrame({"p": plate, "a": at, "c": cam}).duplicated().to_numpy()
    plate, at, cam = plate[~dup], at[~dup], cam[~dup]
    lat_s = cams["lat"].map("{:.6f}".format).to_numpy(dtype=object)
    lon_s = cams["lon"].map("{:.6f}".format).to_numpy(dtype=object)
    return pd.DataFrame({
        "vrm": plate.astype(object),
        "read_at": _format_read_at(at),
        "lat": lat_s[cam],
        "lon": lon_s[cam],
        "camera_id": cams["camera_id"].to_numpy(dtype=object)[cam],
    })


# --------------------------------------------------------------------------- public API


def make_demo(areas: ForceAreas, seed: int = 0) -> DemoData:
    """Generate the synthetic scenario (see the module docstring).

    Parameters
    ----------
    areas : ForceAreas
        Force boundaries in EPSG:27700; points are kept inside the seven forces.
    seed : int, default 0
        Seed of the random generator: same seed, identical frames.

    Returns
    -------
    DemoData
        Raw incidents (2,044 in 2020-21 and 1,415 in 2021-22, London time),
        raw ANPR reads and the camera list.
    """
    rng = np.random.default_rng(seed)
    cams = _make_cameras(rng, areas)
    inc, pools = _make_incident_table(rng, areas)
    incidents_raw = _incidents_raw(rng, areas, inc, pools)
    sightings_raw = _sightings_raw(rng, inc, cams, pools)
    cameras = cams[["camera_id", "lat", "lon", "force", "site_name"]].reset_index(drop=True)
    return DemoData(incidents_raw=incidents_raw, sightings_raw=sightings_raw, cameras=cameras, seed=int(seed))


def demo_result(areas: ForceAreas, seed: int = 0) -> tuple[ValidationResult, ValidationResult]:
    """Validate the demo files as if a user had loaded them.

    Returns
    -------
    tuple of ValidationResult
        ``(incidents, sightings)`` from ``geo.incidents.validate_incidents`` and
        ``geo.sightings.validate_sightings``; both have no rejects.
    """
    from geo.validate.incidents import validate_incidents
    from geo.validate.sightings import validate_sightings

    data = make_demo(areas, seed)
    return validate_incidents(data.incidents_raw, areas), validate_sightings(data.sightings_raw, areas)


def load_or_demo(
    data_dir: str | os.PathLike, areas: ForceAreas, *, seed: int = 0
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, bool]:
    """The store's incidents and sightings; the demo scenario when the store holds no incidents.

    Parameters
    ----------
    data_dir : path
        The store (``Settings.data_dir``).
    areas : ForceAreas
        Police force areas (the demo is generated and validated in them).
    seed : int
        Seed of the demo scenario (``Settings.demo_seed``).

    Returns
    -------
    (incidents, sightings, demo)
        Accepted incidents and ANPR reads (EPSG:27700; sightings None when the
        store has none) and whether they are synthetic (:data:`DEMO_NOTICE`): the
        generated demo, or stored rows whose ingest was logged as synthetic
        (``geo.io.provenance.store_has_synthetic``).
    """
    from geo.io.provenance import store_has_synthetic
    from geo.io.store.read import read_incidents, read_sightings

    inc = read_incidents(Path(data_dir)) if Path(data_dir).is_dir() else None
    if inc is not None and len(inc):
        return inc, read_sightings(Path(data_dir)), store_has_synthetic(data_dir)
    inc, sig = _demo_frames(areas, seed)
    return inc, sig, True


def _demo_frames(areas: ForceAreas, seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The demo's accepted incidents and reads, from the user cache when it has them (keyed by
    the seed and the boundary file's SHA-256; about 1 s to build), else built and stored."""
    from geo.io.cache import cache_folder, cached_frames, content_key, file_sha256

    def build() -> dict[str, object]:
        inc_res, sig_res = demo_result(areas, seed=seed)
        return {"incidents": pd.DataFrame(inc_res.accepted).drop(columns=["geometry"]),
                "sightings": pd.DataFrame(sig_res.accepted).drop(columns=["geometry"])}

    digest = file_sha256(areas.source)
    folder = cache_folder("demo")
    if digest is None or folder is None:
        got = build()
    else:
        got = cached_frames(folder, content_key("demo", int(seed), digest), build)
    return _with_points(got["incidents"]), _with_points(got["sightings"])


def _with_points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """``frame`` with its point geometry (EPSG:27700) from ``easting``/``northing``."""
    import geopandas as gpd

    geom = gpd.points_from_xy(frame["easting"], frame["northing"], crs=BNG)
    return gpd.GeoDataFrame(frame, geometry=geom, crs=BNG)


def write_demo(out_dir: str | os.PathLike, areas: ForceAreas, seed: int = 0) -> dict[str, Path]:
    """Write ``incidents.csv``, ``sightings.csv`` and ``cameras.csv`` (UTF-8).

    The incidents and sightings files carry a ``source`` column reading
    ``harewatch synthetic demo`` (``geo.io.provenance.SYNTHETIC_SOURCE``):
    ingested into a store, they are logged as synthetic and the dashboard keeps
    showing the demo banner.

    Parameters
    ----------
    out_dir : path-like
        Directory, created if missing; existing demo files are overwritten.
    areas : ForceAreas
        Force boundaries in EPSG:27700.
    seed : int, default 0
        Seed of the scenario.

    Returns
    -------
    dict of str to Path
        ``{"incidents": ..., "sightings": ..., "cameras": ...}``.
    """
    from geo.io.provenance import SOURCE_COLUMN, SYNTHETIC_SOURCE

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = make_demo(areas, seed)
    paths = {name: out / f"{name}.csv" for name in ("incidents", "sightings", "cameras")}
    # the marker the ingest recognises (geo.io.provenance): demo rows stay marked as demo in a store
    data.incidents_raw.assign(**{SOURCE_COLUMN: SYNTHETIC_SOURCE}).to_csv(paths["incidents"], index=False,
                                                                          encoding="utf-8")
    data.sightings_raw.assign(**{SOURCE_COLUMN: SYNTHETIC_SOURCE}).to_csv(paths["sightings"], index=False,
                                                                          encoding="utf-8")
    data.cameras.to_csv(paths["cameras"], index=False, encoding="utf-8")
    return paths


def make_bad_rows_example() -> pd.DataFrame:
    """A small raw incident file with one row of each kind of problem.

    Rows (1-based): 1 and 2 valid; 3 missing time; 4 impossible date
    (31/02/2021); 5 unreadable coordinates; 6 latitude out of range; 7 outside
    the region (Edinburgh); 8 duplicate of row 1's id; 9 missing id.

    Returns
    -------
    DataFrame
        Text columns ``INCIDENT_RAW_COLUMNS``.
    """
    rows = [
        ("CAM-2021-00001", "14/10/2021 06:45", "52.5650", "0.0900", "", "", "", "Cambridgeshire", "AB12 CDE", "N1000001", "2 lurchers", "No trace on arrival", "Valid row"),
        ("NFK-2021-00002", "16/10/2021 17:30", "", "", "561500", "298000", "", "Norfolk", "", "", "", "Words of advice given", "Valid row"),
        ("SFK-2021-00003", "", "52.2800", "0.8000", "", "", "", "Suffolk", "", "", "", "", "Missing time"),
        ("ESX-2021-00004", "31/02/2021 07:10", "51.8700", "0.4300", "", "", "", "Essex", "", "", "", "", "No 31 February"),
        ("HRT-2021-00005", "20/10/2021 18:05", "fifty-two", "0.01", "", "", "", "Hertfordshire", "", "", "", "", "Unreadable latitude"),
        ("BED-2021-00006", "21/10/2021 07:20", "95.0", "-0.25", "", "", "", "Bedfordshire", "", "", "", "", "Latitude out of range"),
        ("KNT-2021-00007", "22/10/2021 16:50", "55.9533", "-3.1883", "", "", "", "Kent", "", "", "", "", "Edinburgh: outside the region"),
        ("CAM-2021-00001", "23/10/2021 07:00", "52.4500", "0.0500", "", "", "", "Cambridgeshire", "", "", "", "", "Duplicate of row 1's id"),
        ("", "24/10/2021 06:55", "", "", "", "", "TL 41234 89012", "Cambridgeshire", "", "", "", "", "Missing id"),
    ]
    return pd.DataFrame(rows, columns=INCIDENT_RAW_COLUMNS, dtype=object)
