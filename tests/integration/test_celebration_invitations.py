"""The events application learning of awards (the applications service's ``Awarded``)
on a real store, SQLite and PostgreSQL: each award invites its school to the
authority's next celebration once, however often the news comes; an invitation with
no session to go to waits for the lead to schedule one; the school answers and the
lead sees the answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import uuid

import pytest

from services.events.application import Programme, invitation_id
from services.events.contract import EVENTS
from shared.authority import Authority
from shared.clock import FixedClock
from shared.consumer import consume
from shared.envelope import IntegrationEvent
from shared.errors import Conflict, NotFound
from tests.integration import ON_POSTGRES

pytestmark = ON_POSTGRES  # see tests/integration/__init__.py

NOW = dt.datetime(2027, 7, 1, 9, 0, tzinfo=dt.UTC)
AWARDED_ON = "2027-07-01"
LEAD = "account:lead"
COORDINATOR = "account:coordinator"
URN, OTHER_URN = "740601", "740602"
CODE = "celebration"
_positions = itertools.count(500)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def open_programme(store, coventry: Authority, clock: FixedClock):
    """Opens a Programme on the test's store, seeded as the service seeds it at start."""
    opened: list[Programme] = []

    def open_(authority: Authority = coventry) -> Programme:
        app = Programme(env=store.env("events"), authority=authority, clock=clock)
        app.seed()
        opened.append(app)
        return app

    yield open_
    for app in opened:
        app.close()


@pytest.fixture
def programme(open_programme) -> Programme:
    return open_programme()


def awarded(urn: str = URN, on: str = AWARDED_ON, application: str | None = None,
            position: int | None = None) -> dict:
    """The applications service's ``Awarded``, as the bus delivers it."""
    news = IntegrationEvent(
        id=str(uuid.uuid4()), type="Awarded", schema_version=1, origin="applications",
        position=position or next(_positions), occurred_at="2027-07-01T09:00:00+00:00",
        authority="coventry", actor=LEAD,
        payload={"application": application or str(uuid.uuid5(uuid.NAMESPACE_URL, urn)), "urn": urn,
                 "school_year": "2026-27", "outcome": "awarded", "on": on, "expires_on": "2030-07-01",
                 "evidence_due": None})
    return news.to_dict()


def stored(app: Programme) -> int:
    return app.recorder.max_notification_id() or 0


def published(app: Programme, after: int = 0) -> list[IntegrationEvent]:
    """What the relay would publish from the log after ``after``."""
    found = []
    for notification in app.recorder.select_notifications(start=after + 1, limit=1000):
        envelope = EVENTS.envelope(app.mapper.to_domain_event(notification), notification.id, "coventry")
        if envelope is not None:
            found.append(envelope)
    return found


def add_session(app: Programme, day: dt.date) -> str:
    before = {s["id"] for s in app.event(CODE)["sessions"]}
    view = app.add_session(LEAD, CODE, date=day, start=dt.time(18), end=dt.time(20))
    [added] = [s["id"] for s in view["sessions"] if s["id"] not in before]
    return added


def test_an_award_invites_the_school_once_however_often_it_is_heard(programme: Programme,
                                                                    open_programme) -> None:
    session = add_session(programme, dt.date(2027, 10, 8))
    body = awarded()
    assert consume(programme, body, programme.learn_award) is True
    position = stored(programme)
    assert consume(programme, body, programme.learn_award) is False  # redelivered
    other_instance = open_programme()
    assert consume(other_instance, body, other_instance.learn_award) is False  # to another instance
    assert stored(programme) == position
    [invitation] = programme.invitations(URN)
    assert (invitation["id"], invitation["session"], invitation["status"]) == (
        invitation_id(body["payload"]["application"]), session, "invited")
    assert (invitation["date"], invitation["awarded_on"]) == (dt.date(2027, 10, 8), dt.date(2027, 7, 1))
    assert [e.type for e in published(programme, position - 1)] == ["CelebrationInvited"]


