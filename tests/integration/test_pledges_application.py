"""The Pledges application on a real store: the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from services.pledges.application import Pledges
from shared.authority import Authority
from shared.clock import FixedClock
from shared.errors import Conflict, NotFound
from tests.integration import ON_POSTGRES

pytestmark = ON_POSTGRES  # see tests/integration/__init__.py

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
CONTACT = {"name": "Ann Coordinator", "email": "ann@example.org"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def pledges(store, coventry: Authority, clock: FixedClock) -> Pledges:
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    yield app
    app.close()


def register(app: Pledges, urn: str = "103712", name: str = "Hill Primary") -> dict:
    return app.register_school("lead", urn, name, "primary", "CV1 2AB", CONTACT)


def pledge(app: Pledges, urn: str = "103712") -> dict:
    app.express_interest("lead", urn)
    app.record_commitment("lead", urn, "slt", "Ms Head", "Head teacher")
    app.record_commitment("lead", urn, "governors", "Mr Chair", "Chair of governors")
    return app.sign_pledge("coordinator", urn, "Ms Head", "Head teacher")


def test_register_and_sign(pledges: Pledges) -> None:
    register(pledges)
    view = pledge(pledges)
    assert view["status"] == "signed"
    assert view["pledge"]["signed_on"] == dt.date(2026, 11, 23)
    assert view["pledge"]["lapses_on"] == dt.date(2029, 11, 23)
    assert pledges.school("103712") == view


def test_a_duplicate_urn_is_refused_and_nothing_is_stored(pledges: Pledges) -> None:
    register(pledges)
    before = pledges.recorder.max_notification_id()
    with pytest.raises(Conflict) as refused:
        register(pledges, name="Another school")
    assert refused.value.field == "urn"
    assert pledges.recorder.max_notification_id() == before
    assert pledges.school("103712")["name"] == "Hill Primary"


def test_signing_twice_stores_nothing(pledges: Pledges) -> None:
    register(pledges)
    pledge(pledges)
    before = pledges.recorder.max_notification_id()
    with pytest.raises(Conflict):
        pledges.sign_pledge("coordinator", "103712", "Ms Head", "Head teacher")
    assert pledges.recorder.max_notification_id() == before


def test_an_unknown_school_is_not_found(pledges: Pledges) -> None:
    with pytest.raises(NotFound):
        pledges.school("999999")
    with pytest.raises(NotFound):
        pledges.express_interest("lead", "999999")


def test_schools_by_status_as_of_today(pledges: Pledges, clock: FixedClock) -> None:
    register(pledges, "100001", "Alder School")
    register(pledges, "100002", "Birch School")
    register(pledges, "100003", "Cedar School")
    pledge(pledges, "100001")
    pledges.express_interest("lead", "100002")
    assert [s["urn"] for s in pledges.schools()] == ["100001", "100002", "100003"]
    assert [s["urn"] for s in pledges.schools("signed")] == ["100001"]
    assert [s["urn"] for s in pledges.schools("interested")] == ["100002"]
    assert [s["urn"] for s in pledges.schools("registered")] == ["100003"]
    clock.advance(days=3 * 366)
    assert [s["urn"] for s in pledges.schools("lapsed")] == ["100001"]


def test_history_names_each_change_its_actor_and_time(pledges: Pledges) -> None:
    register(pledges)
    pledge(pledges)
    history = pledges.history("103712")
    assert [h["event"] for h in history] == [
        "Registered", "InterestExpressed", "CommitmentRecorded", "CommitmentRecorded", "PledgeSigned"]
    assert [h["actor"] for h in history] == ["lead"] * 4 + ["coordinator"]
    assert history[-1]["details"]["signed_by"] == "Ms Head"
    assert all(h["at"].tzinfo is not None for h in history)


def test_state_survives_a_restart(store, coventry: Authority, clock: FixedClock) -> None:
    first = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    register(first)
    pledge(first)
    first.close()
    second = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    try:
        assert second.school("103712")["status"] == "signed"
        assert [s["urn"] for s in second.schools("signed")] == ["103712"]
    finally:
        second.close()


def test_one_instance_sees_another_instances_writes(store, coventry: Authority,
                                                    clock: FixedClock) -> None:
    """Two instances of the service share a store; the read model follows the log."""
    one = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    two = Pledges(env=store.env("pledges"), rules=coventry.pledge, clock=clock)
    try:
        assert two.schools() == []
        register(one)
        assert [s["urn"] for s in two.schools()] == ["103712"]
    finally:
        one.close()
        two.close()
