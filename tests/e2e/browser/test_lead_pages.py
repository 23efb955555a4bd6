"""The local lead in a browser: the cycle at a glance, a school's application (an
extension, refused without its date), the draft panel formed, filled, refused
convening while too small, convened and assigned; the agreed outcome and the
feedback released; the decision trail and the email delivery log. A coordinator
is refused the lead's pages. Earlier stages are set up through the JSON API."""

from __future__ import annotations

import pytest

from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import Api, E2ESystem, Person, wait_for
from tests.e2e.test_journey import People, pledge

pytestmark = pytest.mark.e2e

URN = "650001"
YEAR = "2026-27"
APP = f"/schools/{URN}/applications/{YEAR}"
PAGE = f"/lead/applications/{URN}/{YEAR}"
NOT_YET = "embed-5"


@pytest.fixture(scope="module")
def members(system: E2ESystem) -> list[Person]:
    return [system.add_account(f"{handle}@lead-pages.e2e.example.org", name, [{"role": "panel_member"}])
            for handle, name in (("lena", "Lena Lived"), ("mark", "Mark Member"), ("cal", "Cal Conflicted"),
                                 ("fay", "Fay Fourth"))]


@pytest.fixture(scope="module")
def school(system: E2ESystem, members: list[Person]) -> Api:
    """School 650001: pledged, its application started, one criterion evidenced, the draft submitted."""
    pledge(People(system, *members[:3], outsider=members[2]), URN)
    school = Api(system, system.coordinator(URN))
    school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)
    school.ok(school.call("PUT", f"{APP}/audit", json={"criterion": "learn-1", "status": "met"}))
    school.ok(school.post(f"{APP}/evidence", {"criterion": "learn-1", "title": "Training log"}), 201)
    school.ok(school.post(f"{APP}/submissions", {"stage": "draft"}))
    return school


def label_of(code: str) -> str:
    principle, number = code.split("-")
    return f"{principle.capitalize()} {number}"


def test_the_lead_sees_the_cycle_and_grants_an_extension(system: E2ESystem, visit, school: Api) -> None:
    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open("/lead")
    assert lead.heading() == "Coventry 2026-27 cycle"
    text = lead.text()
    assert "School 650001" in text and "Draft submitted" in text
    assert "Draft applications due" in text and "Thursday 25 March 2027" in text

    lead.open("/lead/schools")
    assert "School 650001" in lead.text() and "Pledged" in lead.text()
    assert "Draft submitted" in lead.text()
    lead.click("View application from School 650001")
    assert lead.heading() == "School 650001: 2026-27 application"

    position = Api(system).applications_position()
    lead.choose("Final application")
    lead.fill("Reason for the extension", "Ofsted inspection in May")
    lead.click("Grant extension", label="extension refused, no date")
    assert lead.error_summary() == ["Enter the date the extension runs until"]
    assert lead.page.get_by_label("Reason for the extension").input_value() == "Ofsted inspection in May"
    assert Api(system).applications_position() == position
    assert school.ok(school.get(APP))["extensions"] == {}

    lead.fill("Day", "11")
    lead.fill("Month", "6")
    lead.fill("Year", "2027")  # after the final panel meets on 10 June: the lead confirms knowingly
    assert "The final panel meets on Thursday 10 June 2027." in lead.text()
    lead.click("Grant extension", label="extension refused, past the panel meeting")
    assert "Confirm the extension runs past the panel meeting." in lead.error_summary()
    assert Api(system).applications_position() == position
    lead.choose("I know this extension runs past the panel meeting")
    lead.click("Grant extension")
    assert "Extension granted." in lead.text()
    assert "Final application: until Friday 11 June 2027" in lead.text()
    extension = school.ok(school.get(APP))["extensions"]["final"]
    assert (extension["until"], extension["reason"]) == ("2027-06-11", "Ofsted inspection in May")


def test_a_coordinator_cannot_use_the_lead_pages(system: E2ESystem, visit, school: Api) -> None:
    coordinator: Visitor = visit("phone").sign_in_as(system.coordinator(URN))
    response = coordinator.page.goto(system.base_url + "/lead")
    assert response.status == 403
    coordinator.checked("coordinator refused")
    assert coordinator.heading() == "You cannot use this page"


def add_member(lead: Visitor, member: Person, lived: bool) -> None:
    lead.page.get_by_label("Panel member").select_option(label=f"{member.name} ({member.email})")
    lead.choose("Yes" if lived else "No")
    lead.click("Add member")


