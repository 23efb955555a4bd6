"""A school coordinator in the browser: registering the school, the pledge step by
step, the 2026-27 application (audit, evidence, action plan, what is missing before
the deadline, the draft submitted), then the panel's feedback once the lead has
released it. Each change is checked through the API; a refused form changes nothing,
and another school's pages are refused."""

from __future__ import annotations

import pytest

from services.gateway.web.filters import days_left
from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import Api, E2ESystem, Person, wait_for

pytestmark = pytest.mark.e2e

URN = "620001"  # this module's schools are 62xxxx
OTHER = "620002"
YEAR = "2026-27"
HOME = f"/school/{URN}"
APP = f"/schools/{URN}/applications/{YEAR}"
NOT_YET = "embed-5"


def coordinator_in_browser(system: E2ESystem, visit) -> tuple[Visitor, Api]:
    coordinator = system.coordinator(URN)
    return visit().sign_in_as(coordinator), Api(system, coordinator)


def test_a_coordinator_pledges_and_prepares_the_draft(system: E2ESystem, visit) -> None:
    person, school = coordinator_in_browser(system, visit)
    person.open(HOME)
    assert person.heading() == "Register your school"
    person.click("Register the school", label="register, nothing entered")
    assert person.error_summary() == ["Enter the school's name", "Select the school's phase",
                                      "Enter the school's postcode", "Enter your email address"]
    assert school.get(f"/schools/{URN}").status_code == 404  # nothing was registered

    person.fill("School name", "Hill Primary")
    person.choose("Primary")
    person.fill("Postcode", "cv1 2ab")
    person.fill("Your email address", "hill.coordinator@e2e.example.org")
    person.click("Register the school")
    assert person.heading() == "Hill Primary" and "Your school is registered." in person.text()

    person.click("Tell us your school is interested")
    person.click("Record our interest")
    for who, given_by in (("the senior leadership team", "Sam Senior"), ("the governors", "Gil Governor")):
        person.click(f"Record the commitment of {who}")
        person.fill("Name of the person who gave it", given_by)
        person.fill("Their role", "Chair")
        person.click("Record the commitment")
        assert f"The commitment of {who} is recorded." in person.text()
    person.click("Sign the pledge")
    person.fill("Name of the person signing", "Hana Head")
    person.fill("Their role", "Head teacher")
    person.click("Sign the pledge", label="pledge signed")
    signed = school.ok(school.get(f"/schools/{URN}"))
    assert (signed["status"], signed["postcode"], signed["pledge"]["signed_by"]) == (
        "signed", "CV1 2AB", "Hana Head")
    assert sorted(c["body"] for c in signed["commitments"]) == ["governors", "slt"]

    start = f"Start your {YEAR} application"
    wait_for(lambda: person.page.goto(system.base_url + HOME) and person.page.get_by_role(
        "button", name=start).count(), 30,
             "the applications service to hear of the pledge")
    person.click(start)
    assert school.ok(school.get(APP))["stage"] == "started"

    person.click("Audit and evidence")
    assert person.page.locator("main h2").all_inner_texts() == ["Learn", "Embed", "Share"]
    person.click("Record the audit of Learn 1: Training and expertise")
    person.fill("What your school does now", "Whole-staff training every autumn")
    person.click("Save the audit", label="audit, no status")
    assert person.error_summary() == ["Select how far your school has got"]
    assert school.ok(school.get(APP))["audit"]["learn-1"] == {
        "status": "not_started", "practice": "", "next_steps": ""}  # the refused form changed nothing
    person.choose("Met")
    person.click("Save the audit")
    assert school.ok(school.get(APP))["audit"]["learn-1"]["status"] == "met"

    person.click("Add evidence for Learn 1: Training and expertise")
    person.fill("Title", "Staff training log")
    person.click("Add evidence")
    assert "Staff training log" in person.text()

    person.open(HOME)
    person.click("Action plan")
    person.click("Plan an action")
    person.page.get_by_label("Criterion", exact=True).select_option("embed-5")
    person.fill("Action", "Start a pupil welcome council")
    person.fill("Who will do it", "Year 6 lead")
    person.click("Save the action")
    assert "Start a pupil welcome council" in person.text()
    assert [a["criterion"] for a in school.ok(school.get(APP))["actions"]] == ["embed-5"]

    person.open(HOME)
    person.click("What is still missing")
    text = person.text()
    assert f"due by Thursday 25 March 2027 ({days_left('2027-03-25')})" in text
    assert "Learn 2: Learning about forced migration" in text and "No evidence yet" in text

    person.open(HOME)
    person.click("Submit the draft application")
    assert person.heading() == "Check your draft application before you submit it"
    person.click("Submit the draft application", label="draft submitted")
    assert "Your draft application has been submitted." in person.text()
    view = school.ok(school.get(APP))
    assert view["stage"] == "draft_submitted" and len(view["submissions"][0]["evidence"]) == 1


