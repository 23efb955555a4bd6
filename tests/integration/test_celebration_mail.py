"""The invitation to celebrate, by email, with a real store and the mail sink: the events
service's ``CelebrationInvited`` tells the school's coordinator, and nobody else, once
per invitation and session, however often the news comes; a waiting invitation sends
nothing; an invitation moved to another session is sent again, for the new date.

Fed as the events service publishes, through the real consumer (``World`` from
test_notifications); every test on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from shared.authority import Authority
from tests.components import Store
from tests.integration import ON_POSTGRES, mail_fixtures
from tests.integration.mail_fixtures import SinkProcess
from tests.integration.test_notifications import WHY, World, text

pytestmark = [pytest.mark.integration, ON_POSTGRES]  # see tests/integration/__init__.py
mail_sink = mail_fixtures.mail_sink  # the fixture, for pytest to find

URN, SCHOOL = "119501", "Willow Primary"
ANN = "ann.coordinator@willow.example.org"
SUBJECT = "You are invited to celebrate"
INVITATION = "0123456789ab"
EVENT = "c0ffee00c0ffee00c0ffee00c0ffee00"


@pytest.fixture
def world(store: Store, coventry: Authority, mail_sink: SinkProcess) -> World:
    w = World(store, coventry, mail_sink)
    w.register(URN, SCHOOL, "Ann Coordinator", ANN)
    w.send()
    w.new_mail()  # the registration email
    yield w
    w.close()


def invitation(session: str | None, date: str | None = None) -> dict:
    return {"event": EVENT, "invitation": INVITATION, "urn": URN, "school_year": "2026-27",
            "title": "Schools of Sanctuary presentation and celebration", "session": session,
            "date": date, "start": "18:00:00" if date else None, "end": "20:00:00" if date else None,
            "venue_status": "confirmed" if date else None, "venue": "Council House" if date else None}


def test_the_coordinator_is_invited_once(world: World, coventry: Authority) -> None:
    world.feed("events", "CelebrationInvitationWaiting",
               {**invitation(None), "application": "a1", "awarded_on": "2027-07-01"})
    world.send()
    assert world.new_mail() == []  # no date yet: nothing to say

    body = world.feed("events", "CelebrationInvited", invitation("celebration-1", "2027-10-08"))
    world.feed("events", "CelebrationInvited", invitation("celebration-1", "2027-10-08"))  # republished
    assert world.hear(body) is False  # redelivered
    world.send()
    [email] = world.new_mail()
    assert (email["To"], email["Subject"]) == (ANN, SUBJECT)
    plain = text(email)
    assert "Dear Ann Coordinator," in plain
    assert f"{SCHOOL}'s School of Sanctuary award" in plain
    assert "Friday 8 October 2027, 6pm to 8pm, Council House" in plain
    assert f"{WHY} you are your school's Schools of Sanctuary coordinator." in plain
    assert [e["kind"] for e in world.app.delivery_log()
            if e["kind"].startswith("celebration")] == ["celebration-invitation"]


def test_an_invitation_moved_to_another_session_is_sent_again(world: World) -> None:
    world.feed("events", "CelebrationInvited", invitation("celebration-1", "2027-10-08"))
    world.feed("events", "CelebrationInvited", invitation("celebration-2", "2028-03-01"))  # 1 cancelled
    world.send()
    mail = world.new_mail()
    assert [(m["To"], m["Subject"]) for m in mail] == [(ANN, SUBJECT)] * 2
    assert "Wednesday 1 March 2028" in text(mail[1])


def test_a_school_the_service_has_not_heard_of_is_not_written_to(world: World) -> None:
    world.feed("events", "CelebrationInvited", {**invitation("celebration-1", "2027-10-08"), "urn": "119599"})
    world.send()
    assert world.new_mail() == []
