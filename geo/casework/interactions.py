"""The interactions register: what a force did to a subject, validated row by row.

An *interaction* is one action on record against a subject (a plate or a
person id): words of advice / warning, Community Protection Warning (CPW),
Community Protection Notice (CPN), dispersal direction, dog seizure, vehicle
seizure, arrest, charge, conviction, or other. Each has the force that took
it (one of the seven), a date-time, an officer or reference number, an
optional linked incident id and a free-text note.

Validation rules (the discipline of :mod:`geo.incidents`)
---------------------------------------------------------
* Rows are numbered from 1 = the first data row after the header. Every row
  is accepted or rejected; a rejected row gets every problem found, joined
  with ``"; "`` in a fixed order (subject, type, force, time, id).
* A problem with the file itself (no subject column, no type column, no force
  column, no date/time column, a generic ``subject`` column without a
  ``kind`` column) is reported once in ``file_problems``, not on every row;
  no row is then read (all count as rejected, the rejects table stays empty).
* Subject: a plate column (``vrm``, ``plate``, ...) and/or a person column
  (``nominal``, ``person id``, ...), or a generic ``subject`` column with a
  ``kind`` column saying ``vehicle`` or ``person``. A row may name a plate
  and a person: the person is then the subject (notices are served on
  people) and the plate is kept in ``vrm``, so the action also shows on the
  plate's ladder row. A row naming neither is rejected ("missing subject"),
  one naming several plates too (an interaction names one plate).
* Type: one of :data:`INTERACTION_TYPES`, written in full or in a common
  short form (``CPW``, ``CPN``, ``s35 dispersal``, ``words of advice``,
  ``WOA``, ``dogs seized``...; see :data:`TYPE_SPELLINGS`). Anything else is
  rejected naming the accepted types; nothing is guessed.
* Force: one of the seven forces of the agreement, by name (``Norfolk``,
  ``Norfolk Constabulary``, ``Herts``...) or ONS code; kept as written in
  ``force_as_written`` and as the canonical name in ``force``.
* Date-time: as incidents (:func:`geo.times.parse_times`): ISO 8601 with an
  offset, or UK local time (GMT/BST) in ISO or ``dd/mm/yyyy HH:MM`` form; a
  date column and a time column are joined. Stored in UTC.
* The note is kept exactly as written (never stripped, never interpreted);
  officer/reference, incident id and interaction id are stripped of
  surrounding spaces.
* ``interaction_id``: the file's id column when given, else derived from the
  content (``"I"`` + 16 hex digits of a SHA-256 over the normalised fields),
  so the same interaction imported twice gets the same id.
* Exact duplicates (same id and same content) are collapsed into the first
  row and counted (``duplicates``; the kept row's ``copies``). A given id
  reused with different content is rejected, naming the first row.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from geo.casework import CaseworkInputError
from geo.forces import lookup_force
from geo.schema import REJECT_COLUMNS, SEVEN_FORCES
from geo.seasons import season_of
from geo.times import parse_times
from geo.validate.columns import match_columns
from geo.validate.common import (
    Problems,
    combine_time_text,
    normalise_plates,
    text_column,
)

__all__ = [
    "INTERACTION_TYPES",
    "TYPE_SPELLINGS",
    "INTERACTION_COLUMNS",
    "INTERACTION_ALIASES",
    "InteractionsResult",
    "validate_interactions",
    "normalise_type",
    "normalise_force",
    "interaction_id",
    "empty_interactions",
    "FORM_COLUMNS",
    "form_row",
]

#: Interaction type code -> label (the fixed vocabulary, in ladder order).
INTERACTION_TYPES: dict[str, str] = {
    "warning": "Words of advice / warning",
    "cpw": "Community Protection Warning",
    "cpn": "Community Protection Notice",
    "dispersal": "Dispersal direction",
    "dog_seizure": "Dog seizure",
    "vehicle_seizure": "Vehicle seizure",
    "arrest": "Arrest",
    "charge": "Charge",
    "conviction": "Conviction",
    "other": "Other",
}

#: Accepted spellings (compared after :func:`_type_key`) -> type code.
TYPE_SPELLINGS: dict[str, str] = {
    **{s: "warning" for s in (
        "warning", "warned", "words of advice", "woa", "words of advice warning",
        "words of advice or warning", "verbal warning", "written warning", "formal warning",
        "first warning", "warning letter", "advice")},
    **{s: "cpw" for s in (
        "cpw", "community protection warning", "community protection warning cpw")},
    **{s: "cpn" for s in (
        "cpn", "community protection notice", "community protection notice cpn")},
    **{s: "dispersal" for s in (
        "dispersal", "dispersal direction", "dispersal order", "dispersal notice",
        "s35", "s35 dispersal", "s35 direction", "s35 dispersal direction", "s35 notice",
        "direction to leave", "directed to leave")},
    **{s: "dog_seizure" for s in (
        "dog seizure", "dogs seizure", "dog seized", "dogs seized", "seized dog",
        "seized dogs", "seizure of dog", "seizure of dogs")},
    **{s: "vehicle_seizure" for s in (
        "vehicle seizure", "vehicle seized", "seized vehicle", "seizure of vehicle", "s59",
        "s59 seizure", "s59 vehicle seizure", "s165", "s165 seizure")},
    **{s: "arrest" for s in ("arrest", "arrested")},
    **{s: "charge" for s in (
        "charge", "charged", "summons", "summonsed", "postal requisition", "requisition")},
    **{s: "conviction" for s in (
        "conviction", "convicted", "guilty", "found guilty", "pleaded guilty", "guilty plea")},
    **{s: "other" for s in ("other", "misc", "miscellaneous")},
}

#: Columns of accepted interactions, in order.
INTERACTION_COLUMNS: list[str] = [
    "interaction_id",  # str: given or derived from content
    "subject",  # str: person id when given, else the plate
    "kind",  # str: "person" or "vehicle"
    "vrm",  # str: normalised plate ("" when none)
    "person_id",  # str: person / nominal id ("" when none)
    "type",  # str: code, a key of INTERACTION_TYPES
    "type_label",  # str: INTERACTION_TYPES[type]
    "type_as_written",  # str
    "force",  # str: canonical name of one of the seven forces
    "force_as_written",  # str
    "at",  # datetime64[us, UTC]
    "season",  # str: season label of ``at``
    "reference",  # str: officer or reference number ("" when none)
    "incident_id",  # str: linked incident ("" when none)
    "note",  # str: exactly as written
    "source_row",  # int64: 1-based data row of the (first) row
    "copies",  # int64: rows of the file collapsed into this one (>= 1)
]

#: Field -> accepted column names (compared after :func:`geo.validate.columns.normalise_name`).
INTERACTION_ALIASES: dict[str, tuple[str, ...]] = {
    "interaction_id": ("interaction_id", "interaction id", "action id", "record id", "id"),
    "incident_id": ("incident_id", "incident id", "incident", "incident ref",
                    "incident reference", "linked incident"),
    "vrm": ("vrm", "plate", "registration", "reg", "vrn", "vehicle", "registration number"),
    "person": ("person_id", "person id", "person", "nominal", "nominal id", "nominal_id",
               "offender id", "suspect id", "pnc id"),
    "subject": ("subject", "subject id", "subject_id"),
    "kind": ("kind", "subject kind", "subject type"),
    "type": ("type", "action", "interaction", "interaction type", "action type",
             "action taken"),
    "force": ("force", "police force", "serving force", "issuing force", "reporting force"),
    "time": ("occurred_at", "at", "datetime", "date/time", "date time", "served at",
             "timestamp", "date and time"),
    "date": ("date", "date served", "served date"),
    "clock": ("time", "time served"),
    "reference": ("reference", "ref", "officer", "officer ref", "officer reference",
                  "reference number", "collar number", "ref no"),
    "note": ("note", "notes", "comments", "details", "description"),
}

_FIELDS = tuple(INTERACTION_ALIASES)
_KIND_WORDS = {
    "vehicle": "vehicle", "vrm": "vehicle", "plate": "vehicle", "car": "vehicle",
    "registration": "vehicle", "person": "person", "nominal": "person", "people": "person",
    "individual": "person", "suspect": "person", "offender": "person",
}
_FILLER = {"served", "issued", "given", "made", "recorded", "a", "an", "the"}


@dataclass(frozen=True)
class InteractionsResult:
    """Outcome of validating one interactions file.

    Attributes
    ----------
    accepted : DataFrame
        :data:`INTERACTION_COLUMNS`, one row per distinct interaction, in file order.
    rejects : DataFrame
        ``row`` (1-based), ``id`` (interaction id as written, or None), ``reason``.
    rows : int
        Data rows read.
    duplicates : int
        Accepted rows collapsed into an earlier identical row.
    file_problems : tuple of str
        Problems of the file as a whole; when any, no row was read.
    """

    accepted: pd.DataFrame
    rejects: pd.DataFrame
    rows: int
    duplicates: int = 0
    file_problems: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.n_accepted + self.n_rejected != self.rows:
            raise AssertionError(
                f"{self.n_accepted} accepted + {self.n_rejected} rejected != {self.rows} rows")

    @property
    def n_accepted(self) -> int:
        """Rows accepted (duplicates included)."""
        return len(self.accepted) + self.duplicates

    @property
    def n_rejected(self) -> int:
        """Rows rejected (every row when the file has a file-level problem)."""
        return self.rows if self.file_problems else len(self.rejects)

    def to_report(self) -> dict:
        """JSON-serialisable summary (the output of ``harewatch interactions import``)."""
        return {
            "rows": int(self.rows),
            "accepted": self.n_accepted,
            "rejected": self.n_rejected,
            "duplicates": int(self.duplicates),
            "interactions": len(self.accepted),
            "file_problems": list(self.file_problems),
            "rejects": [
                {"row": int(r), "id": None if i is None or pd.isna(i) else str(i),
                 "reason": str(m)}
                for r, i, m in zip(self.rejects["row"], self.rejects["id"],
                                   self.rejects["reason"], strict=True)
            ],
        }


# --------------------------------------------------------------------------- vocabularies


def _type_key(text: str) -> str:
    """Comparable form of a type: lower case, words only, ``s 35``/``section 35`` -> ``s35``."""
    t = re.sub(r"[^0-9a-z]+", " ", str(text).lower().replace("&", " and ")).strip()
    t = re.sub(r"\b(?:s|sec|section)\s+(\d+)\b", r"s\1", t)
    return re.sub(r"\s+", " ", t)


@lru_cache(maxsize=4096)
def normalise_type(text: str) -> str | None:
    """Type code of a written interaction type, or None when not recognised.

    ``"CPW"``, ``"Community Protection Warning"`` -> ``"cpw"``;
    ``"s.35 dispersal"`` -> ``"dispersal"``; ``"served a CPN"`` -> ``"cpn"``.
    """
    key = _type_key(text)
    if key in TYPE_SPELLINGS:
        return TYPE_SPELLINGS[key]
    if key.replace(" ", "") in INTERACTION_TYPES:  # the codes themselves (dog_seizure)
        return key.replace(" ", "")
    if key.replace(" ", "_") in INTERACTION_TYPES:
        return key.replace(" ", "_")
    core = " ".join(w for w in key.split() if w not in _FILLER)
    return TYPE_SPELLINGS.get(core)


def normalise_force(text: str) -> str | None:
    """Canonical name of one of the seven forces, or None (the alias table of :mod:`geo.forces`).

    ``"Norfolk Constabulary"``, ``"NORFOLK"``, ``"E23000024"`` -> ``"Norfolk"``;
    ``"Herts Police"`` -> ``"Hertfordshire"``; ``"Lincolnshire"`` -> None.
    """
    force = lookup_force(str(text))
    return force.name if force is not None and force.in_agreement else None


def interaction_id(kind: str, subject: str, vrm: str, person_id: str, type_code: str,
                   force: str, at_iso: str, reference: str, incident_id: str, note: str) -> str:
    """Stable id derived from an interaction's normalised content: ``"I"`` + 16 hex digits."""
    content = "\x1f".join([kind, subject, vrm, person_id, type_code, force, at_iso, reference,
                           incident_id, note])
    return "I" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:16].upper()


