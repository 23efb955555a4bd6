"""The local lead's schools: registering a school and inviting its coordinator in one
form, and one school's page: its pledge, its applications of every year, its CPD
record, the emails sent to it and its history.

Registering is two services' work (pledges registers the school, accounts invites
the coordinator). When the second step fails the school stays registered, the page
says so, and the lead can try the invitation alone again.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.web.filters import plain_date
from services.gateway.web.lead_pages import LOOKUPS, names_of, who_did
from services.gateway.web.pages import field_errors, form_date, page, redirect, render
from services.gateway.web.people_pages import form_messages
from services.gateway.web.school_pages import PHASE_LABELS, given, require_fields
from shared.access import LEAD
from shared.errors import Conflict, DomainError, Invalid, NotFound, Unavailable

log = logging.getLogger(__name__)

SCHOOL = "/lead/schools/<urn>"
EMAILS_SHOWN = 50
REQUIRED = {"urn": "Enter the school's 6-digit URN", "name": "Enter the school's name",
            "phase": "Select the school's phase", "postcode": "Enter the school's postcode",
            "coordinator.name": "Enter the coordinator's full name",
            "coordinator.email": "Enter the coordinator's email address"}


def registration_from(form: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """The school and its coordinator as the pledges service takes them, and what is missing."""
    errors = {name: message for name, message in REQUIRED.items() if not form.get(name, "").strip()}
    coordinator = {k: form.get(f"coordinator.{k}", "").strip() for k in ("name", "email", "role")}
    body = {"urn": form.get("urn", "").strip(), "name": form.get("name", "").strip(),
            "phase": form.get("phase", ""), "postcode": form.get("postcode", "").strip(),
            "coordinator": {k: v for k, v in coordinator.items() if v}}
    return body, errors


def invite_coordinator(clients: Any, principal: dict, urn: str, contact: Mapping[str, Any]) -> str | None:
    """Give the school's coordinator an account (or the coordinator role on the account
    their address has already). Returns what went wrong, or None."""
    grant = {"role": "coordinator", "urn": urn}
    email = str(contact.get("email", "")).strip().lower()
    try:
        known = next((a for a in clients.accounts.accounts(principal)["accounts"]
                      if str(a["email"]).lower() == email), None)
        if known is None:
            clients.accounts.invite(principal, {"name": contact["name"], "email": contact["email"],
                                                "grants": [grant]})
        elif known["closed"]:
            return (f"The account of {contact['email']} is closed. Change the school's coordinator to "
                    "another address, then invite them.")
        elif grant not in known["grants"]:
            clients.accounts.grant(principal, known["id"], grant)
    except (DomainError, Unavailable) as error:
        log.warning("inviting the coordinator of %s failed: %s", urn, error)
        return error.message
    return None


def in_words(event: str) -> str:
    """'PledgeSigned' as 'Pledge signed'."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", event).capitalize()


def coordinator_accounts(accounts: list[dict], urn: str) -> list[dict]:
    return [a for a in accounts if not a["closed"]
            and any(g["role"] == "coordinator" and g.get("urn") == urn for g in a["grants"])]


