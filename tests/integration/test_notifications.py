"""The notifications application with a real store (SQLite and PostgreSQL) and a real
SMTP server (the mail sink, run as its own process): who is told what, when, and
exactly once in effect.

Integration events are fed as the consumer receives them (``consume`` with the
reactions in policies.py), with payloads shaped as the pledges, applications and
events contracts publish them; time is a FixedClock moved by hand; every email is
read back from the sink's folder as a mail program would.

Product bugs found here were pinned by strict xfail tests and are now fixed:
session-change emails describe the session one change behind; CPD reminders come 8 and
2 days ahead, not 7 and 1; a summer claim-by time is given in UTC; a booking heard before
its session is never confirmed; a subject with a line break crashes the sender.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.events.application import sessions_of
from services.notifications.application import Notifications
from services.notifications.policies import react
from shared.authority import Authority
from shared.clock import FixedClock
from shared.consumer import consume
from shared.envelope import IntegrationEvent
from shared.mail import Mailer, SmtpSettings, make_message_id
from shared.personal import subject_for_email
from shared.schema import jsonable
from tests.components import Store
from tests.integration import ON_POSTGRES, mail_fixtures
from tests.integration.mail_fixtures import SinkProcess, free_port

pytestmark = [pytest.mark.integration, ON_POSTGRES]  # see tests/integration/__init__.py
mail_sink = mail_fixtures.mail_sink  # the fixture, for pytest to find

MAIL_FROM = "Schools of Sanctuary <no-reply@sanctuary.invalid>"
DOMAIN = "sanctuary.invalid"
LONDON = ZoneInfo("Europe/London")
START = dt.datetime(2026, 9, 7, 8, 0, tzinfo=dt.UTC)  # Monday 7 September 2026, 09:00 in Coventry
YEAR = "2026-27"
WHY = "You are getting this email because"

HILL, OAK = "103712", "103713"
ANN = "ann.coordinator@hill.example.org"
OLU = "olu.coordinator@oak.example.org"
HILL_APP = str(uuid.uuid5(uuid.NAMESPACE_URL, "application/hill/2026-27"))
OAK_APP = str(uuid.uuid5(uuid.NAMESPACE_URL, "application/oak/2026-27"))
NETWORK_EVENT = uuid.uuid5(uuid.NAMESPACE_URL, "cpd/network-meeting").hex
NETWORK_TITLE = "Schools of Sanctuary – network meeting of local schools"
DUE = {"draft": "2027-03-25", "final": "2027-05-28"}  # as the applications service sets Coventry's


# -- the world a test runs in -------------------------------------------------------------------


class World:
    """One notifications application on the test's store, its clock, the sink, and a
    feed of integration events numbered per origin as each service's log would."""

    def __init__(self, store: Store, authority: Authority, sink: SinkProcess) -> None:
        self.store = store
        self.authority = authority
        self.sink = sink
        self.clock = FixedClock(START)
        self.apps: list[Notifications] = []
        self.app = self.build()
        self.mailer = Mailer(sink.settings())
        self.positions: Counter[str] = Counter()
        self.seen = 0
        self.people: Any = None  # the accounts service, where a test has one (tests/integration/people.py)

    def build(self, **changes: Any) -> Notifications:
        app = Notifications(env=self.store.env("notifications"), authority=self.authority,
                            mail_from=MAIL_FROM, mail_domain=DOMAIN, clock=changes.pop("clock", self.clock),
                            **changes)
        self.apps.append(app)
        return app

    def close(self) -> None:
        for app in self.apps:
            app.close()

    def event(self, origin: str, kind: str, payload: dict, version: int = 1) -> dict:
        """The body of the next integration event from ``origin`` (not yet consumed)."""
        self.positions[origin] += 1
        return IntegrationEvent(
            id=str(uuid.uuid4()), type=kind, schema_version=version, origin=origin,
            position=self.positions[origin], occurred_at=self.clock.now().isoformat(),
            authority="coventry", actor="account:lead", payload=payload).to_dict()

    def hear(self, body: dict, app: Notifications | None = None) -> bool:
        """Consume one message as the service does: True if it was news to ``app``."""
        app = app or self.app
        return consume(app, body, functools.partial(react, app))

    def feed(self, origin: str, kind: str, payload: dict, version: int = 1) -> dict:
        body = self.event(origin, kind, payload, version)
        assert self.hear(body) is True
        return body

    def send(self, mailer: Mailer | None = None) -> dict[str, int]:
        return self.app.send_due(mailer or self.mailer, self.people)

    def mail(self) -> list[EmailMessage]:
        return self.sink.messages()

    def new_mail(self) -> list[EmailMessage]:
        """The messages that arrived since the last call."""
        messages = self.mail()
        fresh, self.seen = messages[self.seen:], len(messages)
        return fresh

    def day(self, on: dt.date) -> None:
        """Move the clock to 09:00 UK time on ``on``."""
        self.clock.at = dt.datetime.combine(on, dt.time(9, 0), tzinfo=LONDON).astimezone(dt.UTC)

    # -- the news other services publish -----------------------------------------------------

    def register(self, urn: str, name: str, coordinator: str, email: str) -> dict:
        return self.feed("pledges", "SchoolRegistered", {
            "urn": urn, "name": name, "phase": "primary", "postcode": "CV1 2AB",
            "coordinator": {"name": coordinator, "email": email}})

    def newsletter(self, urn: str, subscribed: bool) -> dict:
        return self.feed("pledges", "NewsletterSubscribed" if subscribed else "NewsletterUnsubscribed",
                         {"urn": urn})

    def start_application(self, app_id: str, urn: str, name: str, due: dict | None = DUE) -> dict:
        """As the applications service publishes it now (schema 2, with the day each submission
        is due), or, with ``due=None``, as it did before (schema 1)."""
        started = {**base(app_id, urn), "school_name": name, "renewal_of": None}
        if due is None:
            return self.feed("applications", "ApplicationStarted", started)
        return self.feed("applications", "ApplicationStarted", {**started, "due": due}, version=2)

    def submit(self, app_id: str, urn: str, stage: str, on: str) -> dict:
        return self.feed("applications", "DraftSubmitted" if stage == "draft" else "FinalSubmitted",
                         {**base(app_id, urn), "stage": stage, "on": on, "under_extension": False})

    def list_network_meetings(self) -> dict:
        item = next(i for i in self.authority.cpd if i.code == "network-meeting")
        return self.feed("events", "ProgrammeListed", jsonable({
            "event": NETWORK_EVENT, "code": item.code, "title": item.title, "kind": item.kind,
            "sessions": sessions_of(item)}))

    def book(self, booking: str, session: str, name: str, email: str, urn: str = HILL,
             waiting: bool = False) -> dict:
        return self.feed("events", "WaitingListJoined" if waiting else "PlaceBooked", {
            "event": NETWORK_EVENT, "booking": booking, "session": session, "urn": urn,
            "person": {"name": name, "email": email}})


