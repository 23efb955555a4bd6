"""The Programme application (CPD events, bookings, waiting lists, calendars) on a
real store: every test on SQLite and on PostgreSQL, with a clock that stands still."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.events.application import OFFER_WINDOW, Programme
from services.events.contract import EVENTS
from services.events.programme import CpdEvent
from shared.authority import Authority
from shared.clock import FixedClock
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from tests.integration import ON_POSTGRES

pytestmark = ON_POSTGRES  # see tests/integration/__init__.py

NOW = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)
LONDON = ZoneInfo("Europe/London")
LEAD = "account:lead"
COORDINATOR = "account:coordinator"
URN, OTHER_URN = "740101", "740102"
T = dt.time

# Coventry's "Schools of Sanctuary Offer 2026-2027", row by row, as the seed gives it:
# (title, kind, who runs it, [(date, weekday the seed names)], start, end, venue status).
SEED = {
    "introduction": (
        "An introduction to Schools of Sanctuary – process, application and award", "session",
        "Coventry EMAS", [(dt.date(2026, 9, 17), "Thursday")], T(16), T(17), "online"),
    "speak-up-for-sanctuary": (
        "Speak up for Sanctuary Central CPD", "session", "Coventry EMAS",
        [(dt.date(2026, 11, 17), "Tuesday")], T(13, 15), T(15), "confirmed"),
    "panel-training": (
        "Online Training for Panel Members and Local Leads", "run_by_others",
        "Schools of Sanctuary (national)", [(None, None)], None, None, "online"),
    "network-meeting": (
        "Schools of Sanctuary – network meeting of local schools", "series", "Coventry EMAS",
        [(dt.date(2026, 10, 22), "Thursday"), (dt.date(2027, 3, 2), "Tuesday"),
         (dt.date(2027, 6, 30), "Wednesday")], T(16), T(17), "tbc"),
    "catch-up-meeting": (
        "Schools catch up meeting to share progress, review audit and action planning", "on_request",
        "Coventry EMAS", [], None, None, None),
    "refugee-week-planning": (
        "Refugee Week: Planning and Inspiration Central CPD", "session", "Coventry EMAS",
        [(dt.date(2027, 4, 15), "Thursday")], None, None, "online"),
    "healing-classrooms": (
        "IRC Healing Classrooms", "session", "Coventry EMAS",
        [(dt.date(2027, 6, 16), "Wednesday")], None, None, "tbc"),
    "day-of-welcome": (
        "Day of Welcome Refugee Week", "run_by_others", "Schools",
        [(dt.date(2027, 6, 11), "Friday")], None, None, "at_school"),
    # Step 4 of the timeline: "presentation and celebration event to be arranged with EMAS"
    "celebration": (
        "Schools of Sanctuary presentation and celebration", "celebration", "Coventry EMAS",
        [(None, None)], None, None, "tbc"),
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def open_programme(store, coventry: Authority, clock: FixedClock):
    """Opens a Programme on the test's store (as many instances as a test wants)."""
    opened: list[Programme] = []

    def open_() -> Programme:
        app = Programme(env=store.env("events"), authority=coventry, clock=clock)
        opened.append(app)
        return app

    yield open_
    for app in opened:
        app.close()


@pytest.fixture
def programme(open_programme) -> Programme:
    app = open_programme()
    app.seed()
    return app


def staff(n: int) -> tuple[str, str]:
    return f"Teacher {n}", f"teacher{n}@school.example.org"


def book(app: Programme, n: int, code: str = "network-meeting", session: str = "network-meeting-1",
         urn: str = URN) -> dict:
    name, email = staff(n)
    return app.book(COORDINATOR, code, session, urn, name, email)


def set_capacity(app: Programme, capacity: int | None, code: str = "network-meeting") -> dict:
    event = app.event(code)
    return app.describe(LEAD, code, event["title"], event["description"], event["audience"], capacity)


def after(day: dt.date, time: dt.time) -> dt.datetime:
    """A minute after ``time`` on ``day`` in Coventry, as the clock's UTC."""
    return (dt.datetime.combine(day, time, tzinfo=LONDON) + dt.timedelta(minutes=1)).astimezone(dt.UTC)


def session_view(app: Programme, code: str, session_id: str) -> dict:
    return next(s for s in app.event(code)["sessions"] if s["id"] == session_id)


# -- 1. the seed programme -------------------------------------------------------------------


