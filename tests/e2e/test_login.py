"""Shared mode through the real login: a local OpenID Connect provider
(``oidc-provider-mock``), the dashboard started with the shared-mode options of
``harewatch dashboard --auth``, and Chromium following the redirects.

No data before login; a viewer cannot reveal (UI, URL, downloads); an analyst's
reveal needs a reason and is in the audit trail; a tampered audit line is caught by
``harewatch audit verify``. (A purge killed with ``kill -9`` is tested in
tests/geo/io/test_retention.py, in another process.)
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, _boundaries_path, _free_port, screenshot, start_streamlit, stop
from playwright.sync_api import expect

from geo.cli.serve import SHARED_MODE_OPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.network]

USERS = {
    "vic": {"email": "vic.viewer@essex.example", "roles": ["viewer"], "name": "Vic Viewer"},
    "ann": {"email": "ann.analyst@essex.example", "roles": ["analyst"], "name": "Ann Analyst"},
    "eve": {"email": "eve@elsewhere.example", "roles": [], "name": "Eve"},
}
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import User, run_server_in_thread

    users = [User(sub=sub, claims=claims) for sub, claims in USERS.items()]
    with run_server_in_thread(port=_free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def shared(provider, tmp_path_factory):
    """The dashboard in shared mode on an empty store (demo data); yields (url, store, plates)."""
    from geo.datasets.demo import load_or_demo
    from geo.io.boundaries import read_boundaries

    store = tmp_path_factory.mktemp("shared-store")
    port = _free_port()
    secrets = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        'cookie_secret = "e2e-cookie-secret-0123456789abcdef0123456789"\n'
        'client_id = "harewatch"\n'
        'client_secret = "e2e-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
        'client_kwargs = { scope = "openid email profile" }\n')
    _, sig, _ = load_or_demo(store, read_boundaries(_boundaries_path()))
    plates = {p for p in sig["vrm"].astype(str) if len(p) >= 5}
    srv = start_streamlit(
        REPO / "dashboard" / "app.py", "shared",
        {"HAREWATCH_BOUNDARIES": str(_boundaries_path()), "HAREWATCH_DATA_DIR": str(store),
         "HAREWATCH_AUTH": "1"},
        port=port, args=(*SHARED_MODE_OPTIONS, f"--secrets.files={secrets}"))
    yield f"http://localhost:{port}", store, plates
    stop(srv.proc)


def entries(store: Path, action: str | None = None) -> list[dict]:
    from geo.io.audit import read_entries

    return [e for e in read_entries(store / "audit") if action is None or e["action"] == action]


def log_in(page, url: str, sub: str) -> None:
    """Open the app, click Log in, authorise as ``sub`` at the provider, come back."""
    page.goto(url)
    page.get_by_role("button", name="Log in").click(timeout=TIMEOUT_MS)
    page.wait_for_url("**/oauth2/authorize**", timeout=TIMEOUT_MS)
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**", timeout=TIMEOUT_MS)


def all_text(page) -> str:
    """The HTML of the page and of every frame in it (map iframes included)."""
    parts = []
    for frame in page.frames:
        try:
            parts.append(frame.content())
        except Exception:  # a frame navigating away
            continue
    return "\n".join(parts)


def nav_links(page) -> list[str]:
    texts = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    return [t.strip().splitlines()[-1].strip() for t in texts if t.strip()]  # icon name first


def test_nothing_before_login(shared, page, watch):
    url, store, plates = shared
    for path in ("/", "/hoppers?redact=0", "/briefing", "/reveal"):
        page.goto(url + path)
        expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=TIMEOUT_MS)
        page.wait_for_timeout(500)
        text = all_text(page)
        assert not any(p in text for p in plates)
        assert page.locator('[data-testid="stMetric"]').count() == 0
        assert nav_links(page) == []
    screenshot(page, "shared-login")
    assert not watch.dialogs


def test_unknown_user_sees_no_access(shared, browser):
    url, store, _ = shared
    page = browser.new_page()
    log_in(page, url, "eve")
    expect(page.get_by_text("No access")).to_be_visible(timeout=TIMEOUT_MS)
    assert page.locator('[data-testid="stMetric"]').count() == 0 and nav_links(page) == []
    assert any(e["user"] == USERS["eve"]["email"] for e in entries(store, "denied"))
    page.close()


def test_viewer_is_masked_and_cannot_reveal(shared, browser):
    url, store, plates = shared
    context = browser.new_context(accept_downloads=True, viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    log_in(page, url, "vic")
    expect(page.get_by_role("heading", name="Map")).to_be_visible(timeout=TIMEOUT_MS)
    assert nav_links(page) == ["Map", "Hotspots", "Plan", "Trends", "Briefing"]
    page.goto(url + "/?redact=0")
    expect(page.get_by_role("heading", name="Map")).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_timeout(3000)
    assert not any(p in all_text(page) for p in plates)  # page source, map frames included
    page.goto(url + "/reveal")  # not a page for viewers
    page.wait_for_timeout(3000)
    assert page.get_by_role("heading", name="Reveal", exact=True).count() == 0
    page.goto(url + "/briefing?redact=0")
    button = page.get_by_role("button", name="Download briefing pack")
    expect(button).to_be_visible(timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as dl:
        button.click()
    data = Path(dl.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        packed = b"".join(z.read(n) for n in z.namelist())
    assert not any(p.encode() in packed for p in plates)
    downloads = [e for e in entries(store, "download") if e["user"] == USERS["vic"]["email"]]
    assert downloads and downloads[-1]["detail"]["masked"] is True
    views = [e for e in entries(store, "view") if e["user"] == USERS["vic"]["email"]]
    assert {v["detail"]["page"] for v in views} >= {"Map", "Briefing"}
    context.close()


def test_analyst_reveal_needs_a_reason_is_recorded_and_tampering_is_caught(shared, browser,
                                                                           tmp_path):
    url, store, plates = shared
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    log_in(page, url, "ann")
    expect(page.get_by_role("heading", name="Map")).to_be_visible(timeout=TIMEOUT_MS)
    page.goto(url + "/reveal")
    expect(page.get_by_role("heading", name="Reveal", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    assert not any(p in all_text(page) for p in plates)  # options are masked labels

    def ask(reason: str) -> None:
        page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
        page.locator('[role="option"]').first.click()
        page.get_by_label("Reason (recorded)").first.fill(reason)
        page.get_by_role("button", name="Reveal for 15 minutes").click()

    ask("x")
    page.wait_for_timeout(2000)
    screenshot(page, "shared-reveal-short-reason")
    expect(page.get_by_text("give a reason of at least")).to_be_visible(timeout=TIMEOUT_MS)
    assert not [e for e in entries(store, "reveal") if e["user"] == USERS["ann"]["email"]]

    ask("Incident 24/1234: identify the vehicle for the warning letter")
    page.wait_for_timeout(2000)
    reveals = [e for e in entries(store, "reveal") if e["user"] == USERS["ann"]["email"]]
    assert len(reveals) == 1 and reveals[0]["reason"].startswith("Incident 24/1234")
    subject = reveals[0]["detail"]["subject"]
    expect(page.get_by_role("heading", name=subject, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "shared-reveal")
    context.close()
    assert_tampering_is_caught(store, tmp_path)


def assert_tampering_is_caught(store: Path, tmp_path: Path) -> None:
    """Alter the reason of the trail's reveal in a copy: ``audit verify`` names that entry.

    Run on the trail this module's browser sessions wrote (the fixture's store is
    created per browser, so this runs inside the test that made the reveal).
    """
    copy = tmp_path / "store"
    shutil.copytree(store / "audit", copy / "audit")

    def verify() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "geo.cli", "audit", "verify", "--data-dir",
                               str(copy)], cwd=REPO, capture_output=True, text=True, timeout=120)

    assert verify().returncode == 0
    trail = copy / "audit" / "audit.jsonl"
    lines = trail.read_text().splitlines()
    i = next(n for n, line in enumerate(lines) if json.loads(line)["action"] == "reveal")
    lines[i] = lines[i].replace("Incident 24/1234", "Incident 99/9999")
    trail.write_text("\n".join(lines) + "\n")
    out = verify()
    assert out.returncode == 1
    assert f"entry {i + 1} (line {i + 1}) was altered" in out.stdout