def test_the_lead_runs_the_draft_panel_and_releases_feedback(system: E2ESystem, visit, school: Api,
                                                             members: list[Person]) -> None:
    lived, member, conflicted, fourth = members
    api = Api(system)
    lead: Visitor = visit().sign_in_as(system.lead)
    lead.open(f"/lead/panels/{YEAR}")
    assert "Not formed yet" in lead.text()
    lead.click("Manage the draft panel")
    assert lead.heading() == "The draft panel, 2026-27"
    lead.click("Form the draft panel")
    assert "The draft panel is formed." in lead.text()

    add_member(lead, lived, True)
    add_member(lead, member, False)
    assert "The draft panel has 2 members, 1 with lived experience" in lead.text()
    position = api.applications_position()
    lead.click("Convene the panel", label="convening refused, two members")
    [error] = lead.error_summary()
    assert "at least 3 members" in error and "it has 2" in error
    assert api.applications_position() == position

    add_member(lead, conflicted, False)
    members_table = lead.page.get_by_role("region", name="Members of the panel").inner_text()
    assert all(m.name in members_table for m in members[:3])  # the fourth joins after convening
    assert "The panel meets the composition rule." in lead.text()
    lead.click("Convene the panel")
    assert "The draft panel has convened. The draft panel has 3 members" in lead.text()
    assert lead.page.get_by_role("button", name="Convene the panel").count() == 0  # not offered again
    lead.page.get_by_label("Submitted application").select_option(label=f"School {URN} (URN {URN})")
    lead.click("Assign to the panel")
    assert f"The application from URN {URN} is assigned to the draft panel." in lead.text()
    appraisal = f"{APP}/appraisals/draft"
    assert api.ok(api.get(appraisal))["members"] == [m.id for m in members[:3]]
    # two clear members of three cannot decide: a fourth joins the open appraisal
    api.ok(api.post(f"/cycles/{YEAR}/panels/draft/members",
                    {"account": fourth.id, "lived_experience": False,
                     "reason": "Cal is conflicted"}))

    criteria = list(school.ok(school.get(APP))["audit"])  # the members do their part by the API
    for person, tie in ((lived, ""), (member, ""), (conflicted, "My sister teaches there")):
        Api(system, person).ok(Api(system, person).post(f"{appraisal}/declaration",
                                                         {"conflicted": bool(tie), "interests": tie}))
    Api(system, fourth).ok(Api(system, fourth).post(f"{appraisal}/declaration", {"conflicted": False}))
    for person in (lived, member, fourth):
        for code in criteria:
            outcome = "not_yet_met" if code == NOT_YET and person == member else "met"
            Api(system, person).ok(Api(system, person).post(f"{appraisal}/judgements", {
                "criterion": code, "outcome": outcome, "comment": f"{person.name} on {code}"}))

    lead.open(f"/lead/panels/{YEAR}/draft", label="the panel, declarations made")
    rows = lead.page.get_by_role("region", name="Members of the panel").locator("tbody tr")
    [row] = [r for r in rows.all_inner_texts() if conflicted.name in r]
    assert f"School {URN}: conflict of interest (My sister teaches there)" in row
    lead.open(f"/lead/panels/{YEAR}")
    assert "Convened, 4 members." in lead.text()  # the fourth joined the convened panel

    lead.open(f"{PAGE}/appraisals/draft")
    assert lead.heading() == f"Draft application appraisal: School {URN}"
    assert "Conflicted: My sister teaches there" in lead.text()
    lead.page.locator(f"input[name='criteria.{NOT_YET}.outcome'][value='not_yet_met']").check()
    for code in criteria:
        lead.fill(f"Comment on {label_of(code)} for the school", f"Agreed view on {code}")
    lead.choose("Further evidence")
    lead.choose(lived.name)
    lead.choose(member.name)
    lead.click("Record the agreed outcome", label="outcome refused, two clear members")
    assert any("Missing: 1 more member" in error for error in lead.error_summary())
    lead.choose(fourth.name)
    lead.click("Record the agreed outcome")
    assert "The agreed outcome is recorded." in lead.text()
    agreed = api.ok(api.get(appraisal))["outcome"]
    assert agreed["overall"] == "further_evidence"
    assert agreed["members"] == sorted([lived.id, member.id, fourth.id])
    assert agreed["criteria"][NOT_YET] == {"outcome": "not_yet_met", "comment": f"Agreed view on {NOT_YET}"}

    lead.fill("Summary for the school", "A strong start; more on pupil voice")
    lead.click("Release feedback")
    assert "Feedback released to the school." in lead.text()
    view = school.ok(school.get(APP))
    assert view["stage"] == "draft_feedback"
    assert view["feedback"]["draft"]["summary"] == "A strong start; more on pupil voice"

    lead.click("Decision trail")
    assert lead.heading() == f"Decision trail: School {URN}"
    trail = lead.text()
    assert f"{conflicted.name}: conflicted (My sister teaches there)" in trail
    agreed_line = next(line for line in trail.splitlines() if line.startswith("Further evidence, agreed by"))
    assert lived.name in agreed_line and member.name in agreed_line and conflicted.name not in agreed_line
    assert ("Panel composition met: the rule is at least 3 members clear of conflict, at least 1 with "
            "lived experience of seeking sanctuary; agreed by 3 clear members, 1 with lived experience; "
            "1 declared a conflict and took no part.") in trail
    assert "A strong start; more on pupil voice (released by Lee Lead (e2e)" in trail


def test_the_lead_reads_the_email_log(system: E2ESystem, visit, school: Api) -> None:
    address, api = f"ann@{URN}.example.org", Api(system)

    def to_school() -> list[dict]:
        return [e for e in api.ok(api.get("/notifications"))["items"] if e["to"] == address]
    kind = wait_for(to_school, 20, f"an email to {address}")[0]["kind"]
    lead: Visitor = visit("phone").sign_in_as(system.lead)
    lead.open("/lead/emails")
    assert lead.heading() == "Emails"
    assert address in lead.text()
    lead.page.get_by_label("Kind of email").select_option(kind)
    lead.click("Show emails", label="emails of one kind")
    assert f"kind={kind}" in lead.page.url
    shown = lead.page.locator("tbody tr").count()
    expected = api.ok(api.get("/notifications", params={"kind": kind}))["items"]
    assert shown == len(expected) and shown >= 1
    assert address in lead.text()
