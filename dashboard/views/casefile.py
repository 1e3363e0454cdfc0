"""Case file page (and the casework parts of other pages): pure shaping of casework results.

The case file itself is :func:`geo.casework.casefile.case_file` (a JSON-able
dict, already masked when asked); these helpers turn its sections into
display tables, pick the subjects to offer, and shape associates and plate
candidates. Nothing here draws or caches.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.views.format import fmt_int, london_text, slug
from geo.casework.interactions import INTERACTION_TYPES
from geo.privacy import mask_frame, mask_subject

__all__ = [
    "TYPE_OPTIONS",
    "associate_records",
    "associates_table",
    "candidates_table",
    "case_crossings",
    "case_evidence",
    "case_incidents",
    "case_interactions",
    "case_ladder",
    "case_reads",
    "case_sources",
    "case_summary",
    "choice_key",
    "download_name",
    "first_reject_reason",
    "parse_choice",
    "subject_choices",
]

#: Interaction types offered by the form: code -> label (the register's vocabulary).
TYPE_OPTIONS: dict[str, str] = dict(INTERACTION_TYPES)


# ------------------------------------------------------------------ choosing a subject
def choice_key(kind: str, subject: str) -> str:
    """Option value of a subject: ``"vehicle|AB12CDE"``."""
    return f"{kind}|{subject}"


def parse_choice(key: str) -> tuple[str, str]:
    """``"vehicle|AB12CDE"`` -> ``("vehicle", "AB12CDE")``."""
    kind, _, subject = str(key).partition("|")
    return kind, subject


def subject_choices(ladder: pd.DataFrame, *, redact: bool, season: str | None = None,
                    limit: int = 2000) -> dict[str, str]:
    """Subjects on the ladder, highest stage first: option value -> label (masked if asked).

    Parameters
    ----------
    ladder : DataFrame
        :func:`geo.offenders.ladder` output (``subject, kind, season, stage,
        n_incidents``). Not modified.
    redact : bool
        Mask plates and ids in the labels.
    season : str, optional
        Only subjects on this season's ladder.
    limit : int, default 2000
        Most options offered.
    """
    if ladder is None or not len(ladder):
        return {}
    rows = ladder if season is None else ladder[ladder["season"].astype(str) == season]
    if not len(rows):
        return {}
    best = (rows.groupby(["kind", "subject"], as_index=False)
            .agg(stage=("stage", "max"), n=("n_incidents", "sum"), season=("season", "max")))
    best = best.sort_values(["stage", "n", "subject"], ascending=[False, False, True],
                            kind="stable").head(limit)
    return {choice_key(k, s): f"{mask_subject(s, k) if redact else s} ({k}) · stage {int(st)} · "
                              f"{fmt_int(n)} incident(s) · latest {se}"
            for k, s, st, n, se in zip(best["kind"], best["subject"], best["stage"], best["n"],
                                       best["season"], strict=True)}


# ------------------------------------------------------------------ case file sections
def _frame(records: list[dict], columns: Mapping[str, str]) -> pd.DataFrame:
    """Records -> a frame of the given keys, renamed for display (empty: headers only)."""
    if not records:
        return pd.DataFrame({label: [] for label in columns.values()})
    df = pd.DataFrame.from_records(records)
    return df[[c for c in columns if c in df.columns]].rename(columns=dict(columns))


def case_summary(case: dict) -> list[tuple[str, str, None]]:
    """Headline figures as ``widgets.metric_row`` items."""
    s = case["summary"]
    return [("Incidents", fmt_int(s["n_incidents"]), None),
            ("Forces", fmt_int(len(s["forces"])), None),
            ("ANPR reads", fmt_int(s["n_reads"]), None),
            ("Crossings near incidents", fmt_int(s["n_crossings_near_incident"]), None),
            ("Interactions", fmt_int(s["n_interactions"]), None),
            ("Associates", fmt_int(s["n_associates"]), None),
            ("Highest stage", fmt_int(s["highest_stage"]), None)]


def case_incidents(case: dict) -> pd.DataFrame:
    """Every incident in time order with place and force."""
    df = _frame(case["incidents"], {
        "local_time": "when (UK time)", "incident_id": "incident", "force": "force",
        "counted": "counted", "grid_ref": "grid ref", "vrms": "plates", "nominals": "people",
        "dogs": "dogs", "outcome": "outcome", "notes": "note"})
    for c in ("plates", "people"):
        if c in df.columns:
            df[c] = df[c].map(lambda v: ", ".join(v) if isinstance(v, list) else str(v))
    return df


def case_reads(case: dict) -> pd.DataFrame:
    """The ANPR trail in time order."""
    return _frame(case["reads"], {"local_time": "when (UK time)", "camera_id": "camera",
                                  "force": "force", "grid_ref": "grid ref"})


def case_crossings(case: dict) -> pd.DataFrame:
    """Border crossings, with the incidents they were near."""
    df = _frame(case["crossings"], {
        "local_time": "when (UK time)", "from_force": "from", "to_force": "to",
        "camera_id": "camera", "grid_ref": "grid ref", "near_incident": "near an incident",
        "near_incident_ids": "incidents"})
    if "incidents" in df.columns:
        df["incidents"] = df["incidents"].map(lambda v: ", ".join(v) if isinstance(v, list) else v)
    return df


def case_interactions(case: dict) -> pd.DataFrame:
    """Actions on record against the subject."""
    return _frame(case["interactions"], {
        "local_time": "when (UK time)", "type_label": "action", "force": "force",
        "reference": "officer / reference", "incident_id": "incident", "note": "note"})


def case_ladder(case: dict) -> pd.DataFrame:
    """Per season: stage, actions on record, next lawful action, the rule and the gaps."""
    rows = [{"season": r["season"], "stage": r["stage"], "stage_label": r["stage_label"],
             "incidents": r["n_incidents"], "forces": ", ".join(r["forces"]),
             "actions": "; ".join(f"{a['type']} ({a['force']}, {str(a['at'])[:10]})"
                                  for a in r["actions"]),
             "next_action": r["next_action"], "rule": r["next_action_rule"],
             "gaps": "; ".join(r["gaps"])} for r in case["ladder"]]
    return _frame(rows, {"season": "season", "stage": "stage", "stage_label": "stage means",
                         "incidents": "incidents", "forces": "forces",
                         "actions": "actions on record", "next_action": "next action",
                         "rule": "why", "gaps": "gaps"})


def case_evidence(case: dict) -> pd.DataFrame:
    """The evidence chain: the incidents that took the subject to each step, per season."""
    rows = [{"season": r["season"], "step": e.get("stage"), "incident": e.get("incident_id"),
             "force": e.get("force"), "when": e.get("occurred_at")}
            for r in case["ladder"] for e in r["evidence"]]
    df = _frame(rows, {"season": "season", "step": "step", "incident": "incident",
                       "force": "force", "when": "when (UK time)"})
    if len(df):
        df["when (UK time)"] = london_text(df["when (UK time)"])
    return df


def case_sources(case: dict) -> pd.DataFrame:
    """Each section's data source and how its facts were derived."""
    return _frame(case["sources"], {"section": "section", "source": "source",
                                    "derivation": "how it was derived"})


