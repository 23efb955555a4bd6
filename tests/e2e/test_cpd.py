"""The CPD programme end to end: the whole system as processes, real HTTP in, the
events service's integration events read off the real RabbitMQ.

One system for the module (SQLite), on the real clock. The seed's table is what
the public listing shows; a school books staff, gets calendar files, and joins a
waiting list; a cancellation offers the place on; another school can touch none
of it. Bookings close once a session's day has passed and attendance opens once
it has started, so the sessions booked here are added by the lead around today.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import Counter

import kombu
import pytest
from icalendar import Calendar
from nameko.standalone.events import get_event_exchange

from shared.clock import UK, Clock
from shared.envelope import parse_envelope
from tests.e2e.conftest import Api, E2ESystem

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

A, B = "740201", "740202"  # two schools no other e2e test uses
LONDON_BST_OFFSET = dt.timedelta(hours=1)

# Coventry's "Schools of Sanctuary Offer 2026-2027" as the user wrote it:
# code -> (title, kind, runs by, [(date, the weekday the seed names)], start, end, venue status)
SEED = {
    "introduction": (
        "An introduction to Schools of Sanctuary – process, application and award", "session",
        "Coventry EMAS", [("2026-09-17", "Thursday")], "16:00:00", "17:00:00", "online"),
    "speak-up-for-sanctuary": (
        "Speak up for Sanctuary Central CPD", "session", "Coventry EMAS", [("2026-11-17", "Tuesday")],
        "13:15:00", "15:00:00", "confirmed"),
    "panel-training": (
        "Online Training for Panel Members and Local Leads", "run_by_others",
        "Schools of Sanctuary (national)", [(None, None)], None, None, "online"),
    "network-meeting": (
        "Schools of Sanctuary – network meeting of local schools", "series", "Coventry EMAS",
        [("2026-10-22", "Thursday"), ("2027-03-02", "Tuesday"), ("2027-06-30", "Wednesday")],
        "16:00:00", "17:00:00", "tbc"),
    "catch-up-meeting": (
        "Schools catch up meeting to share progress, review audit and action planning", "on_request",
        "Coventry EMAS", [], None, None, None),
    "refugee-week-planning": (
        "Refugee Week: Planning and Inspiration Central CPD", "session", "Coventry EMAS",
        [("2027-04-15", "Thursday")], None, None, "online"),
    "healing-classrooms": (
        "IRC Healing Classrooms", "session", "Coventry EMAS", [("2027-06-16", "Wednesday")], None, None,
        "tbc"),
    "day-of-welcome": (
        "Day of Welcome Refugee Week", "run_by_others", "Schools", [("2027-06-11", "Friday")], None, None,
        "at_school"),
    # Step 4 of the timeline: "presentation and celebration event to be arranged with EMAS"
    "celebration": (
        "Schools of Sanctuary presentation and celebration", "celebration", "Coventry EMAS", [(None, None)],
        None, None, "tbc"),
}
CONFIRMED_SESSIONS = {"introduction-1", "speak-up-for-sanctuary-1", "network-meeting-1", "network-meeting-2",
                      "network-meeting-3", "refugee-week-planning-1", "healing-classrooms-1",
                      "day-of-welcome-1"}


class EventsTap:
    """A plain kombu queue of our own, bound with ``#`` to the events service's exchange."""

    def __init__(self, amqp_uri: str) -> None:
        self.connection = kombu.Connection(amqp_uri)
        self.channel = self.connection.channel()
        self.queue = kombu.Queue(f"e2e-cpd-tap-{uuid.uuid4().hex[:8]}",
                                 exchange=get_event_exchange("events", {}), routing_key="#",
                                 durable=True, auto_delete=False)
        self.bound = self.queue(self.channel)
        self.bound.declare()

    def drain(self, expected: int, timeout: float = 15.0, quiet: float = 1.0) -> list:
        """Every message, once at least ``expected`` have come and ``quiet`` seconds pass without more."""
        got: list = []
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while True:
            message = self.bound.get(no_ack=True)
            if message is not None:
                got.append(parse_envelope(json.loads(message.body)))
                last = time.monotonic()
                continue
            if len(got) >= expected and time.monotonic() - last > quiet:
                return got
            if time.monotonic() > deadline:
                if len(got) >= expected:
                    return got
                raise AssertionError(f"only {len(got)} of {expected} messages came: "
                                     f"{[e.type for e in got]}")
            time.sleep(0.05)

    def close(self) -> None:
        try:
            self.bound.delete()
        finally:
            self.connection.release()


