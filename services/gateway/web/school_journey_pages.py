"""A school's home that follows its journey, and the pages around it: the next thing
to do before the award; after it, the award, its dates, the certificate, the invitation
to celebrate (accepted or declined here, where its email links) and the renewal date.
Renewing and withdrawing the pledge, withdrawing a piece of evidence (after a page that
asks), and reading any year's application. Plain forms, no JavaScript."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.web.filters import CLOCK
from services.gateway.web.pages import field_errors, form_date, page, redirect, render
from services.gateway.web.school_pages import OUTCOME_LABELS, STAGE_LABELS, criterion_rows
from shared.access import SCHOOL_STAFF
from shared.errors import Conflict, Invalid, NotFound

HOME = "/school/<urn>"
APP = "/school/<urn>/application/<year>"
ENDED = ("not_awarded", "withdrawn")


def next_step(urn: str, year: str, steps: list[dict], application: dict | None,
              standing: dict | None) -> dict:
    """The one thing the school should do next (``href`` None: nothing to do but wait)."""
    base = f"/school/{urn}/application/{year}"
    pending = next((s for s in steps if s["ready"] and not s["done"]), None)
    if application is None:
        if pending is not None:
            return {"text": pending["title"], "href": pending["href"]}
        if standing and standing["may_apply"]:
            return {"text": f"Start your {year} application", "href": "#start"}
        return {"text": "Wait while we record your pledge, then start your application", "href": None}
    stage, due = application["stage"], application["next_submission"]
    if stage == "awarded":
        return {"text": "Celebrate your award", "href": "#award"}
    if stage == "not_awarded":
        return {"text": "Read the panel's reasons", "href": f"{base}/feedback"}
    if stage == "withdrawn":
        return {"text": "Your application was withdrawn. Contact your local lead to apply again",
                "href": None}
    if due:
        when = f" by {_day(application['deadline']):%-d %B %Y}" if application["deadline"] else ""
        first = "Read the panel's feedback, then s" if application["feedback"] else "S"
        return {"text": f"{first}ee what is still missing and submit your {due} application{when}",
                "href": f"{base}/missing"}
    if application.get("visit") and stage == "visit_scheduled":
        return {"text": "Get ready for the panel's visit", "href": None}
    return {"text": "The panel is appraising your application: there is nothing to do until it has",
            "href": None}


class SchoolJourneyPages:
    _school_authority: Any
    _school_year: Any
    clients: Clients

    # -- what the home shows ------------------------------------------------------------

    def _school_journey(self, request: Any, urn: str, year: str, steps: list[dict],
                        application: dict | None, standing: dict | None) -> dict:
        applications = self._school_applications(request, urn)
        today = CLOCK.today(self._school_authority().timezone)
        award = next((a for a in applications if a["stage"] == "awarded" and a["award"]
                      and _day(a["award"]["expires_on"]) >= today), None)
        invitations = self.clients.events.invitations(request.principal, urn)["items"] if award else []
        return {"award": award, "applications": applications,
                "invitation": next((i for i in invitations if i["school_year"] == award["school_year"]),
                                   None) if award else None,
                "next_step": next_step(urn, year, steps, application, standing)}

    def _school_applications(self, request: Any, urn: str) -> list[dict]:
        """The school's applications of every configured year, newest first."""
        found = []
        for cycle in reversed(self._school_authority().cycles):
            try:
                found.append(self.clients.applications.application_view(
                    request.principal, urn, cycle.school_year, {}))
            except NotFound:
                continue
        return found

    # -- the celebration and the certificate ---------------------------------------------

    @page("POST", f"{HOME}/celebration/<year>", allow=SCHOOL_STAFF)
    def school_answer_invitation(self, request: Any, urn: str, year: str) -> Response:
        answer = request.form.get("answer", "")
        if answer not in ("accept", "decline"):
            return redirect(f"/school/{urn}", "Choose to accept or decline the invitation.")
        try:
            self.clients.events.answer_invitation(request.principal, urn, year,
                                                  {"accept": answer == "accept"})
        except (Invalid, Conflict) as error:
            return redirect(f"/school/{urn}", f"The answer was not recorded: {error.message}")
        return redirect(f"/school/{urn}", "You have accepted the invitation to celebrate."
                        if answer == "accept" else "You have declined the invitation to celebrate.")

    @page("GET", f"{APP}/certificate.pdf", allow=SCHOOL_STAFF)
    def school_certificate(self, request: Any, urn: str, year: str) -> Response:
        pdf = base64.b64decode(self.clients.applications.certificate(request.principal, urn, year)["pdf"])
        return Response(pdf, content_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="school-of-sanctuary-certificate-{urn}-{year}.pdf"',
            "Cache-Control": "no-store"})

    # -- any year's application, to read ---------------------------------------------------

    @page("GET", APP, allow=SCHOOL_STAFF)
    def school_application_page(self, request: Any, urn: str, year: str) -> Response:
        view = self.clients.applications.application_view(request.principal, urn, year, {})
        school = self.clients.pledges.school(request.principal, urn)
        return render(request, "school/application.html", urn=urn, year=year, view=view, school=school,
                      rows=criterion_rows(self._school_authority(), view), stages=STAGE_LABELS,
                      outcomes=OUTCOME_LABELS, current=year == self._school_year())

    # -- withdrawing a piece of evidence -----------------------------------------------------

    def _evidence(self, request: Any, urn: str, year: str, evidence_id: str) -> tuple[dict, dict]:
        view = self.clients.applications.application_view(request.principal, urn, year, {})
        item = next((e for e in view["evidence"] if e["id"] == evidence_id), None)
        if item is None:
            raise NotFound("There is no such evidence in the application.")
        return view, item

    def _evidence_page(self, request: Any, urn: str, year: str, evidence_id: str,
                       errors: dict | None = None) -> Response:
        view, item = self._evidence(request, urn, year, evidence_id)
        return render(request, "school/withdraw_evidence.html", status=409 if errors else 200,
                      errors=errors or {}, urn=urn, year=year, item=item)

    @page("GET", f"{APP}/withdrawals/<evidence_id>", allow=SCHOOL_STAFF)
    def school_withdraw_evidence_page(self, request: Any, urn: str, year: str, evidence_id: str) -> Response:
        return self._evidence_page(request, urn, year, evidence_id)

    @page("POST", f"{APP}/withdrawals/<evidence_id>", allow=SCHOOL_STAFF)
    def school_withdraw_evidence(self, request: Any, urn: str, year: str, evidence_id: str) -> Response:
        _, item = self._evidence(request, urn, year, evidence_id)
        try:
            self.clients.applications.withdraw_evidence(request.principal, urn, year, evidence_id)
        except (Invalid, Conflict) as error:
            return self._evidence_page(request, urn, year, evidence_id, {"withdraw": error.message})
        return redirect(f"/school/{urn}/application/{year}/audit/{item['criterion']}",
                        f"“{item['title']}” is withdrawn from the application.")

    # -- renewing and withdrawing the pledge -----------------------------------------------

    def _pledge_form(self, request: Any, urn: str, template: str, errors: dict | None = None) -> Response:
        school = self.clients.pledges.school(request.principal, urn)
        return render(request, template, status=422 if errors else 200, errors=errors or {},
                      values=dict(request.form) if errors else {}, urn=urn, school=school)

    def _pledge_command(self, request: Any, urn: str, template: str, read: Any, act: Any,
                        message: str) -> Response:
        try:
            act(read())
        except (Invalid, Conflict) as error:
            return self._pledge_form(request, urn, template, field_errors(error))
        return redirect(f"/school/{urn}", message)

    @page("GET", f"{HOME}/pledge/renewal", allow=SCHOOL_STAFF)
    def school_renew_pledge_page(self, request: Any, urn: str) -> Response:
        return self._pledge_form(request, urn, "school/renew_pledge.html")

    @page("POST", f"{HOME}/pledge/renewal", allow=SCHOOL_STAFF)
    def school_renew_pledge(self, request: Any, urn: str) -> Response:
        form = request.form

        def read() -> dict:
            missing = {name: [text] for name, text in (
                ("renewed_by", "Enter the name of the person renewing the pledge"),
                ("role", "Enter their role")) if not form.get(name, "").strip()}
            if missing:
                raise Invalid("Some answers are missing.", missing)
            day = form_date(form, "renewed_on", "the date it was renewed", required=False)
            data = {"renewed_by": form["renewed_by"].strip(), "role": form["role"].strip()}
            return {**data, "renewed_on": day} if day else data

        return self._pledge_command(
            request, urn, "school/renew_pledge.html", read,
            lambda data: self.clients.pledges.renew_pledge(request.principal, urn, data),
            "Your school's pledge is renewed.")

    @page("GET", f"{HOME}/pledge/withdrawal", allow=SCHOOL_STAFF)
    def school_withdraw_pledge_page(self, request: Any, urn: str) -> Response:
        return self._pledge_form(request, urn, "school/withdraw_pledge.html")

    @page("POST", f"{HOME}/pledge/withdrawal", allow=SCHOOL_STAFF)
    def school_withdraw_pledge(self, request: Any, urn: str) -> Response:
        def read() -> dict:
            reason = request.form.get("reason", "").strip()
            if not reason:
                raise Invalid("No reason", {"reason": ["Enter why your school is withdrawing its pledge"]})
            return {"reason": reason}

        return self._pledge_command(
            request, urn, "school/withdraw_pledge.html", read,
            lambda data: self.clients.pledges.withdraw_pledge(request.principal, urn, data),
            "Your school's pledge is withdrawn.")


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
