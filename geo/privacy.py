"""Masking of personal data (vehicle plates, nominal / suspect ids).

Plates and suspect ids identify people. Views on a shared screen mask them;
masking keeps enough characters for an officer who already knows the subject
to recognise it, and no more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.schema import MULTI_SEP, SUBJECT_KINDS

__all__ = [
    "mask_plate",
    "mask_id",
    "mask_multi",
    "mask_series",
    "PLATE_COLUMNS",
    "ID_COLUMNS",
    "FREE_TEXT_COLUMNS",
    "is_plate_column",
    "is_id_column",
    "is_vehicle_kind",
    "mask_subject",
    "mask_frame",
]

#: THE column policy: columns holding plates (also any ``*_vrm`` / ``*_vrms``).
PLATE_COLUMNS = frozenset({"vrm", "vrms", "plate", "plates", "from_vrm"})
#: Columns holding nominal / suspect ids (also any ``*_nominals``).
ID_COLUMNS = frozenset({"nominal", "nominals", "nominal_id", "offender_id"})
#: Free text cannot be masked reliably: dropped when redacting.
FREE_TEXT_COLUMNS = frozenset({"notes"})


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


def _mask_one(item: object, kind: str, unmasked: frozenset[str]) -> str:
    """One plate or id masked, unless it is in ``unmasked`` (a reveal that is running)."""
    if unmasked and str(item).strip() in unmasked:
        return str(item)
    return mask_plate(item) if kind == "plate" else mask_id(item)


def mask_multi(joined: str | None, kind: str = "plate", unmasked: frozenset[str] = frozenset()) -> str:
    """Mask each item of a ``;``-joined list; ``kind`` is ``"plate"`` or ``"id"``.

    Items in ``unmasked`` (revealed subjects) are kept whole.
    """
    if joined is None or (isinstance(joined, float) and pd.isna(joined)) or joined == "":
        return ""
    return MULTI_SEP.join(_mask_one(item, kind, unmasked) for item in str(joined).split(MULTI_SEP))


def mask_series(values: pd.Series, kind: str = "plate",
                unmasked: frozenset[str] = frozenset()) -> pd.Series:
    """Mask a Series whose cells are ``;``-joined plates or ids, or lists of them
    (items in ``unmasked`` kept whole)."""

    def one(v):
        if isinstance(v, list | tuple):
            return [_mask_one(x, kind, unmasked) for x in v]
        return mask_multi(v, kind, unmasked)

    return values.map(one)


def is_plate_column(name: object) -> bool:
    """Whether a column of this name holds plates (``vrm``, ``plates``, ``*_vrm``, ...)."""
    lc = str(name).lower()
    return lc in PLATE_COLUMNS or lc.endswith(("_vrm", "_vrms"))


def is_id_column(name: object) -> bool:
    """Whether a column of this name holds nominal / suspect ids."""
    lc = str(name).lower()
    return lc in ID_COLUMNS or lc.endswith("_nominals")


def is_vehicle_kind(kind: pd.Series | str) -> pd.Series | bool:
    """Whether a ladder subject kind denotes a plate (``"vehicle"``; older ``vrm``/``plate`` too)."""
    vehicle = SUBJECT_KINDS[0]
    if isinstance(kind, str):
        k = kind.lower()
        return k == vehicle or "vrm" in k or "plate" in k
    k = kind.astype(str).str.lower()
    return (k == vehicle) | k.str.contains("vrm|plate", regex=True)


def mask_subject(subject: object, kind: str) -> str:
    """A ladder subject masked as a plate or an id according to its ``kind``."""
    return mask_plate(subject) if is_vehicle_kind(kind) else mask_id(subject)


def mask_frame(df: pd.DataFrame, redact: bool, *, kind_col: str = "kind",
               unmasked: frozenset[str] = frozenset()) -> pd.DataFrame:
    """A display copy with plates and ids masked and free text dropped when ``redact``.

    The one masking policy of Harewatch: plate columns are masked as plates
    (:func:`is_plate_column`), id columns as ids (:func:`is_id_column`), a
    ``subject`` column as a plate or an id by its ``kind_col`` (a frame
    without it is taken as plates), and free-text columns are removed.
    ``df`` is not modified; without ``redact`` it is returned as a copy.
    Plates and ids in ``unmasked`` (subjects an analyst revealed, with a
    recorded reason, see :mod:`geo.access`) are kept whole; nothing else is.
    """
    out = pd.DataFrame(df).copy()
    if not redact:
        return out
    keep = frozenset(str(v).strip() for v in unmasked)
    for c in out.columns:
        if is_plate_column(c):
            out[c] = mask_series(out[c].astype(object), "plate", keep)
        elif is_id_column(c):
            out[c] = mask_series(out[c].astype(object), "id", keep)
    if "subject" in out.columns:
        vehicle = (is_vehicle_kind(out[kind_col]) if kind_col in out.columns
                   else pd.Series(True, index=out.index))
        subj = out["subject"].astype(object)
        out["subject"] = np.where(vehicle, mask_series(subj, "plate", keep), mask_series(subj, "id", keep))
    return out.drop(columns=[c for c in out.columns if str(c).lower() in FREE_TEXT_COLUMNS])