@pytest.fixture(scope="module")
def lead(system: E2ESystem) -> Api:
    return Api(system)


@pytest.fixture(scope="module")
def school_a(system: E2ESystem) -> Api:
    return Api(system, system.coordinator(A))


@pytest.fixture(scope="module")
def school_b(system: E2ESystem) -> Api:
    return Api(system, system.coordinator(B))


@pytest.fixture(scope="module")
def anonymous(system: E2ESystem) -> Api:
    return Api(system, None)


def put(api: Api, path: str, body: dict):
    return api.call("PUT", path, json=body)


def details(api: Api, code: str, capacity: int | None) -> dict:
    event = api.ok(api.get(f"/programme/{code}"))
    return {"title": event["title"], "description": event["description"], "audience": event["audience"],
            "capacity": capacity}


def booking_body(urn: str, n: int) -> dict:
    return {"urn": urn, "name": f"Teacher {n}", "email": f"teacher{n}@{urn}.example.org"}


def add_session(lead: Api, code: str, day: dt.date, times: dict | None = None) -> str:
    """The lead adds a session on ``day``; returns its id."""
    before = {s["id"] for s in lead.ok(lead.get(f"/programme/{code}"))["sessions"]}
    added = lead.ok(lead.post(f"/programme/{code}/sessions", {"date": day.isoformat(), **(times or {})}), 201)
    [session] = [s["id"] for s in added["sessions"] if s["id"] not in before]
    return session


def today() -> dt.date:
    return Clock().today()  # the services' "today": UK local date


def parse_ics(response) -> Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


# -- what anyone sees ---------------------------------------------------------------------------


def test_the_published_programme_is_the_seeds_table(anonymous: Api) -> None:
    items = {item["code"]: item for item in anonymous.ok(anonymous.get("/programme"))["items"]}
    assert set(items) == set(SEED)
    for code, (title, kind, runs_by, dates, start, end, venue_status) in SEED.items():
        item = items[code]
        assert (item["title"], item["kind"], item["runs_by"]) == (title, kind, runs_by), code
        assert item["bookable"] is (kind in ("session", "series")), code
        assert [(s["date"], s["weekday"]) for s in item["sessions"]] == dates, code
        for s in item["sessions"]:
            assert (s["start"], s["end"], s["venue_status"]) == (start, end, venue_status), code
            assert s["date_status"] == ("tbc" if s["date"] is None else "confirmed"), code
            assert "joining_link" not in s
    one = anonymous.ok(anonymous.get("/programme/speak-up-for-sanctuary"))
    assert one["sessions"][0]["venue"] == "Council House, Diamond Room 5"
    missing = anonymous.get("/programme/no-such-event")
    assert missing.status_code == 404, missing.text


def test_the_programme_feed_has_only_confirmed_dates(anonymous: Api) -> None:
    response = anonymous.get("/programme.ics")
    cal = parse_ics(response)
    assert "programme.ics" in response.headers["Content-Disposition"]
    entries = {str(e["UID"]).removesuffix("@coventry.schools-of-sanctuary"): e for e in cal.walk("VEVENT")}
    assert set(entries) == CONFIRMED_SESSIONS  # not panel training (TBC), not catch-ups (on request)
    assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["Europe/London"]
    june = entries["network-meeting-3"]["DTSTART"].dt
    assert june.utcoffset() == LONDON_BST_OFFSET
    assert june.astimezone(dt.UTC) == dt.datetime(2027, 6, 30, 15, 0, tzinfo=dt.UTC)
    march = entries["network-meeting-2"]["DTSTART"].dt
    assert march.astimezone(dt.UTC) == dt.datetime(2027, 3, 2, 16, 0, tzinfo=dt.UTC)
    assert entries["refugee-week-planning-1"]["DTSTART"].params["VALUE"] == "DATE"