def test_every_row_of_the_seed_programme_is_listed(programme: Programme) -> None:
    listed = {item["code"]: item for item in programme.programme()}
    assert set(listed) == set(SEED)
    for code, (title, kind, runs_by, dates, start, end, venue_status) in SEED.items():
        item = listed[code]
        assert (item["title"], item["kind"], item["runs_by"]) == (title, kind, runs_by), code
        assert item["bookable"] is (kind in ("session", "series")), code
        assert item["capacity"] is None, code  # the seed gives no capacities
        sessions = item["sessions"]
        assert [(s["date"], s["weekday"]) for s in sessions] == dates, code
        for s in sessions:
            assert (s["start"], s["end"], s["venue_status"]) == (start, end, venue_status), code
            assert s["date_status"] == ("tbc" if s["date"] is None else "confirmed"), code
            assert (s["status"], s["sequence"], s["places_taken"], s["waiting"]) == ("scheduled", 0, 0, 0)
            assert "joining_link" not in s  # only people booked see it
            if s["date"] is not None:
                assert s["weekday"] == s["date"].strftime("%A")


def test_the_seeds_tbc_venues_and_dates(programme: Programme) -> None:
    """Network meetings and IRC Healing Classrooms: venue TBC; panel training: date TBC."""
    assert {s["venue_status"] for s in programme.event("network-meeting")["sessions"]} == {"tbc"}
    assert programme.event("healing-classrooms")["sessions"][0]["venue_status"] == "tbc"
    training = programme.event("panel-training")["sessions"][0]
    assert (training["date_status"], training["date"], training["weekday"]) == ("tbc", None, None)
    speak_up = programme.event("speak-up-for-sanctuary")["sessions"][0]
    assert speak_up["venue"] == "Council House, Diamond Room 5"


def test_the_programme_is_in_date_order_with_undated_items_last(programme: Programme) -> None:
    codes = [item["code"] for item in programme.programme()]
    assert codes[:6] == ["introduction", "network-meeting", "speak-up-for-sanctuary",
                         "refugee-week-planning", "day-of-welcome", "healing-classrooms"]
    assert set(codes[6:]) == {"panel-training", "catch-up-meeting", "celebration"}


def test_seeding_twice_adds_nothing_and_keeps_the_leads_edits(programme: Programme, open_programme) -> None:
    before = programme.recorder.max_notification_id()
    assert programme.seed() == 0
    assert programme.recorder.max_notification_id() == before
    programme.describe(LEAD, "network-meeting", "Network meeting (Coventry)", "Bring your audit.",
                       "Coordinators", 25)
    programme.set_venue(LEAD, "network-meeting", "network-meeting-1", "confirmed", "Council House")
    after_edits = programme.recorder.max_notification_id()

    restarted = open_programme()  # a new instance on the same store, as after a restart
    assert restarted.seed() == 0
    assert restarted.recorder.max_notification_id() == after_edits
    event = restarted.event("network-meeting")
    assert (event["title"], event["description"], event["audience"], event["capacity"]) == (
        "Network meeting (Coventry)", "Bring your audit.", "Coordinators", 25)
    first = event["sessions"][0]
    assert (first["venue_status"], first["venue"], first["sequence"]) == ("confirmed", "Council House", 1)
    assert len(restarted.programme()) == len(SEED)


def test_the_first_seed_lists_every_item_once(open_programme) -> None:
    app = open_programme()
    assert app.seed() == len(SEED)
    assert app.recorder.max_notification_id() == len(SEED)


# -- 2. a full session, a waiting list and cancellations ---------------------------------------


