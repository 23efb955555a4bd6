"""The gateway: the only public HTTP entry. JSON in and out, validated with the
owning service's own schemas, forwarded over nameko RPC, errors mapped to HTTP.

Every route names who may use it (``allow=``); the gateway checks before it
forwards, and the owning service checks again.
"""

from __future__ import annotations

from typing import Any

import eventlet
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from werkzeug.wrappers import Response

from services.accounts import schemas as account
from services.applications.schemas import PledgeStandingView
from services.gateway.application_routes import ApplicationRoutes
from services.gateway.event_routes import EventRoutes
from services.gateway.library_routes import LibraryRoutes
from services.gateway.openapi import build_openapi
from services.gateway.routes import ROUTES, json_response, route
from services.gateway.sharing_routes import SharingRoutes
from services.gateway.web.access_pages import AccessPages
from services.gateway.web.cpd_pages import CpdPages
from services.gateway.web.lead_pages import LeadPages
from services.gateway.web.pages import SESSION_COOKIE
from services.gateway.web.panel_pages import PanelPages
from services.gateway.web.school_pages import SchoolPages
from services.notifications import schemas as notes
from services.pledges import schemas as school
from shared.access import ANY_COORDINATOR as COORDINATORS
from shared.access import LEAD, OPERATOR, PUBLIC, SCHOOL_STAFF, SIGNED_IN
from shared.config import version
from shared.errors import Unauthorized, Unavailable
from shared.metrics import exposition
from shared.ops import OpsEndpoint
from shared.runtime import settings_of
from shared.subject_access import subjects_of

SERVICES = ("accounts", "pledges", "applications", "events", "notifications", "library")
PERSONAL_DATA_SERVICES = SERVICES
HEALTH_TIMEOUT = 2.0


