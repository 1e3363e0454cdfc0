"""Test data factories: the one place tests build incidents, ANPR reads and times.

Every factory returns frames in the canonical shape of ``geo.schema``
(``INCIDENT_COLUMNS`` / ``SIGHTING_COLUMNS`` + point geometry, EPSG:27700),
filling the columns a test does not care about with neutral values, so that a
test states only what matters to its answer. Import as ``from factories import
...`` (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.schema import BNG, INCIDENT_COLUMNS, INCIDENT_DEFAULTS, SEVEN_FORCES, SIGHTING_COLUMNS

#: Hand-made input files in the published layouts.
FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: A point well inside each force (British National Grid metres).
CENTRES: dict[str, tuple[float, float]] = {
    "Cambridgeshire": (545000.0, 258000.0),
    "Norfolk": (620000.0, 300000.0),
    "Suffolk": (615000.0, 260000.0),
    "Bedfordshire": (505000.0, 240000.0),
    "Hertfordshire": (520000.0, 215000.0),
    "Essex": (575000.0, 205000.0),
    "Kent": (600000.0, 150000.0),
    "Lincolnshire": (510000.0, 370000.0),
    "Northamptonshire": (475000.0, 265000.0),
}

_SEVEN = set(SEVEN_FORCES.values())
_TEXT_DEFAULTS = ("force_code", "reported_force", "vrms", "nominals", "dogs", "outcome", "notes")


def T(s: str) -> pd.Timestamp:
    """A UTC timestamp from ISO-ish text."""
    return pd.Timestamp(s, tz="UTC")


def utc(*values: str) -> pd.Series:
    """A Series of UTC timestamps."""
    return pd.Series(pd.to_datetime(list(values), utc=True))


def _column(value: Any, n: int) -> list:
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray | pd.Series):
        return [value] * n
    return list(value)


def incidents(n: int | None = None, *, index: Sequence[int] | None = None, **columns: Any) -> gpd.GeoDataFrame:
    """Accepted incidents from any subset of ``INCIDENT_COLUMNS``.

    Missing columns get: ids ``I1..In``, easting/northing at the force's
    :data:`CENTRES` point (Cambridgeshire when no force), ``in_agreement`` from
    the force, ``force_mismatch`` False, empty text and rows ``1..n``.
    Times are parsed as UTC.
    """
    n = n if n is not None else len(next(v for v in columns.values() if not isinstance(v, str)))
    data: dict[str, list] = {k: _column(v, n) for k, v in columns.items()}
    data.setdefault("incident_id", [f"I{i}" for i in range(1, n + 1)])
    data.setdefault("force", ["Cambridgeshire"] * n)
    data.setdefault("easting", [CENTRES.get(f, CENTRES["Cambridgeshire"])[0] for f in data["force"]])
    data.setdefault("northing", [CENTRES.get(f, CENTRES["Cambridgeshire"])[1] for f in data["force"]])
    data.setdefault("in_agreement", [f in _SEVEN for f in data["force"]])
    data.setdefault("force_mismatch", [False] * n)
    data.setdefault("source_row", list(range(1, n + 1)))
    for c in _TEXT_DEFAULTS:
        data.setdefault(c, [""] * n)
    for c, default in INCIDENT_DEFAULTS.items():
        data.setdefault(c, [default] * n)
    df = pd.DataFrame(data, index=index)
    df["occurred_at"] = pd.to_datetime(df["occurred_at"], utc=True, format="ISO8601") if "occurred_at" in df else pd.NaT
    df["easting"] = df["easting"].astype("float64")
    df["northing"] = df["northing"].astype("float64")
    df = df[INCIDENT_COLUMNS + [c for c in df.columns if c not in INCIDENT_COLUMNS]]
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["easting"], df["northing"]), crs=BNG)


def incident_rows(rows: Sequence[tuple], columns: Sequence[str], **extra: Any) -> gpd.GeoDataFrame:
    """:func:`incidents` from row tuples whose fields are named by ``columns``."""
    cols: Mapping[str, list] = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    return incidents(len(rows), **cols, **extra)


def reads(n: int | None = None, **columns: Any) -> gpd.GeoDataFrame:
    """Accepted ANPR reads from any subset of ``SIGHTING_COLUMNS`` (defaults as :func:`incidents`)."""
    n = n if n is not None else len(next(v for v in columns.values() if not isinstance(v, str)))
    data: dict[str, list] = {k: _column(v, n) for k, v in columns.items()}
    data.setdefault("force", ["Cambridgeshire"] * n)
    data.setdefault("easting", [CENTRES.get(f, CENTRES["Cambridgeshire"])[0] for f in data["force"]])
    data.setdefault("northing", [CENTRES.get(f, CENTRES["Cambridgeshire"])[1] for f in data["force"]])
    data.setdefault("force_code", [""] * n)
    data.setdefault("in_agreement", [f in _SEVEN for f in data["force"]])
    data.setdefault("camera_id", [""] * n)
    data.setdefault("source_row", list(range(1, n + 1)))
    df = pd.DataFrame(data)
    df["read_at"] = pd.to_datetime(df["read_at"], utc=True, format="ISO8601")
    df["easting"] = df["easting"].astype("float64")
    df["northing"] = df["northing"].astype("float64")
    df = df[SIGHTING_COLUMNS + [c for c in df.columns if c not in SIGHTING_COLUMNS]]
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["easting"], df["northing"]), crs=BNG)


def read_rows(rows: Sequence[tuple], columns: Sequence[str], **extra: Any) -> gpd.GeoDataFrame:
    """:func:`reads` from row tuples whose fields are named by ``columns``."""
    cols: Mapping[str, list] = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    return reads(len(rows), **cols, **extra)


def casework_incidents(rows: Sequence[tuple]) -> gpd.GeoDataFrame:
    """rows: (incident_id, occurred_at ISO UTC, force, vrms, nominals[, easting, northing])."""
    return incident_rows(
        [r[:5] for r in rows], ("incident_id", "occurred_at", "force", "vrms", "nominals"),
        easting=[float(r[5]) if len(r) > 5 else 560000.0 + i * 1000.0 for i, r in enumerate(rows)],
        northing=[float(r[6]) if len(r) > 6 else 260000.0 for r in rows],
        dogs="2", outcome="left area")


def casework_reads(rows: Sequence[tuple]) -> pd.DataFrame:
    """rows: (vrm, read_at ISO UTC, force, camera_id[, easting, northing]) as a plain frame."""
    gdf = read_rows([r[:4] for r in rows], ("vrm", "read_at", "force", "camera_id"),
                    easting=[float(r[4]) if len(r) > 4 else 560000.0 for r in rows],
                    northing=[float(r[5]) if len(r) > 5 else 260000.0 for r in rows])
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    return df.assign(read_at=df["read_at"].dt.as_unit("us")).astype(
        {"vrm": "str", "force": "str", "camera_id": "str"})


def interactions(rows: Sequence[tuple]) -> pd.DataFrame:
    """rows: (vrm, person, type, force, when (UK local or ISO), reference, incident, note);
    validated like an imported file (every row must be accepted)."""
    from geo.casework.interactions import validate_interactions

    raw = pd.DataFrame(rows, columns=["VRM", "Person ID", "Action", "Force", "Date/Time",
                                      "Reference", "Incident", "Notes"], dtype="str")
    result = validate_interactions(raw)
    assert result.rejects.empty and not result.file_problems, result.to_report()
    return result.accepted


def casework_store(data_dir: Path, incident_rows: Sequence[tuple],
                   read_rows: Sequence[tuple] = ()) -> Path:
    """A store built with the store's public ingest API (:func:`geo.io.store.ingest`).

    ``incident_rows`` as :func:`casework_incidents`, ``read_rows`` as
    :func:`casework_reads`; every row is stored as accepted. Returns ``data_dir``.
    """
    from geo.io.store import ingest
    from geo.schema import REJECT_COLUMNS
    from geo.validate.common import ValidationResult

    none = pd.DataFrame({c: [] for c in REJECT_COLUMNS})
    inc = casework_incidents(incident_rows)
    ingest(ValidationResult("incidents", inc, none, len(inc)), data_dir)
    if read_rows:
        frame = casework_reads(read_rows)
        gdf = gpd.GeoDataFrame(frame, crs=BNG,
                               geometry=gpd.points_from_xy(frame["easting"], frame["northing"]))
        ingest(ValidationResult("sightings", gdf, none, len(gdf)), data_dir)
    return Path(data_dir)


# --------------------------------------------------------------------------- patrol planning
#: Places of :func:`coursing_seasons`: (kind, where, window incidents per season 1..3).
#: A "line" is strung along a 40 km drove road (DBSCAN chains it into one big hotspot
#: whose centroid circle covers a sixth of it); "spot" places are compact (sigma 400 m).
COURSING_PLACES: dict[str, tuple[str, tuple[float, ...], tuple[int, int, int]]] = {
    "norfolk_drove": ("line", (575000.0, 305000.0, 615000.0, 305000.0), (110, 110, 110)),
    "suffolk_drove": ("line", (580000.0, 255000.0, 620000.0, 255000.0), (110, 110, 110)),
    "cambs_spot": ("spot", (545000.0, 258000.0), (30, 30, 30)),
    "essex_spot": ("spot", (575000.0, 205000.0), (30, 30, 30)),
    "fen_emerging": ("spot", (530000.0, 292000.0), (0, 28, 45)),  # the changing place
}
#: Tuesday-morning place (outside a Fri/Sat night window): (where, incidents per season).
COURSING_DECOY: tuple[tuple[float, float], int] = ((520000.0, 215000.0), 60)
_COURSING_FORCES = {"norfolk_drove": "Norfolk", "suffolk_drove": "Suffolk", "cambs_spot": "Cambridgeshire",
                    "essex_spot": "Essex", "fen_emerging": "Cambridgeshire", "decoy": "Hertfordshire"}
#: Seasons of :func:`coursing_seasons`, oldest first.
COURSING_SEASONS = ("2020-21", "2021-22", "2022-23")


def _first_friday(year: int) -> pd.Timestamp:
    day = pd.Timestamp(year=year, month=9, day=1)
    return day + pd.Timedelta(days=(4 - day.day_of_week) % 7)


def _night_times(rng: np.random.Generator, year: int, n: int, late_only: bool) -> pd.Series:
    """Friday or Saturday nights 19:00-01:59 (London) in weeks 0-29 of the season."""
    weeks = rng.integers(15 if late_only else 0, 30, n)
    nights = rng.integers(0, 2, n)  # Friday or Saturday night
    hours = rng.choice([19, 20, 21, 22, 23, 24, 25], n)  # 24, 25: after midnight
    local = (_first_friday(year) + pd.to_timedelta(weeks * 7 + nights, unit="D")
             + pd.to_timedelta(hours, unit="h") + pd.to_timedelta(rng.integers(0, 60, n), unit="min"))
    return pd.Series(local.tz_localize("Europe/London", ambiguous=True, nonexistent="shift_forward"))


def _tuesday_mornings(rng: np.random.Generator, year: int, n: int) -> pd.Series:
    local = (_first_friday(year) + pd.to_timedelta(rng.integers(0, 30, n) * 7 + 4, unit="D")
             + pd.to_timedelta(rng.integers(7, 11, n), unit="h"))
    return pd.Series(local.tz_localize("Europe/London", ambiguous=True, nonexistent="shift_forward"))


def _place_xy(rng: np.random.Generator, kind: str, where: tuple[float, ...], n: int) -> np.ndarray:
    if kind == "line":
        x0, y0, x1, y1 = where
        t = rng.uniform(0.0, 1.0, n)
        return np.column_stack([x0 + t * (x1 - x0), y0 + t * (y1 - y0)]) + rng.normal(0, 150.0, (n, 2))
    return np.asarray(where) + rng.normal(0.0, 400.0, (n, 2))


def coursing_seasons(seed: int = 0) -> gpd.GeoDataFrame:
    """Three seasons (2020-21 .. 2022-23) with weekly habits and a changing place.

    Every place in :data:`COURSING_PLACES` is coursed on Friday and Saturday
    nights (19:00-01:59 London, the small hours belonging to the night
    before); the decoy (:data:`COURSING_DECOY`) only on Tuesday mornings.
    ``fen_emerging`` starts in the second half of season two and doubles in
    season three. Accepted incidents, EPSG:27700, ids ``P00000..``.
    """
    rng = np.random.default_rng(seed)
    xy, times, place = [], [], []
    for s, year in enumerate((2020, 2021, 2022)):
        for name, (kind, where, counts) in COURSING_PLACES.items():
            n = counts[s]
            xy.append(_place_xy(rng, kind, where, n))
            times.append(_night_times(rng, year, n, late_only=name == "fen_emerging" and s == 1))
            place += [name] * n
        (centre, n_decoy) = COURSING_DECOY
        xy.append(_place_xy(rng, "spot", centre, n_decoy))
        times.append(_tuesday_mornings(rng, year, n_decoy))
        place += ["decoy"] * n_decoy
    pts = np.vstack(xy)
    when = pd.concat(times, ignore_index=True).dt.tz_convert("UTC")
    force = [_COURSING_FORCES[p] for p in place]
    return incidents(len(pts), incident_id=[f"P{i:05d}" for i in range(len(pts))], occurred_at=when,
                     easting=pts[:, 0].round(1), northing=pts[:, 1].round(1), force=force, notes=place)


def incidents_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write incidents as a plain CSV a user could give the CLI (id, ISO UTC time, easting,
    northing, and crime_type when any is set)."""
    out = pd.DataFrame({
        "incident_id": frame["incident_id"].astype(str),
        "occurred_at": pd.to_datetime(frame["occurred_at"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "easting": frame["easting"].round(1),
        "northing": frame["northing"].round(1),
    })
    if "crime_type" in frame.columns and (frame["crime_type"].astype(str) != "").any():
        out["crime_type"] = frame["crime_type"].astype(str).to_numpy()
    out.to_csv(path, index=False)
    return path
