"""The case file of one subject: everything the seven forces hold on it, for a prosecutor.

:func:`case_file` assembles a JSON-able dict (only ``str``, ``int``,
``float``, ``bool``, ``None``, lists and dicts) with these keys:

``subject``
    ``{"id", "kind", "masked"}``.
``summary``
    Counts, forces, highest stage, next action of the latest season.
``incidents``
    Every incident linked to the subject in any force (neighbour forces
    too, marked ``counted: false``: they are outside the agreement's ladder),
    in time order, with place (grid reference, easting/northing) and force.
``reads``
    The subject's ANPR trail in time order (vehicles only).
``crossings``
    Border crossings of the trail (reads and incidents), each with
    ``near_incident`` / ``near_incident_ids`` (within ``window_h`` hours of
    one of the subject's incidents).
``interactions``
    Actions on record against the subject in any of the seven forces.
``ladder``
    Per season: stage, the evidence chain (the incidents that took the
    subject to each step), the actions on record, the next lawful action
    and the rule allowing it, and the gaps (:mod:`geo.casework.actions`).
``associates``
    Plates read with the subject (:func:`geo.casework.convoys.associates`),
    each with ``plate`` and its evidence (cameras and times).
``sources``
    Each section's data source and how its facts were derived.
``generated_at``
    ISO 8601 UTC time the file was assembled.

Times are ISO 8601 in UTC, with a ``local_time`` text in UK time (GMT/BST)
for reading. With ``mask=True`` (the default) plates and person ids are
masked (:mod:`geo.privacy`) everywhere and free-text notes are withheld (they
may name people); with ``mask=False`` everything is shown in full and notes
are kept exactly as written (renderers escape them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.casework import CaseworkInputError
from geo.casework.actions import ladder_with_actions, latest_positions
from geo.casework.convoys import associates
from geo.casework.interactions import empty_interactions
from geo.gridref import en_to_gridref
from geo.movements import border_crossings, crossings_near_incidents, vehicle_points
from geo.offenders import ladder as build_ladder
from geo.privacy import mask_id, mask_plate
from geo.schema import LONDON, MULTI_SEP

__all__ = ["CASE_KEYS", "NOTE_WITHHELD", "case_file"]

#: Top-level keys of a case file, in order.
CASE_KEYS = ["subject", "summary", "incidents", "reads", "crossings", "interactions", "ladder",
             "associates", "sources", "generated_at", "synthetic"]
#: Text standing in for a free-text note in a masked case file.
NOTE_WITHHELD = "[withheld in the masked copy]"


# --------------------------------------------------------------------------- small helpers


def _plate(text: object) -> str:
    return "".join(str(text).split()).upper()


def _split(cell: object) -> list[str]:
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    return [p.strip() for p in str(cell).split(MULTI_SEP) if p.strip()]


def _iso(t: pd.Timestamp) -> str:
    return pd.Timestamp(t).tz_convert("UTC").isoformat()


def _local(t: pd.Timestamp) -> str:
    """``01 Oct 2021 21:00 BST``."""
    return pd.Timestamp(t).tz_convert(LONDON).strftime("%d %b %Y %H:%M %Z")


def _grid(e: float, n: float) -> str:
    try:
        return str(en_to_gridref([e], [n], digits=8)[0])
    except ValueError:
        return ""


@dataclass(frozen=True)
class _Masker:
    """Masks plates and person ids, and withholds notes, when ``on``."""

    on: bool

    def plate(self, value: str) -> str:
        return mask_plate(value) if self.on else str(value)

    def person(self, value: str) -> str:
        return mask_id(value) if self.on else str(value)

    def subject(self, value: str, kind: str) -> str:
        return self.plate(value) if kind == "vehicle" else self.person(value)

    def note(self, value: object) -> str:
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        return NOTE_WITHHELD if self.on and text else text


# --------------------------------------------------------------------------- selection


def _resolve_kind(subject: str, kind: str | None, incidents: pd.DataFrame,
                  reads: pd.DataFrame | None, interactions: pd.DataFrame) -> tuple[str, str]:
    """(normalised subject, kind); a plate is upper case without spaces, an id stripped."""
    if kind not in (None, "vehicle", "person"):
        raise CaseworkInputError(f"kind must be 'vehicle' or 'person', got {kind!r}")
    plate, pid = _plate(subject), str(subject).strip()
    if kind is not None:
        return (plate, kind) if kind == "vehicle" else (pid, kind)
    as_plate = (any(plate in _split(v) for v in incidents["vrms"])
                or (reads is not None and (reads["vrm"].astype("str") == plate).any())
                or (interactions["vrm"].astype("str") == plate).any())
    as_person = (any(pid in _split(v) for v in incidents["nominals"])
                 or (interactions["person_id"].astype("str") == pid).any())
    if as_plate and as_person:
        raise CaseworkInputError(f"{subject!r} is both a plate and a person id in the data; "
                                 "say which with kind='vehicle' or kind='person'")
    if not (as_plate or as_person):
        raise CaseworkInputError(f"{subject!r} is in none of the incidents, ANPR reads or "
                                 "interactions")
    return (plate, "vehicle") if as_plate else (pid, "person")


def _subject_incidents(incidents: pd.DataFrame, subject: str, kind: str) -> pd.DataFrame:
    column = "vrms" if kind == "vehicle" else "nominals"
    norm = (lambda v: [_plate(x) for x in _split(v)]) if kind == "vehicle" else _split
    hit = np.array([subject in norm(v) for v in incidents[column]], dtype=bool)
    out = incidents[hit]
    return out.sort_values(["occurred_at", "incident_id"], kind="stable")


def _subject_reads(reads: pd.DataFrame | None, subject: str, kind: str) -> pd.DataFrame | None:
    if reads is None or kind != "vehicle":
        return None
    mine = reads[(reads["vrm"].astype("str") == subject).to_numpy(dtype=bool)]
    return mine.sort_values("read_at", kind="stable")


def _subject_interactions(interactions: pd.DataFrame, subject: str, kind: str) -> pd.DataFrame:
    column = "vrm" if kind == "vehicle" else "person_id"
    mine = interactions[(interactions[column].astype("str") == subject).to_numpy(dtype=bool)]
    return mine.sort_values(["at", "interaction_id"], kind="stable")


# --------------------------------------------------------------------------- sections


def _incident_records(inc: pd.DataFrame, m: _Masker) -> list[dict]:
    out = []
    for r in inc.to_dict("records"):
        e, n = float(r["easting"]), float(r["northing"])
        out.append({
            "incident_id": str(r["incident_id"]), "occurred_at": _iso(r["occurred_at"]),
            "local_time": _local(r["occurred_at"]), "force": str(r["force"]),
            "counted": bool(r.get("in_agreement", True)),
            "reported_force": str(r.get("reported_force", "") or ""),
            "grid_ref": _grid(e, n), "easting": e, "northing": n,
            "vrms": [m.plate(p) for p in _split(r.get("vrms"))],
            "nominals": [m.person(p) for p in _split(r.get("nominals"))],
            "dogs": str(r.get("dogs", "") or ""), "outcome": str(r.get("outcome", "") or ""),
            "notes": m.note(r.get("notes", "")),
        })
    return out


def _read_records(reads: pd.DataFrame | None) -> list[dict]:
    if reads is None:
        return []
    return [{"read_at": _iso(r["read_at"]), "local_time": _local(r["read_at"]),
             "camera_id": str(r.get("camera_id", "") or ""), "force": str(r.get("force", "") or ""),
             "easting": float(r["easting"]), "northing": float(r["northing"]),
             "grid_ref": _grid(float(r["easting"]), float(r["northing"]))}
            for r in reads.to_dict("records")]


def _crossing_records(inc: pd.DataFrame, reads: pd.DataFrame | None, subject: str, kind: str,
                      window_h: float, max_gap_h: float) -> list[dict]:
    if kind != "vehicle":
        return []
    only = inc.assign(vrms=subject)  # the subject's points only, not its companions'
    points = vehicle_points(only if len(only) else None, reads)
    if points.empty:
        return []
    c = crossings_near_incidents(border_crossings(points, max_gap_h), only, window_h)
    return [{"at": _iso(r["at"]), "local_time": _local(r["at"]), "from_force": r["from_force"],
             "to_force": r["to_force"], "camera_id": str(r["camera_id"]),
             "grid_ref": _grid(float(r["easting"]), float(r["northing"])),
             "easting": float(r["easting"]), "northing": float(r["northing"]),
             "near_incident": bool(r["near_incident"]),
             "near_incident_ids": _split(r["near_incident_ids"])}
            for r in c.to_dict("records")]


def _interaction_records(acts: pd.DataFrame, m: _Masker) -> list[dict]:
    return [{"interaction_id": str(r["interaction_id"]), "type": str(r["type"]),
             "type_label": str(r.get("type_label", "")), "force": str(r["force"]),
             "at": _iso(r["at"]), "local_time": _local(r["at"]),
             "reference": str(r.get("reference", "") or ""),
             "incident_id": str(r.get("incident_id", "") or ""),
             "vrm": m.plate(r["vrm"]) if r.get("vrm") else "",
             "person_id": m.person(r["person_id"]) if r.get("person_id") else "",
             "note": m.note(r.get("note", ""))}
            for r in acts.to_dict("records")]


def _ladder_records(rows: pd.DataFrame) -> list[dict]:
    rows = rows.sort_values("season", kind="stable")
    return [{"season": str(r["season"]), "stage": int(r["stage"]),
             "stage_label": str(r["stage_label"]), "n_incidents": int(r["n_incidents"]),
             "forces": [str(f) for f in r["forces"]], "border_hopper": bool(r["border_hopper"]),
             "evidence": [dict(e) for e in r["evidence"]],
             "actions": [dict(a) for a in r["actions"]], "next_action": str(r["next_action"]),
             "next_action_rule": str(r["next_action_rule"]), "gaps": [str(g) for g in r["gaps"]],
             "now_in": None if r["now_in"] is None else dict(r["now_in"])}
            for r in rows.to_dict("records")]


def _associate_records(assoc: pd.DataFrame, stages: Mapping[str, int], watch: bool,
                       m: _Masker) -> list[dict]:
    return [{"plate": m.plate(r["plate"]), "n_co_reads": int(r["n_co_reads"]),
             "n_cameras": int(r["n_cameras"]), "n_occasions": int(r["n_occasions"]),
             "cameras": [str(c) for c in r["cameras"]], "first_at": _iso(r["first_at"]),
             "last_at": _iso(r["last_at"]), "stage": int(stages.get(r["plate"], 0)),
             "worth_watching": bool(watch), "evidence": [dict(e) for e in r["evidence"]]}
            for r in assoc.to_dict("records")]


def _sources(given: Mapping[str, str] | None, within_min: float, window_h: float,
             max_gap_h: float) -> list[dict]:
    """Where each section comes from and how it was derived."""
    src = {"incidents": "incident files validated and stored by Harewatch",
           "reads": "ANPR read files validated and stored by Harewatch",
           "interactions": "the interactions register (files imported by the forces)",
           **(given or {})}
    how = [
        ("Incidents", src["incidents"], "incidents whose plate or person list names the "
         "subject; force from the incident location and the force boundaries"),
        ("ANPR trail", src["reads"], "every read of the subject's plate, in time order"),
        ("Border crossings", f"{src['reads']}; {src['incidents']}",
         f"consecutive sightings of the same trip (no gap over {max_gap_h:g} h) in different "
         f"forces; near an incident when within {window_h:g} h of one of the subject's incidents"),
        ("Interactions", src["interactions"], "actions on record naming the subject, as imported;"
         " notes kept as written"),
        ("Escalation ladder", src["incidents"] + "; " + src["interactions"],
         "incidents in the seven forces counted per season (1 warning, 2 proactive ASB measures, "
         "3 prosecution); next action by the rules of the agreement from the actions on record"),
        ("Associates", src["reads"], f"plates read by the same camera within {within_min:g} "
         "minutes of the subject, at 2 or more cameras or on 2 or more occasions"),
    ]
    return [{"section": s, "source": so, "derivation": d} for s, so, d in how]


# --------------------------------------------------------------------------- assembly


def _check_inputs(incidents: pd.DataFrame, reads: pd.DataFrame | None,
                  interactions: pd.DataFrame) -> None:
    needs = [(incidents, "incidents", ["incident_id", "occurred_at", "easting", "northing",
                                       "force", "in_agreement", "vrms", "nominals"]),
             (interactions, "interactions", ["interaction_id", "vrm", "person_id", "type",
                                             "force", "at"])]
    if reads is not None:
        needs.append((reads, "reads", ["vrm", "read_at", "easting", "northing", "force",
                                       "camera_id"]))
    for frame, what, cols in needs:
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise CaseworkInputError(f"{what} lack column(s): {', '.join(missing)}")


def case_file(
    subject: str,
    *,
    incidents: pd.DataFrame,
    reads: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    ladder: pd.DataFrame | None = None,
    kind: str | None = None,
    mask: bool = True,
    within_min: float = 5.0,
    window_h: float = 3.0,
    max_gap_h: float = 6.0,
    start_month: int = 9,
    sources: Mapping[str, str] | None = None,
    synthetic: bool = False,
    generated_at: dt.datetime | None = None,
) -> dict:
    """Assemble the case file of one subject (keys in the module docstring).

    Parameters
    ----------
    subject : str
        A plate (spaces and case ignored) or a person id.
    incidents : DataFrame
        Accepted incidents (:data:`geo.schema.INCIDENT_COLUMNS`). Not modified.
    reads : DataFrame, optional
        ANPR reads (:data:`geo.schema.SIGHTING_COLUMNS`); all of them (the
        associates are other plates). Not modified.
    interactions : DataFrame, optional
        The interactions register. Not modified.
    ladder : DataFrame, optional
        :func:`geo.offenders.ladder` output; built from ``incidents`` when None.
    kind : {"vehicle", "person"}, optional
        Needed only when ``subject`` is both a plate and a person id.
    mask : bool, default True
        Mask plates and ids and withhold notes (for copies that leave the force).
    within_min : float, default 5
        Minutes of a co-read for associates.
    window_h : float, default 3
        Hours either side of an incident for a crossing to be "near" it.
    max_gap_h : float, default 6
        Trip gap in hours (crossings, associates' occasions).
    start_month : int, default 9
        Month seasons start in.
    sources : mapping, optional
        Names of the data sources (``incidents``, ``reads``, ``interactions``).
    synthetic : bool, default False
        The data are a synthetic demo (every rendered page says so).
    generated_at : datetime, optional
        Defaults to now (UTC).

    Returns
    -------
    dict
        JSON-able; keys :data:`CASE_KEYS`.
    """
    regs = empty_interactions() if interactions is None else interactions
    _check_inputs(incidents, reads, regs)
    subj, kind = _resolve_kind(subject, kind, incidents, reads, regs)
    m = _Masker(bool(mask))
    inc = _subject_incidents(incidents, subj, kind)
    trail = _subject_reads(reads, subj, kind)
    acts = _subject_interactions(regs, subj, kind)
    full = build_ladder(incidents, start_month=start_month) if ladder is None else ladder
    mine = full[(full["subject"] == subj) & (full["kind"] == kind)]
    now = latest_positions(inc, trail)
    rows = ladder_with_actions(mine, acts, incidents=inc, now_in=now, start_month=start_month)
    stages = full[full["kind"] == "vehicle"].groupby("subject")["stage"].max().to_dict()
    assoc = associates(reads, subj, within_min=within_min, max_gap_h=max_gap_h) if (
        trail is not None and len(trail)) else None
    case = {
        "subject": {"id": m.subject(subj, kind), "kind": kind, "masked": m.on},
        "incidents": _incident_records(inc, m),
        "reads": _read_records(trail),
        "crossings": _crossing_records(inc, trail, subj, kind, window_h, max_gap_h),
        "interactions": _interaction_records(acts, m),
        "ladder": _ladder_records(rows),
        "associates": [] if assoc is None else _associate_records(
            assoc, stages, bool(len(rows) and rows["stage"].max() >= 2), m),
        "sources": _sources(sources, within_min, window_h, max_gap_h),
        "generated_at": (generated_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(),
        "synthetic": bool(synthetic),
    }
    case["summary"] = {**_summary(case), "season_start_month": int(start_month)}
    return {k: case[k] for k in CASE_KEYS}


def _summary(case: dict) -> dict:
    """Headline figures of an assembled case file."""
    latest = case["ladder"][-1] if case["ladder"] else None
    forces = list(dict.fromkeys(i["force"] for i in case["incidents"]))
    return {
        "n_incidents": len(case["incidents"]),
        "n_counted_incidents": sum(i["counted"] for i in case["incidents"]),
        "forces": forces,
        "first_incident_at": case["incidents"][0]["occurred_at"] if case["incidents"] else None,
        "last_incident_at": case["incidents"][-1]["occurred_at"] if case["incidents"] else None,
        "n_reads": len(case["reads"]),
        "n_crossings": len(case["crossings"]),
        "n_crossings_near_incident": sum(c["near_incident"] for c in case["crossings"]),
        "n_interactions": len(case["interactions"]),
        "n_associates": len(case["associates"]),
        "highest_stage": max((r["stage"] for r in case["ladder"]), default=0),
        "latest_season": latest["season"] if latest else None,
        "next_action": latest["next_action"] if latest else None,
        "next_action_rule": latest["next_action_rule"] if latest else None,
    }
