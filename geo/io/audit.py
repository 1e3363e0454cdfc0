"""The audit trail: append-only, hash-chained JSON Lines under ``<data_dir>/audit/``.

DPA 2018 s.62 asks a competent authority to log collection, alteration,
consultation, disclosure, combination and erasure of personal data: who,
when, what, and why where a reason is given. Harewatch writes one entry per
such action *before* its result is shown; when the entry cannot be written
the action is refused (:class:`geo.errors.AuditError`).

``audit.jsonl``, one JSON object a line::

    {"seq": 7, "at": "2025-01-31T21:04:05.123456Z", "user": "a@force.example",
     "action": "reveal", "detail": {...}, "reason": "...", "prev": "<sha256>", "hash": "<sha256>"}

``hash`` is the SHA-256 of the entry's canonical JSON without ``hash``
(keys sorted, no spaces); ``prev`` is the previous entry's ``hash`` (64
zeros for the first). Changing, removing or reordering a line breaks the
chain at that line (:func:`verify_trail` names the first such entry).
``head.json`` records the newest entry's ``seq`` and ``hash`` so that cutting
entries off the end is caught too; copy the head hash ``harewatch audit
verify`` prints to somewhere else (a ticket, a daily e-mail) to prove the
whole trail later.

Writers hold ``.audit.lock`` (an OS file lock; threads of one process also
a process lock); every line and the head are flushed to disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from geo.errors import AuditError, AuditTampered

__all__ = [
    "ACTIONS",
    "AUDIT_FILE",
    "HEAD_FILE",
    "GENESIS",
    "TrailCheck",
    "record",
    "read_entries",
    "filter_entries",
    "verify_trail",
    "repair_trail",
    "entry_hash",
    "trail_path",
    "os_user",
]

AUDIT_FILE = "audit.jsonl"
HEAD_FILE = "head.json"
LOCK_FILE = ".audit.lock"
#: ``prev`` of the first entry.
GENESIS = "0" * 64
#: What an entry records (``action``).
ACTIONS: tuple[str, ...] = (
    "login", "denied", "view", "reveal", "authorise", "download", "ingest", "purge",
    "role_change", "read", "alter", "audit_read", "repair",
)
_LOCAL = threading.Lock()
_TAIL_CHUNK = 64 * 1024


def os_user() -> str:
    """The operating-system account running this process (the "who" of CLI entries)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return f"uid:{os.getuid()}"


def trail_path(audit_dir: str | os.PathLike) -> Path:
    """``<audit_dir>/audit.jsonl``."""
    return Path(audit_dir) / AUDIT_FILE