def release_draft_feedback(system: E2ESystem) -> None:
    """The lead's part, by API and kept short: a draft panel of three, who declare no conflict,
    the outcome the three agreed, released."""
    lead = Api(system)
    members: list[Person] = [system.add_account(f"panel{n}@school-pages.e2e.example.org", f"Panel {n}",
                                                [{"role": "panel_member"}]) for n in range(3)]
    panel = f"/cycles/{YEAR}/panels/draft"
    lead.ok(lead.post(panel), 201)
    for n, member in enumerate(members):
        lead.ok(lead.post(f"{panel}/members", {"account": member.id, "lived_experience": n == 0}))
    lead.ok(lead.post(f"{panel}/convening"))
    lead.ok(lead.post(f"{panel}/assignments/{URN}"))
    appraisal = f"{APP}/appraisals/draft"
    for person in members:  # three clear of conflict: enough to decide
        member = Api(system, person)
        member.ok(member.post(f"{appraisal}/declaration", {"conflicted": False}))
    criteria = list(lead.ok(lead.get(APP))["audit"])
    lead.ok(lead.post(f"{appraisal}/outcome", {
        "criteria": {c: {"outcome": "not_yet_met" if c == NOT_YET else "met", "comment": f"Panel on {c}"}
                     for c in criteria},
        "overall": "further_evidence", "members": [m.id for m in members]}))
    lead.ok(lead.post(f"{APP}/feedback/draft", {"summary": "A strong start; more on pupil voice"}))


def test_the_coordinator_reads_the_released_feedback(system: E2ESystem, visit) -> None:
    person, school = coordinator_in_browser(system, visit)
    person.open(f"{HOME}/application/{YEAR}/feedback", label="feedback not yet released")
    assert "not ready yet" in person.text()
    release_draft_feedback(system)

    person.open(HOME)
    person.click("Feedback from the panel")
    text = person.text()
    assert "A strong start; more on pupil voice" in text
    row = person.page.get_by_role("row", name="Embed 5: Pupil voice")
    assert "Not yet met" in row.inner_text() and f"Panel on {NOT_YET}" in row.inner_text()
    assert sorted(person.page.locator("main .govuk-tag").all_inner_texts()) == ["Met"] * 7 + ["Not yet met"]
    released = school.ok(school.get(APP))["feedback"]["draft"]["criteria"]
    assert released[NOT_YET]["outcome"] == "not_yet_met"


def test_another_schools_pages_are_refused(system: E2ESystem, visit) -> None:
    person, _ = coordinator_in_browser(system, visit)
    for path in (f"/school/{OTHER}", f"/school/{OTHER}/application/{YEAR}/audit"):
        response = person.page.goto(system.base_url + path)
        person.checked("another school's page")
        assert response is not None and response.status == 403
        assert person.heading() == "You cannot use this page"
