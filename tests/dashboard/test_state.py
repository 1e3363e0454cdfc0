"""Filters <-> URL query string: round trips and garbage never crash."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.state import ALL_SEASONS, SEVEN, Filters, field_names


def test_defaults_are_the_seven_forces_whole_day_no_masking():
    f = Filters()
    assert f.forces == SEVEN
    assert len(f.forces) == 7
    assert f.hours == (0, 23)
    assert f.redact is False
    assert f.tiles is False
    assert f.start_month == 9


def test_round_trip_every_field():
    f = Filters(
        season="2021-22",
        start_month=10,
        forces=("Norfolk", "Kent"),
        date_from=dt.date(2021, 10, 1),
        date_to=dt.date(2022, 2, 28),
        hours=(5, 9),
        eps_m=2250.5,
        min_samples=4,
        briefing=True,
        redact=False,
        tiles=True,
    )
    params = f.to_query_params()
    assert all(isinstance(v, str) for v in params.values())
    assert Filters.from_query_params(params) == f


def test_round_trip_defaults_and_all_seasons():
    f = Filters()
    params = f.to_query_params()
    assert params["season"] == ALL_SEASONS
    assert Filters.from_query_params(params, default_season="2021-22") == f


def test_forces_keep_canonical_order_and_drop_unknown():
    f = Filters.from_query_params({"forces": "Kent,Atlantis,Norfolk,Kent"})
    assert f.forces == ("Norfolk", "Kent")  # SEVEN order: Norfolk before Kent


def test_explicit_empty_forces_is_an_empty_view():
    assert Filters.from_query_params({"forces": ""}).forces == ()


def test_missing_redact_follows_briefing_mode():
    assert Filters.from_query_params({"briefing": "1"}).redact is True
    assert Filters.from_query_params({"briefing": "1", "redact": "0"}).redact is False
    assert Filters.from_query_params({"briefing": "0"}).redact is False


def test_season_validated_against_known_seasons():
    known = ["2020-21", "2021-22"]
    assert Filters.from_query_params({"season": "2020-21"}, seasons=known).season == "2020-21"
    got = Filters.from_query_params({"season": "1999-00"}, seasons=known, default_season="2021-22")
    assert got.season == "2021-22"
    assert Filters.from_query_params({}, default_season="2021-22").season == "2021-22"
    assert Filters.from_query_params({"season": "ALL"}, default_season="2021-22").season is None


def test_list_values_use_last_item():
    assert Filters.from_query_params({"min_samples": ["3", "8"]}).min_samples == 8


GARBAGE = [
    "",
    " ",
    "nan",
    "inf",
    "-1",
    "1e309",
    "99999999999999999999999",
    "<script>alert(1)</script>",
    "2021-13-45",
    "23-0",
    "0-24",
    "a-b",
    "1-2-3",
    "x" * 5000,
    "\x00\n\r",
    "true",
    "2021-22",
]


@pytest.mark.parametrize("junk", GARBAGE)
def test_garbage_in_any_param_falls_back_to_a_valid_filter(junk):
    keys = ["season", "start_month", "forces", "from", "to", "hours", "eps_m",
            "min_samples", "briefing", "redact", "tiles"]
    f = Filters.from_query_params({k: junk for k in keys})
    d = Filters()
    assert 1 <= f.start_month <= 12
    assert set(f.forces) <= set(SEVEN)
    assert 0 <= f.hours[0] <= 23 and 0 <= f.hours[1] <= 23
    assert 100 <= f.eps_m <= 10_000
    assert 2 <= f.min_samples <= 50
    assert f.season is None or f.season == junk.strip()
    if junk not in ("true", "2021-22"):
        assert f.eps_m == d.eps_m
        assert f.min_samples == d.min_samples
        if junk != "23-0":  # a valid window across midnight
            assert f.hours == d.hours
    # whatever came in, the result still round-trips
    assert Filters.from_query_params(f.to_query_params()) == f


def test_specific_garbage_values():
    f = Filters.from_query_params(
        {"from": "2022-03-01", "to": "2021-01-01", "hours": "9-25", "eps_m": "nan",
         "min_samples": "1", "start_month": "13", "tiles": "maybe"}
    )
    assert (f.date_from, f.date_to) == (None, None)  # reversed range dropped
    assert f.hours == (0, 23)
    assert f.eps_m == 1500
    assert f.min_samples == 6
    assert f.start_month == 9
    assert f.tiles is False


def test_hours_across_midnight_round_trip():
    f = Filters.from_query_params({"hours": "20-4"})
    assert f.hours == (20, 4)
    assert Filters.from_query_params(f.to_query_params()).hours == (20, 4)


def test_hostile_mapping_does_not_crash():
    class Boom(dict):
        def get(self, key, default=None):
            raise RuntimeError("boom")

    assert Filters.from_query_params(Boom()) == Filters()


def test_filters_are_hashable_and_frozen():
    f = Filters()
    assert hash(f) == hash(Filters())
    with pytest.raises(AttributeError):
        f.season = "2021-22"  # type: ignore[misc]
    assert f.with_(season="2020-21").season == "2020-21"
    assert "eps_m" in field_names()


def test_scope_holds_only_the_incident_filters():
    a = Filters(season="2021-22", forces=("Norfolk",), hours=(20, 4), eps_m=900.0, redact=True)
    b = Filters(season="2021-22", forces=("Norfolk",), hours=(20, 4), eps_m=2500.0, briefing=True)
    assert a.scope == b.scope  # display and DBSCAN settings do not change which incidents
    assert hash(a.scope) == hash(b.scope)
    assert a.scope.season == "2021-22" and a.scope.hours == (20, 4) and a.scope.forces == ("Norfolk",)
    assert Filters(season="2020-21").scope != Filters(season="2021-22").scope


def test_init_session_keeps_the_link_that_opened_the_session():
    from dashboard.state import SessionKeys, init_session

    session: dict = {}
    init_session(session, {"season": "2020-21", "forces": "Kent"})
    init_session(session, {"season": "2021-22"})  # a page link clicked during the first load
    assert session[SessionKeys.LINK_PARAMS] == {"season": "2020-21", "forces": "Kent"}


def test_session_keys_are_distinct():
    from dashboard.state import SessionKeys

    keys = {k: v for k, v in vars(SessionKeys).items() if k.isupper()}
    assert len(set(keys.values())) == len(keys)