def test_a_full_session_under_cancellations(programme: Programme, clock: FixedClock,
                                            open_programme) -> None:
    code, session = "network-meeting", "network-meeting-1"

    def check_capacity() -> None:
        view = session_view(programme, code, session)
        assert view["places_taken"] <= 2
        holding = [b for b in programme.bookings(code, session) if b["status"] in ("booked", "offered")]
        assert len(holding) == view["places_taken"] <= 2

    set_capacity(programme, 2)
    bookings = [book(programme, n) for n in (1, 2, 3, 4)]
    check_capacity()
    assert [b["status"] for b in bookings] == ["booked", "booked", "waiting", "waiting"]
    view = session_view(programme, code, session)
    assert (view["places_taken"], view["places_left"], view["waiting"]) == (2, 0, 2)
    first, second, third, fourth = (b["id"] for b in bookings)

    cancelled = programme.cancel_booking(COORDINATOR, code, first, {URN})
    assert cancelled["status"] == "cancelled"
    check_capacity()
    offered = programme.booking(code, third, None)
    assert offered["status"] == "offered"
    assert offered["offer_expires_at"] == NOW + OFFER_WINDOW
    assert programme.booking(code, fourth, None)["status"] == "waiting"

    clock.advance(hours=47)
    assert programme.expire_offers() == 0  # not yet
    clock.advance(hours=1, seconds=1)
    assert programme.expire_offers() == 1
    check_capacity()
    assert programme.booking(code, third, None)["status"] == "offer_expired"
    passed_on = programme.booking(code, fourth, None)
    assert passed_on["status"] == "offered"
    assert passed_on["offer_expires_at"] == clock.now() + OFFER_WINDOW
    with pytest.raises(Conflict):
        programme.claim_offer(COORDINATOR, code, third, {URN})

    clock.advance(hours=1)
    restarted = open_programme()  # the offer's expiry survives the round trip through the store
    claimed = restarted.claim_offer(COORDINATOR, code, fourth, {URN})
    assert claimed["status"] == "booked"
    assert claimed["offer_expires_at"] is None
    check_capacity()
    statuses = {b["id"]: b["status"] for b in programme.bookings(code, session)}
    assert statuses == {first: "cancelled", second: "booked", third: "offer_expired", fourth: "booked"}
    assert book(programme, 5)["status"] == "waiting"
    assert programme.expire_offers() == 0


def test_capacity_applies_to_each_session_of_a_series(programme: Programme) -> None:
    set_capacity(programme, 1)
    assert book(programme, 1, session="network-meeting-1")["status"] == "booked"
    assert book(programme, 1, session="network-meeting-2")["status"] == "booked"
    assert book(programme, 2, session="network-meeting-1")["status"] == "waiting"


def test_the_same_email_cannot_book_twice_whatever_its_case(programme: Programme) -> None:
    programme.book(COORDINATOR, "introduction", "introduction-1", URN, "Ann", "Ann@School.example.org")
    before = programme.recorder.max_notification_id()
    with pytest.raises(Conflict) as refused:
        programme.book(COORDINATOR, "introduction", "introduction-1", URN, "Ann", "ann@school.example.org")
    assert refused.value.field == "email"
    assert programme.recorder.max_notification_id() == before


# -- 3. a TBC date confirmed, and calendars -------------------------------------------------------


def parse(raw: bytes) -> Calendar:
    return Calendar.from_ical(raw)


def test_a_tbc_date_confirmed_and_the_calendar_sequence_moving_on(programme: Programme) -> None:
    code = "healing-classrooms"
    view = programme.add_session(LEAD, code, date_status="tbc")
    added = next(s for s in view["sessions"] if s["date_status"] == "tbc")
    session = added["id"]
    assert session.startswith("healing-classrooms-")
    with pytest.raises(Conflict):
        book(programme, 1, code, session)  # bookings open once the date is confirmed
    assert session not in programme.feed().decode()

    programme.reschedule(LEAD, code, session, date_status="confirmed", date=dt.date(2027, 7, 7),
                         start=T(15, 45), end=T(17, 15))
    assert session_view(programme, code, session)["weekday"] == "Wednesday"
    booking = book(programme, 1, code, session)
    assert booking["status"] == "booked"

    def entry() -> tuple[Calendar, object]:
        cal = parse(programme.booking_calendar(code, booking["id"], {URN}))
        return cal, cal.walk("VEVENT")[0]

    cal, first = entry()
    uid = f"{session}@coventry.schools-of-sanctuary"
    assert str(first["UID"]) == uid
    assert first["SEQUENCE"] == 1  # confirming the date was the first change
    assert str(cal["METHOD"]) == "PUBLISH"
    assert first["DTSTART"].dt.astimezone(dt.UTC) == dt.datetime(2027, 7, 7, 14, 45, tzinfo=dt.UTC)
    assert first["DTEND"].dt.astimezone(dt.UTC) == dt.datetime(2027, 7, 7, 16, 15, tzinfo=dt.UTC)
    assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["Europe/London"]
    assert str(first["LOCATION"]) == "Venue to be confirmed"

    programme.set_venue(LEAD, code, session, "confirmed", "Council House, Diamond Room 5")
    _, second = entry()
    assert (str(second["UID"]), second["SEQUENCE"]) == (uid, 2)
    assert str(second["LOCATION"]) == "Council House, Diamond Room 5"

    programme.reschedule(LEAD, code, session, date_status="confirmed", date=dt.date(2027, 7, 8),
                         start=T(15, 45), end=T(17, 15))
    _, third = entry()
    assert (str(third["UID"]), third["SEQUENCE"]) == (uid, 3)
    assert third["DTSTART"].dt.date() == dt.date(2027, 7, 8)

    programme.cancel_session(LEAD, code, session, "Trainer unwell")
    cal, fourth = entry()
    assert str(cal["METHOD"]) == "CANCEL"
    assert (str(fourth["UID"]), fourth["SEQUENCE"], str(fourth["STATUS"])) == (uid, 4, "CANCELLED")