def empty_interactions() -> pd.DataFrame:
    """A register with no rows and the dtypes of :data:`INTERACTION_COLUMNS`."""
    cols = {c: pd.Series([], dtype="str") for c in INTERACTION_COLUMNS}
    cols["at"] = pd.Series([], dtype="datetime64[us, UTC]")
    cols["source_row"] = pd.Series([], dtype="int64")
    cols["copies"] = pd.Series([], dtype="int64")
    return pd.DataFrame(cols)[INTERACTION_COLUMNS]


#: Columns of :func:`form_row` (one per field of a form; names from :data:`INTERACTION_ALIASES`).
FORM_COLUMNS = ["vrm", "person_id", "type", "force", "occurred_at", "reference", "incident_id",
                "note"]


def form_row(*, subject: str, kind: str, type_text: str, force: str, when: str,
             reference: str = "", incident_id: str = "", note: str = "") -> pd.DataFrame:
    """One interaction typed into a form, as a raw row for :func:`validate_interactions`.

    Nothing is checked here: the row goes through the same validation as an
    imported file (a form and a file give the same reasons).

    Parameters
    ----------
    subject : str
        The plate (``kind="vehicle"``) or the person id (``kind="person"``).
    kind : {"vehicle", "person"}
        Which column ``subject`` goes into.
    type_text, force, when : str
        Interaction type (code, label or short form), force, date-time (ISO
        8601 or UK local ``dd/mm/yyyy HH:MM``).
    reference, incident_id, note : str, optional
        Officer or reference number, linked incident id, free-text note.

    Returns
    -------
    DataFrame
        One row of text, columns :data:`FORM_COLUMNS`.

    Raises
    ------
    CaseworkInputError
        ``kind`` is neither "vehicle" nor "person".
    """
    if kind not in ("vehicle", "person"):
        raise CaseworkInputError(f"kind must be 'vehicle' or 'person', got {kind!r}")
    values = {"vrm": subject if kind == "vehicle" else "",
              "person_id": subject if kind == "person" else "",
              "type": type_text, "force": force, "occurred_at": when, "reference": reference,
              "incident_id": incident_id, "note": note}
    return pd.DataFrame({c: ["" if values[c] is None else str(values[c])] for c in FORM_COLUMNS},
                        dtype="str")


