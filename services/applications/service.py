"""The applications nameko service: a thin RPC adapter around the Applications application.

Every call carries the principal the gateway authenticated; the rule is checked
here again. Panel members are further checked by the appraisal itself (member
of that panel, interests declared, not conflicted).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from marshmallow import Schema
from nameko.timer import timer

from services.applications import schemas
from services.applications.api import ApplicationsApi
from services.applications.application import Applications
from services.applications.certificate import certificate_of, render
from services.applications.contract import APPLICATIONS
from services.applications.trail import decision_trail, render_html
from shared.access import LEAD, PANEL_MEMBERS, SCHOOL_STAFF, Rule, require
from shared.authority import Authority
from shared.config import Settings
from shared.consumer import consume, integration_handler
from shared.metrics import Metric, gauge
from shared.runtime import EventSourcedApp, ServiceBase, rpc, serve
from shared.schema import jsonable, load
from shared.store import store_env
from shared.subject_access import PersonalDataService


def build(settings: Settings, authority: Authority) -> Applications:
    return Applications(env=store_env("applications", settings), authority=authority)


def gauges(app: Applications) -> Iterable[Metric]:
    yield gauge("sanctuary_applications", "Award applications by school year and stage",
                app.count_by_stage(), ["school_year", "stage"])
    ahead = app.deadlines_ahead()
    keys = [(d["school_year"], d["deadline"]) for d in ahead]
    yield gauge("sanctuary_deadline_timestamp_seconds",
                "When each submission deadline still ahead closes (Unix time: the end of its day)",
                dict(zip(keys, (d["closes_at"].timestamp() for d in ahead), strict=True)),
                ["school_year", "deadline"])
    yield gauge("sanctuary_deadline_unsubmitted_applications",
                "Applications that still owe the submission due at that deadline (no extension)",
                dict(zip(keys, (d["unsubmitted"] for d in ahead), strict=True)), ["school_year", "deadline"])


@serve(ApplicationsApi)
class ApplicationsService(ServiceBase, PersonalDataService):
    name = "applications"
    application = EventSourcedApp(build, APPLICATIONS, gauges)

    # -- pledge news from the pledges service -------------------------------------

    def _learn(self, body: dict) -> None:
        consume(self.application, body, self.application.learn_pledge_news)

    @integration_handler("pledges", "SchoolRegistered")
    def on_school_registered(self, body: dict) -> None:
        self._learn(body)

    @integration_handler("pledges", "PledgeSigned")
    def on_pledge_signed(self, body: dict) -> None:
        self._learn(body)

    @integration_handler("pledges", "PledgeRenewed")
    def on_pledge_renewed(self, body: dict) -> None:
        self._learn(body)

    @integration_handler("pledges", "PledgeWithdrawn")
    def on_pledge_withdrawn(self, body: dict) -> None:
        self._learn(body)

    @timer(interval=3600)
    def mark_renewals_due(self) -> None:
        """Hourly, so a restart never misses a day; each award is marked once."""
        self.application.mark_renewals_due()

    @integration_handler("events", "AttendanceRecorded")
    def on_attendance_recorded(self, body: dict) -> None:
        consume(self.application, body, self.application.learn_attendance)

    # -- one entry point per kind of caller ----------------------------------------

    def _run(self, rule: Rule, principal: dict, urn: str | None, method: str,
             schema: Schema | None, data: dict | None, *args: object) -> dict:
        who = require(rule, principal, urn=urn)
        values = load(schema, data) if schema is not None else {}
        return jsonable(getattr(self.application, method)(who.actor, *args, **values))

    def _panel(self, principal: dict, method: str, schema: Schema, data: dict, *args: object) -> dict:
        who = require(PANEL_MEMBERS, principal)
        return jsonable(getattr(self.application, method)(who.account, *args, **load(schema, data)))

    @rpc
    def pledge_standing(self, principal: dict, urn: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return self.application.pledge_standing(urn)

    # -- the school --------------------------------------------------------------

    @rpc
    def start(self, principal: dict, urn: str, data: dict) -> dict:
        return self._run(SCHOOL_STAFF, principal, urn, "start", schemas.Start(), data, urn)

    @rpc
    def record_audit(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        return self._run(SCHOOL_STAFF, principal, urn, "record_audit", schemas.AuditEntry(), data,
                         urn, year)

    @rpc
    def add_evidence(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        return self._run(SCHOOL_STAFF, principal, urn, "add_evidence", schemas.Evidence(), data,
                         urn, year)

    @rpc
    def withdraw_evidence(self, principal: dict, urn: str, year: str, evidence_id: str) -> dict:
        return self._run(SCHOOL_STAFF, principal, urn, "withdraw_evidence", None, None, urn, year,
                         evidence_id)

    @rpc
    def plan_action(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        return self._run(SCHOOL_STAFF, principal, urn, "plan_action", schemas.Action(), data, urn, year)

    @rpc
    def submit(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        return self._run(SCHOOL_STAFF, principal, urn, "submit", schemas.Submission(), data, urn, year)

    @rpc
    def withdraw(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        return self._run(SCHOOL_STAFF, principal, urn, "withdraw", schemas.Withdrawal(), data, urn, year)

    @rpc
    def application_view(self, principal: dict, urn: str, year: str, query: dict) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        as_of = load(schemas.AsOf(), query).get("as_of")
        return jsonable(self.application.application(urn, year, as_of))

    @rpc
    def history(self, principal: dict, urn: str, year: str) -> dict:
        require(SCHOOL_STAFF, principal, urn=urn)
        return jsonable({"items": self.application.history(urn, year)})

    @rpc
    def certificate(self, principal: dict, urn: str, year: str) -> str:
        """The award certificate as a PDF, base64-encoded (RPC bodies are JSON); 409 until awarded."""
        require(SCHOOL_STAFF, principal, urn=urn)
        authority = self.application.authority
        found = certificate_of(self.application.application(urn, year), authority.name, authority.lead_team)
        return base64.b64encode(render(found)).decode("ascii")

    # -- the lead ----------------------------------------------------------------

    @rpc
    def grant_extension(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        return self._run(LEAD, principal, urn, "grant_extension", schemas.Extension(), data, urn, year)

    @rpc
    def form_panel(self, principal: dict, year: str, stage: str) -> dict:
        return self._run(LEAD, principal, None, "form_panel", None, None, year, stage)

    @rpc
    def add_panel_member(self, principal: dict, year: str, stage: str, data: dict) -> dict:
        return self._run(LEAD, principal, None, "add_panel_member", schemas.PanelMember(), data,
                         year, stage)

    @rpc
    def convene(self, principal: dict, year: str, stage: str) -> dict:
        return self._run(LEAD, principal, None, "convene", None, None, year, stage)

    @rpc
    def assign(self, principal: dict, year: str, stage: str, urn: str) -> dict:
        return self._run(LEAD, principal, None, "assign", None, None, year, stage, urn)

    @rpc
    def agree_outcome(self, principal: dict, urn: str, year: str, stage: str, data: dict) -> dict:
        return self._run(LEAD, principal, urn, "agree_outcome", schemas.AgreedOutcome(), data,
                         urn, year, stage)

    @rpc
    def release_feedback(self, principal: dict, urn: str, year: str, stage: str, data: dict) -> dict:
        return self._run(LEAD, principal, urn, "release_feedback", schemas.FeedbackRelease(), data,
                         urn, year, stage)

    @rpc
    def schedule_visit(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        return self._run(LEAD, principal, urn, "schedule_visit", schemas.VisitPlan(), data, urn, year)

    @rpc
    def record_visit(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        who = require(LEAD | PANEL_MEMBERS, principal)
        member = None if who.has("lead") else who.account
        values = load(schemas.VisitRecord(), data)
        return jsonable(self.application.record_visit(who.actor, urn, year, member=member, **values))

    @rpc
    def decide(self, principal: dict, urn: str, year: str, data: dict) -> dict:
        return self._run(LEAD, principal, urn, "decide", schemas.DecisionInput(), data, urn, year)

    @rpc
    def cycle_overview(self, principal: dict, year: str) -> dict:
        require(LEAD, principal)
        return jsonable(self.application.cycle_overview(year))

    @rpc
    def appraisal(self, principal: dict, urn: str, year: str, stage: str) -> dict:
        require(LEAD, principal)
        return jsonable(self.application.appraisal_view(self.application.appraisal(urn, year, stage)))

    @rpc
    def decision_trail(self, principal: dict, urn: str, year: str, as_html: bool = False) -> dict | str:
        require(LEAD, principal)
        found = decision_trail(self.application, urn, year)
        return render_html(found, self.application.authority.name) if as_html else jsonable(found)

    # -- panel members -------------------------------------------------------------

    @rpc
    def my_appraisals(self, principal: dict) -> dict:
        who = require(PANEL_MEMBERS, principal)
        return jsonable({"items": self.application.appraisals_for(who.account)})

    @rpc
    def declare(self, principal: dict, urn: str, year: str, stage: str, data: dict) -> dict:
        return self._panel(principal, "declare", schemas.Declaration(), data, urn, year, stage)

    @rpc
    def judge(self, principal: dict, urn: str, year: str, stage: str, data: dict) -> dict:
        return self._panel(principal, "judge", schemas.Judgement(), data, urn, year, stage)

    @rpc
    def note(self, principal: dict, urn: str, year: str, stage: str, data: dict) -> dict:
        return self._panel(principal, "note", schemas.Notes(), data, urn, year, stage)

    @rpc
    def for_panel_member(self, principal: dict, urn: str, year: str, stage: str) -> dict:
        who = require(PANEL_MEMBERS, principal)
        return jsonable(self.application.for_panel_member(who.account, urn, year, stage))
