"""The CPD programme in a browser: anyone reads it; a school books staff onto its
sessions, cancels, takes up places offered from the waiting list, downloads
calendar entries, sees its CPD record and asks for meetings (meeting_pages.py); the
lead sees who is booked on each session and records attendance (and runs the
programme: programme_pages.py). Calendar files are the JSON API's own .ics
routes (they accept the session cookie), linked from the pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.web.filters import clock_time, long_date
from services.gateway.web.meeting_pages import SCHOOL_STATUS, meetings_view, school_names
from services.gateway.web.pages import field_errors, page, redirect, render, submit
from shared.access import LEAD, PUBLIC, SCHOOL_STAFF
from shared.errors import Conflict, Invalid, NotFound

VENUES = {"tbc": "Venue to be confirmed", "online": "Online", "at_school": "At your school"}
STATUS = {"booked": "Booked", "waiting": "Waiting list", "offered": "Place offered",
          "cancelled": "Cancelled", "attended": "Attended", "absent": "Did not attend"}
ACTIVE = ("booked", "waiting", "offered")  # the bookings a school can still act on
CALENDAR = ("booked",)  # a calendar file only once the place is held
INVALID = {"name": "Enter the full name of the member of staff, as one line of text",
           "email": "Enter an email address in the correct format, like name@example.org"}


# -- how sessions are described ---------------------------------------------------------------


def when_text(session: dict) -> str:
    if session["date_status"] == "confirmed" and session.get("date"):
        return long_date(session["date"])
    if session["date_status"] == "month" and session.get("month"):
        month = dt.date.fromisoformat(f"{session['month']}-01")
        return f"{month:%B %Y} (exact date to be confirmed)"
    return "Date to be confirmed"


def time_text(session: dict) -> str:
    if not (session.get("start") and session.get("end")):
        return "Time to be confirmed"
    start, end = (clock_time(dt.time.fromisoformat(session[k])) for k in ("start", "end"))
    return f"{start} to {end}"


def venue_text(session: dict) -> str:
    if session.get("venue_status") == "confirmed":
        return session.get("venue") or "Venue to be confirmed"
    return VENUES.get(session.get("venue_status") or "tbc", "Venue to be confirmed")


def described(session: dict) -> dict:
    """A session with its date, time and venue in words (whether it has passed and whether
    it takes bookings are the events service's to say)."""
    return {**session, "when": when_text(session), "time": time_text(session),
            "venue_text": venue_text(session)}


def programme_view(items: list[dict]) -> list[dict]:
    return [{**item, "sessions": [described(s) for s in item["sessions"]]} for item in items]


def register(sessions: list[dict], names: dict[str, str]) -> dict[str, dict]:
    """The lead's register by session id: whether it has started, and its bookings with
    their status in words (the waiting ones with their place in the queue) and their
    school's name (``names``: by URN)."""
    return {s["session"]: {"started": s["started"],
                           "bookings": [{**b, "status_text": STATUS.get(b["status"], b["status"]),
                                         "school": names.get(b["urn"], f"URN {b['urn']}")}
                                        for b in s["bookings"]]}
            for s in sessions}


def friendly(error: Invalid | Conflict) -> dict[str, str]:
    """A refused booking's messages: a conflict says itself, a malformed field is explained."""
    errors = field_errors(error)
    if isinstance(error, Invalid):
        errors = {field: INVALID.get(field, message) for field, message in errors.items()}
    return errors


MISSING = {"name": "Enter the full name of the member of staff", "email": "Enter their email address"}


def missing(form: Any) -> dict[str, str]:
    """The booking's fields left empty, refused here with messages that say what to do."""
    return {field: message for field, message in MISSING.items() if not form.get(field, "").strip()}


class CpdPages:
    clients: Clients

    def _programme(self) -> list[dict]:
        return programme_view(self.clients.events.programme(None)["items"])

    # -- anyone -------------------------------------------------------------------------------

    @page("GET", "/cpd", allow=PUBLIC)
    def cpd_programme_page(self, request: Any) -> Response:
        return render(request, "cpd/programme.html", programme=self._programme())

    # -- schools ------------------------------------------------------------------------------

    @page("GET", "/school/<urn>/cpd", allow=SCHOOL_STAFF)
    def school_cpd_page(self, request: Any, urn: str) -> Response:
        return self._school_page(request, urn)

    def _school_page(self, request: Any, urn: str, errors: dict | None = None,
                     status: int = 200) -> Response:
        programme = self._programme()
        sessions = {(e["code"], s["id"]): (e, s) for e in programme for s in e["sessions"]}
        bookings = [{**b, "status_text": STATUS.get(b["status"], b["status"]),
                     "event": sessions[b["code"], b["session"]][0],
                     "session_view": sessions[b["code"], b["session"]][1]}
                    for b in self.clients.events.school_bookings(request.principal, urn)["items"]
                    if b["status"] in ACTIVE and (b["code"], b["session"]) in sessions]
        record = self.clients.events.school_record(request.principal, urn)["items"]
        meetings = meetings_view(self.clients.events.school_catch_ups(request.principal, urn)["items"])
        return render(request, "cpd/school.html", status=status, errors=errors or {}, urn=urn,
                      programme=programme, bookings=bookings, record=record, status_names=STATUS,
                      calendar_statuses=CALENDAR, meetings=meetings, meeting_status=SCHOOL_STATUS,
                      on_request=[e for e in programme if e["kind"] == "on_request"])

    def _session_of(self, code: str, session_id: str) -> tuple[dict, dict]:
        event = programme_view([self.clients.events.event(None, code)])[0]
        session = next((s for s in event["sessions"] if s["id"] == session_id), None)
        if session is None:
            raise NotFound("There is no such session in the programme.", "session")
        if not event["bookable"]:
            raise Conflict("Places on this event are not booked here.", "session")
        if session["past"]:
            raise Conflict("This session has already taken place.", "session")
        if not session["open"]:
            raise Conflict("Bookings for this session open once its date is confirmed.", "session")
        return event, session

    @page("GET", "/school/<urn>/cpd/<code>/<session_id>/book", allow=SCHOOL_STAFF)
    def cpd_booking_form(self, request: Any, urn: str, code: str, session_id: str) -> Response:
        return self._booking_form(request, urn, code, session_id)

    def _booking_form(self, request: Any, urn: str, code: str, session_id: str,
                      errors: dict | None = None) -> Response:
        event, session = self._session_of(code, session_id)
        return render(request, "cpd/book.html", status=422 if errors else 200, errors=errors or {},
                      values=request.form if errors else {}, urn=urn, event=event, session=session)

    @page("POST", "/school/<urn>/cpd/<code>/<session_id>/book", allow=SCHOOL_STAFF)
    def cpd_book(self, request: Any, urn: str, code: str, session_id: str) -> Response:
        if missing(request.form):
            return self._booking_form(request, urn, code, session_id, missing(request.form))
        data = {"urn": urn, **{field: request.form[field].strip() for field in MISSING}}
        try:
            booking = self.clients.events.book(request.principal, code, session_id, data)
        except (Invalid, Conflict) as error:
            return self._booking_form(request, urn, code, session_id, friendly(error))
        name = booking["person"]["name"]
        message = (f"{name} is booked on {booking['title']}." if booking["status"] == "booked" else
                   f"The session is full: {name} is on the waiting list for {booking['title']}.")
        return redirect(f"/school/{urn}/cpd", message)

    def _change_booking(self, request: Any, urn: str, change: Callable[..., dict], code: str,
                        booking_id: str, message: str) -> Response:
        def again(errors: dict[str, str]) -> Response:  # said above the bookings it is about
            return self._school_page(request, urn, {"bookings": next(iter(errors.values()))}, status=409)

        return submit(request, lambda: change(request.principal, code, booking_id),
                      f"/school/{urn}/cpd", message, again)

    @page("GET", "/school/<urn>/cpd/bookings/<code>/<booking_id>/cancel", allow=SCHOOL_STAFF)
    def cpd_cancel_booking_form(self, request: Any, urn: str, code: str, booking_id: str) -> Response:
        """Asks first: a cancelled booking cannot be taken back (its place may go to another)."""
        booking = self.clients.events.booking(request.principal, code, booking_id)
        if booking["urn"] != urn:
            raise NotFound("Your school has no such booking.", "booking")
        if booking["status"] not in ACTIVE:
            raise Conflict("That booking is not active: there is nothing to cancel.", "booking")
        event = programme_view([self.clients.events.event(None, code)])[0]
        session = next(s for s in event["sessions"] if s["id"] == booking["session"])
        return render(request, "cpd/cancel_booking.html", urn=urn, booking=booking, session=session)

    @page("POST", "/school/<urn>/cpd/bookings/<code>/<booking_id>/cancel", allow=SCHOOL_STAFF)
    def cpd_cancel_booking(self, request: Any, urn: str, code: str, booking_id: str) -> Response:
        return self._change_booking(request, urn, self.clients.events.cancel_booking, code, booking_id,
                                    "The booking is cancelled.")

    @page("POST", "/school/<urn>/cpd/bookings/<code>/<booking_id>/claim", allow=SCHOOL_STAFF)
    def cpd_claim_offer(self, request: Any, urn: str, code: str, booking_id: str) -> Response:
        return self._change_booking(request, urn, self.clients.events.claim_offer, code, booking_id,
                                    "The place is yours: the booking is confirmed.")

    # -- the lead -----------------------------------------------------------------------------

    @page("GET", "/lead/cpd", allow=LEAD)
    def lead_cpd_page(self, request: Any) -> Response:
        return self._lead_page(request)

    def _lead_page(self, request: Any, errors: dict | None = None, status: int = 200) -> Response:
        programme = self._programme()
        by_session = register(self.clients.events.bookings_by_session(request.principal)["items"],
                              school_names(self.clients, request.principal))
        waiting = sum(1 for m in self.clients.events.catch_ups(request.principal)["items"]
                      if m["status"] in ("requested", "declined"))
        return render(request, "cpd/lead.html", status=status, errors=errors or {}, programme=programme,
                      by_session=by_session, meetings_waiting=waiting)

    @page("POST", "/lead/cpd/<code>/attendance", allow=LEAD)
    def cpd_record_attendance(self, request: Any, code: str) -> Response:
        attended = request.form.get("attended") == "yes"
        data = {"booking_id": request.form.get("booking_id", ""), "attended": attended}
        message = f"Attendance recorded: {'attended' if attended else 'did not attend'}."

        def again(errors: dict[str, str]) -> Response:
            return self._lead_page(request, {"programme": next(iter(errors.values()))}, status=409)

        def record() -> Any:
            return self.clients.events.record_attendance(request.principal, code, data)

        return submit(request, record, "/lead/cpd", message, again)
