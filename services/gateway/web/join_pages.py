"""Schools asking to join: a public page anyone may use without an account, and the
lead's pages to accept (the school is registered and its coordinator invited, in
one step) or decline with a reason. The person is told either way by email (the
notifications service; the address never travels on the bus).

Abuse: the public form carries a signed, timed token (only a page this gateway
served in the last two hours has one), and each client address may post it at most
ATTEMPTS times an hour, and at most REQUESTS requests from it are stored an hour.
Nothing about a school is shown publicly, not even whether it is registered.
"""

from __future__ import annotations

import functools
import secrets
from typing import Any

from itsdangerous import BadSignature, TimestampSigner
from werkzeug.wrappers import Response

from services.gateway.web.lead_school_pages import invite_coordinator
from services.gateway.web.pages import error_page, field_errors, page, redirect, render
from services.gateway.web.people_pages import form_messages
from services.gateway.web.school_pages import PHASE_LABELS
from services.gateway.web.throttle import Throttle, client_address
from shared.access import LEAD, PUBLIC
from shared.errors import Conflict, Invalid

REQUEST = "/lead/join-requests/<request_id>"
ATTEMPTS, REQUESTS, HOUR = 20, 3, 3600.0
TOKEN_AGE = 2 * 3600  # seconds a join form stays usable
_SIGNER = TimestampSigner(secrets.token_bytes(32), salt="sanctuary-join-form")  # this process only
_ATTEMPTS = Throttle(ATTEMPTS, HOUR)
_REQUESTS = Throttle(REQUESTS, HOUR)
REQUIRED = {"school_name": "Enter the school's name", "urn": "Enter the school's 6-digit URN",
            "phase": "Select the school's phase", "postcode": "Enter the school's postcode",
            "name": "Enter your full name", "role": "Enter your role in the school",
            "email": "Enter your email address"}
STATUS_TEXT = {"waiting": ("Waiting", "blue"), "accepted": ("Accepted", "green"),
               "declined": ("Declined", "red")}


def join_form(form: Any, head_required: bool) -> tuple[dict, dict[str, str]]:
    """The public form as the pledges service takes it, and what is missing."""
    errors = {name: message for name, message in REQUIRED.items() if not form.get(name, "").strip()}
    body: dict[str, Any] = {name: form.get(name, "").strip() for name in REQUIRED}
    if head_required:
        if not form.get("head_teacher", "").strip():
            errors["head_teacher"] = "Enter the name of the head teacher who approved this"
        if form.get("head_approval") != "yes":
            errors["head_approval"] = "Confirm that the head teacher has approved the school joining"
        body.update(head_teacher=form.get("head_teacher", "").strip(),
                    head_approval=form.get("head_approval") == "yes")
    return body, errors


def token_is_fresh(token: str) -> bool:
    try:
        _SIGNER.unsign(token, max_age=TOKEN_AGE)
    except BadSignature:  # also when expired (SignatureExpired is one)
        return False
    return True


class JoinPages:
    clients: Any
    _authority: Any  # the authority's file, as LeadPages reads it
    _lead_school_page: Any  # LeadSchoolPages' school page, shown when the invitation fails

    def _head_required(self) -> bool:
        return "head_teacher" in self._authority().pledge.required_commitments

    def _join_page(self, request: Any, status: int = 200, **context: Any) -> Response:
        return render(request, "join.html", status=status, phases=PHASE_LABELS,
                      head_required=self._head_required(), authority=self._authority(),
                      form_token=_SIGNER.sign(b"join").decode(), **context)

    # -- the public page ----------------------------------------------------------------

    @page("GET", "/join", allow=PUBLIC)
    def join_page(self, request: Any) -> Response:
        return self._join_page(request)

    @page("POST", "/join", allow=PUBLIC)
    def ask_to_join(self, request: Any) -> Response:
        address = client_address(request)
        if not _ATTEMPTS.allow(address):
            return self._too_many(request)
        if not token_is_fresh(request.form.get("form_token", "")):
            return error_page(request, 400, "This form has expired",
                              "Go back, reload the page and try again. Nothing was sent.")
        again = functools.partial(self._join_page, request, 422, values=dict(request.form))
        body, errors = join_form(request.form, self._head_required())
        if errors:
            return again(errors=errors)
        if _REQUESTS.full(address):
            return self._too_many(request)
        try:
            self.clients.pledges.ask_to_join(None, body)
        except Invalid as error:
            return again(errors=form_messages(error))
        _REQUESTS.count(address)  # only requests stored count against the address
        return render(request, "join_sent.html", school=body["school_name"], email=body["email"],
                      authority=self._authority())

    def _too_many(self, request: Any) -> Response:
        return error_page(request, 429, "Too many requests",
                          "Too many requests to join have come from your connection. Try again in an "
                          f"hour, or write to {self._authority().contact_email}.")

    # -- the lead's pages ------------------------------------------------------------------

    @page("GET", "/lead/join-requests", allow=LEAD)
    def lead_join_requests_page(self, request: Any) -> Response:
        requests = self.clients.pledges.join_requests(request.principal, {})["requests"]
        return render(request, "lead/join_requests.html", requests=requests, status_text=STATUS_TEXT,
                      phases=PHASE_LABELS)

    @page("GET", REQUEST, allow=LEAD)
    def lead_join_request_page(self, request: Any, request_id: str) -> Response:
        return self._request_page(request, request_id)

    def _request_page(self, request: Any, request_id: str, status: int = 200,
                      errors: dict | None = None) -> Response:
        asked = self.clients.pledges.join_request(request.principal, request_id)
        return render(request, "lead/join_request.html", status=status, errors=errors or {},
                      values=dict(request.form) if errors else {}, asked=asked, status_text=STATUS_TEXT,
                      phases=PHASE_LABELS, head_required=self._head_required())

    @page("POST", f"{REQUEST}/acceptance", allow=LEAD)
    def lead_accept_join_request(self, request: Any, request_id: str) -> Response:
        try:
            asked = self.clients.pledges.accept_join_request(request.principal, request_id)
        except (Invalid, Conflict) as error:
            return self._request_page(request, request_id, 409, {"decide": error.message})
        failed = invite_coordinator(self.clients, request.principal, asked["urn"], asked["contact"])
        if failed:
            return self._lead_school_page(request, asked["urn"], {
                "invite": f"{asked['school_name']} is registered, but its coordinator was not invited: "
                          f"{failed}"})
        return redirect(f"/lead/schools/{asked['urn']}",
                        f"{asked['school_name']} is registered and {asked['contact']['name']} is invited "
                        "as its coordinator. They are told by email.")

    @page("POST", f"{REQUEST}/decline", allow=LEAD)
    def lead_decline_join_request(self, request: Any, request_id: str) -> Response:
        reason = request.form.get("reason", "").strip()
        if not reason:
            return self._request_page(request, request_id, 422, {
                "reason": "Enter the reason, which the person is told"})
        try:
            asked = self.clients.pledges.decline_join_request(request.principal, request_id,
                                                              {"reason": reason})
        except Invalid as error:
            return self._request_page(request, request_id, 422, field_errors(error))
        except Conflict as error:
            return self._request_page(request, request_id, 409, {"decide": error.message})
        return redirect("/lead/join-requests", f"The request from {asked['school_name']} is declined. "
                                               f"{asked['contact']['name']} is told why by email.")
