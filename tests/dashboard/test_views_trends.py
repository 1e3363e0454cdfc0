"""dashboard.views.trends: season totals, before/after, per force and season (known answers)."""

from __future__ import annotations

import datetime as dt

import pandas as pd


def test_season_totals_known_answer():
    from dashboard.views.trends import season_sentence, season_totals

    times = pd.to_datetime(
        ["2020-10-01T12:00Z"] * 4 + ["2021-09-15T12:00Z"] * 3 + ["2021-08-31T22:59Z"], utc=True
    )  # 2021-08-31 23:59 BST is still 2020-21
    t = season_totals(pd.DataFrame({"occurred_at": times}), 9)
    assert t["season"].tolist() == ["2020-21", "2021-22"]
    assert t["incidents"].tolist() == [5, 3]
    assert float(t["change_pct"].iloc[1]) == -40.0
    cur, prev = t.iloc[1].to_dict(), t.iloc[0].to_dict()
    assert season_sentence(cur, prev) == "2020-21 → 2021-22: 5 → 3 incidents (-2, -40 %)"


def test_before_after_splits_on_the_london_day():
    from dashboard.views.trends import before_after

    times = pd.to_datetime(["2021-01-01T10:00Z", "2021-01-10T10:00Z", "2021-01-10T23:30Z"], utc=True)
    ba = before_after(pd.DataFrame({"occurred_at": times}), dt.date(2021, 1, 10))
    assert ba["incidents"].tolist() == [1, 2]
    assert ba["days"].tolist() == [9, 1]


def test_per_force_season_change_column():
    from dashboard.views.trends import per_force_season

    times = pd.to_datetime(["2020-10-01T12:00Z"] * 3 + ["2021-10-01T12:00Z"] * 2 + ["2021-10-02T12:00Z"], utc=True)
    df = pd.DataFrame({"occurred_at": times, "force": ["Kent"] * 3 + ["Kent", "Kent", "Essex"]})
    t = per_force_season(df, 9).set_index("force")
    assert t.loc["Kent", "2020-21"] == 3 and t.loc["Kent", "2021-22"] == 2
    assert t.loc["Kent", "change 2020-21 → 2021-22"] == "-33 %"
    assert t.loc["Essex", "change 2020-21 → 2021-22"] == "–"  # nothing the season before
