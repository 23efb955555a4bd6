"""A panel member's pages in a browser: signing in by the emailed link, the
appraisal list, the conflict-of-interest declaration (naming the school) before
anything of the school's work is shown, the application as submitted, a
judgement on every criterion, notes, both read back and filled in again, and
recording the school visit at the final stage, once the system's clock has
moved on to the visit's day (a rehearsal clock: a visit is recorded only then). A conflicted member
is shown nothing of the school's evidence. The school's work and the lead's
steps are set up through the JSON API; what the pages did is checked there too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import Api, E2ESystem, Person
from tests.e2e.test_access import link_in, request_link
from tests.e2e.test_journey import VISIT_MORNING, People, ensure_panel, pledge

pytestmark = pytest.mark.e2e

URN = "640001"
YEAR = "2026-27"
APP = f"/schools/{URN}/applications/{YEAR}"
DRAFT = f"/panel/{URN}/{YEAR}/draft"
SUBMITTED = {"learn-1": "Whole-staff training log", "embed-3": "Welcome pack for new arrivals",
             "share-6": "Pledge on the school website"}
LATER = "Poster added after the draft was sent"  # never shown to the panel for the draft


@dataclass(frozen=True)
class Setting:
    people: People
    criteria: list[str]

    @property
    def lead(self) -> Api:
        return self.people.lead

    def appraisal(self, stage: str = "draft") -> dict:
        return self.lead.ok(self.lead.get(f"{APP}/appraisals/{stage}"))


@pytest.fixture(scope="module")
def setting(system: E2ESystem) -> Setting:
    """School 640001 pledged, audited with evidence for three criteria, its draft
    submitted and assigned to a convened draft panel of three (Mo with lived experience)."""
    def member(handle: str, name: str, token: bool) -> Person:
        return system.add_account(f"{handle}@panel-pages.e2e.example.org", name,
                                  [{"role": "panel_member"}], token_label="e2e" if token else None)
    mo, nia, oz = member("mo", "Mo Member", False), member("nia", "Nia Member", True), \
        member("oz", "Oz Member", True)
    people = People(system, mo, nia, oz, oz, member("pat", "Pat Member", True))
    pledge(people, URN)
    school = people.school(URN)
    view = school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)
    for code, title in SUBMITTED.items():
        school.ok(school.call("PUT", f"{APP}/audit", json={
            "criterion": code, "status": "met", "practice": f"Our practice for {code}"}))
        school.ok(school.post(f"{APP}/evidence", {"criterion": code, "title": title,
                                                  "detail": "Minutes and photos"}), 201)
    school.ok(school.post(f"{APP}/submissions", {"stage": "draft"}))
    school.ok(school.post(f"{APP}/evidence", {"criterion": "learn-1", "title": LATER}), 201)
    ensure_panel(people, "draft")
    people.lead.ok(people.lead.post(f"/cycles/{YEAR}/panels/draft/assignments/{URN}"))
    return Setting(people, list(view["audit"]))


def signed_in_by_link(system: E2ESystem, person: Visitor, who: Person) -> None:
    """The member follows the link emailed to them (asking for it by the form is
    test_signing_in's subject)."""
    person.open(f"/sign-in?link={link_in(request_link(system, who.email)[1])}")
    person.click("Sign in", label="signed in")


def test_a_member_declares_no_conflict_and_judges_every_criterion(system: E2ESystem, visit,
                                                                  setting: Setting) -> None:
    mo = setting.people.m1
    person: Visitor = visit()
    signed_in_by_link(system, person, mo)
    assert person.page.url.endswith("/panel")
    assert person.heading() == "Your appraisals"
    assert "Declare interests first" in person.text()

    person.click(f"School {URN} (draft application {YEAR})")
    assert person.heading() == "Declare any conflict of interest"
    assert f"School {URN} (URN {URN}), draft application {YEAR}" in person.text()  # which school
    assert not any(title in person.text() for title in SUBMITTED)  # nothing of its work before declaring
    person.click("Send my declaration", label="declaration, nothing chosen")
    assert person.error_summary() == ["Select whether you have a conflict of interest"]
    person.choose("No, I have no connection with the school")
    person.click("Send my declaration")
    assert person.heading() == f"School {URN}: draft application"
    text = person.text()
    assert "You declared no conflict of interest." in text
    assert all(title in text for title in SUBMITTED) and LATER not in text  # as submitted
    assert [h.strip() for h in person.page.locator("main h3").all_inner_texts()] == [
        "Learn", "Embed", "Share"]
    assert "0 of 8 criteria judged" in text

    person.click("Start judging")
    assert person.heading() == "Learn 1: Training and expertise"
    assert SUBMITTED["learn-1"] in person.text()
    person.click("Save and continue", label="judgement, nothing chosen")
    assert person.error_summary() == ["Select whether Learn 1 is met or not yet met",
                                      "Enter a comment saying why"]
    assert mo.id not in setting.appraisal()["judgements"]  # the refused form recorded nothing

    for number, code in enumerate(setting.criteria, 1):
        assert person.page.url.endswith(f"/criteria/{code}")
        person.choose("Not yet met" if code == "embed-5" else "Met")
        person.fill("Your comment", f"Mo on {code}")
        last = number == len(setting.criteria)
        person.click("Save judgement" if last else "Save and continue")
    assert person.heading() == f"School {URN}: draft application"
    assert "8 of 8 criteria judged" in person.text()

    person.click("Write your notes on this application")
    person.fill("Strengths", "A warm welcome at the gate")
    person.fill("Questions for the school", "Who leads on pupil voice?")
    person.click("Save notes")
    assert "Your notes are saved." in person.text()
    assert "Your judgement: Not yet met. Mo on embed-5" in person.text()  # read back, criterion by criterion
    assert "A warm welcome at the gate" in person.text()

    person.click("Change your judgement of Embed 5", label="an earlier judgement, filled in")
    assert person.page.get_by_label("Not yet met", exact=True).is_checked()
    assert person.page.get_by_label("Your comment", exact=True).input_value() == "Mo on embed-5"
    person.open(f"{DRAFT}/notes", label="earlier notes, filled in")
    assert person.page.get_by_label("Strengths", exact=True).input_value() == "A warm welcome at the gate"
    assert person.page.get_by_label("Questions for the school", exact=True).input_value() == (
        "Who leads on pupil voice?")

    appraisal = setting.appraisal()
    assert appraisal["declarations"][mo.id] == {"conflicted": False, "interests": ""}
    assert appraisal["judgements"][mo.id] == {
        code: {"outcome": "not_yet_met" if code == "embed-5" else "met", "comment": f"Mo on {code}"}
        for code in setting.criteria}
    assert appraisal["notes"][mo.id] == {"strengths": "A warm welcome at the gate", "improvements": "",
                                         "questions": "Who leads on pupil voice?"}
    person.open("/panel", label="appraisals, all judged")
    assert "All criteria judged" in person.text()


def test_a_conflicted_member_sees_nothing_of_the_school(system: E2ESystem, visit,
                                                        setting: Setting) -> None:
    nia = setting.people.m2
    person: Visitor = visit("phone").sign_in_as(nia)
    person.open(DRAFT)
    person.choose("Yes, I have a conflict of interest")
    person.click("Send my declaration", label="conflict, not described")
    assert person.error_summary() == ["Describe your connection to the school"]
    assert nia.id not in setting.appraisal()["declarations"]

    person.fill("If you have a conflict of interest, describe your connection with the school",
                "My son is in Year 8 there")
    person.click("Send my declaration")
    assert person.heading() == "You are excluded from this appraisal"
    assert setting.appraisal()["declarations"][nia.id] == {"conflicted": True,
                                                           "interests": "My son is in Year 8 there"}
    for path in (DRAFT, f"{DRAFT}/criteria/learn-1", f"{DRAFT}/notes"):
        response = person.page.goto(system.base_url + path)
        person.checked(f"conflicted {path}")
        text = person.text()
        assert not any(title in text for title in SUBMITTED) and f"School {URN}" not in text
        if path != DRAFT:
            assert response.status == 403 and person.heading() == "You cannot use this page"
            assert "conflict of interest" in text

    coordinator: Visitor = visit().sign_in_as(system.coordinator(URN))
    response = coordinator.page.goto(system.base_url + DRAFT)
    coordinator.checked("coordinator on a panel page")
    assert response.status == 403 and coordinator.heading() == "You cannot use this page"


def test_a_member_of_the_final_panel_records_the_visit(system: E2ESystem, visit,
                                                       setting: Setting) -> None:
    people, lead = setting.people, setting.lead
    # nia is conflicted: a fourth member joins so that three clear members decide
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/draft/members", {"account": people.m4.id,
                                                                 "lived_experience": False,
                                                                 "reason": "Nia is conflicted"}))
    for member in (people.m3, people.m4):  # the other members judge through the API
        api = people.api(member)
        api.ok(api.post(f"{APP}/appraisals/draft/declaration", {"conflicted": False}))
        for code in setting.criteria:
            api.ok(api.post(f"{APP}/appraisals/draft/judgements",
                            {"criterion": code, "outcome": "met", "comment": f"{member.name} on {code}"}))
    lead.ok(lead.post(f"{APP}/appraisals/draft/outcome", {
        "criteria": {c: {"outcome": "met", "comment": "Agreed"} for c in setting.criteria},
        "overall": "further_evidence", "members": [people.m1.id, people.m3.id, people.m4.id]}))
    lead.ok(lead.post(f"{APP}/feedback/draft", {"summary": "A strong start"}))
    school = people.school(URN)
    school.ok(school.post(f"{APP}/submissions", {"stage": "final"}))
    ensure_panel(people, "final")
    lead.ok(lead.post(f"/cycles/{YEAR}/panels/final/assignments/{URN}"))
    nia = people.api(people.m2)
    nia.ok(nia.post(f"{APP}/appraisals/final/declaration", {"conflicted": False}))
    lead.ok(lead.post(f"{APP}/visit", {"on": "2027-06-15"}))
    system.move_clock(VISIT_MORNING)  # the visit is recorded once its day has come

    person: Visitor = visit().sign_in_as(people.m2)
    person.open(f"/panel/{URN}/{YEAR}/final")
    assert person.heading() == f"School {URN}: final application"
    assert "The visit is on Tuesday 15 June 2027." in person.text()
    person.click("Record the visit")
    person.fill("Who took part", "Nia Member\nHead teacher\nSchool council")
    person.fill("Notes from the visit", "Pupils led the tour")
    person.click("Record the visit", label="visit recorded")
    assert "The visit is recorded." in person.text()
    visit_record = lead.ok(lead.get(APP))["visit"]
    assert visit_record == {"on": "2027-06-15", "attendees": ["Nia Member", "Head teacher", "School council"],
                            "notes": "Pupils led the tour", "recorded": True}
