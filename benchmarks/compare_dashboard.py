"""The dashboard rows of ``compare.py``: the real dashboard against a trivial map app.

Both are Streamlit servers on 127.0.0.1 driven by the Debian Chromium through
Playwright (never ``playwright install``); both serve Leaflet locally (the
vendored copies in ``dashboard/static``). The peer is the least a map app
does: the same boundary file drawn with ``folium.GeoJson``, 1,000 circle
markers over two seasons, a "Season" select box, ``st_folium``.

* ``dash_first_paint``: server process spawned -> first ``path.leaflet-interactive``
  visible in the map's iframe (the browser is started beforehand, on a blank
  page, for both). The dashboard runs as ``harewatch dashboard`` does
  (``python -m dashboard.serve``) on an empty store: the demo data.
* ``dash_season``: another season chosen in the "Season" select box -> the
  map's content changed (interactive elements or legend) with boundary paths
  drawn again.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from compare import ONS, PY, REPO, Row, Run

CHROMIUM = os.environ.get("HAREWATCH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'

PEER_APP = r'''
import geopandas as gpd
import folium
import numpy as np
import streamlit as st
from streamlit_folium import st_folium

BASE = "../../app/static/vendor/"
JS = {"leaflet": "leaflet/leaflet.js", "jquery": "jquery/jquery.min.js",
      "bootstrap": "bootstrap/js/bootstrap.bundle.min.js",
      "awesome_markers": "leaflet-awesome-markers/leaflet.awesome-markers.min.js"}
CSS = {"leaflet_css": "leaflet/leaflet.css", "bootstrap_css": "bootstrap/css/bootstrap.min.css",
       "awesome_markers_font_css": "fontawesome/css/all.min.css",
       "awesome_markers_css": "leaflet-awesome-markers/leaflet.awesome-markers.css"}
folium.Map.default_js = [(k, BASE + v) for k, v in JS.items()]
folium.Map.default_css = [(k, BASE + v) for k, v in CSS.items()]


@st.cache_data
def data(path):
    b = gpd.read_file(path)
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(-0.5, 1.7, 1000), rng.uniform(51.3, 52.9, 1000)])
    return b.to_json(), pts


boundaries, pts = data(BOUNDARIES)
season = st.selectbox("Season", ["2021-22", "2022-23"])
m = folium.Map(location=[52.2, 0.6], zoom_start=8, tiles=None)
folium.GeoJson(boundaries, name="Forces").add_to(m)
half = pts[:600] if season == "2021-22" else pts[600:]
for lon, lat in half:
    folium.CircleMarker([lat, lon], radius=4).add_to(m)
st_folium(m, height=600, use_container_width=True, returned_objects=[])
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(cmd: list[str], env: dict, cwd: Path, log: Path) -> tuple[subprocess.Popen, str, float]:
    port = _free_port()
    cmd = [*cmd, "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
           "--server.fileWatcherType=none", "--server.enableStaticServing=true",
           "--browser.gatherUsageStats=false"]
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited; see {log}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc, url, t0
        except OSError:
            time.sleep(0.05)


def _stop(proc: subprocess.Popen) -> float:
    """Stop the server; its CPU seconds (user + system)."""
    proc.terminate()
    try:
        _, _, ru = os.wait4(proc.pid, 0)
    except ChildProcessError:
        return float("nan")
    return ru.ru_utime + ru.ru_stime


_SIGNATURE = f"""() => {{
  const f = document.querySelector('{IFRAME}');
  const d = f && f.contentDocument;
  if (!d) return '';
  const paths = d.querySelectorAll('path.leaflet-interactive').length;
  if (!paths) return '';
  const marks = d.querySelectorAll('.leaflet-interactive, .leaflet-marker-icon').length;
  const legend = d.querySelector('.hw-legend');
  return marks + '|' + (legend ? legend.innerText : '');
}}"""


def _one(browser, cmd, env, cwd, log, option_index: int) -> tuple[Run, Run]:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        proc, url, t0 = _serve(cmd, env, cwd, log)
        try:
            page.goto(url)
            frame = page.frame_locator(IFRAME).first
            frame.locator("path.leaflet-interactive").first.wait_for(state="visible",
                                                                      timeout=180_000)
            paint = time.perf_counter() - t0
            page.wait_for_function(  # the first run finished
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                timeout=180_000)
            page.wait_for_timeout(1500)  # idle: the map drawn, the warm-up thread done
            before = page.evaluate(_SIGNATURE)
            box = page.get_by_test_id("stSelectbox").filter(has_text="Season").first
            box.click()
            options = page.get_by_role("option")
            options.first.wait_for(state="visible")
            pick = options.nth(option_index)
            t1 = time.perf_counter()
            pick.click()
            page.wait_for_function(f"(b) => {{ const s = ({_SIGNATURE})(); return s && s !== b; }}",
                                   arg=before, timeout=180_000, polling=20)
            season = time.perf_counter() - t1
        finally:
            cpu = _stop(proc)
    finally:
        page.close()
    return Run(paint, cpu, 0.0, paint), Run(season, float("nan"), 0.0, season)


def dashboard_rows(work: Path, env: dict, pairs: int) -> list[Row]:
    from playwright.sync_api import sync_playwright

    peer_dir = Path(tempfile.mkdtemp(prefix="peer-app-", dir=work))
    (peer_dir / "app.py").write_text(f"BOUNDARIES = {str(ONS)!r}\n" + PEER_APP)
    (peer_dir / "static").symlink_to(REPO / "dashboard" / "static", target_is_directory=True)
    store = Path(tempfile.mkdtemp(prefix="dash-store-", dir=work))  # empty: the demo
    denv = {**env, "HAREWATCH_DATA_DIR": str(store), "PYTHONUNBUFFERED": "1"}
    peer_cmd = [PY, "-m", "streamlit", "run", str(peer_dir / "app.py")]
    hw_cmd = [PY, "-m", "dashboard.serve"]
    paint = Row("dash_first_paint", "streamlit-folium app, 1,000 markers (real browser)", 1.0,
                inner=True)
    season = Row("dash_season", "same app, one select (real browser)", 1.0, inner=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            def peer():
                return _one(browser, peer_cmd, env, peer_dir, work / "peer-app.log", 1)

            def hw():
                return _one(browser, hw_cmd, denv, REPO, work / "dashboard.log", 2)

            peer(), hw()  # warm-up: OS file cache, the user cache (force index, demo)
            for k in range(pairs):
                a, b = (peer(), hw()) if k % 2 == 0 else (None, hw())
                if a is None:
                    a = peer()
                paint.pairs.append((a[0], b[0]))
                season.pairs.append((a[1], b[1]))
                print(f"  dashboard pair {k + 1}: first paint {a[0].wall_s:.2f} / {b[0].wall_s:.2f} s,"
                      f" season {a[1].wall_s:.2f} / {b[1].wall_s:.2f} s", file=sys.stderr,
                      flush=True)
        finally:
            browser.close()
    return [paint, season]