# -- booking, the waiting list and the bus ----------------------------------------------------


def test_booking_a_waiting_list_and_an_offer(system: E2ESystem, lead: Api, school_a: Api,
                                             school_b: Api) -> None:
    code, day = "network-meeting", today() + dt.timedelta(days=60)
    starts = dt.datetime.combine(day, dt.time(16), tzinfo=UK).astimezone(dt.UTC)
    tap = EventsTap(system.amqp_uri)
    try:
        session = add_session(lead, code, day, {"start": "16:00", "end": "17:00"})  # venue TBC
        bookings = f"/programme/{code}/sessions/{session}/bookings"
        described = lead.ok(put(lead, f"/programme/{code}", details(lead, code, 1)))
        assert described["capacity"] == 1

        first = school_a.ok(school_a.post(bookings, booking_body(A, 1)), 201)
        assert (first["status"], first["urn"], first["session"]) == ("booked", A, session)
        assert first["person"] == {"name": "Teacher 1", "email": f"teacher1@{A}.example.org"}
        first_path = f"/programme/{code}/bookings/{first['id']}"

        cal = parse_ics(school_a.get(f"{first_path}/calendar.ics"))
        entry = cal.walk("VEVENT")[0]
        assert str(cal["METHOD"]) == "PUBLISH"
        assert str(entry["UID"]) == f"{session}@coventry.schools-of-sanctuary"
        assert entry["SEQUENCE"] == 0
        assert entry["DTSTART"].dt.astimezone(dt.UTC) == starts

        # another school's coordinator can neither see, cancel, nor claim it
        for response in (school_b.get(first_path), school_b.get(f"{first_path}/calendar.ics"),
                         school_b.call("DELETE", first_path), school_b.post(f"{first_path}/claim")):
            assert response.status_code == 403, (response.request.method, response.url, response.text)
        # nor book in school A's name
        assert school_b.post(bookings, booking_body(A, 9)).status_code == 403

        second = school_a.ok(school_a.post(bookings, booking_body(A, 2)), 201)
        assert second["status"] == "waiting"
        second_path = f"/programme/{code}/bookings/{second['id']}"
        listed = lead.ok(lead.get(f"/programme/{code}"))["sessions"]
        meeting = next(s for s in listed if s["id"] == session)
        assert (meeting["places_taken"], meeting["places_left"], meeting["waiting"]) == (1, 0, 1)

        before_cancel = dt.datetime.now(dt.UTC)
        cancelled = school_a.ok(school_a.call("DELETE", first_path))
        assert cancelled["status"] == "cancelled"
        offered = school_a.ok(school_a.get(second_path))
        assert offered["status"] == "offered"
        expires = dt.datetime.fromisoformat(offered["offer_expires_at"])
        assert before_cancel + dt.timedelta(hours=47) < expires < before_cancel + dt.timedelta(hours=49)
        assert school_b.post(f"{second_path}/claim").status_code == 403
        gone = parse_ics(school_a.get(f"{first_path}/calendar.ics"))
        assert str(gone["METHOD"]) == "CANCEL"

        # an offered place has no calendar entry yet; the cancelled one still follows the session
        assert school_a.get(f"{second_path}/calendar.ics").status_code == 409
        sequence_before = parse_ics(school_a.get(f"{first_path}/calendar.ics")).walk("VEVENT")[0]["SEQUENCE"]
        venue = {"venue_status": "confirmed", "venue": "Council House, Diamond Room 5"}
        lead.ok(put(lead, f"/programme/{code}/sessions/{session}/venue", venue))
        after = parse_ics(school_a.get(f"{first_path}/calendar.ics")).walk("VEVENT")[0]
        assert after["SEQUENCE"] == sequence_before + 1
        assert str(after["LOCATION"]) == "Council House, Diamond Room 5"

        events = tap.drain(6)
    finally:
        tap.close()
    assert Counter(e.type for e in events) == Counter(
        ["SessionScheduled", "PlaceBooked", "WaitingListJoined", "BookingCancelled", "PlaceOffered",
         "VenueConfirmed"])
    by_type = {e.type: e for e in events}
    assert [e.type for e in events] == ["SessionScheduled", "PlaceBooked", "WaitingListJoined",
                                        "BookingCancelled", "PlaceOffered", "VenueConfirmed"]
    assert by_type["SessionScheduled"].payload["session"]["id"] == session
    assert {e.origin for e in events} == {"events"}
    assert {e.authority for e in events} == {"coventry"}
    coordinator = system.coordinator(A).actor
    assert by_type["PlaceBooked"].actor == by_type["WaitingListJoined"].actor == coordinator
    assert by_type["BookingCancelled"].actor == coordinator
    assert by_type["PlaceOffered"].actor == "system:waiting-list"
    assert by_type["VenueConfirmed"].actor == by_type["SessionScheduled"].actor == system.lead.actor
    assert by_type["PlaceBooked"].payload["booking"] == first["id"]
    assert by_type["PlaceBooked"].payload["urn"] == A
    assert by_type["WaitingListJoined"].payload["booking"] == second["id"]
    assert by_type["BookingCancelled"].payload["booking"] == first["id"]
    assert by_type["PlaceOffered"].payload["booking"] == second["id"]
    assert dt.datetime.fromisoformat(by_type["PlaceOffered"].payload["expires_at"]) == expires
    assert by_type["VenueConfirmed"].payload == {
        "event": by_type["PlaceBooked"].payload["event"], "session": session, "venue_status": "confirmed",
        "venue": "Council House, Diamond Room 5"}
    positions = [e.position for e in events]
    assert positions == sorted(positions) and len(set(positions)) == 6