class LeadSchoolPages:
    clients: Any
    _authority: Any  # the authority's file, as LeadPages reads it

    # -- registering a school and its coordinator --------------------------------------

    @page("GET", "/lead/schools/new", allow=LEAD)
    def lead_register_school_page(self, request: Any) -> Response:
        return render(request, "lead/register_school.html", phases=PHASE_LABELS)

    @page("POST", "/lead/schools/new", allow=LEAD)
    def lead_register_school(self, request: Any) -> Response:
        again = functools.partial(render, request, "lead/register_school.html", status=422,
                                  phases=PHASE_LABELS, values=dict(request.form))
        body, errors = registration_from(request.form)
        if errors:
            return again(errors=errors)
        try:
            school = self.clients.pledges.register_school(request.principal, body)
        except (Invalid, Conflict) as error:
            return again(errors=form_messages(error))
        return self._invited(request, school)

    def _invited(self, request: Any, school: dict) -> Response:
        """The second step: the coordinator's account. Failing, the school's page says so."""
        failed = invite_coordinator(self.clients, request.principal, school["urn"], school["coordinator"])
        if failed:
            return self._lead_school_page(request, school["urn"], {
                "invite": f"{school['name']} is registered, but its coordinator was not invited: {failed}"})
        return redirect(f"/lead/schools/{school['urn']}",
                        f"{school['name']} is registered and {school['coordinator']['name']} is invited "
                        "as its coordinator.")

    @page("POST", f"{SCHOOL}/invitation", allow=LEAD)
    def lead_invite_coordinator(self, request: Any, urn: str) -> Response:
        school = self.clients.pledges.school(request.principal, urn)
        failed = invite_coordinator(self.clients, request.principal, urn, school["coordinator"])
        if failed:
            return self._lead_school_page(request, urn,
                                          {"invite": f"The coordinator was not invited: {failed}"})
        return redirect(f"/lead/schools/{urn}", f"{school['coordinator']['name']} is invited as the "
                                                "coordinator.")

    # -- a pledge signed before, from the lead's earlier records --------------------------

    @page("POST", f"{SCHOOL}/pledge-import", allow=LEAD)
    def lead_import_pledge(self, request: Any, urn: str) -> Response:
        """Recorded as an import: its own day, lapsing by it; no thanks or starter pack sent."""
        form = request.form
        try:
            require_fields(form, ("signed_by", "role"))
            data = {**given(form, "signed_by", "role"),
                    "signed_on": form_date(form, "signed_on", "the date it was signed")}
            school = self.clients.pledges.import_pledge(request.principal, urn, data)
        except (Invalid, Conflict) as error:
            return self._lead_school_page(request, urn, field_errors(error), values=dict(form), status=422)
        return redirect(f"/lead/schools/{urn}", f"{school['name']}'s pledge, signed on "
                                                f"{plain_date(school['pledge']['signed_on'])}, is recorded. "
                                                "Nothing was sent to the school.")

    # -- one school -------------------------------------------------------------------

    @page("GET", SCHOOL, allow=LEAD)
    def lead_school_page(self, request: Any, urn: str) -> Response:
        return self._lead_school_page(request, urn)

    def _lead_school_page(self, request: Any, urn: str, errors: dict | None = None,
                          values: dict | None = None, status: int = 200) -> Response:
        principal = request.principal
        school = self.clients.pledges.school(principal, urn)
        accounts = self.clients.accounts.accounts(principal)["accounts"]
        coordinators = coordinator_accounts(accounts, urn)
        addresses = {str(a["email"]).lower() for a in coordinators}
        addresses.add(str(school["coordinator"]["email"]).lower())
        emails = [e for e in self.clients.notifications.delivery_log(principal, {})["items"]
                  if str(e["to"]).lower() in addresses]
        return render(request, "lead/school.html", status=status, errors=errors or {}, values=values or {},
                      **LOOKUPS, school=school, phases=PHASE_LABELS, coordinators=coordinators,
                      invited=any(a["email"].lower() == school["coordinator"]["email"].lower()
                                  for a in coordinators),
                      applications=self._applications_of(principal, urn),
                      record=self.clients.events.school_record(principal, urn)["items"],
                      emails=emails[:EMAILS_SHOWN], email_count=len(emails),
                      history=[{**h, "what": in_words(h["event"])}
                               for h in self.clients.pledges.history(principal, urn)["history"]],
                      who=who_did(names_of(accounts)))

    def _applications_of(self, principal: dict, urn: str) -> list[dict]:
        """The school's application in each school year the authority has run, newest first
        (each year's overview, narrowed to the school: no query asks by school)."""
        found = []
        for cycle in reversed(self._authority().cycles):
            try:
                overview = self.clients.applications.cycle_overview(principal, cycle.school_year)
            except NotFound:
                continue
            found += [{**row, "school_year": cycle.school_year}
                      for row in overview["applications"] if row["urn"] == urn]
        return found
