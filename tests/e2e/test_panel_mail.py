"""Panel members and the lead told of a panel's work, end to end: the lead forms, fills and
convenes the draft panel and assigns a school over HTTP; each member finds in their own
mailbox, once, that they are on the panel and that the school's application waits for them,
with a link that opens their page; a conflict declared and every clear member's judgements
reach the lead's own mailbox, greeting the lead by name, with links to the lead's pages. The
same news put on the bus again brings nothing twice.

Members' addresses never travel on the bus (tests/unit/test_panel_contract.py): the
notifications service asks the accounts service for them when it sends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import LEAD_EMAIL, Api, E2ESystem, Person, wait_for
from tests.e2e.mailbox import WHY, Tap, arrived, follow, link, mailbox, of, plain, settled

pytestmark = pytest.mark.e2e

URN = "880201"  # no other e2e test uses 8802xx
YEAR = "2026-27"
SCHOOL = f"Panel Mail School {URN}"
PANEL = f"/cycles/{YEAR}/panels/draft"
ON_PANEL = f"You are on the draft appraisal panel for {YEAR}"
ASSIGNED = f"{SCHOOL}'s draft application is ready for you to appraise"


@pytest.fixture(scope="module")
def members(system: E2ESystem) -> dict[str, Person]:
    return {key: system.add_account(f"{key}.{URN}@panel.e2e.example.org", f"{key.title()} Member",
                                    [{"role": "panel_member"}]) for key in ("pat", "quinn", "ravi")}


@pytest.fixture(scope="module")
def tap(system: E2ESystem) -> Iterator[Tap]:
    t = Tap(system, "applications", "PanelConvened", "ApplicationAssigned")
    yield t
    t.close()


@pytest.fixture(scope="module")
def assigned(system: E2ESystem, members: dict[str, Person], tap: Tap) -> dict:
    """The school pledged, its draft submitted; the draft panel formed with three members,
    convened, and the school assigned to it."""
    lead, school = Api(system), Api(system, system.coordinator(URN))
    coordinator = {"name": "Ann Panel", "email": f"ann@{URN}.example.org"}
    lead.ok(lead.post("/schools", {"urn": URN, "name": SCHOOL, "phase": "primary", "postcode": "CV1 5FB",
                                   "coordinator": coordinator}), 201)
    school.ok(school.post(f"/schools/{URN}/interest", {}))
    for body, who in (("slt", "Dee Deputy"), ("governors", "Ed Chair")):
        school.ok(school.post(f"/schools/{URN}/commitments", {"body": body, "given_by": who, "role": "Lead"}))
    school.ok(school.post(f"/schools/{URN}/pledge", {"signed_by": "Cara Head", "role": "Head teacher"}))

    def may_apply() -> bool:
        response = school.get(f"/schools/{URN}/eligibility")
        return response.status_code == 200 and response.json()["may_apply"]
    wait_for(may_apply, 30, f"the applications service to let {URN} apply")
    path = f"/schools/{URN}/applications/{YEAR}"
    school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)
    school.ok(school.post(f"{path}/evidence", {"criterion": "learn-1", "title": "Training log"}), 201)
    school.ok(school.post(f"{path}/submissions", {"stage": "draft"}))
    lead.ok(lead.post(PANEL), 201)
    for key, lived in (("pat", True), ("quinn", False), ("ravi", False)):
        lead.ok(lead.post(f"{PANEL}/members", {"account": members[key].id, "lived_experience": lived}))
    lead.ok(lead.post(f"{PANEL}/convening"))
    return lead.ok(lead.post(f"{PANEL}/assignments/{URN}"))


def test_each_member_is_told_once_with_links_that_open_their_pages(
        system: E2ESystem, members: dict[str, Person], assigned: dict, tap: Tap) -> None:
    for key, person in members.items():
        [on_panel] = arrived(system, person.email, ON_PANEL)
        [ready] = arrived(system, person.email, ASSIGNED)
        assert plain(on_panel).startswith(f"Dear {person.name},\n\n")
        assert f"{WHY} you are a member of the draft appraisal panel for {YEAR}." in plain(ready)
        page = follow(link(on_panel, "Your appraisals"), person)
        assert page.status_code == 200 and "appraisals" in page.text.lower(), key
        appraisal = follow(link(ready, "Start the appraisal"), person)
        assert appraisal.status_code == 200, appraisal.text
        assert "Declare any conflict of interest" in appraisal.text  # their page: the declaration first
        assert follow(link(ready, "Start the appraisal"), None).status_code == 303  # nobody: sign in

    # the same news again, as a redelivery brings it: nothing more
    for kind in ("PanelConvened", "ApplicationAssigned"):
        tap.again(tap.take(kind))
    settled(Api(system))
    for person in members.values():
        mine = mailbox(system, person.email)
        assert (len(of(mine, ON_PANEL)), len(of(mine, ASSIGNED))) == (1, 1), person.email


def test_the_lead_hears_of_a_conflict_and_of_judging_done_by_name(
        system: E2ESystem, members: dict[str, Person], assigned: dict) -> None:
    lead = system.lead
    base = f"/schools/{URN}/applications/{YEAR}/appraisals/draft"
    ravi = Api(system, members["ravi"])
    ravi.ok(ravi.post(f"{base}/declaration", {"conflicted": True, "interests": "My niece is a pupil"}))
    conflict_subject = f"A panel member declared a conflict of interest with {SCHOOL}"
    [conflict] = arrived(system, LEAD_EMAIL, conflict_subject)
    assert plain(conflict).startswith(f"Dear {lead.name},\n\n")  # the lead's name, not the team's
    assert "My niece" not in plain(conflict)  # what the tie is stays on the lead's page
    page = follow(link(conflict, "The panel"), lead)
    assert page.status_code == 200 and SCHOOL in page.text

    for key in ("pat", "quinn"):
        api = Api(system, members[key])
        api.ok(api.post(f"{base}/declaration", {"conflicted": False}))
        for criterion in criteria(system):
            api.ok(api.post(f"{base}/judgements", {"criterion": criterion, "outcome": "met",
                                                    "comment": "Well evidenced"}))
    done_subject = f"{SCHOOL}'s draft application: judging is complete"
    [done] = arrived(system, LEAD_EMAIL, done_subject)
    assert "clear of any conflict (2) has judged" in plain(done)
    page = follow(link(done, "The appraisal"), lead)
    assert page.status_code == 200 and SCHOOL in page.text
    settled(Api(system))
    mine = mailbox(system, LEAD_EMAIL)
    assert (len(of(mine, conflict_subject)), len(of(mine, done_subject))) == (1, 1)


def criteria(system: E2ESystem) -> list[str]:
    """The criteria the school's application is judged on, as the lead sees them."""
    view = Api(system).ok(Api(system).get(f"/schools/{URN}/applications/{YEAR}"))
    return sorted(view["audit"])
