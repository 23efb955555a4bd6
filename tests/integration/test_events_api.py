"""The events service's declared operations (services/events/api.py), run as the
service runs them (rule, input, application, output) on a real store: every
answer is the application's own view, nothing dropped by its output schema (and,
strict in tests, nothing undeclared); every operation refuses each role it does
not allow, with nothing stored."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from services.events.api import EventsApi as Events
from services.events.application import Programme
from shared.access import Principal
from shared.authority import Authority
from shared.clock import FixedClock
from shared.consumer import consume
from shared.envelope import IntegrationEvent
from shared.errors import Forbidden, Unauthorized
from shared.personal import subject_for_email
from shared.schema import jsonable
from tests.integration import ON_POSTGRES

pytestmark = ON_POSTGRES  # see tests/integration/__init__.py

NOW = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)
URN, OTHER_URN = "740111", "740112"
CODE, FIRST, MARCH = "network-meeting", "network-meeting-1", "network-meeting-2"
YEAR = "2026-27"


def principal(account: str, *grants: tuple[str, str | None]) -> dict:
    return Principal(account, account.title(), frozenset(grants)).to_dict()


LEAD = principal("lead", ("lead", None))
OURS = principal("cora", ("coordinator", URN))
ROLES = {
    "anonymous": None,
    "lead": LEAD,
    "our coordinator": OURS,
    "another school's coordinator": principal("otto", ("coordinator", OTHER_URN)),
    "panel member": principal("pam", ("panel_member", None)),
    "operator": principal("opal", ("operator", None)),
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def app(store, coventry: Authority, clock: FixedClock) -> Programme:
    programme = Programme(env=store.env("events"), authority=coventry, clock=clock)
    programme.seed()
    yield programme
    programme.close()


def award(app: Programme, urn: str = URN) -> None:
    """The applications service's ``Awarded`` heard: the school is invited to celebrate."""
    news = IntegrationEvent(
        id=str(uuid.uuid4()), type="Awarded", schema_version=1, origin="applications", position=1,
        occurred_at="2027-07-01T09:00:00+00:00", authority="coventry", actor="account:lead",
        payload={"application": str(uuid.uuid5(uuid.NAMESPACE_URL, urn)), "urn": urn, "school_year": YEAR,
                 "outcome": "awarded", "on": "2027-07-01", "expires_on": "2030-07-01",
                 "evidence_due": None})
    assert consume(app, news.to_dict(), app.learn_award)


def booking_body(n: int, urn: str = URN) -> dict:
    return {"urn": urn, "name": f"Teacher {n}", "email": f"teacher{n}@{urn}.example.org"}


def catch_up(app: Programme, request_id: str) -> dict:
    return app.catch_up_view(app.repository.get(uuid.UUID(request_id)))


# -- every answer is the application's view, whole ----------------------------------------------


