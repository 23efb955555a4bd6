"""Gateway routes for the CPD programme: listing, calendars, bookings, attendance,
catch-up meetings on request, invitations to celebrate an award.

Mixed into the gateway service, whose ``clients`` make the RPCs; each route's
access rule and schemas come from the operation it names (services/events/api.py).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.events.api import EventsApi as Events
from services.gateway.clients import Clients
from services.gateway.routes import route

EVENT = "/programme/<code>"
SESSION = f"{EVENT}/sessions/<session_id>"
BOOKING = f"{EVENT}/bookings/<booking_id>"
INVITATIONS = "/schools/<urn>/invitations"


def ics(body: str, filename: str) -> Response:
    return Response(body, content_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class EventRoutes:
    clients: Clients

    # -- anyone ------------------------------------------------------------------------

    @route("GET", "/programme", "The CPD programme, as published (free; places may be limited)",
           "programme", op=Events.programme)
    def programme(self, request: Any) -> dict:
        return self.clients.events.programme(None)

    @route("GET", "/programme.ics", "The programme as a calendar feed (confirmed dates only)",
           "programme", op=Events.feed)
    def programme_feed(self, request: Any) -> Response:
        return ics(self.clients.events.feed(None), "programme.ics")

    @route("GET", EVENT, "One event and its sessions", "programme", op=Events.event, errors=(404,))
    def cpd_event(self, request: Any, code: str) -> dict:
        return self.clients.events.event(None, code)

    # -- the lead --------------------------------------------------------------------------

    @route("POST", "/programme", "List a new event (its code is made from its title)", "programme",
           op=Events.list_event, status=201)
    def list_event(self, request: Any) -> dict:
        return self.clients.events.list_event(request.principal, request.data_in)

    @route("PUT", EVENT, "Edit an event's details and capacity", "programme", op=Events.describe,
           errors=(404, 409))
    def describe_event(self, request: Any, code: str) -> dict:
        return self.clients.events.describe(request.principal, code, request.data_in)

    @route("POST", f"{EVENT}/sessions", "Add a session (a date may be TBC or just a month)",
           "programme", op=Events.add_session, status=201, errors=(404, 409))
    def add_session(self, request: Any, code: str) -> dict:
        return self.clients.events.add_session(request.principal, code, request.data_in)

    @route("PUT", f"{SESSION}/when", "Reschedule, or confirm a TBC date", "programme",
           op=Events.reschedule, errors=(404, 409))
    def reschedule(self, request: Any, code: str, session_id: str) -> dict:
        return self.clients.events.reschedule(request.principal, code, session_id, request.data_in)

    @route("PUT", SESSION, "Change when and where a session is at once (people booked are told)",
           "programme", op=Events.edit_session, errors=(404, 409))
    def edit_session(self, request: Any, code: str, session_id: str) -> dict:
        return self.clients.events.edit_session(request.principal, code, session_id, request.data_in)

    @route("PUT", f"{SESSION}/venue", "Confirm or change the venue (or the joining link)",
           "programme", op=Events.set_venue, errors=(404, 409))
    def set_venue(self, request: Any, code: str, session_id: str) -> dict:
        return self.clients.events.set_venue(request.principal, code, session_id, request.data_in)

    @route("POST", f"{SESSION}/cancellation", "Cancel a session (people booked are told)",
           "programme", op=Events.cancel_session, errors=(404, 409))
    def cancel_session(self, request: Any, code: str, session_id: str) -> dict:
        return self.clients.events.cancel_session(request.principal, code, session_id, request.data_in)

    @route("GET", f"{SESSION}/bookings", "Who is booked and waiting", "bookings", op=Events.bookings,
           errors=(404,))
    def session_bookings(self, request: Any, code: str, session_id: str) -> dict:
        return self.clients.events.bookings(request.principal, code, session_id)

    @route("POST", f"{EVENT}/attendance", "Record whether a booked person attended (once the "
           "session has started)", "bookings", op=Events.record_attendance, errors=(404, 409))
    def record_attendance(self, request: Any, code: str) -> dict:
        return self.clients.events.record_attendance(request.principal, code, request.data_in)

    @route("GET", "/catch-ups", "Every school's requests for meetings, those needing an answer first",
           "catch-ups", op=Events.catch_ups)
    def catch_ups(self, request: Any) -> dict:
        return self.clients.events.catch_ups(request.principal)

    @route("POST", "/catch-ups/<request_id>/proposal", "Propose a time for a catch-up meeting",
           "catch-ups", op=Events.propose_catch_up, errors=(404, 409))
    def propose_catch_up(self, request: Any, request_id: str) -> dict:
        return self.clients.events.propose_catch_up(request.principal, request_id, request.data_in)

    @route("GET", f"{EVENT}/invitations", "The schools invited to the celebration, and their answers",
           "celebrations", op=Events.celebration_invitations, errors=(404,))
    def celebration_invitations(self, request: Any, code: str) -> dict:
        return self.clients.events.celebration_invitations(request.principal, code)

    # -- schools ------------------------------------------------------------------------

    @route("POST", f"{SESSION}/bookings", "Book a place for a member of staff (or join the "
           "waiting list when full)", "bookings", op=Events.book, status=201, errors=(404, 409))
    def book(self, request: Any, code: str, session_id: str) -> dict:
        return self.clients.events.book(request.principal, code, session_id, request.data_in)

    @route("GET", BOOKING, "One booking (with the joining link once booked)", "bookings",
           op=Events.booking, errors=(404,))
    def get_booking(self, request: Any, code: str, booking_id: str) -> dict:
        return self.clients.events.booking(request.principal, code, booking_id)

    @route("DELETE", BOOKING, "Cancel a booking (the place goes to the next on the waiting list)",
           "bookings", op=Events.cancel_booking, errors=(404, 409))
    def cancel_booking(self, request: Any, code: str, booking_id: str) -> dict:
        return self.clients.events.cancel_booking(request.principal, code, booking_id)

    @route("POST", f"{BOOKING}/claim", "Take up a place offered from the waiting list", "bookings",
           op=Events.claim_offer, errors=(404, 409))
    def claim_offer(self, request: Any, code: str, booking_id: str) -> dict:
        return self.clients.events.claim_offer(request.principal, code, booking_id)

    @route("GET", f"{BOOKING}/calendar.ics", "The booking as a calendar entry", "bookings",
           op=Events.booking_calendar, errors=(404, 409))
    def booking_calendar(self, request: Any, code: str, booking_id: str) -> Response:
        return ics(self.clients.events.booking_calendar(request.principal, code, booking_id),
                   f"{code}.ics")

    @route("GET", "/schools/<urn>/cpd", "The school's CPD record: who attended what, when",
           "bookings", op=Events.school_record, errors=(404,))
    def school_cpd(self, request: Any, urn: str) -> dict:
        return self.clients.events.school_record(request.principal, urn)

    @route("POST", "/schools/<urn>/catch-ups", "Ask for a catch-up meeting at the school",
           "catch-ups", op=Events.request_catch_up, status=201)
    def request_catch_up(self, request: Any, urn: str) -> dict:
        return self.clients.events.request_catch_up(request.principal, urn, request.data_in)

    @route("GET", "/schools/<urn>/catch-ups", "The school's requests for meetings", "catch-ups",
           op=Events.school_catch_ups)
    def school_catch_ups(self, request: Any, urn: str) -> dict:
        return self.clients.events.school_catch_ups(request.principal, urn)

    @route("POST", "/catch-ups/<request_id>/answer", "Accept or decline the proposed time",
           "catch-ups", op=Events.answer_catch_up, errors=(404, 409))
    def answer_catch_up(self, request: Any, request_id: str) -> dict:
        return self.clients.events.answer_catch_up(request.principal, request_id, request.data_in)

    @route("GET", INVITATIONS, "The school's invitations to celebrate its award", "celebrations",
           op=Events.invitations)
    def school_invitations(self, request: Any, urn: str) -> dict:
        return self.clients.events.invitations(request.principal, urn)

    @route("POST", f"{INVITATIONS}/<year>/answer", "Accept or decline the invitation to celebrate "
           "the school's award of that school year", "celebrations", op=Events.answer_invitation,
           errors=(404, 409))
    def answer_invitation(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.events.answer_invitation(request.principal, urn, year, request.data_in)
