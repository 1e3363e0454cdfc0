"""The ``harewatch`` command line.

Sub-commands: ``validate``, ``ingest``, ``hotspots``, ``offenders``, ``demo``,
``boundaries fetch``, ``dashboard``, ``watch``. Every command prints JSON on stdout by
default (``--format text``: lines for people; the JSON documents are the
stable contracts); messages and progress bars go to stderr. Exit codes: 0 ok, 1 rows were rejected (for
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
    days_arg,
    err,
    format_opt,
    hours_arg,
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


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows every option's default (argparse's ArgumentDefaultsHelpFormatter);
    an option without a value by default says in its own words what happens then."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "(default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


def _sub(sub, name: str, **kw) -> argparse.ArgumentParser:
    return sub.add_parser(name, formatter_class=_Help, **kw)


def build_parser() -> argparse.ArgumentParser:
    """The ``harewatch`` parser. Every command prints JSON on stdout by default
    (``--format text`` for people); messages and progress go to stderr."""
    p = argparse.ArgumentParser(prog="harewatch", formatter_class=_Help,
                                description="Hare coursing across seven police forces. Every command "
                                            "prints JSON on stdout by default; --format text prints "
                                            "lines for people. Messages and progress go to stderr.")
    p.add_argument("--version", action="version", version=f"harewatch {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    kinds = ["incidents", "sightings", "outcomes"]
    v = _sub(sub, "validate", help="check an incidents or ANPR file; every row accepted or rejected")
    v.add_argument("file", help="the file to check (CSV, XLSX, GeoJSON, GeoParquet)")
    v.add_argument("--kind", choices=kinds,
                   help="default: from the layout (data.police.uk street, outcomes, stop and "
                        "search) or the column names")
    format_opt(v)
    data_dir_opt(v)
    boundaries_opt(v)
    v.set_defaults(func=cmd_validate)

    i = _sub(sub, "ingest", help="validate a file and append its accepted rows to the store")
    i.add_argument("kind_arg", metavar="{incidents,sightings,outcomes,auto}",
                   choices=[*kinds, "auto"],
                   help="what the file holds; an outcomes file given as incidents is stored as "
                        "outcomes (its layout says so); 'auto' guesses from the file")
    i.add_argument("file", help="the file to add (CSV, XLSX, GeoJSON, GeoParquet)")
    format_opt(i)
    data_dir_opt(i)
    boundaries_opt(i)
    i.set_defaults(func=cmd_ingest)

    cam = _sub(sub, "cameras", help="the ANPR camera register (places reads without coordinates)")
    camsub = cam.add_subparsers(dest="action", required=True)
    ci = _sub(camsub, "import", help="add or update cameras from a file (camera id, name, "
                                     "lat/lon or easting/northing or grid ref)")
    ci.add_argument("file", help="the camera register file")
    format_opt(ci)
    data_dir_opt(ci)
    boundaries_opt(ci)
    ci.set_defaults(func=cmd_cameras_import)
    cs = _sub(camsub, "show", help="list the registered cameras")
    format_opt(cs)
    data_dir_opt(cs)
    cs.set_defaults(func=cmd_cameras_show)

    def season_opts(sp):
        sp.add_argument("--incidents", metavar="FILE", help="incidents file (default: the store)")
        data_dir_opt(sp)
        sp.add_argument("--season", help='one season, e.g. "2021-22" (default: every season)')
        sp.add_argument("--season-start-month", type=int, default=DEFAULTS.start_month, choices=range(1, 13),
                        metavar="1-12", help="month a coursing season starts in")
        sp.add_argument("--days", type=days_arg, metavar="DAYS",
                        help="only these weekdays (London time), e.g. fri,sat (default: every day)")
        boundaries_opt(sp)

    h = _sub(sub, "hotspots", help="DBSCAN hotspots ranked for patrol planning")
    season_opts(h)
    h.add_argument("--hours", type=hours_arg, metavar="START-END",
                   help="only these London hours, inclusive; 20-4 wraps past midnight (20:00 to 04:59) "
                        "(default: all day)")
    h.add_argument("--force", nargs="+", metavar="NAME",
                   help="forces to keep, as police write them (Essex, Essex Police, E23000028) "
                        "(default: every force)")
    h.add_argument("--crime-type", action="append", metavar="TYPE",
                   help="keep only this crime type (repeatable), e.g. 'Anti-social behaviour' "
                        "(default: every type)")
    h.add_argument("--eps-m", type=float, default=DEFAULTS.eps_m, help="DBSCAN radius in metres")
    h.add_argument("--min-samples", type=int, default=DEFAULTS.min_samples,
                   help="DBSCAN minimum incidents within the radius for a hotspot")
    format_opt(h, ("geojson", "csv"))
    h.set_defaults(func=cmd_hotspots)

    o = _sub(sub, "offenders", help="subjects on the agreement's ladder, border hoppers and crossings")
    season_opts(o)
    o.add_argument("--crime-type", action="append", metavar="TYPE",
                   help="count only incidents of this crime type (repeatable) (default: every type)")
    o.add_argument("--sightings", metavar="FILE",
                   help="ANPR reads file for border crossings (default: the store's sightings, if any)")
    o.add_argument("--max-gap-h", type=float, default=DEFAULTS.max_gap_h,
                   help="hours between two reads of a plate that start a new trip")
    o.add_argument("--window-h", type=float, default=DEFAULTS.window_h,
                   help="a crossing within this many hours of a linked incident is flagged")
    o.add_argument("--mask", action="store_true",
                   help="mask plates and nominal ids in the output (AB12 C**, N12*****)")
    format_opt(o, ("csv",))
    o.add_argument("--engine", choices=["embedded", "dask"], default="embedded",
                   help="crossing scan of the store: embedded duckdb or dask.distributed; same output")
    o.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="dask scheduler to use (with --engine dask; default: start a local cluster)")
    o.add_argument("--workers", type=int, default=2, metavar="N",
                   help="worker processes of the local dask cluster")
    o.add_argument("--all-plates", action="store_true",
                   help="scan every stored plate, not only plates linked to incidents (same output)")
    o.set_defaults(func=cmd_offenders)

    d = _sub(sub, "demo", help="write the synthetic demo scenario's files (marked synthetic: "
                               "ingested, they stay marked as demo data)")
    d.add_argument("--seed", type=int, default=0, help="seed of the scenario (same seed, same files)")
    d.add_argument("--out", default="harewatch-demo", metavar="DIR", help="folder to write into")
    format_opt(d)
    boundaries_opt(d)
    d.set_defaults(func=cmd_demo)

    b = _sub(sub, "boundaries", help="police force area boundaries")
    bsub = b.add_subparsers(dest="action", required=True)
    bf = _sub(bsub, "fetch", help="download the ONS file (needs internet)")
    bf.add_argument("--dest", metavar="DIR", help="folder to save into (default: data/boundaries/)")
    bf.add_argument("--url", help="where to download from (default: the ONS Open Geography Portal)")
    bf.add_argument("--timeout-s", type=float, default=60.0, help="seconds to wait for the download")
    format_opt(bf)
    bf.set_defaults(func=cmd_boundaries_fetch)
    bs = _sub(bsub, "show", help="which file is used and the forces in it")
    format_opt(bs)
    boundaries_opt(bs)
    bs.set_defaults(func=cmd_boundaries_show)

    st = _sub(sub, "store", help="maintain the data store")
    stsub = st.add_subparsers(dest="action", required=True)
    su = _sub(stsub, "upgrade", help="move 0.1.0 flat ANPR read files into the partitioned layout")
    format_opt(su)
    data_dir_opt(su)
    su.set_defaults(func=cmd_store_upgrade)
    sc = _sub(stsub, "compact", help="rewrite folders of many small ANPR read files as one file each")
    format_opt(sc)
    data_dir_opt(sc)
    sc.add_argument("--min-files", type=int, default=2, metavar="N",
                    help="only folders with at least N part files")
    sc.add_argument("--before", metavar="YYYY-MM-DD",
                    help="only months ending by this date (London midnight), e.g. the 1st of this month "
                         "(default: every month)")
    sc.set_defaults(func=cmd_store_compact)

    s = _sub(sub, "dashboard", help="start the Streamlit dashboard (keeps running: Ctrl+C to stop)")
    data_dir_opt(s)
    boundaries_opt(s)
    s.add_argument("--port", type=int, default=8501, help="port to listen on")
    s.add_argument("--address", default="127.0.0.1", help="address to listen on")
    s.add_argument("--headless", action="store_true", help="do not open a browser")
    s.set_defaults(func=cmd_dashboard)

    w = _sub(sub, "watch", help="ingest ANPR files dropped into a folder and raise alerts "
                                "(keeps running: Ctrl+C to stop)")
    w.add_argument("--incoming", required=True, metavar="DIR", help="folder new ANPR files land in")
    data_dir_opt(w)
    boundaries_opt(w)
    w.add_argument("--poll-s", type=float, default=1.0, help="seconds between polls")
    w.add_argument("--once", action="store_true", help="process the files there now, then exit")
    w.add_argument("--season-start-month", type=int, default=DEFAULTS.start_month, choices=range(1, 13),
                   metavar="1-12", help="month a coursing season starts in")
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


