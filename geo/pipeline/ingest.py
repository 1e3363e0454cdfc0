"""The one read-and-validate path: CLI, the dashboard's Data page and the watcher all use it.

:func:`check_file` reads any supported file (path or bytes), detects its kind
when not given (:func:`guess_kind`), validates it row by row and returns a
:class:`FileCheck` that never raises for bad content: a file that cannot be
read at all carries its ``error`` instead. :func:`load_incidents` and
:func:`load_sightings` are the raising shortcuts for library users.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import IO

import pandas as pd

from geo.areas import ForceAreas
from geo.errors import InputError, UnreadableFile
from geo.io.readers import read_table
from geo.schema import REJECT_COLUMNS
from geo.validate.common import ValidationResult
from geo.validate.incidents import validate_incidents
from geo.validate.sightings import validate_sightings

__all__ = ["KINDS", "FileCheck", "guess_kind", "validate_table", "check_file", "load_incidents",
           "load_sightings"]

#: The kinds of file Harewatch validates.
KINDS = ("incidents", "sightings")

#: Column names (normalised) that only an incidents file has.
_INCIDENT_ONLY = {"incidentid", "incidentref", "incidentreference", "incidentnumber"}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def load_incidents(
    path: str | os.PathLike | IO | bytes, areas: ForceAreas, name: str | None = None
) -> ValidationResult:
    """Read (:func:`geo.readers.read_table`) and validate an incident file.

    Raises
    ------
    geo.readers.UnreadableFile
        When the file cannot be read at all.
    """
    return validate_incidents(read_table(path, name=name), areas)


def load_sightings(
    path: str | os.PathLike | IO | bytes, areas: ForceAreas, name: str | None = None
) -> ValidationResult:
    """Read (:func:`geo.readers.read_table`) and validate an ANPR read file.

    Raises
    ------
    geo.readers.UnreadableFile
        When the file cannot be read at all.
    """
    return validate_sightings(read_table(path, name=name), areas)


def guess_kind(columns) -> str:
    """``"incidents"`` or ``"sightings"`` from a file's column names.

    A file with an incident reference column is incidents; one with a plate
    and a read time or camera but no reference is sightings (ANPR reads).
    """
    cols = {_norm(c) for c in columns}
    if cols & {"incidentid", "incidentref", "reference", "ref", "id"}:
        return "incidents"
    if cols & {"readat", "cameraid", "site", "camera"} and cols & {"vrm", "registration", "vehicle", "vrms"}:
        return "sightings"
    return "incidents"



def validate_table(raw: pd.DataFrame, kind: str, areas: ForceAreas) -> ValidationResult:
    """Validate an already-read table as ``kind`` ("incidents" or "sightings")."""
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return validate_incidents(raw, areas) if kind == "incidents" else validate_sightings(raw, areas)


@dataclass
class FileCheck:
    """A file read and validated: ``result`` when it could be read, else ``error``.

    Attributes
    ----------
    kind : str
        "incidents" or "sightings" (given, or guessed from the columns).
    result : ValidationResult or None
        Accepted rows and per-row rejects.
    error : str or None
        Why the file as a whole could not be used (said once, not per row).
    unreadable : bool
        True when ``error`` says the file could not be read at all (as
        opposed to a file that was read but cannot be used as ``kind``).
    """

    kind: str
    result: ValidationResult | None = None
    error: str | None = None
    unreadable: bool = False

    @property
    def ok(self) -> bool:
        return self.result is not None and self.error is None

    def counts(self) -> dict[str, int]:
        r = self.result
        return {"rows": int(r.rows), "accepted": int(r.n_accepted), "rejected": int(r.n_rejected)}

    def rejects(self) -> pd.DataFrame:
        rej = pd.DataFrame(self.result.rejects) if self.result is not None else pd.DataFrame()
        for c in REJECT_COLUMNS:
            if c not in rej.columns:
                rej[c] = pd.Series(dtype=object)
        return rej[REJECT_COLUMNS].reset_index(drop=True)


def _kind_of(kind: str | None) -> str | None:
    if kind is None:
        return None
    return "sightings" if str(kind).lower().startswith("sight") else "incidents"


def check_file(
    source: str | os.PathLike | IO | bytes, areas: ForceAreas, *, name: str | None = None,
    kind: str | None = None, refuse_incidents: bool = False,
) -> FileCheck:
    """Read and validate a file; a file that cannot be used gives ``error``, never an exception.

    Parameters
    ----------
    source : path, file object or bytes
        The file.
    areas : ForceAreas
        Police force areas (to locate rows).
    name : str, optional
        Original file name when ``source`` is bytes (its extension picks the reader).
    kind : {"incidents", "sightings"}, optional
        Guessed from the column names when not given.
    refuse_incidents : bool, default False
        With ``kind="sightings"``: a file with an incident id column is an
        incidents file, refused as a whole (``error``; ``result`` None).
    """
    kind = _kind_of(kind)
    try:
        raw = read_table(source, name=name)
    except UnreadableFile as exc:
        return FileCheck(kind=kind or "incidents", error=str(exc), unreadable=True)
    if refuse_incidents and kind == "sightings" and {_norm(c) for c in raw.columns} & _INCIDENT_ONLY:
        return FileCheck(kind="incidents", result=None, error=(
            "looks like an incidents file (it has an incident id column); the watcher takes "
            "ANPR reads only: use 'harewatch ingest incidents'"))
    kind = kind or guess_kind(raw.columns)
    try:
        result = validate_table(raw, kind, areas)
    except InputError as exc:  # e.g. no usable columns at all
        label = name or (os.fspath(source) if isinstance(source, str | os.PathLike) else "file")
        return FileCheck(kind=kind, error=f"{label}: {exc}")
    return FileCheck(kind=kind, result=result)