# --------------------------------------------------------------------------- file level


def _file_problems(cols: dict, found: list[str]) -> tuple[str, ...]:
    """Problems of the file's columns (each said once)."""
    out: list[str] = []
    if not any(k in cols for k in ("vrm", "person", "subject")):
        out.append("no subject column (expected a plate column such as 'vrm' or 'plate', or a "
                   "person column such as 'nominal' or 'person id')")
    elif "subject" in cols and "kind" not in cols:
        out.append(f"the {cols['subject']!r} column needs a 'kind' column saying 'vehicle' or "
                   "'person' for each row (or name the column 'vrm' or 'person id')")
    if "type" not in cols:
        out.append("no type column (expected e.g. 'type', 'action' or 'interaction')")
    if "force" not in cols:
        out.append("no force column (expected e.g. 'force')")
    if not any(k in cols for k in ("time", "date", "clock")):
        out.append("no date/time column (expected e.g. 'occurred_at', or 'date' and 'time')")
    if out:  # the columns found, said once, after the last problem
        out[-1] += "; columns found: " + (", ".join(repr(c) for c in found) or "none")
    return tuple(out)


# --------------------------------------------------------------------------- row checks


@dataclass(frozen=True)
class _Subjects:
    vrm: np.ndarray  # object array of normalised plates ("" none)
    person: np.ndarray  # object array of stripped person ids ("" none)


