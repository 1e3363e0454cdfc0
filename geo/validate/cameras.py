"""Validate a camera register: where each ANPR camera is.

ANPR exports often carry a camera (device, site) id and no coordinates. The
register, imported once with ``harewatch cameras import FILE``, places them:
camera id, a name, and latitude/longitude, easting/northing or an OS grid
reference (per row, as for incidents). Every row is accepted or rejected with
its reason; a camera id given twice keeps the last row and says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo._config import DEFAULTS, Settings
from geo.areas import ForceAreas
from geo.errors import InputError
from geo.validate.columns import CAMERA_FIELDS, match_columns
from geo.validate.common import (
    Problems,
    ValidationResult,
    assign_forces,
    camera_ids,
    camera_key,
    force_columns,
    resolve_locations,
    text_column,
    to_points,
)

__all__ = ["CAMERA_COLUMNS", "validate_cameras"]

#: Columns of the camera register (+ geometry, EPSG:27700).
CAMERA_COLUMNS = ["camera_id", "camera_name", "easting", "northing", "force", "force_code",
                  "in_agreement", "source_row"]


def validate_cameras(raw: pd.DataFrame, areas: ForceAreas, *,
                     settings: Settings = DEFAULTS) -> ValidationResult:
    """Validate raw camera register rows (all text).

    Returns
    -------
    ValidationResult
        ``kind="cameras"``; accepted rows with :data:`CAMERA_COLUMNS` + geometry.

    Raises
    ------
    InputError
        The file has no camera id column.
    """
    n = len(raw)
    cols = match_columns(raw.columns, CAMERA_FIELDS)
    if "camera_id" not in cols:
        raise InputError("no camera id column; found: " + ", ".join(map(str, raw.columns[:12]))
                         + " (expected e.g. camera_id, DeviceId, Camera ID, Site ID)")
    problems = Problems(n)
    problems.add_unread(raw.attrs.get("row_problems"))
    ids = camera_ids(text_column(raw, cols["camera_id"]))
    problems.add((ids == "").to_numpy(dtype=bool), "missing camera id")
    loc = resolve_locations(raw, cols, problems)
    fidx, _ = assign_forces(areas, loc, problems, settings.coastal_tolerance_m)
    later = camera_key(ids).duplicated(keep="last").to_numpy(dtype=bool) & (ids != "").to_numpy(bool)
    problems.add(later, "camera id given again further down (the last row is kept)")
    keep = np.flatnonzero(~problems.rejected)
    frame = pd.DataFrame({
        "camera_id": ids.iloc[keep].to_numpy(dtype=object),
        "camera_name": text_column(raw, cols.get("camera_name")).iloc[keep].to_numpy(dtype=object),
        "easting": loc.easting[keep], "northing": loc.northing[keep],
        **force_columns(areas, fidx[keep]),
        "source_row": (keep + 1).astype("int64"),
    }, columns=CAMERA_COLUMNS)
    for c in ("camera_id", "camera_name", "force", "force_code"):
        frame[c] = frame[c].astype("str")
    return ValidationResult(kind="cameras", accepted=to_points(frame, loc, keep),
                            rejects=problems.rejects_frame(ids), rows=n,
                            layout=raw.attrs.get("layout"), notes=tuple(raw.attrs.get("notes", ())))
