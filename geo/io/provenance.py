"""Where the stored rows came from: one line per ingest in ``<store>/provenance.jsonl``.

Each ingest (``harewatch ingest``, the dashboard's Data page, the watcher)
appends ``{"at", "file", "kind", "rows", "rows_added", "synthetic"}``. A file
made by ``harewatch demo`` carries a ``source`` column whose every value is
:data:`SYNTHETIC_SOURCE`; :func:`is_synthetic` recognises it when the file is
read, so demo data added to a store stays marked as demo
(:func:`store_has_synthetic`), and every output made from it says so.

The log is append-only JSON Lines (one small ``write`` per ingest); a line
that cannot be parsed is skipped when reading.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd

__all__ = [
    "PROVENANCE_FILE",
    "SOURCE_COLUMN",
    "SYNTHETIC_SOURCE",
    "append_provenance",
    "is_synthetic",
    "provenance_record",
    "read_provenance",
    "store_has_synthetic",
]

#: The log's file name in the store folder.
PROVENANCE_FILE = "provenance.jsonl"
#: Column of a demo file that marks it as synthetic ...
SOURCE_COLUMN = "source"
#: ... with this value in every row.
SYNTHETIC_SOURCE = "harewatch synthetic demo"


def is_synthetic(raw: pd.DataFrame) -> bool:
    """True when a file as read carries the demo marker: a ``source`` column (any case)
    holding :data:`SYNTHETIC_SOURCE` in every non-empty row, and at least one row."""
    cols = [c for c in raw.columns if str(c).strip().lower() == SOURCE_COLUMN]
    if not cols or not len(raw):
        return False
    values = raw[cols[0]].astype(str).str.strip().str.lower()
    values = values[values != ""]
    return bool(len(values)) and bool((values == SYNTHETIC_SOURCE).all())


def provenance_record(*, file: str, kind: str, rows: int, rows_added: int, synthetic: bool,
                      at: dt.datetime | None = None) -> dict:
    """One provenance line: which file, when (UTC, ISO 8601), what kind, rows read and added,
    and whether the data is synthetic."""
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return {"at": when.isoformat(timespec="seconds"), "file": str(file), "kind": str(kind),
            "rows": int(rows), "rows_added": int(rows_added), "synthetic": bool(synthetic)}


def append_provenance(data_dir: str | os.PathLike, record: dict) -> Path:
    """Append ``record`` (see :func:`provenance_record`) to the store's log; returns its path."""
    path = Path(data_dir) / PROVENANCE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
    return path


def read_provenance(data_dir: str | os.PathLike) -> list[dict]:
    """Every parseable line of the store's log, oldest first ([] when there is none)."""
    path = Path(data_dir) / PROVENANCE_FILE
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def store_has_synthetic(data_dir: str | os.PathLike) -> bool:
    """True when any ingest that added rows to this store was synthetic (demo) data."""
    return any(r.get("synthetic") and int(r.get("rows_added", 0) or 0) > 0 for r in read_provenance(data_dir))
