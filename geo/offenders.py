"""The cross-border escalation ladder of the seven-force agreement.

Anti-social behaviour linked to hare coursing in any of the seven forces
counts in all of them. Per *subject* and coursing season:

1. first incident: a warning;
2. second incident, in any of the seven forces: proactive ASB measures;
3. third (and any later) incident: prosecution.

A subject is a normalised plate (``kind="vehicle"``) or, separately, a
nominal id (``kind="person"``); an incident linked to a plate and two
nominals counts once for each of the three subjects.

Decisions (documented so analysts can check them):

- Only incidents in the seven forces (``in_agreement`` True) count.
  Incidents in neighbour forces (e.g. Lincolnshire) are outside the
  agreement: they are excluded from the ladder, its evidence and
  ``border_hopper``. They still flag a crossing as near an incident in
  :func:`geo.movements.crossings_near_incidents`.
- The ladder restarts each season (seasons from :mod:`geo.seasons`, starting
  on the 1st of ``start_month`` 00:00 Europe/London); a subject with incidents
  in two seasons has two rows.
- Incidents of one subject are ordered by time, then incident id; the stage
  evidence is its 1st, 2nd and 3rd incident in that order.
- The same plate or nominal listed twice in one incident counts once.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from geo._config import DEFAULTS
from geo._frames import (
    as_text,
    explode_multi,
    group_bounds,
    isin_strings,
    iso_utc,
    require_columns,
    utc_us,
)
from geo.movements import crossings_near_incidents
from geo.privacy import is_vehicle_kind
from geo.seasons import season_of

__all__ = [
    "STAGES",
    "LADDER_COLUMNS",
    "ladder",
    "latest_force",
    "latest_sighting",
]

#: Stage number -> action under the agreement.
STAGES: dict[int, str] = {1: "warning", 2: "proactive ASB measures", 3: "prosecution"}

#: Columns of :func:`ladder`.
LADDER_COLUMNS: list[str] = [
    "subject",
    "kind",
    "season",
    "incidents",
    "forces",
    "n_incidents",
    "stage",
    "stage_label",
    "border_hopper",
    "first_at",
    "last_at",
    "evidence",
    "crossings",
]

_KEYS = ["subject", "kind", "season"]
INCIDENT_REQUIRED = ["incident_id", "occurred_at", "force", "in_agreement", "vrms", "nominals"]




def _empty_ladder() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subject": pd.Series([], dtype="str"),
            "kind": pd.Series([], dtype="str"),
            "season": pd.Series([], dtype="str"),
            "incidents": pd.Series([], dtype="object"),
            "forces": pd.Series([], dtype="object"),
            "n_incidents": pd.Series([], dtype="int64"),
            "stage": pd.Series([], dtype="int64"),
            "stage_label": pd.Series([], dtype="str"),
            "border_hopper": pd.Series([], dtype="bool"),
            "first_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "last_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "evidence": pd.Series([], dtype="object"),
            "crossings": pd.Series([], dtype="object"),
        }
    )


def _counted(incidents: pd.DataFrame) -> pd.DataFrame:
    """The incidents that count for the ladder (``in_agreement`` True)."""
    return incidents[
        incidents["in_agreement"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ]


def _subjects(values: pd.Series, kind: str) -> pd.Series:
    """Exploded subjects of a ``vrms`` or ``nominals`` column (index: source row positions)."""
    subj = explode_multi(values)
    if kind == "vehicle":  # plates are normalised already; be tolerant of stray case/spaces
        subj = subj.str.upper().str.replace(r"\s+", "", regex=True)
    return subj


def ladder_plates(incidents: pd.DataFrame) -> np.ndarray:
    """Distinct plates the ladder of ``incidents`` can list (those of counted incidents,
    normalised as its vehicle subjects), in order of first appearance."""
    return _subjects(_counted(incidents)["vrms"], "vehicle").unique()


def incident_links(incidents: pd.DataFrame, start_month: int) -> pd.DataFrame:
    """One row per (subject, kind, incident) of the counted incidents, in ladder order."""
    counted = _counted(incidents)
    parts = []
    for column, kind in (("vrms", "vehicle"), ("nominals", "person")):
        subj = _subjects(counted[column], kind)
        src = counted.iloc[subj.index.to_numpy()]
        parts.append(
            pd.DataFrame(
                {
                    "subject": subj.to_numpy(),
                    "kind": kind,
                    "incident_id": as_text(src["incident_id"]).to_numpy(),
                    "force": as_text(src["force"]).to_numpy(),
                    "occurred_at": utc_us(src["occurred_at"], "occurred_at").array,
                }
            )
        )
    links = pd.concat(parts, ignore_index=True)
    links = links.astype({"subject": "str", "kind": "str", "incident_id": "str", "force": "str"})
    links = links[links["occurred_at"].notna()]
    links["season"] = season_of(links["occurred_at"], start_month).astype("str").to_numpy()
    links = links.drop_duplicates(["subject", "kind", "incident_id"])
    return links.sort_values(_KEYS + ["occurred_at", "incident_id"], kind="stable").reset_index(
        drop=True
    )


def _crossing_lists(
    crossings: pd.DataFrame,
    incidents: pd.DataFrame,
    start_month: int,
    window_h: float,
    vehicles: pd.Index,
) -> dict[tuple[str, str], list[dict]]:
    """(vrm, season) -> list of crossing dicts in time order, for plates in ``vehicles``."""
    require_columns(crossings, ["vrm", "from_force", "to_force", "at", "camera_id"], "crossings")
    c = crossings[isin_strings(crossings["vrm"], vehicles)]
    if "near_incident" not in c.columns:
        c = crossings_near_incidents(c, incidents, window_h)
    if c.empty:
        return {}
    c = pd.DataFrame(
        {
            "subject": as_text(c["vrm"]).to_numpy(),
            "at": utc_us(c["at"], "at").array,
            "from": as_text(c["from_force"]).to_numpy(),
            "to": as_text(c["to_force"]).to_numpy(),
            "camera_id": as_text(c["camera_id"]).to_numpy(),
            "near_incident": c["near_incident"]
            .astype("boolean")
            .fillna(False)
            .to_numpy(dtype=bool),
        }
    )
    c["season"] = season_of(c["at"], start_month).astype("str").to_numpy()
    c = c.sort_values(["subject", "season", "at", "camera_id"], kind="stable", ignore_index=True)
    records = [
        {"from": f, "to": t, "at": at, "camera_id": cam, "near_incident": bool(near)}
        for f, t, at, cam, near in zip(
            c["from"].tolist(),
            c["to"].tolist(),
            iso_utc(c["at"]),
            c["camera_id"].tolist(),
            c["near_incident"].tolist(),
            strict=True,
        )
    ]
    starts, ends = group_bounds(c[["subject", "season"]])
    subj = c["subject"].to_numpy()[starts]
    seas = c["season"].to_numpy()[starts]
    return {(s, se): records[x:y] for s, se, x, y in zip(subj, seas, starts, ends, strict=True)}


def ladder(
    incidents: pd.DataFrame,
    *,
    start_month: int = DEFAULTS.start_month,
    crossings: pd.DataFrame | None = None,
    forces: Collection[str] | str | None = None,
    window_h: float = DEFAULTS.window_h,
    near: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Escalation stage of every plate and nominal, per season.

    Parameters
    ----------
    incidents : (Geo)DataFrame
        Accepted incidents with at least ``incident_id, occurred_at``
        (tz-aware), ``force, in_agreement, vrms, nominals``. Not modified.
        Incidents with ``in_agreement`` False (neighbour forces) are ignored.
    start_month : int, default 9
        Month (1..12) seasons start in (1st, 00:00 Europe/London).
    crossings : DataFrame, optional
        Border crossings (:func:`geo.movements.border_crossings` or
        :func:`geo.movements.crossings_from_parquet`), optionally with
        ``near_incident`` from :func:`geo.movements.crossings_near_incidents`;
        when that column is absent it is computed against ``incidents`` with
        ``window_h``. Each vehicle row lists its crossings of that season
        (season of the crossing time ``at``). Not modified.
    forces : collection of str or str, optional
        Show only subjects with at least one counted incident (in that
        season) in one of these forces. Stages still count incidents in all
        seven forces: that is the agreement.
    window_h : float, default 3.0
        Hours either side of a linked incident for ``near_incident`` (only used
        when ``crossings`` lacks that column).
    near : (Geo)DataFrame, optional
        The incidents a crossing is flagged near (default ``incidents``), e.g.
        every season's while the ladder counts one season's. Only the crossings
        of the ladder's plates are flagged.

    Returns
    -------
    DataFrame
        One row per (subject, kind, season), columns :data:`LADDER_COLUMNS`:
        ``incidents`` (list of ids by time), ``forces`` (distinct, order of
        first appearance), ``n_incidents``, ``stage`` (1, 2 or 3),
        ``stage_label``, ``border_hopper`` (incidents in 2+ forces),
        ``first_at``/``last_at`` (UTC), ``evidence`` (list of dicts ``stage,
        stage_label, incident_id, force, occurred_at`` (ISO 8601), one per
        stage reached: the incident that took the subject there),
        ``crossings`` (list of dicts ``from, to, at, camera_id,
        near_incident``; ``[]`` for persons or without ``crossings``).
        Sorted by stage desc, n_incidents desc, subject, kind, season.

    Raises
    ------
    ValueError
        Missing columns, naive times, bad ``start_month``.
    """
    require_columns(incidents, INCIDENT_REQUIRED, "incidents")
    season_of(pd.Series([], dtype="datetime64[us, UTC]"), start_month)  # validates start_month
    links = incident_links(incidents, start_month)
    if links.empty:
        return _empty_ladder()

    # links are sorted by subject, kind, season, time: each group is one contiguous run
    starts, ends = group_bounds(links[_KEYS])
    n_groups = len(starts)
    gid = np.repeat(np.arange(n_groups), ends - starts)
    rank = np.arange(len(links)) - starts[gid] + 1
    ids = links["incident_id"].tolist()
    out = links[_KEYS].iloc[starts].reset_index(drop=True)
    out["incidents"] = [ids[x:y] for x, y in zip(starts, ends, strict=True)]
    out["n_incidents"] = (ends - starts).astype("int64")
    out["first_at"] = links["occurred_at"].iloc[starts].array
    out["last_at"] = links["occurred_at"].iloc[ends - 1].array

    # distinct forces in order of first appearance
    first_seen = ~pd.DataFrame({"g": gid, "f": links["force"].to_numpy()}).duplicated().to_numpy()
    f_gid = gid[first_seen]
    f_names = links["force"].to_numpy()[first_seen].tolist()
    f_starts = np.searchsorted(f_gid, np.arange(n_groups))
    f_ends = np.append(f_starts[1:], len(f_gid))
    out["forces"] = [f_names[x:y] for x, y in zip(f_starts, f_ends, strict=True)]
    out["border_hopper"] = (f_ends - f_starts) >= 2

    # evidence: the 1st, 2nd and 3rd incident of each subject
    ev_rows = np.flatnonzero(rank <= len(STAGES))
    ev_links = links.iloc[ev_rows]
    records = [
        {
            "stage": int(r),
            "stage_label": STAGES[int(r)],
            "incident_id": i,
            "force": f,
            "occurred_at": t,
        }
        for r, i, f, t in zip(
            rank[ev_rows].tolist(),
            ev_links["incident_id"].tolist(),
            ev_links["force"].tolist(),
            iso_utc(ev_links["occurred_at"]),
            strict=True,
        )
    ]
    e_starts = np.searchsorted(gid[ev_rows], np.arange(n_groups))
    e_ends = np.append(e_starts[1:], len(ev_rows))
    out["evidence"] = [records[x:y] for x, y in zip(e_starts, e_ends, strict=True)]

    out["stage"] = np.minimum(out["n_incidents"].to_numpy(), len(STAGES)).astype("int64")
    out["stage_label"] = out["stage"].map(STAGES).astype("str")

    if forces is not None:
        names = [forces] if isinstance(forces, str) else list(forces)
        hit = np.zeros(n_groups, dtype=bool)
        hit[f_gid[pd.Series(f_names, dtype="object").isin(names).to_numpy()]] = True
        out = out[hit].reset_index(drop=True)
        if out.empty:
            return _empty_ladder()

    crossing_lists: dict[tuple[str, str], list[dict]] = {}
    if crossings is not None:
        vehicles = out.loc[out["kind"] == "vehicle", "subject"].unique()
        crossing_lists = _crossing_lists(
            crossings, incidents if near is None else near, start_month, window_h,
            pd.Index(vehicles),
        )
    out["crossings"] = [
        list(crossing_lists.get((s, se), [])) if k == "vehicle" else []
        for s, k, se in zip(
            out["subject"].tolist(), out["kind"].tolist(), out["season"].tolist(), strict=True
        )
    ]

    out = out.sort_values(
        ["stage", "n_incidents", "subject", "kind", "season"],
        ascending=[False, False, True, True, True],
        kind="stable",
    )
    return out[LADDER_COLUMNS].reset_index(drop=True)








