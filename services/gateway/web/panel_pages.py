"""Pages for panel members: their appraisals; the conflict-of-interest
declaration, which comes before anything of the school is shown; the
application as submitted, grouped Learn, Embed, Share; a judgement per
criterion (one page each); their notes; and the school visit (final stage).

Who may see what is the appraisal's business (member of that panel, declared,
not conflicted): these pages ask the applications service, whose refusals
become 403 pages. A member's own earlier answers (judgements, notes) come back
pre-filled, from the service's record of them.
"""

from __future__ import annotations

import functools
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.web.pages import page, render, submit
from services.gateway.web.portfolio_pages import with_file_links
from shared.access import PANEL_MEMBERS
from shared.authority import Authority, load_authority
from shared.errors import Invalid, NotFound
from shared.runtime import settings_of

APPRAISAL = "/panel/<urn>/<year>/<any(draft, final):stage>"
PRINCIPLES = ("learn", "embed", "share")
OUTCOMES = [("met", "Met", "The school's evidence shows it meets this criterion"),
            ("not_yet_met", "Not yet met", "The school needs to do more, or show more, for this criterion")]
OUTCOME_TEXT = {code: text for code, text, _ in OUTCOMES}
AUDIT_STATUS = {"not_started": "Not started", "developing": "Developing", "met": "Met"}


@functools.lru_cache(maxsize=4)
def _authority_file(path: str) -> Authority:
    return load_authority(path)


def required(form: Any, checks: dict[str, str]) -> None:
    """GOV.UK messages for fields left empty, before asking the service."""
    missing = {name: [message] for name, message in checks.items() if not form.get(name, "").strip()}
    if missing:
        raise Invalid("Some answers are missing.", missing)


def criterion_name(code: str) -> str:
    """'learn-1' -> 'Learn 1'."""
    principle, _, number = code.partition("-")
    return f"{principle.title()} {number}"


def criteria_of(authority: Authority | None, view: dict) -> list[dict]:
    """Each criterion as submitted (its audit and evidence), in the criteria set's order."""
    known: dict[str, Any] = {}
    if authority is not None:
        try:
            known = {c.code: c for c in authority.criteria(view.get("criteria_version", "")).criteria}
        except KeyError:
            pass
    order = list(known)

    def position(code: str) -> tuple:
        principle, _, number = code.partition("-")
        rank = PRINCIPLES.index(principle) if principle in PRINCIPLES else len(PRINCIPLES)
        return (order.index(code) if code in order else len(order), rank, number)

    items = []
    for code in sorted(view["audit"], key=position):
        known_one = known.get(code)
        items.append({
            "code": code, "name": criterion_name(code), "principle": code.partition("-")[0],
            "title": known_one.title if known_one else "",
            "description": known_one.description if known_one else "",
            "audit": view["audit"][code],
            "evidence": [e for e in view["evidence"] if e["criterion"] == code]})
    return items


def grouped(criteria: list[dict]) -> list[tuple[str, list[dict]]]:
    """Learn, Embed, Share (and any other principle after them), each with its criteria."""
    names = list(PRINCIPLES) + sorted({c["principle"] for c in criteria} - set(PRINCIPLES))
    groups = [(name.title(), [c for c in criteria if c["principle"] == name]) for name in names]
    return [group for group in groups if group[1]]


