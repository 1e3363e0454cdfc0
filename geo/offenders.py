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

import os
from collections.abc import Collection, Iterable, Sequence

import numpy as np
import pandas as pd

from geo.columns import distinct_plates
from geo.movements import (
    _check_hours_positive,
    _explode_multi,
    _group_bounds,
    _isin,
    _require,
    _text,
    _utc_us,
    crossings_from_parquet,
    crossings_near_incidents,
)
from geo.seasons import season_of

__all__ = [
    "STAGES",
    "LADDER_COLUMNS",
    "ladder",
    "offenders_to_json",
    "offenders_to_frame",
    "offenders_from_store",
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
_INCIDENT_REQUIRED = ["incident_id", "occurred_at", "force", "in_agreement", "vrms", "nominals"]


def _iso(values: pd.Series) -> list[str]:
    """ISO 8601 strings in UTC, as ``Timestamp.isoformat()`` gives them (vectorised).

    ``2021-10-01T20:40:00+00:00``; microseconds appear only when non-zero.
    """
    if len(values) == 0:
        return []
    us = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
    base = np.datetime_as_string(us, unit="s").astype(object)
    micro = us.view("int64") % 1_000_000
    frac = np.where(micro != 0, np.char.mod(".%06d", micro).astype(object), "")
    return (base + frac + "+00:00").tolist()


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


def _links(incidents: pd.DataFrame, start_month: int) -> pd.DataFrame:
    """One row per (subject, kind, incident) of the counted incidents, in ladder order."""
    counted = incidents[
        incidents["in_agreement"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ]
    parts = []
    for column, kind in (("vrms", "vehicle"), ("nominals", "person")):
        subj = _explode_multi(counted[column])
        if column == "vrms":  # plates are normalised already; be tolerant of stray case/spaces
            subj = subj.str.upper().str.replace(r"\s+", "", regex=True)
        src = counted.iloc[subj.index.to_numpy()]
        parts.append(
            pd.DataFrame(
                {
                    "subject": subj.to_numpy(),
                    "kind": kind,
                    "incident_id": _text(src["incident_id"]).to_numpy(),
                    "force": _text(src["force"]).to_numpy(),
                    "occurred_at": _utc_us(src["occurred_at"], "occurred_at").array,
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
    _require(crossings, ["vrm", "from_force", "to_force", "at", "camera_id"], "crossings")
    c = crossings[_isin(crossings["vrm"], vehicles)]
    if "near_incident" not in c.columns:
        c = crossings_near_incidents(c, incidents, window_h)
    if c.empty:
        return {}
    c = pd.DataFrame(
        {
            "subject": _text(c["vrm"]).to_numpy(),
            "at": _utc_us(c["at"], "at").array,
            "from": _text(c["from_force"]).to_numpy(),
            "to": _text(c["to_force"]).to_numpy(),
            "camera_id": _text(c["camera_id"]).to_numpy(),
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
            _iso(c["at"]),
            c["camera_id"].tolist(),
            c["near_incident"].tolist(),
            strict=True,
        )
    ]
    starts, ends = _group_bounds(c[["subject", "season"]])
    subj = c["subject"].to_numpy()[starts]
    seas = c["season"].to_numpy()[starts]
    return {(s, se): records[x:y] for s, se, x, y in zip(subj, seas, starts, ends, strict=True)}


def ladder(
    incidents: pd.DataFrame,
    *,
    start_month: int = 9,
    crossings: pd.DataFrame | None = None,
    forces: Collection[str] | str | None = None,
    window_h: float = 3.0,
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
    _require(incidents, _INCIDENT_REQUIRED, "incidents")
    season_of(pd.Series([], dtype="datetime64[us, UTC]"), start_month)  # validates start_month
    links = _links(incidents, start_month)
    if links.empty:
        return _empty_ladder()

    # links are sorted by subject, kind, season, time: each group is one contiguous run
    starts, ends = _group_bounds(links[_KEYS])
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
            _iso(ev_links["occurred_at"]),
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
            crossings, incidents, start_month, window_h, pd.Index(vehicles)
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


def offenders_to_json(df: pd.DataFrame) -> dict:
    """The ladder as a JSON-serialisable dict (CLI and API contract).

    Parameters
    ----------
    df : DataFrame
        Output of :func:`ladder`. Not modified.

    Returns
    -------
    dict
        ``{"offenders": [{"subject", "kind", "season", "incidents", "forces",
        "stage", "stage_label", "border_hopper", "crossings", "first_at",
        "last_at", "evidence", "n_incidents"}, ...]}`` in the ladder's order;
        times are ISO 8601 strings in UTC; only built-in Python types.
    """
    _require(df, LADDER_COLUMNS, "ladder")
    first = _iso(df["first_at"]) if len(df) else []
    last = _iso(df["last_at"]) if len(df) else []
    rows = [
        {
            "subject": str(subject),
            "kind": str(kind),
            "season": str(season),
            "incidents": [str(i) for i in incidents],
            "forces": [str(f) for f in forces_],
            "stage": int(stage),
            "stage_label": str(label),
            "border_hopper": bool(hopper),
            "crossings": [dict(c) for c in crossings],
            "first_at": f,
            "last_at": la,
            "evidence": [dict(e) for e in evidence],
            "n_incidents": int(n),
        }
        for subject, kind, season, incidents, forces_, stage, label, hopper, crossings, f, la, evidence, n in zip(
            df["subject"],
            df["kind"],
            df["season"],
            df["incidents"],
            df["forces"],
            df["stage"],
            df["stage_label"],
            df["border_hopper"],
            df["crossings"],
            first,
            last,
            df["evidence"],
            df["n_incidents"],
            strict=True,
        )
    ]
    return {"offenders": rows}


def offenders_to_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The ladder flattened for CSV: one scalar per cell, lists joined by ``;``.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`ladder`. Not modified.

    Returns
    -------
    DataFrame
        ``subject, kind, season, stage, stage_label, n_incidents,
        border_hopper, forces, incidents, first_at, last_at`` (ISO 8601),
        for each stage *s* in 1..3 ``stage{s}_incident, stage{s}_force,
        stage{s}_at`` (``""`` when not reached), ``n_crossings``,
        ``n_crossings_near_incident`` and ``crossings`` (``"from>to@at"``
        joined by ``;``). Cells are plain text: pass the frame through
        :func:`geo.export.to_safe_csv` to write it.
    """
    _require(df, LADDER_COLUMNS, "ladder")
    n = len(df)
    out = pd.DataFrame(
        {
            "subject": _text(df["subject"]).to_numpy(),
            "kind": _text(df["kind"]).to_numpy(),
            "season": _text(df["season"]).to_numpy(),
            "stage": df["stage"].to_numpy(dtype="int64"),
            "stage_label": _text(df["stage_label"]).to_numpy(),
            "n_incidents": df["n_incidents"].to_numpy(dtype="int64"),
            "border_hopper": df["border_hopper"].to_numpy(dtype=bool),
            "forces": [";".join(map(str, v)) for v in df["forces"]],
            "incidents": [";".join(map(str, v)) for v in df["incidents"]],
            "first_at": _iso(df["first_at"]) if n else [],
            "last_at": _iso(df["last_at"]) if n else [],
        }
    )
    for s in STAGES:
        for field, key in (("incident", "incident_id"), ("force", "force"), ("at", "occurred_at")):
            out[f"stage{s}_{field}"] = [
                str(ev[s - 1][key]) if len(ev) >= s else "" for ev in df["evidence"]
            ]
    out["n_crossings"] = np.array([len(c) for c in df["crossings"]], dtype="int64")
    out["n_crossings_near_incident"] = np.array(
        [sum(bool(x["near_incident"]) for x in c) for c in df["crossings"]], dtype="int64"
    )
    out["crossings"] = [
        ";".join(f"{x['from']}>{x['to']}@{x['at']}" for x in c) for c in df["crossings"]
    ]
    return out


def _scan_plan(
    incidents: pd.DataFrame,
    season: str | None,
    start_month: int,
    window_h: float,
    plates: Iterable[str] | None,
    all_plates: bool,
) -> tuple[pd.DataFrame, list[str] | None]:
    """Validated inputs of a store scan: (incidents of the season, plates to scan).

    Shared by :func:`offenders_from_store` and :func:`geo.dask_engine.offenders_dask`
    so both engines scan the same plates. Plates to scan: ``plates`` when
    given, None (every plate) when ``all_plates``, else the plates linked to
    counted incidents (of the season, if given).
    """
    _require(incidents, _INCIDENT_REQUIRED, "incidents")
    _check_hours_positive(window_h, "window_h", allow_zero=True)
    if plates is not None and all_plates:
        raise ValueError("pass either plates or all_plates=True, not both")
    inc = incidents
    if season is not None:
        from geo.seasons import filter_incidents

        inc = filter_incidents(incidents, season=season, start_month=start_month)
    if all_plates:
        return inc, None
    if plates is None:
        counted = inc[inc["in_agreement"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
        plates = _explode_multi(counted["vrms"]).unique().tolist()
    return inc, list(plates)


def _ladder_from_crossings(
    incidents: pd.DataFrame,
    season_incidents: pd.DataFrame,
    crossings: pd.DataFrame,
    *,
    start_month: int,
    window_h: float,
    forces: Collection[str] | str | None,
) -> pd.DataFrame:
    """The ladder of ``season_incidents`` with ``crossings`` flagged near any of ``incidents``."""
    crossings = crossings_near_incidents(crossings, incidents, window_h)
    return ladder(season_incidents, start_month=start_month, crossings=crossings, forces=forces)


def offenders_from_store(
    incidents: pd.DataFrame,
    sightings_paths: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    season: str | None = None,
    start_month: int = 9,
    max_gap_h: float = 6.0,
    window_h: float = 3.0,
    forces: Collection[str] | str | None = None,
    plates: Iterable[str] | None = None,
    all_plates: bool = False,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """The ladder with each vehicle's border crossings scanned from the sightings store.

    Only the plates linked to counted incidents (in the season, if given)
    are scanned: the crossings of other plates could never appear in the
    ladder. The duckdb scan (:func:`geo.movements.crossings_from_parquet`)
    reads only the columns it needs, and a semi-join drops the other plates'
    reads before the sort. On 10M reads (200,000 plates, 20,000 incidents
    linking 5,000 plates; ``benchmarks/bench_offenders.py``) this takes
    about 2.2 s including loading the incidents (4.5 M reads/s, peak RSS
    0.4 GB) on 2 shared cores. Scanning every plate gives the same ladder
    (the benchmark checks that too) but takes 6-7 times the CPU, because all
    10M reads are sorted. :func:`geo.dask_engine.offenders_dask` gives the
    same result on a dask cluster.

    Parameters
    ----------
    incidents : (Geo)DataFrame
        Accepted incidents (see :func:`ladder`). Not modified.
    sightings_paths : str, path or sequence, optional
        Sightings parquet files, directory or glob. Give this or ``data_dir``.
    data_dir : path, optional
        Store root: its partitioned sightings are scanned, pruned to the
        season's months (plus the ``max_gap_h`` margin) and to the buckets of
        the scanned plates (:func:`geo.store.sightings_paths`).
    season : str, optional
        Only this season (label such as ``"2021-22"``): incidents and crossings.
    start_month : int, default 9
        Month seasons start in.
    max_gap_h : float, default 6.0
        Trip gap in hours (> 0).
    window_h : float, default 3.0
        Hours (>= 0) either side of a linked incident for ``near_incident``
        (all linked incidents, neighbour forces included).
    forces : collection of str or str, optional
        Passed to :func:`ladder`.
    plates : iterable of str, optional
        Scan these plates instead of the linked ones.
    all_plates : bool, default False
        Scan every plate (same ladder, more work; for checks and benchmarks).
    threads : int, optional
        duckdb threads.
    memory_limit : str, optional
        duckdb memory limit, e.g. ``"2GB"``.

    Returns
    -------
    DataFrame
        As :func:`ladder`.
    """
    if (sightings_paths is None) == (data_dir is None):
        raise ValueError("give either sightings_paths or data_dir")
    inc, scan = _scan_plan(incidents, season, start_month, window_h, plates, all_plates)
    if data_dir is not None:
        sightings_paths = _store_paths(data_dir, season, start_month, max_gap_h, scan)
    crossings = crossings_from_parquet(
        sightings_paths,
        max_gap_h=max_gap_h,
        plates=scan,
        season=season,
        start_month=start_month,
        threads=threads,
        memory_limit=memory_limit,
    )
    return _ladder_from_crossings(
        incidents, inc, crossings, start_month=start_month, window_h=window_h, forces=forces
    )


def _store_paths(
    data_dir: str | os.PathLike,
    season: str | None,
    start_month: int,
    max_gap_h: float,
    plates: list[str] | None,
) -> list:
    """Sightings files of the store that can hold reads of the scan (months of the season
    and of the ``max_gap_h`` margin before its start, buckets of ``plates``)."""
    from geo.store import sightings_paths

    max_gap_h = _check_hours_positive(max_gap_h, "max_gap_h")
    plate_list = None if plates is None else distinct_plates(plates)
    return sightings_paths(
        data_dir, season=season, start_month=start_month, plates=plate_list, margin_h=max_gap_h
    )
