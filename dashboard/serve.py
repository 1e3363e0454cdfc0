"""Start the dashboard: ``python -m dashboard.serve [streamlit options]``.

The same as ``streamlit run dashboard/app.py``, plus a warm-up thread that
fills the caches while the server starts, so the first visitor's map is
quick. ``harewatch dashboard`` uses this.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

__all__ = ["APP", "main"]

APP = Path(__file__).resolve().parent / "app.py"


class _OnlyOtherThreads(logging.Filter):
    """Drop log records emitted by one named thread."""

    def __init__(self, thread_name: str) -> None:
        super().__init__()
        self.thread_name = thread_name

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != self.thread_name


def _warm() -> None:
    log = logging.getLogger("harewatch.warmup")
    # Cached functions called outside a page run warn that there is no page:
    # expected in this thread, so drop those records (only this thread's).
    quiet = _OnlyOtherThreads(threading.current_thread().name)
    for name in ("streamlit.runtime.scriptrunner_utils.script_run_context",
                 "streamlit.runtime.caching.cache_data_api"):
        logging.getLogger(name).addFilter(quiet)
    try:
        from dashboard import cache

        cache.warm()
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