class PanelPages:
    clients: Clients
    config: Any

    # -- asking the applications service ---------------------------------------------------

    def _panel_authority(self) -> Authority | None:
        given = self.config.get("SANCTUARY_AUTHORITY")
        if given is not None:
            return given
        try:
            return _authority_file(str(settings_of(self.config).authority_file))
        except Exception:  # noqa: BLE001 - without titles the pages still work, by code
            return None

    def _my_appraisal(self, request: Any, urn: str, year: str, stage: str) -> dict:
        """This member's part in the appraisal: the school's name, how far they have got,
        their declaration, judgements and notes. Someone not on its panel is refused."""
        return self.clients.applications.my_appraisal(request.principal, urn, year, stage)

    def _as_submitted(self, request: Any, urn: str, year: str, stage: str) -> dict:
        view = self.clients.applications.for_panel_member(request.principal, urn, year, stage)
        return with_file_links(view)  # each file's link and thumbnail (portfolio_pages)

    def _appraisal_context(self, request: Any, urn: str, year: str, stage: str) -> dict:
        view = self._as_submitted(request, urn, year, stage)
        criteria = criteria_of(self._panel_authority(), view)
        return {"urn": urn, "year": year, "stage": stage, "view": view, "criteria": criteria,
                "base": f"/panel/{urn}/{year}/{stage}", "audit_status": AUDIT_STATUS}

    # -- the list -------------------------------------------------------------------------

    @page("GET", "/panel", allow=PANEL_MEMBERS)
    def panel_home(self, request: Any) -> Response:
        items = self.clients.applications.my_appraisals(request.principal)["items"]
        items = sorted(items, key=lambda a: (a["agreed"], a["school_year"], a["stage"], a["urn"]))
        return render(request, "panel/appraisals.html", appraisals=items)

    # -- one appraisal: the declaration first ------------------------------------------------

    @page("GET", APPRAISAL, allow=PANEL_MEMBERS)
    def panel_appraisal(self, request: Any, urn: str, year: str, stage: str) -> Response:
        summary = self._my_appraisal(request, urn, year, stage)
        if not summary["declared"]:
            return self._declaration_form(request, urn, year, stage, summary=summary)
        if summary["conflicted"]:
            return render(request, "panel/excluded.html", urn=urn, year=year, stage=stage)
        context = self._appraisal_context(request, urn, year, stage)
        return render(request, "panel/appraisal.html", summary=summary,
                      groups=grouped(context["criteria"]), outcome_text=OUTCOME_TEXT, **context)

    def _declaration_form(self, request: Any, urn: str, year: str, stage: str, status: int = 200,
                          errors: dict | None = None, summary: dict | None = None) -> Response:
        summary = summary or self._my_appraisal(request, urn, year, stage)
        return render(request, "panel/declaration.html", status=status, errors=errors or {},
                      values=request.form if errors else {}, urn=urn, year=year, stage=stage,
                      school_name=summary["school_name"])

    @page("POST", f"{APPRAISAL}/declaration", allow=PANEL_MEMBERS)
    def panel_declare(self, request: Any, urn: str, year: str, stage: str) -> Response:
        form = request.form
        conflicted = form.get("conflicted") == "yes"

        def declare() -> None:
            required(form, {"conflicted": "Select whether you have a conflict of interest"})
            if conflicted:
                required(form, {"interests": "Describe your connection to the school"})
            self.clients.applications.declare(request.principal, urn, year, stage, {
                "conflicted": conflicted, "interests": form.get("interests", "").strip()})

        message = ("You declared a conflict of interest. You will not see this application."
                   if conflicted else "You declared no conflict of interest.")
        return submit(request, declare, f"/panel/{urn}/{year}/{stage}", message,
                      lambda errors: self._declaration_form(request, urn, year, stage, 422, errors))

    # -- judging, one criterion a page ------------------------------------------------------

    @page("GET", f"{APPRAISAL}/criteria/<criterion>", allow=PANEL_MEMBERS)
    def panel_criterion(self, request: Any, urn: str, year: str, stage: str, criterion: str) -> Response:
        return self._criterion_form(request, urn, year, stage, criterion)

    def _criterion_form(self, request: Any, urn: str, year: str, stage: str, criterion: str,
                        status: int = 200, errors: dict | None = None) -> Response:
        context = self._appraisal_context(request, urn, year, stage)
        codes = [c["code"] for c in context["criteria"]]
        if criterion not in codes:
            raise NotFound(f"This application has no criterion {criterion!r}.")
        index = codes.index(criterion)
        summary = self._my_appraisal(request, urn, year, stage)
        earlier = summary["judgements"].get(criterion, {})  # saving again replaces it
        return render(request, "panel/criterion.html", status=status, errors=errors or {},
                      values=request.form if errors else earlier, criterion=context["criteria"][index],
                      number=index + 1, summary=summary, earlier=earlier, outcomes=OUTCOMES,
                      outcome_text=OUTCOME_TEXT, **context)

    @page("POST", f"{APPRAISAL}/criteria/<criterion>", allow=PANEL_MEMBERS)
    def panel_judge(self, request: Any, urn: str, year: str, stage: str, criterion: str) -> Response:
        form, base = request.form, f"/panel/{urn}/{year}/{stage}"
        codes = [c["code"] for c in self._appraisal_context(request, urn, year, stage)["criteria"]]
        if criterion not in codes:
            raise NotFound(f"This application has no criterion {criterion!r}.")
        following = codes[codes.index(criterion) + 1:]

        def judge() -> None:
            required(form, {"outcome": f"Select whether {criterion_name(criterion)} is met or not yet met",
                            "comment": "Enter a comment saying why"})
            self.clients.applications.judge(request.principal, urn, year, stage, {
                "criterion": criterion, "outcome": form["outcome"], "comment": form["comment"].strip()})

        done = f"{base}/criteria/{following[0]}" if following else base
        return submit(request, judge, done, f"Your judgement of {criterion_name(criterion)} is saved.",
                      lambda errors: self._criterion_form(request, urn, year, stage, criterion, 422,
                                                          errors))

    # -- notes --------------------------------------------------------------------------------

    @page("GET", f"{APPRAISAL}/notes", allow=PANEL_MEMBERS)
    def panel_notes(self, request: Any, urn: str, year: str, stage: str) -> Response:
        return self._notes_form(request, urn, year, stage)

    def _notes_form(self, request: Any, urn: str, year: str, stage: str, status: int = 200,
                    errors: dict | None = None) -> Response:
        context = self._appraisal_context(request, urn, year, stage)
        earlier = self._my_appraisal(request, urn, year, stage)["notes"] or {}  # saving replaces them
        return render(request, "panel/notes.html", status=status, errors=errors or {},
                      values=request.form if errors else earlier, **context)

    @page("POST", f"{APPRAISAL}/notes", allow=PANEL_MEMBERS)
    def panel_note(self, request: Any, urn: str, year: str, stage: str) -> Response:
        form = request.form
        notes = {name: form.get(name, "").strip() for name in ("strengths", "improvements", "questions")}

        def note() -> None:
            if not any(notes.values()):
                raise Invalid("Nothing to save.", {"strengths": [
                    "Enter strengths, areas for improvement or questions"]})
            self.clients.applications.note(request.principal, urn, year, stage, notes)

        return submit(request, note, f"/panel/{urn}/{year}/{stage}", "Your notes are saved.",
                      lambda errors: self._notes_form(request, urn, year, stage, 422, errors))

    # -- the school visit (final stage) ---------------------------------------------------------

    @page("GET", "/panel/<urn>/<year>/visit", allow=PANEL_MEMBERS)
    def panel_visit(self, request: Any, urn: str, year: str) -> Response:
        return self._visit_form(request, urn, year)

    def _visit_form(self, request: Any, urn: str, year: str, status: int = 200,
                    errors: dict | None = None) -> Response:
        context = self._appraisal_context(request, urn, year, "final")
        return render(request, "panel/visit.html", status=status, errors=errors or {},
                      values=request.form if errors else {}, **context)

    @page("POST", "/panel/<urn>/<year>/visit", allow=PANEL_MEMBERS)
    def panel_record_visit(self, request: Any, urn: str, year: str) -> Response:
        form = request.form
        attendees = [line.strip() for line in form.get("attendees", "").splitlines() if line.strip()]

        def record() -> None:
            required(form, {"attendees": "Enter who took part in the visit, one on each line",
                            "notes": "Enter your notes from the visit"})
            self.clients.applications.record_visit(request.principal, urn, year, {
                "attendees": attendees, "notes": form["notes"].strip()})

        return submit(request, record, f"/panel/{urn}/{year}/final", "The visit is recorded.",
                      lambda errors: self._visit_form(request, urn, year, 422, errors))
