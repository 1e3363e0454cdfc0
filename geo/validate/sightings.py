"""Validate ANPR read files (sightings) into the canonical sighting GeoDataFrame.

See :mod:`geo.validation` for the rules every row goes through. ANPR specific
rules:

* An ANPR read names exactly one plate: a row with no plate is rejected
  ("missing plate"), a row with several plates too ("an ANPR read names one
  plate, got 2").
* A read is identified by plate + time + camera (``camera_id``), or plate +
  time + position (easting/northing to 0.1 m) when no camera is given. An
  exact repeat of an earlier row is rejected as a duplicate, naming that row.
* Reads usually have no id; when the file has an id column, it is only used
  to label rejected rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo._config import DEFAULTS, Settings
from geo.areas import ForceAreas
from geo.errors import InputError
from geo.schema import SIGHTING_COLUMNS
from geo.times import parse_times
from geo.validate.columns import SIGHTING_FIELDS, match_columns
from geo.validate.common import (
    Problems,
    ValidationResult,
    assign_forces,
    camera_ids,
    camera_key,
    combine_time_text,
    filled,
    force_columns,
    normalise_plates,
    plausible_times,
    resolve_locations,
    text_column,
    to_points,
)

__all__ = [
    "validate_sightings",
    "place_at_cameras",
    "sighting_keys",
    "SIGHTING_KEY",
]

#: Columns of :func:`sighting_keys` (together they identify a read).
SIGHTING_KEY: tuple[str, ...] = ("vrm", "read_at", "camera_id", "pos_e", "pos_n")


def sighting_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Identity of each read: plate, time, camera, or position when no camera.

    Parameters
    ----------
    frame : DataFrame
        With ``vrm``, ``read_at`` (UTC), ``camera_id``, ``easting``,
        ``northing`` (metres).

    Returns
    -------
    DataFrame
        Columns :data:`SIGHTING_KEY`, same index; ``pos_e``/``pos_n`` are the
        position rounded to 0.1 m where ``camera_id`` is empty, else 0.
    """
    cam = camera_key(frame["camera_id"].astype("str").fillna(""))
    no_cam = (cam == "").to_numpy(dtype=bool)
    e = np.zeros(len(frame))
    nn = np.zeros(len(frame))
    if no_cam.any():
        e[no_cam] = np.round(frame["easting"].to_numpy(dtype="float64")[no_cam], 1)
        nn[no_cam] = np.round(frame["northing"].to_numpy(dtype="float64")[no_cam], 1)
    read_at = pd.to_datetime(frame["read_at"], utc=True).dt.as_unit("us")
    micros = read_at.dt.tz_localize(None).to_numpy().view("int64")
    return pd.DataFrame(
        {"vrm": frame["vrm"].astype("str").array, "read_at": micros,
         "camera_id": cam.array, "pos_e": e, "pos_n": nn},
        index=frame.index,
    )