def test_every_operation_answers_the_applications_view_whole(app: Programme, clock: FixedClock) -> None:
    def event() -> Any:
        return jsonable(app.event(CODE))

    assert Events.programme.invoke(app, None) == {"items": jsonable(app.programme())}
    assert Events.event.invoke(app, None, CODE) == event()
    assert Events.feed.invoke(app, None) == app.feed().decode()

    details = {"title": "Network meeting", "description": "", "audience": "Staff", "capacity": 1}
    assert Events.describe.invoke(app, LEAD, CODE, details) == event()
    added = Events.add_session.invoke(app, LEAD, CODE, {"date": "2027-05-05", "start": "16:00",
                                                        "end": "17:00"})
    assert added == event()
    [new] = [s["id"] for s in added["sessions"] if s["date"] == "2027-05-05"]
    assert Events.reschedule.invoke(app, LEAD, CODE, new, {"date": "2027-05-06"}) == event()
    venue = {"venue_status": "online", "joining_link": "https://meet.example.org/x"}
    assert Events.set_venue.invoke(app, LEAD, CODE, new, venue) == event()
    edit = {"date_status": "month", "month": "2027-05", "venue_status": "confirmed", "venue": "Hall"}
    assert Events.edit_session.invoke(app, LEAD, CODE, new, edit) == event()
    cancelled = Events.cancel_session.invoke(app, LEAD, CODE, new, {"reason": "Snow"})
    assert cancelled == event()
    assert next(s for s in cancelled["sessions"] if s["id"] == new)["cancelled_because"] == "Snow"

    first = Events.book.invoke(app, OURS, CODE, FIRST, booking_body(1))
    assert first == jsonable(app.booking(CODE, first["id"], None))
    second = Events.book.invoke(app, OURS, CODE, FIRST, booking_body(2))
    assert second["status"] == "waiting"
    assert Events.booking.invoke(app, OURS, CODE, first["id"]) == jsonable(
        app.booking(CODE, first["id"], None))
    assert Events.bookings.invoke(app, LEAD, CODE, FIRST) == {"items": jsonable(app.bookings(CODE, FIRST))}
    register = Events.bookings_by_session.invoke(app, LEAD)
    assert register == {"items": jsonable(app.bookings_by_session())}
    ours = Events.school_bookings.invoke(app, OURS, URN)
    assert ours == {"items": jsonable(app.school_bookings(URN))}
    assert [b["position"] for b in ours["items"]] == [None, 1]
    calendar = Events.booking_calendar.invoke(app, OURS, CODE, first["id"])
    assert calendar == app.booking_calendar(CODE, first["id"], None).decode()

    assert Events.cancel_booking.invoke(app, OURS, CODE, first["id"]) == jsonable(
        app.booking(CODE, first["id"], None))
    offered = Events.booking.invoke(app, OURS, CODE, second["id"])
    assert (offered["status"], offered["offer_expires_at"]) == (
        "offered", (NOW + dt.timedelta(hours=48)).isoformat())
    claimed = Events.claim_offer.invoke(app, OURS, CODE, second["id"])
    assert claimed == jsonable(app.booking(CODE, second["id"], None))

    clock.at = dt.datetime(2026, 10, 22, 15, 1, tzinfo=dt.UTC)  # 16:01 in Coventry: under way
    attendance = {"booking_id": second["id"], "attended": True}
    assert Events.record_attendance.invoke(app, LEAD, CODE, attendance) == event()
    record = Events.school_record.invoke(app, OURS, URN)
    assert record == {"items": jsonable(app.school_record(URN))}
    assert [r["status"] for r in record["items"]] == ["attended"]

    requested = Events.request_catch_up.invoke(app, OURS, URN, {"note": "Our audit"})
    assert requested == jsonable(catch_up(app, requested["id"]))
    when = {"date": "2027-01-12", "start": "15:30", "end": "16:30"}
    assert Events.propose_catch_up.invoke(app, LEAD, requested["id"], when) == jsonable(
        catch_up(app, requested["id"]))
    assert Events.catch_ups.invoke(app, LEAD) == {"items": jsonable(app.catch_ups())}
    assert Events.school_catch_ups.invoke(app, OURS, URN) == {"items": jsonable(app.catch_ups(URN))}
    answered = Events.answer_catch_up.invoke(app, OURS, requested["id"], {"accept": True})
    assert answered == jsonable(catch_up(app, requested["id"]))
    assert answered["status"] == "confirmed"

    new_event = {"title": "Governors' briefing", "kind": "session", "runs_by": "Coventry EMAS",
                 "audience": "Governors"}
    listed = Events.list_event.invoke(app, LEAD, new_event)
    assert listed == jsonable(app.event("governors-briefing"))

    app.add_session("account:lead", "celebration", date=dt.date(2027, 10, 8), start=dt.time(18),
                    end=dt.time(20))
    award(app)
    assert Events.celebration_invitations.invoke(app, LEAD, "celebration") == {
        "items": jsonable(app.celebration_invitations("celebration"))}
    assert Events.invitations.invoke(app, OURS, URN) == {"items": jsonable(app.invitations(URN))}
    accepted = Events.answer_invitation.invoke(app, OURS, URN, YEAR, {"accept": True})
    assert accepted == jsonable(app.invitations(URN)[0])
    assert accepted["status"] == "accepted"

    subjects = [subject_for_email(booking_body(1)["email"])]
    exported = Events.personal_data.invoke(app, LEAD, subjects)
    assert {r["event"] for r in exported} == {"Booked"}


# -- every operation refuses each role it does not allow -----------------------------------------

LEADS_ONLY = {"lead"}
SCHOOL_STAFF = {"lead", "our coordinator"}
EVERYONE = set(ROLES)


