"""The Accounts application on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.accounts.application import Accounts
from shared.access import Principal
from shared.clock import FixedClock
from shared.errors import Conflict, Forbidden, Unauthorized
from shared.personal import subject_for_email

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def sent() -> list:
    return []


@pytest.fixture
def accounts(store, clock, sent):
    app = Accounts(env=store.env("accounts"), secret_key="k" * 40, clock=clock,
                   send_link=lambda to, name, code: sent.append((to, name, code)))
    yield app
    app.close()


@pytest.fixture
def lead(accounts) -> Principal:
    view = accounts.invite(None, "lead@example.org", "Lena Lead", [{"role": "lead"}], actor="system:cli")
    return Principal(view["id"], "Lena Lead", frozenset({("lead", None)}))


def test_a_lead_invites_and_the_invitee_signs_in_by_link(accounts, lead, sent) -> None:
    accounts.invite(lead, "cora@school.org", "Cora", [{"role": "coordinator", "urn": "103712"}])
    accounts.request_sign_in("CORA@school.org ")
    accounts.request_sign_in("stranger@example.org")  # no account: silently nothing
    assert [(to, name) for to, name, _ in sent] == [("cora@school.org", "Cora")]
    session = accounts.sign_in(sent[0][2])["session"]
    principal = Principal.from_dict(accounts.authenticate(session))
    assert principal.has("coordinator", "103712") and principal.name == "Cora"
    with pytest.raises(Unauthorized):
        accounts.sign_in(sent[0][2])


def test_only_the_lead_invites(accounts, lead) -> None:
    cora = accounts.invite(lead, "cora@school.org", "Cora", [{"role": "coordinator", "urn": "103712"}])
    as_cora = Principal(cora["id"], "Cora", frozenset({("coordinator", "103712")}))
    with pytest.raises(Forbidden):
        accounts.invite(as_cora, "eve@example.org", "Eve", [{"role": "lead"}])
    with pytest.raises(Conflict):
        accounts.invite(lead, "Cora@School.org", "Cora again", [{"role": "lead"}])


def test_sessions_expire(accounts, lead, sent, clock, store) -> None:
    short = Accounts(env=store.env("accounts"), secret_key="k" * 40, clock=clock,
                     send_link=lambda *a: sent.append(a), session_lifetime=dt.timedelta(seconds=1))
    try:
        short.request_sign_in("lead@example.org")
        session = short.sign_in(sent[-1][2])["session"]
        assert short.authenticate(session)["account"] == lead.account
        import time

        time.sleep(2.1)  # itsdangerous measures age with the real clock
        with pytest.raises(Unauthorized, match="expired"):
            short.authenticate(session)
    finally:
        short.close()


def test_a_tampered_or_foreign_session_is_refused(accounts, lead, sent, store, clock) -> None:
    accounts.request_sign_in("lead@example.org")
    session = accounts.sign_in(sent[-1][2])["session"]
    tampered = session[:-2] + ("AA" if not session.endswith("AA") else "BB")
    with pytest.raises(Unauthorized):
        accounts.authenticate(tampered)
    other = Accounts(env=store.env("accounts"), secret_key="z" * 40, clock=clock)
    try:
        with pytest.raises(Unauthorized):
            other.authenticate(session)  # signed with another deployment's key
    finally:
        other.close()


def test_erasing_a_person_keeps_the_account_record_but_not_their_data(accounts, lead, sent) -> None:
    cora = accounts.invite(lead, "cora@school.org", "Cora", [{"role": "coordinator", "urn": "103712"}])
    result = accounts.erase_person(lead, [subject_for_email("cora@school.org")], "asked by email")
    assert result["subjects"] == [subject_for_email("cora@school.org")]
    view = accounts.account(lead, cora["id"])
    assert (view["name"], view["email"]) == ("[erased]", "[erased]")
    accounts.request_sign_in("cora@school.org")
    assert sent == []  # nobody to send to any more