def validate_sightings(raw: pd.DataFrame, areas: ForceAreas, *, cameras: pd.DataFrame | None = None,
                       settings: Settings = DEFAULTS, geometry: bool = True) -> ValidationResult:
    """Validate raw ANPR read rows (all text, as from :func:`geo.io.readers.read_table`).

    Parameters
    ----------
    raw : DataFrame
        One row per read: plate, time, camera and/or position columns (matched
        with :func:`geo.validate.columns.match_columns`). Not modified.
    areas : ForceAreas
        Force boundaries (EPSG:27700).
    cameras : DataFrame, optional
        The camera register (``camera_id``, ``easting``, ``northing``): a read
        with a camera but no coordinates is placed at its camera; a camera the
        register does not know makes the read a reject saying so.
    settings : Settings
        ``coastal_tolerance_m``.

    Returns
    -------
    ValidationResult
        ``kind="sightings"``; accepted rows with exactly ``SIGHTING_COLUMNS`` +
        geometry (EPSG:27700).
    """
    n = len(raw)
    cols = match_columns(raw.columns, SIGHTING_FIELDS)
    problems = Problems(n)
    problems.add_unread(raw.attrs.get("row_problems"))
    camera = camera_ids(text_column(raw, cols.get("camera_id")))
    raw, cols = place_at_cameras(raw, cols, camera, cameras, problems)

    time_text = combine_time_text(raw, cols)
    times, reasons = parse_times(time_text)
    bad_time = (reasons != "").to_numpy(dtype=bool)
    if bad_time.any():
        problems.add(bad_time, reasons.to_numpy(dtype=object))
    plausible_times(times, problems, earliest_year=settings.earliest_year,
                    future_h=settings.future_tolerance_h)

    loc = resolve_locations(raw, cols, problems)
    fidx, _ = assign_forces(areas, loc, problems, settings.coastal_tolerance_m)

    plates, count = normalise_plates(text_column(raw, cols.get("vrms")))
    problems.add(count == 0, "missing plate (vrm)")
    several = count > 1
    if several.any():
        msgs = np.empty(n, dtype=object)
        for p in np.flatnonzero(several):
            msgs[p] = f"an ANPR read names one plate, got {count[p]}"
        problems.add(several, msgs)

    keyed = (count == 1) & ~bad_time & (
        filled(camera) | np.isfinite(loc.easting))
    if keyed.sum() > 1:
        pos = np.flatnonzero(keyed)
        # a repeat needs the same time: hash the full key only where a time repeats
        micros = times.iloc[pos].dt.tz_localize(None).to_numpy().view("int64")
        pos = pos[pd.Series(micros).duplicated(keep=False).to_numpy(dtype=bool)]
    else:
        pos = np.zeros(0, dtype="int64")
    if len(pos) > 1:
        key = sighting_keys(pd.DataFrame({
            "vrm": plates.iloc[pos].array,
            "read_at": times.iloc[pos].array,
            "camera_id": camera.iloc[pos].array,
            "easting": loc.easting[pos], "northing": loc.northing[pos],
        }))
        dup_local = key.duplicated(keep="first").to_numpy(dtype=bool)
        if dup_local.any():
            dup = np.zeros(n, dtype=bool)
            dup[pos[dup_local]] = True
            # first row of each duplicated key (only for the duplicates)
            key["_row"] = pos + 1
            firsts = key[~dup_local].set_index(list(key.columns[:-1]))["_row"]
            dups = key[dup_local]
            first_rows = firsts.reindex(pd.MultiIndex.from_frame(dups.iloc[:, :-1])).to_numpy()
            msgs = np.empty(n, dtype=object)
            for p, r in zip(pos[dup_local], first_rows, strict=True):
                msgs[p] = f"duplicate read (same plate, time and camera/position as row {int(r)})"
            problems.add(dup, msgs)

    rejected = problems.rejected
    keep = np.flatnonzero(~rejected)
    forces = force_columns(areas, fidx[keep])
    frame = pd.DataFrame(
        {
            "vrm": plates.iloc[keep].array,
            "read_at": times.iloc[keep].array,
            "easting": loc.easting[keep],
            "northing": loc.northing[keep],
            **forces,
            "camera_id": camera.iloc[keep].array,
            "source_row": (keep + 1).astype("int64"),
        },
        columns=SIGHTING_COLUMNS,
        copy=False,  # fresh arrays built here; no need to copy 1M-row columns again
    )
    frame["read_at"] = pd.to_datetime(frame["read_at"], utc=True)
    for c in ("vrm", "force", "force_code", "camera_id"):
        frame[c] = frame[c].astype("str")
    accepted = to_points(frame, loc, keep, geometry=geometry)
    ids = text_column(raw, cols["id"]) if "id" in cols else None
    rejects = problems.rejects_frame(ids)
    return ValidationResult(kind="sightings", accepted=accepted, rejects=rejects, rows=n,
                            layout=raw.attrs.get("layout"), notes=tuple(raw.attrs.get("notes", ())))


def place_at_cameras(raw: pd.DataFrame, cols: dict, camera: pd.Series, cameras: pd.DataFrame | None,
                     problems: Problems) -> tuple[pd.DataFrame, dict]:
    """Reads with a camera and no coordinates, placed at the camera of the register.

    Returns ``raw`` (a copy with two added coordinate columns when a register
    is given, else itself) and the column mapping to use. With a register, a
    read whose camera it does not know is a reject naming the camera. Without
    one, a file with no coordinate column at all is refused once.
    """
    place_cols = [f for f in ("lat", "lon", "easting", "northing", "gridref") if f in cols]
    if cameras is None:
        if not place_cols and "camera_id" in cols:
            raise InputError("the reads have a camera but no coordinates, and no camera register "
                             "is loaded: import one with 'harewatch cameras import FILE'")
        return raw, cols
    have = np.zeros(len(raw), dtype=bool)
    for a, b in (("lat", "lon"), ("easting", "northing")):
        if a in cols and b in cols:
            have |= filled(text_column(raw, cols[a])) & filled(text_column(raw, cols[b]))
    if "gridref" in cols:
        have |= filled(text_column(raw, cols["gridref"]))
    need = ~have & (camera != "").to_numpy(dtype=bool)
    keys = camera_key(cameras["camera_id"].astype("str"))
    where = cameras.assign(key=keys.to_numpy()).drop_duplicates("key", keep="last").set_index("key")
    mine = camera_key(camera)
    east = mine.map(where["easting"])
    north = mine.map(where["northing"])
    unknown = need & east.isna().to_numpy(dtype=bool)
    problems.add_unread({int(p): f"unknown camera {camera.iat[p]!r} (not in the camera register: "
                                 "harewatch cameras import FILE)" for p in np.flatnonzero(unknown)})
    put = need & ~unknown
    e = text_column(raw, cols.get("easting")).to_numpy(dtype=object).copy()
    nn = text_column(raw, cols.get("northing")).to_numpy(dtype=object).copy()
    e[put] = [repr(float(v)) for v in east.to_numpy()[put]]
    nn[put] = [repr(float(v)) for v in north.to_numpy()[put]]
    placed = raw.assign(**{"\x00camera_e": pd.array(e, dtype="str"),
                           "\x00camera_n": pd.array(nn, dtype="str")})
    placed.attrs = dict(raw.attrs)
    return placed, {**cols, "easting": "\x00camera_e", "northing": "\x00camera_n"}
