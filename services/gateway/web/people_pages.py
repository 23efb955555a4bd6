"""The local lead's people: every account and its roles; inviting someone with a
role (a panel member with the lived-experience flag the panel rule counts); giving
and taking away roles; closing an account, after a confirmation page.

The accounts service refuses closing your own account and leaving no lead; these
pages only avoid offering it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.web.pages import field_errors, page, redirect, render
from shared.access import LEAD
from shared.errors import Conflict, Invalid

PERSON = "/lead/people/<account_id>"
ROLE_TEXT = {"lead": "Local lead", "coordinator": "Coordinator", "panel_member": "Panel member",
             "operator": "Operator"}
ROLE_OPTIONS = [("coordinator", "Coordinator of a school", "Runs the award at one school: give its URN"),
                ("panel_member", "Panel member", "Appraises applications on a panel"),
                ("lead", "Local lead", "Runs the award for the authority, as you do"),
                ("operator", "Operator", "Looks after the service: health, metrics, backups")]
YES_NO = [("yes", "Yes"), ("no", "No")]
LIVED = "Do they have lived experience of seeking sanctuary?"
LOOKUPS = {"role_text": ROLE_TEXT, "role_options": ROLE_OPTIONS, "yes_no": YES_NO, "lived_question": LIVED}


def role_label(grant: Mapping[str, Any]) -> str:
    text = ROLE_TEXT.get(grant["role"], grant["role"])
    return f"{text} of URN {grant['urn']}" if grant.get("urn") else text


def grant_from(form: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """The role chosen on a form (with its school for a coordinator), and what is missing."""
    role, urn = form.get("role", ""), form.get("urn", "").strip()
    errors = {}
    if role not in ROLE_TEXT:
        errors["role"] = "Select a role"
    elif role == "coordinator" and not (urn.isdigit() and len(urn) == 6):
        errors["urn"] = "Enter the school's 6-digit URN" if not urn else "A URN is exactly 6 digits"
    grant = {"role": role, "urn": urn} if role == "coordinator" else {"role": role}
    return grant, errors


def invitation_from(form: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """The invitation form as the accounts service takes it, and what is missing."""
    name, email = form.get("name", "").strip(), form.get("email", "").strip()
    errors = {}
    if not name:
        errors["name"] = "Enter their full name"
    if not email:
        errors["email"] = "Enter their email address"
    grant, wrong = grant_from(form)
    errors.update(wrong)
    body: dict[str, Any] = {"name": name, "email": email, "grants": [grant]}
    if grant["role"] == "panel_member":
        if form.get("lived_experience") not in ("yes", "no"):
            errors["lived_experience"] = "Say whether they have lived experience of seeking sanctuary"
        body["lived_experience"] = form.get("lived_experience") == "yes"
    return body, errors


BAD_ADDRESS = "Enter an email address in the correct format, like name@example.org"


def form_messages(error: Invalid | Conflict) -> dict[str, str]:
    """The service's refusal against the form's own field names (``grants.0.urn`` is ``urn``),
    an address refused for its form said as GOV.UK says it."""
    errors = {}
    for field, message in field_errors(error).items():
        name = field.rsplit(".", 1)[-1] if field.startswith("grants.") else field
        errors[name] = BAD_ADDRESS if name.endswith("email") and isinstance(error, Invalid) else message
    return errors


class PeoplePages:
    clients: Any

    def _people_page(self, request: Any, template: str, status: int = 200, **context: Any) -> Response:
        return render(request, template, status=status, **LOOKUPS, role_label=role_label, **context)

    @page("GET", "/lead/people", allow=LEAD)
    def lead_people_page(self, request: Any) -> Response:
        accounts = self.clients.accounts.accounts(request.principal)["accounts"]
        accounts.sort(key=lambda a: a["closed"])  # open accounts first, each group by name
        return self._people_page(request, "lead/people.html", accounts=accounts,
                                 me=request.principal["account"])

    # -- inviting ----------------------------------------------------------------------

    @page("GET", "/lead/people/invite", allow=LEAD)
    def lead_invite_page(self, request: Any) -> Response:
        return self._people_page(request, "lead/invite.html")

    @page("POST", "/lead/people/invite", allow=LEAD)
    def lead_invite(self, request: Any) -> Response:
        again = functools.partial(self._people_page, request, "lead/invite.html", 422,
                                  values=dict(request.form))
        body, errors = invitation_from(request.form)
        if errors:
            return again(errors=errors)
        try:
            account = self.clients.accounts.invite(request.principal, body)
        except (Invalid, Conflict) as error:
            return again(errors=form_messages(error))
        told = (f"{account['name']} is invited. We have emailed them how to sign in."
                if account["invitation_sent"] else
                f"{account['name']}'s account is made, but the invitation email could not be sent. "
                "Tell them to sign in with their email address on the sign-in page.")
        return redirect(f"/lead/people/{account['id']}", told)

    # -- one person ----------------------------------------------------------------------

    @page("GET", PERSON, allow=LEAD)
    def lead_person_page(self, request: Any, account_id: str) -> Response:
        return self._person_page(request, account_id)

    def _person_page(self, request: Any, account_id: str, status: int = 200,
                     errors: dict | None = None) -> Response:
        account = self.clients.accounts.account(request.principal, account_id)
        values = dict(request.form) if errors else {}
        if "lived_experience" not in values and account["lived_experience"] is not None:
            values["lived_experience"] = "yes" if account["lived_experience"] else "no"
        return self._people_page(request, "lead/person.html", status=status, errors=errors or {},
                                 values=values, account=account, me=request.principal["account"],
                                 panel_member=any(g["role"] == "panel_member" for g in account["grants"]))

    def _person_form(self, request: Any, account_id: str, action: Any, message: str) -> Response:
        try:
            action()
        except (Invalid, Conflict) as error:
            return self._person_page(request, account_id, 422, form_messages(error))
        return redirect(f"/lead/people/{account_id}", message)

    @page("POST", f"{PERSON}/grants", allow=LEAD)
    def lead_grant_role(self, request: Any, account_id: str) -> Response:
        grant, errors = grant_from(request.form)
        if errors:
            return self._person_page(request, account_id, 422, errors)
        return self._person_form(
            request, account_id,
            lambda: self.clients.accounts.grant(request.principal, account_id, grant),
            f"Role given: {role_label(grant)}.")

    @page("POST", f"{PERSON}/revocations", allow=LEAD)
    def lead_revoke_role(self, request: Any, account_id: str) -> Response:
        grant = {"role": request.form.get("role", "")}
        if request.form.get("urn"):
            grant["urn"] = request.form["urn"]
        return self._person_form(
            request, account_id,
            lambda: self.clients.accounts.revoke(request.principal, account_id, grant),
            f"Role removed: {role_label(grant)}.")

    @page("POST", f"{PERSON}/lived-experience", allow=LEAD)
    def lead_record_lived_experience(self, request: Any, account_id: str) -> Response:
        answer = request.form.get("lived_experience")
        if answer not in ("yes", "no"):
            return self._person_page(request, account_id, 422, {
                "lived_experience": "Say whether they have lived experience of seeking sanctuary"})
        return self._person_form(
            request, account_id,
            lambda: self.clients.accounts.record_lived_experience(
                request.principal, account_id, {"lived_experience": answer == "yes"}),
            "Lived experience recorded.")

    # -- closing an account, after confirming -----------------------------------------------

    @page("GET", f"{PERSON}/closure", allow=LEAD)
    def lead_close_account_page(self, request: Any, account_id: str) -> Response:
        account = self.clients.accounts.account(request.principal, account_id)
        return self._people_page(request, "lead/close_account.html", account=account)

    @page("POST", f"{PERSON}/closure", allow=LEAD)
    def lead_close_account(self, request: Any, account_id: str) -> Response:
        account = self.clients.accounts.account(request.principal, account_id)
        try:
            self.clients.accounts.close_account(request.principal, account_id)
        except Conflict as error:
            return self._people_page(request, "lead/close_account.html", status=409, account=account,
                                     errors={"close": error.message})
        return redirect("/lead/people", f"{account['name']}'s account is closed. They can no longer "
                                        "sign in.")
