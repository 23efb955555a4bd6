"""Gateway routes for schools and their pledges.

Mixed into the gateway service, whose ``clients`` make the RPCs.
"""

from __future__ import annotations

from typing import Any

from services.applications.schemas import PledgeStandingView
from services.gateway.routes import route
from services.pledges import schemas as school
from shared.access import ANY_COORDINATOR as COORDINATORS
from shared.access import LEAD, SCHOOL_STAFF


class PledgeRoutes:
    _call: Any

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

