"""The school coordinator's pages: registering the school, the pledge (one step a
page), and the current year's application: the audit, evidence, the action plan,
what is still missing before the deadline, submitting, and released feedback.

Every page reads and changes the school through the same RPCs as the JSON API;
the services check the rule again. Forms post plain HTML (no JavaScript).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from services.applications.accreditation import ACTION_STATUSES, AUDIT_STATUSES
from services.gateway.web.filters import CLOCK
from services.gateway.web.pages import form_date, page, redirect, render, submit
from services.pledges.domain import BODY_NAMES
from services.pledges.schemas import PHASES
from shared.access import SCHOOL_STAFF
from shared.authority import PRINCIPLES, Authority, load_authority
from shared.errors import Invalid, NotFound
from shared.runtime import settings_of

HOME = "/school/<urn>"
APP = "/school/<urn>/application/<year>"
AUDIT_LABELS = {"not_started": "Not started", "developing": "Developing", "met": "Met"}
AUDIT_COLOURS = {"not_started": "grey", "developing": "yellow", "met": "green"}
ACTION_LABELS = {"planned": "Planned", "in_progress": "In progress", "done": "Done"}
OUTCOME_LABELS = {"met": ("Met", "green"), "not_yet_met": ("Not yet met", "orange")}
STAGE_LABELS = {
    "started": "Started", "draft_submitted": "Draft submitted", "draft_feedback": "Draft feedback released",
    "final_submitted": "Final application submitted", "visit_scheduled": "Visit arranged",
    "visited": "Visited", "further_evidence": "Further evidence asked for", "awarded": "Awarded",
    "not_awarded": "Not awarded this cycle", "withdrawn": "Withdrawn"}
PHASE_LABELS = {phase: phase.replace("-", " ").capitalize() for phase in PHASES}
# what the pages call each form field when it is left empty
REQUIRED = {
    "name": "Enter the school's name", "phase": "Select the school's phase",
    "postcode": "Enter the school's postcode", "coordinator.name": "Enter your name",
    "coordinator.email": "Enter your email address",
    "given_by": "Enter the name of the person who gave the commitment",
    "signed_by": "Enter the name of the person who signed the pledge",
    "role": "Enter their role", "status": "Select a status",
    "title": "Enter a title for the evidence", "criterion": "Select the criterion",
    "action": "Enter the action", "owner": "Enter who will do it"}


@functools.lru_cache(maxsize=4)
def _authority_from(path: Path) -> Authority:
    return load_authority(path)


def current_year(authority: Authority, today: dt.date) -> str:
    """The school year running today (September to August), or the next one configured."""
    start = today.year if today.month >= 9 else today.year - 1
    this = f"{start}-{(start + 1) % 100:02d}"
    years = sorted(c.school_year for c in authority.cycles)
    if this in years:
        return this
    return next((y for y in years if y > this), years[-1])


def criterion_rows(authority: Authority, view: dict) -> list[dict]:
    """Each criterion of the application with its audit, live evidence, actions, gaps and feedback."""
    try:
        wording = {c.code: c for c in authority.criteria(view["criteria_version"]).criteria}
    except KeyError:
        wording = {}
    rows = []
    for code, audit in view["audit"].items():
        principle, _, number = code.partition("-")
        known = wording.get(code)
        rows.append({
            "code": code, "principle": principle, "short": f"{principle.capitalize()} {number}",
            "title": known.title if known else "", "description": known.description if known else "",
            "audit": audit, "missing": view["missing"].get(code, []),
            "evidence": [e for e in view["evidence"] if e["criterion"] == code and not e["withdrawn"]],
            "actions": [a for a in view["actions"] if a["criterion"] == code],
            "feedback": {stage: f["criteria"][code] for stage, f in view["feedback"].items()
                         if code in f["criteria"]}})
    for row in rows:
        row["label"] = f"{row['short']}: {row['title']}" if row["title"] else row["short"]
    return rows


def grouped(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """Learn, Embed, Share, in that order, each with its criteria."""
    order = list(PRINCIPLES) + sorted({r["principle"] for r in rows} - set(PRINCIPLES))
    return [(p.capitalize(), [r for r in rows if r["principle"] == p]) for p in order
            if any(r["principle"] == p for r in rows)]


def require_fields(form: Mapping[str, str], names: tuple[str, ...], **said: str) -> None:
    """Refuse, naming every empty field in plain words (``said`` overrides), before asking a service."""
    empty = {name: [said.get(name, REQUIRED[name])] for name in names if not form.get(name, "").strip()}
    if empty:
        raise Invalid("Some answers are missing.", empty)


def given(form: Mapping[str, str], *names: str) -> dict:
    """The named fields that were filled in (optional ones left empty are left out)."""
    return {name: form[name].strip() for name in names if form.get(name, "").strip()}


def with_date(data: dict, form: Mapping[str, str], name: str, label: str) -> dict:
    day = form_date(form, name, label, required=False)
    return {**data, name: day} if day else data


class SchoolPages:
    _call: Any
    _school_journey: Any  # SchoolJourneyPages
    config: Any

    # -- what every page needs -------------------------------------------------------

    def _school_authority(self) -> Authority:
        configured = self.config.get("SANCTUARY_AUTHORITY")
        if isinstance(configured, Authority):
            return configured
        return _authority_from(settings_of(self.config).authority_file)

    def _school_year(self) -> str:
        authority = self._school_authority()
        return current_year(authority, CLOCK.today(authority.timezone))

    def _school_application(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.application_view(request.principal, urn, year, {})

    def _school_criterion(self, request: Any, urn: str, year: str, criterion: str) -> tuple[dict, dict]:
        view = self._school_application(request, urn, year)
        rows = criterion_rows(self._school_authority(), view)
        row = next((r for r in rows if r["code"] == criterion), None)
        if row is None:
            raise NotFound(f"The {year} application has no criterion {criterion!r}.")
        return view, row

    def _school_form(self, request: Any, template: str, command: Callable[[], Any], done: str,
                     message: str, /, **context: Any) -> Response:
        """Run a form's command; show the form again, as sent, with what was wrong."""
        def again(errors: dict[str, str]) -> Response:
            return render(request, template, status=422, errors=errors, values=request.form, **context)

        return submit(request, command, done, message, again)

    # -- the school's home -----------------------------------------------------------

    @page("GET", HOME, allow=SCHOOL_STAFF)
    def school_home_page(self, request: Any, urn: str) -> Response:
        try:
            school = self.clients.pledges.school(request.principal, urn)
        except NotFound:
            return render(request, "school/register.html", urn=urn, phases=PHASE_LABELS,
                          values={"coordinator.name": request.principal["name"]})
        year = self._school_year()
        try:
            application = self._school_application(request, urn, year)
        except NotFound:
            application = None
        steps = self._school_pledge_steps(urn, school)
        standing = None if application else self._school_standing(request, urn)
        return render(request, "school/home.html", urn=urn, school=school, year=year, steps=steps,
                      application=application, standing=standing, stages=STAGE_LABELS, phases=PHASE_LABELS,
                      **self._school_journey(request, urn, year, steps, application, standing))

    def _school_standing(self, request: Any, urn: str) -> dict | None:
        try:
            return self.clients.applications.pledge_standing(request.principal, urn)
        except NotFound:  # the applications service has not heard of the school yet
            return None

    def _school_pledge_steps(self, urn: str, school: dict) -> list[dict]:
        """The pledge as a task list: interest, each commitment required, the signature."""
        done = {c["body"]: c for c in school["commitments"]}
        interested = school["interest_on"] is not None
        required = self._school_authority().pledge.required_commitments
        steps = [{"title": "Tell us your school is interested", "href": f"/school/{urn}/interest",
                  "done": interested, "ready": True, "hint": "", "id": "interest"}]
        for body in required:
            steps.append({"title": f"Record the commitment of {BODY_NAMES[body]}",
                          "href": f"/school/{urn}/commitments/{body}", "done": body in done,
                          "ready": interested, "id": body,
                          "hint": f"Given by {done[body]['given_by']}" if body in done else ""})
        signed = school["pledge"] is not None and school["status"] == "signed"
        steps.append({"title": "Sign the pledge", "href": f"/school/{urn}/pledge", "done": signed,
                      "ready": interested and all(b in done for b in required), "id": "pledge",
                      "hint": f"Signed by {school['pledge']['signed_by']}" if signed else ""})
        return steps

    @page("POST", f"{HOME}/register", allow=SCHOOL_STAFF)
    def school_register_form(self, request: Any, urn: str) -> Response:
        form = request.form

        def register() -> None:
            require_fields(form, ("name", "phase", "postcode", "coordinator.name", "coordinator.email"))
            contact = {k.split(".", 1)[1]: v for k, v in given(
                form, "coordinator.name", "coordinator.email", "coordinator.role").items()}
            self.clients.pledges.register_school(request.principal, {
                "urn": urn, **given(form, "name", "phase", "postcode"), "coordinator": contact})

        return self._school_form(request, "school/register.html", register, f"/school/{urn}",
                                 "Your school is registered.", urn=urn, phases=PHASE_LABELS)

    # -- the pledge, one step a page -----------------------------------------------

    @page("GET", f"{HOME}/interest", allow=SCHOOL_STAFF)
    def school_interest_page(self, request: Any, urn: str) -> Response:
        school = self.clients.pledges.school(request.principal, urn)
        return render(request, "school/interest.html", urn=urn, school=school)

    @page("POST", f"{HOME}/interest", allow=SCHOOL_STAFF)
    def school_interest_form(self, request: Any, urn: str) -> Response:
        school = self.clients.pledges.school(request.principal, urn)
        return self._school_form(
            request, "school/interest.html",
            lambda: self.clients.pledges.express_interest(request.principal, urn, {}),
            f"/school/{urn}", "Your school's interest is recorded.", urn=urn, school=school)

    @page("GET", f"{HOME}/commitments/<body>", allow=SCHOOL_STAFF)
    def school_commitment_page(self, request: Any, urn: str, body: str) -> Response:
        context = self._school_commitment_context(request, urn, body)
        return render(request, "school/commitment.html", **context)

    @page("POST", f"{HOME}/commitments/<body>", allow=SCHOOL_STAFF)
    def school_commitment_form(self, request: Any, urn: str, body: str) -> Response:
        context = self._school_commitment_context(request, urn, body)
        form = request.form

        def record() -> None:
            require_fields(form, ("given_by", "role"))
            data = with_date({"body": body, **given(form, "given_by", "role")}, form, "on",
                             "the date it was given")
            self.clients.pledges.record_commitment(request.principal, urn, data)

        return self._school_form(request, "school/commitment.html", record, f"/school/{urn}",
                                 f"The commitment of {BODY_NAMES[body]} is recorded.", **context)

    def _school_commitment_context(self, request: Any, urn: str, body: str) -> dict:
        if body not in self._school_authority().pledge.required_commitments:
            raise NotFound("Your local authority does not ask for that commitment.")
        self.clients.pledges.school(request.principal, urn)  # the school exists
        return {"urn": urn, "body": body, "who": BODY_NAMES[body]}

    @page("GET", f"{HOME}/pledge", allow=SCHOOL_STAFF)
    def school_pledge_page(self, request: Any, urn: str) -> Response:
        school = self.clients.pledges.school(request.principal, urn)
        return render(request, "school/pledge.html", urn=urn, school=school)

    @page("POST", f"{HOME}/pledge", allow=SCHOOL_STAFF)
    def school_pledge_form(self, request: Any, urn: str) -> Response:
        school = self.clients.pledges.school(request.principal, urn)
        form = request.form

        def sign() -> None:
            require_fields(form, ("signed_by", "role"))
            data = with_date(given(form, "signed_by", "role"), form, "signed_on", "the date it was signed")
            self.clients.pledges.sign_pledge(request.principal, urn, data)

        return self._school_form(request, "school/pledge.html", sign, f"/school/{urn}",
                                 "Your school has signed the pledge.", urn=urn, school=school)

    # -- the application -------------------------------------------------------------

    @page("POST", f"{HOME}/applications", allow=SCHOOL_STAFF)
    def school_start_form(self, request: Any, urn: str) -> Response:
        year = self._school_year()
        self.clients.applications.start(request.principal, urn, {"school_year": year})
        return redirect(f"/school/{urn}", f"Your {year} application has started.")

    @page("GET", f"{APP}/audit", allow=SCHOOL_STAFF)
    def school_audit_page(self, request: Any, urn: str, year: str) -> Response:
        view = self._school_application(request, urn, year)
        return render(request, "school/audit.html", urn=urn, year=year, view=view,
                      groups=grouped(criterion_rows(self._school_authority(), view)),
                      labels=AUDIT_LABELS, colours=AUDIT_COLOURS)

    @page("GET", f"{APP}/audit/<criterion>", allow=SCHOOL_STAFF)
    def school_criterion_page(self, request: Any, urn: str, year: str, criterion: str) -> Response:
        context = self._school_criterion_context(request, urn, year, criterion)
        audit = context["row"]["audit"]
        recorded = audit["practice"] or audit["next_steps"] or audit["status"] != "not_started"
        values = {k: audit[k] for k in ("status", "practice", "next_steps")} if recorded else {}
        return render(request, "school/criterion.html", values=values, **context)

    @page("POST", f"{APP}/audit/<criterion>", allow=SCHOOL_STAFF)
    def school_criterion_form(self, request: Any, urn: str, year: str, criterion: str) -> Response:
        context = self._school_criterion_context(request, urn, year, criterion)
        form = request.form

        def record() -> None:
            require_fields(form, ("status",), status="Select how far your school has got")
            data = {"criterion": criterion, "status": form["status"],
                    "practice": form.get("practice", ""), "next_steps": form.get("next_steps", "")}
            self.clients.applications.record_audit(request.principal, urn, year, data)

        return self._school_form(request, "school/criterion.html", record,
                                 f"/school/{urn}/application/{year}/audit",
                                 f"The audit of {context['row']['label']} is saved.", **context)

    def _school_criterion_context(self, request: Any, urn: str, year: str, criterion: str) -> dict:
        view, row = self._school_criterion(request, urn, year, criterion)
        statuses = [(s, AUDIT_LABELS[s]) for s in AUDIT_STATUSES]
        return {"urn": urn, "year": year, "view": view, "row": row, "statuses": statuses,
                "outcomes": OUTCOME_LABELS}

    @page("GET", f"{APP}/evidence/<criterion>", allow=SCHOOL_STAFF)
    def school_evidence_page(self, request: Any, urn: str, year: str, criterion: str) -> Response:
        view, row = self._school_criterion(request, urn, year, criterion)
        return render(request, "school/evidence.html", urn=urn, year=year, row=row)

    @page("POST", f"{APP}/evidence/<criterion>", allow=SCHOOL_STAFF)
    def school_evidence_form(self, request: Any, urn: str, year: str, criterion: str) -> Response:
        view, row = self._school_criterion(request, urn, year, criterion)
        form = request.form

        def add() -> None:
            require_fields(form, ("title",))
            data = {"criterion": criterion, **given(form, "title", "detail", "link")}
            self.clients.applications.add_evidence(request.principal, urn, year, data)

        return self._school_form(request, "school/evidence.html", add,
                                 f"/school/{urn}/application/{year}/audit/{criterion}",
                                 f"Evidence added for {row['label']}.", urn=urn, year=year, row=row)

    @page("GET", f"{APP}/actions", allow=SCHOOL_STAFF)
    def school_actions_page(self, request: Any, urn: str, year: str) -> Response:
        view = self._school_application(request, urn, year)
        labels = {r["code"]: r["label"] for r in criterion_rows(self._school_authority(), view)}
        return render(request, "school/actions.html", urn=urn, year=year, view=view, criteria=labels,
                      statuses=ACTION_LABELS)

    @page("GET", f"{APP}/actions/<action_id>", allow=SCHOOL_STAFF)
    def school_action_page(self, request: Any, urn: str, year: str, action_id: str) -> Response:
        context = self._school_action_context(request, urn, year, action_id)
        return render(request, "school/action.html", values=self._school_action_values(context["action"]),
                      **context)

    @page("POST", f"{APP}/actions/<action_id>", allow=SCHOOL_STAFF)
    def school_action_form(self, request: Any, urn: str, year: str, action_id: str) -> Response:
        context = self._school_action_context(request, urn, year, action_id)
        form = request.form

        def plan() -> None:
            require_fields(form, ("criterion", "action", "owner", "status"))
            data = with_date(given(form, "criterion", "action", "owner", "status"), form, "target_date",
                             "the target date")
            if context["action"]:
                data["action_id"] = action_id
            self.clients.applications.plan_action(request.principal, urn, year, data)

        return self._school_form(request, "school/action.html", plan,
                                 f"/school/{urn}/application/{year}/actions", "The action plan is saved.",
                                 **context)

    def _school_action_context(self, request: Any, urn: str, year: str, action_id: str) -> dict:
        """``new`` plans an action; an action's id changes it."""
        view = self._school_application(request, urn, year)
        action = next((a for a in view["actions"] if a["id"] == action_id), None)
        if action is None and action_id != "new":
            raise NotFound("There is no such action in the plan.")
        criteria = [("", "Select a criterion")] + [
            (r["code"], r["label"]) for r in criterion_rows(self._school_authority(), view)]
        return {"urn": urn, "year": year, "action": action, "action_id": action_id, "criteria": criteria,
                "statuses": [(s, ACTION_LABELS[s]) for s in ACTION_STATUSES]}

    @staticmethod
    def _school_action_values(action: dict | None) -> dict:
        if action is None:
            return {"status": "planned"}
        values = {k: action[k] for k in ("criterion", "action", "owner", "status")}
        if action["target_date"]:
            day = dt.date.fromisoformat(action["target_date"])
            values.update({"target_date-day": str(day.day), "target_date-month": str(day.month),
                           "target_date-year": str(day.year)})
        return values

    @page("GET", f"{APP}/missing", allow=SCHOOL_STAFF)
    def school_missing_page(self, request: Any, urn: str, year: str) -> Response:
        view = self._school_application(request, urn, year)
        rows = [r for r in criterion_rows(self._school_authority(), view) if r["missing"]]
        due = view["next_submission"]
        return render(request, "school/missing.html", urn=urn, year=year, view=view, rows=rows,
                      extension=view["extensions"].get(due or ""))

    @page("GET", f"{APP}/submit", allow=SCHOOL_STAFF)
    def school_submit_page(self, request: Any, urn: str, year: str) -> Response:
        return render(request, "school/submit.html", **self._school_submit_context(request, urn, year))

    @page("POST", f"{APP}/submit", allow=SCHOOL_STAFF)
    def school_submit_form(self, request: Any, urn: str, year: str) -> Response:
        context = self._school_submit_context(request, urn, year)
        stage = request.form.get("stage", "")

        def send() -> None:
            self.clients.applications.submit(request.principal, urn, year, {"stage": stage})

        def again(errors: dict[str, str]) -> Response:  # the button is the only thing to fix
            return render(request, "school/submit.html", status=409,
                          errors={"submit": " ".join(errors.values())}, **context)

        return submit(request, send, f"/school/{urn}", f"Your {stage} application has been submitted.",
                      again)

    def _school_submit_context(self, request: Any, urn: str, year: str) -> dict:
        view = self._school_application(request, urn, year)
        due = view["next_submission"]
        return {"urn": urn, "year": year, "view": view, "stage": due,
                "rows": criterion_rows(self._school_authority(), view), "labels": AUDIT_LABELS,
                "extension": view["extensions"].get(due or "")}

    @page("GET", f"{APP}/feedback", allow=SCHOOL_STAFF)
    def school_feedback_page(self, request: Any, urn: str, year: str) -> Response:
        view = self._school_application(request, urn, year)
        return render(request, "school/feedback.html", urn=urn, year=year, view=view,
                      rows=criterion_rows(self._school_authority(), view), outcomes=OUTCOME_LABELS)
