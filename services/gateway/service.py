"""The gateway: the only public HTTP entry. JSON in and out, validated with the
owning service's own schemas, forwarded over nameko RPC, errors mapped to HTTP.

Every route names who may use it (``allow=``); the gateway checks before it
forwards, and the owning service checks again.
"""

from __future__ import annotations

import time
from typing import Any

import eventlet
from nameko.dependency_providers import Config
from werkzeug.wrappers import Response

from services.accounts import schemas as account
from services.gateway.account_routes import AccountRoutes, credential_of
from services.gateway.application_routes import ApplicationRoutes
from services.gateway.clients import Clients
from services.gateway.event_routes import EventRoutes
from services.gateway.library_routes import LibraryRoutes
from services.gateway.openapi import build_openapi
from services.gateway.pledge_routes import PledgeRoutes
from services.gateway.portfolio_routes import PortfolioRoutes
from services.gateway.principal_events import ACCESS_CHANGES, Principals, access_event, forget
from services.gateway.routes import ROUTES, json_response, route
from services.gateway.sharing_routes import SharingRoutes
from services.gateway.web.access_pages import AccessPages
from services.gateway.web.celebration_pages import CelebrationPages
from services.gateway.web.confirm_pages import ConfirmPages
from services.gateway.web.cpd_pages import CpdPages
from services.gateway.web.export_pages import ExportPages
from services.gateway.web.join_pages import JoinPages
from services.gateway.web.lead_pages import LeadPages
from services.gateway.web.lead_school_pages import LeadSchoolPages
from services.gateway.web.link_pages import LinkPages
from services.gateway.web.meeting_pages import MeetingPages
from services.gateway.web.message_pages import MessagePages
from services.gateway.web.pages import SESSION_COOKIE
from services.gateway.web.panel_member_pages import PanelMemberPages
from services.gateway.web.panel_pages import PanelPages
from services.gateway.web.people_pages import PeoplePages
from services.gateway.web.portfolio_pages import PortfolioPages
from services.gateway.web.programme_pages import ProgrammePages
from services.gateway.web.school_journey_pages import SchoolJourneyPages
from services.gateway.web.school_pages import SchoolPages
from services.notifications.api import NotificationsApi
from shared.access import LEAD, OPERATOR, PUBLIC, Principal
from shared.config import version
from shared.errors import Unauthorized, Unavailable
from shared.messaging import RpcProxy
from shared.metrics import exposition
from shared.ops import OpsEndpoint
from shared.request_trail import RequestTrail
from shared.runtime import settings_of
from shared.subject_access import subjects_of

SERVICES = ("accounts", "pledges", "applications", "events", "notifications", "library")
HEALTH_TIMEOUT = 2.0