def calls(app: Programme) -> dict[str, tuple[set[str], Callable[[], tuple]]]:
    """Each operation: who may call it, and arguments that would work for them."""
    booking = app.book("account:cora", CODE, FIRST, URN, "Ann", "ann@school.example.org")["id"]
    request = app.request_catch_up("account:cora", URN, "")["id"]
    app.propose_catch_up("account:lead", request, dt.date(2027, 1, 12), dt.time(15), dt.time(16))
    when = {"date": "2027-01-12", "start": "15:30", "end": "16:30"}
    details = {"title": "Network meeting", "audience": "Staff"}
    return {
        "programme": (EVERYONE, lambda: ()),
        "event": (EVERYONE, lambda: (CODE,)),
        "feed": (EVERYONE, lambda: ()),
        "list_event": (LEADS_ONLY, lambda: ({**details, "kind": "session", "runs_by": "EMAS"},)),
        "describe": (LEADS_ONLY, lambda: (CODE, details)),
        "add_session": (LEADS_ONLY, lambda: (CODE, {"date": "2027-05-05"})),
        "edit_session": (LEADS_ONLY, lambda: (CODE, MARCH, {"date_status": "tbc"})),
        "reschedule": (LEADS_ONLY, lambda: (CODE, MARCH, {"date": "2027-03-03"})),
        "set_venue": (LEADS_ONLY, lambda: (CODE, MARCH, {"venue_status": "online"})),
        "cancel_session": (LEADS_ONLY, lambda: (CODE, MARCH, {"reason": "Snow"})),
        "record_attendance": (LEADS_ONLY, lambda: (CODE, {"booking_id": booking, "attended": True})),
        "bookings": (LEADS_ONLY, lambda: (CODE, FIRST)),
        "bookings_by_session": (LEADS_ONLY, lambda: ()),
        "propose_catch_up": (LEADS_ONLY, lambda: (request, when)),
        "catch_ups": (LEADS_ONLY, lambda: ()),
        "celebration_invitations": (LEADS_ONLY, lambda: ("celebration",)),
        "personal_data": (LEADS_ONLY, lambda: (["email:nobody"],)),
        "book": (SCHOOL_STAFF, lambda: (CODE, FIRST, booking_body(3))),
        "booking": (SCHOOL_STAFF, lambda: (CODE, booking)),
        "cancel_booking": (SCHOOL_STAFF, lambda: (CODE, booking)),
        "claim_offer": (SCHOOL_STAFF, lambda: (CODE, booking)),
        "booking_calendar": (SCHOOL_STAFF, lambda: (CODE, booking)),
        "school_bookings": (SCHOOL_STAFF, lambda: (URN,)),
        "school_record": (SCHOOL_STAFF, lambda: (URN,)),
        "request_catch_up": (SCHOOL_STAFF, lambda: (URN, {"note": ""})),
        "school_catch_ups": (SCHOOL_STAFF, lambda: (URN,)),
        "answer_catch_up": (SCHOOL_STAFF, lambda: (request, {"accept": True})),
        "invitations": (SCHOOL_STAFF, lambda: (URN,)),
        "answer_invitation": (SCHOOL_STAFF, lambda: (URN, YEAR, {"accept": True})),
    }


def test_every_operation_refuses_each_role_it_does_not_allow(app: Programme) -> None:
    table = calls(app)
    # a new operation joins the table; those the system calls (no principal) are refused to
    # every caller with one, which the service tests check
    system = {op.name for op in Events.operations() if op.allow is None}
    assert system == {"claim_by_link", "booker"}
    assert set(table) == {op.name for op in Events.operations()} - system
    before = app.recorder.max_notification_id()
    refused = []
    for name, (allowed, arguments) in table.items():
        operation = getattr(Events, name)
        for role in sorted(EVERYONE - allowed):
            with pytest.raises((Unauthorized, Forbidden)) as caught:
                operation.invoke(app, ROLES[role], *arguments())
            assert type(caught.value) is (Unauthorized if role == "anonymous" else Forbidden), (name, role)
            refused.append((name, role))
    assert app.recorder.max_notification_id() == before
    assert len(refused) == 14 * 5 + 12 * 4


def test_a_coordinator_books_only_for_their_own_school(app: Programme) -> None:
    before = app.recorder.max_notification_id()
    with pytest.raises(Forbidden):
        Events.book.invoke(app, OURS, CODE, FIRST, booking_body(1, OTHER_URN))
    assert app.recorder.max_notification_id() == before
    assert Events.book.invoke(app, LEAD, CODE, FIRST, booking_body(1, OTHER_URN))["urn"] == OTHER_URN