def test_an_offer_claimed_over_http(lead: Api, school_a: Api) -> None:
    code = "speak-up-for-sanctuary"
    session = add_session(lead, code, today() + dt.timedelta(days=30))
    bookings = f"/programme/{code}/sessions/{session}/bookings"
    lead.ok(put(lead, f"/programme/{code}", details(lead, code, 1)))
    first = school_a.ok(school_a.post(bookings, booking_body(A, 11)), 201)
    second = school_a.ok(school_a.post(bookings, booking_body(A, 12)), 201)
    assert (first["status"], second["status"]) == ("booked", "waiting")
    # the lead sees everyone booked and waiting, and may cancel for a school
    listed = lead.ok(lead.get(f"/programme/{code}/sessions/{session}/bookings"))["items"]
    assert {b["id"]: b["status"] for b in listed} == {first["id"]: "booked", second["id"]: "waiting"}
    lead.ok(lead.call("DELETE", f"/programme/{code}/bookings/{first['id']}"))
    claimed = school_a.ok(school_a.post(f"/programme/{code}/bookings/{second['id']}/claim"))
    assert (claimed["status"], claimed["offer_expires_at"]) == ("booked", None)
    # the same person cannot book twice
    again = school_a.post(bookings, booking_body(A, 12))
    assert again.status_code == 409, again.text


def test_the_schools_cpd_record_over_http(lead: Api, school_a: Api, school_b: Api) -> None:
    code, day = "introduction", today()
    session = add_session(lead, code, day)  # no times: under way since the day began
    booked = school_a.ok(school_a.post(f"/programme/{code}/sessions/{session}/bookings",
                                       booking_body(A, 21)), 201)  # people may book on the day
    lead.ok(lead.post(f"/programme/{code}/attendance", {"booking_id": booked["id"], "attended": True}))
    record = school_a.ok(school_a.get(f"/schools/{A}/cpd"))["items"]
    assert {"code": code, "title": SEED[code][0], "date": day.isoformat(),
            "person": {"name": "Teacher 21", "email": f"teacher21@{A}.example.org"},
            "status": "attended"} in record
    assert school_b.get(f"/schools/{A}/cpd").status_code == 403


