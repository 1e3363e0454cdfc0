"""Shared pieces of the CLI commands: settings from flags, exit codes, messages, input loading.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from geo._config import Settings
from geo.errors import InputError, UnreadableFile


def err(msg: str) -> None:
    print(msg, file=sys.stderr)


def areas_for(args):
    from geo.io.boundaries import load_boundaries

    return load_boundaries(getattr(args, "boundaries", None), log=err)


def validate_path(path: str, kind: str | None, areas):
    """Read and validate a file; returns (kind, ValidationResult); UnreadableFile when it can't be used."""
    from geo.pipeline.ingest import check_file

    check = check_file(path, areas, kind=kind)
    if not check.ok:
        raise UnreadableFile(check.error)
    return check.kind, check.result


def load_accepted(path: str, kind: str, areas, label: str):
    """(accepted rows, rows rejected) of a file; rejected rows are counted on stderr."""
    _, result = validate_path(path, kind, areas)
    if result.n_rejected:
        err(f"{label}: skipped {result.n_rejected} rejected row(s) of {result.rows} in {path} "
             f"(run 'harewatch validate {path}' for the reasons)")
    return result.accepted, int(result.n_rejected)


def incidents_source(args, areas):
    """(incidents, rows rejected): from ``--incidents FILE``, else the store (0 rejected)."""
    if args.incidents:
        return load_accepted(args.incidents, "incidents", areas, "incidents")
    from geo.io.store.read import read_incidents

    gdf = read_incidents(settings_from(args).data_dir)
    if gdf is None or gdf.empty:
        raise InputError("no incidents: pass --incidents FILE or ingest a file into the store first")
    return gdf, 0


def as_dict(obj) -> dict:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj):
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(obj).items()}
    return dict(obj) if isinstance(obj, dict) else {"report": str(obj)}


def check_forces(names, areas):
    if not names:
        return None
    known = {n.lower(): n for n in areas.gdf["force"]}
    bad = [n for n in names if n.lower() not in known]
    if bad:
        raise InputError(f"unknown force(s) {bad}; known: {', '.join(areas.gdf['force'])}")
    return [known[n.lower()] for n in names]


#: Exit codes of every command (README, "Exit codes"): 0 all good; 1 some rows (or files,
#: or stored files for ``store verify``) were rejected, the rest was done; 2 nothing usable,
#: or an error whose message names the cause.
EXIT_OK, EXIT_REJECTS, EXIT_UNREADABLE = 0, 1, 2  # noqa: RUF100


def exit_for(result) -> int:
    """Exit code of a validated file: 0 every row accepted, 1 some rejected, 2 none usable."""
    if result.n_accepted == 0:
        return EXIT_UNREADABLE
    return EXIT_REJECTS if result.n_rejected else EXIT_OK


def nothing_usable(path: str, result) -> str:
    """The stderr line for a file with no usable row."""
    if result.rows == 0:
        return f"harewatch: {path}: no data rows (only a header); nothing usable"
    first = result.rejects.iloc[0]
    return (f"harewatch: {path}: all {result.rows} rows rejected (row {int(first['row'])}: "
            f"{first['reason']}); nothing usable")

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
