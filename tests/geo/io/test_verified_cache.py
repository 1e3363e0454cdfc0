"""The user cache's record of verified store files: a new process skips unchanged files,
never trusts changed, fresh or unreadable entries."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from geo.io.store import verify
from geo.io.store.verify import (
    file_problems,
    forget_verified,
    load_verified,
    save_verified,
    verified_cache_path,
)

CONTENT = b"harewatch stored bytes\n" * 10


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    """A private user cache (never the real one), forgotten by this process before and after."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("HAREWATCH_CACHE_DIR", str(folder))
    forget_verified()
    yield folder
    forget_verified()


@pytest.fixture()
def hashed(monkeypatch) -> list[Path]:
    """Files hashed from now on (sha256_file counted)."""
    calls: list[Path] = []
    real = verify.sha256_file

    def counting(path):
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(verify, "sha256_file", counting)
    return calls


def _settled_file(path: Path, data: bytes = CONTENT, age_s: float = 60.0) -> Path:
    """``data`` written to ``path``, modified ``age_s`` seconds ago (outside the racy window)."""
    path.write_bytes(data)
    past = time.time() - age_s
    os.utime(path, (past, past))
    return path


def _check(path: Path, sha: str, size: int = -1) -> list:
    return file_problems([path], [size], [sha])


def test_a_new_process_skips_an_unchanged_file(tmp_path, cache, hashed):
    f = _settled_file(tmp_path / "a.parquet")
    sha = hashlib.sha256(CONTENT).hexdigest()
    assert _check(f, sha, len(CONTENT)) == []
    assert hashed == [f]
    assert verified_cache_path().is_file()
    assert load_verified(verified_cache_path())[str(f)][3] == sha
    forget_verified()  # as a new process: nothing in memory, the record reloaded
    assert _check(f, sha, len(CONTENT)) == []
    assert hashed == [f]  # not hashed again


@pytest.mark.parametrize("change", ["same size, other time", "other size"])
def test_a_changed_file_is_hashed_again_and_its_damage_found(tmp_path, cache, hashed, change):
    f = _settled_file(tmp_path / "a.parquet")
    sha = hashlib.sha256(CONTENT).hexdigest()
    assert _check(f, sha) == []
    forget_verified()
    damaged = bytes([CONTENT[0] ^ 1]) + CONTENT[1:]
    if change == "other size":
        damaged += b"x"
    _settled_file(f, damaged, age_s=30.0)
    problems = _check(f, sha)
    assert [p for p, _ in problems] == [f]
    assert "does not match its SHA-256" in problems[0][1]
    assert hashed == [f, f]


def test_the_recorded_size_is_checked_before_any_cache(tmp_path, cache, hashed):
    f = _settled_file(tmp_path / "a.parquet")
    sha = hashlib.sha256(CONTENT).hexdigest()
    assert _check(f, sha, len(CONTENT)) == []
    forget_verified()
    problems = _check(f, sha, len(CONTENT) + 1)
    assert "damaged or truncated" in problems[0][1]


@pytest.mark.parametrize("record", [
    b"\x00\xffnot json",
    b'{"format": "harewatch-verified-1", "files": [["a", 1]]}',
    b'{"format": "harewatch-verified-2", "files": [["a", 1, 2, 3, "short", 0.0]]}',
    b'{"format": "harewatch-verified-2", "files": [["a", 1, 2, 3, "' + b"0" * 64 + b'"]]}',
    b'{"format": "harewatch-verified-1", "files": []}',
    b"[]",
    b"",
])
def test_a_corrupt_record_is_ignored_and_replaced(tmp_path, cache, hashed, record):
    f = _settled_file(tmp_path / "a.parquet")
    sha = hashlib.sha256(CONTENT).hexdigest()
    path = verified_cache_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(record)
    assert load_verified(path) == {}
    assert _check(f, sha) == []
    assert hashed == [f]
    assert str(f) in load_verified(path)  # rewritten whole


def test_a_record_of_a_damaged_file_is_not_trusted_when_its_key_differs(tmp_path, cache, hashed):
    """A record made for other bytes (forged or stale) vouches only for its exact key."""
    f = _settled_file(tmp_path / "a.parquet")
    sha = hashlib.sha256(CONTENT).hexdigest()
    st = f.stat()
    save_verified(verified_cache_path(),
                  {str(f): (st.st_size, st.st_mtime_ns + 1, st.st_ino, sha, time.time())})
    f.write_bytes(b"x" * len(CONTENT))
    os.utime(f, ns=(st.st_mtime_ns, st.st_mtime_ns))
    assert "does not match" in _check(f, sha)[0][1]
    assert hashed == [f]


def test_a_freshly_modified_file_is_neither_recorded_nor_trusted(tmp_path, cache, hashed):
    f = tmp_path / "a.parquet"
    f.write_bytes(CONTENT)  # modified now: inside the racy window
    sha = hashlib.sha256(CONTENT).hexdigest()
    assert _check(f, sha) == []
    assert str(f) not in load_verified(verified_cache_path())
    st = f.stat()  # even an entry with its exact key is not trusted while it is fresh
    save_verified(verified_cache_path(),
                  {str(f): (st.st_size, st.st_mtime_ns, st.st_ino, sha, time.time())})
    forget_verified()
    assert _check(f, sha) == []
    assert hashed == [f, f]


def test_no_record_without_a_user_cache_or_with_use_cache_off(tmp_path, cache, monkeypatch):
    f = _settled_file(tmp_path / "a.parquet")
    sha = hashlib.sha256(CONTENT).hexdigest()
    assert file_problems([f], [-1], [sha], use_cache=False) == []
    assert not cache.exists()
    monkeypatch.setenv("HAREWATCH_CACHE_DIR", "off")
    assert verified_cache_path() is None
    assert _check(f, sha) == []
    assert not cache.exists()


def test_the_record_keeps_the_newest_entries_only(tmp_path):
    path = tmp_path / "sha256.json"
    entries = {f"/s/{i}.parquet": (i, i, i, f"{i:064x}", float(i)) for i in range(10)}
    save_verified(path, entries, limit=3)
    assert list(load_verified(path)) == ["/s/7.parquet", "/s/8.parquet", "/s/9.parquet"]


@pytest.mark.parametrize("hashed_ago_s", [25 * 3600.0, -3600.0])
def test_an_entry_older_than_a_day_or_from_the_future_is_hashed_again(
        tmp_path, cache, hashed, hashed_ago_s):
    f = _settled_file(tmp_path / "a.parquet", age_s=30 * 3600.0)
    sha = hashlib.sha256(CONTENT).hexdigest()
    st = f.stat()
    save_verified(verified_cache_path(), {
        str(f): (st.st_size, st.st_mtime_ns, st.st_ino, sha, time.time() - hashed_ago_s)})
    assert _check(f, sha) == []
    assert hashed == [f]
    assert time.time() - load_verified(verified_cache_path())[str(f)][4] < 60  # renewed
