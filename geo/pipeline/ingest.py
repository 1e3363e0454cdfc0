"""The one read-validate-ingest path: the CLI, the dashboard's Data page and the watcher use it.

:func:`check_file` reads any supported file (path or bytes), detects its kind
when not given (:func:`guess_kind`: a published layout, ANPR reads, or
incidents), validates it row by row and returns a :class:`FileCheck` that
never raises for bad content: a file that cannot be used at all carries its
``error``, said once. :func:`ingest_check` stores what was accepted.
:func:`load_incidents` and :func:`load_sightings` are the raising shortcuts
for library users.

Exit codes (one table for every command that reads input, see README):
0 every row accepted, 1 some rows rejected, 2 nothing usable (no row
accepted, or the file could not be read) or an error naming its cause.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import IO

import pandas as pd

from geo._config import DEFAULTS, Settings
from geo.areas import ForceAreas
from geo.errors import InputError, UnreadableFile
from geo.io.provenance import append_provenance, is_synthetic, provenance_record
from geo.io.readers import read_table
from geo.schema import REJECT_COLUMNS
from geo.validate.columns import normalise_name
from geo.validate.common import ValidationResult
from geo.validate.incidents import validate_incidents
from geo.validate.layouts import LAYOUTS
from geo.validate.sightings import validate_sightings

__all__ = ["KINDS", "FileCheck", "guess_kind", "describe", "validate_table", "check_file",
           "ingest_check", "exit_code", "top_reasons", "load_incidents", "load_sightings"]

#: The kinds of input file Harewatch validates and stores.
KINDS = ("incidents", "sightings", "outcomes")
EXIT_OK, EXIT_REJECTS, EXIT_UNUSABLE = 0, 1, 2

_LAYOUT_KIND = {layout.name: ("outcomes" if layout.kind == "outcomes" else "incidents")
                for layout in LAYOUTS}
_PLATE = {"vrm", "vrms", "registration", "vehicle", "plate", "platenumber", "numberplate", "vrn"}
_READ = {"readat", "cameraid", "site", "camera", "deviceid", "device", "siteid", "timestamp",
         "readdate", "readtime"}
_INCIDENT_ID = {"incidentid", "incidentref", "incidentreference", "reference", "ref", "id",
                "crimeid"}
#: Column names (normalised) that only an incidents file has.
_INCIDENT_ONLY = {"incidentid", "incidentref", "incidentreference", "incidentnumber", "crimeid"}


def guess_kind(columns, layout: str | None = None) -> str:
    """``"incidents"``, ``"sightings"`` or ``"outcomes"`` from a file's layout or column names.

    A published layout decides (data.police.uk street and stop and search
    files are incidents, outcomes files outcomes). Otherwise a file with an
    incident reference column is incidents; one with a plate and a read time
    or camera but no reference is ANPR reads.
    """
    if layout in _LAYOUT_KIND:
        return _LAYOUT_KIND[layout]
    cols = {normalise_name(c) for c in columns}
    if cols & _INCIDENT_ID:
        return "incidents"
    if cols & _READ and cols & _PLATE:
        return "sightings"
    return "incidents"


def describe(kind: str, layout: str | None) -> str:
    """How a file was read, for people: "data.police.uk street file", "ANPR reads", ..."""
    if layout:
        return f"{layout} file"
    return {"sightings": "ANPR reads", "outcomes": "outcomes", "cameras": "camera register"}.get(
        kind, "incidents")


def validate_table(raw: pd.DataFrame, kind: str, areas: ForceAreas, *,
                   cameras: pd.DataFrame | None = None,
                   settings: Settings = DEFAULTS, geometry: bool = True) -> ValidationResult:
    """Validate an already-read table as ``kind`` (see :data:`KINDS`); ``geometry=False``:
    accepted rows without the point geometry (see :func:`validate_incidents`)."""
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "sightings":
        return validate_sightings(raw, areas, cameras=cameras, settings=settings,
                                  geometry=geometry)
    result = validate_incidents(raw, areas, settings=settings, geometry=geometry)
    if result.kind != kind:  # --kind overrides what the layout suggests
        from dataclasses import replace

        result = replace(result, kind=kind)
    return result


@dataclass
class FileCheck:
    """A file read and validated: ``result`` when it could be used, else ``error``.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS` (given, or guessed from the layout and columns).
    result : ValidationResult or None
        Accepted rows and per-row rejects.
    error : str or None
        Why the file as a whole could not be used (said once, not per row).
    read_as : str
        How it was read, for people ("data.police.uk street file").
    unreadable : bool
        True when ``error`` says the file could not be read at all (as
        opposed to a file that was read but cannot be used as ``kind``).
    source : str
        The file's name (or path), for the store's provenance log.
    synthetic : bool
        The file carries the demo marker (``geo.io.provenance.is_synthetic``).
    """

    kind: str
    result: ValidationResult | None = None
    error: str | None = None
    read_as: str = ""
    unreadable: bool = False
    source: str = ""
    synthetic: bool = False

    @property
    def ok(self) -> bool:
        return self.result is not None and self.error is None

    def counts(self) -> dict[str, int]:
        r = self.result
        return {"rows": int(r.rows), "accepted": int(r.n_accepted), "rejected": int(r.n_rejected),
                "duplicates_collapsed": int(r.collapsed)}

    def rejects(self) -> pd.DataFrame:
        rej = pd.DataFrame(self.result.rejects) if self.result is not None else pd.DataFrame()
        for c in REJECT_COLUMNS:
            if c not in rej.columns:
                rej[c] = pd.Series(dtype=object)
        return rej[REJECT_COLUMNS].reset_index(drop=True)


def _kind_of(kind: str | None) -> str | None:
    if kind is None:
        return None
    k = str(kind).lower()
    return "sightings" if k.startswith(("sight", "anpr", "read")) else (
        "outcomes" if k.startswith("outcome") else "incidents")


def check_file(
    source: str | os.PathLike | IO | bytes, areas: ForceAreas, *, name: str | None = None,
    kind: str | None = None, cameras: pd.DataFrame | None = None,
    settings: Settings | None = None, layout_refines: bool = False,
    refuse_incidents: bool = False, geometry: bool = True,
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
    kind : {"incidents", "sightings", "outcomes"}, optional
        Guessed from the layout and column names when not given.
    cameras : DataFrame, optional
        Camera register, to place ANPR reads that have a camera but no coordinates.
    settings : Settings, optional
        Limits and tolerances (default :meth:`Settings.from_env`).
    layout_refines : bool
        With ``kind="incidents"``: a data.police.uk outcomes file is still
        read as outcomes (``harewatch ingest incidents`` of an outcomes file
        stores outcomes, not crimes).
    refuse_incidents : bool, default False
        With ``kind="sightings"``: a file with an incident id column is an
        incidents file, refused as a whole (``error``; ``result`` None).
    geometry : bool, default True
        False: accepted rows without the point geometry (a plain DataFrame;
        ``easting``/``northing`` hold the points) for callers that never use it.
    """
    settings = settings or Settings.from_env()
    kind = _kind_of(kind)
    label = name or (os.fspath(source) if isinstance(source, str | os.PathLike) else "file")
    try:
        raw = read_table(source, name=name, limits=settings)
    except UnreadableFile as exc:
        return FileCheck(kind=kind or "incidents", error=str(exc), unreadable=True)
    if refuse_incidents and kind == "sightings" and (
            {normalise_name(c) for c in raw.columns} & _INCIDENT_ONLY or raw.attrs.get("layout")):
        return FileCheck(kind="incidents", result=None, error=(
            "looks like an incidents file (it has an incident id column, or a police "
            "layout); the watcher takes ANPR reads only: use 'harewatch ingest incidents'"))
    layout = raw.attrs.get("layout")
    synthetic = is_synthetic(raw)
    if kind is None or (layout_refines and kind == "incidents"):
        kind = guess_kind(raw.columns, layout) if kind is None else _LAYOUT_KIND.get(layout, kind)
    read_as = describe(kind, layout)
    try:
        result = validate_table(raw, kind, areas, cameras=cameras, settings=settings,
                                geometry=geometry)
    except InputError as exc:  # a file-level problem: no time or location column, ...
        return FileCheck(kind=kind, error=f"{label}: {exc}", read_as=read_as, source=label)
    return FileCheck(kind=kind, result=result, read_as=read_as, source=label, synthetic=synthetic)


def ingest_check(check: FileCheck, data_dir: str | os.PathLike | None) -> dict:
    """Store the accepted rows of a checked file; the JSON summary of what was done.

    Every ingest is recorded in the store's provenance log
    (``geo.io.provenance``: file, time, kind, rows, synthetic or not); the
    summary says ``synthetic`` too.
    """
    from geo.io.store.layout import store_root
    from geo.io.store.write import ingest

    if not check.ok:
        raise UnreadableFile(check.error or "the file could not be used")
    result = check.result
    report = ingest(result, data_dir)
    append_provenance(store_root(data_dir), provenance_record(
        file=check.source, kind=result.kind, rows=result.rows, rows_added=report.rows_added,
        synthetic=check.synthetic))
    return {**check.counts(), "kind": result.kind, "read_as": check.read_as,
            "force_mismatches": result.to_report().get("force_mismatches", 0),
            "synthetic": check.synthetic, **report.to_dict()}


def exit_code(result: ValidationResult | None) -> int:
    """0 every row accepted, 1 some rejected, 2 nothing usable (see the module docstring)."""
    if result is None or (result.n_accepted == 0 and result.collapsed == 0):
        return EXIT_UNUSABLE
    return EXIT_REJECTS if result.n_rejected else EXIT_OK


def top_reasons(result: ValidationResult, n: int = 3) -> list[tuple[str, int]]:
    """The ``n`` commonest reject reasons with their counts (first reason of each row)."""
    firsts = (str(r).split("; ")[0] for r in result.rejects["reason"])
    return Counter(firsts).most_common(n)


def load_incidents(path: str | os.PathLike | IO | bytes, areas: ForceAreas,
                   name: str | None = None) -> ValidationResult:
    """Read (:func:`geo.io.readers.read_table`) and validate an incident file.

    Raises
    ------
    UnreadableFile
        When the file cannot be read at all.
    """
    return validate_incidents(read_table(path, name=name), areas)


def load_sightings(path: str | os.PathLike | IO | bytes, areas: ForceAreas,
                   name: str | None = None) -> ValidationResult:
    """Read (:func:`geo.io.readers.read_table`) and validate an ANPR read file.

    Raises
    ------
    UnreadableFile
        When the file cannot be read at all.
    """
    return validate_sightings(read_table(path, name=name), areas)
