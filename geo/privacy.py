"""Masking of personal data (vehicle plates, nominal / suspect ids).

Plates and suspect ids identify people. Views on a shared screen mask them;
masking keeps enough characters for an officer who already knows the subject
to recognise it, and no more.
"""

from __future__ import annotations

import pandas as pd

from geo.schema import MULTI_SEP

__all__ = ["mask_plate", "mask_id", "mask_multi", "mask_series"]


def mask_plate(plate: str | None) -> str:
    """Mask a normalised plate: ``"AB12CDE"`` -> ``"AB12 C**"``.

    The first four characters (area code and age identifier of a current UK
    plate) and the first letter of the last three are kept; the rest become
    ``*``. Plates of four characters or fewer keep only their first character.
    """
    if plate is None or (isinstance(plate, float) and pd.isna(plate)):
        return ""
    p = str(plate).replace(" ", "").upper()
    if not p:
        return ""
    if len(p) <= 4:
        return p[0] + "*" * (len(p) - 1)
    return f"{p[:4]} {p[4]}" + "*" * (len(p) - 5)


def mask_id(value: str | None, keep: int = 3) -> str:
    """Mask an id, keeping its first ``keep`` characters: ``"N1234567"`` -> ``"N12*****"``.

    At least half of the characters are always hidden.
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    s = str(value)
    if not s:
        return ""
    shown = min(keep, len(s) // 2)
    return s[:shown] + "*" * (len(s) - shown)


def mask_multi(joined: str | None, kind: str = "plate") -> str:
    """Mask each item of a ``;``-joined list; ``kind`` is ``"plate"`` or ``"id"``."""
    if joined is None or (isinstance(joined, float) and pd.isna(joined)) or joined == "":
        return ""
    fn = mask_plate if kind == "plate" else mask_id
    return MULTI_SEP.join(fn(item) for item in str(joined).split(MULTI_SEP))


def mask_series(values: pd.Series, kind: str = "plate") -> pd.Series:
    """Mask a Series whose cells are ``;``-joined plates or ids, or lists of them."""

    def one(v):
        if isinstance(v, list | tuple):
            return [mask_plate(x) if kind == "plate" else mask_id(x) for x in v]
        return mask_multi(v, kind)

    return values.map(one)
