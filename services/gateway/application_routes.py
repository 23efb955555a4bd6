"""Gateway routes for the accreditation journey, panels and appraisals.

Mixed into the gateway service, whose ``_call`` makes the RPCs. Each route
says who may use it; the applications service checks again, and for panel
members the appraisal itself checks membership and conflict declarations.
"""

from __future__ import annotations

import base64
from typing import Any

from werkzeug.wrappers import Response

from services.applications import schemas as app
from services.gateway.routes import route
from shared.access import LEAD, PANEL_MEMBERS, SCHOOL_STAFF

BASE = "/schools/<urn>/applications/<year>"
STAGE = "<any(draft, final):stage>"
APPRAISAL = f"{BASE}/appraisals/{STAGE}"
PANEL = f"/cycles/<year>/panels/{STAGE}"


class ApplicationRoutes:
    _call: Any

    def _apps(self, method: str, *args: Any) -> Any:
        return self._call("applications", method, *args)

    # -- the school ----------------------------------------------------------------

    @route("POST", "/schools/<urn>/applications", "Start an application for a school year",
           "applications", allow=SCHOOL_STAFF, body=app.Start, response=app.ApplicationView,
           status=201, errors=(404, 409))
    def start_application(self, request: Any, urn: str) -> dict:
        return self._apps("start", request.principal, urn, request.data_in)

    @route("GET", BASE, "An application: audit, evidence, plan, submissions, released feedback, "
           "and what is still missing; `as_of` gives its state at any instant", "applications",
           allow=SCHOOL_STAFF, query=app.AsOf, response=app.ApplicationView, errors=(404,))
    def get_application(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("application_view", request.principal, urn, year, request.data_in)

    @route("GET", f"{BASE}/history", "Every change to the application, with who and when",
           "applications", allow=SCHOOL_STAFF, response=app.Listing, errors=(404,))
    def application_history(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("history", request.principal, urn, year)

    @route("PUT", f"{BASE}/audit", "Record the audit of one criterion", "applications",
           allow=SCHOOL_STAFF, body=app.AuditEntry, response=app.ApplicationView, errors=(404, 409))
    def record_audit(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("record_audit", request.principal, urn, year, request.data_in)

    @route("POST", f"{BASE}/evidence", "Add evidence for a criterion", "applications",
           allow=SCHOOL_STAFF, body=app.Evidence, response=app.ApplicationView, status=201,
           errors=(404, 409))
    def add_evidence(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("add_evidence", request.principal, urn, year, request.data_in)

    @route("DELETE", f"{BASE}/evidence/<evidence_id>", "Take evidence out of future submissions",
           "applications", allow=SCHOOL_STAFF, response=app.ApplicationView, errors=(404, 409))
    def withdraw_evidence(self, request: Any, urn: str, year: str, evidence_id: str) -> dict:
        return self._apps("withdraw_evidence", request.principal, urn, year, evidence_id)

    @route("POST", f"{BASE}/actions", "Plan (or update) an action", "applications",
           allow=SCHOOL_STAFF, body=app.Action, response=app.ApplicationView, errors=(404, 409))
    def plan_action(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("plan_action", request.principal, urn, year, request.data_in)

    @route("POST", f"{BASE}/submissions", "Submit the draft or final application", "applications",
           allow=SCHOOL_STAFF, body=app.Submission, response=app.ApplicationView, errors=(404, 409))
    def submit(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("submit", request.principal, urn, year, request.data_in)

    @route("POST", f"{BASE}/withdrawal", "Withdraw the application", "applications",
           allow=SCHOOL_STAFF, body=app.Withdrawal, response=app.ApplicationView, errors=(404, 409))
    def withdraw_application(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("withdraw", request.principal, urn, year, request.data_in)

    @route("GET", f"{BASE}/certificate.pdf", "The award certificate (PDF, one A4 page), once awarded",
           "applications", allow=SCHOOL_STAFF, errors=(404, 409))
    def certificate(self, request: Any, urn: str, year: str) -> Response:
        pdf = base64.b64decode(self._apps("certificate", request.principal, urn, year))
        filename = f"school-of-sanctuary-certificate-{urn}-{year}.pdf"
        return Response(pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    # -- the lead ------------------------------------------------------------------

    @route("GET", "/cycles/<year>", "The cycle at a glance: schools by stage, who is late, "
           "extensions", "cycles", allow=LEAD, response=app.Listing, errors=(404,))
    def cycle_overview(self, request: Any, year: str) -> dict:
        return self._apps("cycle_overview", request.principal, year)

    @route("POST", f"{BASE}/extensions", "Grant this school an extension", "applications",
           allow=LEAD, body=app.Extension, response=app.ApplicationView, errors=(404, 409))
    def grant_extension(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("grant_extension", request.principal, urn, year, request.data_in)

    @route("POST", PANEL, "Form the panel for a stage of the cycle", "panels", allow=LEAD,
           status=201, errors=(404, 409))
    def form_panel(self, request: Any, year: str, stage: str) -> dict:
        return self._apps("form_panel", request.principal, year, stage)

    @route("POST", f"{PANEL}/members", "Add a member (a panel member's account)", "panels",
           allow=LEAD, body=app.PanelMember, errors=(404, 409))
    def add_panel_member(self, request: Any, year: str, stage: str) -> dict:
        return self._apps("add_panel_member", request.principal, year, stage, request.data_in)

    @route("POST", f"{PANEL}/convening", "Convene the panel (its composition is checked)",
           "panels", allow=LEAD, errors=(404, 409))
    def convene(self, request: Any, year: str, stage: str) -> dict:
        return self._apps("convene", request.principal, year, stage)

    @route("POST", f"{PANEL}/assignments/<urn>", "Give a submitted application to the panel",
           "panels", allow=LEAD, errors=(404, 409))
    def assign(self, request: Any, year: str, stage: str, urn: str) -> dict:
        return self._apps("assign", request.principal, year, stage, urn)

    @route("GET", APPRAISAL, "The appraisal: declarations, judgements, notes, outcome",
           "appraisals", allow=LEAD, errors=(404,))
    def appraisal(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self._apps("appraisal", request.principal, urn, year, stage)

    @route("POST", f"{APPRAISAL}/outcome", "Record the panel's agreed outcome and who agreed it",
           "appraisals", allow=LEAD, body=app.AgreedOutcome, errors=(404, 409))
    def agree_outcome(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self._apps("agree_outcome", request.principal, urn, year, stage, request.data_in)

    @route("POST", f"{BASE}/feedback/{STAGE}", "Release the panel's feedback to the school",
           "applications", allow=LEAD, body=app.FeedbackRelease, response=app.ApplicationView,
           errors=(404, 409))
    def release_feedback(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self._apps("release_feedback", request.principal, urn, year, stage, request.data_in)

    @route("POST", f"{BASE}/visit", "Schedule the school visit", "applications", allow=LEAD,
           body=app.VisitPlan, response=app.ApplicationView, errors=(404, 409))
    def schedule_visit(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("schedule_visit", request.principal, urn, year, request.data_in)

    @route("PUT", f"{BASE}/visit", "Record the visit: who attended, notes", "applications",
           allow=LEAD | PANEL_MEMBERS, body=app.VisitRecord, response=app.ApplicationView,
           errors=(404, 409))
    def record_visit(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("record_visit", request.principal, urn, year, request.data_in)

    @route("POST", f"{BASE}/decision", "Record the decision the final panel agreed",
           "applications", allow=LEAD, body=app.DecisionInput, response=app.ApplicationView,
           errors=(404, 409))
    def decide(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("decide", request.principal, urn, year, request.data_in)

    @route("GET", f"{BASE}/decision-trail", "Who decided what, when, on which evidence, after "
           "which declarations (JSON)", "audit", allow=LEAD, errors=(404,))
    def decision_trail(self, request: Any, urn: str, year: str) -> dict:
        return self._apps("decision_trail", request.principal, urn, year)

    @route("GET", f"{BASE}/decision-trail.html", "The decision trail, printable for the panel's minutes",
           "audit", allow=LEAD, errors=(404,))
    def decision_trail_page(self, request: Any, urn: str, year: str) -> Response:
        page = self._apps("decision_trail", request.principal, urn, year, True)
        return Response(page, content_type="text/html; charset=utf-8")

    # -- panel members ------------------------------------------------------------

    @route("GET", "/me/appraisals", "My appraisals and what is left to do", "appraisals",
           allow=PANEL_MEMBERS, response=app.Listing)
    def my_appraisals(self, request: Any) -> dict:
        return self._apps("my_appraisals", request.principal)

    @route("POST", f"{APPRAISAL}/declaration", "Declare any conflict of interest (first)",
           "appraisals", allow=PANEL_MEMBERS, body=app.Declaration, errors=(404, 409))
    def declare(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self._apps("declare", request.principal, urn, year, stage, request.data_in)

    @route("GET", f"{APPRAISAL}/application", "The application as submitted to the panel",
           "appraisals", allow=PANEL_MEMBERS, response=app.ApplicationView, errors=(404,))
    def application_for_panel(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self._apps("for_panel_member", request.principal, urn, year, stage)

    @route("POST", f"{APPRAISAL}/judgements", "Judge one criterion: met or not yet met, and why",
           "appraisals", allow=PANEL_MEMBERS, body=app.Judgement, errors=(404, 409))
    def judge(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self._apps("judge", request.principal, urn, year, stage, request.data_in)

    @route("PUT", f"{APPRAISAL}/notes", "Strengths, areas for improvement, questions",
           "appraisals", allow=PANEL_MEMBERS, body=app.Notes, errors=(404, 409))
    def note(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self._apps("note", request.principal, urn, year, stage, request.data_in)