def test_a_run_by_others_date_confirmed_joins_the_feed(programme: Programme) -> None:
    feed = parse(programme.feed())
    uids = {str(e["UID"]).split("@")[0] for e in feed.walk("VEVENT")}
    # every confirmed date of the seed, and nothing TBC
    assert uids == {"introduction-1", "speak-up-for-sanctuary-1", "network-meeting-1", "network-meeting-2",
                    "network-meeting-3", "refugee-week-planning-1", "healing-classrooms-1",
                    "day-of-welcome-1"}
    programme.reschedule(LEAD, "panel-training", "panel-training-1", date_status="confirmed",
                         date=dt.date(2027, 1, 20), start=T(16), end=T(17, 30))
    entries = {str(e["UID"]).split("@")[0]: e for e in parse(programme.feed()).walk("VEVENT")}
    assert entries["panel-training-1"]["SEQUENCE"] == 1
    assert entries["panel-training-1"]["DTSTART"].dt.astimezone(dt.UTC) == dt.datetime(
        2027, 1, 20, 16, 0, tzinfo=dt.UTC)
    assert session_view(programme, "panel-training", "panel-training-1")["weekday"] == "Wednesday"
    with pytest.raises(Conflict):  # still run by others: not booked here
        book(programme, 1, "panel-training", "panel-training-1")


def test_the_joining_link_goes_to_booked_people_only(programme: Programme) -> None:
    link = "https://meet.example.org/introduction"
    programme.set_venue(LEAD, "introduction", "introduction-1", "online", "Online", link)
    assert link not in str(programme.event("introduction"))
    assert link not in programme.feed().decode().replace("\r\n ", "")
    booked = book(programme, 1, "introduction", "introduction-1")
    assert booked["joining_link"] == link
    raw = programme.booking_calendar("introduction", booked["id"], {URN}).decode().replace("\r\n ", "")
    assert link in raw
    cancelled = programme.cancel_booking(COORDINATOR, "introduction", booked["id"], {URN})
    assert cancelled["joining_link"] is None
    assert link not in programme.booking_calendar("introduction", booked["id"], {URN}).decode()


def test_another_schools_booking_is_out_of_reach(programme: Programme) -> None:
    booking = book(programme, 1)
    before = programme.recorder.max_notification_id()
    for attempt in (lambda: programme.booking("network-meeting", booking["id"], {OTHER_URN}),
                    lambda: programme.booking_calendar("network-meeting", booking["id"], {OTHER_URN}),
                    lambda: programme.cancel_booking(COORDINATOR, "network-meeting", booking["id"],
                                                     {OTHER_URN}),
                    lambda: programme.claim_offer(COORDINATOR, "network-meeting", booking["id"],
                                                  {OTHER_URN})):
        with pytest.raises(Forbidden):
            attempt()
    assert programme.recorder.max_notification_id() == before
    assert programme.booking("network-meeting", booking["id"], None)["status"] == "booked"  # the lead


# -- 4. a catch-up meeting on request -----------------------------------------------------------


