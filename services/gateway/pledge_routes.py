"""Gateway routes for schools and their pledges.

Mixed into the gateway service, whose ``clients`` make the RPCs; each route's
access rule and schemas come from the operation it names.
"""

from __future__ import annotations

from typing import Any

from services.applications.api import ApplicationsApi
from services.gateway.clients import Clients
from services.gateway.routes import route
from services.pledges.api import PledgesApi as Pledges


class PledgeRoutes:
    _call: Any
    clients: Clients

    # -- schools and pledges -------------------------------------------------------

    @route("POST", "/schools", "Register a school", "schools", op=Pledges.register_school, status=201,
           errors=(401, 403, 409))
    def register_school(self, request: Any) -> dict:
        return self.clients.pledges.register_school(request.principal, request.data_in)

    @route("GET", "/schools", "List schools (a coordinator sees their own)", "schools",
           op=Pledges.schools, errors=(401, 403))
    def list_schools(self, request: Any) -> dict:
        return self.clients.pledges.schools(request.principal, request.data_in)

    @route("GET", "/schools/<urn>", "One school and its pledge", "schools", op=Pledges.school,
           errors=(401, 403, 404))
    def get_school(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.school(request.principal, urn)

    @route("GET", "/schools/<urn>/history", "Every change to a school, with who and when",
           "schools", op=Pledges.history, errors=(401, 403, 404))
    def school_history(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.history(request.principal, urn)

    @route("POST", "/schools/<urn>/interest", "Record that the school has expressed interest",
           "pledges", op=Pledges.express_interest, errors=(401, 403, 404, 409))
    def express_interest(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.express_interest(request.principal, urn, request.data_in)

    @route("POST", "/schools/<urn>/commitments",
           "Record a commitment (SLT, governors or head teacher)", "pledges",
           op=Pledges.record_commitment, errors=(401, 403, 404, 409))
    def record_commitment(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.record_commitment(request.principal, urn, request.data_in)

    @route("POST", "/schools/<urn>/pledge", "Sign the pledge", "pledges", op=Pledges.sign_pledge,
           errors=(401, 403, 404, 409))
    def sign_pledge(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.sign_pledge(request.principal, urn, request.data_in)

    @route("POST", "/schools/<urn>/pledge/import", "Record a pledge signed before (from earlier records: "
           "no thanks or starter pack is sent)", "pledges", op=Pledges.import_pledge,
           errors=(401, 403, 404, 409))
    def import_pledge(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.import_pledge(request.principal, urn, request.data_in)

    @route("POST", "/schools/<urn>/pledge/renewal", "Renew the pledge", "pledges",
           op=Pledges.renew_pledge, errors=(401, 403, 404, 409))
    def renew_pledge(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.renew_pledge(request.principal, urn, request.data_in)

    @route("POST", "/schools/<urn>/pledge/withdrawal", "Withdraw the pledge", "pledges",
           op=Pledges.withdraw_pledge, errors=(401, 403, 404, 409))
    def withdraw_pledge(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.withdraw_pledge(request.principal, urn, request.data_in)

    @route("PUT", "/schools/<urn>/newsletter", "Subscribe to or leave the newsletter", "pledges",
           op=Pledges.set_newsletter, errors=(401, 403, 404))
    def set_newsletter(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.set_newsletter(request.principal, urn, request.data_in)

    @route("PUT", "/schools/<urn>/coordinator", "Change the school's coordinator", "schools",
           op=Pledges.change_coordinator, errors=(401, 403, 404))
    def change_coordinator(self, request: Any, urn: str) -> dict:
        return self.clients.pledges.change_coordinator(request.principal, urn, request.data_in)

    # -- applications ----------------------------------------------------------------

    @route("GET", "/schools/<urn>/eligibility",
           "Whether the school may start an application (its pledge as the applications "
           "service knows it)", "applications", op=ApplicationsApi.pledge_standing,
           errors=(401, 403, 404))
    def eligibility(self, request: Any, urn: str) -> dict:
        return self.clients.applications.pledge_standing(request.principal, urn)
