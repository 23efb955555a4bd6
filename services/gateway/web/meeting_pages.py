"""Meetings on request in a browser (Coventry's catch-up meetings, Lancashire's support
meetings: the programme's items of kind ``on_request``). A school asks from its CPD
page; the lead sees the requests and proposes a time; the school confirms it or
declines with a reason, and the lead may propose another. Each step is published by
the events service, so the notifications service can tell the other side."""

from __future__ import annotations

import datetime as dt
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.web.filters import clock_time, long_date
from services.gateway.web.pages import field_errors, form_date, page, redirect, render
from services.gateway.web.session_form import time_of
from shared.access import LEAD, SCHOOL_STAFF
from shared.errors import Conflict, Invalid, NotFound

SCHOOL_STATUS = {"requested": ("Waiting for a time", "yellow"), "proposed": ("Time proposed", "blue"),
                 "confirmed": ("Confirmed", "green"), "declined": ("You declined the time", "orange")}
LEAD_STATUS = {"requested": ("Needs a time", "yellow"), "proposed": ("Waiting for the school", "blue"),
               "confirmed": ("Confirmed", "green"), "declined": ("Declined: propose another time", "orange")}
TIMES = {"start": "the start time", "end": "the end time"}


def proposal_text(proposal: dict | None) -> str:
    """'Tuesday 12 January 2027, 3:30pm to 4:30pm, at the school' (UK time)."""
    if not proposal:
        return ""
    start, end = (clock_time(dt.time.fromisoformat(proposal[k])) for k in ("start", "end"))
    where = f", {proposal['venue']}" if proposal.get("venue") else ""
    return f"{long_date(proposal['date'])}, {start} to {end}{where}"


def meetings_view(items: list[dict]) -> list[dict]:
    return [{**m, "proposal_text": proposal_text(m["proposal"])} for m in items]


