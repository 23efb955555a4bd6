"""What a lead hands to a manager or a committee: CSV files of the schools with their
pledge and this year's application stage, of each year's applications with their
dates and outcomes, and of a session's bookings and attendance; and a printable
summary of a cycle. Each CSV cell is neutralised against formulas (spreadsheet.py)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.clients import Clients
from services.gateway.web.cpd_pages import programme_view
from services.gateway.web.lead_pages import PLEDGE_TEXT, STAGE_TEXT, SUBMISSIONS, key_dates, school_year_of
from services.gateway.web.meeting_pages import school_names
from services.gateway.web.pages import page, render
from services.gateway.web.spreadsheet import csv_download
from shared.access import LEAD
from shared.authority import Authority, Cycle, load_authority
from shared.clock import system_clock
from shared.errors import NotFound
from shared.runtime import settings_of

OUTCOMES = {"awarded": "Awarded", "not_awarded": "Not awarded", "further_evidence": "Further evidence due",
            "withdrawn": "Withdrawn"}
ATTENDANCE = {"attended": "Attended", "absent": "Did not attend"}
BOOKING_STATUS = {"booked": "Booked", "waiting": "Waiting list", "offered": "Place offered",
                  "cancelled": "Cancelled", "offer_expired": "Offer expired", "attended": "Booked",
                  "absent": "Booked"}
SCHOOLS = ("School", "URN", "Phase", "Postcode", "Pledge status", "Interest expressed on", "Pledge signed on",
           "Pledge renewed on", "Pledge lapses on", "Coordinator", "Coordinator email")
APPLICATIONS = ("School", "URN", "Stage", "Outcome", "Next submission", "Deadline", "Extended to", "Late")
BOOKINGS = ("Name", "Email", "School", "URN", "Booking", "Attendance")


@functools.lru_cache(maxsize=4)
def _authority_file(path: Path) -> Authority:
    return load_authority(path)


def text_of(table: dict[str, tuple[str, str]], key: str | None) -> str:
    return table[key][0] if key in table else (key or "")


def school_row(school: dict, application: dict | None) -> list:
    pledge = school.get("pledge") or {}
    coordinator = school.get("coordinator") or {}
    applying = application or {"stage": None, "next_submission": None, "deadline": None}
    return [school["name"], school["urn"], school.get("phase"), school.get("postcode"),
            text_of(PLEDGE_TEXT, school["status"]), school.get("interest_on"), pledge.get("signed_on"),
            pledge.get("renewed_on"), pledge.get("lapses_on"), coordinator.get("name"),
            coordinator.get("email"), text_of(STAGE_TEXT, applying["stage"]) or "Not started",
            SUBMISSIONS.get(applying["next_submission"] or ""), applying["deadline"]]


def application_row(row: dict) -> list:
    return [row["school_name"], row["urn"], text_of(STAGE_TEXT, row["stage"]),
            OUTCOMES.get(row["stage"], "In progress"), SUBMISSIONS.get(row["next_submission"] or ""),
            row["deadline"],
            row["extension"], row["late"]]


def booking_row(booking: dict, names: dict[str, str]) -> list:
    person = booking["person"] if isinstance(booking["person"], dict) else {"name": booking["person"]}
    return [person.get("name"), person.get("email"), names.get(booking["urn"], ""), booking["urn"],
            BOOKING_STATUS.get(booking["status"], booking["status"]), ATTENDANCE.get(booking["status"], "")]


def in_school_year(day: str | None, year: str) -> bool:
    return day is not None and school_year_of(dt.date.fromisoformat(day)) == year


class ExportPages:
    clients: Clients
    config: Any
    _call: Any

    def _export_authority(self) -> Authority:
        given = self.config.get("SANCTUARY_AUTHORITY")
        return given or _authority_file(Path(settings_of(self.config).authority_file))

    def _export_cycle(self, year: str) -> Cycle:
        try:
            return self._export_authority().cycle(year)
        except KeyError:
            raise NotFound(f"No {year} cycle is set up.", "year") from None

    def _overview(self, request: Any, year: str) -> dict:
        """The applications service's overview of a cycle (urn, school_name, stage,
        next_submission, deadline, late, extension)."""
        return self.clients.applications.cycle_overview(request.principal, year)

    def _this_year(self) -> str:
        authority = self._export_authority()
        year = school_year_of(system_clock().today(authority.timezone))
        years = [c.school_year for c in authority.cycles]
        return year if year in years else years[-1]

    def _filename(self, *parts: str) -> str:
        return "-".join((self._export_authority().slug, *parts)) + ".csv"

    @page("GET", "/lead/exports", allow=LEAD)
    def lead_exports_page(self, request: Any) -> Response:
        programme = programme_view(self.clients.events.programme(None)["items"])
        sessions = [(e, s) for e in programme if e["bookable"] for s in e["sessions"]]
        return render(request, "exports/index.html", cycles=self._export_authority().cycles,
                      this_year=self._this_year(), sessions=sessions)

    @page("GET", "/lead/exports/schools.csv", allow=LEAD)
    def lead_export_schools(self, request: Any) -> Response:
        year = self._this_year()
        applying = {r["urn"]: r for r in self._overview(request, year)["applications"]}
        schools = sorted(self.clients.pledges.schools(request.principal, {})["schools"],
                         key=lambda s: s["name"].lower())
        header = (*SCHOOLS, f"{year} application stage", "Next submission", "Deadline")
        rows = [school_row(s, applying.get(s["urn"])) for s in schools]
        return csv_download(self._filename("schools", system_clock().today().isoformat()), header, rows)

    @page("GET", "/lead/exports/applications-<year>.csv", allow=LEAD)
    def lead_export_applications(self, request: Any, year: str) -> Response:
        self._export_cycle(year)
        rows = [application_row(r) for r in self._overview(request, year)["applications"]]
        return csv_download(self._filename("applications", year), APPLICATIONS, rows)

    @page("GET", "/lead/exports/sessions/<code>/<session_id>.csv", allow=LEAD)
    def lead_export_bookings(self, request: Any, code: str, session_id: str) -> Response:
        event = self.clients.events.event(None, code)
        session = next((s for s in event["sessions"] if s["id"] == session_id), None)
        if session is None:
            raise NotFound("There is no such session in the programme.", "session")
        bookings = self.clients.events.bookings(request.principal, code, session_id)["items"]
        names = school_names(self.clients, request.principal)
        day = session["date"] or session["month"] or "date-tbc"
        return csv_download(self._filename("bookings", code, day), BOOKINGS,
                            [booking_row(b, names) for b in bookings])

    @page("GET", "/lead/exports/cycle/<year>", allow=LEAD)
    def lead_cycle_summary(self, request: Any, year: str) -> Response:
        cycle = self._export_cycle(year)
        overview = self._overview(request, year)
        schools = self.clients.pledges.schools(request.principal, {})["schools"]
        pledges: dict[str, int] = {}
        for school in schools:
            pledges[school["status"]] = pledges.get(school["status"], 0) + 1
        programme = {(e["code"], s["id"]): (e, s) for e in programme_view(
            self.clients.events.programme(None)["items"]) for s in e["sessions"]}
        cpd = []
        for entry in self.clients.events.bookings_by_session(request.principal)["items"]:
            event, session = programme[entry["code"], entry["session"]]
            if in_school_year(session["date"], year) and session["status"] != "cancelled":
                statuses = [b["status"] for b in entry["bookings"]]
                cpd.append({"title": event["title"], "when": session["when"],
                            "booked": sum(s in ("booked", "attended", "absent") for s in statuses),
                            "attended": statuses.count("attended")})
        return render(request, "exports/cycle.html", authority=self._export_authority(), cycle=cycle,
                      overview=overview, dates=key_dates(cycle, dt.date.min), pledges=pledges,
                      schools=len(schools), cpd=cpd, stage_text=STAGE_TEXT, pledge_text=PLEDGE_TEXT,
                      outcomes=OUTCOMES)
