"""The lead told of what waits for them, with a real store, the mail sink and a real
accounts application (the lead is greeted by name): a school asking for a catch-up, and the
meeting's proposal, acceptance or refusal reaching the other side; a school answering the
panel's feedback; an offered CPD place lapsing unclaimed; and, where the authority chooses,
all of it in one digest a day instead.

News is fed as the events and applications services publish it, through the real consumer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from shared.authority import Authority, LeadMail
from shared.schema import jsonable
from tests.components import Store
from tests.integration import ON_POSTGRES, mail_fixtures
from tests.integration.mail_fixtures import SinkProcess
from tests.integration.people import AccountsInProcess
from tests.integration.test_notifications import (
    ANN,
    DUE,
    HILL,
    HILL_APP,
    NETWORK_EVENT,
    NETWORK_TITLE,
    OAK,
    WHY,
    World,
    calendar_of,
    text,
)

pytestmark = [pytest.mark.integration, ON_POSTGRES]  # see tests/integration/__init__.py
mail_sink = mail_fixtures.mail_sink  # the fixture, for pytest to find

LEAD_EMAIL = "lena.lead@coventry.example.org"
REQUEST = "5a1e0c3b-0000-4000-8000-00000000c001"


def lead_world(store: Store, authority: Authority, sink: SinkProcess) -> World:
    w = World(store, authority, sink)
    w.people = AccountsInProcess(store)
    w.people.add(LEAD_EMAIL, "Lena Lead", "lead")
    w.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    w.register(OAK, "Oak Academy", "Olu Coordinator", "olu@oak.example.org")
    w.send()
    w.new_mail()
    return w


@pytest.fixture
def world(store: Store, coventry: Authority, mail_sink: SinkProcess) -> Iterator[World]:
    w = lead_world(store, coventry, mail_sink)
    yield w
    w.close()
    w.people.stop()


def catch_up(w: World, kind: str, **payload: object) -> dict:
    return w.feed("events", kind, {"request": REQUEST, **payload})


def test_a_catch_up_request_reaches_the_lead_and_each_answer_the_other_side(world: World) -> None:
    catch_up(world, "CatchUpRequested", urn=HILL)
    assert world.send()["sent"] == 1
    [asked] = world.new_mail()
    assert (asked["To"], asked["Subject"]) == (LEAD_EMAIL, "Hill Primary asks for a catch-up meeting")
    assert text(asked).startswith("Dear Lena Lead,\n\n")
    assert "Catch-up requests: http://127.0.0.1:8080/lead/cpd\n" in text(asked)

    catch_up(world, "CatchUpProposed", date="2027-03-10", start="15:30:00", end="16:30:00")
    world.send()
    [proposed] = world.new_mail()
    assert (proposed["To"], proposed["Subject"]) == (ANN, "A time for your catch-up meeting")
    assert "Wednesday 10 March 2027, 3:30pm to 4:30pm" in text(proposed)
    assert f"Answer the proposal: http://127.0.0.1:8080/school/{HILL}\n" in text(proposed)

    catch_up(world, "CatchUpDeclined")
    world.send()
    [declined] = world.new_mail()
    assert (declined["To"], declined["Subject"]) == (LEAD_EMAIL, "Hill Primary declined the catch-up meeting")
    assert "Propose another time." in text(declined)

    catch_up(world, "CatchUpProposed", date="2027-03-17", start="15:30:00", end="16:30:00")
    catch_up(world, "CatchUpConfirmed")
    world.send()
    mail = {m["To"]: m for m in world.new_mail() if m["Subject"] != "A time for your catch-up meeting"}
    assert {k: m["Subject"] for k, m in mail.items()} == {
        LEAD_EMAIL: "Hill Primary accepted the catch-up meeting", ANN: "Your catch-up meeting is confirmed"}
    for message in mail.values():
        method, cal = calendar_of(message, "catch-up.ics")
        [entry] = cal.walk("VEVENT")
        assert (method, str(entry["UID"]), entry["SEQUENCE"]) == (
            "PUBLISH", f"catch-up-{REQUEST}@coventry.schools-of-sanctuary", 1)  # the second proposal
        assert entry.decoded("DTSTART").isoformat() == "2027-03-17T15:30:00+00:00"


def test_news_of_a_catch_up_heard_before_the_request_waits_for_whose_it_is(world: World) -> None:
    catch_up(world, "CatchUpProposed", date="2027-03-10", start="15:30:00", end="16:30:00")
    assert world.send()["sent"] == 0
    catch_up(world, "CatchUpRequested", urn=HILL)
    world.send()
    assert sorted((m["To"], m["Subject"]) for m in world.new_mail()) == [
        (ANN, "A time for your catch-up meeting"), (LEAD_EMAIL, "Hill Primary asks for a catch-up meeting")]


def test_the_lead_hears_once_when_a_school_starts_answering_feedback(world: World) -> None:
    world.start_application(HILL_APP, HILL, "Hill Primary", DUE)
    base = {"application": HILL_APP, "urn": HILL, "school_year": "2026-27"}
    world.feed("applications", "EvidenceAdded", {**base, "criterion": "learn-1", "stage": "started"})
    assert world.send()["sent"] == 0  # before any feedback: the school's own work
    for criterion in ("learn-1", "embed-2"):
        world.feed("applications", "EvidenceAdded",
                   {**base, "criterion": criterion, "stage": "draft_feedback"})
    assert world.send()["sent"] == 1
    [answering] = world.new_mail()
    assert (answering["To"], answering["Subject"]) == (
        LEAD_EMAIL, "Hill Primary is answering the panel's draft feedback")
    assert f"The application: http://127.0.0.1:8080/lead/applications/{HILL}/2026-27\n" in text(answering)
    world.feed("applications", "EvidenceAdded", {**base, "criterion": "share-1", "stage": "further_evidence"})
    world.send()
    [further] = world.new_mail()
    assert further["Subject"] == "Hill Primary is answering the further evidence the panel asked for"


def test_an_offer_lapsing_unclaimed_reaches_the_lead(world: World) -> None:
    world.list_network_meetings()
    world.book("b-9", "network-meeting-2", "Will Waiting", "will@oak.example.org", urn=OAK, waiting=True)
    world.feed("events", "PlaceOffered", {"event": NETWORK_EVENT, "booking": "b-9", "urn": OAK,
                                          "session": "network-meeting-2",
                                          "expires_at": "2027-02-26T16:00:00+00:00"})
    world.send()
    world.new_mail()
    world.feed("events", "OfferExpired", {"event": NETWORK_EVENT, "booking": "b-9",
                                          "session": "network-meeting-2", "urn": OAK})
    world.send()
    [lapsed] = world.new_mail()
    assert (lapsed["To"], lapsed["Subject"]) == (LEAD_EMAIL, f"An offered place lapsed: {NETWORK_TITLE}")
    assert "Oak Academy's member of staff" in text(lapsed)
    assert f"{WHY} you are the local lead for Schools of Sanctuary." in text(lapsed)


def test_with_a_daily_digest_the_lead_gets_one_email_a_day(store: Store, coventry: Authority,
                                                            mail_sink: SinkProcess) -> None:
    digesting = dataclasses.replace(coventry, lead_mail=LeadMail(daily_digest=True, digest_at=dt.time(8)))
    w = lead_world(store, digesting, mail_sink)
    try:
        w.day(dt.date(2027, 3, 1))  # 9am: the next digest is 8am tomorrow
        catch_up(w, "CatchUpRequested", urn=HILL)
        w.feed("pledges", "PledgeSigned", {"urn": OAK, "signed_by": "Ms Head", "role": "Head teacher",
                                           "signed_on": "2027-03-01"})
        w.app.remind()
        w.send()
        assert LEAD_EMAIL not in [m["To"] for m in w.new_mail()]  # the school's mail goes at once
        w.clock.at = dt.datetime(2027, 3, 2, 7, 59, tzinfo=dt.UTC)
        assert w.app.remind() == 0
        w.clock.at = dt.datetime(2027, 3, 2, 8, 0, tzinfo=dt.UTC)  # 8am UK time (GMT)
        assert w.app.remind() == 1
        assert w.app.remind() == 0
        w.send()
        [digest] = w.new_mail()
        assert (digest["To"], digest["Subject"]) == (
            LEAD_EMAIL, "Schools of Sanctuary: 2 things for you, Tuesday 2 March 2027")
        body = text(digest)
        assert body.startswith("Dear Lena Lead,\n\nSince the last digest:\n\n1. Hill Primary asks for a "
                               "catch-up meeting\n")
        assert "2. Oak Academy has signed the pledge\nOak Academy signed the pledge on Monday 1 March 2027." \
            in body
        w.clock.advance(days=1)
        w.app.remind()
        assert w.send()["sent"] == 0  # nothing new: no empty digest
    finally:
        w.close()
        w.people.stop()


def test_the_lead_with_no_account_yet_is_written_to_at_the_authoritys_address(
        store: Store, coventry: Authority, mail_sink: SinkProcess) -> None:
    w = World(store, coventry, mail_sink)
    try:
        w.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
        w.feed("events", "CatchUpRequested", jsonable({"request": REQUEST, "urn": HILL}))
        w.send()
        [asked] = [m for m in w.mail() if m["Subject"] == "Hill Primary asks for a catch-up meeting"]
        assert asked["To"] == coventry.contact_email
        assert text(asked).startswith(f"Dear {coventry.lead_team},")
    finally:
        w.close()
