"""The lead fixes a panel's membership in a browser: a member's page to correct their
lived-experience flag, and a page that asks before removing them. Once the panel has
convened, each change asks why, and the applications service checks the composition
rule again (the same computation as convening); a refusal shows the form again and
changes nothing."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.web.lead_pages import PANEL
from services.gateway.web.pages import field_errors, page, redirect, render
from shared.access import LEAD
from shared.errors import Conflict, Invalid, NotFound

MEMBER = f"{PANEL}/members/<account>"


class PanelMemberPages:
    _current_cycle: Any
    clients: Clients

    @page("GET", "/lead/panels", allow=LEAD)
    def lead_panels_now(self, request: Any) -> Response:
        """The navigation's "Panels": this school year's panels."""
        return redirect(f"/lead/panels/{self._current_cycle().school_year}")

    def _member(self, request: Any, year: str, stage: str, account: str) -> tuple[dict, dict]:
        panel = self.clients.applications.panel(request.principal, year, stage)
        member = next((m for m in panel["members"] if m["account"] == account), None)
        if member is None:
            raise NotFound("That person is not a member of this panel.")
        names = {a["id"]: a for a in self.clients.accounts.accounts(request.principal)["accounts"]}
        known = names.get(account, {})
        return panel, {**member, "name": member["name"] or known.get("name", "A panel member"),
                       "email": known.get("email", "")}

    def _member_page(self, request: Any, template: str, year: str, stage: str, account: str,
                     errors: dict | None = None) -> Response:
        panel, member = self._member(request, year, stage, account)
        values = dict(request.form) if errors else {
            "lived_experience": "yes" if member["lived_experience"] else "no"}
        return render(request, template, status=422 if errors else 200, errors=errors or {},
                      values=values, panel=panel, member=member, year=year, stage=stage)

    def _member_change(self, request: Any, template: str, year: str, stage: str, account: str,
                       command: Any, message: str) -> Response:
        try:
            command()
        except (Invalid, Conflict) as error:
            errors = field_errors(error)
            if "members" in errors:  # the composition rule: said against the form's button
                errors = {"change": errors.pop("members"), **errors}
            return self._member_page(request, template, year, stage, account, errors)
        return redirect(f"/lead/panels/{year}/{stage}", message)

    @page("GET", MEMBER, allow=LEAD)
    def lead_panel_member_page(self, request: Any, year: str, stage: str, account: str) -> Response:
        return self._member_page(request, "lead/panel_member.html", year, stage, account)

    @page("POST", MEMBER, allow=LEAD)
    def lead_correct_panel_member(self, request: Any, year: str, stage: str, account: str) -> Response:
        form = request.form
        if form.get("lived_experience") not in ("yes", "no"):
            return self._member_page(request, "lead/panel_member.html", year, stage, account, {
                "lived_experience": "Say whether they have lived experience of seeking sanctuary"})
        body = {"lived_experience": form["lived_experience"] == "yes",
                "reason": form.get("reason", "").strip() or None}
        return self._member_change(
            request, "lead/panel_member.html", year, stage, account,
            lambda: self.clients.applications.correct_panel_member(request.principal, year, stage,
                                                                   account, body),
            "The member's lived experience is corrected.")

    @page("GET", f"{MEMBER}/removal", allow=LEAD)
    def lead_remove_panel_member_page(self, request: Any, year: str, stage: str, account: str) -> Response:
        return self._member_page(request, "lead/remove_panel_member.html", year, stage, account)

    @page("POST", f"{MEMBER}/removal", allow=LEAD)
    def lead_remove_panel_member(self, request: Any, year: str, stage: str, account: str) -> Response:
        body = {"reason": request.form.get("reason", "").strip() or None}
        return self._member_change(
            request, "lead/remove_panel_member.html", year, stage, account,
            lambda: self.clients.applications.remove_panel_member(request.principal, year, stage,
                                                                  account, body),
            "The member is removed from the panel.")