class GatewayService(AccountRoutes, PledgeRoutes, ApplicationRoutes, EventRoutes, SharingRoutes,
                     LibraryRoutes, PortfolioRoutes, AccessPages, SchoolPages, CpdPages, PanelPages,
                     LeadPages, ProgrammePages, MeetingPages, ExportPages, LinkPages, MessagePages,
                     PeoplePages, LeadSchoolPages, JoinPages, PanelMemberPages,
                     SchoolJourneyPages, CelebrationPages, ConfirmPages,
                     PortfolioPages):
    name = "gateway"
    accounts = RpcProxy("accounts")
    pledges = RpcProxy("pledges")
    applications = RpcProxy("applications")
    events = RpcProxy("events")
    notifications = RpcProxy("notifications")
    config = Config()
    ops = OpsEndpoint()
    trail = RequestTrail()  # the request's id on every line, passed on with every RPC
    principals = Principals()  # who is calling, remembered a while (principals.py)

    @property
    def clients(self) -> Clients:
        """Every service's declared operations, called through ``_call``."""
        return Clients.over(self._call)

    def _call(self, service: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        """An RPC that gives up after a while: a 503 beats a request hanging forever.
        (eventlet's Timeout is a BaseException, which nameko's web handler does not catch:
        it must become our Unavailable here, or the request never gets an answer.)"""
        timer = eventlet.Timeout(timeout or settings_of(self.config).rpc_timeout)
        try:
            return getattr(getattr(self, service), method)(*args)
        except eventlet.Timeout as fired:
            if fired is not timer:
                raise
            raise Unavailable(f"The {service} service did not answer in time; try again.") from None
        finally:
            timer.cancel()
            if service == "accounts" and method in ACCESS_CHANGES:  # done or not: ask again next time
                self.principals.forget_all()

    def authenticate(self, request: Any) -> dict | None:
        """The principal behind the request's credential, None without one."""
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, credential = header.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                raise Unauthorized("Send credentials as 'Authorization: Bearer <session or token>'.")
        else:
            credential = request.cookies.get(SESSION_COOKIE, "")
        if not credential:
            return None
        return self.principals.principal(credential.strip(), self._identify)

    def _identify(self, credential: str) -> tuple[dict, float | None]:
        """The principal, and the seconds its credential has left (None: an API token)."""
        found = self.clients.accounts.identify(credential)
        return found["principal"], None if found["until"] is None else found["until"] - time.time()

    @access_event("accounts", "AccountAccessChanged")
    def access_changed(self, body: dict) -> None:
        forget(self.principals, body)

    @access_event("accounts", "PersonalDataErased")
    def personal_data_erased(self, body: dict) -> None:
        forget(self.principals, body)

    # -- personal data: subject access and erasure -----------------------------------

    @route("GET", "/people/personal-data", "Everything held about a person, in every service",
           "people", allow=LEAD, query=account.Person, response=account.SubjectAccessExport,
           errors=(401, 403))
    def personal_data(self, request: Any) -> dict:
        subjects = subjects_of(request.data_in)
        records = [record for client in self.clients.each()
                   for record in client.personal_data(request.principal, subjects)]
        return {"subjects": subjects, "records": records}

    @route("POST", "/people/erasure", "Erase a person's personal data everywhere", "people",
           allow=LEAD, body=account.ErasureRequest, response=account.ErasureView, status=202,
           errors=(401, 403))
    def erase_person(self, request: Any) -> dict:
        data = {"subjects": subjects_of(request.data_in), "reason": request.data_in["reason"]}
        return self.clients.accounts.erase_person(request.principal, data)

    # -- the system ------------------------------------------------------------------

    @route("GET", "/health", "Up (200, status ok) or not (503, status degraded). Signed in as an "
           "operator or the lead: also each service's reachability and its relay's lag (every "
           "process's own /health/* is on its ops port)", "system", allow=PUBLIC)
    def health(self, request: Any) -> Any:
        services = {name: self._health_of(name) for name in SERVICES}
        healthy = all(s.get("reachable") for s in services.values())
        body: dict = {"status": "ok" if healthy else "degraded"}
        if self._operator_asks(request):
            body["services"] = services
        return json_response(200 if healthy else 503, body)

    def _operator_asks(self, request: Any) -> bool:
        """Whether the request carries an operator's or the lead's credential. Anything
        else (none, a bad one, the accounts service down) sees only up or down."""
        credential = credential_of(request)
        if not credential:
            return False
        try:
            who = self._call("accounts", "authenticate", credential, timeout=HEALTH_TIMEOUT)
        except Exception:  # noqa: BLE001 - health never fails for want of details
            return False
        return (OPERATOR | LEAD).allows(Principal.from_dict(who), {})

    def _health_of(self, name: str) -> dict:
        try:
            return {"reachable": True, **self._call(name, "health", timeout=HEALTH_TIMEOUT)}
        except Unavailable:
            return {"reachable": False, "error": "did not answer in time"}
        except Exception as error:  # noqa: BLE001 - health reports a failing service, never fails itself
            return {"reachable": False, "error": f"its health check failed: {type(error).__name__}"}

    @route("GET", "/notifications", "The delivery log: what was sent to whom, when, and what failed",
           "system", op=NotificationsApi.delivery_log, errors=(401, 403))
    def delivery_log(self, request: Any) -> dict:
        return self.clients.notifications.delivery_log(request.principal, request.data_in)

    @route("GET", "/metrics", "The gateway's Prometheus metrics", "system", allow=OPERATOR | LEAD,
           errors=(401, 403))
    def metrics(self, request: Any) -> Response:
        body, content_type = exposition()
        return Response(body, content_type=content_type)

    @route("GET", "/openapi.json", "This document", "system", allow=PUBLIC)
    def openapi(self, request: Any) -> dict:
        return build_openapi(ROUTES, "Schools of Sanctuary", version())
