"""Border-hoppers page: ladder rows to show, their table, timelines and download.

A subject is a vehicle (plate) or a person (nominal id); which one is
``geo.privacy.is_vehicle_kind`` of the ladder's ``kind`` (``"vehicle"`` or
``"person"``, ``geo.schema.SUBJECT_KINDS``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dashboard.views.format import london_naive
from geo.privacy import is_vehicle_kind, mask_frame, mask_subject
from geo.schema import LONDON

__all__ = [
    "HOPPER_TABLE_COLUMNS",
    "SUBJECT_KINDS_SHOWN",
    "as_list",
    "hoppers_csv",
    "hoppers_table",
    "hoppers_view",
    "n_subjects",
    "rows_for",
    "subject_label",
    "subject_options",
    "subject_timeline",
    "timelines",
    "vehicle_stages",
]


#: Columns of the Border-hoppers table, on screen and in its CSV, in order.
HOPPER_TABLE_COLUMNS = ["subject", "kind", "season", "stage", "action", "incidents", "forces", "now in",
                        "last seen", "evidence", "crossings", "first", "last"]
#: The vehicle/person choice of the Border-hoppers page -> ladder kind kept (None: both).
SUBJECT_KINDS_SHOWN: dict[str, str | None] = {"Vehicles and people": None, "Vehicles": "vehicle",
                                              "People": "person"}


def as_list(v: Any) -> list:
    if isinstance(v, list | tuple | np.ndarray):
        return list(v)
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    return [x for x in str(v).split(";") if x]


def hoppers_view(ladder: pd.DataFrame, *, season: str | None, forces: tuple[str, ...] | None = None,
                 now_in: str | None = None, only_hoppers: bool = True, min_stage: int = 1,
                 kind: str | None = None) -> pd.DataFrame:
    """Ladder rows to show: this season, touching ``forces``, optionally border-hoppers only.

    Parameters
    ----------
    ladder : DataFrame
        ``geo.offenders.ladder`` output (plus ``geo.offenders.latest_force``).
    season : str or None
        Keep that season's rows (None: every season).
    forces : tuple of str, optional
        Keep subjects with an incident in one of these forces.
    now_in : str, optional
        Keep subjects whose latest incident is in this force ("who has been
        warned elsewhere and is now in our area").
    only_hoppers : bool
        Keep subjects with incidents in two or more forces.
    min_stage : int
        Keep rows at this ladder stage or higher.
    kind : {"vehicle", "person"}, optional
        Keep only vehicles (plates) or only people (nominal ids).
    """
    if ladder is None or not len(ladder):
        return pd.DataFrame(ladder).copy() if ladder is not None else pd.DataFrame()
    df = pd.DataFrame(ladder)
    keep = np.ones(len(df), dtype=bool)
    if season is not None:
        keep &= (df["season"].astype(str) == season).to_numpy()
    if only_hoppers and "border_hopper" in df.columns:
        keep &= df["border_hopper"].astype(bool).to_numpy()
    if "stage" in df.columns:
        keep &= (pd.to_numeric(df["stage"], errors="coerce").fillna(0) >= min_stage).to_numpy()
    if forces is not None:
        wanted = set(forces)
        keep &= df["forces"].map(lambda v: bool(wanted.intersection(as_list(v)))).to_numpy(dtype=bool)
    if kind is not None:
        vehicle = np.asarray(is_vehicle_kind(df["kind"]), dtype=bool)
        keep &= vehicle if kind == "vehicle" else ~vehicle
    if now_in and "latest_force" in df.columns:
        keep &= (df["latest_force"].astype(str) == now_in).to_numpy()
    return df[keep].reset_index(drop=True)


def n_subjects(ladder_rows: pd.DataFrame) -> int:
    """Distinct (subject, kind) in some ladder rows."""
    if ladder_rows is None or not len(ladder_rows):
        return 0
    return int(ladder_rows[["subject", "kind"]].drop_duplicates().shape[0])


def hoppers_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Display table of ladder rows: who, stage, action, where now, evidence.

    ``now in`` is the force of the subject's latest ANPR read or incident,
    whichever is later; ``last seen`` says which and when (``"ANPR read ·
    2022-02-03 21:40 +00:00"``). Times are London time with their UTC offset.
    Columns :data:`HOPPER_TABLE_COLUMNS`.
    """
    from geo.io.export import london_stamps

    cols = HOPPER_TABLE_COLUMNS
    if rows is None or not len(rows):
        return pd.DataFrame({c: [] for c in cols})
    ev = rows["evidence"].map(_evidence_text) if "evidence" in rows.columns else ""
    ncross = rows["crossings"].map(lambda v: len(as_list(v))) if "crossings" in rows.columns else 0
    seen = ""
    if "latest_from" in rows.columns and "latest_at" in rows.columns:
        when = london_stamps(rows["latest_at"]).to_numpy(dtype=object)
        src = rows["latest_from"].astype(str).to_numpy(dtype=object)
        seen = np.where(when != "", src + " · " + when, src)
    return pd.DataFrame(
        {
            "subject": rows["subject"].astype(str),
            "kind": rows["kind"].astype(str),
            "season": rows["season"].astype(str),
            "stage": rows["stage"].astype(int),
            "action": rows["stage_label"].astype(str),
            "incidents": rows["n_incidents"].astype(int),
            "forces": rows["forces"].map(lambda v: ", ".join(map(str, as_list(v)))),
            "now in": rows["latest_force"].astype(str) if "latest_force" in rows.columns else "",
            "last seen": seen,
            "evidence": ev,
            "crossings": ncross,
            "first": london_stamps(rows["first_at"]).to_numpy(),
            "last": london_stamps(rows["last_at"]).to_numpy(),
        }
    )[cols]


def _evidence_text(ev: Any) -> str:
    """``[{stage, incident_id, force, occurred_at}, ...]`` -> ``"1: N001 Norfolk 2021-10-02; 2: ..."``."""
    parts = []
    for e in as_list(ev):
        if isinstance(e, dict):
            when = str(e.get("occurred_at", ""))[:10]
            parts.append(f"{e.get('stage', '')}: {e.get('incident_id', '')} {e.get('force', '')} {when}".strip())
    return "; ".join(parts)


def subject_timeline(subject: str, kind: str, incidents_all: pd.DataFrame, trail: pd.DataFrame | None,
                     crossings: pd.DataFrame | None) -> pd.DataFrame:
    """Everything known about one subject in time order: incidents, ANPR reads, crossings.

    Columns ``at`` (London time, naive), ``what`` ("incident"/"ANPR read"/
    "crossing"), ``force``, ``ref`` (incident id, camera id or "A > B").
    """
    cols = ["at", "what", "force", "ref"]
    col = "vrms" if is_vehicle_kind(str(kind)) else "nominals"
    parts = []
    if incidents_all is not None and len(incidents_all) and col in incidents_all.columns:
        items = incidents_all[col].astype(str).str.split(";")
        hit = items.map(lambda xs: subject in xs).to_numpy(dtype=bool)
        sel = incidents_all[hit]
        parts.append(pd.DataFrame({"at": sel["occurred_at"], "what": "incident",
                                   "force": sel["force"].astype(str), "ref": sel["incident_id"].astype(str)}))
    if trail is not None and len(trail):
        t = trail[(trail["vrm"] == subject) & (trail["kind"] == "read")]
        parts.append(pd.DataFrame({"at": t["at"], "what": "ANPR read", "force": t["force"].astype(str),
                                   "ref": t["ref"].astype(str)}))
    if crossings is not None and len(crossings):
        c = crossings[crossings["vrm"] == subject]
        parts.append(pd.DataFrame({"at": c["at"], "what": "crossing", "force": c["to_force"].astype(str),
                                   "ref": c["from_force"].astype(str) + " > " + c["to_force"].astype(str)}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: [] for c in cols})
    out = pd.concat(parts, ignore_index=True)
    out["at"] = pd.to_datetime(out["at"], utc=True)
    out = out.sort_values("at", kind="stable").reset_index(drop=True)
    out["at"] = london_naive(out["at"])
    return out[cols]


def _row_key(kind: Any, subject: Any, season: Any) -> str:
    return f"{kind}|{subject}|{season}"


def subject_label(subject: str, kind: str, redact: bool) -> str:
    """A ladder subject (plate or nominal id), masked when redacting."""
    return mask_subject(subject, str(kind)) if redact else str(subject)


def subject_options(rows: pd.DataFrame, *, redact: bool) -> dict[str, str]:
    """Stable option values ("kind|subject|season") -> display labels (masked when redacting)."""
    if rows is None or not len(rows):
        return {}
    out = {}
    for kind, subj, season, stage in zip(rows["kind"], rows["subject"], rows["season"], rows["stage"], strict=True):
        out[_row_key(kind, subj, season)] = (
            f"{subject_label(subj, kind, redact)} ({kind}, {season}, stage {int(stage)})"
        )
    return out


def rows_for(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Ladder rows whose option value is in ``keys`` (see :func:`subject_options`)."""
    k = rows["kind"].astype(str) + "|" + rows["subject"].astype(str) + "|" + rows["season"].astype(str)
    return rows[k.isin(list(keys)).to_numpy()]


def timelines(sel: pd.DataFrame, incidents_all: pd.DataFrame, trail: pd.DataFrame | None,
              crossings: pd.DataFrame | None, *, redact: bool, start_month: int = 9) -> pd.DataFrame:
    """Timelines of the selected ladder rows (each limited to its season), subject labels masked."""
    from geo.seasons import season_bounds

    parts = []
    for subj, kind, season in zip(sel["subject"], sel["kind"], sel["season"], strict=True):
        vehicle = bool(is_vehicle_kind(str(kind)))
        tl = subject_timeline(str(subj), str(kind), incidents_all,
                              trail if vehicle else None, crossings if vehicle else None)
        if len(tl):
            try:
                start, end = season_bounds(str(season), start_month)
            except ValueError:
                start = end = None
            if start is not None:
                lo = start.tz_convert(LONDON).tz_localize(None)
                hi = end.tz_convert(LONDON).tz_localize(None)
                tl = tl[((tl["at"] >= lo) & (tl["at"] < hi)).to_numpy()]
        tl.insert(0, "subject", subject_label(str(subj), str(kind), redact))
        parts.append(tl)
    if not parts:
        return pd.DataFrame({c: [] for c in ["subject", "at", "what", "force", "ref"]})
    return pd.concat(parts, ignore_index=True)


def hoppers_csv(table: pd.DataFrame, *, redact: bool) -> bytes:
    """The Border-hoppers table exactly as on screen (:func:`hoppers_table`, masked like the
    screen when ``redact``), as formula-safe CSV."""
    from geo.io.export import to_safe_csv

    return to_safe_csv(mask_frame(pd.DataFrame(table), redact))


def vehicle_stages(sel: pd.DataFrame) -> dict[str, int]:
    """Plate -> highest stage among selected ladder rows of vehicles (plate order)."""
    if sel is None or not len(sel):
        return {}
    veh = sel[np.asarray(is_vehicle_kind(sel["kind"]), dtype=bool)]
    best = veh.groupby(veh["subject"].astype(str))["stage"].max()
    return {str(k): int(v) for k, v in best.sort_index().items()}