def test_attendance_waits_for_the_session_to_start(lead: Api, school_a: Api) -> None:
    code = "healing-classrooms"
    session = add_session(lead, code, today() + dt.timedelta(days=1))
    booked = school_a.ok(school_a.post(f"/programme/{code}/sessions/{session}/bookings",
                                       booking_body(A, 61)), 201)
    before = lead.ok(lead.get(f"/programme/{code}/sessions/{session}/bookings"))
    response = lead.post(f"/programme/{code}/attendance", {"booking_id": booked["id"], "attended": True})
    assert response.status_code == 422, response.text
    assert "has started" in response.json()["fields"]["booking_id"][0], response.json()
    assert lead.ok(lead.get(f"/programme/{code}/sessions/{session}/bookings")) == before


def test_a_session_whose_day_has_passed_takes_no_bookings(lead: Api, school_a: Api) -> None:
    code = "refugee-week-planning"
    session = add_session(lead, code, today() - dt.timedelta(days=1))
    listed = next(s for s in lead.ok(lead.get(f"/programme/{code}"))["sessions"] if s["id"] == session)
    assert (listed["past"], listed["open"]) == (True, False)
    response = school_a.post(f"/programme/{code}/sessions/{session}/bookings", booking_body(A, 71))
    assert response.status_code == 409, response.text
    assert response.json()["fields"] == {"session": ["This session has already taken place."]}
    assert lead.ok(lead.get(f"/programme/{code}/sessions/{session}/bookings"))["items"] == []


# -- refusals ---------------------------------------------------------------------------------


def test_booking_without_a_credential_is_401(anonymous: Api) -> None:
    response = anonymous.post("/programme/introduction/sessions/introduction-1/bookings",
                              booking_body(A, 31))
    assert response.status_code == 401, response.text
    assert anonymous.get("/programme/introduction/sessions/introduction-1/bookings").status_code == 401


def test_a_coordinator_cannot_do_the_leads_work(school_a: Api) -> None:
    code = "network-meeting"
    assert put(school_a, f"/programme/{code}", details(school_a, code, 50)).status_code == 403
    venue = {"venue_status": "confirmed", "venue": "My school hall"}
    assert put(school_a, f"/programme/{code}/sessions/{code}-1/venue", venue).status_code == 403


@pytest.mark.parametrize(("who", "method", "path", "body", "field"), [
    ("lead", "PUT", "/programme/network-meeting/sessions/network-meeting-1/when",
     {"date_status": "confirmed", "date": "2026-10-22", "start": "17:00", "end": "16:00"}, "end"),
    ("lead", "PUT", "/programme/network-meeting", "capacity-0", "capacity"),
    ("school", "POST", "/programme/introduction/sessions/introduction-1/bookings",
     {"urn": A, "name": "Teacher 41", "email": "not-an-email"}, "email"),
    ("lead", "PUT", "/programme/network-meeting/sessions/network-meeting-1/venue",
     {"venue_status": "confirmed", "venue": None}, "venue"),
])
def test_bad_input_is_422_naming_the_field(lead: Api, school_a: Api, who: str, method: str, path: str,
                                           body: dict | str, field: str) -> None:
    api = lead if who == "lead" else school_a
    if body == "capacity-0":
        body = details(lead, "network-meeting", 0)
    before = lead.ok(lead.get("/programme/network-meeting"))
    response = api.call(method, path, json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["fields"], response.json()
    assert lead.ok(lead.get("/programme/network-meeting")) == before


def test_booking_a_tbc_or_run_by_others_session_is_refused(school_a: Api) -> None:
    response = school_a.post("/programme/panel-training/sessions/panel-training-1/bookings",
                             booking_body(A, 51))
    assert response.status_code == 409, response.text

