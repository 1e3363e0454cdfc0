"""Start the dashboard: ``python -m dashboard.serve [streamlit options]``.

The same as ``streamlit run dashboard/app.py``, plus a warm-up thread that
fills the caches once the server listens (while the browser loads the page),
so the first visitor's map is quick. ``harewatch dashboard`` uses this.

The interpreter runs one thread at a time, so the warm-up keeps out of the
page's way: it starts once the server is up, and after the default map it waits
for the first map to reach the browser (:data:`BROWSER_DRAW_S`) before drawing
the other seasons' maps. The modules imported, then the warm caches, are left out
of the garbage collector's later full passes (``gc.freeze``): Streamlit collects
after every run, and going through them cost 0.1-0.2 s each time.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from pathlib import Path

__all__ = ["APP", "main"]

APP = Path(__file__).resolve().parent / "app.py"
#: Seconds left to the browser, after a page was handed the first map, to fetch the map
#: component and its scripts from this server before the warm-up goes on.
BROWSER_DRAW_S = 2.0
#: Longest wait for a first visitor before warming the other seasons anyway, s.
FIRST_MAP_WAIT_S = 30.0


class _OnlyOtherThreads(logging.Filter):
    """Drop log records emitted by one named thread."""

    def __init__(self, thread_name: str) -> None:
        super().__init__()
        self.thread_name = thread_name

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != self.thread_name


def _wait_for_server(timeout_s: float = 60.0, poll_s: float = 0.02) -> bool:
    """Wait until Streamlit's runtime has started (the server is about to accept browsers).

    Returns
    -------
    bool
        False when it did not start within ``timeout_s`` seconds (warm up anyway).
    """
    from streamlit.runtime import Runtime, RuntimeState

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if Runtime.exists() and Runtime.instance().state != RuntimeState.INITIAL:
            return True
        time.sleep(poll_s)
    return False


def _warm() -> None:
    log = logging.getLogger("harewatch.warmup")
    # Cached functions called outside a page run warn that there is no page:
    # expected in this thread, so drop those records (only this thread's).
    quiet = _OnlyOtherThreads(threading.current_thread().name)
    for name in ("streamlit.runtime.scriptrunner_utils.script_run_context",
                 "streamlit.runtime.caching.cache_data_api"):
        logging.getLogger(name).addFilter(quiet)
    try:
        # The server first: warming shares the interpreter (one thread runs Python at a time),
        # so it starts once the server listens, while the browser loads the page.
        _wait_for_server()
        # Modules stay for good: no collection while they are imported, then out of the
        # collector's full passes, which went through them again and again while the first
        # page loaded (each 0.1-0.2 s, all other threads waiting).
        gc.disable()
        try:
            from dashboard import cache, maps  # noqa: F401  (maps: import cost of folium, branca)
        finally:
            gc.freeze()
            gc.enable()

        def after_first_map() -> None:
            cache.wait_for_first_map(FIRST_MAP_WAIT_S)
            time.sleep(BROWSER_DRAW_S)

        cache.warm(before_more=after_first_map)
        gc.freeze()
    except Exception as exc:  # the page reports problems to the user; warming is best effort
        log.warning("cache warm-up skipped: %s", exc)


def main(argv: list[str] | None = None) -> int:
    """Run the Streamlit server on ``dashboard/app.py`` with the warm-up thread."""
    from streamlit.web import cli as stcli

    threading.Thread(target=_warm, name="harewatch-warmup", daemon=True).start()
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return stcli.main()


if __name__ == "__main__":
    raise SystemExit(main())
