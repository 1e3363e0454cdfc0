"""Watch a folder for ANPR read files: ingest each once and raise cross-border alerts.

``harewatch watch --incoming DIR`` runs a :class:`Watcher`. Every poll it
looks at the files directly in the incoming folder and processes the new
ones, oldest first (by modification time, then name):

1. read and validate it through the one read-and-validate path
   (:func:`geo.pipeline.ingest.check_file`): every row accepted or
   rejected with its reason (a bad line rejects that row, not the file);
2. ingest the accepted reads in one store commit and write the rejected
   rows with their reasons to the store's rejects CSV
   (:func:`geo.io.store.write.ingest`, idempotent);
3. raise alerts from *all* the file's accepted reads, not only the rows new
   to the store (:func:`raise_alerts`, idempotent), against the incidents
   in the store;
4. write the file's row in the ledger (:class:`geo.io.alert_db.AlertStore`),
   with the rejected-row count and the rejects CSV.

Crash safety: the ledger row is written last and every step before it is
idempotent, so a file interrupted by a crash is simply processed again on
restart, adding nothing twice.

Which files
-----------
* Only the extensions :func:`geo.readers.read_table` reads (CSV, TXT, TSV,
  XLSX/XLSM, GeoJSON/JSON/GPKG, Parquet/GeoParquet), directly in the folder
  (sub-folders are ignored); hidden files (``.name``) and ``*.tmp``,
  ``*.part``, ``*.partial`` are skipped.
* A file is taken once it has *settled*: its size and modification time
  have not changed for ``settle_s`` seconds. Writers should still write
  under a temporary name (e.g. ``.reads.csv`` or ``reads.csv.part``) and
  rename when done: a rename is atomic, a slow copy is not.
* Each file is processed once, even across restarts. The ledger is keyed by
  file name + SHA-256 of the content; a file whose name, size and
  modification time are in the ledger is not even hashed again. A file with
  a known name but new content is new data and is processed; the same
  content under another name is recorded as ``duplicate of <name>`` and not
  processed again.
* A file with some bad rows is ``ingested``: its good rows are stored and
  alerted on, the bad rows are counted and listed (row, reason) in the
  rejects CSV named in the ledger.
* A file that was read but holds nothing usable (every row rejected, only
  a header, an incidents file) is recorded as ``rejected`` with the reason.
* A file that could not be read at all (garbage, broken workbook, empty,
  undecodable) is recorded as ``unreadable`` with the reason and reported
  at every ``--once`` run; it is processed again as soon as its content
  changes, or on request (:meth:`Watcher.retry`, ``harewatch watch --retry
  NAME`` / ``--retry-all``; a running watcher notices such a request at its
  next poll).
* Problems that are not the file's fault (disk full, database locked) are
  logged and the file is retried at the next poll.

Incidents (for the ladder) come from the store and are reloaded only when
its incident files change. One watcher per data folder.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo._config import DEFAULTS
from geo.alerts import apply_cooldown, empty_alerts, find_alerts
from geo.areas import ForceAreas
from geo.errors import InputError
from geo.io.alert_db import AlertStore
from geo.io.provenance import append_provenance, provenance_record
from geo.io.readers import CSV_SUFFIXES, EXCEL_SUFFIXES, GEO_SUFFIXES, PARQUET_SUFFIXES
from geo.io.store.read import read_incidents, store_version
from geo.io.store.write import ingest
from geo.pipeline.ingest import FileCheck, check_file
from geo.privacy import mask_plate
from geo.schema import LONDON
from geo.seasons import season_of

__all__ = [
    "FileOutcome",
    "Watcher",
    "WATCHED_SUFFIXES",
    "format_alerts",
    "format_outcome",
    "raise_alerts",
]

#: File extensions the watcher picks up (those :func:`geo.readers.read_table` reads).
WATCHED_SUFFIXES: tuple[str, ...] = CSV_SUFFIXES + EXCEL_SUFFIXES + GEO_SUFFIXES + PARQUET_SUFFIXES
_SKIPPED_ENDINGS = (".tmp", ".part", ".partial", "~")


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _printable(text: object) -> str:
    """Text safe for a terminal: control characters (escape sequences) become ``?``."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one incoming file (one ledger row, plus the new alerts).

    Attributes
    ----------
    name : str
        File name (no folder).
    size, mtime_ns : int
        Size in bytes and modification time (ns since the epoch) when read.
    sha256 : str
        Hash of the content processed.
    status : {"ingested", "rejected", "unreadable"}
        ``ingested``: the accepted rows are stored (``rows_rejected`` may be
        > 0); ``rejected``: read, but nothing usable; ``unreadable``: could
        not be read at all (retried when it changes or on request).
    reason : str
        Why rows or the file were rejected, or ``"duplicate of <name>"``;
        ``""`` when every row was stored.
    rows, rows_added, rows_already_stored, rows_rejected : int
        Data rows read; accepted rows new to the store; accepted rows already
        stored; rejected rows (written to the store's rejects CSV).
    alerts_raised : int
        Alerts newly stored.
    rejects_path : str
        The store's rejects CSV listing each rejected row and its reason ("" if none).
    processed_at : Timestamp
        When processing finished (UTC).
    alerts : DataFrame
        The new alerts (:data:`geo.alerts.ALERT_COLUMNS`); not in the ledger.
    """

    name: str
    size: int
    mtime_ns: int
    sha256: str
    status: str
    reason: str = ""
    rows: int = 0
    rows_added: int = 0
    rows_already_stored: int = 0
    rows_rejected: int = 0
    alerts_raised: int = 0
    rejects_path: str = ""
    processed_at: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.now(tz="UTC"))
    alerts: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def to_record(self) -> dict:
        """The ledger row (:data:`geo.alerts.LEDGER_COLUMNS`)."""
        return {k: getattr(self, k) for k in (
            "name", "size", "mtime_ns", "sha256", "status", "reason", "rows", "rows_added",
            "rows_already_stored", "rows_rejected", "alerts_raised", "processed_at",
            "rejects_path")}


def format_outcome(o: FileOutcome) -> str:
    """One log line for a processed file."""
    line = (f"{_printable(o.name)}: {o.status}, {o.rows} rows, {o.rows_added} added, "
            f"{o.rows_rejected} rejected, {o.alerts_raised} alerts")
    return line + (f" ({_printable(o.reason)})" if o.reason else "")


def _local(times: pd.Series) -> list[str]:
    return pd.to_datetime(times, utc=True).dt.tz_convert(LONDON).dt.strftime(
        "%Y-%m-%d %H:%M %Z").tolist()


def format_alerts(alerts: pd.DataFrame) -> list[str]:
    """One log line per alert, with the plate masked (logs reach shared screens).

    Parameters
    ----------
    alerts : DataFrame
        :data:`geo.alerts.ALERT_COLUMNS`. Not modified.
    """
    if alerts.empty:
        return []
    return [
        f"ALERT {mask_plate(subject)} stage {int(stage)} ({label}), warned in "
        f"{_printable(warned_in)} {warned_at}, now in {_printable(now_in)}: camera "
        f"{_printable(camera) or '-'} at {read_at}"
        for subject, stage, label, warned_in, warned_at, now_in, camera, read_at in zip(
            alerts["subject"].tolist(), alerts["stage"].tolist(), alerts["stage_label"].tolist(),
            alerts["warned_in"].tolist(), _local(alerts["warned_at"]), alerts["now_in"].tolist(),
            alerts["camera_id"].tolist(), _local(alerts["read_at"]), strict=True)
    ]


class Watcher:
    """Process ANPR read files dropped into a folder, once each.

    Parameters
    ----------
    incoming : path
        Folder to watch (must exist).
    data_dir : path
        Store root (sightings, incidents, rejects, alerts database).
    areas : ForceAreas
        Force boundaries used to validate the reads.
    start_month : int, default 9
        Month (1..12) seasons start in.
    cooldown_h : float, default 6.0
        Hours between two alerts of the same plate in the same force.
    settle_s : float, default 0.5
        Seconds a file's size and modification time must stay unchanged
        before it is read.
    log : callable, optional
        Called with each log line (default: print to stderr).

    Notes
    -----
    Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        incoming: str | os.PathLike,
        data_dir: str | os.PathLike,
        areas: ForceAreas,
        *,
        start_month: int = DEFAULTS.start_month,
        cooldown_h: float = 6.0,
        settle_s: float = 0.5,
        log: Callable[[str], object] | None = None,
    ) -> None:
        self.incoming = Path(incoming)
        if not self.incoming.is_dir():
            raise FileNotFoundError(f"incoming folder {self.incoming} does not exist")
        season_of(pd.Series([], dtype="datetime64[us, UTC]"), start_month)  # validates
        if not cooldown_h >= 0 or not settle_s >= 0:
            raise InputError(f"cooldown_h and settle_s must be >= 0, got {cooldown_h}, {settle_s}")
        self.data_dir = Path(data_dir)
        self.areas = areas
        self.start_month = start_month
        self.cooldown_h = float(cooldown_h)
        self.settle_s = float(settle_s)
        self.log = log or _stderr
        self.store = AlertStore(self.data_dir)
        self._known = self.store.known_files()
        self._ledger_version = self.store.changed_elsewhere()
        self._seen: dict[str, tuple[int, int, float]] = {}  # name -> size, mtime_ns, since
        self._incidents: pd.DataFrame | None = None
        self._incidents_sig: tuple | None = None
        self.pending: list[str] = []

    def close(self) -> None:
        """Close the alerts database."""
        self.store.close()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ selection
    @staticmethod
    def _wanted(name: str) -> bool:
        low = name.lower()
        return (not name.startswith(".") and not low.endswith(_SKIPPED_ENDINGS)
                and Path(low).suffix in WATCHED_SUFFIXES)

    def _ready(self) -> list[tuple[int, str, int]]:
        """(mtime_ns, name, size) of settled files not in the ledger; updates ``pending``."""
        now_ns, now_s = time.time_ns(), time.monotonic()
        ready, pending, present = [], [], set()
        with os.scandir(self.incoming) as it:
            entries = [e for e in it if self._wanted(e.name)]
        for e in entries:
            try:
                if not e.is_file():
                    continue
                st = e.stat()
            except OSError:  # vanished meanwhile
                continue
            present.add(e.name)
            stat = (st.st_size, st.st_mtime_ns)
            if (e.name, *stat) in self._known:
                continue
            seen = self._seen.get(e.name)
            if seen is None or seen[:2] != stat:
                seen = self._seen[e.name] = (*stat, now_s)
            old = now_ns - st.st_mtime_ns >= self.settle_s * 1e9
            steady = now_s - seen[2] >= self.settle_s
            if old or steady:
                ready.append((st.st_mtime_ns, e.name, st.st_size))
            else:
                pending.append(e.name)
        self._seen = {k: v for k, v in self._seen.items() if k in present}
        self.pending = sorted(pending)
        return sorted(ready)

    # ------------------------------------------------------------------ processing
    def _incidents_now(self) -> pd.DataFrame | None:
        """Stored incidents, reloaded only when the incidents table has a new version."""
        version = store_version(self.data_dir)["incidents"]
        if version != self._incidents_sig:
            self._incidents = read_incidents(self.data_dir) if version >= 0 else None
            self._incidents_sig = version
        return self._incidents

    def _check(self, name: str, data: bytes) -> FileCheck:
        """The file read and validated as ANPR reads (never raises for bad content)."""
        try:
            return check_file(data, self.areas, name=name, kind="sightings",
                              refuse_incidents=True)
        except Exception as exc:  # any content problem rejects the file, never stops the watcher
            return FileCheck(kind="sightings",
                             error=f"cannot be validated ({type(exc).__name__}: {exc})")

    def _process(self, name: str, data: bytes, size: int, mtime_ns: int,
                 sha: str) -> FileOutcome:
        base = {"name": name, "size": size, "mtime_ns": mtime_ns, "sha256": sha}
        check = self._check(name, data)
        if not check.ok:
            status = "unreadable" if check.unreadable else "rejected"
            return FileOutcome(**base, status=status, reason=str(check.error))
        result = check.result
        if result.rows == 0:
            return FileOutcome(**base, status="rejected", reason="no data rows (only a header)")
        report = ingest(result, self.data_dir)
        append_provenance(self.data_dir, provenance_record(
            file=name, kind="sightings", rows=result.rows, rows_added=report.rows_added,
            synthetic=check.synthetic))
        alerts = raise_alerts(result.accepted, self._incidents_now(), self.store,
                              start_month=self.start_month, cooldown_h=self.cooldown_h,
                              source_file=name)
        return FileOutcome(
            **base, status="ingested" if result.n_accepted else "rejected",
            reason=_rejects_reason(result, report.rejects_path), rows=result.rows,
            rows_added=report.rows_added, rows_already_stored=report.rows_already_stored,
            rows_rejected=report.rows_rejected, alerts_raised=len(alerts), alerts=alerts,
            rejects_path="" if report.rejects_path is None else str(report.rejects_path),
        )

    def retry(self, names: list[str] | None = None) -> list[str]:
        """Process files again at the next poll (e.g. fixed, or read by a newer harewatch).

        Parameters
        ----------
        names : list of str, optional
            File names in the incoming folder (any status). None: every file
            recorded as ``unreadable`` or ``rejected`` that is still there.

        Returns
        -------
        list of str
            The names taken out of the ledger.
        """
        if names is None:
            ledger = self.store.processed_files()
            failed = ledger[ledger["status"].isin(["unreadable", "rejected"])]["name"]
            names = [n for n in failed if (self.incoming / n).is_file()]
        forgotten = self.store.forget_files(names)
        self._known = self.store.known_files()
        return forgotten

    def unreadable(self) -> pd.DataFrame:
        """Ledger rows of files that could not be read and are still in the incoming folder."""
        ledger = self.store.processed_files()
        bad = ledger[ledger["status"] == "unreadable"]
        here = np.array([(self.incoming / n).is_file() for n in bad["name"]], dtype=bool)
        return bad[here].reset_index(drop=True)

    def _refresh_known(self) -> None:
        """Reload the ledger when another process changed it (e.g. ``watch --retry``)."""
        version = self.store.changed_elsewhere()
        if version != self._ledger_version:
            self._ledger_version = version
            self._known = self.store.known_files()

    def _handle(self, name: str, size: int, mtime_ns: int) -> FileOutcome | None:
        path = self.incoming / name
        try:
            data = path.read_bytes()
            st = path.stat()
        except OSError as exc:
            self.log(f"{_printable(name)}: cannot read yet ({exc}); will retry")
            return None
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns) or len(data) != size:
            self._seen.pop(name, None)  # still being written: wait until it settles again
            return None
        sha = hashlib.sha256(data).hexdigest()
        known_key = (name, size, mtime_ns)
        if self.store.ledger_entry(name, sha) is not None:
            self._known.add(known_key)
            self.log(f"{_printable(name)}: already processed (same name and content), skipped")
            return None
        original = self.store.ledger_by_content(sha)
        if original is not None:
            outcome = FileOutcome(
                name=name, size=size, mtime_ns=mtime_ns, sha256=sha, status=original["status"],
                reason=f"duplicate of {original['name']}", rows=int(original["rows"]),
                rows_already_stored=int(original["rows"]) - int(original["rows_rejected"]),
                rows_rejected=int(original["rows_rejected"]),
            )
        else:
            outcome = self._process(name, data, size, mtime_ns, sha)
        self.store.record_file(outcome.to_record())  # last: everything before is idempotent
        self._known.add(known_key)
        self.log(format_outcome(outcome))
        if outcome.alerts is not None:
            for line in format_alerts(outcome.alerts):
                self.log(line)
        return outcome

    def poll_once(self, stop: threading.Event | None = None) -> list[FileOutcome]:
        """Process the settled new files once, oldest first.

        Parameters
        ----------
        stop : threading.Event, optional
            Checked between files: when set, the remaining files wait.

        Returns
        -------
        list of FileOutcome
            One per file processed (files skipped or left for later: none).
        """
        outcomes = []
        self._refresh_known()
        for mtime_ns, name, size in self._ready():
            if stop is not None and stop.is_set():
                break
            try:
                outcome = self._handle(name, size, mtime_ns)
            except Exception as exc:  # not the file's fault: retry at the next poll
                self.log(f"{_printable(name)}: error ({type(exc).__name__}: {exc}); "
                         "will retry at the next poll")
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def drain(self, *, stop: threading.Event | None = None, max_wait_s: float = 60.0,
              poll_s: float = 0.2) -> list[FileOutcome]:
        """Process every file there now, waiting up to ``max_wait_s`` for files to settle.

        Returns
        -------
        list of FileOutcome
        """
        deadline = time.monotonic() + max_wait_s
        outcomes = self.poll_once(stop)
        while self.pending and not (stop is not None and stop.is_set()):
            if time.monotonic() >= deadline:
                self.log(f"still being written, left for the next run: {', '.join(self.pending)}")
                break
            time.sleep(min(poll_s, max(self.settle_s, 0.01)))
            outcomes += self.poll_once(stop)
        return outcomes

    def run(self, poll_s: float = 1.0, stop: threading.Event | None = None,
            max_polls: int | None = None) -> int:
        """Poll every ``poll_s`` seconds until ``stop`` is set (or ``max_polls`` polls).

        Returns
        -------
        int
            Number of files processed.
        """
        if not poll_s > 0:
            raise InputError(f"poll_s must be > 0, got {poll_s}")
        stop = stop or threading.Event()
        polls = processed = 0
        while not stop.is_set():
            try:
                processed += len(self.poll_once(stop))
            except OSError as exc:  # e.g. a network share gone for a moment
                self.log(f"cannot list {self.incoming} ({exc}); will retry")
            polls += 1
            if max_polls is not None and polls >= max_polls:
                break
            stop.wait(poll_s)
        return processed