def _evidence_text(evidence: list) -> str:
    return "; ".join(f"{e.get('camera_id', '')} {london_text(pd.Series([e.get('subject_at')]))[0]}"
                     f" ({float(e.get('gap_min', 0)):g} min apart)" for e in evidence)


def associates_table(records: list[dict]) -> pd.DataFrame:
    """Associates (a case file's ``associates``): plate, how often, where, stage, worth watching."""
    rows = [{**a, "evidence_text": _evidence_text(a.get("evidence", [])),
             "cameras_text": ", ".join(a.get("cameras", [])),
             "watch": "worth watching" if a.get("worth_watching") else ""} for a in records]
    df = _frame(rows, {"plate": "plate", "n_co_reads": "co-reads", "n_cameras": "cameras",
                       "n_occasions": "occasions", "stage": "own ladder stage",
                       "watch": "flag", "cameras_text": "camera ids",
                       "evidence_text": "evidence (camera, subject's read, gap)"})
    return df


def associate_records(assoc: pd.DataFrame, ladder: pd.DataFrame | None, *,
                      subject_stage: int) -> list[dict]:
    """:func:`geo.casework.convoys.associates` rows as the case file's associate records.

    ``stage`` is each associate's own highest ladder stage (0 when not on it);
    every associate of a subject at step 2 or 3 is ``worth_watching`` (the
    rule of :func:`geo.casework.casefile.case_file`).
    """
    if assoc is None or not len(assoc):
        return []
    stages: dict = {}
    if ladder is not None and len(ladder):
        veh = ladder[ladder["kind"].astype(str) == "vehicle"]
        stages = veh.groupby("subject")["stage"].max().to_dict()
    watch = int(subject_stage) >= 2
    return [{"plate": str(r["plate"]), "n_co_reads": int(r["n_co_reads"]),
             "n_cameras": int(r["n_cameras"]), "n_occasions": int(r["n_occasions"]),
             "cameras": [str(c) for c in r["cameras"]], "stage": int(stages.get(r["plate"], 0)),
             "worth_watching": watch, "evidence": list(r["evidence"])}
            for r in assoc.to_dict("records")]


# ------------------------------------------------------------------ plates and forms
def candidates_table(candidates: pd.DataFrame, *, redact: bool) -> pd.DataFrame:
    """Partial-plate candidates (:data:`geo.casework.plates.CANDIDATE_COLUMNS`) for display."""
    cols = {"plate": "plate", "reads": "reads", "nearest_km": "nearest km",
            "nearest_minutes": "nearest minutes", "score": "score", "stage": "ladder stage",
            "misread": "misread", "best_read_at": "best read (UK time)",
            "best_camera_id": "camera"}
    if candidates is None or not len(candidates):
        return pd.DataFrame({v: [] for v in cols.values()})
    df = mask_frame(candidates, redact)
    df["best_read_at"] = london_text(df["best_read_at"])
    df["nearest_km"] = df["nearest_km"].round(1)
    df["nearest_minutes"] = df["nearest_minutes"].round(0)
    return df[list(cols)].rename(columns=cols)


def first_reject_reason(report: dict) -> str:
    """The reasons a form's row was not recorded (``InteractionsResult.to_report()``)."""
    if report.get("file_problems"):
        return "; ".join(report["file_problems"])
    return "; ".join(r["reason"] for r in report.get("rejects", [])) or "not recorded"


def download_name(case: dict, ext: str) -> str:
    """``harewatch_case_AB12CDE.pdf`` (the id as the case file shows it, masked or not)."""
    return f"harewatch_case_{slug(case['subject']['id'])}.{ext}"