def test_a_catch_up_meeting_requested_proposed_confirmed(programme: Programme, open_programme) -> None:
    request = programme.request_catch_up(COORDINATOR, URN, "Review our audit")
    assert (request["status"], request["urn"], request["note"], request["proposal"], request["code"]) == (
        "requested", URN, "Review our audit", None, "catch-up-meeting")  # Coventry's starter pack offers it
    with pytest.raises(Conflict):
        programme.answer_catch_up(COORDINATOR, request["id"], {URN}, accept=True)

    proposed = programme.propose_catch_up(LEAD, request["id"], dt.date(2027, 1, 12), T(15, 30), T(16, 30))
    assert proposed["status"] == "proposed"
    assert proposed["proposal"] == {"date": dt.date(2027, 1, 12), "start": T(15, 30), "end": T(16, 30),
                                    "venue": None, "sequence": 0}
    moved = programme.propose_catch_up(LEAD, request["id"], dt.date(2027, 1, 13), T(15, 30), T(16, 30))
    assert moved["proposal"]["sequence"] == 1

    before = programme.recorder.max_notification_id()
    with pytest.raises(Forbidden):
        programme.answer_catch_up("account:other", request["id"], {OTHER_URN}, accept=True)
    assert programme.recorder.max_notification_id() == before

    confirmed = open_programme().answer_catch_up(COORDINATOR, request["id"], {URN}, accept=True)
    assert confirmed["status"] == "confirmed"
    assert confirmed["proposal"]["date"] == dt.date(2027, 1, 13)


def test_a_catch_up_proposal_can_be_declined(programme: Programme) -> None:
    request = programme.request_catch_up(COORDINATOR, URN, "")
    programme.propose_catch_up(LEAD, request["id"], dt.date(2027, 1, 12), T(15, 30), T(16, 30))
    declined = programme.answer_catch_up(COORDINATOR, request["id"], {URN}, accept=False,
                                         reason="Parents' evening")
    assert declined["status"] == "declined"


def test_an_unknown_catch_up_request_is_not_found(programme: Programme) -> None:
    for request_id in ("not-a-uuid", "00000000-0000-0000-0000-000000000001"):
        with pytest.raises(NotFound):
            programme.propose_catch_up(LEAD, request_id, dt.date(2027, 1, 12), T(15), T(16))
    event_id = str(CpdEvent.create_id("network-meeting"))  # an aggregate, but not a catch-up
    with pytest.raises(NotFound):
        programme.propose_catch_up(LEAD, event_id, dt.date(2027, 1, 12), T(15), T(16))


def published(app: Programme, after: int) -> list:
    """The public events of everything stored after notification ``after``."""
    return [EVENTS.envelope(app.mapper.to_domain_event(n), n.id, "coventry")
            for n in app.recorder.select_notifications(start=after + 1, limit=100)]


def test_a_request_names_its_item_and_the_lead_and_the_school_see_it(programme: Programme,
                                                                      open_programme) -> None:
    before = programme.recorder.max_notification_id()
    ours = programme.request_catch_up(COORDINATOR, URN, "Audit review")
    theirs = programme.request_catch_up("account:other", OTHER_URN, "", code="catch-up-meeting")
    programme.propose_catch_up(LEAD, ours["id"], dt.date(2026, 9, 8), T(9), T(10), "At the school")
    declined = programme.answer_catch_up(COORDINATOR, ours["id"], {URN}, accept=False, reason="INSET day")
    assert (declined["status"], declined["declined_because"]) == ("declined", "INSET day")
    title = SEED["catch-up-meeting"][0]

    again = open_programme()  # another instance reads the same
    assert [(r["id"], r["title"]) for r in again.catch_ups(URN)] == [(ours["id"], title)]
    assert {r["urn"] for r in again.catch_ups()} == {URN, OTHER_URN}
    assert again.catch_ups(URN)[0]["requested_at"].tzinfo is not None  # when it was stored
    assert [r["id"] for r in again.catch_ups(OTHER_URN)] == [theirs["id"]]

    news = [(e.type, e.schema_version, e.payload) for e in published(programme, before)]
    assert [(t, v) for t, v, _ in news] == [("CatchUpRequested", 2), ("CatchUpRequested", 2),
                                            ("CatchUpProposed", 2), ("CatchUpDeclined", 1)]
    assert {(p["urn"], p["code"]) for t, _, p in news if t != "CatchUpRequested" or p["urn"] == URN} == {
        (URN, "catch-up-meeting")}
    assert news[2][2] == {"request": ours["id"], "urn": URN, "code": "catch-up-meeting",
                          "date": "2026-09-08", "start": "09:00:00", "end": "10:00:00",
                          "venue": "At the school"}
    assert "reason" not in news[3][2]  # free text stays in the store


