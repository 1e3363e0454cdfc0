"""The ``harewatch`` command line.

Sub-commands: ``validate``, ``ingest``, ``hotspots``, ``offenders``, ``plan``, ``demo``,
``boundaries fetch``, ``dashboard``, ``watch``. Machine-readable output goes to stdout;
messages for people go to stderr. Exit codes: 0 ok, 1 rows were rejected (for
``validate``), 2 the input could not be read or was misconfigured.
"""

from __future__ import annotations

import argparse
import re

from geo import __version__
from geo._config import DEFAULTS
from geo.cli._common import (
    EXIT_UNREADABLE,
    boundaries_opt,
    data_dir_opt,
    err,
)
from geo.cli.analyse import cmd_hotspots, cmd_offenders
from geo.cli.data import cmd_cameras_import, cmd_cameras_show, cmd_ingest, cmd_validate
from geo.cli.maintain import (
    cmd_boundaries_fetch,
    cmd_boundaries_show,
    cmd_demo,
    cmd_store_compact,
    cmd_store_upgrade,
)
from geo.cli.plan import add_plan_parser
from geo.cli.serve import cmd_dashboard, cmd_watch
from geo.errors import HarewatchError

__all__ = [
    "main",
    "build_parser",
]


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


# --------------------------------------------------------------------------- commands


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harewatch", description="Hare coursing across seven police forces.")
    p.add_argument("--version", action="version", version=f"harewatch {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    kinds = ["incidents", "sightings", "outcomes"]
    v = sub.add_parser("validate", help="check an incidents or ANPR file; every row accepted or rejected")
    v.add_argument("file")
    v.add_argument("--kind", choices=kinds,
                   help="default: from the layout (data.police.uk street, outcomes, stop and "
                        "search) or the column names")
    v.add_argument("--format", choices=["json", "text"], default="text")
    data_dir_opt(v)
    boundaries_opt(v)
    v.set_defaults(func=cmd_validate)

    i = sub.add_parser("ingest", help="validate a file and append its accepted rows to the store")
    i.add_argument("kind_arg", metavar="{incidents,sightings,outcomes,auto}",
                   choices=[*kinds, "auto"],
                   help="what the file holds; an outcomes file given as incidents is stored as "
                        "outcomes (its layout says so); 'auto' guesses from the file")
    i.add_argument("file")
    data_dir_opt(i)
    boundaries_opt(i)
    i.set_defaults(func=cmd_ingest)

    cam = sub.add_parser("cameras", help="the ANPR camera register (places reads without coordinates)")
    camsub = cam.add_subparsers(dest="action", required=True)
    ci = camsub.add_parser("import", help="add or update cameras from a file (camera id, name, "
                                          "lat/lon or easting/northing or grid ref)")
    ci.add_argument("file")
    data_dir_opt(ci)
    boundaries_opt(ci)
    ci.set_defaults(func=cmd_cameras_import)
    cs = camsub.add_parser("show", help="list the registered cameras")
    cs.add_argument("--format", choices=["json", "text"], default="text")
    data_dir_opt(cs)
    cs.set_defaults(func=cmd_cameras_show)

    def season_opts(sp):
        sp.add_argument("--incidents", metavar="FILE", help="incidents file (default: the store)")
        data_dir_opt(sp)
        sp.add_argument("--season", help='e.g. "2021-22"')
        sp.add_argument("--season-start-month", type=int, default=DEFAULTS.start_month, choices=range(1, 13), metavar="1-12")
        boundaries_opt(sp)

    h = sub.add_parser("hotspots", help="DBSCAN hotspots ranked for patrol planning")
    season_opts(h)
    h.add_argument("--force", nargs="+", metavar="NAME",
                   help="forces to keep, as police write them (Essex, Essex Police, E23000028)")
    h.add_argument("--crime-type", action="append", metavar="TYPE",
                   help="keep only this crime type (repeatable), e.g. 'Anti-social behaviour'")
    h.add_argument("--eps-m", type=float, default=DEFAULTS.eps_m)
    h.add_argument("--min-samples", type=int, default=DEFAULTS.min_samples)
    h.add_argument("--format", choices=["json", "geojson", "csv"], default="json")
    h.add_argument("--seed", type=int, default=0,
                   help="seed of the Gi* randomisations (significance and trend; default 0)")
    h.set_defaults(func=cmd_hotspots)

    add_plan_parser(sub, DEFAULTS.start_month)

    o = sub.add_parser("offenders", help="subjects on the agreement's ladder, border hoppers and crossings")
    season_opts(o)
    o.add_argument("--crime-type", action="append", metavar="TYPE",
                   help="count only incidents of this crime type (repeatable)")
    o.add_argument("--sightings", metavar="FILE",
                   help="ANPR reads file for border crossings (default: the store's sightings, if any)")
    o.add_argument("--max-gap-h", type=float, default=DEFAULTS.max_gap_h)
    o.add_argument("--window-h", type=float, default=DEFAULTS.window_h)
    o.add_argument("--format", choices=["json", "csv"], default="json")
    o.add_argument("--engine", choices=["embedded", "dask"], default="embedded",
                   help="crossing scan of the store: embedded duckdb (default) or dask.distributed; "
                        "same output")
    o.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="dask scheduler to use (with --engine dask; default: start a local cluster)")
    o.add_argument("--workers", type=int, default=2, metavar="N",
                   help="worker processes of the local dask cluster (default 2)")
    o.add_argument("--all-plates", action="store_true",
                   help="scan every stored plate, not only plates linked to incidents (same output)")
    o.set_defaults(func=cmd_offenders)

    d = sub.add_parser("demo", help="write the synthetic demo scenario's files")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--out", default="harewatch-demo", metavar="DIR")
    boundaries_opt(d)
    d.set_defaults(func=cmd_demo)

    b = sub.add_parser("boundaries", help="police force area boundaries")
    bsub = b.add_subparsers(dest="action", required=True)
    bf = bsub.add_parser("fetch", help="download the ONS file (needs internet)")
    bf.add_argument("--dest", metavar="DIR", help="default: data/boundaries/")
    bf.add_argument("--url")
    bf.add_argument("--timeout-s", type=float, default=60.0)
    bf.set_defaults(func=cmd_boundaries_fetch)
    bs = bsub.add_parser("show", help="which file is used and the forces in it")
    boundaries_opt(bs)
    bs.set_defaults(func=cmd_boundaries_show)

    st = sub.add_parser("store", help="maintain the data store")
    stsub = st.add_subparsers(dest="action", required=True)
    su = stsub.add_parser("upgrade", help="move 0.1.0 flat ANPR read files into the partitioned layout")
    data_dir_opt(su)
    su.set_defaults(func=cmd_store_upgrade)
    sc = stsub.add_parser("compact", help="rewrite folders of many small ANPR read files as one file each")
    data_dir_opt(sc)
    sc.add_argument("--min-files", type=int, default=2, metavar="N",
                    help="only folders with at least N part files (default 2)")
    sc.add_argument("--before", metavar="YYYY-MM-DD",
                    help="only months ending by this date (London midnight), e.g. the 1st of this month")
    sc.set_defaults(func=cmd_store_compact)

    s = sub.add_parser("dashboard", help="start the Streamlit dashboard")
    data_dir_opt(s)
    boundaries_opt(s)
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--address", default="127.0.0.1")
    s.add_argument("--headless", action="store_true", help="do not open a browser")
    s.set_defaults(func=cmd_dashboard)

    w = sub.add_parser("watch", help="ingest ANPR files dropped into a folder and raise alerts")
    w.add_argument("--incoming", required=True, metavar="DIR", help="folder new ANPR files land in")
    data_dir_opt(w)
    boundaries_opt(w)
    w.add_argument("--poll-s", type=float, default=1.0, help="seconds between polls")
    w.add_argument("--once", action="store_true", help="process the files there now, then exit")
    w.add_argument("--season-start-month", type=int, default=DEFAULTS.start_month, choices=range(1, 13),
                   metavar="1-12")
    w.add_argument("--cooldown-h", type=float, default=6.0,
                   help="hours between alerts of one plate in one force")
    w.set_defaults(func=cmd_watch)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (HarewatchError, OSError) as exc:  # bad input or environment; anything else is a bug
        err(f"harewatch: {exc}")
        return EXIT_UNREADABLE


