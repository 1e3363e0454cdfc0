"""The escalation ladder with the actions on record and the next lawful action.

The seven-force agreement: the first incident of a subject in a season earns
a warning, the second (in any of the seven forces) proactive anti-social
behaviour (ASB) measures, the third a prosecution with the Crown Prosecution
Service (CPS). :func:`geo.offenders.ladder` counts the incidents; this module
adds what was actually done (the interactions register,
:mod:`geo.casework.interactions`) and says what may be done next, and why.

Which actions count (any of the seven forces; same subject; same season)
-----------------------------------------------------------------------
* *warning on record*: words of advice / warning, Community Protection
  Warning (CPW) or Community Protection Notice (CPN) (a CPW is a written
  warning; a CPN follows one).
* *proactive measures on record*: CPW, CPN or dispersal direction.
* *prosecution on record*: charge or conviction. Arrests, dog and vehicle
  seizures and "other" are listed but do not move the ladder.

A vehicle row's actions are those naming its plate (``vrm``); a person row's
those naming its id (``person_id``). An action belongs to the season of its
time; the ladder restarts each season and so do the actions.

Next lawful action (the first rule that applies wins)
-----------------------------------------------------
1. A conviction on record -> "none: convicted".
2. A charge on record -> "await court outcome".
3. Proactive measures on record, 3 or more incidents, and an incident that
   is the third or later *after* the first proactive measure -> "prosecution
   file to CPS".
4. Proactive measures on record otherwise -> "none yet: prosecution file at
   a further incident".
5. A warning on record, 2 or more incidents, and an incident that is the
   second or later *after* the first warning -> "proactive ASB measures
   (CPW/CPN)".
6. A warning on record otherwise -> "none yet: proactive ASB measures at a
   further incident".
7. No warning on record -> "warning".

"After" is strictly later in time. The rule that allows the action is given
in words (``next_action_rule``), naming the action, force and date it rests
on and the incident that opened the step, e.g. "warning served by Norfolk on
3 Oct 2021; second incident in Hertfordshire on 9 Nov 2021: proactive ASB
measures now open in all seven forces". Dates are Europe/London days.

Gaps flagged (``gaps``)
-----------------------
* Step 3 reached by incidents but no warning on record in any force.
* Step 3 reached by incidents, a warning on record, but no proactive
  measures on record.
* A CPN served by one force while the subject is now in another of the
  seven forces which has no action of its own on record for the subject
  ("unknown to X"). "Now" is the latest ANPR read or incident (``now_in``;
  by default the subject's latest counted incident). CPNs of any season up
  to the row's are considered, on the subject's latest season row only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geo._frames import py_list, records
from geo.casework import CaseworkInputError
from geo.offenders import LADDER_COLUMNS
from geo.schema import LONDON, MULTI_SEP
from geo.seasons import season_of

__all__ = [
    "WARNED",
    "PROACTIVE",
    "PROSECUTED",
    "NEXT_WARNING",
    "NEXT_PROACTIVE",
    "NEXT_PROSECUTION",
    "ACTIONS_COLUMNS",
    "Incident",
    "Action",
    "Position",
    "Step",
    "next_step",
    "latest_positions",
    "ladder_with_actions",
    "actions_json",
]

#: Types that put a warning on record.
WARNED = frozenset({"warning", "cpw", "cpn"})
#: Types that put proactive ASB measures on record.
PROACTIVE = frozenset({"cpw", "cpn", "dispersal"})
#: Types that put a prosecution on record.
PROSECUTED = frozenset({"charge", "conviction"})

NEXT_WARNING = "warning"
NEXT_PROACTIVE = "proactive ASB measures (CPW/CPN)"
NEXT_PROSECUTION = "prosecution file to CPS"
NEXT_CONVICTED = "none: convicted"
NEXT_CHARGED = "await court outcome"
NEXT_WAIT_PROACTIVE = "none yet: proactive ASB measures at a further incident"
NEXT_WAIT_PROSECUTION = "none yet: prosecution file at a further incident"

#: Columns :func:`ladder_with_actions` adds to the ladder.
ACTIONS_COLUMNS = ["actions", "next_action", "next_action_rule", "gaps", "now_in"]

_PHRASE = {
    "warning": "warning served", "cpw": "Community Protection Warning served",
    "cpn": "Community Protection Notice served", "dispersal": "dispersal direction given",
    "arrest": "arrested", "charge": "charged", "conviction": "convicted",
    "dog_seizure": "dogs seized", "vehicle_seizure": "vehicle seized", "other": "action recorded",
}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
_INTERACTION_NEEDED = ["interaction_id", "vrm", "person_id", "type", "force", "at"]


def _iso(at: pd.Timestamp) -> str:
    """``at.isoformat()``; through :class:`datetime.datetime` (much faster) when that is exact."""
    return at.isoformat() if at.nanosecond else at.to_pydatetime().isoformat()


@dataclass(frozen=True)
class Incident:
    """One counted incident of a subject: time (UTC), force (None if unknown), id."""

    at: pd.Timestamp
    force: str | None
    incident_id: str


@dataclass(frozen=True)
class Action:
    """One interaction on record: register id, type code, force, time (UTC), refs."""

    interaction_id: str
    type: str
    force: str
    at: pd.Timestamp
    reference: str = ""
    incident_id: str = ""

    def to_dict(self) -> dict:
        """JSON form: ``{type, force, at (ISO 8601 UTC), interaction_id, reference, incident_id}``."""
        return {"type": self.type, "force": self.force, "at": _iso(self.at),
                "interaction_id": self.interaction_id, "reference": self.reference,
                "incident_id": self.incident_id}


@dataclass(frozen=True)
class Position:
    """Where a subject was last seen: force, time (UTC), source ("ANPR read" or "incident")."""

    force: str
    at: pd.Timestamp
    source: str

    def to_dict(self) -> dict:
        """JSON form."""
        return {"force": self.force, "at": _iso(self.at), "source": self.source}


@dataclass(frozen=True)
class Step:
    """The next lawful action, the rule allowing it in words, and the gaps found."""

    next_action: str
    rule: str
    gaps: tuple[str, ...] = ()


# --------------------------------------------------------------------------- words


#: From 1900 on, Europe/London is a whole number of hours off UTC (before 1847: -0:01:15), so
#: the London date is the same throughout each UTC hour and can be cached per hour.
_WHOLE_HOURS_FROM_NS = pd.Timestamp("1900-01-01", tz="UTC").value
_HOUR_NS = 3_600_000_000_000


def _london_day(at: pd.Timestamp) -> str:
    local = at.tz_convert(LONDON)
    return f"{local.day} {local:%b %Y}"


@lru_cache(maxsize=1 << 16)
def _day_of_hour(hour: int) -> str:
    """:func:`_london_day` of a whole UTC hour (hours since the epoch), through
    :class:`datetime.datetime` and the zone pandas uses (4 times faster than a Timestamp)."""
    local = datetime.fromtimestamp(hour * 3600, tz=ZoneInfo(LONDON))
    return f"{local.day} {local:%b %Y}"


def _day(at: pd.Timestamp) -> str:
    """``3 Oct 2021`` (Europe/London date)."""
    ns = at.value  # UTC nanoseconds whatever the unit
    if ns < _WHOLE_HOURS_FROM_NS:
        return _london_day(at)
    return _day_of_hour(ns // _HOUR_NS)


def _ordinal(n: int) -> str:
    return _ORDINALS.get(n, f"{n}th")


def _where(inc: Incident) -> str:
    return f"in {inc.force} " if inc.force else ""


def _served(action: Action) -> str:
    return f"{_PHRASE.get(action.type, action.type)} by {action.force} on {_day(action.at)}"


# --------------------------------------------------------------------------- rules


def _first(actions: list[Action], types: frozenset) -> Action | None:
    return next((a for a in actions if a.type in types), None)


def _opening(timeline: list[Incident], after: Action, rank: int) -> tuple[int, Incident] | None:
    """The first incident that is the ``rank``-th or later and strictly after ``after``."""
    for i, inc in enumerate(timeline, start=1):
        if i >= rank and inc.at > after.at:
            return i, inc
    return None


def _step3_gaps(timeline: list[Incident], warned: Action | None,
                proactive: Action | None) -> list[str]:
    if len(timeline) < 3:
        return []
    third = timeline[2]
    reached = f"step 3 reached (third incident {_where(third)}on {_day(third.at)})"
    if warned is None:
        return [f"{reached} but no warning on record in any of the seven forces"]
    if proactive is None:
        return [f"{reached} but no proactive ASB measures (CPW, CPN or dispersal direction) "
                "on record in any of the seven forces"]
    return []


def _unknown_to(actions_all: list[Action], now: Position | None) -> list[str]:
    """CPNs served by another force than the one the subject is now in, unknown there."""
    if now is None:
        return []
    here = {a.force for a in actions_all if a.at <= now.at}
    if now.force in here:
        return []
    return [
        f"Community Protection Notice served by {a.force} on {_day(a.at)}, but the subject is "
        f"now in {now.force} (latest {now.source}, {_day(now.at)}) and {now.force} has no "
        f"action on record: unknown to {now.force}"
        for a in actions_all if a.type == "cpn" and a.force != now.force and a.at <= now.at
    ]


def _ladder_rule(timeline: list[Incident], actions: list[Action]) -> tuple[str, str]:
    """(next action, rule) by rules 3-7 of the module docstring."""
    warned, proactive = _first(actions, WARNED), _first(actions, PROACTIVE)
    if proactive is not None:
        hit = _opening(timeline, proactive, 3)
        if hit:
            return NEXT_PROSECUTION, (
                f"{_served(proactive)}; {_ordinal(hit[0])} incident {_where(hit[1])}on "
                f"{_day(hit[1].at)}: a prosecution file to the CPS is now open in all seven "
                "forces")
        return NEXT_WAIT_PROSECUTION, (
            f"{_served(proactive)}; {len(timeline)} incident(s) this season, none that is the "
            "third or later after it: a prosecution file opens at such an incident in any of "
            "the seven forces")
    if warned is not None:
        hit = _opening(timeline, warned, 2)
        if hit:
            return NEXT_PROACTIVE, (
                f"{_served(warned)}; {_ordinal(hit[0])} incident {_where(hit[1])}on "
                f"{_day(hit[1].at)}: proactive ASB measures now open in all seven forces")
        return NEXT_WAIT_PROACTIVE, (
            f"{_served(warned)}; no incident since that is the second or later this season: "
            "proactive ASB measures open at such an incident in any of the seven forces")
    last = timeline[-1]
    return NEXT_WARNING, (
        f"{_ordinal(len(timeline))} incident {_where(last)}on {_day(last.at)} and no warning "
        "on record in any of the seven forces: a warning may be given by any of the seven forces")


def next_step(timeline: list[Incident], actions: list[Action], *,
              actions_all: list[Action] | None = None, now: Position | None = None) -> Step:
    """The next lawful action for one subject and season (rules in the module docstring).

    Parameters
    ----------
    timeline : list of Incident
        The season's counted incidents, in time order (at least one).
    actions : list of Action
        The season's actions on record, in time order.
    actions_all : list of Action, optional
        Every action on record for the subject up to now (any season), for the
        "unknown to force" gap; defaults to ``actions``.
    now : Position, optional
        Where the subject is now; None skips the "unknown to force" gap.

    Returns
    -------
    Step
    """
    if not timeline:
        raise CaseworkInputError("a ladder row needs at least one incident")
    gaps = _unknown_to(actions if actions_all is None else actions_all, now)
    convicted, charged = _first(actions, {"conviction"}), _first(actions, {"charge"})
    if convicted is not None:
        return Step(NEXT_CONVICTED, f"{_served(convicted)}: the ladder is complete for this "
                    "season", tuple(gaps))
    if charged is not None:
        return Step(NEXT_CHARGED, f"{_served(charged)}: the prosecution is with the CPS; await "
                    "the court outcome", tuple(gaps))
    gaps = _step3_gaps(timeline, _first(actions, WARNED), _first(actions, PROACTIVE)) + gaps
    action, rule = _ladder_rule(timeline, actions)
    return Step(action, rule, tuple(gaps))


# --------------------------------------------------------------------------- inputs


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CaseworkInputError(f"{what} lacks column(s): {', '.join(missing)}")


def _utc(values: pd.Series, what: str) -> pd.Series:
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        raise CaseworkInputError(f"{what} must be timezone-aware (UTC) times, got {values.dtype}")
    return values.dt.tz_convert("UTC")


def _split(values: pd.Series) -> pd.Series:
    """``"A;B"`` cells exploded to one stripped, non-empty value per row (index kept)."""
    s = values.fillna("").astype("str").str.split(MULTI_SEP).explode().str.strip()
    return s[s.notna() & (s != "")]


def _incident_links(incidents: pd.DataFrame, start_month: int) -> pd.DataFrame:
    """subject, kind, season, incident_id, force, at of the counted incidents."""
    _require(incidents, ["incident_id", "occurred_at", "force", "in_agreement", "vrms",
                         "nominals"], "incidents")
    counted = incidents[incidents["in_agreement"].astype("boolean").fillna(False)
                        .to_numpy(dtype=bool)].reset_index(drop=True)
    at = _utc(counted["occurred_at"], "incidents occurred_at")
    parts = []
    for column, kind in (("vrms", "vehicle"), ("nominals", "person")):
        subj = _split(counted[column])
        if kind == "vehicle":
            subj = subj.str.upper().str.replace(r"\s+", "", regex=True)
        pos = subj.index.to_numpy()
        parts.append(pd.DataFrame({
            "subject": subj.to_numpy(dtype=object), "kind": kind,
            "incident_id": counted["incident_id"].astype("str").to_numpy(dtype=object)[pos],
            "force": counted["force"].astype("str").to_numpy(dtype=object)[pos],
            "at": at.iloc[pos].array}))
    links = pd.concat(parts, ignore_index=True).drop_duplicates(["subject", "kind", "incident_id"])
    links["season"] = season_of(links["at"], start_month).to_numpy(dtype=object)
    return links.sort_values(["at", "incident_id"], kind="stable", ignore_index=True)


def _timelines_from_incidents(incidents: pd.DataFrame,
                              start_month: int) -> dict[tuple, list[Incident]]:
    links = _incident_links(incidents, start_month)
    out: dict[tuple, list[Incident]] = {}
    # lists, not the Series: iterating arrow-backed text element by element is slow
    columns = [py_list(links[c]) for c in ("subject", "kind", "season", "incident_id", "force",
                                           "at")]
    for s, k, se, i, f, t in zip(*columns, strict=True):
        out.setdefault((s, k, se), []).append(Incident(t, f, i))
    return out


def _timeline_from_row(row: Mapping) -> list[Incident]:
    """Incidents known from a ladder row alone: the evidence (1st-3rd) and the last one."""
    out = [Incident(pd.Timestamp(e["occurred_at"]).tz_convert("UTC"), e["force"],
                    e["incident_id"]) for e in row["evidence"]]
    n = int(row["n_incidents"])
    if n > len(out):  # the 4th and later: only the last one's time is known
        ids = list(row["incidents"])
        out += [Incident(pd.Timestamp(row["last_at"]), None, ids[-1])]
    return out


def _action_lists(interactions: pd.DataFrame,
                  start_month: int) -> dict[tuple[str, str], list[tuple[str, Action]]]:
    """(subject, kind) -> [(season, Action)] in time order; a row counts for its plate and
    for its person."""
    _require(interactions, _INTERACTION_NEEDED, "interactions")
    at = _utc(interactions["at"], "interactions at")
    order = np.lexsort((interactions["interaction_id"].astype("str").to_numpy(),
                        at.to_numpy()))
    seasons = season_of(at, start_month).to_numpy(dtype=object)
    get = {c: interactions[c].astype("str").fillna("").to_numpy(dtype=object)
           if c in interactions
           else np.full(len(interactions), "", dtype=object)
           for c in ("interaction_id", "vrm", "person_id", "type", "force", "reference",
                     "incident_id")}
    out: dict[tuple[str, str], list[tuple[str, Action]]] = {}
    for p in order:
        action = Action(get["interaction_id"][p], get["type"][p], get["force"][p], at.iloc[p],
                        get["reference"][p], get["incident_id"][p])
        for subject, kind in ((get["vrm"][p], "vehicle"), (get["person_id"][p], "person")):
            if subject:
                out.setdefault((subject, kind), []).append((seasons[p], action))
    return out


def latest_positions(incidents: pd.DataFrame | None = None,
                     reads: pd.DataFrame | None = None) -> pd.DataFrame:
    """Where each subject was last seen: latest ANPR read or counted incident.

    Parameters
    ----------
    incidents : DataFrame, optional
        Accepted incidents (``incident_id, occurred_at, force, in_agreement,
        vrms, nominals``). Not modified.
    reads : DataFrame, optional
        ANPR reads (``vrm, read_at, force``). Not modified. Reads without a force are ignored.

    Returns
    -------
    DataFrame
        ``subject, kind, force, at, source`` (``"ANPR read"`` or ``"incident"``),
        one row per (subject, kind); on a tie in time the read wins.
    """
    parts = []
    if reads is not None and len(reads):
        _require(reads, ["vrm", "read_at", "force"], "reads")
        r = pd.DataFrame({"subject": reads["vrm"].astype("str").to_numpy(dtype=object),
                          "kind": "vehicle", "force": reads["force"].astype("str").to_numpy(),
                          "at": _utc(reads["read_at"], "reads read_at").array,
                          "source": "ANPR read"})
        parts.append(r[(r["force"] != "") & r["force"].notna()])
    if incidents is not None and len(incidents):
        links = _incident_links(incidents, 9)
        parts.append(links[["subject", "kind", "force", "at"]].assign(source="incident"))
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="str")
                             for c in ("subject", "kind", "force", "source")}
                            ).assign(at=pd.Series([], dtype="datetime64[us, UTC]"))
    allp = pd.concat(parts, ignore_index=True)
    allp["_read"] = allp["source"] == "ANPR read"
    allp = allp.sort_values(["subject", "kind", "at", "_read"], kind="stable")
    last = allp.drop_duplicates(["subject", "kind"], keep="last").drop(columns="_read")
    return last[["subject", "kind", "force", "at", "source"]].reset_index(drop=True)


def _positions(now_in: pd.DataFrame | None) -> dict[tuple[str, str], Position]:
    if now_in is None:
        return {}
    _require(now_in, ["subject", "force", "at"], "now_in")
    kinds = now_in["kind"] if "kind" in now_in else pd.Series("vehicle", index=now_in.index)
    source = now_in["source"] if "source" in now_in else pd.Series("sighting", index=now_in.index)
    at = _utc(now_in["at"], "now_in at")
    return {(str(s), str(k)): Position(str(f), t, str(src))
            for s, k, f, t, src in zip(py_list(now_in["subject"]), py_list(kinds),
                                       py_list(now_in["force"]), py_list(at), py_list(source),
                                       strict=True)}


# --------------------------------------------------------------------------- assembly


def _default_now(timeline: list[Incident]) -> Position | None:
    """The subject's latest counted incident as its position (None if its force is unknown)."""
    last = timeline[-1]
    return Position(last.force, last.at, "incident") if last.force else None


