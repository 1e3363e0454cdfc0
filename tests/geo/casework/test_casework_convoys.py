"""Convoys and associates: a pair read together at 3 cameras vs a pair that meets once."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from factories import casework_reads as reads

from geo.casework import CaseworkInputError
from geo.casework.convoys import ASSOCIATE_COLUMNS, CONVOY_COLUMNS, associates, co_reads, convoys

READS = [
    # SUBJ and PAL travel together past three cameras on one night
    ("SUBJ", "2021-10-01T20:00Z", "Norfolk", "C1"),
    ("PAL", "2021-10-01T20:02Z", "Norfolk", "C1"),
    ("SUBJ", "2021-10-01T20:30Z", "Norfolk", "C2"),
    ("PAL", "2021-10-01T20:31Z", "Norfolk", "C2"),
    ("SUBJ", "2021-10-01T21:00Z", "Suffolk", "C3"),
    ("PAL", "2021-10-01T20:55Z", "Suffolk", "C3"),  # 5 min before: still together
    # ONCE passes C1 a minute after SUBJ, once, by chance
    ("ONCE", "2021-10-01T20:01Z", "Norfolk", "C1"),
    # LATE passes C2 six minutes after SUBJ: not together
    ("LATE", "2021-10-01T20:36Z", "Norfolk", "C2"),
    # MATE meets SUBJ at C9 on two different nights (one camera, two occasions)
    ("SUBJ", "2021-10-05T22:00Z", "Essex", "C9"),
    ("MATE", "2021-10-05T22:03Z", "Essex", "C9"),
    ("SUBJ", "2021-10-12T22:00Z", "Essex", "C9"),
    ("MATE", "2021-10-12T21:58Z", "Essex", "C9"),
    # no camera id: never a co-read
    ("NOCAM", "2021-10-01T20:00Z", "Norfolk", ""),
    ("NOCAM", "2021-10-01T20:30Z", "Norfolk", ""),
    ("NOCAM", "2021-10-01T21:00Z", "Norfolk", ""),
]


def test_associates_of_a_subject():
    frame = reads(READS)
    before = frame.copy(deep=True)
    out = associates(frame, "subj")
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.columns) == ASSOCIATE_COLUMNS
    assert out["plate"].tolist() == ["MATE", "PAL"]
    pal = out.set_index("plate").loc["PAL"]
    assert (pal["n_co_reads"], pal["n_cameras"], pal["n_occasions"]) == (3, 3, 1)
    assert pal["cameras"] == ["C1", "C2", "C3"]
    assert [(e["camera_id"], e["subject_at"], e["associate_at"], e["gap_min"])
            for e in pal["evidence"]] == [
        ("C1", "2021-10-01T20:00:00+00:00", "2021-10-01T20:02:00+00:00", 2.0),
        ("C2", "2021-10-01T20:30:00+00:00", "2021-10-01T20:31:00+00:00", 1.0),
        ("C3", "2021-10-01T21:00:00+00:00", "2021-10-01T20:55:00+00:00", 5.0),
    ]
    mate = out.set_index("plate").loc["MATE"]
    assert (mate["n_cameras"], mate["n_occasions"]) == (1, 2)


def test_thresholds_and_window():
    frame = reads(READS)
    assert associates(frame, "SUBJ", min_occasions=3)["plate"].tolist() == ["PAL"]
    assert associates(frame, "SUBJ", min_cameras=4)["plate"].tolist() == ["MATE"]
    # with a 6-minute window LATE is with SUBJ once more, at C2 only: still one camera, once
    assert "LATE" not in associates(frame, "SUBJ", within_min=6)["plate"].tolist()
    # with a 4-minute window PAL's C3 read (5 min) drops out: 2 cameras still
    pal = associates(frame, "SUBJ", within_min=4).set_index("plate").loc["PAL"]
    assert pal["n_cameras"] == 2
    # with a 200-hour occasion gap MATE's two nights are one occasion: no longer an associate
    assert associates(frame, "SUBJ", max_gap_h=200)["plate"].tolist() == ["PAL"]
    assert associates(frame, "NOBODY").empty
    assert list(associates(frame, "NOBODY").columns) == ASSOCIATE_COLUMNS


def test_convoys_all_pairs():
    out = convoys(reads(READS))
    assert list(out.columns) == CONVOY_COLUMNS
    pairs = list(zip(out["plate_a"], out["plate_b"], strict=True))
    assert pairs == [("MATE", "SUBJ"), ("PAL", "SUBJ")]
    # ONCE is near SUBJ and PAL at C1 once each: not a convoy
    assert not any("ONCE" in p for p in pairs)
    with pytest.raises(CaseworkInputError):
        convoys(reads(READS), within_min=-1)


def test_co_read_window_is_inclusive():
    rows = [("A", "2021-10-01T20:00:00Z", "Norfolk", "C1"),
            ("B", "2021-10-01T20:05:00Z", "Norfolk", "C1"),
            ("C", "2021-10-01T20:05:00.000001Z", "Norfolk", "C1")]
    pairs = co_reads(reads(rows[:1]), reads(rows))
    assert pairs["plate_b"].tolist() == ["B"]


def _brute_force(frame: pd.DataFrame, within_min: float) -> set[tuple]:
    out = set()
    recs = frame.to_dict("records")
    for a, b in itertools.permutations(recs, 2):
        if (a["camera_id"] and a["camera_id"] == b["camera_id"] and a["vrm"] != b["vrm"]
                and abs((a["read_at"] - b["read_at"]).total_seconds()) <= within_min * 60):
            out.add((a["vrm"], b["vrm"], a["camera_id"], a["read_at"], b["read_at"]))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_co_reads_equal_brute_force_on_random_reads(seed):
    rng = np.random.default_rng(seed)
    n = 400
    t0 = pd.Timestamp("2021-10-01T18:00Z")
    frame = reads([(f"P{rng.integers(0, 30)}",
                    (t0 + pd.Timedelta(seconds=int(rng.integers(0, 6 * 3600)))).isoformat(),
                    "Norfolk", ["", "C1", "C2", "C3", "C4"][rng.integers(0, 5)])
                   for _ in range(n)])
    got = co_reads(frame, frame, within_min=5)
    found = set(zip(got["plate_a"], got["plate_b"], got["camera_id"], got["at_a"], got["at_b"],
                    strict=True))
    assert len(got) == len(found)  # no pair twice
    assert found == _brute_force(frame, 5)


@pytest.mark.parametrize("seed", [3, 4])
def test_convoys_equal_a_plain_pandas_summary_on_random_reads(seed):
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2021-10-01T18:00Z")
    frame = reads([(f"P{rng.integers(0, 12)}",
                    (t0 + pd.Timedelta(minutes=int(rng.integers(0, 3 * 24 * 60)))).isoformat(),
                    "Norfolk", f"C{rng.integers(0, 3)}") for _ in range(600)])
    got = convoys(frame, min_cameras=1, min_occasions=1).set_index(["plate_a", "plate_b"])
    pairs = co_reads(frame, frame)
    pairs = pairs[pairs["plate_a"] < pairs["plate_b"]].sort_values(["at_a", "at_b"])
    expected = {}
    for key, g in pairs.groupby(["plate_a", "plate_b"]):
        gaps = g["at_a"].diff().dropna() > pd.Timedelta(hours=6)
        expected[key] = (len(g), g["camera_id"].nunique(), 1 + int(gaps.sum()),
                         sorted(g["camera_id"].unique()))
    assert set(got.index) == set(expected)
    for key, (n, n_cam, n_occ, cams) in expected.items():
        row = got.loc[key]
        assert (row["n_co_reads"], row["n_cameras"], row["n_occasions"]) == (n, n_cam, n_occ)
        assert row["cameras"] == cams
