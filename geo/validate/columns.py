"""Match the column names people actually use to Harewatch's canonical fields.

Names are compared after :func:`normalise_name`: lower case, every character
that is not a letter or digit removed. ``"Date/Time Reported"``,
``"date_time_reported"`` and ``"DATE TIME REPORTED"`` all become
``"datetimereported"``.

When several columns of a file match the same field, the column whose
normalised name equals the first alias wins, otherwise the leftmost one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = [
    "ALIASES",
    "INCIDENT_FIELDS",
    "SIGHTING_FIELDS",
    "CAMERA_FIELDS",
    "is_known_column",
    "normalise_name",
    "match_columns",
]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")

#: Field -> accepted column names (compared after :func:`normalise_name`).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("incident_id", "id", "incident ref", "incident reference", "reference", "ref",
           "crime id", "crime reference", "crime ref", "occurrence id", "read_id", "read id"),
    "time": ("occurred_at", "datetime", "date/time", "date time reported", "date/time reported",
             "datetime reported", "timestamp", "read_at", "read time", "occurred", "date and time",
             "date time", "read datetime", "capture time", "event time"),
    "date": ("date", "date reported", "incident date", "read date", "capture date"),
    "clock": ("time", "time reported", "incident time"),
    "month": ("month",),
    "lat": ("lat", "latitude", "wgs84 latitude"),
    "lon": ("lon", "lng", "long", "longitude", "wgs84 longitude"),
    "easting": ("easting", "eastings", "x", "os easting"),
    "northing": ("northing", "northings", "y", "os northing"),
    "gridref": ("grid ref", "grid reference", "os grid ref", "os grid reference", "gridref",
                "os grid", "ngr"),
    "vrms": ("vrm", "vrms", "registration", "registrations", "vehicle", "vehicles", "plate",
             "plates", "vrn", "registration number", "reg", "plate number", "number plate",
             "vehicle registration", "plate read"),
    "force": ("reporting force", "force", "reported force", "police force", "reported by"),
    "falls_within": ("falls within",),
    "nominals": ("nominal", "nominals", "suspects", "suspect", "offender_id", "offender ids",
                 "offenders", "offender"),
    "dogs": ("dogs", "dogs seen", "dog", "number of dogs"),
    "outcome": ("outcome", "result", "last outcome category", "outcome type"),
    "notes": ("notes", "note", "comments", "description", "details"),
    "crime_type": ("crime type", "offence", "offence type", "crime category", "category"),
    "location": ("location", "location description", "street", "place"),
    "lsoa_code": ("lsoa code", "lsoa"),
    "lsoa_name": ("lsoa name",),
    "context": ("context",),
    "search_type": ("type", "search type"),
    "legislation": ("legislation",),
    "object_of_search": ("object of search",),
    "camera_id": ("camera_id", "camera", "site", "camera site", "site id", "camera ref",
                  "deviceid", "device id", "device", "camera id", "camera number"),
    "camera_name": ("camera name", "name", "site name", "location", "camera location",
                    "device name"),
}

#: Fields looked for in incident files / ANPR read files.
INCIDENT_FIELDS: tuple[str, ...] = (
    "id", "time", "date", "clock", "month", "lat", "lon", "easting", "northing", "gridref",
    "vrms", "force", "falls_within", "nominals", "dogs", "outcome", "notes", "crime_type",
    "location", "lsoa_code", "lsoa_name", "context", "search_type", "legislation",
    "object_of_search",
)
SIGHTING_FIELDS: tuple[str, ...] = (
    "id", "time", "date", "clock", "lat", "lon", "easting", "northing", "gridref",
    "vrms", "camera_id", "camera_name",
)
#: Fields of a camera register (``harewatch cameras import``).
CAMERA_FIELDS: tuple[str, ...] = (
    "camera_id", "camera_name", "lat", "lon", "easting", "northing", "gridref",
)


def normalise_name(name: object) -> str:
    """Lower-case ``name`` and drop every character that is not ``a-z`` or ``0-9``.

    >>> normalise_name(" Date/Time Reported ")
    'datetimereported'
    """
    return _NON_ALNUM.sub("", str(name).lower())


_NORMALISED: dict[str, tuple[str, ...]] = {
    field: tuple(dict.fromkeys(normalise_name(a) for a in aliases))
    for field, aliases in ALIASES.items()
}


def match_columns(
    columns: Iterable[object],
    fields: Iterable[str] = INCIDENT_FIELDS,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, object]:
    """Map each field found to the column of ``columns`` that holds it.

    Parameters
    ----------
    columns : iterable
        Column labels of the raw table, in file order.
    fields : iterable of str
        Fields to look for (keys of :data:`ALIASES`).
    aliases : mapping, optional
        Replacement alias table (defaults to :data:`ALIASES`).

    Returns
    -------
    dict
        ``field -> column label`` for the fields present; absent fields are
        left out. A column is used for at most one field (fields are matched
        in the order given).
    """
    table = _NORMALISED if aliases is None else {
        f: tuple(dict.fromkeys(normalise_name(a) for a in al)) for f, al in aliases.items()
    }
    cols = list(columns)
    norm = [normalise_name(c) for c in cols]
    used: set[int] = set()
    found: dict[str, object] = {}
    for field in fields:
        wanted = table.get(field, ())
        best: int | None = None
        best_rank = len(wanted)
        for i, n in enumerate(norm):
            if i in used or n not in wanted:
                continue
            rank = wanted.index(n)
            # exact first alias beats anything; otherwise leftmost column wins
            if best is None or (rank == 0 and best_rank != 0):
                best, best_rank = i, rank
        if best is not None:
            used.add(best)
            found[field] = cols[best]
    return found


def is_known_column(name: object) -> bool:
    """Whether ``name`` is a column name Harewatch recognises (any field, any spelling)."""
    return normalise_name(name) in _KNOWN


_KNOWN = frozenset(n for names in _NORMALISED.values() for n in names)








