"""Exports a lead hands to a manager or a committee, in a browser: the lead finds
Exports in the navigation and downloads the schools (pledge status and this year's
stage), a year's applications (dates and outcomes) and a session's bookings and
attendance as CSV files, whose content is read back; a school's name and a person's
name that would run as spreadsheet formulas arrive neutralised. The printable cycle
summary prints without the service's header. A coordinator is refused all of it.
Every page is checked to fit a 390 px phone."""

from __future__ import annotations

import csv
import io

import pytest

from services.gateway.web.filters import long_date
from shared.clock import Clock
from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import Api, E2ESystem
from tests.e2e.test_journey import People, pledge

pytestmark = pytest.mark.e2e
PHONE_FITS = True  # every page checked: no wider than a 390 px phone

URN, FORMULA_URN = "670001", "670002"
FORMULA_SCHOOL = "=SUM(1+1) Academy"
YEAR = "2026-27"
CODE = "network-meeting"
TITLE = "Schools of Sanctuary – network meeting of local schools"
TODAY = Clock().today()
BOM = "\ufeff"


@pytest.fixture(scope="module")
def setup(system: E2ESystem) -> str:
    """School 670001 pledged with its 2026-27 application started; a school whose name is
    a formula, registered only; a session of today with "@Ann Teacher" booked and attended.
    Returns the session's id."""
    lead = Api(system)
    pledge(People(system, system.lead, system.lead, system.lead, system.lead), URN)
    school = Api(system, system.coordinator(URN))
    school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)
    lead.ok(lead.post("/schools", {"urn": FORMULA_URN, "name": FORMULA_SCHOOL, "phase": "primary",
                                   "postcode": "CV2 2AA",
                                   "coordinator": {"name": "+Cy Coordinator", "email": "cy@example.org"}}),
            201)
    before = {s["id"] for s in lead.ok(lead.get(f"/programme/{CODE}"))["sessions"]}
    added = lead.ok(lead.post(f"/programme/{CODE}/sessions", {"date": TODAY.isoformat()}), 201)
    [session] = [s["id"] for s in added["sessions"] if s["id"] not in before]
    ann = {"urn": URN, "name": "@Ann Teacher", "email": "ann@670001.example.org"}
    booked = school.ok(school.post(f"/programme/{CODE}/sessions/{session}/bookings", ann), 201)
    lead.ok(lead.post(f"/programme/{CODE}/attendance", {"booking_id": booked["id"], "attended": True}))
    return session


def rows_of(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM))))


def download(person: Visitor, name: str) -> tuple[str, str]:
    """Click the download link ``name``; the file's suggested name and its text."""
    with person.page.expect_download() as started:
        person.page.get_by_role("link", name=name, exact=True).click()
    download = started.value
    with open(download.path(), encoding="utf-8") as file:
        return download.suggested_filename, file.read()


def test_the_lead_downloads_each_csv_and_prints_the_cycle_summary(system: E2ESystem, visit,
                                                                 setup: str) -> None:
    lead: Visitor = visit("phone").sign_in_as(system.lead)
    lead.open("/lead")
    lead.click("Exports")
    assert lead.heading() == "Exports"

    name, text = download(lead, f"Schools with their pledge and {YEAR} application stage (CSV)")
    assert name == f"coventry-schools-{TODAY.isoformat()}.csv"
    header, *rows = rows_of(text)
    assert header[:5] == ["School", "URN", "Phase", "Postcode", "Pledge status"]
    assert header[-3:] == [f"{YEAR} application stage", "Next submission", "Deadline"]
    found = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    ours, formula = found[URN], found[FORMULA_URN]
    assert (ours["School"], ours["Pledge status"], ours["Pledge signed on"]) == (
        f"School {URN}", "Pledged", TODAY.isoformat())
    assert (ours[f"{YEAR} application stage"], ours["Next submission"]) == ("Preparing", "Draft application")
    assert (formula["School"], formula["Coordinator"]) == ("'" + FORMULA_SCHOOL, "'+Cy Coordinator")
    assert (formula["Pledge status"], formula[f"{YEAR} application stage"]) == ("Registered", "Not started")

    response = lead.page.request.get(system.base_url + f"/lead/exports/applications-{YEAR}.csv")
    assert response.status == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="coventry-applications-{YEAR}.csv"')
    header, *rows = rows_of(response.text())
    assert header == ["School", "URN", "Stage", "Outcome", "Next submission", "Deadline", "Extended to",
                      "Late"]
    [application] = [dict(zip(header, row, strict=True)) for row in rows if row[1] == URN]
    assert (application["Stage"], application["Outcome"], application["Deadline"], application["Late"]) == (
        "Preparing", "In progress", "2027-03-25", "No")

    name, text = download(lead, f"Download (CSV) bookings for {TITLE}, {long_date(TODAY)}")
    assert name == f"coventry-bookings-{CODE}-{TODAY.isoformat()}.csv"
    header, *rows = rows_of(text)
    assert header == ["Name", "Email", "School", "URN", "Booking", "Attendance"]
    assert rows == [["'@Ann Teacher", "ann@670001.example.org", f"School {URN}", URN, "Booked", "Attended"]]

    lead.click(f"Printable summary of the {YEAR} cycle")
    assert lead.heading() == f"Coventry {YEAR} cycle summary"
    text = lead.text()
    assert "Pledged" in text and "Registered" in text and "Preparing" in text
    assert f"School {URN} (URN {URN})" in text and "Draft applications due" in text
    cpd = lead.page.get_by_role("table", name=f"CPD sessions, {YEAR}").inner_text()
    assert f"{TITLE}, {long_date(TODAY)}" in cpd
    lead.page.emulate_media(media="print")
    assert not lead.page.locator(".govuk-service-navigation").is_visible()
    assert not lead.page.get_by_role("link", name="Back to exports").is_visible()
    assert lead.page.get_by_role("heading", name=f"Coventry {YEAR} cycle summary").is_visible()


def test_a_coordinator_is_refused_the_exports(system: E2ESystem, visit, setup: str) -> None:
    person: Visitor = visit("phone").sign_in_as(system.coordinator(URN))
    for path in ("/lead/exports", "/lead/exports/schools.csv", f"/lead/exports/applications-{YEAR}.csv",
                 f"/lead/exports/sessions/{CODE}/{setup}.csv", f"/lead/exports/cycle/{YEAR}"):
        response = person.page.goto(system.base_url + path)
        assert response.status == 403, path
        assert person.heading() == "You cannot use this page"
    person.checked("exports refused")
    assert "Exports" not in [link.inner_text() for link in person.page.locator("#navigation a").all()]