def ladder_from_crossings(
    incidents: pd.DataFrame,
    season_incidents: pd.DataFrame,
    crossings: pd.DataFrame,
    *,
    start_month: int,
    window_h: float,
    forces: Collection[str] | str | None,
) -> pd.DataFrame:
    """The ladder of ``season_incidents`` with ``crossings`` flagged near any of ``incidents``.

    Only crossings of the ladder's plates are flagged (each crossing's flag depends on its
    own plate and time only): scanning every plate (``all_plates``) of the 10M-read
    benchmark store gives 1.2M crossings, 29,000 of them of the ladder's plates.
    """
    crossings = crossings.drop(columns=["near_incident", "near_incident_ids"], errors="ignore")
    return ladder(season_incidents, start_month=start_month, crossings=crossings, forces=forces,
                  window_h=window_h, near=incidents)


def latest_force(ladder_rows: pd.DataFrame, incidents: pd.DataFrame) -> np.ndarray:
    """Force of each ladder row's latest incident: "who has been warned elsewhere and is now here".

    Parameters
    ----------
    ladder_rows : DataFrame
        :func:`ladder` rows (``incidents``: the row's incident ids, oldest first).
    incidents : DataFrame
        Incidents with ``incident_id`` and ``force``.

    Returns
    -------
    numpy.ndarray of str
        One force name per row, aligned with ``ladder_rows``; ``""`` when the
        latest incident is not in ``incidents``.
    """
    force_of = pd.Series(incidents["force"].astype(str).to_numpy(),
                         index=incidents["incident_id"].astype(str).to_numpy())
    force_of = force_of[~force_of.index.duplicated()]
    last_id = ladder_rows["incidents"].str[-1].astype(str)
    return last_id.map(force_of).fillna("").to_numpy()


