"""The lead's messages to a group: write it, see exactly who it will reach, send it. Every
school's coordinator; the schools at a stage of the current cycle, or late for a deadline (as
the applications service says); everyone booked on a session; a panel's members.

The notifications service records the message with an email for each person, in one go,
and sends each as it sends everything (once, retried, in the delivery log); the preview's
form carries the message's id, so sending it twice sends it once. A school's messages are
kept with it: the lead's list shows which schools each reached, and the school's staff read
theirs at ``/schools/<urn>/messages``.
"""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.routes import route
from services.gateway.web.pages import field_errors, page, redirect, render
from services.gateway.web.school_pages import current_year
from services.notifications.api import NotificationsApi
from shared.access import LEAD
from shared.authority import Authority, load_authority
from shared.clock import system_clock
from shared.errors import Conflict, Invalid
from shared.runtime import settings_of

GROUPS = [("coordinators", "Every school's coordinator"),
          ("stage", "Schools at a stage of their application"),
          ("late", "Schools late for a deadline"),
          ("session", "Everyone booked on a CPD session"),
          ("panel", "An appraisal panel's members")]
STAGES = {"started": "preparing", "draft_submitted": "draft submitted",
          "draft_feedback": "draft feedback released", "final_submitted": "final submitted",
          "visit_scheduled": "visit scheduled", "visited": "visited",
          "further_evidence": "further evidence due", "awarded": "awarded", "not_awarded": "not awarded",
          "withdrawn": "withdrawn"}


@functools.lru_cache(maxsize=4)
def _authority_file(path: Path) -> Authority:
    return load_authority(path)


def _required(form: Any, names: dict[str, str]) -> None:
    missing = {name: [said] for name, said in names.items() if not form.get(name, "").strip()}
    if missing:
        raise Invalid("Some answers are missing.", missing)


class MessagePages:
    _call: Any
    clients: Any
    config: Any

    def _messages_year(self) -> str:
        given = self.config.get("SANCTUARY_AUTHORITY")
        authority = given or _authority_file(Path(settings_of(self.config).authority_file))
        return current_year(authority, system_clock().today(authority.timezone))

    def _choices(self, request: Any, year: str) -> dict:
        """What the form offers: the stages schools are at, the sessions people are booked on."""
        overview = self._call("applications", "cycle_overview", request.principal, year)
        stages = [(s, f"{STAGES.get(s, s)} ({n})") for s, n in sorted(overview["by_stage"].items())]
        today = system_clock().today().isoformat()
        sessions = [(s["id"], f"{item['title']}: {s['date']}") for item in
                    self.clients.events.programme(None)["items"] if item["bookable"]
                    for s in item["sessions"] if s.get("date") and s["date"] >= today and s["places_taken"]]
        return {"year": year, "stages": stages, "sessions": sessions, "overview": overview,
                "panels": [("draft", f"Draft panel, {year}"), ("final", f"Final panel, {year}")]}

    def _group(self, form: Any, choices: dict) -> dict:
        """The group as the notifications service takes it, from the form's answers."""
        _required(form, {"group": "Choose whom the message is for", "subject": "Enter a subject",
                         "body": "Write the message"})
        kind, rows = form["group"], choices["overview"]["applications"]
        if kind == "coordinators":
            return {"kind": "coordinators"}
        if kind == "stage":
            _required(form, {"stage": "Choose a stage"})
            label = f"schools at {STAGES.get(form['stage'], form['stage'])} ({choices['year']})"
            return {"kind": "schools", "label": label,
                    "urns": [r["urn"] for r in rows if r["stage"] == form["stage"]]}
        if kind == "late":
            return {"kind": "schools", "label": f"schools late for a deadline ({choices['year']})",
                    "urns": [r["urn"] for r in rows if r["late"]]}
        if kind == "session":
            _required(form, {"session": "Choose a session"})
            return {"kind": "session", "session": form["session"]}
        if kind == "panel":
            _required(form, {"panel": "Choose a panel"})
            return {"kind": "panel", "school_year": choices["year"], "stage": form["panel"]}
        raise Invalid("Choose whom the message is for.", {"group": ["Choose whom the message is for"]})

    def _messages_page(self, request: Any, status: int = 200, errors: dict | None = None) -> Response:
        choices = self._choices(request, self._messages_year())
        sent = self.clients.notifications.messages(request.principal)["items"]
        return render(request, "lead/messages.html", status=status, errors=errors or {},
                      values=dict(request.form) if errors else {}, groups=GROUPS, sent=sent, **choices)

    @page("GET", "/lead/messages", allow=LEAD)
    def lead_messages_page(self, request: Any) -> Response:
        return self._messages_page(request)

    @page("POST", "/lead/messages/preview", allow=LEAD)
    def lead_message_preview(self, request: Any) -> Response:
        choices = self._choices(request, self._messages_year())
        try:
            group = self._group(request.form, choices)
            audience = self.clients.notifications.audience(request.principal, {"group": group})
        except Invalid as error:
            return self._messages_page(request, 422, field_errors(error))
        names = {a["id"]: a["name"] for a in self.clients.accounts.accounts(request.principal)["accounts"]}
        for person in audience["recipients"]:  # a panel's members, named as their accounts are
            person["name"] = person["name"] or names.get(person["account"] or "", "A panel member")
        return render(request, "lead/message_preview.html", audience=audience, form=dict(request.form),
                      message_id=str(uuid.uuid4()))

    @page("POST", "/lead/messages", allow=LEAD)
    def lead_send_message(self, request: Any) -> Response:
        form = request.form
        try:
            group = self._group(form, self._choices(request, self._messages_year()))
            sent = self.clients.notifications.send_message(request.principal, {
                "message_id": form.get("message_id", ""), "group": group,
                "subject": form.get("subject", "").strip(), "body": form.get("body", "").strip()})
        except (Invalid, Conflict) as error:
            return self._messages_page(request, 409 if isinstance(error, Conflict) else 422,
                                       field_errors(error))
        people = f"{sent['count']} {'person' if sent['count'] == 1 else 'people'}"
        return redirect("/lead/messages", f"Your message went to {people}: {sent['label']}.")

    # -- a school's messages, kept with it ---------------------------------------------------

    @route("GET", "/schools/<urn>/messages", "The messages the lead sent the school, newest first",
           "schools", op=NotificationsApi.school_messages, errors=(401, 403))
    def school_messages(self, request: Any, urn: str) -> dict:
        return self.clients.notifications.school_messages(request.principal, urn)
