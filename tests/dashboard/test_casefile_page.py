"""The Case file page, the interaction form and the casework boxes under AppTest (no browser).

The store is empty (the app shows the synthetic demo, which has subjects on
the ladder and plates read together); the interactions register the form
writes lives in this module's own store folder. Tests run in file order:
the form's tests come last (they add to the register).
"""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")

from dashboard.state import SessionKeys as K
from dashboard.views.casefile import parse_choice
from tests.dashboard._apptest import as_int, frame_with, metric, new_app, rendered_bytes, run_page

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def case_env(boundaries_path, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HAREWATCH_BOUNDARIES", str(boundaries_path))
    mp.setenv("HAREWATCH_DATA_DIR", str(tmp_path_factory.mktemp("case_store")))
    mp.setenv("HAREWATCH_NO_FETCH", "1")
    yield
    mp.undo()


def _case_page(**query: str):
    at = new_app(**query)
    at.run()
    return run_page(at, "casefile")


def test_case_file_page_shows_every_section_and_the_next_action(case_env):
    at = _case_page()
    assert [t.value for t in at.title] == ["Case file"]
    kind, subject = parse_choice(at.selectbox(key=K.CASE_SUBJECT).value)
    assert kind == "vehicle" and subject
    heads = [s.value for s in at.subheader]
    for h in ("Escalation ladder and next action", "Incidents", "ANPR trail", "Border crossings",
              "Interactions on record", "Associates", "Data sources and how each fact was derived"):
        assert h in heads, h
    assert as_int(metric(at, "Incidents")) >= 3 and as_int(metric(at, "Highest stage")) == 3
    assert any("Next action" in i.value for i in at.info)
    incidents = frame_with(at, "when (UK time)", "incident", "force", "grid ref")
    assert len(incidents) == as_int(metric(at, "Incidents"))
    assoc = frame_with(at, "plate", "co-reads", "flag")
    assert len(assoc) and set(assoc["flag"]) == {"worth watching"}
    labels = {b.label for b in at.get("download_button")}
    assert {"Download case file (PDF)", "Download case file (HTML)"} <= labels
    assert not at.error


def test_case_file_page_masks_with_the_toggle_and_in_briefing_mode(case_env):
    at = _case_page()
    _, subject = parse_choice(at.selectbox(key=K.CASE_SUBJECT).value)
    assert subject.encode() in rendered_bytes(at)
    at.sidebar.toggle(key=K.REDACT).set_value(True).run()
    assert not at.exception
    assert subject.encode() not in rendered_bytes(at)
    assert "masked" in at.caption[0].value
    briefing = _case_page(briefing="1", redact="0")
    assert briefing.sidebar.toggle(key=K.REDACT).value is False
    assert subject.encode() not in rendered_bytes(briefing)


def test_partial_plate_search_on_the_case_file_page(case_env):
    at = _case_page()
    _, subject = parse_choice(at.selectbox(key=K.CASE_SUBJECT).value)
    at.text_input(key=f"{K.PLATE_SEARCH}_case_pattern").input(subject[:3] + "*")
    at.number_input(key=f"{K.PLATE_SEARCH}_case_km").set_value(300.0)
    at.number_input(key=f"{K.PLATE_SEARCH}_case_hours").set_value(72.0)
    at.button(key=f"{K.PLATE_SEARCH}_case_go").click().run()
    assert not at.exception and not at.error
    found = frame_with(at, "plate", "nearest km", "score", "misread")
    assert subject in set(found["plate"])
    at.text_input(key=f"{K.PLATE_SEARCH}_case_pattern").input("*")
    at.button(key=f"{K.PLATE_SEARCH}_case_go").click().run()
    assert any("known character" in e.value for e in at.error)


def _fill(at, **values):
    for name, value in values.items():
        at.text_input(key=f"{K.INTERACTION_FORM}_{name}").input(value)


def test_form_rejected_row_shows_its_reason(case_env):
    at = _case_page()
    _fill(at, when="31/02/2021 20:00")
    at.button(key=f"{K.INTERACTION_FORM}_go").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and errors[0].startswith("Not recorded:") and "no such day" in errors[0]
    assert as_int(metric(at, "Interactions")) == 0


def test_form_accepted_row_appears_in_the_case_file(case_env):
    at = _case_page()
    _, subject = parse_choice(at.selectbox(key=K.CASE_SUBJECT).value)
    assert at.text_input(key=f"{K.INTERACTION_FORM}_subject").value == subject  # prefilled
    at.selectbox(key=f"{K.INTERACTION_FORM}_type").select("cpw")
    at.selectbox(key=f"{K.INTERACTION_FORM}_force").select("Norfolk")
    _fill(at, when="03/10/2021 21:30", ref="PC 123")
    at.text_area(key=f"{K.INTERACTION_FORM}_note").input(XSS)
    at.button(key=f"{K.INTERACTION_FORM}_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Interaction recorded" in s.value for s in at.success)
    assert as_int(metric(at, "Interactions")) == 1
    shown = frame_with(at, "action", "officer / reference", "note")
    assert list(shown["action"]) == ["Community Protection Warning"]
    assert list(shown["note"]) == [XSS]  # a dataframe cell: plain text, never HTML
    assert list(shown["force"]) == ["Norfolk"]


def test_border_hoppers_show_associates_of_the_selected_subject(case_env):
    at = new_app()
    at.run()
    run_page(at, "casefile")
    _, subject = parse_choice(at.selectbox(key=K.CASE_SUBJECT).value)
    run_page(at, "hoppers")
    pick = at.multiselect(key=K.HOP_SUBJECTS)
    option = next(o for o in pick.options if o.startswith(subject))
    pick.select(option).run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"Associates of {subject}" in [s.value for s in at.subheader]
    assoc = frame_with(at, "plate", "co-reads", "cameras", "occasions", "flag")
    assert len(assoc) and set(assoc["flag"]) == {"worth watching"}
    assert assoc["evidence (camera, subject's read, gap)"].str.contains("min apart").all()
