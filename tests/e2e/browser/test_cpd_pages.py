"""The CPD programme in a browser: anyone reads it; a school coordinator books a
member of staff, downloads the calendar entry, cancels (after confirming) and books
again; the lead sees the booking and records attendance, which the school's CPD
record then shows. The lead lists an event, gives it sessions of every kind (a
confirmed date, a month, TBC; a venue, online, at the school), changes one, cancels
it after confirming, prints a register and records attendance. A school asks for a
catch-up meeting, declines the lead's first time and confirms the second. Each
outcome is checked through the JSON API too, and each refused form changes nothing.
Every page is checked to fit a 390 px phone. On the real clock: the sessions booked
are on today, so they take bookings and have started (attendance is recorded only then)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sanctuary.mail_sink import read_folder
from services.gateway.web.filters import long_date
from shared.clock import Clock
from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import Api, E2ESystem, wait_for

pytestmark = pytest.mark.e2e
PHONE_FITS = True  # every page checked: no wider than a 390 px phone

URN = "630101"
CODE = "network-meeting"
TITLE, DAY = "Schools of Sanctuary – network meeting of local schools", long_date(Clock().today())
ABOUT = f"Ann Teacher on {TITLE}, {DAY}"
EMAIL = f"ann.teacher@{URN}.example.org"


@pytest.fixture(scope="module")
def session(system: E2ESystem) -> str:
    """A session of today the lead adds (no times: under way since the day began; venue TBC)."""
    lead = Api(system)
    before = {s["id"] for s in lead.ok(lead.get(f"/programme/{CODE}"))["sessions"]}
    added = lead.ok(lead.post(f"/programme/{CODE}/sessions", {"date": Clock().today().isoformat()}), 201)
    [new] = [s["id"] for s in added["sessions"] if s["id"] not in before]
    return new


def school_bookings(system: E2ESystem, session: str) -> list[dict]:
    """The session's bookings of our school, as the lead's API shows them."""
    lead = Api(system)
    items = lead.ok(lead.get(f"/programme/{CODE}/sessions/{session}/bookings"))["items"]
    return [b for b in items if b["urn"] == URN]


def book_ann(person: Visitor) -> None:
    person.click(f"Book a place on {TITLE}, {DAY}")
    assert person.heading() == "Book a place"
    person.fill("Full name", "Ann Teacher")
    person.fill("Email address", EMAIL)
    person.click("Book the place", label="booked")
    assert f"Ann Teacher is booked on {TITLE}." in person.text()


def test_anyone_sees_the_programme_in_words(system: E2ESystem, visit) -> None:
    person: Visitor = visit("phone")
    person.open("/cpd")
    assert person.heading() == "CPD programme"
    text = person.text()
    assert "Tuesday 17 November 2026" in text and "1:15pm to 3pm" in text
    assert "Council House, Diamond Room 5" in text
    assert "Date to be confirmed" in text and "Online" in text and "Venue to be confirmed" in text
    feed = person.page.get_by_role("link", name="Add the programme to your calendar (.ics file)")
    assert feed.get_attribute("href") == "/programme.ics"


def test_a_school_books_cancels_and_the_lead_records_attendance(system: E2ESystem, visit,
                                                                session: str) -> None:
    coordinator = system.coordinator(URN)
    school: Visitor = visit().sign_in_as(coordinator)
    school.open(f"/school/{URN}/cpd")
    assert school.heading() == "Your school's CPD"
    assert "You have no places booked or waiting." in school.text()

    school.click(f"Book a place on {TITLE}, {DAY}")
    school.fill("Email address", EMAIL)
    school.click("Book the place", label="booking refused, no name")
    assert school.error_summary() == ["Enter the full name of the member of staff"]
    assert school.page.locator("#email").input_value() == EMAIL  # kept as typed
    assert school_bookings(system, session) == []
    school.open(f"/school/{URN}/cpd")
    book_ann(school)
    [booking] = school_bookings(system, session)
    assert (booking["status"], booking["person"]["name"]) == ("booked", "Ann Teacher")

    link = school.page.get_by_role("link", name=f"Add to calendar for {ABOUT}")
    calendar = school.page.request.get(system.base_url + link.get_attribute("href"))
    assert calendar.status == 200 and calendar.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in calendar.text() and "network meeting" in calendar.text()

    school.click(f"Cancel the booking for {ABOUT}")
    assert school.heading() == "Are you sure you want to cancel this booking?"
    school.click("No, keep the booking", label="booking kept")
    assert [b["status"] for b in school_bookings(system, session)] == ["booked"]
    school.click(f"Cancel the booking for {ABOUT}")
    school.click("Yes, cancel the booking", label="booking cancelled")
    assert "The booking is cancelled." in school.text()
    assert [b["status"] for b in school_bookings(system, session)] == ["cancelled"]
    book_ann(school)
    assert [b["status"] for b in school_bookings(system, session)] == ["cancelled", "booked"]

    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open("/lead/cpd")
    assert lead.heading() == "CPD programme: bookings and attendance"
    assert EMAIL in lead.text()
    lead.click("Attended (Ann Teacher)", label="attendance recorded")
    assert "Attendance recorded: attended." in lead.text()
    assert [b["status"] for b in school_bookings(system, session)] == ["cancelled", "attended"]

    school.open(f"/school/{URN}/cpd", label="school CPD record")
    record = school.page.get_by_role("region", name="Your school's CPD record").inner_text()
    assert re.search(rf"Ann Teacher\s+{TITLE}\s+{DAY}\s+Attended", record), record
    as_school = Api(system, coordinator)
    assert [e["status"] for e in as_school.ok(as_school.get(f"/schools/{URN}/cpd"))["items"]] == ["attended"]


def test_a_coordinator_cannot_use_the_leads_page(system: E2ESystem, visit) -> None:
    person: Visitor = visit().sign_in_as(system.coordinator(URN))
    response = person.page.goto(system.base_url + "/lead/cpd")
    assert response.status == 403
    person.checked("lead page refused")
    assert person.heading() == "You cannot use this page"


# -- the lead runs an event of their own ------------------------------------------------------

EVENT, NEW_CODE = "Governors' briefing on the award", "governors-briefing-on-the-award"
TODAY = Clock().today()
LATER = TODAY + dt.timedelta(days=30)
NEXT_MONTH = (TODAY.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
SCHOOLS = {"630201": "Alder Primary School", "630202": "Birch Academy"}


def programme_codes(system: E2ESystem) -> set[str]:
    lead = Api(system)
    return {e["code"] for e in lead.ok(lead.get("/programme"))["items"]}


def sessions_of(system: E2ESystem, code: str = NEW_CODE) -> list[dict]:
    lead = Api(system)
    return lead.ok(lead.get(f"/programme/{code}"))["sessions"]


def fill_date(person: Visitor, name: str, day: dt.date) -> None:
    for part, value in (("day", day.day), ("month", day.month), ("year", day.year)):
        person.page.fill(f"#{name}-{part}", str(value))


def add_session(person: Visitor, when: str, where: str, label: str, **fields: str) -> None:
    person.click("Add a session")
    person.choose(when)
    person.choose(where)
    for field, value in fields.items():
        person.fill(field, value)
    person.click("Add the session", label=label)
    assert "The session is added to the programme." in person.text()


def test_the_lead_lists_an_event_gives_it_sessions_changes_and_cancels_one(system: E2ESystem,
                                                                         visit) -> None:
    lead: Visitor = visit("phone").sign_in_as(system.lead)
    lead.open("/lead/cpd")
    lead.click("Add an event")
    assert lead.heading() == "Add an event to the programme"
    before = programme_codes(system)
    lead.fill("Places in each session (optional)", "none")
    lead.click("Add the event", label="event refused")
    assert set(lead.error_summary()) == {
        "Enter the title of the event", "Select what kind of event it is", "Enter who runs the event",
        "Enter who the event is for",
        "Enter the number of places as a whole number from 1 to 10000, or leave it empty"}
    assert programme_codes(system) == before
    lead.fill("Title", EVENT)
    lead.choose("A series")
    lead.fill("Who runs it", "Coventry EMAS")
    lead.fill("Who it is for", "School governors")
    lead.fill("Places in each session (optional)", "2")
    lead.click("Add the event", label="event listed")
    assert lead.heading() == EVENT
    assert programme_codes(system) == before | {NEW_CODE}

    lead.click("Add a session")
    lead.choose("On a confirmed date")
    lead.choose("At a confirmed venue")
    lead.fill("Starts at", "16:00")
    lead.click("Add the session", label="session refused")
    assert lead.error_summary() == ["Enter the date of the session",
                                    "Enter both the start and end times, or neither",
                                    "Enter the name of the venue"]
    assert sessions_of(system) == []
    lead.fill("Starts at", "")
    fill_date(lead, "date", TODAY)
    lead.fill("Venue", "Council House, Diamond Room 5")
    lead.click("Add the session", label="session added")
    lead.click("Add a session")
    lead.choose("In a month, date to be confirmed")
    lead.page.fill("#month-month", str(NEXT_MONTH.month))
    lead.page.fill("#month-year", str(NEXT_MONTH.year))
    lead.choose("Online")
    lead.fill("Joining link (optional)", "https://meet.example.org/governors")
    lead.fill("Starts at", "18:00")
    lead.fill("Ends at", "19:00")
    lead.click("Add the session")
    add_session(lead, "Date to be confirmed", "At the school", "tbc session added")
    lead.click("Add a session")
    lead.choose("On a confirmed date")
    fill_date(lead, "date", LATER)
    lead.fill("Starts at", "16:00")
    lead.fill("Ends at", "17:00")
    lead.choose("Venue to be confirmed")
    lead.click("Add the session")
    sessions = sessions_of(system)
    assert [(s["date_status"], s["venue_status"]) for s in sessions] == [
        ("confirmed", "confirmed"), ("month", "online"), ("tbc", "at_school"), ("confirmed", "tbc")]
    text = lead.text()
    assert "Council House, Diamond Room 5" in text and "Date to be confirmed" in text
    assert f"{NEXT_MONTH:%B %Y} (exact date to be confirmed)" in text and "At your school" in text

    later = long_date(LATER)
    lead.click(f"View the session {EVENT}, {later}", label="session page")
    assert lead.heading() == later
    lead.click("Change the date, time or venue")
    assert lead.heading() == "Change the session"
    lead.click("Save the changes", label="session change refused")
    assert lead.error_summary() == ["Nothing was changed: that is already when and where the session is."]
    [moved] = [s for s in sessions_of(system) if s["date"] == LATER.isoformat()]
    assert moved["sequence"] == 0
    lead.fill("Starts at", "15:30")
    lead.fill("Ends at", "16:30")
    lead.choose("At a confirmed venue")
    lead.fill("Venue", "Central Library")
    lead.click("Save the changes", label="session changed")
    assert "3:30pm to 4:30pm" in lead.text() and "Central Library" in lead.text()
    [changed] = [s for s in sessions_of(system) if s["id"] == moved["id"]]
    assert (changed["start"], changed["venue"], changed["sequence"]) == ("15:30:00", "Central Library", 2)

    school = Api(system, system.coordinator(URN))
    booked = {"urn": URN, "name": "Cal Governor", "email": "cal.governor@630101.example.org"}
    school.ok(school.post(f"/programme/{NEW_CODE}/sessions/{moved['id']}/bookings", booked), 201)
    lead.open(f"/lead/cpd/events/{NEW_CODE}/sessions/{moved['id']}")
    lead.click("Cancel the session")
    assert lead.heading() == "Are you sure you want to cancel this session?"
    assert "1 person is booked or waiting: they will be told by email" in lead.text()
    lead.click("Yes, cancel the session", label="cancellation refused")
    assert lead.error_summary() == ["Enter why the session is cancelled"]
    assert next(s for s in sessions_of(system) if s["id"] == moved["id"])["status"] == "scheduled"
    lead.fill("Why is it cancelled?", "The library is closed for repairs")
    lead.click("Yes, cancel the session", label="session cancelled")
    assert "The session is cancelled. People booked on it are told by email." in lead.text()
    cancelled = next(s for s in sessions_of(system) if s["id"] == moved["id"])
    assert (cancelled["status"], cancelled["cancelled_because"]) == (
        "cancelled", "The library is closed for repairs")

    def told() -> list:  # the notifications service tells the people booked
        return [m for m in read_folder(system.mail_dir)
                if m["To"] == booked["email"] and m["Subject"].startswith("Cancelled:")]
    [email] = wait_for(told, 60, "the cancellation email to the person booked")
    assert "The library is closed for repairs" in email.get_body(("plain",)).get_content()


def test_the_lead_prints_a_register_and_records_attendance(system: E2ESystem, visit) -> None:
    lead_api = Api(system)
    for urn, name in SCHOOLS.items():
        school = {"urn": urn, "name": name, "phase": "primary", "postcode": "CV1 5FB",
                  "coordinator": {"name": "C", "email": f"c@{urn}.example.org"}}
        lead_api.ok(lead_api.post("/schools", school), 201)
    [today] = [s["id"] for s in sessions_of(system) if s["date"] == TODAY.isoformat()]
    for urn, person in zip(SCHOOLS, ("Ann Governor", "Ben Governor"), strict=True):
        as_school = Api(system, system.coordinator(urn))
        body = {"urn": urn, "name": person, "email": f"{person[:3].lower()}@{urn}.example.org"}
        as_school.ok(as_school.post(f"/programme/{NEW_CODE}/sessions/{today}/bookings", body), 201)

    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open(f"/lead/cpd/events/{NEW_CODE}/sessions/{today}", label="session with bookings")
    lead.click(f"Print the register for {EVENT}, {DAY}", label="register")
    assert lead.heading() == "Register"
    rows = lead.page.locator("table.sanctuary-register tbody tr").all_inner_texts()
    assert [re.sub(r"\s+", " ", r).strip() for r in rows[:2]] == [
        "Ann Governor Alder Primary School", "Ben Governor Birch Academy"]
    assert lead.page.get_by_role("columnheader", name="Signature").count() == 1
    lead.page.emulate_media(media="print")
    assert not lead.page.locator(".govuk-service-navigation").is_visible()
    assert lead.page.locator("table.sanctuary-register").is_visible()
    lead.page.emulate_media(media="screen")

    lead.open(f"/lead/cpd/events/{NEW_CODE}/sessions/{today}")
    lead.click("Attended (Ann Governor)", label="attendance recorded")
    assert "Attendance recorded: attended." in lead.text()
    lead_api = Api(system)
    statuses = {b["person"]["name"]: b["status"] for b in lead_api.ok(
        lead_api.get(f"/programme/{NEW_CODE}/sessions/{today}/bookings"))["items"]}
    assert statuses == {"Ann Governor": "attended", "Ben Governor": "booked"}


# -- meetings on request -------------------------------------------------------------------------

MEETING = "Schools catch up meeting to share progress, review audit and action planning"


def meetings(system: E2ESystem) -> list[dict]:
    lead = Api(system)
    return [m for m in lead.ok(lead.get("/catch-ups"))["items"] if m["urn"] == URN]


def test_a_school_asks_for_a_catch_up_the_lead_proposes_and_the_school_confirms(system: E2ESystem,
                                                                              visit) -> None:
    school: Visitor = visit("phone").sign_in_as(system.coordinator(URN))
    school.open(f"/school/{URN}/cpd")
    school.click(f"Ask for a meeting about {MEETING}")
    assert school.heading() == "Ask for a meeting"
    school.fill("What would you like to talk about? (optional)", "Reviewing our audit")
    school.click("Send the request", label="meeting asked for")
    assert "Your request is sent to the local lead." in school.text()
    [asked] = meetings(system)
    assert (asked["status"], asked["note"], asked["code"]) == ("requested", "Reviewing our audit",
                                                               "catch-up-meeting")

    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open("/lead/cpd")
    lead.click("Requests for meetings (1 waiting for a time)")
    assert lead.heading() == "Requests for meetings"
    lead.click(f"Propose a time for URN {URN}")
    lead.click("Propose the time", label="proposal refused")
    assert lead.error_summary() == ["Enter the date of the meeting", "Enter the start time",
                                    "Enter the end time"]
    assert meetings(system)[0]["status"] == "requested"
    first, second = TODAY + dt.timedelta(days=7), TODAY + dt.timedelta(days=8)
    fill_date(lead, "date", first)
    lead.fill("Starts at (UK time)", "15:30")
    lead.fill("Ends at (UK time)", "16:30")
    lead.fill("Where (optional)", "At the school")
    lead.click("Propose the time", label="time proposed")
    assert "The time is proposed." in lead.text()
    assert meetings(system)[0]["proposal"]["date"] == first.isoformat()

    proposed = f"{long_date(first)}, 3:30pm to 4:30pm, At the school"
    school.open(f"/school/{URN}/cpd", label="time proposed to the school")
    assert proposed in school.text()
    school.click(f"Decline the time for {MEETING}, {proposed}")
    school.click("Decline the time", label="decline refused")
    assert school.error_summary() == ["Tell the lead why, or when would suit you better"]
    assert meetings(system)[0]["status"] == "proposed"
    school.fill("Why does this time not suit you?", "Parents' evening; the next day suits us")
    school.click("Decline the time", label="time declined")
    assert meetings(system)[0]["status"] == "declined"

    lead.open("/lead/cpd/meetings", label="meetings after a decline")
    assert "Parents' evening; the next day suits us" in lead.text()
    lead.click(f"Propose another time for URN {URN}")
    fill_date(lead, "date", second)
    lead.fill("Starts at (UK time)", "9:00")
    lead.fill("Ends at (UK time)", "10:00")
    lead.click("Propose the time")

    again = f"{long_date(second)}, 9am to 10am"
    school.open(f"/school/{URN}/cpd")
    school.click(f"Confirm the time for {MEETING}, {again}", label="meeting confirmed")
    assert f"The meeting is confirmed: {again}." in school.text()
    [confirmed] = meetings(system)
    assert (confirmed["status"], confirmed["proposal"]["date"]) == ("confirmed", second.isoformat())