def _subjects(raw: pd.DataFrame, cols: dict, problems: Problems) -> _Subjects:
    """Plate and person of each row; problems: missing, several plates, bad kind, conflict."""
    plates, count = normalise_plates(text_column(raw, cols.get("vrm")))
    vrm = plates.to_numpy(dtype=object)
    person = text_column(raw, cols.get("person")).str.strip().to_numpy(dtype=object)
    problems.add(count > 1, "names several plates (one interaction names one plate)")
    bad_kind = np.zeros(len(raw), dtype=bool)
    if "subject" in cols:
        subj = text_column(raw, cols["subject"]).str.strip().to_numpy(dtype=object)
        kind_text = text_column(raw, cols["kind"]).str.strip().str.lower().to_numpy(dtype=object)
        kind = np.array([_KIND_WORDS.get(k, "") for k in kind_text], dtype=object)
        bad_kind = (subj != "") & (kind == "")
        msgs = np.array([f"unknown subject kind {k!r} (expected 'vehicle' or 'person')"
                         for k in kind_text], dtype=object)
        problems.add(bad_kind, msgs)
        as_plate, _ = normalise_plates(pd.Series(np.where(kind == "vehicle", subj, ""),
                                                 dtype="str"))
        as_plate = as_plate.to_numpy(dtype=object)
        as_person = np.where(kind == "person", subj, "")
        clash = ((as_plate != "") & (vrm != "") & (as_plate != vrm)) | (
            (as_person != "") & (person != "") & (as_person != person))
        problems.add(clash, "the subject column and the plate/person column disagree")
        vrm = np.where(vrm == "", as_plate, vrm)
        person = np.where(person == "", as_person, person)
    missing = (vrm == "") & (person == "") & ~bad_kind  # a bad kind was said already
    problems.add(missing, "missing subject (no plate or person id)")
    return _Subjects(vrm=np.asarray(vrm, dtype=object), person=np.asarray(person, dtype=object))