def _row_step(row: Mapping, timeline: list[Incident], acts: list[tuple[str, Action]],
              now: Position | None) -> Step:
    """:func:`next_step` for one ladder row (``now`` None: no "unknown to" check)."""
    if not acts and timeline:  # nothing on record in any season: rule 7 and the step-3 gap
        action, rule = _ladder_rule(timeline, [])
        return Step(action, rule, tuple(_step3_gaps(timeline, None, None)))
    season_acts = [a for s, a in acts if s == row["season"]]
    upto = [a for s, a in acts if s <= row["season"]]  # labels sort chronologically
    return next_step(timeline, season_acts, actions_all=upto, now=now)


def ladder_with_actions(
    ladder_df: pd.DataFrame,
    interactions_df: pd.DataFrame,
    *,
    incidents: pd.DataFrame | None = None,
    now_in: pd.DataFrame | None = None,
    start_month: int = 9,
) -> pd.DataFrame:
    """The ladder with the actions on record, the next lawful action and the gaps.

    Parameters
    ----------
    ladder_df : DataFrame
        :func:`geo.offenders.ladder` output (:data:`geo.offenders.LADDER_COLUMNS`).
        Not modified.
    interactions_df : DataFrame
        The register (:data:`geo.casework.interactions.INTERACTION_COLUMNS`;
        at least ``interaction_id, vrm, person_id, type, force, at``). Not modified.
    incidents : DataFrame, optional
        The incidents the ladder was built from: every incident's time and
        force is then known (without them, only the evidence incidents
        (1st-3rd) and the time of the last one).
    now_in : DataFrame, optional
        ``subject, force, at`` (+ ``kind``, ``source``), e.g. from
        :func:`latest_positions` with the ANPR reads; default: each subject's
        latest counted incident.
    start_month : int, default 9
        Month seasons start in (as used for the ladder).

    Returns
    -------
    DataFrame
        A copy of ``ladder_df`` (same order, fresh index) plus ``actions``
        (list of ``{type, force, at, interaction_id, reference,
        incident_id}`` in time order), ``next_action`` (str),
        ``next_action_rule`` (str), ``gaps`` (list of str) and ``now_in``
        (``{force, at, source}`` or None).
    """
    _require(ladder_df, LADDER_COLUMNS, "ladder")
    out = ladder_df.reset_index(drop=True).copy()
    timelines = None if incidents is None else _timelines_from_incidents(incidents, start_month)
    acts = _action_lists(interactions_df, start_month)
    places = _positions(now_in)
    latest = out.groupby(["subject", "kind"])["season"].transform("max").to_numpy()
    cols: dict[str, list] = {c: [] for c in ACTIONS_COLUMNS}
    rows = records(out, ["subject", "kind", "season", "incidents", "n_incidents", "last_at",
                         "evidence"])  # what a row's step needs, nothing more
    for i, row in enumerate(rows):
        key = (row["subject"], row["kind"])
        timeline = (timelines or {}).get((*key, row["season"])) or _timeline_from_row(row)
        mine = acts.get(key, [])
        now = (places.get(key) or _default_now(timeline)) if row["season"] == latest[i] else None
        step = _row_step(row, timeline, mine, now)
        cols["actions"].append([a.to_dict() for s, a in mine if s == row["season"]])
        cols["next_action"].append(step.next_action)
        cols["next_action_rule"].append(step.rule)
        cols["gaps"].append(list(step.gaps))
        cols["now_in"].append(None if now is None else now.to_dict())
    for c in ACTIONS_COLUMNS:
        out[c] = pd.Series(cols[c], index=out.index,
                           dtype="str" if c in ("next_action", "next_action_rule") else object)
    return out


def actions_json(df: pd.DataFrame) -> list[dict]:
    """The added fields of each row as JSON-able dicts, in row order: ``actions``,
    ``next_action``, ``next_action_rule``, ``gaps``, ``now_in`` (merge them into the
    rows of :func:`geo.io.formats.offenders_to_json`)."""
    _require(df, ACTIONS_COLUMNS, "ladder with actions")
    return [{"actions": [dict(x) for x in a], "next_action": str(n), "next_action_rule": str(r),
             "gaps": [str(x) for x in g], "now_in": None if w is None else dict(w)}
            for a, n, r, g, w in zip(*(py_list(df[c]) for c in ACTIONS_COLUMNS), strict=True)]

