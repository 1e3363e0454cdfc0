"""Real-browser tests: the Debian Chromium (/usr/bin/chromium) driven by
Playwright, against Streamlit servers started here on 127.0.0.1.

Never run ``playwright install``: the browser is the apt package. Run with
``pytest -m browser tests/e2e``. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HAREWATCH_CHROMIUM", "/usr/bin/chromium")
SHARED_BOUNDARIES = (
    REPO.parent / "shared" / "data" / "boundaries" / "police_force_areas_east.geojson"
)
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).is_file():
        skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1440, "height": 1000},
        "accept_downloads": True,
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path
    ready_s: float  # process start -> /_stcore/health answered "ok"
    extra: dict = field(default_factory=dict)


def _boundaries_path() -> Path:
    p = Path(os.environ.get("HAREWATCH_BOUNDARIES", SHARED_BOUNDARIES))
    if not p.is_file():
        pytest.fail(f"boundary file not found at {p}: set HAREWATCH_BOUNDARIES")
    return p.resolve()


def start_streamlit(script: Path, name: str, env_extra: dict[str, str], *,
                    port: int | None = None, args: tuple[str, ...] = ()) -> Server:
    """Start ``streamlit run script`` on a free 127.0.0.1 port (or ``port``) and wait for
    health; ``args`` are more Streamlit options."""
    port = port or _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"streamlit-{name}.log"
    env = {**os.environ, **env_extra, "HAREWATCH_NO_FETCH": "1", "PYTHONUNBUFFERED": "1"}
    # the dashboard starts the way `harewatch dashboard` starts it (with the cache warm-up)
    launcher = (["-m", "dashboard.serve"] if script == REPO / "dashboard" / "app.py"
                else ["-m", "streamlit", "run", str(script)])
    cmd = [
        sys.executable, *launcher,
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--server.enableStaticServing=true",
        "--browser.gatherUsageStats=false",
        *args,
    ]  # fmt: skip
    t0 = time.monotonic()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = t0 + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(
                f"streamlit exited with {proc.returncode}; see {log}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop(proc)
            pytest.fail(f"streamlit did not answer /_stcore/health within 90 s; see {log}")
        time.sleep(0.2)  # no Playwright page exists yet: a plain sleep is fine here
    return Server(url=url, proc=proc, log=log, ready_s=time.monotonic() - t0)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory) -> Iterator[Server]:
    """The dashboard on an empty store (so it shows the demo data)."""
    data_dir = tmp_path_factory.mktemp("harewatch-store")
    srv = start_streamlit(
        REPO / "dashboard" / "app.py",
        "app",
        {"HAREWATCH_BOUNDARIES": str(_boundaries_path()), "HAREWATCH_DATA_DIR": str(data_dir)},
    )
    srv.extra["data_dir"] = data_dir
    yield srv
    stop(srv.proc)


@pytest.fixture(scope="session")
def map_app_server(tmp_path_factory) -> Iterator[Server]:
    """A throwaway app that shows only build_map + st_folium with hostile data.

    Streamlit serves ``static/`` next to the main script, so the script is
    copied into a temp folder beside a symlink to dashboard/static.
    """
    d = tmp_path_factory.mktemp("map-app")
    shutil.copy(Path(__file__).with_name("map_app.py"), d / "map_app.py")
    (d / "static").symlink_to(REPO / "dashboard" / "static", target_is_directory=True)
    srv = start_streamlit(
        d / "map_app.py", "map_app", {"HAREWATCH_BOUNDARIES": str(_boundaries_path())}
    )
    yield srv
    stop(srv.proc)


@dataclass
class Watch:
    """What a page did: hosts it contacted, dialogs, script errors, failed requests."""

    hosts: set = field(default_factory=set)
    requests: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    failed: list = field(default_factory=list)


@pytest.fixture
def watch(page) -> Watch:
    w = Watch()

    def on_request(req):
        w.requests.append(req.url)
        host = urlparse(req.url).hostname
        if host:
            w.hosts.add(host)

    def on_dialog(dialog):
        w.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("request", on_request)
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: w.errors.append(str(exc)))
    page.on("requestfailed", lambda req: w.failed.append(req.url))
    return w


def screenshot(page, name: str) -> Path:
    """Full-page screenshot into test-artifacts/screenshots/<name>.png.

    Streamlit scrolls inside its main container, so the viewport is made as
    tall as the content for the shot, then restored.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    content_h = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll('[data-testid="stMain"], section, main')]
                     .map(e => e.scrollHeight), document.body.scrollHeight)"""
    )
    if size and content_h > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(int(content_h) + 40, 6000)})
        page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    if size:
        page.set_viewport_size(size)
    return path
