"""The local lead's pages: the cycle at a glance, schools and pledges, one
application (extensions, visit, decision), panels and their appraisals (agreed
outcome, feedback), the decision trail and the email delivery log.

Everything goes through the same RPCs as the JSON routes; the authority's own
file supplies the cycle's dates, the panel composition rule and criterion titles.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.web.pages import field_errors, form_date, page, redirect, render, submit
from services.notifications.schemas import STATUSES as EMAIL_STATUSES
from shared.access import LEAD
from shared.authority import Authority, Cycle, load_authority
from shared.clock import system_clock
from shared.errors import Conflict, Invalid, NotFound
from shared.runtime import settings_of

APP = "/lead/applications/<urn>/<year>"
STAGE = "<any(draft, final):stage>"
PANEL = f"/lead/panels/<year>/{STAGE}"

STAGE_TEXT = {
    "started": ("Preparing", "grey"), "draft_submitted": ("Draft submitted", "blue"),
    "draft_feedback": ("Draft feedback released", "light-blue"),
    "final_submitted": ("Final submitted", "purple"), "visit_scheduled": ("Visit scheduled", "turquoise"),
    "visited": ("Visited", "turquoise"), "further_evidence": ("Further evidence due", "orange"),
    "awarded": ("Awarded", "green"), "not_awarded": ("Not awarded", "red"),
    "withdrawn": ("Withdrawn", "grey"),
}
SUBMISSIONS = {"draft": "Draft application", "final": "Final application"}
OUTCOMES = [("met", "Met"), ("not_yet_met", "Not yet met")]
OVERALL = [("award", "Award", "The final panel recommends the award"),
           ("further_evidence", "Further evidence", "The school sends more evidence by a date"),
           ("not_awarded", "Not awarded", "Not this cycle")]
PLEDGE_TEXT = {"registered": ("Registered", "grey"), "interested": ("Interested", "light-blue"),
               "committed": ("Committed", "blue"), "signed": ("Pledged", "green"),
               "lapsed": ("Lapsed", "orange"), "withdrawn": ("Withdrawn", "red")}
EMAIL_TEXT = {"pending": ("Waiting", "yellow"), "sending": ("Sending", "blue"), "sent": ("Sent", "green"),
              "failed": ("Failed", "red"), "suppressed": ("Not sent", "grey")}
LOOKUPS = {"stage_text": STAGE_TEXT, "submissions": SUBMISSIONS, "pledge_text": PLEDGE_TEXT,
           "email_text": EMAIL_TEXT, "overall_text": {o[0]: o[1] for o in OVERALL},
           "outcome_text": dict(OUTCOMES)}


@functools.lru_cache(maxsize=4)
def _authority_file(path: Path) -> Authority:
    return load_authority(path)


def school_year_of(day: dt.date) -> str:
    """English school years run September to August: 23 November 2026 is in 2026-27."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def key_dates(cycle: Cycle, today: dt.date) -> list[tuple[dt.date, str]]:
    """The cycle's dates still ahead, soonest first."""
    named = [(cycle.draft_deadline, "Draft applications due"), (cycle.draft_panel, "Draft panel meets"),
             (cycle.final_deadline, "Final applications due"), (cycle.final_panel, "Final panel meets"),
             (cycle.feedback_by, "Feedback to schools by"), (cycle.renewal_deadline, "Renewals due")]
    if cycle.visit_window is not None:
        named += [(cycle.visit_window.start, "School visits start"),
                  (cycle.visit_window.end, "School visits end")]
    return sorted((day, text) for day, text in named if day is not None and day >= today)


def names_of(accounts: list[dict]) -> dict[str, str]:
    return {a["id"]: a["name"] for a in accounts}


def who_did(names: dict[str, str]) -> Any:
    """A template helper: 'account:<id>' (or a bare id, or a list of them) as names."""
    def who(actor: str | list[str] | None) -> str:
        if isinstance(actor, list):
            return ", ".join(who(one) for one in actor)
        if not actor:
            return ""
        account = actor.removeprefix("account:")
        return names.get(account, "the system" if actor == "system" else actor)
    return who