def _canonical(obj: Mapping[str, object]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def entry_hash(entry: Mapping[str, object]) -> str:
    """SHA-256 (hex) of an entry's canonical JSON without its ``hash``."""
    return hashlib.sha256(_canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def _last_line(path: Path) -> bytes | None:
    """The last line of the trail (None when empty); raises AuditError on a torn last line."""
    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        return None
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        if fh.read(1) != b"\n":
            raise AuditError(f"the audit trail {path} ends in a partial line; run `harewatch "
                             "audit verify` and have an administrator look at it")
        back = min(size, _TAIL_CHUNK)
        while True:
            fh.seek(size - back)
            chunk = fh.read(back)
            cut = chunk.rfind(b"\n", 0, len(chunk) - 1)
            if cut >= 0 or back == size:
                return chunk[cut + 1:-1]
            back = min(size, back * 2)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_head(folder: Path, seq: int, digest: str) -> None:
    tmp = folder / f".{HEAD_FILE}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"seq": seq, "hash": digest}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / HEAD_FILE)
    _fsync_dir(folder)


def _append(folder: Path, user: str, action: str, detail: Mapping, reason: str | None,
            at: pd.Timestamp) -> dict:
    path = folder / AUDIT_FILE
    last = _last_line(path)
    prev_seq, prev_hash = 0, GENESIS
    if last is not None:
        try:
            prev = json.loads(last)
            prev_seq, prev_hash = int(prev["seq"]), str(prev["hash"])
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditError(f"the last entry of the audit trail {path} cannot be read; run "
                             "`harewatch audit verify`") from exc
    entry = {"seq": prev_seq + 1, "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "user": user,
             "action": action, "detail": dict(detail), "reason": reason, "prev": prev_hash}
    entry["hash"] = entry_hash(entry)
    line = _canonical(entry) + b"\n"
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(folder)
    _write_head(folder, entry["seq"], entry["hash"])
    return entry


def record(audit_dir: str | os.PathLike, *, user: str, action: str,
           detail: Mapping[str, object] | None = None, reason: str | None = None,
           at: pd.Timestamp | None = None, lock_timeout_s: float = 10.0) -> dict:
    """Append one entry to the trail; return it (with ``seq`` and ``hash``).

    Parameters
    ----------
    audit_dir : path
        ``<data_dir>/audit`` (created when missing).
    user : str
        Who: the e-mail of the logged-in user, or the operating-system account.
    action : str
        One of :data:`ACTIONS`.
    detail : mapping, optional
        What: JSON-serialisable facts (page and filters, subject, file, rows...).
        Never secrets or tokens.
    reason : str, optional
        Why, when the user gave a reason.
    at : Timestamp, optional
        When (default: now, UTC).
    lock_timeout_s : float, default 10

    Raises
    ------
    AuditError
        The entry could not be written (folder not writable, disk full, lock
        held too long, damaged last line): refuse the action.
    """
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}")
    if not str(user).strip():
        raise AuditError("an audit entry needs a user")
    folder = Path(audit_dir)
    when = pd.Timestamp.now(tz="UTC") if at is None else pd.Timestamp(at).tz_convert("UTC")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _LOCAL, FileLock(folder / LOCK_FILE, timeout=lock_timeout_s):
            return _append(folder, str(user), action, detail or {}, reason, when)
    except Timeout as exc:
        raise AuditError(f"the audit trail {folder} is locked by another process; the action "
                         "was refused") from exc
    except AuditError:
        raise
    except (OSError, TypeError, ValueError) as exc:
        raise AuditError(f"the audit trail in {folder} cannot be written ({exc}); the action "
                         "was refused") from exc


def read_entries(audit_dir: str | os.PathLike) -> list[dict]:
    """Every entry of the trail, oldest first (lines that are not JSON objects are skipped;
    :func:`verify_trail` reports them)."""
    path = trail_path(audit_dir)
    if not path.exists():
        return []
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                with contextlib.suppress(ValueError):
                    obj = json.loads(line)
                    if isinstance(obj, dict):
                        out.append(obj)
    except OSError as exc:
        raise AuditError(f"the audit trail {path} cannot be read ({exc})") from exc
    return out


def filter_entries(entries: Iterable[Mapping], *, user: str | None = None,
                   since: pd.Timestamp | None = None, action: str | None = None) -> list[dict]:
    """Entries of ``user`` (case-insensitive), at or after ``since`` (tz-aware), of ``action``."""
    lo = None if since is None else pd.Timestamp(since).tz_convert("UTC")
    out = []
    for e in entries:
        if user is not None and str(e.get("user", "")).lower() != user.strip().lower():
            continue
        if action is not None and e.get("action") != action:
            continue
        if lo is not None:
            at = pd.to_datetime(e.get("at"), utc=True, errors="coerce")
            if pd.isna(at) or at < lo:
                continue
        out.append(dict(e))
    return out


@dataclass(frozen=True)
class TrailCheck:
    """The result of :func:`verify_trail`.

    Attributes
    ----------
    ok : bool
    entries : int
        Lines read.
    head : str
        ``hash`` of the newest entry (the value to keep elsewhere).
    problem : str
        Empty when ``ok``; else names the first altered, removed or reordered entry.
    seq, line : int
        That entry's sequence number and line (0 when ``ok``).
    """

    ok: bool
    entries: int
    head: str
    problem: str = ""
    seq: int = 0
    line: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def raise_if_bad(self) -> None:
        if not self.ok:
            raise AuditTampered(self.problem, self.seq, self.line)


def _parse(line: bytes) -> dict | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    ok = isinstance(obj, dict) and isinstance(obj.get("seq"), int) and "hash" in obj
    return obj if ok else None


def _break(lines: list[bytes], i: int, want_seq: int) -> tuple[str, int]:
    """Why line ``i`` (0-based) breaks the chain: (message, seq of the entry named)."""
    n = i + 1
    entry = _parse(lines[i])
    if entry is None or entry_hash(entry) != entry.get("hash"):
        return f"entry {want_seq} (line {n}) was altered: it does not match its hash", want_seq
    seq = int(entry["seq"])
    if seq == want_seq:
        return (f"entry {seq - 1} or entry {seq} (line {n}) was altered: the chain breaks "
                "between them", seq - 1)
    later = [j for j in range(i + 1, len(lines)) if (_parse(lines[j]) or {}).get("seq") == want_seq]
    if later:
        return (f"entry {want_seq} was reordered: it is at line {later[0] + 1}, line {n} holds "
                f"entry {seq}", want_seq)
    if seq > want_seq:
        return f"entry {want_seq} was removed: line {n} holds entry {seq}", want_seq
    return f"entry {seq} (line {n}) is out of order: entry {want_seq} was expected", seq


def _check_head(folder: Path, last_seq: int, hashes: dict[int, str]) -> tuple[str, int]:
    path = folder / HEAD_FILE
    if not path.exists():
        return "", 0
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
        seq, digest = int(head["seq"]), str(head["hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"the head file {path} is damaged", last_seq
    if seq > last_seq:
        return (f"entry {last_seq + 1} was removed: the trail ends at entry {last_seq}, "
                f"the head records entry {seq}", last_seq + 1)
    if hashes.get(seq) != digest:
        return f"entry {seq} was altered: it does not match the head's hash", seq
    return "", 0


def verify_trail(audit_dir: str | os.PathLike) -> TrailCheck:
    """Check the whole chain (and the head): the first altered, removed or reordered entry.

    An unfinished last write (a power cut or a full disk mid-line: no newline at
    the end of the file) is named as such; :func:`repair_trail` sets it aside.

    Raises
    ------
    AuditError
        The trail cannot be read at all.
    """
    folder = Path(audit_dir)
    data = _read_trail(folder / AUDIT_FILE)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return _check_lines(folder, lines, torn=bool(data) and not data.endswith(b"\n"))


def _read_trail(path: Path) -> bytes:
    try:
        return path.read_bytes() if path.exists() else b""
    except OSError as exc:
        raise AuditError(f"the audit trail {path} cannot be read ({exc})") from exc


def _check_lines(folder: Path, lines: list[bytes], *, torn: bool) -> TrailCheck:
    prev_hash, hashes = GENESIS, {}
    for i, line in enumerate(lines):
        entry = _parse(line)
        want = len(hashes) + 1
        good = (entry is not None and entry["seq"] == want and entry.get("prev") == prev_hash
                and entry_hash(entry) == entry["hash"])
        if not good:
            if torn and entry is None and i == len(lines) - 1:
                problem = (f"line {i + 1} is an unfinished write (the file does not end in a "
                           f"newline); entries 1-{want - 1} are intact: `harewatch audit repair` "
                           "sets the unfinished line aside")
                return TrailCheck(False, len(lines), prev_hash, problem, want, i + 1)
            problem, seq = _break(lines, i, want)
            return TrailCheck(False, len(lines), prev_hash, problem, seq, i + 1)
        prev_hash = hashes[want] = str(entry["hash"])
    problem, seq = _check_head(folder, len(hashes), hashes)
    if problem:
        return TrailCheck(False, len(lines), prev_hash, problem, seq, len(lines))
    return TrailCheck(True, len(lines), prev_hash)


def repair_trail(audit_dir: str | os.PathLike, *, user: str, lock_timeout_s: float = 10.0) -> dict:
    """Set aside an unfinished last write, then record that in the trail.

    Only the bytes after the last newline are moved, to ``partial-<UTC time>.bin``
    beside the trail, and only when every whole entry before them verifies; a
    ``repair`` entry records their size, SHA-256 and file. Nothing else is ever
    changed: an altered, removed or reordered entry stays for an investigator.

    Returns
    -------
    dict
        ``{"repaired": bool, "problem": str, "set_aside": path, "bytes": int,
        "sha256": str, "entry": seq of the repair entry}``.
    """
    folder = Path(audit_dir)
    path = folder / AUDIT_FILE
    try:
        with _LOCAL, FileLock(folder / LOCK_FILE, timeout=lock_timeout_s):
            data = _read_trail(path)
            if not data or data.endswith(b"\n"):
                return {"repaired": False, "problem": "", "set_aside": "", "bytes": 0,
                        "sha256": "", "entry": 0}
            cut = data.rfind(b"\n") + 1
            whole = [ln for ln in data[:cut].split(b"\n") if ln]
            check = _check_lines(folder, whole, torn=False)
            if not check.ok:
                return {"repaired": False, "problem": check.problem, "set_aside": "", "bytes": 0,
                        "sha256": "", "entry": 0}
            return _set_aside(folder, path, data[cut:], cut, user)
    except Timeout as exc:
        raise AuditError(f"the audit trail {folder} is locked by another process") from exc
    except OSError as exc:
        raise AuditError(f"the audit trail in {folder} cannot be repaired ({exc})") from exc


def _set_aside(folder: Path, path: Path, tail: bytes, cut: int, user: str) -> dict:
    now = pd.Timestamp.now(tz="UTC")
    aside = folder / f"partial-{now.strftime('%Y%m%dT%H%M%S%fZ')}.bin"
    with open(aside, "xb") as fh:
        fh.write(tail)
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_dir(folder)
    os.truncate(path, cut)
    digest = hashlib.sha256(tail).hexdigest()
    entry = _append(folder, user, "repair", {"set_aside": aside.name, "bytes": len(tail),
                                             "sha256": digest}, None, now)
    return {"repaired": True, "problem": "", "set_aside": str(aside), "bytes": len(tail),
            "sha256": digest, "entry": entry["seq"]}
