"""Shared pieces of the CLI commands: settings from flags, exit codes, messages, input loading.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from geo._config import Settings
from geo.errors import InputError, UnreadableFile


def err(msg: str) -> None:
    print(msg, file=sys.stderr)


def areas_for(args):
    from geo.io.boundaries import load_boundaries

    return load_boundaries(getattr(args, "boundaries", None), log=err)


def validate_path(path: str, kind: str | None, areas, geometry: bool = True):
    """Read and validate a file; returns (kind, ValidationResult); UnreadableFile when it can't be used."""
    from geo.pipeline.ingest import check_file

    check = check_file(path, areas, kind=kind, geometry=geometry)
    if not check.ok:
        raise UnreadableFile(check.error)
    return check.kind, check.result


def load_accepted(path: str, kind: str, areas, label: str, geometry: bool = True):
    """(accepted rows, rows rejected) of a file; rejected rows are counted on stderr.

    ``geometry=False``: without the point geometry (the analyses read easting/northing).
    """
    _, result = validate_path(path, kind, areas, geometry)
    if result.n_rejected:
        err(f"{label}: skipped {result.n_rejected} rejected row(s) of {result.rows} in {path} "
             f"(run 'harewatch validate {path}' for the reasons)")
    return result.accepted, int(result.n_rejected)


def incidents_source(args, areas, geometry: bool = True):
    """(incidents, rows rejected): from ``--incidents FILE``, else the store (0 rejected),
    of the ``--crime-type`` asked for.

    ``geometry=False``: stored incidents as a plain DataFrame (no geopandas, no points), for
    analyses that read easting/northing only; ``areas`` is then needed only with ``--incidents``.
    """
    incidents, rejected = _incidents(args, areas, geometry)
    return with_crime_types(incidents, getattr(args, "crime_type", None)), rejected


def _incidents(args, areas, geometry: bool = True):
    if args.incidents:  # hotspots and offenders read positions from easting/northing
        frame, rejected = load_accepted(args.incidents, "incidents", areas, "incidents",
                                        geometry=False)
        return positions_only(frame), rejected
    from geo.io.store.read import read_incidents

    gdf = read_incidents(settings_from(args).data_dir, geometry=geometry)
    if gdf is None or gdf.empty:
        raise InputError("no incidents: pass --incidents FILE or ingest a file into the store first")
    return gdf, 0


def positions_only(frame):
    """Accepted incidents validated without geometry as a GeoDataFrame in EPSG:27700 whose
    points are its ``easting``/``northing`` columns; the geometry column is left empty.

    For the CLI's hotspots and offenders, which read positions from those columns only:
    building a shapely point per row (about 0.5 s per million) would be wasted.
    """
    import geopandas as gpd
    import numpy as np

    from geo.schema import BNG

    empty = gpd.GeoSeries(np.full(len(frame), None, dtype=object), index=frame.index, crs=BNG)
    return gpd.GeoDataFrame(frame, geometry=empty, crs=BNG)


def with_crime_types(incidents, crime_types):
    """Incidents of the crime types asked for (``--crime-type``); all when none was asked."""
    if not crime_types:
        return incidents
    from geo.seasons import filter_incidents

    out = filter_incidents(incidents, crime_types=crime_types)
    if out.empty:
        have = sorted({str(t) for t in incidents.get("crime_type", []) if str(t).strip()})
        raise InputError(f"no incidents of crime type {', '.join(map(repr, crime_types))}; the data "
                         f"has: {', '.join(have[:20]) if have else 'no crime types'}")
    return out


def as_dict(obj) -> dict:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj):
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(obj).items()}
    return dict(obj) if isinstance(obj, dict) else {"report": str(obj)}


def check_forces(names, areas):
    """``--force`` values as the boundary file names them (any police spelling or ONS code)."""
    from geo.forces import resolve_forces

    wanted = resolve_forces(names)
    if wanted is None:
        return None
    known = set(areas.gdf["force"])
    missing = [n for n in wanted if n not in known]
    if missing:
        raise InputError(f"force(s) {', '.join(missing)} not in the boundary file {areas.source}")
    return wanted


#: Exit codes of every command (README, "Exit codes"): 0 all good; 1 some rows (or files,
#: or stored files for ``store verify``) were rejected, the rest was done; 2 nothing usable,
#: or an error whose message names the cause.
EXIT_OK, EXIT_REJECTS, EXIT_UNREADABLE = 0, 1, 2  # noqa: RUF100