def test_a_confirmed_meeting_is_published_with_its_time(programme: Programme) -> None:
    request = programme.request_catch_up(COORDINATOR, URN, "")
    programme.propose_catch_up(LEAD, request["id"], dt.date(2026, 9, 1), T(15), T(16))  # today
    before = programme.recorder.max_notification_id()
    programme.answer_catch_up(COORDINATOR, request["id"], {URN}, accept=True)
    [confirmed] = published(programme, before)
    assert (confirmed.type, confirmed.schema_version) == ("CatchUpConfirmed", 2)
    assert confirmed.payload == {"request": request["id"], "urn": URN, "code": "catch-up-meeting",
                                 "date": "2026-09-01", "start": "15:00:00", "end": "16:00:00", "venue": None}


def test_a_meeting_is_asked_for_only_from_an_item_on_request(programme: Programme) -> None:
    before = programme.recorder.max_notification_id()
    with pytest.raises(Conflict) as refused:
        programme.request_catch_up(COORDINATOR, URN, "", code="network-meeting")
    assert refused.value.field == "code"
    with pytest.raises(NotFound):
        programme.request_catch_up(COORDINATOR, URN, "", code="no-such-item")
    with pytest.raises(Invalid) as past:
        request = programme.request_catch_up(COORDINATOR, URN, "")
        before = programme.recorder.max_notification_id()
        programme.propose_catch_up(LEAD, request["id"], dt.date(2026, 8, 31), T(9), T(10))
    assert past.value.field == "date"
    assert programme.recorder.max_notification_id() == before


# -- 4b. the lead lists events and edits sessions ------------------------------------------------


def test_the_lead_lists_an_event_and_gives_it_sessions_of_every_kind(programme: Programme,
                                                                      open_programme) -> None:
    listed = programme.list_event(LEAD, "Governors' briefing", "series", "Coventry EMAS", "Governors",
                                  "What the award asks of governors", capacity=20)
    assert (listed["code"], listed["sessions"], listed["bookable"]) == ("governors-briefing", [], True)
    twin = programme.list_event(LEAD, "Governors’ briefing!", "on_request", "EMAS", "Governors")
    assert twin["code"] == "governors-briefing-2"

    code = "governors-briefing"
    programme.add_session(LEAD, code, date=dt.date(2026, 10, 5), start=T(18), end=T(19),
                          venue_status="confirmed", venue="Council House")
    programme.add_session(LEAD, code, date_status="month", month="2027-02", venue_status="online",
                          joining_link="https://meet.example.org/gov")
    programme.add_session(LEAD, code, date_status="tbc", venue_status="at_school", venue="Your school")
    sessions = open_programme().event(code)["sessions"]
    assert [(s["date_status"], s["venue_status"], s["venue"]) for s in sessions] == [
        ("confirmed", "confirmed", "Council House"), ("month", "online", None),
        ("tbc", "at_school", "Your school")]
    assert sessions[0]["weekday"] == "Monday" and sessions[0]["places_left"] == 20

    tbc = sessions[2]["id"]
    edited = programme.edit_session(LEAD, code, tbc, date=dt.date(2026, 11, 2), start=T(9), end=T(10),
                                    venue_status="online", joining_link="https://meet.example.org/g2")
    moved = next(s for s in edited["sessions"] if s["id"] == tbc)
    assert (moved["date"], moved["venue_status"], moved["sequence"]) == (dt.date(2026, 11, 2), "online", 2)

    programme.describe(LEAD, code, "Governors' briefing", "", "Governors", 25, runs_by="City of Sanctuary")
    assert (open_programme().event(code)["runs_by"], programme.event(code)["capacity"]) == (
        "City of Sanctuary", 25)


def test_a_listing_or_session_refused_stores_nothing(programme: Programme) -> None:
    before = programme.recorder.max_notification_id()
    with pytest.raises(Invalid) as refused:
        programme.list_event(LEAD, "Second celebration", "celebration", "EMAS", "Schools")
    assert refused.value.field == "kind"
    with pytest.raises(Invalid) as no_venue:
        programme.add_session(LEAD, "network-meeting", date_status="tbc", venue_status="confirmed")
    assert no_venue.value.field == "venue"
    with pytest.raises(Conflict) as unchanged:
        programme.edit_session(LEAD, "network-meeting", "network-meeting-1", date=dt.date(2026, 10, 22),
                               start=T(16), end=T(17), venue_status="tbc", venue="In person, venue TBC")
    assert unchanged.value.field == "form"
    assert programme.recorder.max_notification_id() == before


# -- 5. bad input is refused and nothing is stored ------------------------------------------------