def test_the_same_award_heard_at_another_position_is_still_one_invitation(programme: Programme) -> None:
    add_session(programme, dt.date(2027, 10, 8))
    application = str(uuid.uuid4())
    assert consume(programme, awarded(application=application), programme.learn_award) is True
    before = stored(programme)
    # e.g. a consumer rebuilt and the award replayed under a new position: tracked, nothing new
    assert consume(programme, awarded(application=application), programme.learn_award) is True
    assert len(programme.invitations(URN)) == 1
    assert published(programme, before) == []


def test_with_no_session_the_invitation_waits_until_the_lead_schedules_one(programme: Programme) -> None:
    start = stored(programme)
    assert consume(programme, awarded(), programme.learn_award) is True
    [waiting] = programme.invitations(URN)
    assert (waiting["session"], waiting["status"], waiting["date"]) == (None, "waiting", None)
    with pytest.raises(Conflict):
        programme.answer_invitation(COORDINATOR, URN, "2026-27", True)

    add_session(programme, dt.date(2027, 6, 20))  # before the award: not the school's celebration
    assert programme.invitations(URN)[0]["status"] == "waiting"
    session = add_session(programme, dt.date(2027, 10, 8))
    [invited] = programme.invitations(URN)
    assert (invited["session"], invited["status"], invited["date"]) == (
        session, "invited", dt.date(2027, 10, 8))
    kinds = [e.type for e in published(programme, start)]
    assert kinds == ["CelebrationInvitationWaiting", "SessionScheduled", "SessionScheduled",
                     "CelebrationInvited"]
    news = published(programme, start)[-1]
    assert (news.payload["urn"], news.payload["session"], news.payload["date"]) == (
        URN, session, "2027-10-08")
    assert news.actor == "system:celebrations"


def test_a_confirmed_tbc_date_sends_the_waiting_invitations(programme: Programme) -> None:
    consume(programme, awarded(), programme.learn_award)
    [placeholder] = [s["id"] for s in programme.event(CODE)["sessions"]]  # configured "date TBC"
    programme.reschedule(LEAD, CODE, placeholder, date=dt.date(2027, 11, 12), start=dt.time(18),
                         end=dt.time(20))
    [invited] = programme.invitations(URN)
    assert (invited["session"], invited["status"]) == (placeholder, "invited")


def test_the_school_answers_and_the_lead_sees_it(programme: Programme) -> None:
    session = add_session(programme, dt.date(2027, 10, 8))
    programme.set_venue(LEAD, CODE, session, "online", joining_link="https://meet.example.org/celebrate")
    consume(programme, awarded(), programme.learn_award)
    consume(programme, awarded(urn=OTHER_URN), programme.learn_award)
    [mine] = programme.invitations(URN)
    assert mine["joining_link"] is None  # only once accepted
    with pytest.raises(NotFound):
        programme.answer_invitation(COORDINATOR, URN, "2025-26", True)  # no award that year
    answered = programme.answer_invitation(COORDINATOR, URN, "2026-27", True)
    assert answered["id"] == mine["id"]
    assert (answered["status"], answered["answered_by"]) == ("accepted", COORDINATOR)
    assert answered["joining_link"] == "https://meet.example.org/celebrate"
    seen = {i["urn"]: i["status"] for i in programme.celebration_invitations(CODE)}
    assert seen == {URN: "accepted", OTHER_URN: "invited"}
    assert programme.event(CODE)["sessions"][-1]["places_taken"] == 1
    assert "invitations" not in programme.event(CODE)  # the public listing names no school
    with pytest.raises(NotFound):
        programme.celebration_invitations("network-meeting")


def test_an_authority_without_a_celebration_invites_nobody(coventry: Authority, open_programme) -> None:
    plain = dataclasses.replace(coventry, cpd=tuple(i for i in coventry.cpd if i.kind != "celebration"))
    app = open_programme(plain)
    before = stored(app)
    assert consume(app, awarded(), app.learn_award) is True  # tracked all the same
    assert stored(app) == before and app.invitations(URN) == []