#: Output formats every command offers; JSON is the default everywhere (scripts keep working).
FORMATS = ("json", "text")
DEFAULT_FORMAT = "json"


def format_opt(sp: argparse.ArgumentParser, extra: tuple[str, ...] = ()) -> None:
    """``--format`` with :data:`FORMATS` (plus ``extra``), default :data:`DEFAULT_FORMAT`."""
    sp.add_argument("--format", choices=[*FORMATS, *extra], default=DEFAULT_FORMAT,
                    help="json: one JSON document on stdout (for scripts); text: lines for people")


def emit(args: argparse.Namespace, payload, text: Callable[[object], str]) -> None:
    """Print ``payload`` as JSON (``--format json``) or as ``text(payload)`` (``--format text``)."""
    if getattr(args, "format", DEFAULT_FORMAT) == "text":
        print(text(payload))
    else:
        print(json.dumps(payload, ensure_ascii=False, default=str))


def prefetch(*modules: str) -> threading.Thread:
    """Import ``modules`` on a background thread while the command reads its input.

    Importing is mostly Python work under the interpreter lock, but reading a
    CSV, projecting coordinates and clustering spend much of their time in
    compiled code that releases it, so the imports overlap with them. An
    import that fails here is left for the command to raise where it needs
    the module (Python's import lock makes a later import wait for, or redo,
    this one). The thread is not a daemon: the process exits after it.
    """

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # reported by the command where it imports the module
                return

    thread = threading.Thread(target=load, name="harewatch-prefetch")
    thread.start()
    return thread


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for the block (restored afterwards).

    A command that builds hundreds of thousands of small dicts and lists that
    live until its output is written gains nothing from the collector: each
    full collection walks every one of them and finds no garbage (reference
    counting frees what the command drops). On the offenders command over 10M
    reads the collections cost about 15 % of the run.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def progress(label: str, steps: list[str]) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr (tqdm) while long work runs; silent when stderr is not a terminal.

    Yields ``step()``: call it when one of ``steps`` is done (the bar shows the next one).
    """
    if not sys.stderr.isatty():  # no bar: not even the import of tqdm
        yield lambda: None
        return
    from tqdm import tqdm

    bar = tqdm(total=len(steps), desc=label, file=sys.stderr,
               leave=False, bar_format="{desc}: {bar} {n_fmt}/{total_fmt} {postfix}")
    state = {"i": 0}
    if steps:
        bar.set_postfix_str(steps[0])

    def step() -> None:
        state["i"] += 1
        bar.update(1)
        if state["i"] < len(steps):
            bar.set_postfix_str(steps[state["i"]])

    try:
        yield step
    finally:
        bar.close()


def days_arg(text: str) -> tuple[int, ...]:
    """``--days fri,sat`` (names or three-letter, any case) -> (4, 5); argparse type."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    out = set()
    for token in str(text).split(","):
        t = token.strip().lower()[:3]
        if not t:
            continue
        if t not in names:
            raise argparse.ArgumentTypeError(f"unknown day {token.strip()!r}: use mon,tue,...,sun")
        out.add(names.index(t))
    if not out:
        raise argparse.ArgumentTypeError("no day given: e.g. --days fri,sat")
    return tuple(sorted(out))


def hours_arg(text: str) -> tuple[int, int]:
    """``--hours 20-4`` (London hours, inclusive; wraps past midnight) -> (20, 4); argparse type."""
    parts = str(text).replace(" ", "").split("-")
    try:
        h0, h1 = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"hours must be START-END, e.g. 20-4, got {text!r}") from None
    if not (0 <= h0 <= 23 and 0 <= h1 <= 23):
        raise argparse.ArgumentTypeError(f"hours must be 0-23, got {text!r}")
    return h0, h1


def data_dir_opt(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--data-dir", metavar="DIR",
                    help="store folder (else $HAREWATCH_DATA_DIR, else data/incidents/)")


def boundaries_opt(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--boundaries", metavar="FILE",
                    help="ONS police force areas file (else $HAREWATCH_BOUNDARIES, else data/boundaries/)")


def settings_from(args: argparse.Namespace) -> Settings:
    """:class:`geo.Settings` from the environment, overridden by this command's flags."""
    s = Settings.from_env()
    if getattr(args, "data_dir", None):
        s = replace(s, data_dir=Path(args.data_dir).expanduser())
    if getattr(args, "boundaries", None):
        s = replace(s, boundaries=Path(args.boundaries).expanduser())
    return s
