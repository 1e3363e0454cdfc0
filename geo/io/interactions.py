"""The interactions register in the store: append (idempotent) and read back.

Layout under ``data_dir`` (hive partitions, like the sightings)::

    interactions/season=<label>/part-<UTC stamp>-<uuid>.parquet

Each file holds :data:`geo.casework.interactions.INTERACTION_COLUMNS` except
``season``, which is the folder's. Appending is idempotent on
``interaction_id``: an id already stored is not written again (counted as
"already stored"; the stored version is kept). Files are written to a hidden
``.tmp-*`` name and renamed into place, under the store's writer lock
(``<data_dir>/.harewatch-store.lock``, :data:`geo.io.store.STORE_LOCK_FILE`), so
readers never see half a file and two importers never both add an id.

This module is all that knows where the register lives: moving it to
another table format (e.g. Delta Lake) changes this module only.

Every write of the register goes through :func:`record_interactions`
(``harewatch interactions import``, :func:`import_interactions`, and the
dashboard's "Record an interaction" form), which validates the rows and
calls :func:`append_interactions` once: an audit trail hooks in there.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from geo.casework import CaseworkInputError
from geo.casework.interactions import (
    INTERACTION_COLUMNS,
    InteractionsResult,
    empty_interactions,
)
from geo.io.store.layout import STORE_LOCK_FILE

__all__ = [
    "REGISTER_DIR",
    "RegisterReport",
    "append_interactions",
    "interactions_paths",
    "read_interactions",
    "import_interactions",
    "record_interactions",
]

#: Folder of the register under the store root.
REGISTER_DIR = "interactions"
_SEASON_DIR = re.compile(r"^season=(.+)$")
_FILE_COLUMNS = [c for c in INTERACTION_COLUMNS if c != "season"]
_SCHEMA = pa.schema(
    [
        (c, pa.timestamp("us", tz="UTC") if c == "at"
         else pa.int64() if c in ("source_row", "copies") else pa.string())
        for c in _FILE_COLUMNS
    ]
)


@dataclass(frozen=True)
class RegisterReport:
    """What one :func:`append_interactions` call did.

    Attributes
    ----------
    rows_added : int
        Interactions written.
    rows_already_stored : int
        Interactions whose id was stored already (not written again).
    part_paths : tuple of Path
        Files written, one per season touched.
    """

    rows_added: int
    rows_already_stored: int
    part_paths: tuple[Path, ...] = ()

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"rows_added": self.rows_added, "rows_already_stored": self.rows_already_stored,
                "part_paths": [str(p) for p in self.part_paths]}


def interactions_paths(data_dir: str | os.PathLike, *, season: str | None = None) -> list[Path]:
    """Stored register files (hidden files skipped), sorted; only ``season``'s when given."""
    root = Path(data_dir) / REGISTER_DIR
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        m = _SEASON_DIR.match(folder.name)
        if not m or not folder.is_dir() or (season is not None and m.group(1) != season):
            continue
        out.extend(p for p in sorted(folder.glob("part-*.parquet")) if p.is_file())
    return out


def _stored_ids(data_dir: Path) -> set[str]:
    ids: set[str] = set()
    for path in interactions_paths(data_dir):
        ids.update(pq.read_table(path, columns=["interaction_id"]).column(0).to_pylist())
    return ids


def _check_frame(accepted: pd.DataFrame) -> None:
    missing = [c for c in INTERACTION_COLUMNS if c not in accepted.columns]
    if missing:
        raise CaseworkInputError(
            f"interactions lack column(s) {', '.join(missing)}: pass the accepted frame of "
            "geo.casework.interactions.validate_interactions")
    if not isinstance(accepted["at"].dtype, pd.DatetimeTZDtype):
        raise CaseworkInputError("interactions 'at' must be timezone-aware (UTC)")
    if accepted["interaction_id"].duplicated().any():
        raise CaseworkInputError("interaction ids must be unique within one append")


