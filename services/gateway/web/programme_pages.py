"""The lead runs the CPD programme in a browser: lists a new event, changes its details,
adds sessions and changes when and where they are, cancels a session (after saying
why, on a page that asks first: the people booked are told by email), prints a
session's register and records who attended once it has started."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.web.cpd_pages import STATUS, programme_view
from services.gateway.web.meeting_pages import school_names
from services.gateway.web.pages import field_errors, page, redirect, render
from services.gateway.web.session_form import (
    DATE_STATUSES,
    KINDS,
    VENUE_STATUSES,
    event_details,
    event_values,
    friendly,
    session_details,
    session_values,
)
from shared.access import LEAD
from shared.errors import Conflict, Invalid, NotFound

EVENT = "/lead/cpd/events/<code>"
SESSION = f"{EVENT}/sessions/<session_id>"
ON_REGISTER = ("booked", "attended", "absent")  # who is expected, and who came
FORMS = {"kinds": KINDS, "date_statuses": DATE_STATUSES, "venue_statuses": VENUE_STATUSES}


def event_path(code: str) -> str:
    return f"/lead/cpd/events/{code}"


def session_path(code: str, session_id: str) -> str:
    return f"{event_path(code)}/sessions/{session_id}"


class ProgrammePages:
    clients: Clients

    # -- reading ----------------------------------------------------------------------------

    def _event(self, code: str) -> dict:
        return programme_view([self.clients.events.event(None, code)])[0]

    def _session(self, code: str, session_id: str) -> tuple[dict, dict]:
        event = self._event(code)
        session = next((s for s in event["sessions"] if s["id"] == session_id), None)
        if session is None:
            raise NotFound("There is no such session in the programme.", "session")
        return event, session

    def _bookings(self, request: Any, code: str, session_id: str) -> list[dict]:
        names = school_names(self.clients, request.principal)
        return [{**b, "status_text": STATUS.get(b["status"], b["status"]),
                 "school": names.get(b["urn"], f"URN {b['urn']}")}
                for b in self.clients.events.bookings(request.principal, code, session_id)["items"]]

    def _form(self, request: Any, template: str, errors: dict | None, values: dict,
              **context: Any) -> Response:
        return render(request, template, status=422 if errors else 200, errors=errors or {},
                      values=request.form if errors else values, **FORMS, **context)

    def _command(self, request: Any, read: Callable[[], dict], act: Callable[[dict], dict],
                 again: Callable[[dict], Response], done: Callable[[dict], str], message: str) -> Response:
        """Read the form, run the command; refused either way, the form again with why (the
        form's own words as read; the service's explained in them)."""
        try:
            data = read()
        except Invalid as error:
            return again(field_errors(error))
        try:
            result = act(data)
        except (Invalid, Conflict) as error:
            return again(friendly(error))
        return redirect(done(result), message)

    # -- events -------------------------------------------------------------------------------

    @page("GET", "/lead/cpd/events/new", allow=LEAD)
    def lead_new_event_form(self, request: Any) -> Response:
        return self._form(request, "cpd/event_form.html", None, {}, event=None)

    @page("POST", "/lead/cpd/events/new", allow=LEAD)
    def lead_list_event(self, request: Any) -> Response:
        return self._command(
            request, lambda: event_details(request.form, new=True),
            lambda data: self.clients.events.list_event(request.principal, data),
            lambda errors: self._form(request, "cpd/event_form.html", errors, {}, event=None),
            lambda event: event_path(event["code"]),
            "The event is in the programme. Add its sessions.")

    @page("GET", EVENT, allow=LEAD)
    def lead_event_page(self, request: Any, code: str) -> Response:
        return render(request, "cpd/event.html", event=self._event(code), kinds=dict(k[:2] for k in KINDS))

    @page("GET", f"{EVENT}/details", allow=LEAD)
    def lead_event_details_form(self, request: Any, code: str) -> Response:
        event = self._event(code)
        return self._form(request, "cpd/event_form.html", None, event_values(event), event=event)

    @page("POST", f"{EVENT}/details", allow=LEAD)
    def lead_describe_event(self, request: Any, code: str) -> Response:
        event = self._event(code)
        return self._command(
            request, lambda: event_details(request.form, new=False),
            lambda data: self.clients.events.describe(request.principal, code, data),
            lambda errors: self._form(request, "cpd/event_form.html", errors, {}, event=event),
            lambda _: event_path(code), "The event's details are changed.")

    # -- sessions -----------------------------------------------------------------------------

    @page("GET", f"{EVENT}/sessions/new", allow=LEAD)
    def lead_new_session_form(self, request: Any, code: str) -> Response:
        return self._form(request, "cpd/session_form.html", None, {}, event=self._event(code), session=None)

    @page("POST", f"{EVENT}/sessions/new", allow=LEAD)
    def lead_add_session(self, request: Any, code: str) -> Response:
        event = self._event(code)
        return self._command(
            request, lambda: session_details(request.form),
            lambda data: self.clients.events.add_session(request.principal, code, data),
            lambda errors: self._form(request, "cpd/session_form.html", errors, {}, event=event,
                                      session=None),
            lambda _: event_path(code), "The session is added to the programme.")

    @page("GET", SESSION, allow=LEAD)
    def lead_session_page(self, request: Any, code: str, session_id: str) -> Response:
        return self._session_page(request, code, session_id)

    def _session_page(self, request: Any, code: str, session_id: str,
                      errors: dict | None = None) -> Response:
        event, session = self._session(code, session_id)
        register = self.clients.events.bookings_by_session(request.principal)["items"]
        started = next((s["started"] for s in register if s["session"] == session_id), False)
        bookings = self._bookings(request, code, session_id) if event["bookable"] else []
        return render(request, "cpd/session.html", status=409 if errors else 200, errors=errors or {},
                      event=event, session=session, bookings=bookings, started=started)

    @page("GET", f"{SESSION}/edit", allow=LEAD)
    def lead_edit_session_form(self, request: Any, code: str, session_id: str) -> Response:
        event, session = self._session(code, session_id)
        return self._form(request, "cpd/session_form.html", None, session_values(session), event=event,
                          session=session)

    @page("POST", f"{SESSION}/edit", allow=LEAD)
    def lead_edit_session(self, request: Any, code: str, session_id: str) -> Response:
        event, session = self._session(code, session_id)
        return self._command(
            request, lambda: session_details(request.form),
            lambda data: self.clients.events.edit_session(request.principal, code, session_id, data),
            lambda errors: self._form(request, "cpd/session_form.html", errors, {}, event=event,
                                      session=session),
            lambda _: session_path(code, session_id),
            "The session is changed. People booked on it are told by email.")

    @page("GET", f"{SESSION}/cancel", allow=LEAD)
    def lead_cancel_session_form(self, request: Any, code: str, session_id: str) -> Response:
        return self._cancel_form(request, code, session_id)

    def _cancel_form(self, request: Any, code: str, session_id: str, errors: dict | None = None) -> Response:
        event, session = self._session(code, session_id)
        if session["status"] == "cancelled":
            raise Conflict("The session is already cancelled.", "session")
        booked = [b for b in self._bookings(request, code, session_id) if b["status"] in
                  ("booked", "offered", "waiting")] if event["bookable"] else []
        return render(request, "cpd/cancel_session.html", status=422 if errors else 200,
                      errors=errors or {}, values=request.form if errors else {}, event=event,
                      session=session, booked=booked)

    @page("POST", f"{SESSION}/cancel", allow=LEAD)
    def lead_cancel_session(self, request: Any, code: str, session_id: str) -> Response:
        def read() -> dict:
            reason = request.form.get("reason", "").strip()
            if not reason:
                raise Invalid("No reason", {"reason": ["Enter why the session is cancelled"]})
            return {"reason": reason}

        return self._command(
            request, read,
            lambda data: self.clients.events.cancel_session(request.principal, code, session_id, data),
            lambda errors: self._cancel_form(request, code, session_id, errors),
            lambda _: event_path(code), "The session is cancelled. People booked on it are told by email.")

    # -- the register and attendance --------------------------------------------------------------

    @page("GET", f"{SESSION}/register", allow=LEAD)
    def lead_session_register(self, request: Any, code: str, session_id: str) -> Response:
        event, session = self._session(code, session_id)
        people = sorted((b for b in self._bookings(request, code, session_id) if b["status"] in ON_REGISTER),
                        key=lambda b: (b["school"].lower(), b["person"]["name"].lower()))
        return render(request, "cpd/register.html", event=event, session=session, people=people)

    @page("POST", f"{SESSION}/attendance", allow=LEAD)
    def lead_session_attendance(self, request: Any, code: str, session_id: str) -> Response:
        attended = request.form.get("attended") == "yes"
        data = {"booking_id": request.form.get("booking_id", ""), "attended": attended}
        try:
            self.clients.events.record_attendance(request.principal, code, data)
        except (Invalid, Conflict) as error:
            message = next(iter(friendly(error).values()))
            return self._session_page(request, code, session_id, {"bookings": message})
        return redirect(session_path(code, session_id),
                        f"Attendance recorded: {'attended' if attended else 'did not attend'}.")
