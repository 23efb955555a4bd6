"""Calendars for every dated thing a person attends, by email: a school's visit, a catch-up
meeting and the celebration each come with an .ics (as a CPD booking does), one UID for
life, a SEQUENCE that rises with each change, CANCEL when it is off; a moved visit says
what changed. Each file is read by two independent parsers (icalendar and vobject), which
must give the same UK times on both sides of the clocks changing.

Real store, the mail sink, news fed through the real consumer as the services publish it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from services.events.application import sessions_of
from shared.authority import Authority
from shared.schema import jsonable
from tests.components import Store
from tests.integration import ON_POSTGRES, mail_fixtures
from tests.integration.mail_fixtures import SinkProcess
from tests.integration.people import AccountsInProcess
from tests.integration.test_notifications import ANN, DUE, HILL, HILL_APP, OAK, World, text

pytestmark = [pytest.mark.integration, ON_POSTGRES]  # see tests/integration/__init__.py
mail_sink = mail_fixtures.mail_sink  # the fixture, for pytest to find

LONDON = ZoneInfo("Europe/London")
EVENT = "c0ffee00c0ffee00c0ffee00c0ffee00"
OLU = "olu@oak.example.org"


@pytest.fixture
def world(store: Store, coventry: Authority, mail_sink: SinkProcess) -> Iterator[World]:
    w = World(store, coventry, mail_sink)
    w.people = AccountsInProcess(store)
    w.people.add("lena.lead@coventry.example.org", "Lena Lead", "lead")
    w.register(HILL, "Hill Primary", "Ann Coordinator", ANN)
    w.register(OAK, "Oak Academy", "Olu Coordinator", OLU)
    w.send()
    w.new_mail()
    yield w
    w.close()
    w.people.stop()


def ics(message: EmailMessage) -> tuple[str, bytes]:
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    return part.get_param("method"), part.get_payload(decode=True)


def read_both(raw: bytes) -> dict[str, Any]:
    """The one entry, as icalendar and as vobject read it; they must agree."""
    cal = Calendar.from_ical(raw)
    [entry] = cal.walk("VEVENT")
    other = vobject.readOne(raw.decode()).vevent
    start, end = entry.decoded("DTSTART"), entry.decoded("DTEND")
    assert start == other.dtstart.value and end == other.dtend.value
    if isinstance(start, dt.datetime):  # and the same instant, whichever zone each attached
        assert start.astimezone(dt.UTC) == other.dtstart.value.astimezone(dt.UTC)
    assert str(entry["UID"]) == other.uid.value
    assert int(entry["SEQUENCE"]) == int(other.sequence.value)
    return {"method": str(cal["METHOD"]), "uid": str(entry["UID"]), "sequence": int(entry["SEQUENCE"]),
            "start": start, "end": end, "status": str(entry["STATUS"]), "summary": str(entry["SUMMARY"])}


def test_a_visit_comes_with_its_calendar_entry_and_a_move_says_what_changed(world: World) -> None:
    world.start_application(HILL_APP, HILL, "Hill Primary", DUE)
    base = {"application": HILL_APP, "urn": HILL, "school_year": "2026-27"}
    world.feed("applications", "VisitScheduled", {**base, "on": "2027-06-15"})
    world.send()
    [first] = world.new_mail()
    assert (first["To"], first["Subject"]) == (ANN, "Your School of Sanctuary visit")
    method, raw = ics(first)
    entry = read_both(raw)
    assert (method, entry["method"], entry["sequence"], entry["status"]) == (
        "PUBLISH", "PUBLISH", 0, "CONFIRMED")
    assert entry["uid"] == f"visit-{HILL_APP}@coventry.schools-of-sanctuary"
    assert (entry["start"], entry["end"]) == (dt.date(2027, 6, 15), dt.date(2027, 6, 16))  # all day
    assert entry["summary"] == "School of Sanctuary visit: Hill Primary"

    world.feed("applications", "VisitScheduled", {**base, "on": "2027-06-17"})
    world.send()
    [moved] = world.new_mail()
    assert moved["Subject"] == "Your School of Sanctuary visit has moved"
    assert "has moved from Tuesday 15 June 2027 to Thursday 17 June 2027" in text(moved)
    entry = read_both(ics(moved)[1])
    assert (entry["uid"], entry["sequence"], entry["start"]) == (
        f"visit-{HILL_APP}@coventry.schools-of-sanctuary", 1, dt.date(2027, 6, 17))

    world.feed("applications", "ApplicationWithdrawn", base)
    world.send()
    [off] = world.new_mail()
    assert off["Subject"] == "Your School of Sanctuary visit is cancelled"
    method, raw = ics(off)
    entry = read_both(raw)
    assert (method, entry["method"], entry["status"], entry["sequence"]) == (
        "CANCEL", "CANCEL", "CANCELLED", 1)


@pytest.mark.parametrize(("day", "offset"), [
    ("2027-03-24", dt.timedelta(0)),  # GMT, the Wednesday before the clocks go forward
    ("2027-03-31", dt.timedelta(hours=1)),  # BST, the Wednesday after
    ("2027-11-03", dt.timedelta(0)),  # GMT again, after 31 October
])
def test_a_catch_up_meetings_time_is_read_the_same_across_the_clock_change(
        world: World, day: str, offset: dt.timedelta) -> None:
    request = "5a1e0c3b-0000-4000-8000-00000000c002"
    world.feed("events", "CatchUpRequested", {"request": request, "urn": HILL})
    world.feed("events", "CatchUpProposed", {"request": request, "date": day, "start": "15:30:00",
                                             "end": "16:30:00"})
    world.feed("events", "CatchUpConfirmed", {"request": request})
    world.send()
    confirmed = [m for m in world.new_mail() if "accepted" in m["Subject"] or "confirmed" in m["Subject"]]
    assert sorted(m["To"] for m in confirmed) == sorted([ANN, "lena.lead@coventry.example.org"])
    for message in confirmed:
        entry = read_both(ics(message)[1])
        local = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(15, 30), LONDON)
        assert entry["start"] == local and entry["start"].utcoffset() == offset
        assert "3:30pm to 4:30pm" in text(message)


def celebration_listed(w: World, coventry: Authority) -> None:
    item = coventry.cpd_item("celebration")
    w.feed("events", "ProgrammeListed", jsonable({"event": EVENT, "code": item.code, "title": item.title,
                                                  "kind": item.kind, "sessions": sessions_of(item)}))
    w.feed("events", "SessionRescheduled", {"event": EVENT, "session": "celebration-1", "when": {
        "date_status": "confirmed", "date": "2027-10-08", "month": None, "start": "18:00:00",
        "end": "20:00:00"}})
    w.feed("events", "VenueConfirmed", {"event": EVENT, "session": "celebration-1",
                                        "venue_status": "confirmed", "venue": "Council House"})


def invited(w: World, urn: str, invitation: str) -> None:
    w.feed("events", "CelebrationInvited", {
        "event": EVENT, "invitation": invitation, "urn": urn, "school_year": "2026-27",
        "title": "Schools of Sanctuary presentation and celebration", "session": "celebration-1",
        "date": "2027-10-08", "start": "18:00:00", "end": "20:00:00", "venue_status": "confirmed",
        "venue": "Council House", "application": f"app-{urn}", "awarded_on": "2027-07-01"})


def test_the_celebration_invitation_carries_its_entry_and_a_change_sends_an_update(
        world: World, coventry: Authority) -> None:
    celebration_listed(world, coventry)
    invited(world, HILL, "inv-hill")
    invited(world, OAK, "inv-oak")
    world.send()
    mail = {m["To"]: m for m in world.new_mail()}
    hill = mail[ANN]
    assert hill["Subject"] == "You are invited to celebrate"
    assert f"Accept or decline: http://127.0.0.1:8080/school/{HILL}\n" in text(hill)
    entry = read_both(ics(hill)[1])
    assert (entry["uid"], entry["sequence"]) == ("celebration-1@coventry.schools-of-sanctuary", 2)
    assert entry["start"] == dt.datetime(2027, 10, 8, 18, tzinfo=LONDON)
    assert entry["start"].utcoffset() == dt.timedelta(hours=1)  # BST

    world.feed("events", "CelebrationDeclined", {"event": EVENT, "invitation": "inv-oak", "urn": OAK,
                                                 "session": "celebration-1"})
    world.feed("events", "SessionRescheduled", {"event": EVENT, "session": "celebration-1", "when": {
        "date_status": "confirmed", "date": "2027-11-05", "month": None, "start": "18:00:00",
        "end": "20:00:00"}})
    world.send()
    [update] = world.new_mail()  # Oak declined: not told
    assert (update["To"], update["Subject"]) == (
        ANN, "New time: Schools of Sanctuary presentation and celebration")
    assert "Friday 5 November 2027, 6pm to 8pm, Council House" in text(update)
    entry = read_both(ics(update)[1])
    assert (entry["uid"], entry["sequence"]) == ("celebration-1@coventry.schools-of-sanctuary", 3)
    assert entry["start"] == dt.datetime(2027, 11, 5, 18, tzinfo=LONDON)
    assert entry["start"].utcoffset() == dt.timedelta(0)  # GMT by then

    world.feed("events", "SessionCancelled", {"event": EVENT, "session": "celebration-1", "reason": "Snow"})
    world.send()
    [off] = world.new_mail()
    assert off["Subject"] == "Cancelled: Schools of Sanctuary presentation and celebration"
    method, raw = ics(off)
    assert (method, read_both(raw)["status"], read_both(raw)["sequence"]) == ("CANCEL", "CANCELLED", 4)


def test_a_cpd_booking_and_its_move_across_the_clock_change_read_the_same_by_both(world: World) -> None:
    world.list_network_meetings()
    world.book("b-1", "network-meeting-1", "Tess Teacher", "tess@hill.example.org")  # 22 October 2026
    world.feed("events", "SessionRescheduled", {"event": "e", "session": "network-meeting-1", "when": {
        "date_status": "confirmed", "date": "2026-10-29", "month": None, "start": "16:00:00",
        "end": "17:00:00"}})
    world.send()
    booked, moved = world.new_mail()
    before, after = read_both(ics(booked)[1]), read_both(ics(moved)[1])
    assert (before["uid"], before["sequence"], after["uid"], after["sequence"]) == (
        "network-meeting-1@coventry.schools-of-sanctuary", 0,
        "network-meeting-1@coventry.schools-of-sanctuary", 1)
    assert before["start"] == dt.datetime(2026, 10, 22, 16, tzinfo=LONDON)
    assert before["start"].astimezone(dt.UTC).hour == 15  # BST
    assert after["start"] == dt.datetime(2026, 10, 29, 16, tzinfo=LONDON)
    assert after["start"].astimezone(dt.UTC).hour == 16  # GMT, after 25 October
