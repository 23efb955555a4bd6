"""The CPD programme's aggregates in memory: CpdEvent (sessions, bookings, waiting
lists, offers, attendance) and CatchUp (meetings on request)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.events.programme import CatchUp, CpdEvent, check_venue, check_when, has_started, listed_by_lead
from services.events.schemas import When
from shared.errors import Conflict, Invalid, NotFound
from shared.schema import load
from tests.unit.refusals import refused

NOW = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=48)
LEAD = "account:lead"
DAY = dt.date(2026, 10, 22)
FOUR, FIVE = dt.time(16, 0), dt.time(17, 0)
TODAY = NOW.date()  # bookings are checked against the authority's date
LONDON = ZoneInfo("Europe/London")
DURING = dt.datetime.combine(DAY, dt.time(16, 30), tzinfo=LONDON)  # the session has started


def session(session_id: str = "s1", **changes: object) -> dict:
    return {"id": session_id, "date_status": "confirmed", "date": DAY, "month": None, "start": FOUR,
            "end": FIVE, "venue_status": "tbc", "venue": None, "joining_link": None, **changes}


def cpd(kind: str = "series", capacity: int | None = None, sessions: list[dict] | None = None) -> CpdEvent:
    return CpdEvent(code="network-meeting", title="Network meeting", description="", kind=kind,
                    runs_by="Coventry EMAS", audience="Staff", capacity=capacity,
                    sessions=[session()] if sessions is None else sessions, actor="system:config")


def book(event: CpdEvent, n: int, session_id: str = "s1", urn: str = "740001") -> str:
    """Book person ``n`` (booking id ``b<n>``); returns the status."""
    return event.book(session_id, f"b{n}", urn, {"name": f"P{n}"}, f"email:p{n}", TODAY,
                      "account:coordinator")


def statuses(event: CpdEvent) -> dict[str, str]:
    return {b: v["status"] for b, v in event.bookings.items()}


def describe(event: CpdEvent, capacity: int | None) -> None:
    event.describe("Network meeting", "", "Staff", capacity, LEAD, NOW, WINDOW)


def names(event: CpdEvent) -> list[str]:
    return [type(e).__name__ for e in event.collect_events()]


# -- booking ----------------------------------------------------------------------------


def test_places_are_booked_while_they_last_then_the_waiting_list_fills() -> None:
    event = cpd(capacity=2)
    assert [book(event, n) for n in (1, 2, 3, 4)] == ["booked", "booked", "waiting", "waiting"]
    assert event.places_taken("s1") == 2
    assert statuses(event) == {"b1": "booked", "b2": "booked", "b3": "waiting", "b4": "waiting"}


def test_without_a_capacity_nobody_waits() -> None:
    event = cpd(capacity=None)
    assert {book(event, n) for n in range(1, 30)} == {"booked"}


def test_the_same_person_cannot_book_the_same_session_twice() -> None:
    event = cpd(capacity=1)
    book(event, 1)
    with pytest.raises(Conflict) as refused:
        event.book("s1", "again", "740002", {"name": "P1"}, "email:p1", TODAY, "account:other")
    assert refused.value.field == "email"
    book(event, 2)  # waiting now
    with pytest.raises(Conflict):
        event.book("s1", "again", "740001", {"name": "P2"}, "email:p2", TODAY, "account:coordinator")
    assert set(event.bookings) == {"b1", "b2"}


def test_the_same_person_may_book_another_session_and_rebook_after_cancelling() -> None:
    event = cpd(sessions=[session("s1"), session("s2", date=dt.date(2027, 3, 2))])
    event.book("s1", "x1", "740001", {}, "email:p1", TODAY, "a")
    assert event.book("s2", "x2", "740001", {}, "email:p1", TODAY, "a") == "booked"
    event.cancel_booking("x1", NOW, WINDOW, "a")
    assert event.book("s1", "x3", "740001", {}, "email:p1", TODAY, "a") == "booked"


def test_booking_needs_a_confirmed_date() -> None:
    for when in ({"date_status": "tbc", "date": None}, {"date_status": "month", "date": None,
                                                        "month": "2027-06"}):
        event = cpd(sessions=[session(**when)])
        with pytest.raises(Conflict) as refused:
            book(event, 1)
        assert refused.value.field == "session"
        assert event.bookings == {}


def test_a_session_takes_bookings_up_to_and_on_its_day() -> None:
    event = cpd()
    assert event.closed_to_bookings("s1", DAY) is None
    assert event.book("s1", "b1", "740001", {}, "email:p1", DAY, "a") == "booked"  # on the day


def test_a_session_whose_day_has_passed_refuses_bookings_and_nothing_changes() -> None:
    event = cpd()
    event.collect_events()
    with refused(Conflict, "session", event) as caught:
        event.book("s1", "b1", "740001", {}, "email:p1", DAY + dt.timedelta(days=1), "a")
    assert caught.value.message == "This session has already taken place."
    assert event.bookings == {}
    assert event.closed_to_bookings("s1", DAY + dt.timedelta(days=1)) is not None

@pytest.mark.parametrize("kind", ["run_by_others", "on_request"])
def test_events_not_booked_here_refuse_bookings(kind: str) -> None:
    event = cpd(kind=kind)
    with pytest.raises(Conflict) as refused:
        book(event, 1)
    assert refused.value.field == "kind"
    assert event.bookings == {}


@pytest.mark.parametrize("kind", ["session", "series"])
def test_sessions_and_series_are_bookable(kind: str) -> None:
    assert book(cpd(kind=kind), 1) == "booked"


def test_an_unknown_session_is_not_found() -> None:
    event = cpd()
    with pytest.raises(NotFound):
        book(event, 1, session_id="nope")
    for command in (lambda: event.reschedule("nope", {"date": DAY}, LEAD),
                    lambda: event.set_venue("nope", "online", None, None, LEAD),
                    lambda: event.cancel_session("nope", "why", LEAD)):
        with pytest.raises(NotFound):
            command()


def test_an_event_run_by_others_takes_the_dates_the_lead_records_but_no_bookings() -> None:
    event = cpd(kind="run_by_others", sessions=[])
    event.add_session("s9", {"date": DAY}, LEAD)
    assert set(event.sessions) == {"s9"}
    with refused(Conflict, "kind", event):
        book(event, 1, "s9")


def test_an_added_session_starts_with_venue_tbc_and_sequence_0() -> None:
    event = cpd(kind="on_request", sessions=[])
    event.add_session("s9", {"date_status": "month", "month": "2027-01"}, LEAD)
    added = event.sessions["s9"]
    assert (added["date_status"], added["month"], added["date"]) == ("month", "2027-01", None)
    assert (added["venue_status"], added["status"], added["sequence"]) == ("tbc", "scheduled", 0)


# -- cancellations, offers, claims, expiry ------------------------------------------------


def full_with_two_waiting() -> CpdEvent:
    event = cpd(capacity=2)
    for n in (1, 2, 3, 4):
        book(event, n)
    event.collect_events()
    return event


def test_a_cancellation_frees_the_place_and_offers_it_to_the_first_waiting() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "account:coordinator")
    assert statuses(event) == {"b1": "cancelled", "b2": "booked", "b3": "offered", "b4": "waiting"}
    assert event.bookings["b3"]["offer_expires_at"] == NOW + WINDOW
    assert event.bookings["b4"]["offer_expires_at"] is None
    assert event.places_taken("s1") == 2  # the offered place is held
    assert names(event) == ["BookingCancelled", "PlaceOffered"]


def test_cancelling_a_waiting_booking_offers_nothing() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b3", NOW, WINDOW, "account:coordinator")
    assert statuses(event) == {"b1": "booked", "b2": "booked", "b3": "cancelled", "b4": "waiting"}
    assert names(event) == ["BookingCancelled"]


def test_a_cancelled_booking_cannot_be_cancelled_again() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "a")
    with pytest.raises(Conflict):
        event.cancel_booking("b1", NOW, WINDOW, "a")
    with pytest.raises(NotFound):
        event.cancel_booking("nobody", NOW, WINDOW, "a")


def test_an_offer_claimed_before_it_expires_is_a_booked_place() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "a")
    event.claim_offer("b3", NOW + WINDOW - dt.timedelta(seconds=1), "account:coordinator")
    assert event.bookings["b3"]["status"] == "booked"
    assert event.bookings["b3"]["offer_expires_at"] is None
    assert event.places_taken("s1") == 2


@pytest.mark.parametrize("late", [dt.timedelta(0), dt.timedelta(minutes=1)])
def test_an_offer_claimed_at_or_after_its_expiry_is_refused(late: dt.timedelta) -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "a")
    event.collect_events()
    with pytest.raises(Conflict):
        event.claim_offer("b3", NOW + WINDOW + late, "a")
    assert event.bookings["b3"]["status"] == "offered"
    assert event.collect_events() == []


def test_only_an_offered_booking_can_be_claimed() -> None:
    event = full_with_two_waiting()
    for booking in ("b1", "b3"):  # booked, waiting
        with pytest.raises(Conflict):
            event.claim_offer(booking, NOW, "a")


def test_expiry_passes_the_place_to_the_next_and_marks_the_old_offer_expired() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "a")
    event.collect_events()
    assert event.expire_offers(NOW + WINDOW - dt.timedelta(seconds=1), WINDOW) == 0  # not yet
    later = NOW + WINDOW
    assert event.expire_offers(later, WINDOW) == 1
    assert statuses(event) == {"b1": "cancelled", "b2": "booked", "b3": "offer_expired", "b4": "offered"}
    assert event.bookings["b4"]["offer_expires_at"] == later + WINDOW
    assert names(event) == ["OfferExpired", "PlaceOffered"]
    assert event.expire_offers(later, WINDOW) == 0  # nothing more to do
    with pytest.raises(Conflict):
        event.claim_offer("b3", later, "a")


def test_an_expired_offer_with_nobody_waiting_leaves_the_place_free() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "a")
    event.expire_offers(NOW + WINDOW, WINDOW)
    event.expire_offers(NOW + 2 * WINDOW, WINDOW)
    assert statuses(event) == {"b1": "cancelled", "b2": "booked", "b3": "offer_expired",
                               "b4": "offer_expired"}
    assert event.places_taken("s1") == 1
    assert book(event, 5) == "booked"


def test_a_freed_place_when_nobody_waits_offers_nothing() -> None:
    event = cpd(capacity=2)
    book(event, 1)
    book(event, 2)
    event.collect_events()
    event.cancel_booking("b1", NOW, WINDOW, "a")
    assert names(event) == ["BookingCancelled"]
    assert event.places_taken("s1") == 1
    assert book(event, 3) == "booked"


def test_cancelling_an_offered_place_offers_it_to_the_next() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "a")
    event.cancel_booking("b3", NOW, WINDOW, "a")
    assert statuses(event)["b4"] == "offered"


def test_places_never_exceed_capacity_under_churn() -> None:
    event = cpd(capacity=3)
    at = NOW
    for n in range(1, 10):
        book(event, n)
    for step, n in enumerate((1, 4, 2, 7, 5, 9)):
        if event.bookings[f"b{n}"]["status"] in ("booked", "offered", "waiting"):
            event.cancel_booking(f"b{n}", at, WINDOW, "a")
        assert event.places_taken("s1") <= 3
        offered = [b for b, v in event.bookings.items() if v["status"] == "offered"]
        if offered and step % 2:
            event.claim_offer(offered[0], at, "a")
        else:
            at += WINDOW
            event.expire_offers(at, WINDOW)
        assert event.places_taken("s1") <= 3
        book(event, 10 + step)
        assert event.places_taken("s1") <= 3
    assert event.places_taken("s1") == 3


# -- a cancelled session ------------------------------------------------------------------------


def test_a_cancelled_session_cannot_be_booked_rescheduled_re_venued_or_cancelled_again() -> None:
    event = cpd()
    event.cancel_session("s1", "Snow", LEAD)
    assert event.sessions["s1"]["status"] == "cancelled"
    assert event.sessions["s1"]["cancelled_because"] == "Snow"
    commands = (
        lambda: book(event, 1),
        lambda: event.reschedule("s1", {"date": dt.date(2026, 10, 29), "start": FOUR, "end": FIVE}, LEAD),
        lambda: event.set_venue("s1", "confirmed", "Council House", None, LEAD),
        lambda: event.cancel_session("s1", "again", LEAD),
    )
    for command in commands:
        with pytest.raises(Conflict) as refused:
            command()
        assert refused.value.field == "session"
    assert event.bookings == {}


def test_a_place_freed_in_a_cancelled_session_is_offered_to_nobody() -> None:
    event = full_with_two_waiting()
    event.cancel_session("s1", "Snow", LEAD)
    event.collect_events()
    event.cancel_booking("b1", NOW, WINDOW, "a")
    assert names(event) == ["BookingCancelled"]
    assert statuses(event)["b3"] == "waiting"


def test_an_offer_cannot_be_claimed_once_the_session_is_cancelled() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "a")
    event.cancel_session("s1", "Snow", LEAD)
    with pytest.raises(Conflict):
        event.claim_offer("b3", NOW, "a")


# -- the lead's changes ---------------------------------------------------------------------------


def test_capacity_may_not_go_below_the_places_taken() -> None:
    event = full_with_two_waiting()
    with pytest.raises(Conflict) as refused:
        describe(event, 1)
    assert refused.value.field == "capacity"
    assert event.capacity == 2
    assert event.collect_events() == []
    describe(event, 2)  # equal is fine
    assert event.capacity == 2


def test_capacity_counts_offered_places_as_taken() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "a")  # b2 booked, b3 offered
    with pytest.raises(Conflict):
        describe(event, 1)


def test_capacity_is_checked_per_session() -> None:
    event = cpd(sessions=[session("s1"), session("s2", date=dt.date(2027, 3, 2))])
    book(event, 1, "s1")
    book(event, 2, "s2")
    describe(event, 1)  # one each: fine
    assert event.capacity == 1
    assert book(event, 3, "s1") == "waiting"


def test_removing_the_capacity_is_allowed() -> None:
    event = full_with_two_waiting()
    describe(event, None)
    assert event.capacity is None
    assert book(event, 5) == "booked"


@pytest.mark.parametrize("capacity", [3, None])
def test_raising_the_capacity_offers_the_new_places_to_the_waiting_list(capacity: int | None) -> None:
    event = full_with_two_waiting()
    describe(event, capacity)
    assert statuses(event)["b3"] == "offered"  # the first in line, not the next to ask
    assert book(event, 5) == ("waiting" if capacity == 3 else "booked")


def test_describe_changes_the_details() -> None:
    event = cpd()
    event.describe("New title", "More", "Governors", 12, LEAD, NOW, WINDOW)
    assert (event.title, event.description, event.audience, event.capacity) == (
        "New title", "More", "Governors", 12)


def test_set_venue_confirmed_needs_a_name() -> None:
    event = cpd()
    for empty in (None, ""):
        with pytest.raises(Invalid) as refused:
            event.set_venue("s1", "confirmed", empty, None, LEAD)
        assert refused.value.field == "venue"
    with pytest.raises(Invalid) as refused:
        event.set_venue("s1", "moon", "Somewhere", None, LEAD)
    assert refused.value.field == "venue_status"
    assert event.sessions["s1"]["sequence"] == 0
    assert event.collect_events()[1:] == []


def test_set_venue_other_statuses_need_no_name() -> None:
    event = cpd()
    event.set_venue("s1", "online", None, "https://meet.example.org/x", LEAD)
    assert event.sessions["s1"]["venue_status"] == "online"
    assert event.sessions["s1"]["joining_link"] == "https://meet.example.org/x"
    event.set_venue("s1", "at_school", None, None, LEAD)
    assert event.sessions["s1"]["venue_status"] == "at_school"


def test_rescheduling_to_the_same_time_is_refused() -> None:
    event = cpd()
    with pytest.raises(Conflict) as refused:
        event.reschedule("s1", {"date_status": "confirmed", "date": DAY, "start": FOUR, "end": FIVE}, LEAD)
    assert refused.value.field == "date"
    assert event.sessions["s1"]["sequence"] == 0


def test_rescheduling_moves_the_session() -> None:
    event = cpd()
    event.reschedule("s1", {"date": DAY, "start": dt.time(15, 30), "end": FIVE}, LEAD)
    assert event.sessions["s1"]["start"] == dt.time(15, 30)
    event.reschedule("s1", {"date_status": "tbc"}, LEAD)
    moved = event.sessions["s1"]
    assert (moved["date_status"], moved["date"], moved["start"]) == ("tbc", None, None)


def test_a_tbc_date_confirmed_opens_bookings() -> None:
    event = cpd(sessions=[session(date_status="tbc", date=None, start=None, end=None)])
    with pytest.raises(Conflict):
        book(event, 1)
    event.reschedule("s1", {"date_status": "confirmed", "date": DAY, "start": FOUR, "end": FIVE}, LEAD)
    assert book(event, 1) == "booked"


def test_each_change_raises_the_sessions_sequence() -> None:
    event = cpd(sessions=[session("s1"), session("s2")])
    sequence = lambda: event.sessions["s1"]["sequence"]  # noqa: E731
    assert sequence() == 0
    event.reschedule("s1", {"date": DAY, "start": dt.time(15, 0), "end": FIVE}, LEAD)
    assert sequence() == 1
    event.set_venue("s1", "confirmed", "Council House", None, LEAD)
    assert sequence() == 2
    event.set_venue("s1", "confirmed", "Council House, Diamond Room 5", None, LEAD)
    assert sequence() == 3
    book(event, 1)  # bookings are not changes to the session
    event.describe("Other", "", "Staff", None, LEAD, NOW, WINDOW)
    assert sequence() == 3
    event.cancel_session("s1", "Snow", LEAD)
    assert sequence() == 4
    assert event.sessions["s2"]["sequence"] == 0  # the other session is untouched


# -- check_when ----------------------------------------------------------------------------------


def test_check_when_a_confirmed_date_needs_the_date() -> None:
    with pytest.raises(Invalid) as refused:
        check_when({"date_status": "confirmed"})
    assert refused.value.field == "date"
    with pytest.raises(Invalid):
        check_when({})  # confirmed is the default


def test_check_when_a_month_needs_the_month() -> None:
    for month in (None, ""):
        with pytest.raises(Invalid) as refused:
            check_when({"date_status": "month", "month": month})
        assert refused.value.field == "month"
    assert check_when({"date_status": "month", "month": "2027-06"}) == {
        "date_status": "month", "date": None, "month": "2027-06", "start": None, "end": None}


def test_the_when_schema_wants_a_month_as_yyyy_mm() -> None:
    for month in ("June 2027", "2027-6", "27-06"):
        with pytest.raises(Invalid) as refused:
            load(When(), {"date_status": "month", "month": month})
        assert "month" in refused.value.fields
    assert load(When(), {"date_status": "month", "month": "2027-06"})["month"] == "2027-06"


def test_check_when_refuses_a_month_that_is_not_yyyy_mm() -> None:
    with pytest.raises(Invalid):
        check_when({"date_status": "month", "month": "June 2027"})


@pytest.mark.parametrize("month", ["2027-13", "2027-00"])
def test_the_when_schema_refuses_a_month_that_does_not_exist(month: str) -> None:
    with pytest.raises(Invalid):
        load(When(), {"date_status": "month", "month": month})


def test_check_when_start_and_end_both_or_neither() -> None:
    for when in ({"date": DAY, "start": FOUR}, {"date": DAY, "end": FIVE}):
        with pytest.raises(Invalid) as refused:
            check_when(when)
        assert refused.value.field == "end"
    assert check_when({"date": DAY})["start"] is None


@pytest.mark.parametrize("end", [FOUR, dt.time(15, 59)])
def test_check_when_the_end_is_after_the_start(end: dt.time) -> None:
    with pytest.raises(Invalid) as refused:
        check_when({"date": DAY, "start": FOUR, "end": end})
    assert refused.value.field == "end"


def test_check_when_unknown_status_and_what_it_keeps() -> None:
    with pytest.raises(Invalid) as refused:
        check_when({"date_status": "soon"})
    assert refused.value.field == "date_status"
    # a TBC date drops any date given; a confirmed one drops any month
    assert check_when({"date_status": "tbc", "date": DAY})["date"] is None
    assert check_when({"date": DAY, "month": "2026-10"}) == {
        "date_status": "confirmed", "date": DAY, "month": None, "start": None, "end": None}


# -- attendance ---------------------------------------------------------------------------


def test_attendance_is_recorded_for_booked_places_only() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b2", NOW, WINDOW, "a")  # b3 offered, b4 waiting
    for booking in ("b2", "b3", "b4"):  # cancelled, offered, waiting
        with pytest.raises(Conflict) as refused:
            event.record_attendance(booking, True, DURING, LEAD)
        assert refused.value.field == "booking"
    with pytest.raises(NotFound):
        event.record_attendance("nobody", True, DURING, LEAD)
    event.record_attendance("b1", True, DURING, LEAD)
    assert event.bookings["b1"]["status"] == "attended"
    event.record_attendance("b1", False, DURING, LEAD)  # a correction
    assert event.bookings["b1"]["status"] == "absent"
    assert event.places_taken("s1") == 1  # b3's offer; an absentee holds no place


def london(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


@pytest.mark.parametrize("at", [london(DAY, 16), london(DAY, 19), london(DAY + dt.timedelta(days=30), 9)])
def test_attendance_is_recorded_once_the_session_has_started(at: dt.datetime) -> None:
    event = cpd()
    book(event, 1)
    event.record_attendance("b1", True, at, LEAD)
    assert event.bookings["b1"]["status"] == "attended"


@pytest.mark.parametrize("at", [london(DAY, 15, 59), london(DAY - dt.timedelta(days=60), 9)])
def test_attendance_before_the_session_starts_is_refused_naming_the_booking(at: dt.datetime) -> None:
    event = cpd()
    book(event, 1)
    with refused(Invalid, "booking_id", event) as caught:
        event.record_attendance("b1", True, at, LEAD)
    assert caught.value.fields == {"booking_id": [
        "The session begins on Thursday 22 October 2026 at 16:00; record attendance once it has started."]}
    assert event.bookings["b1"]["status"] == "booked"


def test_a_session_without_times_starts_with_its_day() -> None:
    event = cpd(sessions=[session(start=None, end=None)])
    book(event, 1)
    with refused(Invalid, "booking_id", event):
        event.record_attendance("b1", True, london(DAY - dt.timedelta(days=1), 23, 59), LEAD)
    event.record_attendance("b1", True, london(DAY, 0), LEAD)
    assert event.bookings["b1"]["status"] == "attended"


def test_a_session_whose_date_went_back_to_tbc_has_not_started() -> None:
    event = cpd()
    book(event, 1)
    event.reschedule("s1", {"date_status": "tbc"}, LEAD)
    with refused(Invalid, "booking_id", event) as caught:
        event.record_attendance("b1", True, london(DAY, 17), LEAD)
    assert "has no confirmed date yet" in caught.value.fields["booking_id"][0]


def test_whether_a_session_has_started_is_read_in_the_authoritys_time() -> None:
    """16:00 in London on 22 October 2026 (summer time) is 15:00 UTC."""
    started = session()
    assert not has_started(started, london(DAY, 15, 59))
    assert has_started(started, dt.datetime(2026, 10, 22, 15, 0, tzinfo=dt.UTC).astimezone(LONDON))

def test_every_event_records_who_acted() -> None:
    event = full_with_two_waiting()
    event.cancel_booking("b1", NOW, WINDOW, "account:coordinator")
    event.record_attendance("b2", True, DURING, LEAD)
    actors = [(type(e).__name__, e.actor) for e in event.collect_events()]
    assert actors == [("BookingCancelled", "account:coordinator"),
                      ("PlaceOffered", "system:waiting-list"), ("AttendanceRecorded", LEAD)]


def test_the_id_is_derived_from_the_code() -> None:
    assert cpd().id == CpdEvent.create_id("network-meeting") != CpdEvent.create_id("introduction")


# -- the lead lists events and edits sessions -------------------------------------------------


def test_the_lead_lists_an_event_of_each_kind_but_a_celebration() -> None:
    for kind in ("session", "series", "on_request", "run_by_others"):
        event = listed_by_lead("new", "New", "", kind, "Coventry EMAS", "Staff", None, LEAD)
        assert (event.kind, event.sessions, names(event)) == (kind, {}, ["Listed"])
    with pytest.raises(Invalid) as refusal:
        listed_by_lead("party", "Party", "", "celebration", "Coventry EMAS", "Schools", None, LEAD)
    assert refusal.value.field == "kind"


def test_describe_may_change_who_runs_the_event_and_keeps_it_otherwise() -> None:
    event = cpd()
    event.describe("Network meeting", "", "Staff", None, LEAD, NOW, WINDOW, runs_by="City of Sanctuary")
    assert event.runs_by == "City of Sanctuary"
    describe(event, 5)
    assert (event.runs_by, event.capacity) == ("City of Sanctuary", 5)


def test_a_described_event_of_version_1_reads_back_with_who_runs_it_unchanged() -> None:
    state = {"title": "T", "description": "", "audience": "Staff", "capacity": None, "actor": LEAD}
    CpdEvent.Described.upcast_v1_v2(state)
    assert state["runs_by"] is None
    event = cpd()
    event._described(**{**state, "runs_by": None})
    assert (event.title, event.runs_by) == ("T", "Coventry EMAS")


def test_a_session_is_added_with_its_venue_a_joining_link_only_online() -> None:
    event = cpd(sessions=[])
    when = {"date_status": "month", "month": "2027-02"}
    event.add_session("s2", when, LEAD, {"venue_status": "online", "joining_link": "https://meet.example.org/x"})
    event.add_session("s3", when, LEAD, {"venue_status": "at_school", "venue": "In school",
                                         "joining_link": "https://meet.example.org/y"})
    assert (event.sessions["s2"]["venue_status"], event.sessions["s2"]["joining_link"]) == (
        "online", "https://meet.example.org/x")
    assert (event.sessions["s3"]["venue"], event.sessions["s3"]["joining_link"]) == ("In school", None)
    with refused(Invalid, "venue", event):
        event.add_session("s4", when, LEAD, {"venue_status": "confirmed"})


def test_editing_a_session_records_only_what_changed() -> None:
    event = cpd()
    same = {"date_status": "confirmed", "date": DAY, "start": FOUR, "end": FIVE}
    event.edit_session("s1", same, {"venue_status": "confirmed", "venue": "Council House"}, LEAD)
    assert names(event)[1:] == ["VenueSet"]
    event.edit_session("s1", {**same, "date": DAY + dt.timedelta(days=1)},
                       {"venue_status": "confirmed", "venue": "Council House"}, LEAD)
    assert names(event) == ["Rescheduled"]  # the venue was already so
    event.edit_session("s1", {"date_status": "tbc"}, {"venue_status": "tbc"}, LEAD)
    assert event.sessions["s1"]["sequence"] == 4
    assert (event.sessions["s1"]["date_status"], event.sessions["s1"]["venue_status"]) == ("tbc", "tbc")


def test_an_online_session_edited_without_a_new_link_keeps_its_link() -> None:
    event = cpd()
    online = {"venue_status": "online", "joining_link": "https://meet.example.org/x"}
    event.edit_session("s1", {"date_status": "tbc"}, online, LEAD)
    event.edit_session("s1", {"date": DAY}, {"venue_status": "online"}, LEAD)
    assert event.sessions["s1"]["joining_link"] == "https://meet.example.org/x"
    assert names(event)[1:] == ["Rescheduled", "VenueSet", "Rescheduled"]  # the venue once: kept
    event.edit_session("s1", {"date": DAY}, {"venue_status": "tbc"}, LEAD)
    assert event.sessions["s1"]["joining_link"] is None


def test_editing_a_session_to_what_it_is_already_is_refused() -> None:
    event = cpd()
    with refused(Conflict, "form", event):
        event.edit_session("s1", {"date_status": "confirmed", "date": DAY, "start": FOUR, "end": FIVE},
                           {"venue_status": "tbc"}, LEAD)


def test_a_session_edit_is_checked_whole_before_anything_is_recorded() -> None:
    event = cpd()
    with refused(Invalid, "venue", event):
        event.edit_session("s1", {"date_status": "tbc"}, {"venue_status": "confirmed"}, LEAD)
    with refused(Invalid, "end", event):
        event.edit_session("s1", {"date": DAY, "start": FIVE, "end": FOUR}, {"venue_status": "online"}, LEAD)
    event.cancel_session("s1", "Snow", LEAD)
    with refused(Conflict, "session", event):
        event.edit_session("s1", {"date_status": "tbc"}, {"venue_status": "tbc"}, LEAD)


def test_check_venue_keeps_what_fits_its_status() -> None:
    assert check_venue({}) == {"venue_status": "tbc", "venue": None, "joining_link": None}
    assert check_venue({"venue_status": "online", "venue": "", "joining_link": "https://x.example"}) == {
        "venue_status": "online", "venue": None, "joining_link": "https://x.example"}
    with pytest.raises(Invalid) as refusal:
        check_venue({"venue_status": "moon"})
    assert refusal.value.field == "venue_status"


# -- catch-up meetings --------------------------------------------------------------------------


def catch_up() -> CatchUp:
    return CatchUp(urn="740001", note="Audit review", code="catch-up-meeting", actor="account:coordinator")


TUESDAY = dt.date(2027, 1, 12)
BEFORE = dt.date(2027, 1, 5)  # the authority's today, a week before


def propose(c: CatchUp, day: dt.date = TUESDAY, start: dt.time = dt.time(15, 30),
            end: dt.time = dt.time(16, 30), venue: str = "") -> None:
    c.propose(day, start, end, venue, BEFORE, LEAD)


def test_a_catch_up_is_requested_proposed_and_confirmed() -> None:
    c = catch_up()
    assert (c.status, c.proposal, c.urn, c.note, c.code) == (
        "requested", None, "740001", "Audit review", "catch-up-meeting")
    propose(c, venue="At the school, main office")
    assert c.status == "proposed"
    assert c.proposal == {"date": TUESDAY, "start": dt.time(15, 30), "end": dt.time(16, 30),
                          "venue": "At the school, main office", "sequence": 0}
    c.confirm(BEFORE, "account:coordinator")
    assert c.status == "confirmed"
    events = c.collect_events()
    assert [type(e).__name__ for e in events] == ["Requested", "Proposed", "Confirmed"]
    assert {(e.urn, e.code) for e in events} == {("740001", "catch-up-meeting")}
    assert (events[2].date, events[2].start, events[2].venue) == (
        TUESDAY, dt.time(15, 30), "At the school, main office")


def test_a_catch_up_cannot_be_confirmed_or_declined_without_a_proposal() -> None:
    c = catch_up()
    with pytest.raises(Conflict):
        c.confirm(BEFORE, "a")
    with pytest.raises(Conflict):
        c.decline("no", "a")
    assert c.status == "requested"


def test_a_proposal_can_be_declined_with_a_reason_and_another_proposed() -> None:
    c = catch_up()
    propose(c)
    c.decline("Parents' evening", "account:coordinator")
    assert (c.status, c.declined_because) == ("declined", "Parents' evening")
    assert c.collect_events()[-1].reason == "Parents' evening"
    with pytest.raises(Conflict):
        c.confirm(BEFORE, "a")
    propose(c, TUESDAY + dt.timedelta(days=1))
    assert (c.status, c.proposal["sequence"]) == ("proposed", 1)


def test_re_proposing_raises_the_proposals_sequence() -> None:
    c = catch_up()
    propose(c)
    propose(c, TUESDAY + dt.timedelta(days=1), dt.time(9, 0), dt.time(10, 0))
    assert c.proposal["sequence"] == 1
    assert c.proposal["date"] == dt.date(2027, 1, 13)
    propose(c, TUESDAY, dt.time(9, 0), dt.time(10, 0))
    assert c.proposal["sequence"] == 2


def test_a_confirmed_catch_up_cannot_be_re_proposed() -> None:
    c = catch_up()
    propose(c)
    c.confirm(BEFORE, "a")
    with refused(Conflict, "status", c):
        propose(c, TUESDAY, dt.time(9, 0), dt.time(10, 0))
    assert c.proposal["sequence"] == 0


def test_a_catch_up_proposal_must_end_after_it_starts() -> None:
    c = catch_up()
    with refused(Invalid, "end", c):
        propose(c, TUESDAY, dt.time(16, 30), dt.time(15, 30))
    assert c.status == "requested"


def test_a_catch_up_cannot_be_proposed_for_a_day_gone_by() -> None:
    c = catch_up()
    with refused(Invalid, "date", c):
        c.propose(BEFORE - dt.timedelta(days=1), dt.time(9), dt.time(10), "", BEFORE, LEAD)
    c.propose(BEFORE, dt.time(9), dt.time(10), "", BEFORE, LEAD)  # today is fine
    assert c.status == "proposed"


def test_a_proposed_day_that_has_passed_cannot_be_confirmed() -> None:
    c = catch_up()
    propose(c)
    with refused(Conflict, "status", c):
        c.confirm(TUESDAY + dt.timedelta(days=1), "account:coordinator")
    c.confirm(TUESDAY, "account:coordinator")  # on the day itself
    assert c.status == "confirmed"


def test_catch_up_events_of_version_1_read_back_naming_nothing_new() -> None:
    requested = {"urn": "740001", "note": "n", "actor": "a"}
    CatchUp.Requested.upcast_v1_v2(requested)
    proposed = {"date": TUESDAY, "start": dt.time(9), "end": dt.time(10), "actor": "a"}
    CatchUp.Proposed.upcast_v1_v2(proposed)
    confirmed, declined = {"actor": "a"}, {"reason": "r", "actor": "a"}
    CatchUp.Confirmed.upcast_v1_v2(confirmed)
    CatchUp.Declined.upcast_v1_v2(declined)
    assert requested["code"] is None
    assert (proposed["urn"], proposed["code"], proposed["venue"]) == (None, None, None)
    assert (confirmed["urn"], confirmed["date"], declined["code"]) == (None, None, None)
