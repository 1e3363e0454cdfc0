"""Canonical column names shared by every module.

Accepted incidents and sightings are GeoDataFrames in EPSG:27700 with these
columns (in this order, plus ``geometry`` last). Times are timezone-aware UTC;
convert to Europe/London only for display and for season/hour arithmetic.
Multi-valued text fields (plates, nominals) are stored as one string joined
with ``;`` (empty string when none), already normalised.
"""

from __future__ import annotations

__all__ = [
    "BNG",
    "WGS84",
    "LONDON",
    "SEVEN_FORCES",
    "INCIDENT_COLUMNS",
    "INCIDENT_DEFAULTS",
    "SIGHTING_COLUMNS",
    "REJECT_COLUMNS",
    "MULTI_SEP",
    "UTC_US",
    "SUBJECT_KINDS",
]

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
LONDON = "Europe/London"
MULTI_SEP = ";"
#: Canonical time dtype of frames: timezone-aware UTC at microsecond resolution.
UTC_US = "datetime64[us, UTC]"
#: Subject kinds of the ladder: a plate is a "vehicle", a nominal id a "person".
SUBJECT_KINDS: tuple[str, str] = ("vehicle", "person")

#: The seven forces of the agreement, by ONS PFA code (stable across years).
SEVEN_FORCES: dict[str, str] = {
    "E23000023": "Cambridgeshire",
    "E23000024": "Norfolk",
    "E23000025": "Suffolk",
    "E23000026": "Bedfordshire",
    "E23000027": "Hertfordshire",
    "E23000028": "Essex",
    "E23000032": "Kent",
}

INCIDENT_COLUMNS: list[str] = [
    "incident_id",  # str, unique, required
    "occurred_at",  # datetime64[*, UTC]
    "easting",  # float64, metres, EPSG:27700
    "northing",  # float64, metres, EPSG:27700
    "force",  # str: force area the point lies in (one of the seven or a neighbour)
    "force_code",  # str: ONS PFA code of that force
    "in_agreement",  # bool: force is one of the seven
    "reported_force",  # str: as written in the file ("" when absent)
    "force_mismatch",  # bool: reported_force given and differs from force
    "vrms",  # str: normalised plates joined by ";" ("" when none)
    "nominals",  # str: nominal / suspect ids joined by ";" ("" when none)
    "dogs",  # str: as written
    "outcome",  # str: as written
    "notes",  # str: exactly as written (never interpreted as markup)
    "crime_type",  # str: as recorded ("Anti-social behaviour", a force's own code, ...)
    "location",  # str: location text as written ("On or near Park Road")
    "lsoa_code",  # str: LSOA code of the location (data.police.uk)
    "lsoa_name",  # str: LSOA name
    "context",  # str: extra context as written
    "legislation",  # str: stop and search: power used
    "object_of_search",  # str: stop and search: what was searched for
    "time_precision",  # str: "minute", "day" or "month" (see geo.times.time_precision)
    "force_distance_m",  # float, metres: 0 inside the force; > 0 assigned as nearest (coast)
    "source_row",  # int: 1-based data row number in the source file
]

#: Value of each incident column added after 0.2.0, for rows stored before it.
INCIDENT_DEFAULTS: dict[str, object] = {
    "crime_type": "",
    "location": "",
    "lsoa_code": "",
    "lsoa_name": "",
    "context": "",
    "legislation": "",
    "object_of_search": "",
    "time_precision": "minute",
    "force_distance_m": 0.0,
}

SIGHTING_COLUMNS: list[str] = [
    "vrm",  # str: one normalised plate
    "read_at",  # datetime64[*, UTC]
    "easting",
    "northing",
    "force",
    "force_code",
    "in_agreement",
    "camera_id",  # str ("" when absent)
    "source_row",
]

#: Rejected rows: 1-based data row number, id as written (None if absent), reason.
REJECT_COLUMNS: list[str] = ["row", "id", "reason"]
