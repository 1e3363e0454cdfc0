"""Validate incident files into the canonical incident GeoDataFrame.

See :mod:`geo.validation` for the rules every row goes through. Incident
specific rules:

* An incident needs an id; ids are compared without surrounding spaces and
  must be unique in the file: the second and later rows with an id are
  rejected, naming the first row (whatever became of that row).
* ``vrms`` and ``nominals`` may list several values separated by ``;``, ``,``
  or ``|``; they are stored joined by ``;`` (plates upper case, no spaces).
* A reporting force that disagrees with the location is kept: ``force`` is
  where the point lies, ``reported_force`` what was written,
  ``force_mismatch`` True.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.areas import ForceAreas
from geo.schema import INCIDENT_COLUMNS
from geo.times import parse_times
from geo.validate.columns import ALIASES, INCIDENT_FIELDS, match_columns
from geo.validate.common import (
    Problems,
    ValidationResult,
    assign_forces,
    combine_time_text,
    force_columns,
    mismatch,
    normalise_multi,
    normalise_plates,
    resolve_locations,
    text_column,
    to_points,
)

__all__ = [
    "validate_incidents",
]


def _missing_column_hint(cols: dict, fields: tuple[str, ...]) -> str:
    if any(f in cols for f in fields):
        return ""
    names = ", ".join(ALIASES[fields[0]][:4])
    return f" (no such column; expected e.g. {names})"


def validate_incidents(raw: pd.DataFrame, areas: ForceAreas) -> ValidationResult:
    """Validate raw incident rows (all text, as from :func:`geo.readers.read_table`).

    Parameters
    ----------
    raw : DataFrame
        One row per incident, columns named as in the file (matched with
        :func:`geo.columns.match_columns`). Not modified.
    areas : ForceAreas
        Force boundaries (EPSG:27700) used to assign each point a force.

    Returns
    -------
    ValidationResult
        ``kind="incidents"``; accepted rows with exactly ``INCIDENT_COLUMNS`` +
        geometry (EPSG:27700), rejects with row, id and reason.
    """
    n = len(raw)
    cols = match_columns(raw.columns, INCIDENT_FIELDS)
    problems = Problems(n)

    ids_written = text_column(raw, cols.get("id"))
    ids = ids_written.str.strip()
    no_id = (ids == "").to_numpy(dtype=bool)
    problems.add(no_id, "missing id" + _missing_column_hint(cols, ("id",)))

    time_text = combine_time_text(raw, cols)
    times, reasons = parse_times(time_text)
    bad_time = (reasons != "").to_numpy(dtype=bool)
    if bad_time.any():
        hint = _missing_column_hint(cols, ("time", "date", "clock"))
        msgs = reasons.to_numpy(dtype=object)
        if hint:
            msgs = np.where(msgs == "missing time", "missing time" + hint, msgs)
        problems.add(bad_time, msgs)

    loc = resolve_locations(raw, cols, problems)
    fidx = assign_forces(areas, loc, problems)

    dup = ids.duplicated(keep="first").to_numpy(dtype=bool) & ~no_id
    if dup.any():
        first_row = pd.Series(np.arange(1, n + 1), index=ids.to_numpy(dtype=object))
        first_row = first_row[~first_row.index.duplicated(keep="first")]
        msgs = np.empty(n, dtype=object)
        for p in np.flatnonzero(dup):
            msgs[p] = f"duplicate id {ids.iat[p]!r} (first used on row {first_row[ids.iat[p]]})"
        problems.add(dup, msgs)

    rejected = problems.rejected
    keep = np.flatnonzero(~rejected)
    forces = force_columns(areas, fidx[keep])
    reported = text_column(raw, cols.get("force")).iloc[keep]
    vrms, _ = normalise_plates(text_column(raw, cols.get("vrms")).iloc[keep])
    frame = pd.DataFrame(
        {
            "incident_id": ids.iloc[keep].to_numpy(dtype=object),
            "occurred_at": times.iloc[keep].array,
            "easting": loc.easting[keep],
            "northing": loc.northing[keep],
            **forces,
            "reported_force": reported.to_numpy(dtype=object),
            "force_mismatch": mismatch(reported, forces["force"], forces["force_code"]),
            "vrms": vrms.to_numpy(dtype=object),
            "nominals": normalise_multi(text_column(raw, cols.get("nominals")).iloc[keep])
            .to_numpy(dtype=object),
            "dogs": text_column(raw, cols.get("dogs")).iloc[keep].to_numpy(dtype=object),
            "outcome": text_column(raw, cols.get("outcome")).iloc[keep].to_numpy(dtype=object),
            "notes": text_column(raw, cols.get("notes")).iloc[keep].to_numpy(dtype=object),
            "source_row": (keep + 1).astype("int64"),
        },
        columns=INCIDENT_COLUMNS,
        copy=False,
    )
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    for c in ("incident_id", "force", "force_code", "reported_force", "vrms", "nominals", "dogs",
              "outcome", "notes"):
        frame[c] = frame[c].astype("str")
    accepted = to_points(frame, loc, keep)
    rejects = problems.rejects_frame(ids_written if "id" in cols else None)
    return ValidationResult(kind="incidents", accepted=accepted, rejects=rejects, rows=n)


