"""The lead's "To confirm" page: what the authority's file marks as assumed (term dates,
criteria wording, dates kept as published), each with its value as the file has it and why
it needs checking, until the lead confirms it in the file (shared/assumed.py)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.web.pages import page, render
from shared.access import LEAD


class ConfirmPages:
    _authority: Any  # the authority's file, as LeadPages reads it

    @page("GET", "/lead/to-confirm", allow=LEAD)
    def lead_to_confirm_page(self, request: Any) -> Response:
        authority = self._authority()
        return render(request, "lead/to_confirm.html", authority=authority, items=authority.to_confirm)
