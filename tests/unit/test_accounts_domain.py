"""The Account aggregate in memory: grants, one-time links, tokens, sessions."""

from __future__ import annotations

import datetime as dt

import pytest

from services.accounts.domain import LINK_LIFETIME, Account, SignInMail, check_grant, digest
from services.accounts.link_seal import LinkSeal
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


def test_links_are_counted_over_the_last_hour_and_older_ones_forgotten() -> None:
    a = account()
    for n in range(5):
        assert a.may_have_link(NOW + dt.timedelta(minutes=n), per_hour=5)
        a.issue_link(f"l{n}", "s", NOW + dt.timedelta(minutes=n))
    assert not a.may_have_link(NOW + dt.timedelta(minutes=59), per_hour=5)
    assert a.may_have_link(NOW + dt.timedelta(minutes=61), per_hour=5)
    a.issue_link("later", "s", NOW + dt.timedelta(hours=3))
    assert list(a.links) == ["later"]  # the old ones can neither work nor count any more


def test_a_closed_account_gets_no_link() -> None:
    a = account()
    a.close("account:lead")
    assert not a.may_have_link(NOW, per_hour=5)


def test_one_session_ends_and_is_forgotten_once_it_would_have_expired() -> None:
    a = account()
    a.sign_out("s1", until=NOW + dt.timedelta(hours=8), now=NOW, actor="account:ann")
    assert a.session_ended("s1") and not a.session_ended("s2")
    a.sign_out("s2", until=NOW + dt.timedelta(hours=17), now=NOW + dt.timedelta(hours=9),
               actor="account:ann")
    assert list(a.ended_sessions) == ["s2"]  # s1 has expired anyway
    a.sign_out_everywhere("account:ann")
    assert a.ended_sessions == {}


def email(now=NOW) -> SignInMail:
    return SignInMail(account="a", link_id="l1", to="ann@example.org", name="Ann", sealed_code="x",
                      expires_at=now + LINK_LIFETIME, at=now)


def test_a_sign_in_email_is_retried_until_its_link_expires() -> None:
    mail = email()
    assert not mail.due(NOW)  # claimed by the request that recorded it
    mail.failed(NOW, "SMTP 421", permanent=False)
    assert mail.status == "pending" and not mail.due(NOW) and mail.due(NOW + dt.timedelta(seconds=15))
    mail.claim(NOW + dt.timedelta(seconds=15))
    with pytest.raises(Conflict):
        mail.claim(NOW + dt.timedelta(seconds=16))
    mail.failed(NOW + dt.timedelta(minutes=29, seconds=45), "SMTP 421", permanent=False)
    assert mail.finished and mail.status == "given_up"  # the next try would come too late


def test_a_permanent_failure_is_not_retried_and_a_dead_senders_claim_goes_stale() -> None:
    mail = email()
    assert mail.due(NOW + dt.timedelta(minutes=2))
    mail.failed(NOW, "SMTP 550", permanent=True)
    assert mail.finished


def test_a_sealed_code_opens_only_with_its_key_and_link() -> None:
    seal = LinkSeal("k" * 40)
    sealed = seal.seal("acc.l1.secret", "l1")
    assert "secret" not in sealed and seal.unseal(sealed, "l1") == "acc.l1.secret"
    with pytest.raises(Exception):  # noqa: B017,PT011 - cryptography's InvalidTag
        LinkSeal("z" * 40).unseal(sealed, "l1")
    with pytest.raises(Exception):  # noqa: B017,PT011
        seal.unseal(sealed, "l2")
