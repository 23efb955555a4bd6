"""The lead's celebration page: the authority's celebration, its sessions (scheduled on
the programme's own session form), every awarded school invited and its answer, and
each school's certificate."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.web.cpd_pages import programme_view
from services.gateway.web.meeting_pages import school_names
from services.gateway.web.pages import page, render
from shared.access import LEAD

ANSWERS = {"waiting": ("Waiting for a date", "grey"), "invited": ("No answer yet", "yellow"),
           "accepted": ("Accepted", "green"), "declined": ("Declined", "red")}


class CelebrationPages:
    clients: Clients

    @page("GET", "/lead/celebration", allow=LEAD)
    def lead_celebration_page(self, request: Any) -> Response:
        programme = self.clients.events.programme(None)["items"]
        event = next((e for e in programme_view(programme) if e["kind"] == "celebration"), None)
        invitations = self.clients.events.celebration_invitations(
            request.principal, event["code"])["items"] if event else []
        names = school_names(self.clients, request.principal) if invitations else {}
        return render(request, "lead/celebration.html", event=event, answers=ANSWERS,
                      invitations=[{**i, "school": names.get(i["urn"], f"URN {i['urn']}")}
                                   for i in invitations])
