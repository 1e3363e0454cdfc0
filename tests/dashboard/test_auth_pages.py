"""Shared mode (HAREWATCH_AUTH=1) without a browser: login gate, roles, masking that the URL
cannot undo, reveals with reasons, and the audit of what each user saw (AppTest, ``at.user``
standing in for the OIDC login; the real login is in tests/e2e/test_login.py)."""

from __future__ import annotations

import json

import pytest
from _apptest import new_app, rendered_bytes

from geo.io.audit import read_entries, verify_trail

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret-not-used-here",
    "client_id": "harewatch",
    "client_secret": "test",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}
VIEWER = {"is_logged_in": True, "email": "vic.viewer@essex.example", "roles": ["viewer"]}
ANALYST = {"is_logged_in": True, "email": "ann.analyst@essex.example", "roles": ["Harewatch.Analyst"]}
ADMIN = {"is_logged_in": True, "email": "ada.admin@essex.example", "roles": ["admin"]}


@pytest.fixture(scope="module")
def shared_env(boundaries_path, tmp_path_factory, areas):
    """Shared mode on an empty store (demo data); yields (store, every demo plate)."""
    from geo.datasets.demo import load_or_demo

    store = tmp_path_factory.mktemp("shared_store")
    mp = pytest.MonkeyPatch()
    for k, v in {"HAREWATCH_BOUNDARIES": str(boundaries_path), "HAREWATCH_DATA_DIR": str(store),
                 "HAREWATCH_NO_FETCH": "1", "HAREWATCH_AUTH": "1"}.items():
        mp.setenv(k, v)
    inc, sig, _ = load_or_demo(store, areas)
    plates = {p for p in sig["vrm"].astype(str) if len(p) >= 5}
    yield store, plates
    mp.undo()


def shared_app(user: dict | None, **query: str):
    at = new_app(**query)
    at.secrets["auth"] = AUTH
    at.user = user if user is not None else {"is_logged_in": False}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _page_titles(at) -> list[str]:
    """Titles of the pages ``st.navigation`` offered in the last run (none without it)."""
    pages = getattr(at, "_registered_pages", {}) or {}
    return [str(info.get("page_name")) for info in pages.values() if "url_pathname" in info]


def entries(store, action=None):
    return [e for e in read_entries(store / "audit") if action is None or e["action"] == action]


def test_nothing_but_a_login_button_before_login(shared_env):
    store, plates = shared_env
    at = shared_app(None, redact="0", season="2021-22")
    assert [t.value for t in at.title] == ["Harewatch"]
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.metric and not at.dataframe and not at.sidebar.children
    body = rendered_bytes(at)
    assert not any(p.encode() in body for p in plates)
    assert _page_titles(at) == []  # no page list either


def test_a_page_url_before_login_shows_nothing_either(shared_env):
    at = new_app()
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    at.switch_page("app_pages/hoppers.py")
    at.run()
    assert [t.value for t in at.title] == ["Harewatch"] and not at.dataframe


def test_shared_mode_without_auth_secrets_refuses(shared_env):
    at = new_app()
    at.user = dict(VIEWER)
    at.run()
    assert any("secrets.toml" in e.value for e in at.error)
    assert not at.metric and not at.dataframe


def test_unknown_user_gets_no_access_and_is_recorded(shared_env):
    store, _ = shared_env
    at = shared_app({"is_logged_in": True, "email": "stranger@elsewhere.example", "roles": []})
    assert [t.value for t in at.title] == ["No access"]
    assert not at.metric and not at.dataframe and _page_titles(at) == []
    assert any(e["user"] == "stranger@elsewhere.example" for e in entries(store, "denied"))


def test_viewer_pages_and_masking_the_url_cannot_undo(shared_env):
    store, plates = shared_env
    at = shared_app(dict(VIEWER), redact="0", briefing="0")
    assert _page_titles(at) == ["Map", "Hotspots", "Plan", "Trends", "Briefing"]
    toggle = at.sidebar.toggle(key="w_redact")
    assert toggle.value is True and toggle.disabled
    at.session_state["w_redact"] = False  # a hostile client sends "off" for the disabled toggle
    at.run()
    assert at.sidebar.toggle(key="w_redact").value is True
    assert not any(p.encode() in rendered_bytes(at) for p in plates)
    views = entries(store, "view")
    assert views and views[-1]["user"] == VIEWER["email"]
    assert views[-1]["detail"]["page"] == "Map" and views[-1]["detail"]["filters"]["redact"] == "1"