def test_bad_input_is_refused_with_nothing_stored(programme: Programme) -> None:
    book(programme, 1)
    book(programme, 2)
    programme.cancel_session(LEAD, "network-meeting", "network-meeting-3", "Clash with exams")
    before = programme.recorder.max_notification_id()

    with pytest.raises(Conflict) as refused:
        set_capacity(programme, 1)  # two places taken in network-meeting-1
    assert refused.value.field == "capacity"
    with pytest.raises(Invalid) as refused:
        programme.reschedule(LEAD, "network-meeting", "network-meeting-1", date_status="confirmed",
                             date=dt.date(2026, 10, 22), start=T(17), end=T(16))
    assert refused.value.field == "end"
    with pytest.raises(Invalid) as refused:
        programme.add_session(LEAD, "network-meeting", date_status="confirmed", date=dt.date(2027, 5, 5),
                              start=T(17), end=T(16))
    assert refused.value.field == "end"
    with pytest.raises(Conflict) as refused:
        book(programme, 3, session="network-meeting-3")  # cancelled
    assert refused.value.field == "session"
    with pytest.raises(Conflict) as refused:
        book(programme, 3, "panel-training", "panel-training-1")  # TBC, and run by others
    with pytest.raises(Conflict) as refused:
        programme.set_venue(LEAD, "network-meeting", "network-meeting-3", "confirmed", "Council House")
    with pytest.raises(Invalid) as refused:
        programme.set_venue(LEAD, "network-meeting", "network-meeting-1", "confirmed", None)
    assert refused.value.field == "venue"
    with pytest.raises(NotFound) as refused:
        programme.event("no-such-event")
    assert refused.value.field == "code"
    with pytest.raises(NotFound):
        book(programme, 3, "no-such-event", "no-such-event-1")
    with pytest.raises(NotFound):
        set_capacity(programme, 5, code="no-such-event")
    with pytest.raises(NotFound):
        book(programme, 3, session="network-meeting-9")
    with pytest.raises(NotFound):
        programme.booking("network-meeting", "000000000000", None)
    with pytest.raises(NotFound):
        programme.record_attendance(LEAD, "network-meeting", "000000000000", True)

    assert programme.recorder.max_notification_id() == before
    assert programme.event("network-meeting")["capacity"] is None


def test_booking_a_tbc_session_is_refused_with_nothing_stored(programme: Programme) -> None:
    view = programme.add_session(LEAD, "network-meeting", date_status="month", month="2027-01")
    session = next(s["id"] for s in view["sessions"] if s["date_status"] == "month")
    tbc = programme.add_session(LEAD, "network-meeting", date_status="tbc")
    tbc_session = next(s["id"] for s in tbc["sessions"] if s["date_status"] == "tbc")
    before = programme.recorder.max_notification_id()
    for which in (session, tbc_session):
        with pytest.raises(Conflict) as refused:
            book(programme, 1, session=which)
        assert refused.value.field == "session"
    assert programme.recorder.max_notification_id() == before


# -- 6. the school's CPD record -------------------------------------------------------------


def test_the_schools_cpd_record_after_attendance(programme: Programme, clock: FixedClock) -> None:
    ann = programme.book(COORDINATOR, "introduction", "introduction-1", URN, "Ann Teacher",
                         "ann@school.example.org")
    bob = programme.book(COORDINATOR, "network-meeting", "network-meeting-1", URN, "Bob Teacher",
                         "bob@school.example.org")
    cy = programme.book(COORDINATOR, "network-meeting", "network-meeting-1", URN, "Cy Teacher",
                        "cy@school.example.org")
    programme.book(COORDINATOR, "introduction", "introduction-1", OTHER_URN, "Di Elsewhere",
                   "di@other.example.org")
    clock.at = after(dt.date(2026, 10, 22), T(16))  # both sessions have started
    programme.record_attendance(LEAD, "introduction", ann["id"], True)
    programme.record_attendance(LEAD, "network-meeting", bob["id"], True)
    programme.record_attendance(LEAD, "network-meeting", cy["id"], False)

    record = programme.school_record(URN)
    assert record == [
        {"code": "introduction", "title": SEED["introduction"][0], "date": dt.date(2026, 9, 17),
         "person": {"name": "Ann Teacher", "email": "ann@school.example.org"}, "status": "attended"},
        {"code": "network-meeting", "title": SEED["network-meeting"][0], "date": dt.date(2026, 10, 22),
         "person": {"name": "Bob Teacher", "email": "bob@school.example.org"}, "status": "attended"},
    ]
    other = programme.school_record(OTHER_URN)
    assert [(r["person"]["name"], r["status"]) for r in other] == [("Di Elsewhere", "booked")]
    assert programme.school_record("740199") == []