def _write_season(frame: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    token = uuid.uuid4().hex
    data = frame[_FILE_COLUMNS].copy()
    data["at"] = pd.to_datetime(data["at"], utc=True).dt.as_unit("us")
    table = pa.Table.from_pandas(data, schema=_SCHEMA, preserve_index=False)
    tmp = folder / f".tmp-{stamp}-{token}.parquet"
    path = folder / f"part-{stamp}-{token}.parquet"
    pq.write_table(table, tmp, compression="snappy")
    os.replace(tmp, path)  # readers never see a half-written file
    return path


def append_interactions(
    accepted: pd.DataFrame, data_dir: str | os.PathLike, *, lock_timeout_s: float = 600.0
) -> RegisterReport:
    """Add accepted interactions to the register, skipping ids already stored.

    Parameters
    ----------
    accepted : DataFrame
        :data:`INTERACTION_COLUMNS` (``InteractionsResult.accepted``). Not modified.
    data_dir : path
        Store root.
    lock_timeout_s : float, default 600
        Seconds to wait for the store's writer lock.

    Returns
    -------
    RegisterReport

    Raises
    ------
    CaseworkInputError
        Missing columns, naive times, an id twice in ``accepted``.
    TimeoutError
        Another writer held the store lock for ``lock_timeout_s`` seconds.
    """
    _check_frame(accepted)
    root = Path(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / STORE_LOCK_FILE, timeout=float(lock_timeout_s))
    try:
        lock.acquire()
    except Timeout as exc:
        raise TimeoutError(f"could not lock the store {root} within {lock_timeout_s:g} s: "
                           "another import or ingest holds it; try again later") from exc
    try:
        stored = _stored_ids(root)
        new = accepted[~accepted["interaction_id"].isin(stored)]
        written = [
            _write_season(group, root / REGISTER_DIR / f"season={season}")
            for season, group in new.groupby("season", sort=True)
        ]
    finally:
        lock.release()
    return RegisterReport(len(new), len(accepted) - len(new), tuple(written))


def read_interactions(
    data_dir: str | os.PathLike, *, season: str | None = None,
    subjects: list[str] | None = None,
) -> pd.DataFrame:
    """The stored register (or one season of it), sorted by time then id.

    Parameters
    ----------
    data_dir : path
        Store root.
    season : str, optional
        Only this season's folder.
    subjects : list of str, optional
        Only interactions whose ``subject``, ``vrm`` or ``person_id`` is one of these.

    Returns
    -------
    DataFrame
        :data:`INTERACTION_COLUMNS` (``season`` from the folder name); empty
        with the right dtypes when nothing is stored.
    """
    frames = []
    for path in interactions_paths(data_dir, season=season):
        part = pq.read_table(path, schema=_SCHEMA).to_pandas()
        part["season"] = _SEASON_DIR.match(path.parent.name).group(1)
        frames.append(part)
    if not frames:
        return empty_interactions()
    out = pd.concat(frames, ignore_index=True)
    if subjects is not None:
        wanted = set(subjects)
        hit = (out["subject"].isin(wanted) | out["vrm"].isin(wanted)
               | out["person_id"].isin(wanted))
        out = out[hit.to_numpy(dtype=bool)]
    out = out.astype({c: "str" for c in INTERACTION_COLUMNS
                      if c not in ("at", "source_row", "copies")})
    out["at"] = pd.to_datetime(out["at"], utc=True).dt.as_unit("us")
    out = out.sort_values(["at", "interaction_id"], kind="stable", ignore_index=True)
    return out[INTERACTION_COLUMNS]


def import_interactions(
    path: str | os.PathLike | IO | bytes, data_dir: str | os.PathLike, *,
    name: str | None = None, start_month: int = 9,
) -> tuple[InteractionsResult, RegisterReport]:
    """Read, validate and append one interactions file (``harewatch interactions import``).

    Parameters
    ----------
    path : path, file-like or bytes
        CSV / XLSX (any format :func:`geo.io.readers.read_table` reads).
    data_dir : path
        Store root.
    name : str, optional
        File name (for its extension) when ``path`` has none.
    start_month : int, default 9
        Month seasons start in.

    Returns
    -------
    (InteractionsResult, RegisterReport)
        The validation outcome (rejects with row numbers and reasons) and
        what was written.

    Raises
    ------
    geo.errors.UnreadableFile
        The file cannot be read at all.
    """
    from geo.io.readers import read_table  # the file readers: only an import needs them

    return record_interactions(read_table(path, name=name), data_dir, start_month=start_month)


def record_interactions(
    raw: pd.DataFrame, data_dir: str | os.PathLike, *, start_month: int = 9,
) -> tuple[InteractionsResult, RegisterReport]:
    """Validate raw interaction rows and store the accepted ones: the one write of the register.

    The CLI import (through :func:`import_interactions`) and the dashboard's
    form both come here, so this is the single place where the register is
    written (an audit trail hooks in around the :func:`append_interactions`
    call).

    Parameters
    ----------
    raw : DataFrame
        Rows as text, columns named as in a file
        (:data:`geo.casework.interactions.INTERACTION_ALIASES`). Not modified.
    data_dir : path
        Store root.
    start_month : int, default 9
        Month seasons start in.

    Returns
    -------
    (InteractionsResult, RegisterReport)
        The validation outcome and what was written (nothing when no row
        was accepted).
    """
    from geo.casework.interactions import validate_interactions

    result = validate_interactions(raw, start_month=start_month)
    if result.accepted.empty:
        return result, RegisterReport(0, 0)
    return result, append_interactions(result.accepted, data_dir)
