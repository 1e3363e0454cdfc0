"""Published file layouts Harewatch recognises, with or without their header line.

data.police.uk publishes three monthly files per force, always with the same
columns in the same order:

- **street**: crimes and anti-social behaviour (ASB rows have no Crime ID);
- **outcomes**: what became of crimes reported earlier;
- **stop and search**: searches with a full date-time and no id.

A file is recognised by its header (in any spelling :func:`geo.validate.columns.normalise_name`
folds together: ``Crime ID``, ``crime_id``, ``CRIME ID``) or, when a tool
dropped the header line, by the shape of its first row: the number of fields
and what each holds (a month ``2021-10``, a longitude, an LSOA code ``E01...``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from geo.validate.columns import normalise_name

__all__ = ["Layout", "LAYOUTS", "STREET", "OUTCOMES", "STOP_AND_SEARCH", "layout_of_header",
           "layout_of_row", "looks_like_data"]

_LON = r"^(-?\d{1,3}\.\d+)?$"
_LAT = r"^(-?\d{1,2}\.\d+)?$"
_MONTH = r"^\d{4}-\d{2}$"
_CRIME_ID = r"^([0-9a-fA-F]{64})?$"
_LSOA = r"^([EW]01\d{6})?$"
_WORDS = r"[A-Za-z]"
_ISO_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|Z)?$"
_BOOL = r"^(True|False|true|false|)$"


@dataclass(frozen=True)
class Layout:
    """A published file layout.

    Attributes
    ----------
    name : str
        Shown to users ("data.police.uk street").
    kind : str
        What its rows are: "incidents", "outcomes" or "stop_search".
    columns : tuple of str
        The published column names, in order.
    shapes : tuple of str or None
        Per column, a pattern every value of a real row matches (None: any),
        used to recognise the layout when the header line is missing.
    """

    name: str
    kind: str
    columns: tuple[str, ...]
    shapes: tuple[str | None, ...]

    def matches_row(self, cells: Sequence[str]) -> bool:
        """Whether a row of text cells has this layout's shape."""
        if len(cells) != len(self.columns):
            return False
        return all(p is None or re.search(p, c.strip()) for p, c in zip(self.shapes, cells,
                                                                        strict=True))


STREET = Layout(
    "data.police.uk street", "incidents",
    ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
     "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"),
    (_CRIME_ID, _MONTH, _WORDS, _WORDS, _LON, _LAT, None, _LSOA, None, _WORDS, None, None),
)
OUTCOMES = Layout(
    "data.police.uk outcomes", "outcomes",
    ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
     "LSOA code", "LSOA name", "Outcome type"),
    (_CRIME_ID, _MONTH, _WORDS, _WORDS, _LON, _LAT, None, _LSOA, None, _WORDS),
)
STOP_AND_SEARCH = Layout(
    "data.police.uk stop and search", "stop_search",
    ("Type", "Date", "Part of a policing operation", "Policing operation", "Latitude", "Longitude",
     "Gender", "Age range", "Self-defined ethnicity", "Officer-defined ethnicity", "Legislation",
     "Object of search", "Outcome", "Outcome linked to object of search",
     "Removal of more than just outer clothing"),
    (_WORDS, _ISO_TIME, _BOOL, None, _LAT, _LON, None, None, None, None, None, None, None, _BOOL,
     _BOOL),
)
#: Every layout, most columns first (a header is matched against the largest first).
LAYOUTS: tuple[Layout, ...] = (STOP_AND_SEARCH, STREET, OUTCOMES)


def layout_of_header(names: Sequence[object]) -> Layout | None:
    """The layout whose published columns are all among ``names`` (any spelling), or None."""
    have = {normalise_name(n) for n in names}
    for layout in LAYOUTS:
        if {normalise_name(c) for c in layout.columns} <= have:
            return layout
    return None


def layout_of_row(cells: Sequence[str]) -> Layout | None:
    """The layout a header-less first row has the shape of, or None."""
    for layout in LAYOUTS:
        if layout.matches_row(cells):
            return layout
    return None


_DATA_LIKE = re.compile(
    r"^\s*(-?\d+([.,]\d+)?|\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?([ T]\d{1,2}:\d{2}.*)?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]{2}\d{2}\s?[A-Z]{3})\s*$"
)


def looks_like_data(cells: Sequence[str]) -> bool:
    """Whether a first line is data rather than column names (numbers, dates, plates)."""
    filled = [c for c in cells if str(c).strip()]
    if not filled:
        return False
    data_like = sum(bool(_DATA_LIKE.match(str(c))) for c in filled)
    return data_like >= max(1, len(filled) // 3)
