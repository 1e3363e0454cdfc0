"""Store keys: what makes two stored rows the same incident or the same ANPR read.

Identifiers are normalised before a key is built, so that spelling noise
never makes two keys of one thing (``"CAM1 "`` and ``"cam1"`` are one
camera):

* plates: upper case, every space removed (``"ab12 cde"`` -> ``"AB12CDE"``);
* camera ids and incident ids: surrounding spaces removed, runs of spaces
  inside made one, upper case (``" cam  1 "`` -> ``"CAM 1"``);
* force names (compared, never keys): as :func:`geo.forces.force_key`.

The store keeps camera ids in this normal form; incident ids are stored as
written (the key is only used to match).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo._frames import as_arrow, from_arrow
from geo.forces import force_key
from geo.validate.sightings import sighting_keys

__all__ = [
    "normalise_plates",
    "normalise_ids",
    "normalise_forces",
    "read_keys",
    "incident_keys",
    "FORCE_COLUMNS",
]

#: Incident columns holding force names (compared in their normal form).
FORCE_COLUMNS = ("force", "reported_force")


def _text(values) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        arr = pc.fill_null(values.cast(pa.string()), "")
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    return as_arrow(series)


def normalise_plates(values) -> pa.Array:
    """Plates in the store's form: upper case, no spaces (missing as ``""``).

    Parameters
    ----------
    values : array-like of str

    Returns
    -------
    pyarrow.Array of string
    """
    return pc.utf8_upper(pc.replace_substring_regex(_text(values), r"\s+", ""))


def normalise_ids(values) -> pa.Array:
    """Camera or incident ids: trimmed, inner spaces collapsed, upper case (missing as ``""``).

    Parameters
    ----------
    values : array-like of str

    Returns
    -------
    pyarrow.Array of string
    """
    collapsed = pc.replace_substring_regex(_text(values), r"\s+", " ")
    return pc.utf8_upper(pc.utf8_trim_whitespace(collapsed))


def normalise_forces(values) -> np.ndarray:
    """Comparable force names (case, spacing, "Constabulary"/"Police" suffixes ignored)."""
    codes, uniques = pd.factorize(from_arrow(_text(values)))
    names = np.array([force_key(str(u)) for u in uniques] + [""], dtype=object)
    return names[codes]


def read_keys(frame: pd.DataFrame, *, normalised: bool = False) -> pd.DataFrame:
    """Identity of each ANPR read with normalised plate and camera.

    Parameters
    ----------
    frame : DataFrame
        ``vrm``, ``read_at`` (tz-aware), ``camera_id``, ``easting``,
        ``northing`` (metres). Not modified.
    normalised : bool, default False
        The plates and camera ids are already in normal form (as stored):
        skip normalising them again.

    Returns
    -------
    DataFrame
        Columns of :data:`geo.validate.sightings.SIGHTING_KEY`, same index:
        plate, time (microseconds), camera, and the position rounded to
        0.1 m where there is no camera.
    """
    if normalised:
        return sighting_keys(frame)
    view = pd.DataFrame({
        "vrm": from_arrow(normalise_plates(frame["vrm"]), index=frame.index),
        "read_at": frame["read_at"],
        "camera_id": from_arrow(normalise_ids(frame["camera_id"]), index=frame.index),
        "easting": frame["easting"],
        "northing": frame["northing"],
    }, index=frame.index)
    return sighting_keys(view)


def incident_keys(ids) -> pd.Series:
    """Key of each incident: its id normalised (:func:`normalise_ids`)."""
    index = ids.index if isinstance(ids, pd.Series) else None
    return from_arrow(normalise_ids(ids), index=index)