def base(app_id: str, urn: str) -> dict:
    return {"application": app_id, "urn": urn, "school_year": YEAR}


@pytest.fixture
def world(store: Store, coventry: Authority, mail_sink: SinkProcess) -> World:
    w = World(store, coventry, mail_sink)
    yield w
    w.close()


def hill(w: World) -> None:
    """Hill Primary, registered, its registration email sent and read."""
    w.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    assert w.send()["sent"] == 1
    w.new_mail()


# -- reading mail ---------------------------------------------------------------------------------


def text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def calendar_of(message: EmailMessage, filename: str = "session.ics") -> tuple[str, Calendar]:
    [part] = list(message.iter_attachments())
    assert part.get_filename() == filename
    assert part.get_content_type() == "text/calendar"
    # the bytes as sent (UTF-8, iCalendar's default): the part names no charset, and Python's
    # reader would take text/* without one as ASCII
    return part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))


def vevent(cal: Calendar) -> Any:
    [event] = cal.walk("VEVENT")
    return event


def sent_properly(message: EmailMessage, coventry: Authority) -> None:
    """What every email carries, whoever it is for and whatever it says."""
    assert message["From"] == MAIL_FROM
    assert message["Reply-To"] == coventry.contact_email
    assert message["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<[0-9a-f]{32}@sanctuary\.invalid>", message["Message-ID"])
    assert message["Date"] and message["Subject"]
    plain, rich = text(message), html(message)
    assert plain.startswith("Dear ") and WHY in plain, plain
    assert rich.startswith("<html>") and WHY in rich, rich
    assert coventry.sign_off in plain and coventry.contact_email in plain


def message_id(key: str, kind: str, email: str) -> str:
    return make_message_id(f"{key}/{kind}/{subject_for_email(email)}", DOMAIN)


