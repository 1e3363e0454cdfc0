"""Ordnance Survey National Grid references <-> EPSG:27700 metres (vectorised).

A grid reference is two letters naming a 100 km square followed by an even
number of digits (4 to 10), half for the easting and half for the northing
within that square, e.g. ``TL 45123 67890`` or ``TL4567``. Spaces are optional;
when the digits are split in two by a space, both halves must have the same
length.

A reference names a *square*, not a point: ``TL4567`` is the 1 km square whose
south-west corner is E 545000 N 267000. :func:`gridref_to_en` returns the
south-west corner (``centre=False``, the convention of Ordnance Survey's own
examples: ``NN 166 712`` -> E 216600 N 771200) or, the default used when
validating incidents, the centre of the square (``TL4567`` -> E 545500
N 267500), which is the best single point estimate of where the event was.

Only the British grid letters are accepted: first letter H, J, N, O, S or T
(the 500 km squares covering Great Britain), second letter any of A-Z except I.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import InputError

__all__ = [
    "GRID_LETTERS",
    "gridref_to_en",
    "en_to_gridref",
    "parse_gridref",
]

#: The 25 letters of the grid alphabet (no I), in grid order.
GRID_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
_FIRST = "HJNOST"
_PATTERN = r"^([A-Z])([A-Z])\s*(\d+)(?:\s+(\d+))?$"
_LETTER_INDEX = {c: i for i, c in enumerate(GRID_LETTERS)}


def _square_origin(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """South-west corner (m) of the 100 km square named by letter indices (0-24)."""
    e100 = ((first - 2) % 5) * 5 + (second % 5)
    n100 = (19 - (first // 5) * 5) - (second // 5)
    return e100 * 100_000.0, n100 * 100_000.0


def parse_gridref(refs: pd.Series | list[str] | np.ndarray, *, centre: bool = True) -> pd.DataFrame:
    """Parse grid references into metres, flagging the invalid ones.

    Parameters
    ----------
    refs : sequence of str
        Grid references as written (case and surrounding spaces ignored).
    centre : bool, default True
        Return the centre of the referenced square (True) or its south-west
        corner (False).

    Returns
    -------
    DataFrame
        Same index as ``refs`` (a RangeIndex for non-Series input) with columns
        ``easting`` and ``northing`` (float64 metres, EPSG:27700; NaN where
        invalid), ``precision_m`` (size of the square in metres) and ``valid``
        (bool).
    """
    s = refs if isinstance(refs, pd.Series) else pd.Series(list(refs), dtype="str")
    text = s.astype("str").str.strip().str.upper()
    parts = text.str.extract(_PATTERN)
    parts.columns = ["a", "b", "d1", "d2"]
    has_two = parts["d2"].notna()
    d1 = parts["d1"].fillna("")
    d2 = parts["d2"].fillna("")
    len1 = d1.str.len().to_numpy(dtype="int64", na_value=0)
    len2 = d2.str.len().to_numpy(dtype="int64", na_value=0)
    digits = (d1 + d2).to_numpy(dtype=object)
    total = len1 + len2
    two = has_two.to_numpy(dtype=bool)
    ok_len = np.where(two, (len1 == len2) & (len1 >= 2) & (len1 <= 5),
                      (total % 2 == 0) & (total >= 4) & (total <= 10))
    a = parts["a"].fillna("")
    b = parts["b"].fillna("")
    ok_letters = (a.isin(list(_FIRST)) & b.isin(list(GRID_LETTERS))).to_numpy(dtype=bool)
    valid = ok_len & ok_letters

    n = len(text)
    east = np.full(n, np.nan)
    north = np.full(n, np.nan)
    prec = np.full(n, np.nan)
    if valid.any():
        idx = np.flatnonzero(valid)
        first = a.to_numpy(dtype=object)[idx]
        second = b.to_numpy(dtype=object)[idx]
        fi = pd.Series(first, dtype=object).map(_LETTER_INDEX).to_numpy(dtype="int64")
        si = pd.Series(second, dtype=object).map(_LETTER_INDEX).to_numpy(dtype="int64")
        e0, n0 = _square_origin(fi, si)
        half = total[idx] // 2
        dig = pd.Series(digits[idx], dtype="str")
        res = 10.0 ** (5 - half)
        ev = np.zeros(idx.size)
        nv = np.zeros(idx.size)
        for k in (2, 3, 4, 5):  # one vectorised pass per precision, not per row
            m = half == k
            if m.any():
                sub = dig[m]
                ev[m] = sub.str.slice(0, k).astype("int64").to_numpy()
                nv[m] = sub.str.slice(k, 2 * k).astype("int64").to_numpy()
        east[idx] = e0 + ev * res + (res / 2 if centre else 0.0)
        north[idx] = n0 + nv * res + (res / 2 if centre else 0.0)
        prec[idx] = res
    return pd.DataFrame(
        {"easting": east, "northing": north, "precision_m": prec, "valid": valid},
        index=s.index,
    )


def gridref_to_en(
    refs: pd.Series | list[str] | np.ndarray, *, centre: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing (EPSG:27700 metres) of grid references; NaN where invalid.

    See :func:`parse_gridref` for the ``centre`` convention.

    >>> gridref_to_en(["TG 51409 13177"], centre=False)
    (array([651409.]), array([313177.]))
    """
    out = parse_gridref(refs, centre=centre)
    return out["easting"].to_numpy(), out["northing"].to_numpy()


def en_to_gridref(
    easting_m: np.ndarray | list[float],
    northing_m: np.ndarray | list[float],
    digits: int = 10,
    sep: str = " ",
) -> np.ndarray:
    """Grid reference of the square (of the given precision) containing each point.

    Parameters
    ----------
    easting_m, northing_m : array-like of float
        EPSG:27700 metres; 0 <= easting < 700 km, 0 <= northing < 1300 km.
    digits : {4, 6, 8, 10}
        Total number of digits (10 = 1 m squares, 4 = 1 km squares).
    sep : str
        Put between the letters and each half of the digits.

    Returns
    -------
    ndarray of str
        ``"TG 51409 13177"`` style references (object array).

    Raises
    ------
    ValueError
        When ``digits`` is not one of 4, 6, 8, 10, or a point lies off the grid.
    """
    if digits not in (4, 6, 8, 10):
        raise InputError(f"digits must be 4, 6, 8 or 10, got {digits}")
    e = np.asarray(easting_m, dtype="float64")
    n = np.asarray(northing_m, dtype="float64")
    if not (np.isfinite(e).all() and np.isfinite(n).all()):
        raise InputError("easting/northing must be finite")
    if ((e < 0) | (e >= 700_000) | (n < 0) | (n >= 1_300_000)).any():
        raise InputError("point off the British National Grid (0-700 km E, 0-1300 km N)")
    e_sq = (e // 100_000).astype("int64")
    n_sq = (n // 100_000).astype("int64")
    # invert _square_origin: 500 km letter from (e_sq//5, n_sq//5), 100 km letter inside it
    first = (19 - n_sq) // 5 * 5 + (e_sq // 5 + 2) % 5
    second = (19 - n_sq) % 5 * 5 + e_sq % 5
    letters = np.array(list(GRID_LETTERS))
    k = digits // 2
    res = 10 ** (5 - k)
    ew = ((e % 100_000) // res).astype("int64")
    nw = ((n % 100_000) // res).astype("int64")
    fmt = pd.Series(letters[first]) + pd.Series(letters[second])
    es = pd.Series(ew).astype("str").str.zfill(k)
    ns = pd.Series(nw).astype("str").str.zfill(k)
    return (fmt + sep + es + sep + ns).to_numpy(dtype=object)
