"""The ``harewatch`` command line.

Sub-commands: ``validate``, ``ingest``, ``hotspots``, ``offenders``, ``plan``, ``demo``,
``boundaries fetch|show``, ``store upgrade|compact|verify|stats|history|vacuum|purge``,
``dashboard``, ``watch``, ``audit show|verify``, ``users list|set``, and for casework
``interactions import``, ``case`` and ``plates`` (:mod:`geo.cli.casework`). Commands that
read or write personal data are recorded in the audit trail first (``geo.cli.access``).
Every command prints JSON on stdout by default (``--format text``: lines for people; the
JSON documents are the stable contracts); messages and progress bars go to stderr. Exit codes, the same for every command (README, "Exit
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
    days_arg,
    err,
    format_opt,
    hours_arg,
)
from geo.cli.access import (
    audit_command,
    cmd_audit_repair,
    cmd_audit_show,
    cmd_audit_verify,
    cmd_store_purge,
    cmd_users_list,
    cmd_users_set,
)
from geo.cli.analyse import cmd_hotspots, cmd_offenders
from geo.cli.casework import cmd_case, cmd_interactions_import, cmd_plates
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
    h.add_argument("--seed", type=int, default=0,
                   help="seed of the Gi* randomisations (significance and trend)")
    h.add_argument("--no-significance", dest="significance", action="store_false",
                   help="clusters only: skip the Gi* significance test and the trend class "
                        "(no gi_z, gi_p, significant, trend; faster on large files)")
    h.set_defaults(func=cmd_hotspots)

    add_plan_parser(sub, DEFAULTS.start_month)

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

    _casework_parsers(sub)

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
    su = stsub.add_parser("upgrade", help="move a 0.1.0/0.2.0 store's files into the Delta tables")
    data_dir_opt(su)
    su.set_defaults(func=cmd_store_upgrade)
    sv = stsub.add_parser("verify", help="check every stored file against its SHA-256; "
                                         "exit 1 naming each damaged or missing file")
    data_dir_opt(sv)
    sv.add_argument("--format", choices=["json", "text"], default="json",
                    help="json: the report as one document; text: a line per table")
    sv.set_defaults(func=cmd_store_verify)
    ss = stsub.add_parser("stats", help="rows, files and bytes of the store's tables; alerts")
    data_dir_opt(ss)
    ss.add_argument("--format", choices=["json", "text"], default="json",
                    help="json: the counts as one document; text: a line per table")
    ss.set_defaults(func=cmd_store_stats)
    sh = stsub.add_parser("history", help="versions of a table (ingests, corrections, compactions)")
    data_dir_opt(sh)
    sh.add_argument("--table", choices=["incidents", "sightings"], default="incidents",
                    help="which table's versions")
    sh.add_argument("--limit", type=int, default=None, metavar="N", help="at most N versions, newest first")
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
                    help="only months ending by this date (London midnight), e.g. the 1st of this month "
                         "(default: every month)")
    sc.set_defaults(func=cmd_store_compact)
    sp = _sub(stsub, "purge", help="apply the ANPR retention policy: list the reads past "
                                        "retention (dry run), delete them with --apply (audited)")
    data_dir_opt(sp)
    sp.add_argument("--apply", action="store_true",
                    help="delete them (default: only say what would go)")
    sp.add_argument("--keep-days", type=int, default=None, metavar="N",
                    help=f"keep reads N days (default $HAREWATCH_ANPR_KEEP_DAYS, else "
                         f"{DEFAULTS.anpr_keep_days})")
    format_opt(sp)
    sp.set_defaults(func=cmd_store_purge)

    au = _sub(sub, "audit", help="the audit trail of who did what with personal data")
    ausub = au.add_subparsers(dest="action", required=True)
    aus = _sub(ausub, "show", help="entries, oldest first")
    data_dir_opt(aus)
    aus.add_argument("--user", metavar="U", help="only this user (e-mail or OS account)")
    aus.add_argument("--since", metavar="DATE", help="only entries at or after DATE (UTC), e.g. 2025-01-31")
    aus.add_argument("--action", dest="only_action", metavar="A", help="only this action (view, reveal, download, "
                                                   "ingest, purge, role_change, read, ...)")
    format_opt(aus)
    aus.set_defaults(func=cmd_audit_show)
    auv = _sub(ausub, "verify", help="check the hash chain; exit 1 naming the first "
                                          "altered, removed or reordered entry")
    data_dir_opt(auv)
    format_opt(auv)
    auv.set_defaults(func=cmd_audit_verify)
    aur = _sub(ausub, "repair", help="set aside an unfinished last write (power cut, full "
                                          "disk) and record it; changes nothing else")
    data_dir_opt(aur)
    format_opt(aur)
    aur.set_defaults(func=cmd_audit_repair)

    us = _sub(sub, "users", help="the roles file: who has which dashboard role")
    ussub = us.add_subparsers(dest="action", required=True)
    usl = _sub(ussub, "list", help="users and groups with their roles (JSON)")
    data_dir_opt(usl)
    usl.set_defaults(func=cmd_users_list)
    uss = _sub(ussub, "set", help="give a user (e-mail) a role, block them (none) or "
                                       "remove their entry (audited)")
    data_dir_opt(uss)
    uss.add_argument("email", help="the user's e-mail address (as their login gives it)")
    uss.add_argument("role", choices=["viewer", "analyst", "admin", "none", "remove"],
                     help="the role to give; none blocks the user, remove deletes their entry")
    uss.set_defaults(func=cmd_users_set)

    s = _sub(sub, "dashboard", help="start the Streamlit dashboard (keeps running: Ctrl+C to stop)")
    data_dir_opt(s)
    boundaries_opt(s)
    s.add_argument("--port", type=int, default=8501, help="port to listen on")
    s.add_argument("--address", default="127.0.0.1", help="address to listen on")
    s.add_argument("--headless", action="store_true", help="do not open a browser")
    s.add_argument("--auth", action="store_true",
                   help="shared mode: OpenID Connect login (.streamlit/secrets.toml [auth]), "
                        "roles, audit (default: $HAREWATCH_AUTH, else local mode)")
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
    w.add_argument("--retry", action="append", default=[], metavar="NAME",
                   help="process this file again (e.g. fixed, or unreadable before); repeatable")
    w.add_argument("--retry-all", action="store_true",
                   help="process every file recorded as unreadable or rejected again")
    w.set_defaults(func=cmd_watch)
    return p


def _casework_parsers(sub) -> None:
    """``interactions import``, ``case`` and ``plates`` (issue 16)."""
    it = _sub(sub, "interactions", help="the interactions register (warnings, CPW/CPN, "
                                             "dispersals, seizures, arrests, charges, convictions)")
    itsub = it.add_subparsers(dest="action", required=True)
    ii = _sub(itsub, "import", help="validate an interactions file row by row and add its "
                                         "accepted rows to the register")
    ii.add_argument("file", help="the interactions file (CSV, XLSX)")
    data_dir_opt(ii)
    ii.add_argument("--season-start-month", type=int, default=DEFAULTS.start_month,
                    choices=range(1, 13), metavar="1-12", help="first month of a coursing season")
    ii.set_defaults(func=cmd_interactions_import)

    c = _sub(sub, "case", help="the case file of one subject (plate or person id) for the CPS")
    c.add_argument("subject", help="a plate (spaces and case ignored) or a person id")
    c.add_argument("--format", choices=["json", "text", "html", "pdf"], default="json",
                   help="json: the case file as one document; text: a summary for people; html or "
                        "pdf: the case file to hand to a prosecutor (pdf needs --out)")
    c.add_argument("--out", metavar="FILE", help="write here (default: stdout)")
    masking = c.add_mutually_exclusive_group()
    masking.add_argument("--mask", dest="mask", action="store_true",
                         help="mask plates and ids and withhold notes (a copy that leaves the force)")
    masking.add_argument("--reveal", dest="mask", action="store_false",
                         help="show plates, ids and notes in full (the default)")
    c.set_defaults(mask=False)
    c.add_argument("--kind", choices=["vehicle", "person"],
                   help="needed only when the subject is both a plate and a person id")
    c.add_argument("--within-min", type=float, default=5.0,
                   help="minutes between two reads at one camera for an associate (default 5)")
    c.add_argument("--season-start-month", type=int, default=DEFAULTS.start_month,
                   choices=range(1, 13), metavar="1-12", help="first month of a coursing season")
    data_dir_opt(c)
    boundaries_opt(c)
    c.set_defaults(func=cmd_case)

    pl = _sub(sub, "plates", help="partial-plate search near an incident or a place and time")
    pl.add_argument("pattern", help="? one unknown character, * any run; spaces ignored, e.g. 'AB1? C*'")
    where = pl.add_mutually_exclusive_group(required=True)
    where.add_argument("--incident", metavar="ID", help="search around this stored incident")
    where.add_argument("--near", metavar="LAT,LON", help="search around this place (with --at)")
    pl.add_argument("--at", metavar="ISO_TIME",
                    help="time for --near (ISO 8601; without an offset, UK local time)")
    pl.add_argument("--km", type=float, default=20.0, help="radius in km (default 20)")
    pl.add_argument("--hours", type=float, default=3.0, help="hours either side (default 3)")
    pl.add_argument("--format", choices=["json", "text"], default="json",
                    help="json: the candidates as one document; text: lines for people")
    pl.add_argument("--mask", action="store_true", help="mask the plates")
    data_dir_opt(pl)
    pl.set_defaults(func=cmd_plates)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        audit_command(args)  # refused (AuditError, exit 2) when it cannot be recorded
        return args.func(args)
    except (HarewatchError, OSError) as exc:  # bad input or environment; anything else is a bug
        err(f"harewatch: {exc}")
        return EXIT_UNREADABLE


