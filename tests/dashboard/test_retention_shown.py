"""Reads past retention are never shown, in local mode too, and the page says how many
were held back (``dashboard.context.load``; retention in tests/geo/test_access.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from _apptest import new_app
from factories import casework_store

from dashboard.views.reveal import withheld_reads_line

NOW = pd.Timestamp.now(tz="UTC").floor("s")


def _iso(days_ago: int) -> str:
    return (NOW - pd.Timedelta(days=days_ago)).isoformat()


@pytest.fixture
def old_and_new_reads(tmp_path, boundaries_path, monkeypatch):
    """One incident; reads of OLD11AA 400 days ago (past 365) and NEW22BB 10 days ago."""
    store = casework_store(
        tmp_path / "store",
        [("INC-1", _iso(10), "Cambridgeshire", "NEW22BB", "")],
        [("OLD11AA", _iso(400), "Cambridgeshire", "CAM-1"),
         ("OLD11AA", _iso(399), "Cambridgeshire", "CAM-1"),
         ("NEW22BB", _iso(10), "Cambridgeshire", "CAM-1")])
    for k, v in {"HAREWATCH_BOUNDARIES": str(boundaries_path), "HAREWATCH_DATA_DIR": str(store),
                 "HAREWATCH_NO_FETCH": "1"}.items():
        monkeypatch.setenv(k, v)
    return store


def test_local_mode_holds_back_reads_past_retention_and_says_so(old_and_new_reads):
    from dashboard import cache
    from geo.access import reads_shown_from

    since = reads_shown_from(NOW, keep_days=365, authorise_after_days=90, authorised=True)
    ds = cache.dataset(cache.data_key(cache.boundary_key(), reads_from=since))
    assert not ds.demo
    assert set(ds.sightings["vrm"]) == {"NEW22BB"} and ds.reads_withheld == 2

    at = new_app()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    notes = [c.value for c in at.caption if "not shown" in c.value]
    assert len(notes) == 1 and notes[0].startswith("2 stored ANPR reads before")
    assert "365\\-day retention" in notes[0] or "365-day retention" in notes[0]


def test_withheld_line_names_the_rule_that_applies():
    cut = pd.Timestamp("2026-09-03T23:00:00Z")  # midnight, London summer time
    local = withheld_reads_line(1, cut, keep_days=365, authorise_after_days=90, authorised=True)
    assert local == ("1 stored ANPR read before 04 Sep 2026 not shown: past the 365-day retention "
                     "('harewatch store purge' deletes them).")
    shared = withheld_reads_line(12345, cut, keep_days=365, authorise_after_days=90, authorised=False)
    assert shared.startswith("12,345 stored ANPR reads before 04 Sep 2026 not shown: reads older "
                             "than 90 days need a recorded authorisation (Reveal page)")
