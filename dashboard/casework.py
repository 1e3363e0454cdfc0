"""Casework boxes shared by pages: the partial-plate search and the "Record an interaction" form.

Both draw through :mod:`dashboard.widgets` (masked, escaped tables) and fetch
through the page's :class:`dashboard.context.Context` (cached). The form's
row is validated by the register's own code
(:func:`geo.casework.interactions.validate_interactions`, via
:func:`dashboard.context.record_interaction`, the dashboard's one write of
the register), so a form and an imported file give the same reasons.
"""

from __future__ import annotations

import streamlit as st

from dashboard import context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import casefile as view
from dashboard.views.format import fmt_int, md_escape
from geo.casework import CaseworkInputError

__all__ = ["plate_search_box", "interaction_form"]


def plate_search_box(ctx: context.Context, *, easting_m: float, northing_m: float, at_iso: str,
                     key: str, where: str) -> None:
    """A small form: partial plate, radius and hours -> ranked candidates (masked per toggle).

    ``where`` names the place searched around (shown escaped).
    """
    with st.form(f"{K.PLATE_SEARCH}_{key}", border=True):
        st.markdown(f"**Search a partial plate near {md_escape(where)}**")
        pattern = st.text_input("Partial plate", key=f"{K.PLATE_SEARCH}_{key}_pattern",
                                placeholder="AB1? C*",
                                help="? one unknown character, * any run; spaces ignored. "
                                     "0/O, 1/I, 5/S and 8/B also match each other (misreads)")
        c1, c2 = st.columns(2)
        km = c1.number_input("Within km", min_value=0.5, max_value=300.0, value=20.0, step=1.0,
                             key=f"{K.PLATE_SEARCH}_{key}_km")
        hours = c2.number_input("Within hours", min_value=0.25, max_value=72.0, value=3.0,
                                step=0.5, key=f"{K.PLATE_SEARCH}_{key}_hours")
        go = st.form_submit_button("Search plates", key=f"{K.PLATE_SEARCH}_{key}_go")
    if not (go and pattern.strip()):
        return
    try:
        found = ctx.plate_candidates(pattern, easting_m, northing_m, at_iso, km=km, hours=hours)
    except CaseworkInputError as exc:
        st.error(md_escape(exc))
        return
    if not len(found):
        st.info("No plate matching that pattern was read within that distance and time.")
        return
    st.caption(f"{fmt_int(len(found))} candidate(s), best first (score 1 = read at that very "
               "place and time; halved for a misread)")
    widgets.show_table(view.candidates_table(found, redact=ctx.mask), redact=ctx.mask,
                       key=f"{K.PLATE_SEARCH}_{key}_table", briefing=ctx.filters.briefing)


def _form_fields(ctx: context.Context, subject: str, kind: str) -> dict:
    """The form's widgets (inside an ``st.form``); returns their values."""
    p = K.INTERACTION_FORM
    c1, c2 = st.columns([1, 2])
    kinds = ["vehicle", "person"]
    kind_v = c1.radio("Subject is a", kinds, index=kinds.index(kind) if kind in kinds else 0,
                      key=f"{p}_kind", format_func=lambda k: {"vehicle": "vehicle (plate)",
                                                              "person": "person (id)"}[k])
    subject_v = c2.text_input("Subject", value=subject, key=f"{p}_subject",
                              help="The plate or the person id the action names")
    c3, c4, c5 = st.columns(3)
    type_v = c3.selectbox("Type", list(view.TYPE_OPTIONS), key=f"{p}_type",
                          format_func=lambda t: view.TYPE_OPTIONS[t])
    force_v = c4.selectbox("Force", list(ctx.force_names), key=f"{p}_force")
    when_v = c5.text_input("Date and time", key=f"{p}_when", placeholder="03/10/2021 21:30",
                           help="UK local time as dd/mm/yyyy HH:MM, or ISO 8601 with an offset")
    c6, c7 = st.columns(2)
    ref_v = c6.text_input("Officer / reference", key=f"{p}_ref")
    inc_v = c7.text_input("Incident id (optional)", key=f"{p}_incident")
    note_v = st.text_area("Note", key=f"{p}_note", height=80)
    return {"subject": subject_v, "kind": kind_v, "type_text": type_v, "force": force_v,
            "when": when_v, "reference": ref_v, "incident_id": inc_v, "note": note_v}


def interaction_form(ctx: context.Context, *, subject: str = "", kind: str = "vehicle") -> None:
    """Record one interaction: validated like an imported row; a rejected row shows its reason."""
    from geo.casework.interactions import form_row

    done = st.session_state.pop(K.INTERACTION_DONE, None)
    if done:
        st.success(done)
    with st.form(K.INTERACTION_FORM, border=True):
        st.markdown("**Record an interaction**")
        values = _form_fields(ctx, subject, kind)
        submitted = st.form_submit_button("Record interaction", type="primary",
                                          key=f"{K.INTERACTION_FORM}_go")
    if not submitted:
        return
    result, report = context.record_interaction(form_row(**values),
                                                start_month=ctx.filters.start_month)
    if not result.n_accepted:
        st.error("Not recorded: " + md_escape(view.first_reject_reason(result.to_report())))
        return
    added = "recorded" if report.rows_added else "already on record"
    st.session_state[K.INTERACTION_DONE] = (
        f"Interaction {added}: {view.TYPE_OPTIONS[values['type_text']]} by {values['force']}.")
    st.rerun()