def _normalised(raw: pd.DataFrame, col, normalise) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(text as written, ``normalise(text) or ""``, blank) per row; each distinct text normalised once."""
    written = text_column(raw, col).to_numpy(dtype=object)
    codes, uniques = pd.factorize(pd.Series(written, dtype=object))
    mapped = np.array([normalise(u) or "" for u in uniques] + [""], dtype=object)
    blank = np.array([not str(w).strip() for w in written], dtype=bool)
    return written, mapped[codes], blank


def _types(raw: pd.DataFrame, cols: dict, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
    """(written type, type code or "") per row; problems: missing or unknown type."""
    written, code, blank = _normalised(raw, cols.get("type"), normalise_type)
    problems.add(blank, "missing type")
    accepted = ", ".join(INTERACTION_TYPES.values())
    msgs = np.array([f"unknown interaction type {w!r} (expected one of: {accepted}; or short "
                     "forms such as CPW, CPN, s35 dispersal, words of advice)" for w in written],
                    dtype=object)
    problems.add(~blank & (code == ""), msgs)
    return written, code


def _forces(raw: pd.DataFrame, cols: dict, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
    """(force as written, canonical name or "") per row; problems: missing, not of the seven."""
    written, name, blank = _normalised(raw, cols.get("force"), normalise_force)
    problems.add(blank, "missing force")
    seven = ", ".join(SEVEN_FORCES.values())
    msgs = np.array([f"force {w!r} is not one of the seven forces of the agreement ({seven})"
                     for w in written], dtype=object)
    problems.add(~blank & (name == ""), msgs)
    return written, name


def _times(raw: pd.DataFrame, cols: dict, problems: Problems) -> pd.Series:
    """UTC time per row (NaT where rejected); problems: missing, unparseable, clock change."""
    times, reasons = parse_times(combine_time_text(raw, cols))
    bad = (reasons != "").to_numpy(dtype=bool)
    problems.add(bad, reasons.to_numpy(dtype=object))
    return pd.to_datetime(times, utc=True).dt.as_unit("us")


# --------------------------------------------------------------------------- assembly


def _frame(raw: pd.DataFrame, cols: dict, subj: _Subjects, types: tuple, forces: tuple,
           times: pd.Series, start_month: int) -> pd.DataFrame:
    """Every row as an interaction (rows with problems included; filtered later)."""
    strip = {k: text_column(raw, cols.get(k)).str.strip().to_numpy(dtype=object)
             for k in ("reference", "incident_id", "interaction_id")}
    person_first = subj.person != ""
    code = types[1]
    frame = pd.DataFrame({
        "interaction_id": strip["interaction_id"],
        "subject": np.where(person_first, subj.person, subj.vrm),
        "kind": np.where(person_first, "person", "vehicle"),
        "vrm": subj.vrm,
        "person_id": subj.person,
        "type": code,
        "type_label": np.array([INTERACTION_TYPES.get(c, "") for c in code], dtype=object),
        "type_as_written": types[0],
        "force": forces[1],
        "force_as_written": forces[0],
        "at": times.array,
        "season": season_of(times, start_month).fillna("").to_numpy(dtype=object),
        "reference": strip["reference"],
        "incident_id": strip["incident_id"],
        "note": text_column(raw, cols.get("note")).to_numpy(dtype=object),
        "source_row": np.arange(1, len(raw) + 1, dtype="int64"),
        "copies": np.ones(len(raw), dtype="int64"),
    })
    return frame


def _content_keys(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(content key, derived id) per row."""
    at_iso = [t.isoformat() if pd.notna(t) else "" for t in frame["at"]]
    parts = zip(frame["kind"], frame["subject"], frame["vrm"], frame["person_id"], frame["type"],
                frame["force"], at_iso, frame["reference"], frame["incident_id"], frame["note"],
                strict=True)
    keys, ids = [], []
    for p in parts:
        p = [str(x) for x in p]
        keys.append("\x1f".join(p))
        ids.append(interaction_id(*p))
    return keys, ids


