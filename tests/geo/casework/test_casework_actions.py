"""Ladder with actions: every rule of geo.casework.actions, on hand-made data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from factories import casework_incidents as incidents
from factories import casework_reads as reads
from factories import interactions as register

from geo.casework import CaseworkInputError
from geo.casework.actions import (
    NEXT_PROACTIVE,
    NEXT_PROSECUTION,
    NEXT_WARNING,
    Action,
    Incident,
    Position,
    actions_json,
    ladder_with_actions,
    latest_positions,
    next_step,
)
from geo.casework.interactions import empty_interactions
from geo.io.formats import offenders_to_json
from geo.offenders import LADDER_COLUMNS, ladder


def t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def inc(*items: tuple[str, str]) -> list[Incident]:
    """(time, force) pairs -> incidents I1, I2, ..."""
    return [Incident(t(at), force, f"I{k}") for k, (at, force) in enumerate(items, start=1)]


def act(type_: str, at: str, force: str) -> Action:
    return Action(f"A-{type_}-{at}", type_, force, t(at))


def row(df: pd.DataFrame, subject: str, kind: str = "vehicle", season: str = "2021-22") -> dict:
    sel = df[(df["subject"] == subject) & (df["kind"] == kind) & (df["season"] == season)]
    assert len(sel) == 1, (subject, kind, season)
    return sel.iloc[0].to_dict()


# --------------------------------------------------------------------------- next_step rules


@pytest.mark.parametrize("at", [
    "2021-10-31 00:59", "2021-10-31 01:00", "2021-03-27 23:59", "2021-03-28 00:00",
    "2021-08-31 23:30", "2021-12-31 23:59", "1901-06-30 23:00", "1899-12-31 23:59",
    "2038-01-19 03:14", "2024-02-29 23:00",
])
def test_rule_dates_are_london_dates(at):
    """The date in a rule is the Europe/London date, as pandas converts it (BST edges too)."""
    local = t(at).tz_convert("Europe/London")
    day = f"{local.day} {local:%b %Y}"
    assert f"incident in Norfolk on {day} and no warning" in next_step(
        inc((at, "Norfolk")), []).rule


def test_rule7_first_incident_no_warning_gives_warning():
    step = next_step(inc(("2021-10-01 20:00", "Norfolk")), [])
    assert step.next_action == NEXT_WARNING
    assert step.rule == ("first incident in Norfolk on 1 Oct 2021 and no warning on record in "
                         "any of the seven forces: a warning may be given by any of the seven "
                         "forces")
    assert step.gaps == ()


def test_rule5_warning_then_second_incident_in_another_force_opens_proactive_measures():
    timeline = inc(("2021-10-01 20:00", "Norfolk"), ("2021-11-09 20:00", "Hertfordshire"))
    step = next_step(timeline, [act("warning", "2021-10-03 20:30", "Norfolk")])
    assert step.next_action == NEXT_PROACTIVE
    assert step.rule == ("warning served by Norfolk on 3 Oct 2021; second incident in "
                         "Hertfordshire on 9 Nov 2021: proactive ASB measures now open in all "
                         "seven forces")


def test_rule6_warning_with_no_incident_after_it_waits():
    # both incidents came before the warning: nothing after it yet
    timeline = inc(("2021-10-01 20:00", "Norfolk"), ("2021-10-02 20:00", "Suffolk"))
    step = next_step(timeline, [act("warning", "2021-10-03 20:30", "Norfolk")])
    assert step.next_action == "none yet: proactive ASB measures at a further incident"
    assert step.rule.startswith("warning served by Norfolk on 3 Oct 2021; no incident since")


def test_rule3_proactive_measures_then_third_incident_opens_prosecution():
    timeline = inc(("2021-10-01 20:00", "Norfolk"), ("2021-10-09 20:00", "Essex"),
                   ("2021-11-20 21:00", "Kent"))
    actions = [act("warning", "2021-10-02 10:00", "Norfolk"),
               act("cpw", "2021-10-10 10:00", "Essex")]
    step = next_step(timeline, actions)
    assert step.next_action == NEXT_PROSECUTION
    assert step.rule == ("Community Protection Warning served by Essex on 10 Oct 2021; third "
                         "incident in Kent on 20 Nov 2021: a prosecution file to the CPS is now "
                         "open in all seven forces")
    assert step.gaps == ()


def test_rule4_proactive_measures_but_only_two_incidents_waits_for_a_third():
    # a CPW straight after the first incident: the second incident is not yet the third
    timeline = inc(("2021-10-01 20:00", "Norfolk"), ("2021-10-09 20:00", "Essex"))
    step = next_step(timeline, [act("cpw", "2021-10-02 10:00", "Norfolk")])
    assert step.next_action == "none yet: prosecution file at a further incident"


def test_rule2_and_rule1_charge_and_conviction_end_the_ladder():
    timeline = inc(("2021-10-01 20:00", "Norfolk"), ("2021-10-09 20:00", "Essex"),
                   ("2021-11-20 21:00", "Kent"))
    charged = [act("warning", "2021-10-02 10:00", "Norfolk"),
               act("charge", "2021-11-21 10:00", "Kent")]
    assert next_step(timeline, charged).next_action == "await court outcome"
    convicted = [*charged, act("conviction", "2022-02-01 10:00", "Kent")]
    step = next_step(timeline, convicted)
    assert step.next_action == "none: convicted"
    assert step.rule.startswith("convicted by Kent on 1 Feb 2022")


def test_arrest_and_seizures_do_not_move_the_ladder():
    timeline = inc(("2021-10-01 20:00", "Norfolk"), ("2021-10-09 20:00", "Essex"))
    actions = [act("arrest", "2021-10-01 21:00", "Norfolk"),
               act("dog_seizure", "2021-10-01 21:00", "Norfolk")]
    assert next_step(timeline, actions).next_action == NEXT_WARNING


# --------------------------------------------------------------------------- gaps


def test_gap_step3_reached_without_a_warning():
    timeline = inc(("2021-10-01 20:00", "Norfolk"), ("2021-10-09 20:00", "Essex"),
                   ("2021-12-01 21:00", "Kent"))
    step = next_step(timeline, [])
    assert step.next_action == NEXT_WARNING
    assert step.gaps == ("step 3 reached (third incident in Kent on 1 Dec 2021) but no warning "
                         "on record in any of the seven forces",)


def test_gap_step3_reached_with_a_warning_but_no_proactive_measures():
    timeline = inc(("2021-10-01 20:00", "Norfolk"), ("2021-10-09 20:00", "Essex"),
                   ("2021-12-01 21:00", "Kent"))
    step = next_step(timeline, [act("warning", "2021-10-02 10:00", "Norfolk")])
    assert step.next_action == NEXT_PROACTIVE
    assert len(step.gaps) == 1
    assert "no proactive ASB measures" in step.gaps[0]


def test_gap_cpn_unknown_to_the_force_the_subject_is_now_in():
    timeline = inc(("2021-10-01 20:00", "Norfolk"))
    cpn = act("cpn", "2021-10-05 10:00", "Norfolk")
    now = Position("Essex", t("2021-12-02 22:00"), "ANPR read")
    step = next_step(timeline, [cpn], now=now)
    assert step.gaps == ("Community Protection Notice served by Norfolk on 5 Oct 2021, but the "
                         "subject is now in Essex (latest ANPR read, 2 Dec 2021) and Essex has "
                         "no action on record: unknown to Essex",)
    # no gap when the subject is in the serving force, or when Essex has acted itself
    assert next_step(timeline, [cpn], now=Position("Norfolk", now.at, "ANPR read")).gaps == ()
    essex = act("dispersal", "2021-11-01 10:00", "Essex")
    assert next_step(timeline, [cpn, essex], now=now).gaps == ()


def test_next_step_needs_an_incident():
    with pytest.raises(CaseworkInputError):
        next_step([], [])


# --------------------------------------------------------------------------- on the ladder frame

INCIDENTS = [
    ("N1", "2021-10-01T20:00Z", "Norfolk", "AB12CDE", "P1"),
    ("H1", "2021-11-09T20:00Z", "Hertfordshire", "AB12CDE", ""),
    ("E1", "2021-11-20T21:00Z", "Essex", "AB12CDE", ""),
    ("K1", "2021-12-05T21:00Z", "Kent", "AB12CDE", ""),
    ("S1", "2021-10-02T20:00Z", "Suffolk", "XY99ZZZ", ""),
    ("S2", "2022-10-02T20:00Z", "Suffolk", "XY99ZZZ", ""),  # next season
]


def test_ladder_with_actions_end_to_end():
    inc_df = incidents(INCIDENTS)
    lad = ladder(inc_df)
    regs = register([
        # served on the driver (person P1) in the plate's vehicle: counts for both rows
        ("AB12 CDE", "P1", "Words of advice", "Norfolk Constabulary", "03/10/2021 21:30", "PC 123",
         "N1", ""),
        ("AB12CDE", "", "CPW", "Herts", "10/11/2021 10:00", "PC 9", "H1", ""),
        ("XY99ZZZ", "", "warning", "Suffolk", "2021-10-03T10:00Z", "", "S1", ""),
    ])
    before_lad, before_regs = lad.copy(deep=True), regs.copy(deep=True)
    out = ladder_with_actions(lad, regs, incidents=inc_df)
    pd.testing.assert_frame_equal(lad, before_lad)
    pd.testing.assert_frame_equal(regs, before_regs)
    assert list(out.columns[: len(LADDER_COLUMNS)]) == LADDER_COLUMNS

    ab = row(out, "AB12CDE")
    assert [a["type"] for a in ab["actions"]] == ["warning", "cpw"]
    assert ab["actions"][0]["force"] == "Norfolk"
    assert ab["actions"][0]["at"] == "2021-10-03T20:30:00+00:00"  # 21:30 BST
    assert ab["next_action"] == NEXT_PROSECUTION
    assert "third incident in Essex on 20 Nov 2021" in ab["next_action_rule"]

    p1 = row(out, "P1", "person")
    assert [a["type"] for a in p1["actions"]] == ["warning"]
    assert p1["next_action"] == "none yet: proactive ASB measures at a further incident"

    # last season's warning does not count in the next season
    assert row(out, "XY99ZZZ")["next_action"] == "none yet: proactive ASB measures at a further " \
                                                 "incident"
    assert row(out, "XY99ZZZ", season="2022-23")["next_action"] == NEXT_WARNING
    assert row(out, "XY99ZZZ", season="2022-23")["actions"] == []


def test_without_incidents_the_evidence_gives_the_same_answer_up_to_three_incidents():
    inc_df = incidents(INCIDENTS[:3])
    regs = register([("AB12CDE", "", "warning", "Norfolk", "03/10/2021 21:30", "", "", "")])
    a = ladder_with_actions(ladder(inc_df), regs, incidents=inc_df)
    b = ladder_with_actions(ladder(inc_df), regs)
    assert row(a, "AB12CDE")["next_action"] == row(b, "AB12CDE")["next_action"] == NEXT_PROACTIVE
    assert row(a, "AB12CDE")["next_action_rule"] == row(b, "AB12CDE")["next_action_rule"]


def test_cpn_gap_uses_the_latest_anpr_read():
    inc_df = incidents(INCIDENTS[:1])
    regs = register([("AB12CDE", "", "CPN", "Norfolk", "05/10/2021 11:00", "", "", "")])
    trail = reads([("AB12CDE", "2021-12-02T22:00Z", "Essex", "C9")])
    now = latest_positions(inc_df, trail)
    out = ladder_with_actions(ladder(inc_df), regs, incidents=inc_df, now_in=now)
    r = row(out, "AB12CDE")
    assert r["now_in"] == {"force": "Essex", "at": "2021-12-02T22:00:00+00:00",
                           "source": "ANPR read"}
    assert r["gaps"] == ["Community Protection Notice served by Norfolk on 5 Oct 2021, but the "
                         "subject is now in Essex (latest ANPR read, 2 Dec 2021) and Essex has "
                         "no action on record: unknown to Essex"]
    # default "now": the latest incident (Norfolk, the serving force): no gap
    assert row(ladder_with_actions(ladder(inc_df), regs, incidents=inc_df), "AB12CDE")["gaps"] == []


def test_json_rows_gain_actions_and_next_action():
    inc_df = incidents(INCIDENTS[:2])
    out = ladder_with_actions(ladder(inc_df), empty_interactions(), incidents=inc_df)
    doc = offenders_to_json(out)
    for row, extra in zip(doc["offenders"], actions_json(out), strict=True):
        row.update(extra)
    doc = json.loads(json.dumps(doc))
    first = doc["offenders"][0]
    assert first["subject"] == "AB12CDE"
    assert first["actions"] == [] and first["next_action"] == NEXT_WARNING
    assert first["gaps"] == [] and "next_action_rule" in first


def test_missing_columns_are_a_clear_error():
    with pytest.raises(CaseworkInputError, match="interactions lacks"):
        ladder_with_actions(ladder(incidents(INCIDENTS[:1])), pd.DataFrame({"x": []}))
