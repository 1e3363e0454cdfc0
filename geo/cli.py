"""The ``harewatch`` command line.

Sub-commands: ``validate``, ``ingest``, ``hotspots``, ``offenders``, ``demo``,
``boundaries fetch``, ``dashboard``, ``watch``. Machine-readable output goes to stdout;
messages for people go to stderr. Exit codes: 0 ok, 1 rows were rejected (for
``validate``), 2 the input could not be read or was misconfigured.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from geo import __version__

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_REJECTS, EXIT_UNREADABLE = 0, 1, 2


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def guess_kind(columns) -> str:
    """``"incidents"`` or ``"sightings"`` from a file's column names.

    A file with an incident reference column is incidents; one with a plate
    and a read time or camera but no reference is sightings (ANPR reads).
    """
    cols = {_norm(c) for c in columns}
    if cols & {"incidentid", "incidentref", "reference", "ref", "id"}:
        return "incidents"
    if cols & {"readat", "cameraid", "site", "camera"} and cols & {"vrm", "registration", "vehicle", "vrms"}:
        return "sightings"
    return "incidents"


def _areas(args):
    from geo.boundaries import load_boundaries

    return load_boundaries(getattr(args, "boundaries", None), log=_err)


def _validate_file(path: str, kind: str | None, areas):
    """Read and validate a file; returns (kind, ValidationResult)."""
    from geo.readers import read_table

    raw = read_table(path)
    kind = kind or guess_kind(raw.columns)
    if kind == "incidents":
        from geo.incidents import validate_incidents

        return kind, validate_incidents(raw, areas)
    from geo.sightings import validate_sightings

    return kind, validate_sightings(raw, areas)


def _load_accepted(path: str, kind: str, areas, label: str):
    """Validated accepted rows of a file; rejected rows are counted on stderr."""
    _, result = _validate_file(path, kind, areas)
    if result.n_rejected:
        _err(f"{label}: skipped {result.n_rejected} rejected row(s) of {result.rows} in {path} "
             f"(run 'harewatch validate {path}' for the reasons)")
    return result.accepted


def _incidents_source(args, areas):
    if args.incidents:
        return _load_accepted(args.incidents, "incidents", areas, "incidents")
    from geo.store import read_incidents

    data_dir = Path(args.data_dir) if args.data_dir else None
    from geo.store import default_data_dir

    gdf = read_incidents(data_dir or default_data_dir())
    if gdf is None or gdf.empty:
        raise FileNotFoundError("no incidents: pass --incidents FILE or ingest a file into the store first")
    return gdf


# --------------------------------------------------------------------------- commands


def cmd_validate(args) -> int:
    areas = _areas(args)
    kind, result = _validate_file(args.file, args.kind, areas)
    report = result.to_report()
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"{args.file} ({kind}): {report['rows']} rows, {report['accepted']} accepted, "
              f"{report['rejected']} rejected")
        for r in report["rejects"]:
            print(f"  row {r['row']}" + (f" [{r['id']}]" if r["id"] else "") + f": {r['reason']}")
        for force, n in report["by_force"].items():
            print(f"  {force}: {n}")
    return EXIT_REJECTS if result.n_rejected else EXIT_OK


def cmd_ingest(args) -> int:
    from geo.store import default_data_dir, ingest

    areas = _areas(args)
    _, result = _validate_file(args.file, args.kind, areas)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    report = ingest(result, data_dir)
    print(json.dumps({"rows": result.rows, "accepted": result.n_accepted, "rejected": result.n_rejected,
                      **_asdict(report)}, default=str, ensure_ascii=False))
    return EXIT_OK


def _asdict(obj) -> dict:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj):
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(obj).items()}
    return dict(obj) if isinstance(obj, dict) else {"report": str(obj)}


def cmd_hotspots(args) -> int:
    from geo.hotspots import find_hotspots, hotspots_to_frame, hotspots_to_geojson, hotspots_to_json
    from geo.seasons import filter_incidents, previous_season

    areas = _areas(args)
    incidents = _incidents_source(args, areas)
    forces = _check_forces(args.force, areas)
    current = filter_incidents(incidents, season=args.season, forces=forces, start_month=args.season_start_month)
    previous = None
    if args.season:
        previous = filter_incidents(incidents, season=previous_season(args.season), forces=forces,
                                    start_month=args.season_start_month)
    result = find_hotspots(current, eps_m=args.eps_m, min_samples=args.min_samples, areas=areas,
                           previous=previous, start_month=args.season_start_month)
    if args.format == "json":
        print(json.dumps(hotspots_to_json(result), ensure_ascii=False))
    elif args.format == "geojson":
        print(json.dumps(hotspots_to_geojson(result), ensure_ascii=False))
    else:
        from geo.export import to_safe_csv

        sys.stdout.write(to_safe_csv(hotspots_to_frame(result)).decode("utf-8-sig"))
    return EXIT_OK


def _check_forces(names, areas):
    if not names:
        return None
    known = {n.lower(): n for n in areas.gdf["force"]}
    bad = [n for n in names if n.lower() not in known]
    if bad:
        raise ValueError(f"unknown force(s) {bad}; known: {', '.join(areas.gdf['force'])}")
    return [known[n.lower()] for n in names]


def cmd_offenders(args) -> int:
    from geo.movements import border_crossings, crossings_near_incidents, trips, vehicle_points
    from geo.offenders import ladder, offenders_to_frame, offenders_to_json
    from geo.seasons import filter_incidents

    if args.scheduler and args.engine != "dask":
        _err("harewatch: --scheduler needs --engine dask")
        return EXIT_UNREADABLE
    if args.workers < 1:
        _err(f"harewatch: --workers must be at least 1, got {args.workers}")
        return EXIT_UNREADABLE
    if args.sightings and args.engine == "dask":
        _err("harewatch: --engine dask scans the sightings store; it cannot be combined with "
             "--sightings FILE (ingest the file, or drop --engine)")
        return EXIT_UNREADABLE
    areas = _areas(args)
    incidents = _incidents_source(args, areas)
    table = None
    if args.sightings:
        sightings = _load_accepted(args.sightings, "sightings", areas, "sightings")
        points = trips(vehicle_points(incidents, sightings), max_gap_h=args.max_gap_h)
        crossings = crossings_near_incidents(border_crossings(points, max_gap_h=args.max_gap_h), incidents,
                                             window_h=args.window_h)
    else:
        crossings = None
        table = _offenders_from_store(args, incidents)
    if table is None:
        if args.season:
            incidents = filter_incidents(incidents, season=args.season, start_month=args.season_start_month)
        table = ladder(incidents, start_month=args.season_start_month, crossings=crossings)
    if args.season:
        table = table[table["season"] == args.season]
    if args.format == "json":
        print(json.dumps(offenders_to_json(table), ensure_ascii=False, default=str))
    else:
        from geo.export import to_safe_csv

        sys.stdout.write(to_safe_csv(offenders_to_frame(table)).decode("utf-8-sig"))
    return EXIT_OK


def _offenders_from_store(args, incidents):
    """The ladder with crossings scanned from the store's sightings by the chosen engine;
    None when the store holds no sightings (then the ladder has no crossings)."""
    from geo.store import default_data_dir, sightings_paths

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if not sightings_paths(data_dir):
        if args.engine == "dask":
            _err(f"offenders: no sightings stored in {data_dir}; ladder without crossings")
        return None
    opts = dict(season=args.season, start_month=args.season_start_month, max_gap_h=args.max_gap_h,
                window_h=args.window_h, all_plates=args.all_plates)
    if args.engine == "dask":
        from geo.dask_engine import dask_client, offenders_dask

        where = args.scheduler or f"a local cluster of {args.workers} worker(s)"
        _err(f"offenders: scanning crossings in {data_dir} with dask on {where}")
        with dask_client(args.scheduler, n_workers=args.workers) as client:
            return offenders_dask(incidents, data_dir, client=client, **opts)
    from geo.offenders import offenders_from_store

    return offenders_from_store(incidents, data_dir=data_dir, **opts)


def cmd_demo(args) -> int:
    from geo.demo import DEMO_NOTICE, write_demo

    areas = _areas(args)
    paths = write_demo(Path(args.out), areas, seed=args.seed)
    _err(DEMO_NOTICE)
    for name, path in paths.items():
        _err(f"  {name}: {path}")
    _err(f"Ingest with: harewatch ingest incidents {paths.get('incidents', '')}")
    print(json.dumps({k: str(v) for k, v in paths.items()}))
    return EXIT_OK


def cmd_boundaries_fetch(args) -> int:
    from geo.boundaries import DEFAULT_BOUNDARIES_DIR, DEFAULT_URL, fetch_boundaries

    dest = Path(args.dest) if args.dest else DEFAULT_BOUNDARIES_DIR
    path = fetch_boundaries(dest, url=args.url or DEFAULT_URL, timeout_s=args.timeout_s)
    _err(f"saved ONS police force areas to {path}")
    print(str(path))
    return EXIT_OK


def cmd_boundaries_show(args) -> int:
    areas = _areas(args)
    rows = areas.gdf.assign(area_km2=(areas.gdf.geometry.area / 1e6).round(1)).drop(columns="geometry")
    print(f"source: {areas.source}")
    print(rows.to_string(index=False))
    print(areas.attribution)
    return EXIT_OK


def cmd_store_upgrade(args) -> int:
    from geo.store import default_data_dir, sightings_layout, upgrade_sightings_store

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if not data_dir.is_dir():
        raise FileNotFoundError(f"no store at {data_dir}")
    moved = upgrade_sightings_store(data_dir)
    _err(f"moved {moved} ANPR read(s) into the partitioned layout of {data_dir / 'sightings'}")
    print(json.dumps({"data_dir": str(data_dir), "rows_moved": moved,
                      "layout": sightings_layout(data_dir).to_dict()}, ensure_ascii=False))
    return EXIT_OK


def cmd_store_compact(args) -> int:
    import pandas as pd

    from geo.schema import LONDON
    from geo.store import compact_sightings, default_data_dir

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if not data_dir.is_dir():
        raise FileNotFoundError(f"no store at {data_dir}")
    before = None
    if args.before:
        try:
            before = pd.Timestamp(args.before).tz_localize(LONDON)  # London midnight
        except (ValueError, TypeError) as exc:
            raise ValueError(f"--before must be a date YYYY-MM-DD, got {args.before!r}") from exc
    report = compact_sightings(data_dir, min_files=args.min_files, before=before)
    _err(f"compacted {report.folders} folder(s): {report.files_before} file(s) -> "
         f"{report.files_after}, {report.rows} read(s) in {data_dir / 'sightings'}")
    if report.legacy_files:
        _err(f"{report.legacy_files} flat 0.1.0 file(s) left alone: run "
             f"`harewatch store upgrade --data-dir {data_dir}` first, then compact again")
    print(json.dumps({"data_dir": str(data_dir), **report.to_dict()}, ensure_ascii=False))
    return EXIT_OK


def cmd_dashboard(args) -> int:
    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    if args.data_dir:
        env["HAREWATCH_DATA_DIR"] = args.data_dir
    if args.boundaries:
        env["HAREWATCH_BOUNDARIES"] = args.boundaries
    for var in ("HAREWATCH_DATA_DIR", "HAREWATCH_BOUNDARIES"):  # the server runs from the repo root
        if env.get(var):
            env[var] = str(Path(env[var]).expanduser().resolve())
    cmd = [sys.executable, "-m", "dashboard.serve", "--server.port", str(args.port),
           "--server.address", args.address, "--browser.gatherUsageStats", "false"]
    if args.headless:
        cmd += ["--server.headless", "true"]
    _err(f"Harewatch dashboard on http://{args.address}:{args.port}")
    return subprocess.call(cmd, env=env, cwd=repo)


def cmd_watch(args) -> int:
    """Watch ``--incoming`` for ANPR read files (see :mod:`geo.watch`).

    Logs one line per file and per new alert (plate masked) on stderr. Exit 0
    when it stopped normally (``--once`` done, Ctrl-C or SIGTERM), also when
    files were rejected: they are in the ledger with their reason, and a cron
    job should not fail for someone else's bad file. Exit 2 when the incoming
    folder does not exist.
    """
    import signal
    import threading

    from geo.store import default_data_dir
    from geo.watch import Watcher

    incoming = Path(args.incoming)
    if not incoming.is_dir():
        _err(f"harewatch watch: incoming folder {incoming} does not exist (or is not a folder)")
        return EXIT_UNREADABLE
    if not args.poll_s > 0 or not args.cooldown_h >= 0:
        raise ValueError(f"--poll-s must be > 0 and --cooldown-h >= 0, got {args.poll_s}, "
                         f"{args.cooldown_h}")
    areas = _areas(args)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set():
            raise SystemExit(130)
        stop.set()
        _err("harewatch watch: stopping after the current file (press Ctrl-C again to abort)")

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        with Watcher(incoming, data_dir, areas, start_month=args.season_start_month,
                     cooldown_h=args.cooldown_h, log=_err) as watcher:
            _err(f"harewatch watch: watching {incoming} (store {data_dir})"
                 + ("" if args.once else f" every {args.poll_s:g} s; Ctrl-C to stop"))
            if args.once:
                processed = len(watcher.drain(stop=stop))
            else:
                processed = watcher.run(poll_s=args.poll_s, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _err(f"harewatch watch: stopped; {processed} file(s) processed")
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harewatch", description="Hare coursing across seven police forces.")
    p.add_argument("--version", action="version", version=f"harewatch {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def data_dir_opt(sp):
        sp.add_argument("--data-dir", metavar="DIR",
                        help="store folder (else $HAREWATCH_DATA_DIR, else data/incidents/)")

    def boundaries_opt(sp):
        sp.add_argument("--boundaries", metavar="FILE",
                        help="ONS police force areas file (else $HAREWATCH_BOUNDARIES, else data/boundaries/)")

    v = sub.add_parser("validate", help="check an incidents or ANPR file; every row accepted or rejected")
    v.add_argument("file")
    v.add_argument("--kind", choices=["incidents", "sightings"], help="default: guessed from the columns")
    v.add_argument("--format", choices=["json", "text"], default="text")
    boundaries_opt(v)
    v.set_defaults(func=cmd_validate)

    i = sub.add_parser("ingest", help="validate a file and append its accepted rows to the store")
    i.add_argument("kind", choices=["incidents", "sightings"])
    i.add_argument("file")
    data_dir_opt(i)
    boundaries_opt(i)
    i.set_defaults(func=cmd_ingest)

    def season_opts(sp):
        sp.add_argument("--incidents", metavar="FILE", help="incidents file (default: the store)")
        data_dir_opt(sp)
        sp.add_argument("--season", help='e.g. "2021-22"')
        sp.add_argument("--season-start-month", type=int, default=9, choices=range(1, 13), metavar="1-12")
        boundaries_opt(sp)

    h = sub.add_parser("hotspots", help="DBSCAN hotspots ranked for patrol planning")
    season_opts(h)
    h.add_argument("--force", nargs="+", metavar="NAME")
    h.add_argument("--eps-m", type=float, default=1500.0)
    h.add_argument("--min-samples", type=int, default=6)
    h.add_argument("--format", choices=["json", "geojson", "csv"], default="json")
    h.set_defaults(func=cmd_hotspots)

    o = sub.add_parser("offenders", help="subjects on the agreement's ladder, border hoppers and crossings")
    season_opts(o)
    o.add_argument("--sightings", metavar="FILE",
                   help="ANPR reads file for border crossings (default: the store's sightings, if any)")
    o.add_argument("--max-gap-h", type=float, default=6.0)
    o.add_argument("--window-h", type=float, default=3.0)
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
    w.add_argument("--season-start-month", type=int, default=9, choices=range(1, 13),
                   metavar="1-12")
    w.add_argument("--cooldown-h", type=float, default=6.0,
                   help="hours between alerts of one plate in one force")
    w.set_defaults(func=cmd_watch)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from geo.boundaries import BoundariesNotFound, BoundaryFetchError
    from geo.readers import UnreadableFile

    try:
        return args.func(args)
    except (BoundariesNotFound, BoundaryFetchError, UnreadableFile, FileNotFoundError, ValueError,
            OSError) as exc:
        _err(f"harewatch: {exc}")
        return EXIT_UNREADABLE


if __name__ == "__main__":
    raise SystemExit(main())
