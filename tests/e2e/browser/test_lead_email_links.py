"""The lead's emails, followed in a browser: a school asks to join on the public page, the
lead's "A school has asked to join" email arrives, and its link, opened while not signed in,
leads through signing in by emailed link to that very request; a panel member declares a
conflict of interest, and the lead, now signed in, opens the "conflict declared" email's
link straight onto the panel's page."""

from __future__ import annotations

import pytest

from tests.e2e.browser.conftest import Visitor
from tests.e2e.browser.email_links import emailed, opens, signs_in_by_email
from tests.e2e.conftest import E2ESystem
from tests.e2e.test_journey import YEAR, People, appraisal_path, panel_people, to_draft_assigned

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

JOIN_URN, PANEL_URN = "880601", "880602"  # no other test uses 8806xx
JOINING = "Juniper Primary"
ASKED = "A school has asked to join Schools of Sanctuary"
CONFLICT = f"A panel member declared a conflict of interest with School {PANEL_URN}"


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    return panel_people(system, "lead-links", "Ama Member", "Bex Member", "Cal Member", "Dee Outsider")


def ask_to_join(visit) -> None:
    person: Visitor = visit("phone")
    person.open("/join")
    person.fill("School name", JOINING)
    person.fill("URN", JOIN_URN)
    person.choose("Primary")
    person.fill("Postcode", "CV3 4XY")
    person.fill("Full name", "Jo Juniper")
    person.fill("Your role in the school", "Deputy head")
    person.fill("Email address", "jo@juniper.e2e.example.org")
    person.click("Send the request")
    assert person.heading() == "Request sent"


def test_the_lead_opens_each_of_their_emails_links(system: E2ESystem, visit, people: People) -> None:
    ask_to_join(visit)
    lead: Visitor = visit()  # not signed in: the email's link is all they have
    link = opens(lead, emailed(system, ASKED), "The request")
    path = link.removeprefix(system.base_url)
    assert path.startswith("/lead/join-requests/")
    signs_in_by_email(lead, system, system.lead.email)
    assert lead.page.url == link  # back on the page the email named, signed in
    assert lead.heading() == JOINING
    assert "You are signed in as" in lead.text() and "Jo Juniper" in lead.text()

    to_draft_assigned(people, PANEL_URN)
    member = people.api(people.m3)
    member.ok(member.post(f"{appraisal_path(PANEL_URN, 'draft')}/declaration",
                          {"conflicted": True, "interests": "My niece attends the school"}))
    link = opens(lead, emailed(system, CONFLICT, system.lead.email), "The panel")
    assert link == f"{system.base_url}/lead/panels/{YEAR}/draft"
    assert lead.page.url == link  # signed in already: straight there
    assert lead.heading() == f"The draft panel, {YEAR}"
    assert "conflict of interest (My niece attends the school)" in lead.text()
