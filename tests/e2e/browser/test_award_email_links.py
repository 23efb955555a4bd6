"""A school's coordinator following the award's emails in a browser (Coventry, on a rehearsal
clock from 1 March 2027): the school is driven over HTTP to its award on the visit's day; the
lead schedules the celebration, and the coordinator, not signed in, opens the invitation
email's link, signs in by emailed link, lands on the school's page and accepts there. Then
the rehearsal moves on to 16 March 2030, inside the award's renewal notice: the renewal-due
email arrives, and its link, opened in the same browser, leads to the school's page with its
renewal."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.browser.conftest import Visitor
from tests.e2e.browser.email_links import emailed, opens, signs_in_by_email
from tests.e2e.conftest import Api, E2ESystem, wait_for
from tests.e2e.test_journey import People, panel_people, to_final_agreed, today, visited_and_decided
from tests.e2e.test_journey import system as system  # noqa: F401 - its rehearsal from 1 March 2027

pytestmark = pytest.mark.e2e

URN = "880701"  # no other test uses 8807xx
ANN = f"ann@{URN}.example.org"  # the coordinator test_journey's pledge() registers
INVITED = "You are invited to celebrate"
RENEWAL = "Time to renew your School of Sanctuary status"
NOTICE_DAY = "2030-03-16T09:00"  # a day into the three months' notice before 15 June 2030


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    return panel_people(system, "award-links", "Eli Member", "Fen Member", "Gus Member", "Hal Outsider")


def invitation_status(school: Api) -> str:
    return school.ok(school.get(f"/schools/{URN}/invitations"))["items"][0]["status"]


def test_the_coordinator_follows_the_celebration_and_renewal_emails(system: E2ESystem, visit,
                                                                    people: People) -> None:
    to_final_agreed(people, URN)
    # Ann, the coordinator the school registered, with an account to sign in to by email
    system.add_account(ANN, "Ann Coordinator", [{"role": "coordinator", "urn": URN}], token_label=None)
    assert visited_and_decided(people, URN)["stage"] == "awarded"
    school = people.school(URN)
    wait_for(lambda: school.ok(school.get(f"/schools/{URN}/invitations"))["items"], 30, "the invitation")

    lead = people.lead
    day = today(system) + dt.timedelta(days=60)
    lead.ok(lead.post("/programme/celebration/sessions", {
        "date": day.isoformat(), "start": "18:00", "end": "20:00"}), 201)
    ann: Visitor = visit("phone")
    link = opens(ann, emailed(system, INVITED, ANN), "Accept or decline")
    assert link == f"{system.base_url}/school/{URN}"
    signs_in_by_email(ann, system, ANN)
    assert ann.page.url == link
    assert ann.heading() == f"School {URN}"
    assert "You are invited to" in ann.text()
    ann.click("Accept the invitation", label="invitation accepted")
    assert "You have accepted." in ann.text()
    assert invitation_status(school) == "accepted"

    system.move_clock(NOTICE_DAY)
    link = opens(ann, emailed(system, RENEWAL, ANN), "Your school's page")
    assert link == f"{system.base_url}/school/{URN}"
    assert ann.page.url == link  # her session from the celebration still lets her in: straight there
    assert ann.heading() == f"School {URN}"
    assert "Apply to renew your award before Saturday 15 June 2030; renewal has been due since " \
           "Saturday 16 March 2030" in ann.text()
    assert "Renew the pledge" in ann.text()  # and the lapsed pledge's renewal is a link away
