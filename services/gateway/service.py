"""The gateway: the only public HTTP entry. JSON in and out, validated with the
owning service's own schemas, forwarded over nameko RPC, errors mapped to HTTP.

Authentication arrives in one place here (``actor_of``): until accounts exist
the acting person is taken from the ``X-Actor`` header, "anonymous" without it.
"""

from __future__ import annotations

from typing import Any

import eventlet
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy

from services.applications.schemas import PledgeStandingView
from services.gateway.openapi import build_openapi
from services.gateway.routes import ROUTES, json_response, route
from services.pledges import schemas as school
from shared.runtime import settings_of
from shared.schema import Text

SERVICES = ("pledges", "applications")
HEALTH_TIMEOUT = 2.0
_ACTOR = Text(200)


def actor_of(request: Any) -> str:
    value = request.headers.get("X-Actor", "anonymous")
    return _ACTOR.deserialize(value, "X-Actor") if value else "anonymous"


class GatewayService:
    name = "gateway"
    pledges = RpcProxy("pledges")
    applications = RpcProxy("applications")

    config = Config()

    def _call(self, service: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        """An RPC that gives up after a while: a 503 beats a request hanging forever."""
        with eventlet.Timeout(timeout or settings_of(self.config).rpc_timeout):
            return getattr(getattr(self, service), method)(*args)

    # -- schools and pledges -------------------------------------------------------

    @route("POST", "/schools", "Register a school", "schools", body=school.RegisterSchool,
           response=school.SchoolView, status=201, errors=(409,))
    def register_school(self, request: Any) -> dict:
        return self._call("pledges", "register_school", actor_of(request), request.data_in)

    @route("GET", "/schools", "List schools, optionally by pledge status", "schools",
           query=school.SchoolQuery, response=school.SchoolList)
    def list_schools(self, request: Any) -> dict:
        return self._call("pledges", "schools", request.data_in)

    @route("GET", "/schools/<urn>", "One school and its pledge", "schools",
           response=school.SchoolView, errors=(404,))
    def get_school(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "school", urn)

    @route("GET", "/schools/<urn>/history", "Every change to a school, with who and when",
           "schools", response=school.SchoolHistory, errors=(404,))
    def school_history(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "history", urn)

    @route("POST", "/schools/<urn>/interest", "Record that the school has expressed interest",
           "pledges", body=school.ExpressInterest, response=school.SchoolView, errors=(404, 409))
    def express_interest(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "express_interest", actor_of(request), urn, request.data_in)

    @route("POST", "/schools/<urn>/commitments",
           "Record a commitment (SLT, governors or head teacher)", "pledges",
           body=school.RecordCommitment, response=school.SchoolView, errors=(404, 409))
    def record_commitment(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "record_commitment", actor_of(request), urn, request.data_in)

    @route("POST", "/schools/<urn>/pledge", "Sign the pledge", "pledges",
           body=school.SignPledge, response=school.SchoolView, errors=(404, 409))
    def sign_pledge(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "sign_pledge", actor_of(request), urn, request.data_in)

    @route("POST", "/schools/<urn>/pledge/renewal", "Renew the pledge", "pledges",
           body=school.RenewPledge, response=school.SchoolView, errors=(404, 409))
    def renew_pledge(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "renew_pledge", actor_of(request), urn, request.data_in)

    @route("POST", "/schools/<urn>/pledge/withdrawal", "Withdraw the pledge", "pledges",
           body=school.WithdrawPledge, response=school.SchoolView, errors=(404, 409))
    def withdraw_pledge(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "withdraw_pledge", actor_of(request), urn, request.data_in)

    @route("PUT", "/schools/<urn>/newsletter", "Subscribe to or leave the newsletter", "pledges",
           body=school.Newsletter, response=school.SchoolView, errors=(404,))
    def set_newsletter(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "set_newsletter", actor_of(request), urn, request.data_in)

    @route("PUT", "/schools/<urn>/coordinator", "Change the school's coordinator", "schools",
           body=school.ChangeCoordinator, response=school.SchoolView, errors=(404,))
    def change_coordinator(self, request: Any, urn: str) -> dict:
        return self._call("pledges", "change_coordinator", actor_of(request), urn, request.data_in)

    # -- applications ----------------------------------------------------------------

    @route("GET", "/schools/<urn>/eligibility",
           "Whether the school may start an application (its pledge as the applications "
           "service knows it)", "applications", response=PledgeStandingView, errors=(404,))
    def eligibility(self, request: Any, urn: str) -> dict:
        return self._call("applications", "pledge_standing", urn)

    # -- the system ------------------------------------------------------------------

    @route("GET", "/health", "Each service reachable, and its relay's lag", "system")
    def health(self, request: Any) -> Any:
        services = {name: self._health_of(name) for name in SERVICES}
        healthy = all(s.get("reachable") for s in services.values())
        return json_response(200 if healthy else 503,
                             {"status": "ok" if healthy else "degraded", "services": services})

    def _health_of(self, name: str) -> dict:
        try:
            return {"reachable": True, **self._call(name, "health", timeout=HEALTH_TIMEOUT)}
        except eventlet.Timeout:
            return {"reachable": False, "error": "did not answer in time"}

    @route("GET", "/openapi.json", "This document", "system")
    def openapi(self, request: Any) -> dict:
        return build_openapi(ROUTES, "Schools of Sanctuary", "0.1.0")
