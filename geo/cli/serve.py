"""``harewatch dashboard`` and ``harewatch watch``: the long-running commands.

Both stop cleanly on SIGTERM and SIGINT (Ctrl-C). ``dashboard`` runs the
Streamlit server as a child process in its own process group, forwards the
signal to that group and waits for it (killing it after
:data:`STOP_GRACE_S`), so no server is left running; on Linux the child is
also told to stop if the CLI process dies without a chance to forward
anything.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from geo._config import REPO_ROOT
from geo.cli._common import EXIT_OK, EXIT_REJECTS, EXIT_UNREADABLE, areas_for, err, settings_from
from geo.errors import InputError

#: Seconds the dashboard server gets to stop after a forwarded signal before it is killed.
STOP_GRACE_S = 10.0

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _die_with_parent() -> None:
    """In the child (Linux): receive SIGTERM when the parent process dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    """Signal the child's process group while the child is not yet reaped (its id is ours)."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def supervise(cmd: list[str], *, env: dict, cwd: Path, grace_s: float = STOP_GRACE_S) -> int:
    """Run ``cmd`` as a child process group; forward SIGINT/SIGTERM to it and wait for it.

    Returns
    -------
    int
        :data:`EXIT_OK` when the child exited 0 or stopped on a forwarded
        signal; :data:`EXIT_UNREADABLE` when it failed on its own.
    """
    linux = sys.platform.startswith("linux")
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, start_new_session=True,
                            preexec_fn=_die_with_parent if linux else None)
    stopping: list[float] = []

    def forward(signum, frame):
        stopping.append(time.monotonic())
        _signal_group(proc, signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, forward) for sig in _STOP_SIGNALS}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if stopping and time.monotonic() - stopping[0] > grace_s:
                    _signal_group(proc, signal.SIGKILL)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.returncode is None:  # an exception here: never leave the server behind
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
    if stopping or code == 0:
        return EXIT_OK
    err(f"harewatch: the dashboard server stopped with exit code {code}")
    return EXIT_UNREADABLE


#: Streamlit options of the shared mode (``harewatch dashboard --auth``): XSRF checks and
#: CORS on, no agent API, no identity taken from request headers, no table export outside
#: the audited downloads, no file watching, no error details in the browser.
SHARED_MODE_OPTIONS: tuple[str, ...] = (
    "--server.enableXsrfProtection", "true",
    "--server.enableCORS", "true",
    "--server.enableAgentApi", "false",
    "--server.maxUploadSize", "100",
    "--server.fileWatcherType", "none",
    "--server.runOnSave", "false",
    "--client.disableDataExport", "true",
    "--client.showErrorDetails", "type",
    "--global.developmentMode", "false",
)


def cmd_dashboard(args) -> int:
    repo = REPO_ROOT
    settings = settings_from(args)
    if settings.boundaries is not None:  # the server runs from the repo root
        settings = replace(settings, boundaries=settings.boundaries.resolve())
    if getattr(args, "auth", False):
        settings = replace(settings, auth=True)
    env = {**os.environ, **replace(settings, data_dir=settings.data_dir.resolve()).to_env()}
    cmd = [sys.executable, "-m", "dashboard.serve", "--server.port", str(args.port),
           "--server.address", args.address, "--browser.gatherUsageStats", "false"]
    if args.headless:
        cmd += ["--server.headless", "true"]
    if settings.auth:
        cmd += list(SHARED_MODE_OPTIONS)
    err(f"Harewatch dashboard on http://{args.address}:{args.port}"
        + (" (shared mode: login required)" if settings.auth else ""))
    code = supervise(cmd, env=env, cwd=repo)
    err("harewatch dashboard: stopped")
    return code


def cmd_watch(args) -> int:
    """Watch ``--incoming`` for ANPR read files (see :mod:`geo.watch`).

    Logs one line per file and per new alert (plate masked) on stderr.
    ``--retry NAME`` / ``--retry-all`` take files out of the ledger first,
    so they are processed again. Exit codes: with ``--once``, 0 when every
    file processed was stored whole, 1 when rows or files were rejected or
    unreadable (they are in the ledger with their reason); without
    ``--once``, 0 when stopped by Ctrl-C or SIGTERM; 2 when it cannot start
    (e.g. the incoming folder does not exist).
    """
    from geo.pipeline.watch import Watcher

    incoming = Path(args.incoming)
    if not incoming.is_dir():
        err(f"harewatch watch: incoming folder {incoming} does not exist (or is not a folder)")
        return EXIT_UNREADABLE
    if not args.poll_s > 0 or not args.cooldown_h >= 0:
        raise InputError(f"--poll-s must be > 0 and --cooldown-h >= 0, got {args.poll_s}, "
                         f"{args.cooldown_h}")
    areas = areas_for(args)
    data_dir = settings_from(args).data_dir
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
            _retry(watcher, args)
            err(f"harewatch watch: watching {incoming} (store {data_dir})"
                 + ("" if args.once else f" every {args.poll_s:g} s; Ctrl-C to stop"))
            if args.once:
                outcomes = watcher.drain(stop=stop)
                processed = len(outcomes)
            else:
                outcomes, processed = [], watcher.run(poll_s=args.poll_s, stop=stop)
            _report_unreadable(watcher)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    err(f"harewatch watch: stopped; {processed} file(s) processed")
    bad = [o for o in outcomes if o.status != "ingested" or o.rows_rejected]
    return EXIT_REJECTS if bad else EXIT_OK


def _retry(watcher, args) -> None:
    """Apply ``--retry NAME`` / ``--retry-all`` (log what will be processed again)."""
    if not args.retry and not args.retry_all:
        return
    names = None if args.retry_all else list(args.retry)
    forgotten = watcher.retry(names)
    for name in sorted(set(args.retry) - set(forgotten)):
        err(f"harewatch watch: {name} is not in the ledger (it will be processed if it is new)")
    if forgotten:
        err(f"harewatch watch: will process again: {', '.join(forgotten)}")


def _report_unreadable(watcher) -> None:
    """Files still waiting for a fix are never forgotten silently."""
    waiting = watcher.unreadable()
    for name, reason in zip(waiting["name"], waiting["reason"], strict=True):
        err(f"harewatch watch: {name} could not be read ({reason}); it is processed again when "
            f"it changes, or run `harewatch watch --incoming DIR --retry {name}`")