def proposal_form(form: Any) -> dict:
    """The lead's proposed time from the form, every missing answer named at once."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {"venue": form.get("venue", "").strip()}
    try:
        data["date"] = form_date(form, "date", "the date of the meeting")
    except Invalid as error:
        errors.update(error.fields)
    for name, said in TIMES.items():
        try:
            data[name] = time_of(form, name, said)
        except Invalid as error:
            errors.update(error.fields)
            continue
        if data[name] is None:
            errors[name] = [f"Enter {said}"]
    if not errors and data["end"] <= data["start"]:
        errors["end"] = ["The meeting must end after it starts"]
    if errors:
        raise Invalid("Some answers are missing or wrong.", errors)
    return data


class MeetingPages:
    clients: Clients

    def _meeting(self, items: list[dict], request_id: str) -> dict:
        found = next((m for m in meetings_view(items) if m["id"] == request_id), None)
        if found is None:
            raise NotFound("There is no such request for a meeting.", "request")
        return found

    # -- the school -------------------------------------------------------------------------

    @page("GET", "/school/<urn>/cpd/meetings/new/<code>", allow=SCHOOL_STAFF)
    def school_meeting_form(self, request: Any, urn: str, code: str) -> Response:
        return self._meeting_form(request, urn, code)

    def _meeting_form(self, request: Any, urn: str, code: str, errors: dict | None = None) -> Response:
        item = self.clients.events.event(None, code)
        if item["kind"] != "on_request":
            raise NotFound("Meetings are not arranged on request for that event.", "code")
        return render(request, "cpd/meeting_request.html", status=409 if errors else 200, errors=errors or {},
                      values=request.form if errors else {}, urn=urn, item=item)

    @page("POST", "/school/<urn>/cpd/meetings/new/<code>", allow=SCHOOL_STAFF)
    def school_ask_for_meeting(self, request: Any, urn: str, code: str) -> Response:
        data = {"note": request.form.get("note", "").strip(), "code": code}
        try:
            self.clients.events.request_catch_up(request.principal, urn, data)
        except (Invalid, Conflict) as error:
            return self._meeting_form(request, urn, code, field_errors(error))
        return redirect(f"/school/{urn}/cpd", "Your request is sent to the local lead. "
                        "They will propose a time, which you can confirm on this page.")

    @page("POST", "/school/<urn>/cpd/meetings/<request_id>/confirm", allow=SCHOOL_STAFF)
    def school_confirm_meeting(self, request: Any, urn: str, request_id: str) -> Response:
        meeting = self._meeting(self.clients.events.school_catch_ups(request.principal, urn)["items"],
                                request_id)
        try:
            self.clients.events.answer_catch_up(request.principal, request_id, {"accept": True})
        except (Invalid, Conflict) as error:
            return self._school_page(request, urn, {"meetings": error.message}, status=409)
        return redirect(f"/school/{urn}/cpd", f"The meeting is confirmed: {meeting['proposal_text']}.")

    @page("GET", "/school/<urn>/cpd/meetings/<request_id>/decline", allow=SCHOOL_STAFF)
    def school_decline_meeting_form(self, request: Any, urn: str, request_id: str) -> Response:
        return self._decline_form(request, urn, request_id)

    def _decline_form(self, request: Any, urn: str, request_id: str, errors: dict | None = None) -> Response:
        meeting = self._meeting(self.clients.events.school_catch_ups(request.principal, urn)["items"],
                                request_id)
        if meeting["status"] != "proposed" and not errors:
            raise Conflict("There is no proposed time to decline.", "status")
        return render(request, "cpd/meeting_decline.html", status=422 if errors else 200,
                      errors=errors or {}, values=request.form if errors else {}, urn=urn, meeting=meeting)

    @page("POST", "/school/<urn>/cpd/meetings/<request_id>/decline", allow=SCHOOL_STAFF)
    def school_decline_meeting(self, request: Any, urn: str, request_id: str) -> Response:
        reason = request.form.get("reason", "").strip()
        if not reason:
            return self._decline_form(request, urn, request_id,
                                      {"reason": "Tell the lead why, or when would suit you better"})
        try:
            self.clients.events.answer_catch_up(request.principal, request_id,
                                                {"accept": False, "reason": reason})
        except (Invalid, Conflict) as error:
            return self._decline_form(request, urn, request_id, {"reason": error.message})
        return redirect(f"/school/{urn}/cpd", "You declined the time. The local lead will propose another.")

    # -- the lead ---------------------------------------------------------------------------

    @page("GET", "/lead/cpd/meetings", allow=LEAD)
    def lead_meetings_page(self, request: Any) -> Response:
        meetings = meetings_view(self.clients.events.catch_ups(request.principal)["items"])
        names = school_names(self.clients, request.principal)
        return render(request, "cpd/meetings.html", meetings=meetings, names=names, statuses=LEAD_STATUS)

    @page("GET", "/lead/cpd/meetings/<request_id>/proposal", allow=LEAD)
    def lead_proposal_form(self, request: Any, request_id: str) -> Response:
        return self._proposal_form(request, request_id)

    def _proposal_form(self, request: Any, request_id: str, errors: dict | None = None) -> Response:
        meeting = self._meeting(self.clients.events.catch_ups(request.principal)["items"], request_id)
        if meeting["status"] == "confirmed":
            raise Conflict("The meeting is already confirmed.", "status")
        values = request.form if errors else {}
        names = school_names(self.clients, request.principal)
        return render(request, "cpd/meeting_proposal.html", status=422 if errors else 200,
                      errors=errors or {}, values=values, meeting=meeting,
                      school=names.get(meeting["urn"], f"URN {meeting['urn']}"))

    @page("POST", "/lead/cpd/meetings/<request_id>/proposal", allow=LEAD)
    def lead_propose_meeting(self, request: Any, request_id: str) -> Response:
        try:
            data = proposal_form(request.form)
            self.clients.events.propose_catch_up(request.principal, request_id, data)
        except (Invalid, Conflict) as error:
            return self._proposal_form(request, request_id, field_errors(error))
        return redirect("/lead/cpd/meetings", "The time is proposed. The school is asked to confirm it.")


def school_names(clients: Clients, principal: dict) -> dict[str, str]:
    """Every school's name by URN (the lead's view of the pledges service)."""
    return {s["urn"]: s["name"] for s in clients.pledges.schools(principal, {})["schools"]}