def by_recipient(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    found = {m["To"]: m for m in messages}
    assert len(found) == len(messages), [m["To"] for m in messages]
    return found


# -- 1. each milestone: the right email to the right people ---------------------------------------


def test_registration_tells_the_coordinator(world: World, coventry: Authority) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    assert world.send() == {"sent": 1, "failed": 0, "retrying": 0}
    [message] = world.mail()
    sent_properly(message, coventry)
    assert message["To"] == ANN
    assert message["Subject"] == "Hill Primary is registered for Schools of Sanctuary"
    assert message["Message-ID"] == message_id("pledges:1", "school-registered", ANN)
    assert text(message).startswith("Dear Ann Coordinator,\n\nHill Primary is now registered with "
                                    "Coventry Schools of Sanctuary.")
    assert f"{WHY} you are your school's Schools of Sanctuary coordinator.\n" in text(message)
    assert "you are your school&#x27;s Schools of Sanctuary coordinator" in html(message)
    assert world.send() == {"sent": 0, "failed": 0, "retrying": 0}  # sent is final
    assert len(world.mail()) == 1


def test_a_signed_pledge_tells_the_coordinator_and_the_lead(world: World, coventry: Authority) -> None:
    hill(world)
    world.feed("pledges", "PledgeSigned",
               {"urn": HILL, "signed_by": "Ms Head", "role": "Head teacher", "signed_on": "2026-09-10"})
    assert world.send()["sent"] == 3
    arrived = world.new_mail()
    [pack] = [m for m in arrived if m["Subject"] == "Schools of Sanctuary audit tool for Hill Primary"]
    assert pack["To"] == ANN  # Coventry's configured pack (Step 1's audit tool), to the school
    mail = by_recipient([m for m in arrived if m is not pack])
    assert set(mail) == {ANN, coventry.contact_email}
    for message in mail.values():
        sent_properly(message, coventry)
    school = mail[ANN]
    assert school["Subject"] == "Thank you: Hill Primary has signed the pledge"
    assert "signed the Schools of Sanctuary pledge on Thursday 10 September 2026" in text(school)
    lead = mail[coventry.contact_email]
    assert lead["Subject"] == "Hill Primary has signed the pledge"
    assert text(lead).startswith(f"Dear {coventry.lead_team},")
    assert f"{WHY} you are the local lead for Schools of Sanctuary." in text(lead)
    # no lead account known here: the authority's own address, greeting the team
    assert lead["Message-ID"] == make_message_id("pledges:2/pledge-signed-lead/role:lead", DOMAIN)


IMPORTED = {"urn": HILL, "signed_by": "Ms Head", "role": "Head teacher", "signed_on": "2025-01-15",
            "lapses_on": "2028-01-15", "imported": True}


def test_a_pledge_imported_from_earlier_records_sends_no_thanks_and_no_starter_pack(world: World) -> None:
    hill(world)
    world.feed("pledges", "PledgeSigned", IMPORTED, version=3)
    assert world.send()["sent"] == 0 and world.new_mail() == []
    assert world.app.entry("school", HILL).get("pledged_on") == "2025-01-15"  # still known
    # a pledge signed here later (after a withdrawal, say) is thanked as ever, pack and all
    world.feed("pledges", "PledgeSigned", {**IMPORTED, "signed_on": "2026-09-10", "imported": False},
               version=3)
    assert world.send()["sent"] == 3
    assert "Thank you: Hill Primary has signed the pledge" in {m["Subject"] for m in world.new_mail()}


def test_a_registration_heard_after_an_imported_pledge_sends_only_its_own_email(world: World) -> None:
    world.feed("pledges", "PledgeSigned", IMPORTED, version=3)  # its queue ran ahead
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    assert world.send()["sent"] == 1
    assert [m["Subject"] for m in world.mail()] == ["Hill Primary is registered for Schools of Sanctuary"]


def test_each_step_of_the_journey_tells_the_right_people(world: World, coventry: Authority) -> None:
    hill(world)
    world.start_application(HILL_APP, HILL, "Hill Primary")
    assert world.send()["sent"] == 0  # starting is no news to anyone

    # DraftSubmitted: a receipt to the coordinator, a note to the lead
    world.submit(HILL_APP, HILL, "draft", "2027-03-20")
    assert world.send()["sent"] == 2
    mail = by_recipient(world.new_mail())
    assert mail[ANN]["Subject"] == "We have received your draft application"
    assert "Hill Primary's draft application arrived on Saturday 20 March 2027" in text(mail[ANN])
    assert mail[coventry.contact_email]["Subject"] == "Hill Primary has submitted its draft application"
    for message in mail.values():
        sent_properly(message, coventry)

    coordinator_only = [  # (event, payload, the email's kind, subject, what it says)
        ("FeedbackReleased", {"stage": "draft"}, "draft-feedback",
         "Feedback on your draft application is ready",
         "feedback on Hill Primary's draft application is ready"),
        ("VisitScheduled", {"on": "2027-06-15"}, "visit-scheduled", "Your School of Sanctuary visit",
         "Assessors will visit Hill Primary on Tuesday 15 June 2027"),
        ("DecisionRecorded", {"outcome": "further_evidence", "on": "2027-06-20", "expires_on": None,
                              "evidence_due": "2027-07-09"}, "further-evidence",
         "The panel asks for further evidence", "further evidence by Friday 9 July 2027"),
        ("Awarded", {"outcome": "awarded", "on": "2027-07-15", "expires_on": "2030-07-15",
                     "evidence_due": None}, "awarded",
         "Congratulations: Hill Primary is a School of Sanctuary", "until Monday 15 July 2030"),
        ("RenewalDue", {"expires_on": "2030-07-15"}, "renewal-due",
         "Time to renew your School of Sanctuary status", "award runs until Monday 15 July 2030. Renew "
         f"your pledge and status before then.\n\nYour school's page: http://127.0.0.1:8080/school/{HILL}\n"),
    ]
    for kind, payload, note_kind, subject, says in coordinator_only:
        body = world.feed("applications", kind, {**base(HILL_APP, HILL), **payload})
        assert world.send()["sent"] == 1, kind
        [message] = world.new_mail()
        sent_properly(message, coventry)
        assert (message["To"], message["Subject"]) == (ANN, subject), kind
        assert says in text(message), (kind, text(message))
        assert f"{WHY} you are your school's Schools of Sanctuary coordinator." in text(message)
        assert message["Message-ID"] == message_id(f"applications:{body['position']}", note_kind, ANN)
    assert [e["kind"] for e in world.app.delivery_log(status="sent")][:5] == [
        "renewal-due", "awarded", "further-evidence", "visit-scheduled", "draft-feedback"]


def test_a_booking_comes_with_a_calendar_entry(world: World, coventry: Authority) -> None:
    world.list_network_meetings()
    world.book("b-1", "network-meeting-1", "Tess Teacher", "tess@hill.example.org")
    assert world.send()["sent"] == 1
    [message] = world.mail()
    sent_properly(message, coventry)
    assert message["To"] == "tess@hill.example.org"
    assert message["Subject"] == f"Your place: {NETWORK_TITLE}"
    assert ("You have a place at Schools of Sanctuary – network meeting of local schools: Thursday "
            "22 October 2026, 4pm to 5pm, venue to be confirmed.") in text(message)
    assert f"{WHY} you are booked on this session." in text(message)
    method, cal = calendar_of(message)
    assert method == "PUBLISH" and cal["METHOD"] == "PUBLISH"
    entry = vevent(cal)
    assert str(entry["UID"]) == "network-meeting-1@coventry.schools-of-sanctuary"
    assert entry["SEQUENCE"] == 0
    assert str(entry["SUMMARY"]) == NETWORK_TITLE
    assert entry.decoded("DTSTART") == dt.datetime(2026, 10, 22, 16, 0, tzinfo=LONDON)
    assert entry.decoded("DTSTART").utcoffset() == dt.timedelta(hours=1)  # BST
    assert entry.decoded("DTEND") == dt.datetime(2026, 10, 22, 17, 0, tzinfo=LONDON)


def test_a_place_offered_tells_the_person_when_to_claim_it_by(world: World, coventry: Authority) -> None:
    world.list_network_meetings()
    world.book("b-9", "network-meeting-2", "Will Waiting", "will@oak.example.org", urn=OAK, waiting=True)
    assert world.send()["sent"] == 1
    [waiting] = world.new_mail()
    assert (waiting["To"], waiting["Subject"]) == ("will@oak.example.org", f"Waiting list: {NETWORK_TITLE}")
    assert list(waiting.iter_attachments()) == []
    # in winter UK time is UTC, as the events service writes the expiry
    world.feed("events", "PlaceOffered", {"event": NETWORK_EVENT, "booking": "b-9",
                                          "session": "network-meeting-2", "urn": OAK,
                                          "expires_at": "2027-02-26T16:00:00+00:00"})
    assert world.send()["sent"] == 1
    [offer] = world.new_mail()
    sent_properly(offer, coventry)
    assert (offer["To"], offer["Subject"]) == ("will@oak.example.org", f"A place is free: {NETWORK_TITLE}")
    assert "claim it by 4pm on Friday 26 February 2027" in text(offer)
    assert f"{WHY} you are on the waiting list for this session." in text(offer)


def test_a_summer_offer_gives_the_claim_by_time_in_uk_time(world: World) -> None:
    world.list_network_meetings()
    world.book("b-9", "network-meeting-3", "Will Waiting", "will@oak.example.org", urn=OAK, waiting=True)
    # the events service: expires_at = clock.now() (UTC) + 48 hours, published with .isoformat()
    expires = dt.datetime(2027, 6, 20, 16, 0, tzinfo=dt.UTC)
    world.feed("events", "PlaceOffered", {"event": NETWORK_EVENT, "booking": "b-9",
                                          "session": "network-meeting-3", "urn": OAK,
                                          "expires_at": expires.isoformat()})
    world.send()
    offer = world.mail()[-1]
    assert "claim it by 5pm on Sunday 20 June 2027" in text(offer)  # 16:00 UTC is 5pm BST


def test_a_booking_heard_before_its_session_is_still_confirmed(world: World) -> None:
    world.book("b-1", "network-meeting-1", "Tess Teacher", "tess@hill.example.org")
    world.send()
    world.list_network_meetings()  # the programme's news, overtaken on its own queue
    world.send()
    [message] = world.mail()
    assert (message["To"], message["Subject"]) == ("tess@hill.example.org", f"Your place: {NETWORK_TITLE}")


CHANGES = [
    ("VenueConfirmed", {"venue_status": "confirmed", "venue": "Central Library, Jordan Well"},
     f"Venue: {NETWORK_TITLE}", "PUBLISH"),
    ("SessionRescheduled", {"when": {"date_status": "confirmed", "date": "2026-10-29", "month": None,
                                     "start": "16:30:00", "end": "17:30:00"}},
     f"New time: {NETWORK_TITLE}", "PUBLISH"),
    ("SessionCancelled", {"reason": "The speaker is unwell."}, f"Cancelled: {NETWORK_TITLE}", "CANCEL"),
]
BOOKED = {"tess@hill.example.org", "sam@oak.example.org"}


def session_changes(w: World, coventry: Authority) -> list[tuple[str, dict[str, EmailMessage]]]:
    """Two people booked on network meeting 1, one waiting, one booked on meeting 2; then the
    venue is confirmed, the session moved, and cancelled. The mail each change brought."""
    w.list_network_meetings()
    w.book("b-1", "network-meeting-1", "Tess Teacher", "tess@hill.example.org")
    w.book("b-2", "network-meeting-1", "Sam Senco", "sam@oak.example.org", urn=OAK)
    w.book("b-3", "network-meeting-1", "Will Waiting", "will@oak.example.org", urn=OAK, waiting=True)
    w.book("b-4", "network-meeting-2", "Other Session", "other@hill.example.org")
    assert w.send()["sent"] == 4
    w.new_mail()
    found = []
    for kind, payload, _, _ in CHANGES:
        w.feed("events", kind, {"event": NETWORK_EVENT, "session": "network-meeting-1", **payload})
        assert w.send()["sent"] == 2, kind
        mail = by_recipient(w.new_mail())
        for message in mail.values():
            sent_properly(message, coventry)
        found.append((kind, mail))
    return found


def test_session_changes_tell_everyone_booked_with_a_calendar_entry(world: World,
                                                                    coventry: Authority) -> None:
    for (kind, mail), (_, _, subject, method) in zip(session_changes(world, coventry), CHANGES, strict=True):
        assert set(mail) == BOOKED, kind  # not the waiting list, not another session's people
        for message in mail.values():
            assert message["Subject"] == subject
            assert f"{WHY} you are booked on this session." in text(message)
            part_method, cal = calendar_of(message)
            assert part_method == method, kind
            assert str(vevent(cal)["UID"]) == "network-meeting-1@coventry.schools-of-sanctuary"
        if kind == "SessionCancelled":
            assert all("The speaker is unwell." in text(m) for m in mail.values())


def test_session_change_emails_describe_the_session_as_changed(world: World, coventry: Authority) -> None:
    changes = dict(session_changes(world, coventry))
    for sequence, (kind, _, _, method) in enumerate(CHANGES, start=1):
        for message in changes[kind].values():
            _, cal = calendar_of(message)
            entry = vevent(cal)
            assert (str(cal["METHOD"]), entry["SEQUENCE"]) == (method, sequence), kind
    for message in changes["VenueConfirmed"].values():
        assert str(vevent(calendar_of(message)[1])["LOCATION"]) == "Central Library, Jordan Well"
        assert "Central Library, Jordan Well" in text(message)
    for message in changes["SessionRescheduled"].values():
        entry = vevent(calendar_of(message)[1])
        assert entry.decoded("DTSTART") == dt.datetime(2026, 10, 29, 16, 30, tzinfo=LONDON)
        assert entry.decoded("DTSTART").utcoffset() == dt.timedelta(0)  # GMT by then
        assert "Thursday 29 October 2026, 4:30pm to 5:30pm" in text(message)
    for message in changes["SessionCancelled"].values():
        assert str(vevent(calendar_of(message)[1])["STATUS"]) == "CANCELLED"


# -- 2. reminders at the right instants ------------------------------------------------------------


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def run_days(w: World, first: dt.date, last: dt.date) -> dict[dt.date, list[tuple[str, str]]]:
    """Each day at 09:00: remind (twice: the second makes nothing), send (twice: the second sends
    nothing); every email that arrived, (To, Subject), by day."""
    arrived: dict[dt.date, list[tuple[str, str]]] = {}
    for on in days(first, last):
        w.day(on)
        w.app.remind()
        assert w.app.remind() == 0, on  # the same day again: nothing new
        w.send()
        assert w.send()["sent"] == 0, on
        fresh = [(m["To"], m["Subject"]) for m in w.new_mail()]
        if fresh:
            arrived[on] = fresh
    return arrived


def test_deadline_reminders_across_the_year(world: World, coventry: Authority) -> None:
    """Hill never submits its draft: reminded 14 and 3 days before 25 March 2027. Oak submits on
    15 March: its second draft reminder never comes, and the final deadline (28 May) takes over."""
    cycle = coventry.cycle(YEAR)
    assert (cycle.draft_deadline, cycle.final_deadline) == (dt.date(2027, 3, 25), dt.date(2027, 5, 28))
    assert coventry.reminders.deadline_days == (14, 3)
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.register(OAK, "Oak Academy", "Olu Coordinator", OLU)
    world.start_application(HILL_APP, HILL, "Hill Primary")
    world.start_application(OAK_APP, OAK, "Oak Academy")
    world.send()
    world.new_mail()

    arrived = run_days(world, dt.date(2026, 9, 7), dt.date(2027, 3, 14))
    world.day(dt.date(2027, 3, 15))
    world.submit(OAK_APP, OAK, "draft", "2027-03-15")
    world.send()
    world.new_mail()
    arrived |= run_days(world, dt.date(2027, 3, 15), dt.date(2027, 6, 30))

    assert arrived == {
        dt.date(2027, 3, 11): [(ANN, "14 days to the draft deadline"),
                               (OLU, "14 days to the draft deadline")],
        dt.date(2027, 3, 22): [(ANN, "3 days to the draft deadline")],
        dt.date(2027, 5, 14): [(OLU, "14 days to the final deadline")],
        dt.date(2027, 5, 25): [(OLU, "3 days to the final deadline")],
    }
    ann = [m for m in world.mail() if m["To"] == ANN and "deadline" in m["Subject"]]
    assert "Hill Primary's draft application is due by Thursday 25 March 2027, 3 days from now." in \
        text(ann[-1])
    for message in ann:
        sent_properly(message, coventry)


def test_the_days_the_applications_service_tells_drive_the_reminders(world: World) -> None:
    """The days in ApplicationStarted (schema 2) are kept as told, not worked out again from
    the cycle: told 18 March and 21 May, the school is reminded of those."""
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.start_application(HILL_APP, HILL, "Hill Primary",
                            due={"draft": "2027-03-18", "final": "2027-05-21"})
    world.send()
    world.new_mail()
    arrived = run_days(world, dt.date(2027, 3, 1), dt.date(2027, 3, 19))
    world.submit(HILL_APP, HILL, "draft", "2027-03-19")
    world.send()
    world.new_mail()
    arrived |= run_days(world, dt.date(2027, 3, 20), dt.date(2027, 5, 31))
    assert arrived == {
        dt.date(2027, 3, 4): [(ANN, "14 days to the draft deadline")],
        dt.date(2027, 3, 15): [(ANN, "3 days to the draft deadline")],
        dt.date(2027, 5, 7): [(ANN, "14 days to the final deadline")],
        dt.date(2027, 5, 18): [(ANN, "3 days to the final deadline")],
    }


def test_an_application_heard_of_in_schema_1_is_reminded_of_the_cycles_deadlines(world: World) -> None:
    """ApplicationStarted of schema 1 (published before it carried the days) still works: the
    cycle's deadlines stand in for the days the applications service set then."""
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    body = world.start_application(HILL_APP, HILL, "Hill Primary", due=None)
    assert body["schema_version"] == 1 and "due" not in body["payload"]
    world.send()
    world.new_mail()
    assert run_days(world, dt.date(2027, 3, 1), dt.date(2027, 3, 31)) == {
        dt.date(2027, 3, 11): [(ANN, "14 days to the draft deadline")],
        dt.date(2027, 3, 22): [(ANN, "3 days to the draft deadline")],
    }


def test_an_extension_moves_the_reminders_to_its_day(world: World) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.start_application(HILL_APP, HILL, "Hill Primary")
    world.day(dt.date(2027, 3, 9))
    world.feed("applications", "ExtensionGranted", {**base(HILL_APP, HILL), "stage": "draft",
                                                    "until": "2027-04-08"})
    world.send()
    world.new_mail()
    assert run_days(world, dt.date(2027, 3, 9), dt.date(2027, 4, 10)) == {
        dt.date(2027, 3, 25): [(ANN, "14 days to the draft deadline")],
        dt.date(2027, 4, 5): [(ANN, "3 days to the draft deadline")],
    }


def test_further_evidence_is_reminded_by_the_schools_own_date(world: World, coventry: Authority) -> None:
    """After a further-evidence decision the school owes its final submission again, by the
    date the panel set (not the cycle's final deadline, nor an extension granted before)."""
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.start_application(HILL_APP, HILL, "Hill Primary")
    world.submit(HILL_APP, HILL, "draft", "2027-03-20")
    world.feed("applications", "ExtensionGranted", {**base(HILL_APP, HILL), "stage": "final",
                                                    "until": "2027-06-04"})
    world.submit(HILL_APP, HILL, "final", "2027-06-01")
    world.day(dt.date(2027, 6, 20))
    world.feed("applications", "DecisionRecorded", {
        **base(HILL_APP, HILL), "outcome": "further_evidence", "on": "2027-06-20", "expires_on": None,
        "evidence_due": "2027-07-09"})
    world.send()
    world.new_mail()
    arrived = run_days(world, dt.date(2027, 6, 20), dt.date(2027, 7, 7))
    assert arrived == {
        dt.date(2027, 6, 25): [(ANN, "14 days until your further evidence is due")],
        dt.date(2027, 7, 6): [(ANN, "3 days until your further evidence is due")],
    }
    reminder = world.mail()[-1]
    sent_properly(reminder, coventry)
    assert ("The panel asked Hill Primary for further evidence by Friday 9 July 2027, 3 days from "
            "now.") in text(reminder)
    world.submit(HILL_APP, HILL, "final", "2027-07-07")  # the school's response: nothing more owed
    world.send()
    world.new_mail()
    assert run_days(world, dt.date(2027, 7, 8), dt.date(2027, 7, 9)) == {}


def cpd_booking(w: World) -> None:
    w.day(dt.date(2027, 2, 1))
    w.list_network_meetings()
    w.book("b-1", "network-meeting-2", "Tess Teacher", "tess@hill.example.org")  # Tuesday 2 March 2027
    assert w.send()["sent"] == 1
    w.new_mail()


def test_cpd_reminders_go_twice_before_the_session_and_never_on_or_after_it(world: World) -> None:
    cpd_booking(world)
    arrived = run_days(world, dt.date(2027, 2, 1), dt.date(2027, 3, 10))
    assert len(arrived) == 2 and all(len(v) == 1 for v in arrived.values()), arrived
    assert all(on < dt.date(2027, 3, 2) for on in arrived)
    assert {to for [(to, _)] in arrived.values()} == {"tess@hill.example.org"}


def test_cpd_reminders_come_7_days_and_1_day_before_the_session(world: World) -> None:
    cpd_booking(world)
    arrived = run_days(world, dt.date(2027, 2, 15), dt.date(2027, 3, 3))
    assert arrived == {
        dt.date(2027, 2, 23): [("tess@hill.example.org", f"Reminder: {NETWORK_TITLE} in 7 days")],
        dt.date(2027, 3, 1): [("tess@hill.example.org", f"Reminder: {NETWORK_TITLE} tomorrow")],
    }


def test_after_a_week_of_downtime_only_the_nearest_reminder_goes(world: World) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.start_application(HILL_APP, HILL, "Hill Primary")
    world.list_network_meetings()
    world.book("b-1", "network-meeting-2", "Tess Teacher", "tess@hill.example.org")
    world.day(dt.date(2027, 2, 10))
    world.app.remind()
    world.send()
    world.new_mail()
    # down from 10 February to 1 March: both CPD reminders, and neither deadline reminder, were due
    assert run_days(world, dt.date(2027, 3, 1), dt.date(2027, 3, 1)) == {
        dt.date(2027, 3, 1): [("tess@hill.example.org", f"Reminder: {NETWORK_TITLE} tomorrow")]}
    # down again until 23 March: both deadline reminders were due; one email, the nearest
    assert run_days(world, dt.date(2027, 3, 23), dt.date(2027, 3, 31)) == {
        dt.date(2027, 3, 23): [(ANN, "2 days to the draft deadline")]}


def test_no_reminder_once_the_draft_is_in(world: World) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.start_application(HILL_APP, HILL, "Hill Primary")
    world.submit(HILL_APP, HILL, "draft", "2027-03-01")
    assert world.send()["sent"] == 3  # registered, and the draft's receipt and note to the lead
    world.new_mail()
    assert run_days(world, dt.date(2027, 3, 1), dt.date(2027, 3, 25)) == {}


# -- 3. a redelivered event sends nothing new -------------------------------------------------------


def test_a_redelivered_event_sends_nothing_new(world: World) -> None:
    body = world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.list_network_meetings()
    booking = world.book("b-1", "network-meeting-1", "Tess Teacher", "tess@hill.example.org")
    events_before = world.app.recorder.max_notification_id()
    assert world.hear(body) is False
    assert world.hear(booking) is False
    other = world.build()  # another instance of the service hears it again too
    assert world.hear(booking, other) is False
    assert world.app.recorder.max_notification_id() == events_before
    assert world.send()["sent"] == 2
    assert world.send()["sent"] == 0
    assert sorted(m["To"] for m in world.mail()) == [ANN, "tess@hill.example.org"]


# -- 4. the SMTP server down, then back -------------------------------------------------------------


def test_smtp_down_then_back_the_mail_arrives_exactly_once(world: World) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.sink.stop()
    assert world.send() == {"sent": 0, "failed": 0, "retrying": 1}
    [entry] = world.app.delivery_log()
    assert entry["status"] == "pending" and len(entry["attempts"]) == 1
    assert "cannot talk to SMTP server" in entry["attempts"][0]["error"]
    assert entry["next_attempt_at"] == START + dt.timedelta(seconds=30)

    world.sink.start()
    world.clock.advance(seconds=29)
    assert world.send()["sent"] == 0  # back, but the pause is not over
    world.clock.advance(seconds=1)
    assert world.send() == {"sent": 1, "failed": 0, "retrying": 0}
    world.clock.advance(hours=2)
    assert world.send()["sent"] == 0
    [message] = world.mail()
    assert message["To"] == ANN
    [entry] = world.app.delivery_log()
    assert (entry["status"], entry["sent_at"], len(entry["attempts"])) == (
        "sent", START + dt.timedelta(seconds=30), 1)


def test_a_451_is_retried_and_the_mail_arrives_once(store: Store, coventry: Authority,
                                                   tmp_path: Path) -> None:
    sink = SinkProcess(tmp_path / "mail", fail_first=1)
    sink.start()
    w = World(store, coventry, sink)
    try:
        w.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
        assert w.send() == {"sent": 0, "failed": 0, "retrying": 1}
        [entry] = w.app.delivery_log(status="pending")
        assert "451" in entry["attempts"][0]["error"]
        assert sink.messages() == []
        w.clock.advance(seconds=30)
        assert w.send() == {"sent": 1, "failed": 0, "retrying": 0}
        w.clock.advance(minutes=10)
        assert w.send()["sent"] == 0
        assert [m["To"] for m in sink.messages()] == [ANN]
    finally:
        w.close()
        sink.stop()


# -- 5. killed between intent and send ---------------------------------------------------------------


def send_in_a_child(w: World, crash_at: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SANCTUARY_CRASH_AT": crash_at,
           "NOTIFY_TEST_STORE_ENV": json.dumps(w.store.env("notifications")),
           "NOTIFY_TEST_SMTP_PORT": str(w.sink.port), "NOTIFY_TEST_NOW": w.clock.now().isoformat()}
    return subprocess.run([sys.executable, "-m", "tests.integration.notifications_crash"],
                          env=env, capture_output=True, timeout=60)


def test_a_sender_killed_before_claiming_leaves_it_for_the_next(world: World) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    child = send_in_a_child(world, "notifications.before_claim")
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert world.mail() == []
    assert [e["status"] for e in world.app.delivery_log()] == ["pending"]
    assert world.send()["sent"] == 1
    assert [m["To"] for m in world.mail()] == [ANN]


def test_a_sender_killed_after_claiming_is_taken_over_once_the_claim_is_stale(world: World) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    child = send_in_a_child(world, "notifications.before_send")
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert world.mail() == []
    assert [e["status"] for e in world.app.delivery_log()] == ["sending"]
    assert world.send()["sent"] == 0  # claimed a moment ago: not ours to take

    clock = FixedClock(START)
    other = world.build(clock=clock, claim_timeout=dt.timedelta(seconds=20))
    clock.advance(seconds=19)
    assert other.send_due(world.mailer)["sent"] == 0
    clock.advance(seconds=1)
    assert other.send_due(world.mailer)["sent"] == 1
    assert other.send_due(world.mailer)["sent"] == 0
    world.clock.advance(hours=1)
    assert world.send()["sent"] == 0
    [message] = world.mail()
    assert message["Message-ID"] == message_id("pledges:1", "school-registered", ANN)
    assert [e["status"] for e in world.app.delivery_log()] == ["sent"]


def test_killed_after_the_server_accepted_the_message_is_resent_with_the_same_message_id(
        world: World) -> None:
    """The documented window: the server took the message, the process died before recording
    it sent. Once the claim is stale the message goes again, with the same Message-ID, so a
    mail program shows it once; the log shows it sent once."""
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    child = send_in_a_child(world, "notifications.after_send")
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert len(world.mail()) == 1
    assert [e["status"] for e in world.app.delivery_log()] == ["sending"]
    world.clock.advance(minutes=4, seconds=59)
    assert world.send()["sent"] == 0
    world.clock.advance(seconds=1)  # the default claim timeout, five minutes
    assert world.send()["sent"] == 1
    world.clock.advance(hours=1)
    assert world.send()["sent"] == 0
    mail = world.mail()
    assert [m["To"] for m in mail] == [ANN, ANN]
    assert {m["Message-ID"] for m in mail} == {message_id("pledges:1", "school-registered", ANN)}
    [entry] = world.app.delivery_log()
    assert (entry["status"], entry["sent_at"]) == ("sent", START + dt.timedelta(minutes=5))


# -- 6. preferences ------------------------------------------------------------------------------------


def test_only_newsletter_readers_hear_of_a_new_session_but_everyone_of_deadlines(
        world: World, coventry: Authority) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.register(OAK, "Oak Academy", "Olu Coordinator", OLU)
    world.newsletter(HILL, True)
    subscribed = world.event("pledges", "NewsletterSubscribed", {"urn": OAK})  # to arrive late
    world.newsletter(OAK, False)
    assert world.hear(subscribed) is True  # older news: Oak stays opted out
    world.start_application(OAK_APP, OAK, "Oak Academy")
    world.list_network_meetings()
    world.send()
    world.new_mail()

    world.feed("events", "SessionScheduled", {"event": NETWORK_EVENT, "session": jsonable({
        "id": "network-meeting-4a1b2c3d", "date_status": "confirmed", "date": dt.date(2027, 7, 7),
        "month": None, "start": dt.time(16), "end": dt.time(17), "venue_status": "tbc", "venue": None,
        "joining_link": None})})
    assert world.send()["sent"] == 1
    [news] = world.new_mail()
    sent_properly(news, coventry)
    assert (news["To"], news["Subject"]) == (ANN, f"New CPD session: {NETWORK_TITLE}")
    assert "Wednesday 7 July 2027, 4pm to 5pm" in text(news)
    assert f"{WHY} your school receives the Schools of Sanctuary newsletter.\nTo stop emails like this " \
           "(news of CPD sessions), unsubscribe here: http" in text(news)
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert news["List-Unsubscribe"].startswith("<http") and "/unsubscribe?token=" in news["List-Unsubscribe"]
    assert [e["to"] for e in world.app.delivery_log(kind="new-session")] == [ANN]

    world.day(dt.date(2027, 3, 11))
    world.app.remind()
    world.send()
    assert [(m["To"], m["Subject"]) for m in world.new_mail()] == [(OLU, "14 days to the draft deadline")]


# -- 7. the delivery log -------------------------------------------------------------------------------


def test_the_delivery_log_shows_what_went_to_whom_and_when_and_what_failed(
        world: World, coventry: Authority) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    assert world.send()["sent"] == 1

    # nothing listens on this port: a transient failure, to be retried
    world.clock.advance(minutes=1)
    world.register(OAK, "Oak Academy", "Olu Coordinator", OLU)
    nowhere = Mailer(SmtpSettings("127.0.0.1", free_port(), "none", None, None, 2.0))
    assert world.send(nowhere) == {"sent": 0, "failed": 0, "retrying": 1}

    # the sink cannot do what this mailer needs (STARTTLS): a permanent failure, given up at once
    world.clock.advance(seconds=20)  # Oak's retry is not due yet
    world.feed("pledges", "PledgeSigned",
               {"urn": HILL, "signed_by": "Ms Head", "role": "Head teacher", "signed_on": "2026-09-07"})
    no_tls = Mailer(world.sink.settings(security="starttls"))
    assert world.send(no_tls) == {"sent": 0, "failed": 3, "retrying": 0}

    log = world.app.delivery_log()
    assert [e["created_at"] for e in log] == sorted((e["created_at"] for e in log), reverse=True)
    assert sorted((e["kind"], e["to"], e["status"]) for e in log) == [
        ("pledge-signed", ANN, "failed"),
        ("pledge-signed-lead", "the local lead", "failed"),  # whoever holds the role when it is sent
        ("school-registered", ANN, "sent"),
        ("school-registered", OLU, "pending"),
        ("starter-pack", ANN, "failed"),  # Coventry's audit tool, with the pledge
    ]
    assert [e["kind"] for e in log][3:] == ["school-registered"] * 2 and log[4]["to"] == ANN  # newest first
    sent = world.app.delivery_log(status="sent")
    assert len(sent) == 1
    assert sent[0] | {"id": None, "created_at": None} == {
        "id": None, "key": f"pledges:1/school-registered/{subject_for_email(ANN)}",
        "kind": "school-registered", "status": "sent", "to": ANN,
        "subject": "Hill Primary is registered for Schools of Sanctuary",
        "reason": "you are your school's Schools of Sanctuary coordinator", "optional": False,
        "created_at": None, "sent_at": START, "attempts": [], "next_attempt_at": None}

    [pending] = world.app.delivery_log(status="pending")
    assert pending["to"] == OLU and pending["sent_at"] is None
    assert pending["next_attempt_at"] == START + dt.timedelta(minutes=1, seconds=30)
    assert pending["attempts"][0]["at"] == START + dt.timedelta(minutes=1)

    failed = world.app.delivery_log(status="failed")
    assert {e["to"] for e in failed} == {ANN, "the local lead"}
    for entry in failed:
        assert entry["sent_at"] is None and entry["next_attempt_at"] is None
        [attempt] = entry["attempts"]
        assert attempt["at"] == START + dt.timedelta(minutes=1, seconds=20)
        assert "STARTTLS" in attempt["error"]
    assert world.app.counts() == {"sent": 1, "pending": 1, "failed": 3}
    # a failed notification stays failed: the right mailer does not send it
    world.clock.advance(days=1)
    assert world.send() == {"sent": 1, "failed": 0, "retrying": 0}  # only Oak's, retried
    assert sorted(m["To"] for m in world.mail()) == sorted([ANN, OLU])


# -- 8. erasure ----------------------------------------------------------------------------------------


def test_an_erased_persons_pending_mail_is_held_back_and_the_log_hides_them(
        world: World, coventry: Authority) -> None:
    world.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    world.feed("pledges", "PledgeSigned",
               {"urn": HILL, "signed_by": "Ms Head", "role": "Head teacher", "signed_on": "2026-09-07"})
    world.start_application(HILL_APP, HILL, "Hill Primary")
    assert world.app.erase_subject(subject_for_email(ANN)) is True

    assert world.send() == {"sent": 1, "failed": 0, "retrying": 0}  # the lead's note only
    assert [m["To"] for m in world.mail()] == [coventry.contact_email]
    log = {e["kind"]: e for e in world.app.delivery_log()}
    assert set(log) == {"school-registered", "pledge-signed", "pledge-signed-lead", "starter-pack"}
    for kind in ("school-registered", "pledge-signed", "starter-pack"):
        entry = log[kind]
        assert (entry["status"], entry["to"], entry["subject"]) == ("suppressed", "[erased]", "[erased]")
        assert entry["reason"].endswith("(held back: the person's data was erased)")
        assert ANN not in json.dumps(entry, default=str)
    assert log["pledge-signed-lead"]["status"] == "sent"
    assert sorted(e["kind"] for e in world.app.delivery_log(status="suppressed")) == [
        "pledge-signed", "school-registered", "starter-pack"]

    # nor is the erased coordinator reminded of anything later
    world.day(dt.date(2027, 3, 11))
    assert world.app.remind() == 0
    world.send()
    assert [m["To"] for m in world.mail()] == [coventry.contact_email]


# -- a poison message ----------------------------------------------------------------------------------


def test_a_line_break_in_a_name_does_not_break_the_subject(world: World) -> None:
    """Names are one line where they enter; a line break arriving anyway is folded into the
    subject, not allowed to crash the sender."""
    world.register(HILL, "Hill\nPrimary", "Ann Coordinator", ANN)
    world.register(OAK, "Oak Academy", "Olu Coordinator", OLU)
    counts = world.send()
    assert counts == {"sent": 2, "failed": 0, "retrying": 0}
    assert sorted(m["Subject"] for m in world.mail()) == [
        "Hill Primary is registered for Schools of Sanctuary",
        "Oak Academy is registered for Schools of Sanctuary"]


# -- unsubscribing ---------------------------------------------------------------------------------


def test_unsubscribing_holds_back_optional_mail_waiting_and_to_come_but_never_essential_mail(
        world: World) -> None:
    hill(world)
    world.newsletter(HILL, True)
    world.list_network_meetings()
    session = {"event": NETWORK_EVENT, "session": jsonable({
        "id": "network-meeting-4a1b2c3d", "date_status": "confirmed", "date": dt.date(2027, 7, 7),
        "month": None, "start": dt.time(16), "end": dt.time(17), "venue_status": "tbc", "venue": None,
        "joining_link": None})}
    world.feed("events", "SessionScheduled", session)  # its news waits to be sent
    link = world.app.links.unsubscribe(subject_for_email(ANN), "cpd-news")  # as its email carries it
    token = link.split("token=")[1]
    assert world.app.unsubscribe(token) == {"category": "cpd-news", "what": "news of CPD sessions",
                                            "done": False}
    assert world.app.unsubscribe(token)["done"] is True  # works once; after that it says so
    assert world.send()["sent"] == 0
    world.feed("events", "SessionScheduled", {**session, "session": {**session["session"],
                                                                     "id": "network-meeting-5e6f7a8b"}})
    world.book("b-1", "network-meeting-1", "Ann Coordinator", ANN)  # a place: essential
    assert world.send()["sent"] == 1
    assert [m["Subject"] for m in world.new_mail()] == [f"Your place: {NETWORK_TITLE}"]
    held = world.app.delivery_log(kind="new-session")
    assert [e["status"] for e in held] == ["suppressed", "suppressed"]
    assert all("unsubscribed from news of CPD sessions" in e["reason"] for e in held)
