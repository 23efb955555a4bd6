"""The Account aggregate in memory: grants, one-time links, tokens, sessions."""

from __future__ import annotations

import datetime as dt

import pytest

from services.accounts.domain import LINK_LIFETIME, Account, check_grant, digest
from shared.errors import Conflict, Invalid, Unauthorized

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def account(grants=(("coordinator", "103712"),)) -> Account:
    return Account(email_key=digest("ann@example.org"), email="ann@example.org", name="Ann",
                   grants=[list(g) for g in grants], actor="account:lead")


def test_a_link_works_once_and_only_its_secret_works() -> None:
    a = account()
    a.issue_link("l1", "secret", NOW)
    with pytest.raises(Unauthorized):
        a.use_link("l1", "wrong", NOW)
    a.use_link("l1", "secret", NOW)
    with pytest.raises(Unauthorized):
        a.use_link("l1", "secret", NOW)


def test_a_link_expires() -> None:
    a = account()
    a.issue_link("l1", "secret", NOW)
    with pytest.raises(Unauthorized):
        a.use_link("l1", "secret", NOW + LINK_LIFETIME)


def test_only_hashes_are_kept() -> None:
    a = account()
    a.issue_link("l1", "link-secret", NOW)
    a.issue_token("t1", "token-secret", "script", "account:ann")
    stored = repr([vars(e) for e in a.collect_events()])
    assert "link-secret" not in stored and "token-secret" not in stored


def test_tokens_match_until_revoked() -> None:
    a = account()
    a.issue_token("t1", "s", "script", "account:ann")
    assert a.token_matches("t1", "s") and not a.token_matches("t1", "x")
    a.revoke_token("t1", "account:ann")
    assert not a.token_matches("t1", "s")
    with pytest.raises(Conflict):
        a.revoke_token("t1", "account:ann")


def test_losing_a_role_or_closing_ends_sessions() -> None:
    a = account()
    epoch = a.session_epoch
    a.grant("panel_member", None, "account:lead")
    assert a.session_epoch == epoch  # gaining a power needs no new session
    a.revoke("panel_member", None, "account:lead")
    assert a.session_epoch == epoch + 1
    a.close("account:lead")
    assert a.session_epoch == epoch + 2
    assert not a.token_matches("t1", "s")


@pytest.mark.parametrize(("role", "urn", "field"), [
    ("coordinator", None, "urn"), ("coordinator", "12", "urn"), ("lead", "103712", "urn"),
    ("admin", None, "role"),
])
def test_grants_are_checked(role, urn, field) -> None:
    with pytest.raises(Invalid) as refused:
        check_grant(role, urn)
    assert field in refused.value.fields
