"""``harewatch dashboard`` and ``harewatch watch``: the long-running commands.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from geo._config import REPO_ROOT
from geo.cli._common import EXIT_OK, EXIT_UNREADABLE, areas_for, err, settings_from
from geo.errors import InputError


def cmd_dashboard(args) -> int:
    repo = REPO_ROOT
    settings = settings_from(args)
    if settings.boundaries is not None:  # the server runs from the repo root
        settings = replace(settings, boundaries=settings.boundaries.resolve())
    env = {**os.environ, **replace(settings, data_dir=settings.data_dir.resolve()).to_env()}
    cmd = [sys.executable, "-m", "dashboard.serve", "--server.port", str(args.port),
           "--server.address", args.address, "--browser.gatherUsageStats", "false"]
    if args.headless:
        cmd += ["--server.headless", "true"]
    err(f"Harewatch dashboard on http://{args.address}:{args.port}")
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

    from geo.io.store.layout import default_data_dir
    from geo.pipeline.watch import Watcher

    incoming = Path(args.incoming)
    if not incoming.is_dir():
        err(f"harewatch watch: incoming folder {incoming} does not exist (or is not a folder)")
        return EXIT_UNREADABLE
    if not args.poll_s > 0 or not args.cooldown_h >= 0:
        raise InputError(f"--poll-s must be > 0 and --cooldown-h >= 0, got {args.poll_s}, "
                         f"{args.cooldown_h}")
    areas = areas_for(args)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set():
            raise SystemExit(130)
        stop.set()
        err("harewatch watch: stopping after the current file (press Ctrl-C again to abort)")

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        with Watcher(incoming, data_dir, areas, start_month=args.season_start_month,
                     cooldown_h=args.cooldown_h, log=err) as watcher:
            err(f"harewatch watch: watching {incoming} (store {data_dir})"
                 + ("" if args.once else f" every {args.poll_s:g} s; Ctrl-C to stop"))
            if args.once:
                processed = len(watcher.drain(stop=stop))
            else:
                processed = watcher.run(poll_s=args.poll_s, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    err(f"harewatch watch: stopped; {processed} file(s) processed")
    return EXIT_OK