class LeadPages:
    _call: Any
    clients: Clients
    config: Any

    # -- helpers ----------------------------------------------------------------

    def _authority(self) -> Authority:
        given = self.config.get("SANCTUARY_AUTHORITY")
        return given or _authority_file(Path(settings_of(self.config).authority_file))

    def _cycle(self, year: str) -> Cycle:
        try:
            return self._authority().cycle(year)
        except KeyError:
            raise NotFound(f"No {year} cycle is set up for {self._authority().name}.") from None

    def _current_cycle(self) -> Cycle:
        cycles = self._authority().cycles
        year = school_year_of(system_clock().today())
        return next((c for c in cycles if c.school_year == year), cycles[-1])

    def _accounts(self, request: Any) -> list[dict]:
        return self.clients.accounts.accounts(request.principal)["accounts"]

    def _application(self, request: Any, urn: str, year: str) -> dict:
        return self.clients.applications.application_view(request.principal, urn, year, {})

    def _panel(self, request: Any, year: str, stage: str) -> dict:
        return self.clients.applications.panel(request.principal, year, stage)

    def _page(self, request: Any, template: str, status: int = 200, **context: Any) -> Response:
        return render(request, template, status=status, **LOOKUPS, **context)

    # -- the cycle and the schools --------------------------------------------------

    @page("GET", "/lead", allow=LEAD)
    def lead_cycle_page(self, request: Any) -> Response:
        cycle = self._current_cycle()
        overview = self.clients.applications.cycle_overview(request.principal, cycle.school_year)
        rows = overview["applications"]
        today = system_clock().today()
        return self._page(request, "lead/cycle.html", cycle=cycle, authority=self._authority(),
                          overview=overview, late=[r for r in rows if r["late"]],
                          extended=[r for r in rows if r["extension"]], key_dates=key_dates(cycle, today))

    @page("GET", "/lead/schools", allow=LEAD)
    def lead_schools_page(self, request: Any) -> Response:
        status = request.args.get("status", "")
        query = {"status": status} if status in PLEDGE_TEXT else {}
        schools = self.clients.pledges.schools(request.principal, query)["schools"]
        cycle = self._current_cycle()
        overview = self.clients.applications.cycle_overview(request.principal, cycle.school_year)
        applying = {r["urn"]: r for r in overview["applications"]}
        return self._page(request, "lead/schools.html", schools=schools, applying=applying, cycle=cycle,
                          chosen=query.get("status", ""))

    # -- one application ------------------------------------------------------------

    @page("GET", APP, allow=LEAD)
    def lead_application_page(self, request: Any, urn: str, year: str) -> Response:
        return self._application_page(request, urn, year)

    def _application_page(self, request: Any, urn: str, year: str, status: int = 200,
                          errors: dict | None = None) -> Response:
        application = self._application(request, urn, year)
        cycle = self._cycle(year)
        stages = {s["stage"] for s in application["submissions"]}
        appraisals = {stage: _current(self._panel(request, year, stage), urn) for stage in stages}
        values = dict(request.form) if errors else {}
        downloads = self.clients.applications.downloads(request.principal, urn, year)["items"]
        return self._page(request, "lead/application.html", status=status, errors=errors or {},
                          values=values, a=application, cycle=cycle, appraisals=appraisals,
                          who=who_did(names_of(self._accounts(request))),
                          downloads=downloads)

    def _application_form(self, request: Any, urn: str, year: str, command: Any, data: Any,
                          message: str) -> Response:
        """Run one of the application page's forms; a refusal shows the page again."""
        again = functools.partial(self._application_page, request, urn, year, 422)
        try:
            body = data() if callable(data) else data
        except Invalid as error:
            return again(field_errors(error))
        return submit(request, lambda: command(request.principal, urn, year, body),
                      f"/lead/applications/{urn}/{year}", message, again)

    @page("POST", f"{APP}/files/people", allow=LEAD)
    def lead_mark_file_shows(self, request: Any, urn: str, year: str) -> Response:
        sha256 = request.form.get("sha256", "")
        return self._application_form(
            request, urn, year,
            lambda who, u, y, body: self.clients.applications.mark_file_shows(who, u, y, sha256, body),
            {"name": request.form.get("name", "").strip()},
            "Recorded: the file is deleted if everyone it shows asks to be erased.")

    @page("POST", f"{APP}/extension", allow=LEAD)
    def lead_grant_extension(self, request: Any, urn: str, year: str) -> Response:
        form = request.form

        def data() -> dict:
            errors = {}
            if form.get("stage") not in SUBMISSIONS:
                errors["stage"] = ["Choose which submission the extension is for"]
            try:
                until = form_date(form, "until", "the date the extension runs until")
            except Invalid as error:
                errors.update(error.fields)
            if not form.get("reason", "").strip():
                errors["reason"] = ["Enter the reason for the extension"]
            if errors:
                raise Invalid("The extension was not granted.", errors)
            return {"stage": form["stage"], "until": until, "reason": form["reason"].strip(),
                    "beyond_panel_meeting": form.get("beyond_panel_meeting") == "yes"}
        return self._application_form(request, urn, year, self.clients.applications.grant_extension,
                                      data, "Extension granted.")

    @page("POST", f"{APP}/visit", allow=LEAD)
    def lead_schedule_visit(self, request: Any, urn: str, year: str) -> Response:
        return self._application_form(
            request, urn, year, self.clients.applications.schedule_visit,
            lambda: {"on": form_date(request.form, "on", "the date of the visit")}, "Visit scheduled.")

    @page("POST", f"{APP}/decision", allow=LEAD)
    def lead_decide(self, request: Any, urn: str, year: str) -> Response:
        form = request.form

        def data() -> dict:
            if not form.get("reasons", "").strip():
                raise Invalid("No reasons", {"reasons": ["Enter the reasons for the decision"]})
            due = form_date(form, "evidence_due", "the date further evidence is due", required=False)
            return {"reasons": form["reasons"].strip(), "evidence_due": due}
        return self._application_form(request, urn, year, self.clients.applications.decide, data,
                                      "Decision recorded.")

    @page("GET", f"{APP}/decision-trail", allow=LEAD)
    def lead_decision_trail_page(self, request: Any, urn: str, year: str) -> Response:
        trail = self.clients.applications.decision_trail(request.principal, urn, year)
        return self._page(request, "lead/decision_trail.html", trail=trail,
                          who=who_did(names_of(self._accounts(request))))

    # -- an appraisal: the agreed outcome and the feedback --------------------------------

    @page("GET", f"{APP}/appraisals/{STAGE}", allow=LEAD)
    def lead_appraisal_page(self, request: Any, urn: str, year: str, stage: str) -> Response:
        return self._appraisal_page(request, urn, year, stage)

    def _appraisal_page(self, request: Any, urn: str, year: str, stage: str, status: int = 200,
                        errors: dict | None = None) -> Response:
        application = self._application(request, urn, year)
        appraisal = self.clients.applications.appraisal(request.principal, urn, year, stage)
        criteria = self._authority().criteria(application["criteria_version"]).criteria
        if errors:
            values, checked = dict(request.form), request.form.getlist("members")
        else:
            values, checked = _unanimous(appraisal), []
        clear = [m for m in appraisal["members"]
                 if m in appraisal["declarations"] and not appraisal["declarations"][m]["conflicted"]]
        return self._page(request, "lead/appraisal.html", status=status, errors=errors or {},
                          values=values, checked=checked, a=application, appraisal=appraisal,
                          stage=stage, criteria=criteria, clear=clear,
                          who=who_did(names_of(self._accounts(request))))

    @page("POST", f"{APP}/appraisals/{STAGE}/outcome", allow=LEAD)
    def lead_agree_outcome(self, request: Any, urn: str, year: str, stage: str) -> Response:
        again = functools.partial(self._appraisal_page, request, urn, year, stage, 422)
        application = self._application(request, urn, year)
        body, errors = _agreed_outcome(request.form, list(application["audit"]))
        if errors:
            return again(errors)
        return submit(request, lambda: self.clients.applications.agree_outcome(
                          request.principal, urn, year, stage, body),
                      f"/lead/applications/{urn}/{year}/appraisals/{stage}",
                      "The agreed outcome is recorded.", again)

    @page("POST", f"{APP}/appraisals/{STAGE}/feedback", allow=LEAD)
    def lead_release_feedback(self, request: Any, urn: str, year: str, stage: str) -> Response:
        again = functools.partial(self._appraisal_page, request, urn, year, stage, 422)
        summary = request.form.get("summary", "").strip()
        if not summary:
            return again({"summary": "Enter a summary of the feedback for the school"})
        return submit(request, lambda: self.clients.applications.release_feedback(
                          request.principal, urn, year, stage, {"summary": summary}),
                      f"/lead/applications/{urn}/{year}", "Feedback released to the school.", again)

    # -- panels -----------------------------------------------------------------------

    @page("GET", "/lead/panels/<year>", allow=LEAD)
    def lead_panels_page(self, request: Any, year: str) -> Response:
        cycle = self._cycle(year)
        panels = [self._panel(request, year, stage) for stage in cycle.stages]
        return self._page(request, "lead/panels.html", cycle=cycle, panels=panels)

    @page("GET", PANEL, allow=LEAD)
    def lead_panel_page(self, request: Any, year: str, stage: str) -> Response:
        return self._panel_page(request, year, stage)

    def _panel_page(self, request: Any, year: str, stage: str, status: int = 200,
                    errors: dict | None = None) -> Response:
        cycle = self._cycle(year)
        if stage not in cycle.stages:
            raise NotFound(f"The {year} cycle has no {stage} stage.")
        accounts = self._accounts(request)
        members = [a for a in accounts if not a["closed"]
                   and any(g["role"] == "panel_member" for g in a["grants"])]
        overview = self.clients.applications.cycle_overview(request.principal, year)
        submitted = [r for r in overview["applications"] if _has_submitted(r["stage"], stage)]
        panel = self._panel(request, year, stage)
        appraisals = {r["urn"]: _current(panel, r["urn"]) for r in submitted}
        return self._page(request, "lead/panel.html", status=status, errors=errors or {},
                          values=dict(request.form) if errors else {}, cycle=cycle, stage=stage,
                          panel=panel, formed=panel["formed"], members=members,
                          submitted=submitted, appraisals=appraisals, who=who_did(names_of(accounts)))

    def _panel_form(self, request: Any, year: str, stage: str, field: str, action: Any,
                    message: Any) -> Response:
        """Run a panel command; refused, the panel page shows why against ``field``."""
        again = functools.partial(self._panel_page, request, year, stage, 422)
        try:
            panel = action()
        except (Invalid, Conflict) as error:
            errors = field_errors(error)
            return again(errors if field == "account" else {field: error.message})
        except NotFound as error:
            return again({field: error.message})
        return redirect(f"/lead/panels/{year}/{stage}", message(panel))

    @page("POST", f"{PANEL}/formation", allow=LEAD)
    def lead_form_panel(self, request: Any, year: str, stage: str) -> Response:
        return self._panel_form(
            request, year, stage, "form-panel",
            lambda: self.clients.applications.form_panel(request.principal, year, stage),
            lambda panel: f"The {stage} panel is formed. Add its members.")

    @page("POST", f"{PANEL}/members", allow=LEAD)
    def lead_add_panel_member(self, request: Any, year: str, stage: str) -> Response:
        form = request.form
        errors = {}
        if not form.get("account"):
            errors["account"] = "Choose a panel member"
        if form.get("lived_experience") not in ("yes", "no"):
            errors["lived_experience"] = "Say whether they have lived experience of seeking sanctuary"
        if errors:
            return self._panel_page(request, year, stage, 422, errors)
        data = {"account": form["account"], "lived_experience": form["lived_experience"] == "yes",
                "reason": form.get("reason", "").strip() or None}
        return self._panel_form(
            request, year, stage, "account",
            lambda: self.clients.applications.add_panel_member(request.principal, year, stage, data),
            _composition)

    @page("POST", f"{PANEL}/convening", allow=LEAD)
    def lead_convene(self, request: Any, year: str, stage: str) -> Response:
        return self._panel_form(
            request, year, stage, "convene",
            lambda: self.clients.applications.convene(request.principal, year, stage),
            lambda panel: f"The {stage} panel has convened. {_composition(panel, added=False)}")

    @page("POST", f"{PANEL}/assignments", allow=LEAD)
    def lead_assign(self, request: Any, year: str, stage: str) -> Response:
        urn = request.form.get("urn", "")
        if not urn:
            return self._panel_page(request, year, stage, 422, {"urn": "Choose an application"})
        return self._panel_form(
            request, year, stage, "urn",
            lambda: self.clients.applications.assign(request.principal, year, stage, urn),
            lambda appraisal: f"The application from URN {urn} is assigned to the {stage} panel.")

    # -- emails ----------------------------------------------------------------------

    @page("GET", "/lead/emails", allow=LEAD)
    def lead_emails_page(self, request: Any) -> Response:
        everything = self.clients.notifications.delivery_log(request.principal, {})
        kinds = sorted({item["kind"] for item in everything["items"]})
        status, kind = request.args.get("status", ""), request.args.get("kind", "")
        query = {k: v for k, v in (("status", status), ("kind", kind)) if v}
        if query.get("status") not in (None, *EMAIL_STATUSES) or query.get("kind") not in (None, *kinds):
            query = {}
        log = self.clients.notifications.delivery_log(request.principal, query) if query else everything
        return self._page(request, "lead/emails.html", log=log, kinds=kinds, statuses=EMAIL_STATUSES,
                          values=query, shown=log["items"][:300])