def _last_per_subject(subject: pd.Series, at: pd.Series, force: pd.Series, source: pd.Series) -> pd.DataFrame:
    """The latest (at, force, source) of each subject; ties keep the first given."""
    # .array: tz-aware times stay datetime64 (.to_numpy() makes an object array of Timestamps)
    df = pd.DataFrame({"subject": subject.astype(str).to_numpy(), "at": pd.to_datetime(at, utc=True).array,
                       "force": force.astype(str).to_numpy(), "source": source.astype(str).to_numpy()})
    df = df[(df["subject"] != "") & df["at"].notna()]
    df = df.sort_values("at", kind="stable")
    return df.drop_duplicates("subject", keep="last").set_index("subject")


def latest_sighting(ladder_rows: pd.DataFrame, incidents: pd.DataFrame,
                    points: pd.DataFrame | None = None) -> pd.DataFrame:
    """Where each ladder subject was seen last, and how: "who is in our area now".

    Parameters
    ----------
    ladder_rows : DataFrame
        :func:`ladder` rows (``subject``, ``kind``).
    incidents : DataFrame
        Incidents with ``occurred_at``, ``force``, ``vrms`` and ``nominals``.
    points : DataFrame, optional
        ``geo.movements.vehicle_points`` (ANPR reads and incident plates,
        ``vrm, at, force, kind``); without it vehicles are placed by their
        incidents only.

    Returns
    -------
    DataFrame
        Aligned with ``ladder_rows``: ``now_in`` (force of the latest ANPR read
        or incident, whichever is later; ``""`` when unknown), ``now_in_from``
        (``"ANPR read"`` or ``"incident"``) and ``now_in_at`` (UTC). People are
        placed by incidents only (ANPR reads plates).
    """
    inc = pd.DataFrame(incidents)
    parts = {}
    for col, kind in (("vrms", "vehicle"), ("nominals", "person")):
        items = inc[col].astype(str).str.split(";") if col in inc.columns else pd.Series([], dtype=object)
        ex = inc.assign(_s=items).explode("_s") if len(inc) else inc.assign(_s=[])
        parts[kind] = _last_per_subject(ex["_s"].fillna(""), ex["occurred_at"], ex["force"],
                                        pd.Series("incident", index=ex.index))
    if points is not None and len(points):
        src = np.where(points["kind"].astype(str) == "read", "ANPR read", "incident")
        parts["vehicle"] = _last_per_subject(points["vrm"], points["at"], points["force"],
                                             pd.Series(src, index=points.index))
    vehicle = np.asarray(is_vehicle_kind(ladder_rows["kind"]), dtype=bool) if len(ladder_rows) else np.array([], bool)
    subjects = ladder_rows["subject"].astype(str)
    out = pd.DataFrame({"now_in": "", "now_in_from": "", "now_in_at": pd.NaT}, index=ladder_rows.index)
    out["now_in_at"] = pd.to_datetime(out["now_in_at"], utc=True)
    for kind, mask in (("vehicle", vehicle), ("person", ~vehicle)):
        hit = parts[kind].reindex(subjects[mask].to_numpy())
        out.loc[mask, "now_in"] = hit["force"].fillna("").to_numpy()
        out.loc[mask, "now_in_from"] = hit["source"].fillna("").to_numpy()
        out.loc[mask, "now_in_at"] = pd.to_datetime(hit["at"], utc=True).to_numpy()
    return out
