"""The user cache (``geo.io.cache``): nested columns kept as Python objects, a bounded
folder, and the source digest used as a code version."""

from __future__ import annotations

import os

import pandas as pd

from geo.io.cache import cached_frames, prune, source_digest


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"ids": [["a", "b"], [], ["c"]],
                         "seen": [[{"at": "2021-01-01", "n": 1}], [], [{"at": "x", "n": 2}]],
                         "n": [2, 0, 1]})


def test_nested_columns_come_back_as_lists_and_dicts(tmp_path):
    built = cached_frames(tmp_path, "k1", lambda: {"f": _frame()}, python_objects=True)
    again = cached_frames(tmp_path, "k1", lambda: {"f": None}, python_objects=True)  # a hit
    for got in (built["f"], again["f"]):
        assert [type(v) for v in got["ids"]] == [list, list, list]
        assert got["seen"].iloc[0] == [{"at": "2021-01-01", "n": 1}]
    pd.testing.assert_frame_equal(again["f"], _frame())


def test_keep_bounds_the_folder_to_the_most_recently_used(tmp_path):
    for i, key in enumerate(("k1", "k2", "k3")):
        cached_frames(tmp_path, key, lambda: {"f": _frame()}, keep=2)
        index = tmp_path / f"{key}.names"
        os.utime(index, ns=(10**18 + i, 10**18 + i))  # ordered mtimes, whatever the clock
    assert sorted(p.name for p in tmp_path.glob("*.names")) == ["k2.names", "k3.names"]
    assert not list(tmp_path.glob("k1-*"))
    cached_frames(tmp_path, "k2", lambda: {"f": None})  # a hit: k2 is now the most recent
    assert prune(tmp_path, 1) == 1
    assert [p.name for p in tmp_path.glob("*.names")] == ["k2.names"]


def test_source_digest_changes_with_any_source_file(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    (pkg / "notes.txt").write_text("not source")
    first = source_digest(str(pkg))
    (pkg / "notes.txt").write_text("still not source")
    assert source_digest.__wrapped__(str(pkg)) == first
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    assert source_digest.__wrapped__(str(pkg)) != first


def test_prune_drops_entries_unused_for_longer_than_max_age(tmp_path):
    import os
    import time

    import pandas as pd

    from geo.io.cache import cached_frames, prune

    for key in ("old", "new"):
        cached_frames(tmp_path, key, lambda: {"f": pd.DataFrame({"a": [1]})})
    day_ago = time.time() - 25 * 3600
    os.utime(tmp_path / "old.names", (day_ago, day_ago))
    assert prune(tmp_path, None, max_age_s=24 * 3600) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new-f.parquet", "new.names"]
    assert prune(tmp_path, 5, max_age_s=24 * 3600) == 0