def test_attendance_cannot_be_recorded_for_a_waiting_place(programme: Programme) -> None:
    set_capacity(programme, 1)
    book(programme, 1)
    waiting = book(programme, 2)
    before = programme.recorder.max_notification_id()
    with pytest.raises(Conflict):
        programme.record_attendance(LEAD, "network-meeting", waiting["id"], True)
    assert programme.recorder.max_notification_id() == before
    assert programme.school_record(URN)[0]["person"]["name"] == "Teacher 1"
    assert len(programme.school_record(URN)) == 1


def test_a_cancelled_session_is_not_in_the_schools_cpd_record(programme: Programme) -> None:
    book(programme, 1)
    programme.cancel_session(LEAD, "network-meeting", "network-meeting-1", "Snow")
    assert programme.school_record(URN) == []


# -- 7. dates that make sense: bookings until the session's day, attendance once it has started ------


def test_attendance_before_the_session_starts_is_refused_with_nothing_stored(programme: Programme,
                                                                             clock: FixedClock) -> None:
    booked = book(programme, 1)  # network-meeting-1: Thursday 22 October 2026, 16:00 in Coventry
    clock.at = dt.datetime.combine(dt.date(2026, 10, 22), T(15, 59), tzinfo=LONDON).astimezone(dt.UTC)
    before = programme.recorder.max_notification_id()
    with pytest.raises(Invalid) as refused:
        programme.record_attendance(LEAD, "network-meeting", booked["id"], True)
    assert refused.value.field == "booking_id"
    assert "begins on Thursday 22 October 2026 at 16:00" in refused.value.fields["booking_id"][0]
    assert programme.recorder.max_notification_id() == before
    assert programme.booking("network-meeting", booked["id"], None)["status"] == "booked"

    clock.at = after(dt.date(2026, 10, 22), T(16))
    programme.record_attendance(LEAD, "network-meeting", booked["id"], True)
    assert programme.booking("network-meeting", booked["id"], None)["status"] == "attended"


def test_a_session_takes_bookings_on_its_day_and_not_after(programme: Programme, clock: FixedClock) -> None:
    clock.at = after(dt.date(2026, 10, 22), T(23, 58))  # the evening of the first network meeting
    assert session_view(programme, "network-meeting", "network-meeting-1")["open"] is True
    assert book(programme, 1)["status"] == "booked"

    clock.at = after(dt.date(2026, 10, 22), T(23, 59))  # midnight in Coventry: the day has passed
    seen = session_view(programme, "network-meeting", "network-meeting-1")
    assert (seen["past"], seen["open"]) == (True, False)
    before = programme.recorder.max_notification_id()
    with pytest.raises(Conflict) as refused:
        book(programme, 2)
    assert (refused.value.field, refused.value.message) == (
        "session", "This session has already taken place.")
    assert programme.recorder.max_notification_id() == before
    assert book(programme, 2, session="network-meeting-2")["status"] == "booked"  # March is still to come


def test_the_leads_register_holds_every_session_and_its_bookings_in_one_answer(
        programme: Programme, clock: FixedClock) -> None:
    set_capacity(programme, 1)
    first, waiting, later = book(programme, 1), book(programme, 2), book(programme, 3)
    other = book(programme, 4, session="network-meeting-2")
    clock.at = after(dt.date(2026, 10, 22), T(16))
    register = {(r["code"], r["session"]): r for r in programme.bookings_by_session()}
    bookable = {(code, s) for code, (_, kind, _, dates, *_) in SEED.items() if kind in ("session", "series")
                for s in (f"{code}-{n}" for n in range(1, len(dates) + 1))}
    assert set(register) == bookable
    meeting = register["network-meeting", "network-meeting-1"]
    assert meeting["started"] is True
    assert [(b["id"], b["status"], b["position"]) for b in meeting["bookings"]] == [
        (first["id"], "booked", None), (waiting["id"], "waiting", 1), (later["id"], "waiting", 2)]
    march = register["network-meeting", "network-meeting-2"]
    assert march["started"] is False
    assert [b["id"] for b in march["bookings"]] == [other["id"]]
    assert register["introduction", "introduction-1"]["bookings"] == []
