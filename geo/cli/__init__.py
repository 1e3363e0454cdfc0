"""The ``harewatch`` command line.

Sub-commands: ``validate``, ``ingest``, ``hotspots``, ``offenders``, ``demo``,
``boundaries fetch|show``, ``store upgrade|compact|verify|stats|history|vacuum|purge``,
``dashboard``, ``watch``, ``audit show|verify``, ``users list|set``. Commands that read
or write personal data are recorded in the audit trail first (``geo.cli.access``). Machine-readable output goes to stdout; messages for
people go to stderr. Exit codes, the same for every command (README, "Exit
codes"): 0 all good; 1 some rows were rejected (``store verify``: some stored
files are damaged), the rest was done; 2 nothing usable, or an error whose
message names the cause.
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
from geo.cli.access import (
    audit_command,
    cmd_audit_show,
    cmd_audit_verify,
    cmd_store_purge,
    cmd_users_list,
    cmd_users_set,
)
from geo.cli.analyse import cmd_hotspots, cmd_offenders
from geo.cli.data import cmd_cameras_import, cmd_cameras_show, cmd_ingest, cmd_validate
from geo.cli.maintain import (
    cmd_boundaries_fetch,
    cmd_boundaries_show,
    cmd_demo,
    cmd_store_compact,
    cmd_store_history,
    cmd_store_stats,
    cmd_store_upgrade,
    cmd_store_vacuum,
    cmd_store_verify,
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
    h.set_defaults(func=cmd_hotspots)

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
    su = stsub.add_parser("upgrade", help="move a 0.1.0/0.2.0 store's files into the Delta tables")
    data_dir_opt(su)
    su.set_defaults(func=cmd_store_upgrade)
    sv = stsub.add_parser("verify", help="check every stored file against its SHA-256; "
                                         "exit 1 naming each damaged or missing file")
    data_dir_opt(sv)
    sv.add_argument("--format", choices=["json", "text"], default="text")
    sv.set_defaults(func=cmd_store_verify)
    ss = stsub.add_parser("stats", help="rows, files and bytes of the store's tables; alerts")
    data_dir_opt(ss)
    ss.add_argument("--format", choices=["json", "text"], default="text")
    ss.set_defaults(func=cmd_store_stats)
    sh = stsub.add_parser("history", help="versions of a table (ingests, corrections, compactions)")
    data_dir_opt(sh)
    sh.add_argument("--table", choices=["incidents", "sightings"], default="incidents")
    sh.add_argument("--limit", type=int, default=None, metavar="N")
    sh.set_defaults(func=cmd_store_history)
    sx = stsub.add_parser("vacuum", help="delete data files no current version uses")
    data_dir_opt(sx)
    sx.add_argument("--retention-h", type=float, default=None, metavar="H",
                    help="keep files replaced less than H hours ago (default: the table's own "
                         "setting: sightings 7 days, incidents 10 years)")
    sx.add_argument("--dry-run", action="store_true", help="only list the files")
    sx.set_defaults(func=cmd_store_vacuum)
    sc = stsub.add_parser("compact", help="rewrite partitions of many small files as one file each")
    data_dir_opt(sc)
    sc.add_argument("--min-files", type=int, default=2, metavar="N",
                    help="only partitions with at least N files (default 2)")
    sc.add_argument("--before", metavar="YYYY-MM-DD",
                    help="only months ending by this date (London midnight), e.g. the 1st of this month")
    sc.set_defaults(func=cmd_store_compact)
    sp = stsub.add_parser("purge", help="apply the ANPR retention policy: list the reads past "
                                        "retention (dry run), delete them with --apply (audited)")
    data_dir_opt(sp)
    sp.add_argument("--apply", action="store_true",
                    help="delete them (default: only say what would go)")
    sp.add_argument("--keep-days", type=int, default=None, metavar="N",
                    help=f"keep reads N days (default $HAREWATCH_ANPR_KEEP_DAYS, else "
                         f"{DEFAULTS.anpr_keep_days})")
    sp.add_argument("--format", choices=["json", "text"], default="text")
    sp.set_defaults(func=cmd_store_purge)

    au = sub.add_parser("audit", help="the audit trail of who did what with personal data")
    ausub = au.add_subparsers(dest="action", required=True)
    aus = ausub.add_parser("show", help="entries, oldest first")
    data_dir_opt(aus)
    aus.add_argument("--user", metavar="U", help="only this user (e-mail or OS account)")
    aus.add_argument("--since", metavar="DATE", help="only entries at or after DATE (UTC), e.g. 2025-01-31")
    aus.add_argument("--action", dest="only_action", metavar="A", help="only this action (view, reveal, download, "
                                                   "ingest, purge, role_change, read, ...)")
    aus.add_argument("--format", choices=["json", "text"], default="text")
    aus.set_defaults(func=cmd_audit_show)
    auv = ausub.add_parser("verify", help="check the hash chain; exit 1 naming the first "
                                          "altered, removed or reordered entry")
    data_dir_opt(auv)
    auv.add_argument("--format", choices=["json", "text"], default="text")
    auv.set_defaults(func=cmd_audit_verify)

    us = sub.add_parser("users", help="the roles file: who has which dashboard role")
    ussub = us.add_subparsers(dest="action", required=True)
    usl = ussub.add_parser("list", help="users and groups with their roles (JSON)")
    data_dir_opt(usl)
    usl.set_defaults(func=cmd_users_list)
    uss = ussub.add_parser("set", help="give a user (e-mail) a role, block them (none) or "
                                       "remove their entry (audited)")
    data_dir_opt(uss)
    uss.add_argument("email")
    uss.add_argument("role", choices=["viewer", "analyst", "admin", "none", "remove"])
    uss.set_defaults(func=cmd_users_set)

    s = sub.add_parser("dashboard", help="start the Streamlit dashboard")
    data_dir_opt(s)
    boundaries_opt(s)
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--address", default="127.0.0.1")
    s.add_argument("--headless", action="store_true", help="do not open a browser")
    s.add_argument("--auth", action="store_true",
                   help="shared mode: OpenID Connect login (.streamlit/secrets.toml [auth]), "
                        "roles, audit (default: $HAREWATCH_AUTH, else local mode)")
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
    w.add_argument("--retry", action="append", default=[], metavar="NAME",
                   help="process this file again (e.g. fixed, or unreadable before); repeatable")
    w.add_argument("--retry-all", action="store_true",
                   help="process every file recorded as unreadable or rejected again")
    w.set_defaults(func=cmd_watch)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        audit_command(args)  # refused (AuditError, exit 2) when it cannot be recorded
        return args.func(args)
    except (HarewatchError, OSError) as exc:  # bad input or environment; anything else is a bug
        err(f"harewatch: {exc}")
        return EXIT_UNREADABLE