def _rejects_reason(result, rejects_path) -> str:
    """``"3 of 8000 rows rejected (row 8000: ...); rows and reasons in <csv>"``, or ""."""
    if not result.n_rejected:
        return ""
    first = result.rejects.iloc[0]
    lead = (f"all {result.rows} rows rejected" if result.n_accepted == 0
            else f"{result.n_rejected} of {result.rows} rows rejected")
    return (f"{lead} (row {int(first['row'])}: {first['reason']}); rows and reasons in "
            f"{rejects_path}")


def raise_alerts(
    reads: pd.DataFrame,
    incidents: pd.DataFrame | None,
    store: AlertStore,
    *,
    start_month: int = DEFAULTS.start_month,
    cooldown_h: float = 6.0,
    source_file: str = "",
    raised_at: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Find a batch's alerts, apply the cooldown against stored alerts, store the new ones.

    Idempotent: the same reads processed again store nothing new.

    Parameters
    ----------
    reads, incidents, start_month, source_file, raised_at
        As :func:`find_alerts`.
    store : AlertStore
        Where alerts are stored (and prior alerts for the cooldown read from).
    cooldown_h : float, default 6.0
        As :func:`apply_cooldown`.

    Returns
    -------
    DataFrame
        The alerts newly stored (:data:`ALERT_COLUMNS`), oldest id first.
    """
    cand = find_alerts(reads, incidents, start_month=start_month, source_file=source_file,
                       raised_at=raised_at)
    if cand.empty:
        return empty_alerts()
    cooldown = pd.Timedelta(hours=float(cooldown_h))
    prior = store.alerts_between(cand["read_at"].min() - cooldown, cand["read_at"].max(),
                                 cand["subject"].unique())
    kept = apply_cooldown(cand, prior, cooldown_h=cooldown_h)
    return store.insert(kept)
