"""Every operation of the events service, declared once (see shared/operations.py).

The programme is public. The lead runs it; a school's staff book, answer and read
their own. Bookings and catch-up requests are reached by their own ids, so those
operations let in any coordinator and the application narrows them to the
coordinator's own schools (``schools_of``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from services.events import schemas
from services.events.application import Programme
from shared.access import ANY_COORDINATOR, LEAD, PUBLIC, SCHOOL_STAFF, Principal
from shared.errors import Conflict
from shared.operations import Operation, Run
from shared.personal import subject_for_email
from shared.subject_access import PersonalDataApi

SCHOOLS = LEAD | ANY_COORDINATOR  # narrowed to the coordinator's own schools by ``schools_of``
EVENT = ("code",)
SESSION = ("code", "session_id")
BOOKING = ("code", "booking_id")
SCHOOL = ("urn",)


def schools_of(who: Principal) -> set[str] | None:
    """The schools whose bookings and requests the caller may touch (None: every school)."""
    return None if who.has("lead") else who.scopes("coordinator")


def listed(query: Callable[..., list]) -> Run:
    """An application query's list (``Programme.bookings``), as the object the API answers."""
    return lambda app, *params: {"items": query(app, *params)}


def _claim_by_link(app: Programme, code: str, booking_id: str, person: str, expires_at: str) -> dict:
    """A place claimed with the link emailed to the person it was offered to, who may have no
    account: the gateway has checked the link's signature (the notifications service's); this
    checks it names the offer as it stands (the moment it lapses) and the person it is for."""
    booking = app.booking(code, booking_id, None)
    if booking["status"] == "booked" and booking["person"] and \
            subject_for_email(booking["person"]["email"]) == person:
        raise Conflict("You have claimed this place already: it is yours.", "booking")
    lapses = booking["offer_expires_at"]
    if booking["status"] != "offered" or lapses != dt.datetime.fromisoformat(expires_at):
        raise Conflict("This offer is no longer open: the place has gone to the next person.", "booking")
    if not booking["person"] or subject_for_email(booking["person"]["email"]) != person:
        raise Conflict("This link is for someone else's offer.", "booking")
    return app.claim_offer(f"claim-link:{person}", code, booking_id, None)


class EventsApi(PersonalDataApi):
    service = "events"

    # -- the system: a place claimed with the link in the offer's email (the gateway's claim page)
    claim_by_link = Operation(None, _claim_by_link, ("code", "booking_id", "person", "expires_at"),
                              output=schemas.BookingView, caller=None)

    # -- the system: the notifications service, writing about a booking (no contact on the bus)
    booker = Operation(None, Programme.booker, ("event_id", "booking_id"), output=schemas.Booker,
                       caller=None)

    # -- anyone --------------------------------------------------------------------------
    programme = Operation(PUBLIC, listed(Programme.programme), output=schemas.ProgrammeView, caller=None)
    event = Operation(PUBLIC, Programme.event, EVENT, output=schemas.EventView, caller=None)
    feed = Operation(PUBLIC, lambda app: app.feed().decode(), caller=None)  # an iCalendar file

    # -- the lead ------------------------------------------------------------------------
    list_event = Operation(LEAD, Programme.list_event, input=schemas.NewEvent, output=schemas.EventView)
    describe = Operation(LEAD, Programme.describe, EVENT, input=schemas.Details, output=schemas.EventView)
    add_session = Operation(LEAD, Programme.add_session, EVENT, input=schemas.NewSession,
                            output=schemas.EventView)
    edit_session = Operation(LEAD, Programme.edit_session, SESSION, input=schemas.NewSession,
                             output=schemas.EventView)
    reschedule = Operation(LEAD, Programme.reschedule, SESSION, input=schemas.When,
                           output=schemas.EventView)
    set_venue = Operation(LEAD, Programme.set_venue, SESSION, input=schemas.Venue, output=schemas.EventView)
    cancel_session = Operation(LEAD, Programme.cancel_session, SESSION, input=schemas.Cancellation,
                               output=schemas.EventView)
    record_attendance = Operation(LEAD, Programme.record_attendance, EVENT, input=schemas.Attendance,
                                  output=schemas.EventView)
    bookings = Operation(LEAD, listed(Programme.bookings), SESSION, output=schemas.BookingList, caller=None)
    bookings_by_session = Operation(LEAD, listed(Programme.bookings_by_session), output=schemas.Register,
                                    caller=None)
    catch_ups = Operation(LEAD, listed(Programme.catch_ups), output=schemas.CatchUpList, caller=None)
    propose_catch_up = Operation(LEAD, Programme.propose_catch_up, ("request_id",), input=schemas.Proposal,
                                 output=schemas.CatchUpView)
    celebration_invitations = Operation(LEAD, listed(Programme.celebration_invitations), EVENT,
                                        output=schemas.InvitationList, caller=None)

    # -- schools -------------------------------------------------------------------------
    # the rule sees the body's URN: a coordinator books only for their own school
    book = Operation(SCHOOL_STAFF, Programme.book, SESSION, input=schemas.Booking,
                     output=schemas.BookingView)
    cancel_booking = Operation(SCHOOLS, lambda app, who, code, booking_id: app.cancel_booking(
        who.actor, code, booking_id, schools_of(who)), BOOKING, output=schemas.BookingView,
        caller="principal")
    claim_offer = Operation(SCHOOLS, lambda app, who, code, booking_id: app.claim_offer(
        who.actor, code, booking_id, schools_of(who)), BOOKING, output=schemas.BookingView,
        caller="principal")
    booking = Operation(SCHOOLS, lambda app, who, code, booking_id: app.booking(
        code, booking_id, schools_of(who)), BOOKING, output=schemas.BookingView, caller="principal")
    booking_calendar = Operation(SCHOOLS, lambda app, who, code, booking_id: app.booking_calendar(
        code, booking_id, schools_of(who)).decode(), BOOKING, caller="principal")  # an iCalendar file
    school_bookings = Operation(SCHOOL_STAFF, listed(Programme.school_bookings), SCHOOL,
                                output=schemas.BookingList, caller=None)
    school_record = Operation(SCHOOL_STAFF, listed(Programme.school_record), SCHOOL,
                              output=schemas.CpdRecord, caller=None)
    school_catch_ups = Operation(SCHOOL_STAFF, listed(Programme.school_catch_ups), SCHOOL,
                                 output=schemas.CatchUpList, caller=None)
    request_catch_up = Operation(SCHOOL_STAFF, Programme.request_catch_up, SCHOOL,
                                 input=schemas.CatchUpRequest, output=schemas.CatchUpView)
    answer_catch_up = Operation(SCHOOLS, lambda app, who, request_id, **answer: app.answer_catch_up(
        who.actor, request_id, schools_of(who), **answer), ("request_id",), input=schemas.Answer,
        output=schemas.CatchUpView, caller="principal")
    invitations = Operation(SCHOOL_STAFF, listed(Programme.invitations), SCHOOL,
                            output=schemas.InvitationList, caller=None)
    answer_invitation = Operation(SCHOOL_STAFF, Programme.answer_invitation, ("urn", "year"),
                                  input=schemas.InvitationAnswer, output=schemas.InvitationView)