def test_viewer_cannot_open_analyst_pages_by_url(shared_env):
    at = new_app(redact="0")
    at.secrets["auth"] = AUTH
    at.user = dict(VIEWER)
    at.switch_page("app_pages/hoppers.py")
    at.run()
    assert "Border-hoppers" not in [t.value for t in at.title]


def test_login_and_view_are_recorded_before_the_page(shared_env):
    store, _ = shared_env
    shared_app(dict(ANALYST))
    logins = [e for e in entries(store, "login") if e["user"] == ANALYST["email"]]
    assert logins and logins[-1]["detail"]["role"] == "analyst"
    assert verify_trail(store / "audit").ok


def _reveal_page(user):
    at = shared_app(user)
    at.switch_page("app_pages/reveal.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_analyst_reveal_needs_a_reason_then_shows_the_subject_and_is_audited(shared_env):
    store, plates = shared_env
    at = _reveal_page(dict(ANALYST))
    before = len(entries(store, "reveal"))
    at.selectbox(key="reveal_subject").select_index(0)
    at.text_input(key="reveal_reason").input("x")
    at.get("form_submit_button")[0].click().run()
    assert any("reason" in e.value for e in at.error)
    assert len(entries(store, "reveal")) == before

    at.selectbox(key="reveal_subject").select_index(0)
    at.text_input(key="reveal_reason").input("Incident 24/1234: identify the vehicle for the warning")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    new = entries(store, "reveal")[before:]
    assert len(new) == 1 and new[0]["user"] == ANALYST["email"]
    assert new[0]["reason"].startswith("Incident 24/1234")
    subject = new[0]["detail"]["subject"]
    assert subject in [h.value for h in at.subheader]


def test_downloads_are_audited_with_what_they_held(shared_env):
    store, _ = shared_env
    at = shared_app(dict(ANALYST))
    at.switch_page("app_pages/hoppers.py")
    at.run()
    button = [b for b in at.get("download_button") if b.label == "Download this list (CSV)"][0]
    assert button.proto.deferred_file_id or button.proto.url  # made on click, not before
    ctx = at.session_state["_harewatch_ctx"]
    make = ctx.download({"file": "x.csv", "masked": True}, lambda: b"data")
    assert make() == b"data"
    last = entries(store, "download")[-1]
    assert last["user"] == ANALYST["email"] and last["detail"] == {"file": "x.csv", "masked": True}


def test_admin_sees_the_audit_and_changes_a_role(shared_env):
    store, _ = shared_env
    at = shared_app(dict(ADMIN))
    assert _page_titles(at)[-3:] == ["Reveal", "Audit", "Users and retention"]
    at.switch_page("app_pages/audit.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("intact" in s.value for s in at.success)
    at.switch_page("app_pages/access.py")
    at.run()
    at.text_input(key="role_email").input("New.Analyst@essex.example")
    at.selectbox(key="role_value").select("analyst")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    roles = json.loads((store / "access" / "roles.json").read_text())
    assert roles["users"]["new.analyst@essex.example"] == "analyst"
    change = entries(store, "role_change")[-1]
    assert change["user"] == ADMIN["email"] and change["detail"]["to"] == "analyst"


def test_an_unwritable_audit_shows_nothing(boundaries_path, tmp_path, monkeypatch):
    store = tmp_path / "store"
    store.mkdir()
    (store / "audit").write_text("not a folder")
    for k, v in {"HAREWATCH_BOUNDARIES": str(boundaries_path), "HAREWATCH_DATA_DIR": str(store),
                 "HAREWATCH_NO_FETCH": "1", "HAREWATCH_AUTH": "1"}.items():
        monkeypatch.setenv(k, v)
    at = shared_app(dict(ANALYST))
    assert any("audit trail cannot be written" in e.value for e in at.error)
    assert not at.metric and not at.dataframe