def _current(panel: dict, urn: str) -> dict | None:
    """The panel's appraisal of the school's latest submission, if it has one."""
    return next((a for a in panel["appraisals"] if a["urn"] == urn and a["current"]), None)


def _has_submitted(application_stage: str, stage: str) -> bool:
    if stage == "draft":
        return application_stage == "draft_submitted"
    return application_stage in ("final_submitted", "visit_scheduled", "visited")


def _composition(panel: dict, added: bool = True) -> str:
    members = panel["members"]
    lived = sum(1 for m in members if m["lived_experience"])
    start = "Member added. " if added else ""
    return (f"{start}The {panel['stage']} panel has {len(members)} "
            f"member{'s' if len(members) != 1 else ''}, {lived} with lived experience of seeking sanctuary.")


def _unanimous(appraisal: dict) -> dict:
    """Each criterion's outcome pre-chosen where every member who judged it agrees."""
    seen: dict[str, set[str]] = {}
    for judged in appraisal["judgements"].values():
        for code, judgement in judged.items():
            seen.setdefault(code, set()).add(judgement["outcome"])
    return {f"criteria.{code}.outcome": outcomes.pop() for code, outcomes in seen.items()
            if len(outcomes) == 1}


def _agreed_outcome(form: Any, criteria: list[str]) -> tuple[dict, dict]:
    """The agreed-outcome form as the RPC takes it, and what is missing from it."""
    errors, agreed = {}, {}
    for code in criteria:
        outcome, comment = form.get(f"criteria.{code}.outcome", ""), form.get(f"criteria.{code}.comment", "")
        label = code.replace("-", " ").capitalize()
        if outcome not in dict(OUTCOMES):
            errors[f"criteria.{code}.outcome"] = f"Select met or not yet met for {label}"
        if not comment.strip():
            errors[f"criteria.{code}.comment"] = f"Enter the panel's comment on {label}"
        agreed[code] = {"outcome": outcome, "comment": comment.strip()}
    overall = form.get("overall", "")
    if overall not in {o[0] for o in OVERALL}:
        errors["overall"] = "Select the panel's overall outcome"
    members = form.getlist("members")
    if not members:
        errors["members"] = "Select the members who agreed the outcome"
    return {"criteria": agreed, "overall": overall, "members": members}, errors