def _collapse(frame: pd.DataFrame, ok: np.ndarray, problems: Problems) -> tuple[pd.DataFrame, int]:
    """Accepted rows with duplicates collapsed; a given id reused with other content rejected."""
    keys, derived = _content_keys(frame)
    ids = np.where(frame["interaction_id"].to_numpy(dtype=object) == "",
                   np.array(derived, dtype=object), frame["interaction_id"].to_numpy(dtype=object))
    first_row: dict[str, tuple[int, str]] = {}
    conflict = np.zeros(len(frame), dtype=bool)
    dup = np.zeros(len(frame), dtype=bool)
    msgs = np.empty(len(frame), dtype=object)
    copies = np.ones(len(frame), dtype="int64")
    for pos in np.flatnonzero(ok):
        seen = first_row.get(ids[pos])
        if seen is None:
            first_row[ids[pos]] = (pos, keys[pos])
        elif seen[1] == keys[pos]:
            dup[pos] = True
            copies[seen[0]] += 1
        else:
            conflict[pos] = True
            msgs[pos] = (f"duplicate interaction id {ids[pos]!r} with different content (first "
                         f"used on row {seen[0] + 1})")
    problems.add(conflict, msgs)
    keep = ok & ~dup & ~conflict
    out = frame.assign(interaction_id=ids, copies=copies).iloc[np.flatnonzero(keep)]
    return out.reset_index(drop=True), int(dup.sum())


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical dtypes and column order."""
    out = frame[INTERACTION_COLUMNS].astype(
        {c: "str" for c in INTERACTION_COLUMNS if c not in ("at", "source_row", "copies")})
    out["at"] = pd.to_datetime(out["at"], utc=True).dt.as_unit("us")
    return out.astype({"source_row": "int64", "copies": "int64"})


def validate_interactions(raw: pd.DataFrame, *, start_month: int = 9) -> InteractionsResult:
    """Validate raw interaction rows (all text, as from :func:`geo.io.readers.read_table`).

    Parameters
    ----------
    raw : DataFrame
        One row per interaction, columns named as in the file (matched with
        :data:`INTERACTION_ALIASES`). Not modified.
    start_month : int, default 9
        Month (1..12) coursing seasons start in, for the ``season`` column.

    Returns
    -------
    InteractionsResult
        Accepted interactions (:data:`INTERACTION_COLUMNS`), rejects (row,
        id, reason), the row count, duplicates collapsed and file problems.

    Raises
    ------
    CaseworkInputError
        ``raw`` is not a DataFrame.
    """
    if not isinstance(raw, pd.DataFrame):
        raise CaseworkInputError(f"raw must be a DataFrame of text, got {type(raw).__name__}")
    n = len(raw)
    cols = match_columns(raw.columns, _FIELDS, INTERACTION_ALIASES)
    file_problems = _file_problems(cols, [str(c) for c in raw.columns])
    if file_problems:
        return InteractionsResult(empty_interactions(), pd.DataFrame(columns=REJECT_COLUMNS),
                                  n, 0, file_problems)
    problems = Problems(n)
    subj = _subjects(raw, cols, problems)
    types = _types(raw, cols, problems)
    forces = _forces(raw, cols, problems)
    times = _times(raw, cols, problems)
    frame = _frame(raw, cols, subj, types, forces, times, start_month)
    accepted, duplicates = _collapse(frame, ~problems.rejected, problems)
    ids_written = text_column(raw, cols["interaction_id"]) if "interaction_id" in cols else None
    rejects = problems.rejects_frame(ids_written)
    return InteractionsResult(_typed(accepted), rejects, n, duplicates, ())
