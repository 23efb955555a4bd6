"""Gateway routes for the accreditation journey, panels and appraisals.

Mixed into the gateway service, whose ``clients`` make the RPCs; each route's
access rule and schemas come from the operation it names. For panel members
the appraisal itself checks membership and conflict declarations.
"""

from __future__ import annotations

import base64
from typing import Any

from werkzeug.wrappers import Response

from services.applications.api import ApplicationsApi as Applications
from services.gateway.clients import Clients
from services.gateway.routes import route

BASE = "/schools/<urn>/applications/<year>"
STAGE = "<any(draft, final):stage>"
APPRAISAL = f"{BASE}/appraisals/{STAGE}"
PANEL = f"/cycles/<year>/panels/{STAGE}"


class ApplicationRoutes:
    clients: Clients

    # -- the school ----------------------------------------------------------------

    @route("POST", "/schools/<urn>/applications", "Start an application for a school year",
           "applications", op=Applications.start, status=201, errors=(404, 409))
    def start_application(self, request: Any, urn: str) -> dict:
        return self.clients.applications.start(request.principal, urn, request.data_in)

    @route("GET", BASE, "An application: audit, evidence, plan, submissions, released feedback, "
           "and what is still missing; `as_of` gives its state at any instant", "applications",
           op=Applications.application_view, errors=(404,))
    def get_application(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.application_view(request.principal, urn, year, request.data_in)

    @route("GET", f"{BASE}/history", "Every change to the application, with who and when",
           "applications", op=Applications.history, errors=(404,))
    def application_history(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.history(request.principal, urn, year)

    @route("PUT", f"{BASE}/audit", "Record the audit of one criterion", "applications",
           op=Applications.record_audit, errors=(404, 409))
    def record_audit(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.record_audit(request.principal, urn, year, request.data_in)

    @route("POST", f"{BASE}/evidence", "Add evidence for a criterion", "applications",
           op=Applications.add_evidence, status=201, errors=(404, 409))
    def add_evidence(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.add_evidence(request.principal, urn, year, request.data_in)

    @route("DELETE", f"{BASE}/evidence/<evidence_id>", "Take evidence out of future submissions",
           "applications", op=Applications.withdraw_evidence, errors=(404, 409))
    def withdraw_evidence(self, request: Any, urn: str, year: str, evidence_id: str) -> dict:
        return self.clients.applications.withdraw_evidence(request.principal, urn, year, evidence_id)

    @route("POST", f"{BASE}/actions", "Plan (or update) an action", "applications",
           op=Applications.plan_action, errors=(404, 409))
    def plan_action(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.plan_action(request.principal, urn, year, request.data_in)

    @route("POST", f"{BASE}/submissions", "Submit the draft or final application", "applications",
           op=Applications.submit, errors=(404, 409))
    def submit(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.submit(request.principal, urn, year, request.data_in)

    @route("POST", f"{BASE}/withdrawal", "Withdraw the application", "applications",
           op=Applications.withdraw, errors=(404, 409))
    def withdraw_application(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.withdraw(request.principal, urn, year, request.data_in)

    @route("GET", f"{BASE}/certificate.pdf", "The award certificate (PDF, one A4 page), once awarded",
           "applications", op=Applications.certificate, response=None, errors=(404, 409))
    def certificate(self, request: Any, urn: str, year: str) -> Response:
        pdf = base64.b64decode(self.clients.applications.certificate(request.principal, urn, year)["pdf"])
        filename = f"school-of-sanctuary-certificate-{urn}-{year}.pdf"
        return Response(pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    # -- the lead ------------------------------------------------------------------

    @route("GET", "/cycles/<year>", "The cycle at a glance: schools by stage, who is late, "
           "extensions", "cycles", op=Applications.cycle_overview, errors=(404,))
    def cycle_overview(self, request: Any, year: str) -> dict:
        return self.clients.applications.cycle_overview(request.principal, year)

    @route("POST", f"{BASE}/extensions", "Grant this school an extension", "applications",
           op=Applications.grant_extension, errors=(404, 409))
    def grant_extension(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.grant_extension(request.principal, urn, year, request.data_in)

    @route("GET", PANEL, "The panel for a stage: formed or not, its members with their flags and "
           "declarations, its appraisals, and the composition rule's verdict", "panels",
           op=Applications.panel, errors=(404,))
    def panel(self, request: Any, year: str, stage: str) -> dict:
        return self.clients.applications.panel(request.principal, year, stage)

    @route("POST", PANEL, "Form the panel for a stage of the cycle", "panels", op=Applications.form_panel,
           status=201, errors=(404, 409))
    def form_panel(self, request: Any, year: str, stage: str) -> dict:
        return self.clients.applications.form_panel(request.principal, year, stage)

    @route("POST", f"{PANEL}/members", "Add a member (a panel member's account)", "panels",
           op=Applications.add_panel_member, errors=(404, 409))
    def add_panel_member(self, request: Any, year: str, stage: str) -> dict:
        return self.clients.applications.add_panel_member(request.principal, year, stage, request.data_in)

    @route("POST", f"{PANEL}/members/<account>/removal", "Remove a member (once the panel has convened: "
           "with a reason, and the composition rule checked again)", "panels",
           op=Applications.remove_panel_member, errors=(404, 409))
    def remove_panel_member(self, request: Any, year: str, stage: str, account: str) -> dict:
        return self.clients.applications.remove_panel_member(request.principal, year, stage, account,
                                                             request.data_in)

    @route("PUT", f"{PANEL}/members/<account>", "Correct a member's lived-experience flag (once the "
           "panel has convened: with a reason, and the composition rule checked again)", "panels",
           op=Applications.correct_panel_member, errors=(404, 409))
    def correct_panel_member(self, request: Any, year: str, stage: str, account: str) -> dict:
        return self.clients.applications.correct_panel_member(request.principal, year, stage, account,
                                                              request.data_in)

    @route("POST", f"{PANEL}/convening", "Convene the panel (its composition is checked)",
           "panels", op=Applications.convene, errors=(404, 409))
    def convene(self, request: Any, year: str, stage: str) -> dict:
        return self.clients.applications.convene(request.principal, year, stage)

    @route("POST", f"{PANEL}/assignments/<urn>", "Give a submitted application to the panel",
           "panels", op=Applications.assign, errors=(404, 409))
    def assign(self, request: Any, year: str, stage: str, urn: str) -> dict:
        return self.clients.applications.assign(request.principal, year, stage, urn)

    @route("GET", APPRAISAL, "The appraisal: declarations, judgements, notes, outcome",
           "appraisals", op=Applications.appraisal, errors=(404,))
    def appraisal(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self.clients.applications.appraisal(request.principal, urn, year, stage)

    @route("POST", f"{APPRAISAL}/outcome", "Record the panel's agreed outcome and who agreed it",
           "appraisals", op=Applications.agree_outcome, errors=(404, 409))
    def agree_outcome(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self.clients.applications.agree_outcome(request.principal, urn, year, stage,
                                                       request.data_in)

    @route("POST", f"{BASE}/feedback/{STAGE}", "Release the panel's feedback to the school",
           "applications", op=Applications.release_feedback, errors=(404, 409))
    def release_feedback(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self.clients.applications.release_feedback(request.principal, urn, year, stage,
                                                          request.data_in)

    @route("POST", f"{BASE}/visit", "Schedule the school visit", "applications",
           op=Applications.schedule_visit, errors=(404, 409))
    def schedule_visit(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.schedule_visit(request.principal, urn, year, request.data_in)

    @route("PUT", f"{BASE}/visit", "Record the visit: who attended, notes", "applications",
           op=Applications.record_visit, errors=(404, 409))
    def record_visit(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.record_visit(request.principal, urn, year, request.data_in)

    @route("POST", f"{BASE}/decision", "Record the decision the final panel agreed",
           "applications", op=Applications.decide, errors=(404, 409))
    def decide(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.decide(request.principal, urn, year, request.data_in)

    @route("GET", f"{BASE}/decision-trail", "Who decided what, when, on which evidence, after "
           "which declarations (JSON)", "audit", op=Applications.decision_trail, errors=(404,))
    def decision_trail(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.decision_trail(request.principal, urn, year)

    @route("GET", f"{BASE}/decision-trail.html", "The decision trail, printable for the panel's minutes",
           "audit", op=Applications.decision_trail_html, response=None, errors=(404,))
    def decision_trail_page(self, request: Any, urn: str, year: str) -> Response:
        page = self.clients.applications.decision_trail_html(request.principal, urn, year)["html"]
        return Response(page, content_type="text/html; charset=utf-8")

    # -- panel members ------------------------------------------------------------

    @route("GET", "/me/appraisals", "My appraisals and what is left to do", "appraisals",
           op=Applications.my_appraisals)
    def my_appraisals(self, request: Any) -> dict:
        return self.clients.applications.my_appraisals(request.principal)

    @route("GET", f"{APPRAISAL}/mine", "My part in an appraisal: the school, my declaration, "
           "my judgements and notes", "appraisals", op=Applications.my_appraisal, errors=(404,))
    def my_appraisal(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self.clients.applications.my_appraisal(request.principal, urn, year, stage)

    @route("POST", f"{APPRAISAL}/declaration", "Declare any conflict of interest (first)",
           "appraisals", op=Applications.declare, errors=(404, 409))
    def declare(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self.clients.applications.declare(request.principal, urn, year, stage, request.data_in)

    @route("GET", f"{APPRAISAL}/application", "The application as submitted to the panel",
           "appraisals", op=Applications.for_panel_member, errors=(404,))
    def application_for_panel(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self.clients.applications.for_panel_member(request.principal, urn, year, stage)

    @route("POST", f"{APPRAISAL}/judgements", "Judge one criterion: met or not yet met, and why",
           "appraisals", op=Applications.judge, errors=(404, 409))
    def judge(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self.clients.applications.judge(request.principal, urn, year, stage, request.data_in)

    @route("PUT", f"{APPRAISAL}/notes", "Strengths, areas for improvement, questions",
           "appraisals", op=Applications.note, errors=(404, 409))
    def note(self, request: Any, urn: str, year: str, stage: str) -> dict:
        return self.clients.applications.note(request.principal, urn, year, stage, request.data_in)
