"""The CPD programme in a browser: anyone reads it; a school coordinator books a
member of staff, downloads the calendar entry, cancels and books again; the lead
sees the booking and records attendance, which the school's CPD record then
shows. Each outcome is checked through the JSON API too. On the real clock: the
session booked is one the lead adds for today, so it takes bookings and has
started (attendance is recorded only then)."""

from __future__ import annotations

import re

import pytest

from services.gateway.web.filters import long_date
from shared.clock import Clock
from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import Api, E2ESystem

pytestmark = pytest.mark.e2e

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

    school.click(f"Cancel the booking for {ABOUT}", label="booking cancelled")
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