class GatewayService(ApplicationRoutes, EventRoutes, SharingRoutes, LibraryRoutes, AccessPages,
                     SchoolPages, CpdPages, PanelPages, LeadPages):
    name = "gateway"
    accounts = RpcProxy("accounts")
    pledges = RpcProxy("pledges")
    applications = RpcProxy("applications")
    events = RpcProxy("events")
    notifications = RpcProxy("notifications")
    config = Config()
    ops = OpsEndpoint()

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
        return self._call("accounts", "authenticate", credential.strip())

    # -- signing in and accounts ------------------------------------------------------

    @route("POST", "/auth/sign-in-link", "Email me a one-time sign-in link", "accounts",
           allow=PUBLIC, body=account.SignInRequest, response=account.Accepted, status=202)
    def request_sign_in(self, request: Any) -> dict:
        self._call("accounts", "request_sign_in", request.data_in)
        return {"message": "If that address has an account, a sign-in link is on its way."}

    @route("POST", "/auth/session", "Exchange a sign-in link for a session", "accounts",
           allow=PUBLIC, body=account.SignInLink, response=account.Session, status=201, errors=(401,))
    def sign_in(self, request: Any) -> dict:
        return self._call("accounts", "sign_in", request.data_in)

    @route("POST", "/auth/sign-out-everywhere", "End every session of mine", "accounts",
           allow=SIGNED_IN, status=204, errors=(401,))
    def sign_out_everywhere(self, request: Any) -> Response:
        self._call("accounts", "sign_out_everywhere", request.principal)
        return Response(status=204)

    @route("GET", "/me", "Who I am and what I may do", "accounts", allow=SIGNED_IN,
           response=account.AccountView, errors=(401,))
    def me(self, request: Any) -> dict:
        return self._call("accounts", "account", request.principal, request.principal["account"])

    @route("POST", "/me/tokens", "Create a personal API token (shown once)", "accounts",
           allow=SIGNED_IN, body=account.TokenRequest, response=account.NewToken, status=201,
           errors=(401,))
    def issue_token(self, request: Any) -> dict:
        return self._call("accounts", "issue_token", request.principal, request.data_in)

    @route("DELETE", "/me/tokens/<token_id>", "Revoke one of my API tokens", "accounts",
           allow=SIGNED_IN, status=204, errors=(401, 409))
    def revoke_token(self, request: Any, token_id: str) -> Response:
        self._call("accounts", "revoke_token", request.principal, token_id)
        return Response(status=204)

    @route("GET", "/accounts", "Every account", "accounts", allow=LEAD,
           response=account.AccountList, errors=(401, 403))
    def list_accounts(self, request: Any) -> dict:
        return self._call("accounts", "accounts", request.principal)

    @route("POST", "/accounts", "Invite someone: create their account with roles", "accounts",
           allow=LEAD, body=account.Invite, response=account.AccountView, status=201,
           errors=(401, 403, 409))
    def invite(self, request: Any) -> dict:
        return self._call("accounts", "invite", request.principal, request.data_in)

    @route("GET", "/accounts/<account_id>", "One account", "accounts", allow=LEAD,
           response=account.AccountView, errors=(401, 403, 404))
    def get_account(self, request: Any, account_id: str) -> dict:
        return self._call("accounts", "account", request.principal, account_id)

    @route("POST", "/accounts/<account_id>/grants", "Grant a role", "accounts", allow=LEAD,
           body=account.Grant, response=account.AccountView, errors=(401, 403, 404, 409))
    def grant(self, request: Any, account_id: str) -> dict:
        return self._call("accounts", "grant", request.principal, account_id, request.data_in)

    @route("POST", "/accounts/<account_id>/revocations", "Take a role away", "accounts",
           allow=LEAD, body=account.Grant, response=account.AccountView, errors=(401, 403, 404, 409))
    def revoke(self, request: Any, account_id: str) -> dict:
        return self._call("accounts", "revoke", request.principal, account_id, request.data_in)

    @route("POST", "/accounts/<account_id>/closure", "Close an account", "accounts", allow=LEAD,
           response=account.AccountView, errors=(401, 403, 404, 409))
    def close(self, request: Any, account_id: str) -> dict:
        return self._call("accounts", "close_account", request.principal, account_id)

    # -- personal data: subject access and erasure -----------------------------------

    @route("GET", "/people/personal-data", "Everything held about a person, in every service",
           "people", allow=LEAD, query=account.Person, response=account.SubjectAccessExport,
           errors=(401, 403))
    def personal_data(self, request: Any) -> dict:
        subjects = subjects_of(request.data_in)
        records = [record for service in PERSONAL_DATA_SERVICES
                   for record in self._call(service, "personal_data", request.principal, subjects)]
        return {"subjects": subjects, "records": records}

    @route("POST", "/people/erasure", "Erase a person's personal data everywhere", "people",
           allow=LEAD, body=account.ErasureRequest, response=account.ErasureView, status=202,
           errors=(401, 403))
    def erase_person(self, request: Any) -> dict:
        data = {"subjects": subjects_of(request.data_in), "reason": request.data_in["reason"]}
        return self._call("accounts", "erase_person", request.principal, data)

    # -- schools and pledges -------------------------------------------------------

    @route("POST", "/schools", "Register a school", "schools", allow=SCHOOL_STAFF,
           body=school.RegisterSchool, response=school.SchoolView, status=201, errors=(401, 403, 409))
    def register_school(self, request: Any) -> dict:
        return self._call("pledges", "register_school", request.principal, request.data_in)

    @route("GET", "/schools", "List schools (a coordinator sees their own)", "schools",
           allow=LEAD | COORDINATORS, query=school.SchoolQuery, response=school.SchoolList,
           errors=(401, 403))
    def list_schools(self, request: Any) -> dict:
        return self._call("pledges", "schools", request.principal, request.data_in)

    @route("GET", "/schools/<urn>", "One school and its pledge", "schools", allow=SCHOOL_STAFF,
           response=school.SchoolView, errors=(401, 403, 404))
    def get_school(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "school", request.principal, urn)

    @route("GET", "/schools/<urn>/history", "Every change to a school, with who and when",
           "schools", allow=SCHOOL_STAFF, response=school.SchoolHistory, errors=(401, 403, 404))
    def school_history(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "history", request.principal, urn)

    @route("POST", "/schools/<urn>/interest", "Record that the school has expressed interest",
           "pledges", allow=SCHOOL_STAFF, body=school.ExpressInterest, response=school.SchoolView,
           errors=(401, 403, 404, 409))
    def express_interest(self, request: Any, urn: str) -> dict:
        return self._command("express_interest", request, urn)

    @route("POST", "/schools/<urn>/commitments",
           "Record a commitment (SLT, governors or head teacher)", "pledges", allow=SCHOOL_STAFF,
           body=school.RecordCommitment, response=school.SchoolView, errors=(401, 403, 404, 409))
    def record_commitment(self, request: Any, urn: str) -> dict:
        return self._command("record_commitment", request, urn)

    @route("POST", "/schools/<urn>/pledge", "Sign the pledge", "pledges", allow=SCHOOL_STAFF,
           body=school.SignPledge, response=school.SchoolView, errors=(401, 403, 404, 409))
    def sign_pledge(self, request: Any, urn: str) -> dict:
        return self._command("sign_pledge", request, urn)

    @route("POST", "/schools/<urn>/pledge/renewal", "Renew the pledge", "pledges",
           allow=SCHOOL_STAFF, body=school.RenewPledge, response=school.SchoolView,
           errors=(401, 403, 404, 409))
    def renew_pledge(self, request: Any, urn: str) -> dict:
        return self._command("renew_pledge", request, urn)

    @route("POST", "/schools/<urn>/pledge/withdrawal", "Withdraw the pledge", "pledges",
           allow=SCHOOL_STAFF, body=school.WithdrawPledge, response=school.SchoolView,
           errors=(401, 403, 404, 409))
    def withdraw_pledge(self, request: Any, urn: str) -> dict:
        return self._command("withdraw_pledge", request, urn)

    @route("PUT", "/schools/<urn>/newsletter", "Subscribe to or leave the newsletter", "pledges",
           allow=SCHOOL_STAFF, body=school.Newsletter, response=school.SchoolView,
           errors=(401, 403, 404))
    def set_newsletter(self, request: Any, urn: str) -> dict:
        return self._command("set_newsletter", request, urn)

    @route("PUT", "/schools/<urn>/coordinator", "Change the school's coordinator", "schools",
           allow=SCHOOL_STAFF, body=school.ChangeCoordinator, response=school.SchoolView,
           errors=(401, 403, 404))
    def change_coordinator(self, request: Any, urn: str) -> dict:
        return self._command("change_coordinator", request, urn)

    def _command(self, method: str, request: Any, urn: str) -> dict:
        return self._call("pledges", method, request.principal, urn, request.data_in)

    # -- applications ----------------------------------------------------------------

    @route("GET", "/schools/<urn>/eligibility",
           "Whether the school may start an application (its pledge as the applications "
           "service knows it)", "applications", allow=SCHOOL_STAFF, response=PledgeStandingView,
           errors=(401, 403, 404))
    def eligibility(self, request: Any, urn: str) -> dict:
        return self._call("applications", "pledge_standing", request.principal, urn)

    # -- the system ------------------------------------------------------------------

    @route("GET", "/health", "Each service reachable, and its relay's lag", "system", allow=PUBLIC)
    def health(self, request: Any) -> Any:
        services = {name: self._health_of(name) for name in SERVICES}
        healthy = all(s.get("reachable") for s in services.values())
        return json_response(200 if healthy else 503,
                             {"status": "ok" if healthy else "degraded", "services": services})

    def _health_of(self, name: str) -> dict:
        try:
            return {"reachable": True, **self._call(name, "health", timeout=HEALTH_TIMEOUT)}
        except Unavailable:
            return {"reachable": False, "error": "did not answer in time"}
        except Exception as error:  # noqa: BLE001 - health reports a failing service, never fails itself
            return {"reachable": False, "error": f"its health check failed: {type(error).__name__}"}

    @route("GET", "/notifications", "The delivery log: what was sent to whom, when, and what failed",
           "system", allow=LEAD, query=notes.LogQuery, response=notes.DeliveryLog, errors=(401, 403))
    def delivery_log(self, request: Any) -> dict:
        return self._call("notifications", "delivery_log", request.principal, request.data_in)

    @route("GET", "/metrics", "The gateway's Prometheus metrics", "system", allow=OPERATOR | LEAD,
           errors=(401, 403))
    def metrics(self, request: Any) -> Response:
        body, content_type = exposition()
        return Response(body, content_type=content_type)

    @route("GET", "/openapi.json", "This document", "system", allow=PUBLIC)
    def openapi(self, request: Any) -> dict:
        return build_openapi(ROUTES, "Schools of Sanctuary", version())
