"""A school's home follows its journey (issue 16, items 7 and 8), in a browser, on a rehearsal
clock from 1 March 2027 moved on to the visit's day: before the award the home says what to do
next; the coordinator withdraws a piece of evidence after a page that asks; after the award the
home shows the award, its dates, the certificate, the invitation to celebrate (accepted there,
where its email links) and the renewal date, and no longer the "still missing" list; the lead
sees the answer and the certificate on the celebration page; the year's application is read
back; the pledge is renewed and withdrawn, each refused first without its answer (nothing
changes). Earlier stages run through the JSON API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import Api, E2ESystem, Person, rehearsal, wait_for
from tests.e2e.test_journey import (
    SPRING,
    YEAR,
    People,
    agree_clear,
    app_path,
    ensure_panel,
    to_draft_assigned,
    today,
    visited_and_decided,
)

pytestmark = pytest.mark.e2e
PHONE_FITS = True

URN = "640201"  # no other e2e test uses 6402xx
HOME = f"/school/{URN}"
CODE = "celebration"


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    yield from rehearsal(module_amqp_uri, tmp_path_factory, SPRING)


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    def member(handle: str, name: str) -> Person:
        return system.add_account(f"{handle}@journey-pages.e2e.example.org", name, [{"role": "panel_member"}])
    return People(system, member("ava", "Ava Member"), member("bo", "Bo Member"),
                  member("cy", "Cy Member"), member("di", "Di Outsider"))


def invitation_status(school: Api) -> str | None:
    items = school.ok(school.get(f"/schools/{URN}/invitations"))["items"]
    return items[0]["status"] if items else None


def test_a_school_from_its_draft_to_its_award_and_celebration(system: E2ESystem, visit,
                                                                people: People) -> None:
    lead, school, path = people.lead, people.school(URN), app_path(URN)
    to_draft_assigned(people, URN)
    coordinator: Visitor = visit("phone").sign_in_as(system.coordinator(URN))
    coordinator.open(HOME, label="home, draft with the panel")
    assert "What to do next" in coordinator.text()
    assert "The panel is appraising your application" in coordinator.text()

    agree_clear(people, URN, "draft", "further_evidence")
    lead.ok(lead.post(f"{path}/feedback/draft", {"summary": "A good start"}))
    extra = school.ok(school.post(f"{path}/evidence", {"criterion": "learn-1", "title": "Old photo"}), 201)
    [photo] = [e for e in extra["evidence"] if e["title"] == "Old photo"]
    coordinator.open(HOME, label="home, feedback released")
    assert "Read the panel's feedback, then see what is still missing and submit your final application" \
        in coordinator.text()

    # withdrawing evidence asks first
    coordinator.open(f"{HOME}/application/{YEAR}/audit/learn-1")
    coordinator.page.locator("#withdraw-evidence summary").click()
    coordinator.click("Withdraw evidence “Old photo”")
    assert coordinator.heading() == "Are you sure you want to withdraw “Old photo”?"
    coordinator.click("Yes, withdraw it")
    assert "“Old photo” is withdrawn from the application." in coordinator.text()
    evidence = {e["id"]: e for e in school.ok(school.get(path))["evidence"]}
    assert evidence[photo["id"]]["withdrawn"] is True
    position = lead.applications_position()
    coordinator.open(f"{HOME}/application/{YEAR}/withdrawals/{photo['id']}", label="withdrawn already")
    assert "This evidence is withdrawn already." in coordinator.text()
    assert coordinator.page.get_by_role("button", name="Yes, withdraw it").count() == 0
    assert lead.applications_position() == position

    school.ok(school.post(f"{path}/submissions", {"stage": "final"}))
    ensure_panel(people, "final")
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/final/assignments/{URN}"))
    agree_clear(people, URN, "final", "award")
    assert visited_and_decided(people, URN)["stage"] == "awarded"
    wait_for(lambda: invitation_status(school) == "waiting", 30, "the invitation to wait for a date")

    # the lead's celebration page: waiting for a date, then scheduled
    lead_page: Visitor = visit().sign_in_as(system.lead)
    lead_page.open("/lead")
    lead_page.click("Celebrating awards")
    assert lead_page.heading() == "Celebrating awards"
    assert f"School {URN}" in lead_page.text() and "Waiting for a date" in lead_page.text()
    lead_page.click("Schedule a celebration")
    assert "session" in lead_page.heading().lower()
    day = today(system) + dt.timedelta(days=60)
    lead.ok(lead.post(f"/programme/{CODE}/sessions", {"date": day.isoformat(), "start": "18:00",
                                                      "end": "20:00"}), 201)
    wait_for(lambda: invitation_status(school) == "invited", 30, "the invitation to go out")

    # the school's home after the award
    coordinator.open(HOME, label="home, awarded")
    text = coordinator.text()
    assert "A School of Sanctuary" in text and "What to do next" not in text
    assert "What is still missing" not in text
    expires = dt.date.fromisoformat(school.ok(school.get(path))["award"]["expires_on"])
    assert f"Runs until\n{expires:%A} {expires.day} {expires:%B %Y}" in text
    assert f"Apply to renew your award before {expires:%A} {expires.day} {expires:%B %Y}" in text
    assert f"on {day:%A} {day.day} {day:%B %Y} at 18:00" in text
    certificate = coordinator.page.get_by_role("link", name="Download your certificate (PDF)")
    response = coordinator.page.request.get(system.base_url + certificate.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    coordinator.click("Accept the invitation")
    assert "You have accepted the invitation to celebrate." in coordinator.text()
    assert invitation_status(school) == "accepted"
    assert coordinator.page.get_by_role("button", name="Accept the invitation").count() == 0

    lead_page.open("/lead/celebration", label="celebration, accepted")
    row = lead_page.page.locator("#invitations tbody tr").filter(has_text=f"School {URN}").inner_text()
    assert "Accepted" in row
    assert lead_page.page.get_by_role("link", name=f"Certificate of School {URN} (PDF)").count() == 1

    # reading the year's application back
    coordinator.open(HOME)
    coordinator.click(f"Read your {YEAR} application")
    assert coordinator.heading() == f"Your {YEAR} application"
    assert "Training log" in coordinator.text() and "Old photo" not in coordinator.text()


def test_the_school_renews_then_withdraws_its_pledge(system: E2ESystem, visit, people: People) -> None:
    pledges = Api(system)
    coordinator: Visitor = visit("phone").sign_in_as(system.coordinator(URN))
    before = pledges.ok(pledges.get(f"/schools/{URN}"))
    coordinator.open(HOME)
    coordinator.click("Renew the pledge")
    coordinator.fill("Their role", "Head teacher")
    coordinator.click("Renew the pledge", label="renewal refused, no name")
    assert coordinator.error_summary() == ["Enter the name of the person renewing the pledge"]
    assert pledges.ok(pledges.get(f"/schools/{URN}")) == before
    coordinator.fill("Name of the person renewing the pledge", "Cara Head")
    coordinator.click("Renew the pledge")
    assert "Your school's pledge is renewed." in coordinator.text()
    renewed = pledges.ok(pledges.get(f"/schools/{URN}"))
    assert renewed["pledge"] != before["pledge"] and renewed["status"] == "signed"

    coordinator.click("Withdraw the pledge")
    assert coordinator.heading() == "Are you sure you want to withdraw your school's pledge?"
    coordinator.click("Yes, withdraw the pledge", label="withdrawal refused, no reason")
    assert coordinator.error_summary() == ["Enter why your school is withdrawing its pledge"]
    assert pledges.ok(pledges.get(f"/schools/{URN}")) == renewed
    coordinator.fill("Why is your school withdrawing its pledge?", "Merging with another school")
    coordinator.click("Yes, withdraw the pledge")
    assert "Your school's pledge is withdrawn." in coordinator.text()
    assert pledges.ok(pledges.get(f"/schools/{URN}"))["status"] == "withdrawn"
    assert coordinator.page.get_by_role("link", name="Withdraw the pledge").count() == 0
