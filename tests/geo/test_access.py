"""Roles, reveals and ANPR windows (geo.access): known answers."""

from __future__ import annotations

import pytest
from factories import T

from geo.access import (
    ADMIN,
    ANALYST,
    VIEWER,
    Identity,
    RoleMap,
    active_grants,
    grant,
    has_role,
    identity_from_claims,
    parse_role_map,
    reads_shown_from,
    retention_cutoff,
    revealed_subjects,
    role_of,
    with_user_role,
)
from geo.errors import AccessDenied, InputError

NOW = T("2025-03-10 14:00")


def test_role_from_claim_value_or_entra_app_role():
    assert role_of("a@x", ["analyst"], RoleMap()) == ANALYST
    assert role_of("a@x", ["Harewatch.Admin"], RoleMap()) == ADMIN
    assert role_of("a@x", ["viewer", "analyst"], RoleMap()) == ANALYST  # highest wins


def test_role_from_group_id_mapped_in_the_roles_file():
    rm = parse_role_map({"groups": {"6f1c-guid": "viewer"}})
    assert role_of("a@x", ["6f1c-guid", "unrelated"], rm) == VIEWER
    assert role_of("a@x", ["unrelated"], rm) is None


def test_roles_file_entry_overrides_claims_and_none_blocks():
    rm = parse_role_map({"users": {"Bob@Force.Example": "none", "carol@force.example": "viewer"}})
    assert role_of("bob@force.example", ["admin"], rm) is None
    assert role_of("carol@force.example", ["admin"], rm) == VIEWER


def test_unknown_user_has_no_identity():
    assert identity_from_claims({"email": "x@y.example", "roles": []}, RoleMap()) is None
    assert identity_from_claims({"roles": ["analyst"]}, RoleMap()) is None  # nobody to name


def test_identity_uses_the_configured_claim_and_entra_username():
    claims = {"preferred_username": "Dee@Essex.Example", "groups": ["g1"], "name": "Dee"}
    who = identity_from_claims(claims, parse_role_map({"groups": {"g1": "analyst"}}), "groups")
    assert who == Identity("dee@essex.example", ANALYST, "Dee")
    assert identity_from_claims(claims, RoleMap(), "roles") is None


@pytest.mark.parametrize("bad", [[], {"users": {"a": "superuser"}}, {"users": "x"}, {"other": {}}])
def test_bad_roles_file_is_refused(bad):
    with pytest.raises(InputError):
        parse_role_map(bad)


def test_with_user_role_is_a_copy():
    rm = RoleMap(users={"a@x": "viewer"})
    new = with_user_role(rm, "B@X", "admin")
    assert rm.users == {"a@x": "viewer"} and new.users == {"a@x": "viewer", "b@x": "admin"}
    assert with_user_role(new, "a@x", None).users == {"b@x": "admin"}


def test_has_role_ranks():
    assert has_role(Identity("a", ADMIN), ANALYST) and not has_role(Identity("a", VIEWER), ANALYST)


def test_viewer_cannot_reveal():
    with pytest.raises(AccessDenied):
        grant(Identity("v@x", VIEWER), "reveal", "a good long reason", now=NOW, minutes=15,
              subject="AB12CDE", subject_kind="plate")


@pytest.mark.parametrize("reason", ["", "   ", "short"])
def test_reveal_needs_a_reason(reason):
    with pytest.raises(InputError, match="reason"):
        grant(Identity("a@x", ANALYST), "reveal", reason, now=NOW, minutes=15,
              subject="AB12CDE", subject_kind="plate")


def test_reveal_expires():
    g = grant(Identity("a@x", ANALYST), "reveal", "incident 24/1234 follow-up", now=NOW, minutes=15,
              subject="AB12CDE", subject_kind="plate")
    assert g.expires_at == T("2025-03-10 14:15")
    assert revealed_subjects([g], T("2025-03-10 14:14")) == {"AB12CDE"}
    assert revealed_subjects([g], T("2025-03-10 14:15")) == frozenset()
    assert active_grants([g], NOW, "old_reads") == ()


def test_retention_cutoff_rounds_towards_hiding_more():
    assert retention_cutoff(NOW, 365) == T("2024-03-11")  # next midnight - 365 days
    with pytest.raises(InputError):
        retention_cutoff(NOW, 0)


def test_reads_window_needs_authorisation_past_90_days():
    assert reads_shown_from(NOW, keep_days=365, authorise_after_days=90, authorised=False) == T("2024-12-11")
    assert reads_shown_from(NOW, keep_days=365, authorise_after_days=90, authorised=True) == T("2024-03-11")


def test_drop_reads_before_is_a_copy_and_drops_unknown_times():
    from factories import read_rows

    from geo.access import drop_reads_before

    reads = read_rows([("AB12CDE", "2025-01-01"), ("AB12CDE", "2025-03-01")], ["vrm", "read_at"])
    reads.loc[1, "read_at"] = None
    kept = drop_reads_before(reads, T("2024-12-31"))
    assert list(kept.index) == [0] and len(reads) == 2
    assert drop_reads_before(reads, None) is reads and drop_reads_before(None, NOW) is None


def test_access_settings_from_the_environment_round_trip():
    from geo._config import Settings

    s = Settings.from_env({"HAREWATCH_AUTH": "1", "HAREWATCH_ROLES_CLAIM": "groups",
                           "HAREWATCH_REVEAL_MINUTES": "5", "HAREWATCH_ANPR_KEEP_DAYS": "200",
                           "HAREWATCH_ANPR_AUTHORISE_AFTER_DAYS": "300",
                           "HAREWATCH_ROLES_FILE": "/srv/roles.json"})
    assert (s.auth, s.roles_claim, s.reveal_minutes, s.anpr_keep_days) == (True, "groups", 5.0, 200)
    assert s.anpr_authorise_after_days == 200  # never beyond retention
    assert str(s.roles_path) == "/srv/roles.json" and s.audit_dir == s.data_dir / "audit"
    assert Settings.from_env(s.to_env()) == s
    local = Settings.from_env({"HAREWATCH_ANPR_KEEP_DAYS": "-3", "HAREWATCH_REVEAL_MINUTES": "inf"})
    assert (local.auth, local.anpr_keep_days, local.reveal_minutes) == (False, 365, 15.0)
