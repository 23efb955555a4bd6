"""The gateway's principal cache (services/gateway/principals.py), one class, a fake clock."""

from __future__ import annotations

import pytest

from services.gateway.principals import PrincipalCache
from shared.errors import Unauthorized

ANNE = {"account": "a" * 32, "name": "Anne", "grants": [["lead", None]]}
BEN = {"account": "b" * 32, "name": "Ben", "grants": []}


class Accounts:
    """Stands in for the accounts service's authenticate: counts the questions."""

    def __init__(self, answers: dict[str, dict]) -> None:
        self.answers = answers
        self.left: dict[str, float] = {}  # seconds a session has left
        self.asked: list[str] = []

    def authenticate(self, credential: str) -> tuple[dict, float | None]:
        self.asked.append(credential)
        if credential not in self.answers:
            raise Unauthorized("not valid")
        return self.answers[credential], self.left.get(credential)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts() -> Accounts:
    return Accounts({"s:anne-session": ANNE, "t:anne-token": ANNE, "t:ben-token": BEN})


def test_a_principal_is_asked_for_once_then_remembered(clock: Clock, accounts: Accounts) -> None:
    cache = PrincipalCache(ttl=30, clock=clock)
    assert cache.principal("t:anne-token", accounts.authenticate) == ANNE
    assert cache.principal("t:anne-token", accounts.authenticate) == ANNE
    assert accounts.asked == ["t:anne-token"]


def test_it_is_asked_for_again_once_its_time_is_up(clock: Clock, accounts: Accounts) -> None:
    cache = PrincipalCache(ttl=30, clock=clock)
    cache.principal("t:anne-token", accounts.authenticate)
    clock.now += 29.9
    cache.principal("t:anne-token", accounts.authenticate)
    clock.now += 0.2
    cache.principal("t:anne-token", accounts.authenticate)
    assert accounts.asked == ["t:anne-token", "t:anne-token"]


def test_a_session_is_not_remembered_past_its_own_end(clock: Clock, accounts: Accounts) -> None:
    cache = PrincipalCache(ttl=30, clock=clock)
    accounts.left["s:anne-session"] = 2.0
    cache.principal("s:anne-session", accounts.authenticate)
    clock.now += 1.9
    cache.principal("s:anne-session", accounts.authenticate)
    clock.now += 0.2
    accounts.left["s:anne-session"] = 0.0  # ended just now: answered, but not remembered
    cache.principal("s:anne-session", accounts.authenticate)
    cache.principal("s:anne-session", accounts.authenticate)
    assert accounts.asked == ["s:anne-session"] * 3


def test_a_refusal_is_raised_and_never_remembered(clock: Clock, accounts: Accounts) -> None:
    cache = PrincipalCache(clock=clock)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            cache.principal("t:forged", accounts.authenticate)
    assert accounts.asked == ["t:forged", "t:forged"] and len(cache) == 0


def test_forgetting_an_account_forgets_each_of_its_credentials_only(clock: Clock, accounts: Accounts) -> None:
    cache = PrincipalCache(clock=clock)
    for credential in ("s:anne-session", "t:anne-token", "t:ben-token"):
        cache.principal(credential, accounts.authenticate)
    cache.forget_account(ANNE["account"])
    accounts.asked.clear()
    for credential in ("s:anne-session", "t:anne-token", "t:ben-token"):
        cache.principal(credential, accounts.authenticate)
    assert accounts.asked == ["s:anne-session", "t:anne-token"]


def test_a_revoked_token_is_refused_at_once_after_forgetting(clock: Clock, accounts: Accounts) -> None:
    cache = PrincipalCache(clock=clock)
    cache.principal("t:anne-token", accounts.authenticate)
    del accounts.answers["t:anne-token"]  # revoked in the accounts service
    cache.forget_all()
    with pytest.raises(Unauthorized):
        cache.principal("t:anne-token", accounts.authenticate)


def test_an_answer_that_set_out_before_a_forgetting_is_not_kept(clock: Clock, accounts: Accounts) -> None:
    cache = PrincipalCache(clock=clock)

    def revoked_while_asking(credential: str) -> tuple[dict, float | None]:
        answer = accounts.authenticate(credential)  # the old principal, read before the revocation
        cache.forget_account(ANNE["account"])  # the revocation's event arrives meanwhile
        return answer

    assert cache.principal("t:anne-token", revoked_while_asking) == ANNE
    cache.principal("t:anne-token", accounts.authenticate)
    assert accounts.asked == ["t:anne-token", "t:anne-token"]


def test_the_least_recently_used_goes_first_when_full(clock: Clock, accounts: Accounts) -> None:
    cache = PrincipalCache(size=2, clock=clock)
    cache.principal("s:anne-session", accounts.authenticate)
    cache.principal("t:anne-token", accounts.authenticate)
    cache.principal("s:anne-session", accounts.authenticate)  # used again: now the newest
    cache.principal("t:ben-token", accounts.authenticate)  # the anne token goes
    accounts.asked.clear()
    cache.principal("s:anne-session", accounts.authenticate)
    cache.principal("t:anne-token", accounts.authenticate)
    assert len(cache) == 2 and accounts.asked == ["t:anne-token"]


def test_credentials_are_not_kept_as_they_are(clock: Clock, accounts: Accounts) -> None:
    cache = PrincipalCache(clock=clock)
    cache.principal("t:anne-token", accounts.authenticate)
    assert "t:anne-token" not in repr(vars(cache))
