"""The pages behind emails, in a browser with JavaScript off, each checked for accessibility
as it opens: the lead writing to a group (the form, a refusal naming its field, the preview,
the message listed once sent); a waiting-list offer claimed from its email by someone with
no account; an unsubscribe link's question and answer."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.clock import system_clock
from tests.e2e.conftest import Api, E2ESystem
from tests.e2e.mailbox import arrived, link

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

URN = "880501"  # no other test uses 8805xx
SCHOOL = f"Browser Mail School {URN}"
CORA = f"cora@{URN}.example.org"
WILL = f"will@{URN}.example.org"
CODE = "network-meeting"
NEWS = "New CPD session: Schools of Sanctuary – network meeting of local schools"
OFFER = "A place is free: Schools of Sanctuary – network meeting of local schools"


@pytest.fixture(scope="module")
def offered(system: E2ESystem) -> None:
    """A school reading the newsletter; a session of one place, Tess booked and Will waiting;
    Tess cancels, so the place is offered to Will."""
    lead, school = Api(system), Api(system, system.coordinator(URN))
    lead.ok(lead.post("/schools", {"urn": URN, "name": SCHOOL, "phase": "primary", "postcode": "CV1 5FB",
                                   "coordinator": {"name": "Cora Ordinator", "email": CORA}}), 201)
    school.ok(school.call("PUT", f"/schools/{URN}/newsletter", json={"subscribed": True}))
    day = system_clock().today() + dt.timedelta(days=45)
    before = {s["id"] for s in lead.ok(lead.get(f"/programme/{CODE}"))["sessions"]}
    added = lead.ok(lead.post(f"/programme/{CODE}/sessions",
                              {"date": day.isoformat(), "start": "16:00", "end": "17:00"}), 201)
    [session] = [s["id"] for s in added["sessions"] if s["id"] not in before]
    arrived(system, CORA, NEWS)
    event = lead.ok(lead.get(f"/programme/{CODE}"))
    lead.ok(lead.call("PUT", f"/programme/{CODE}", json={
        "title": event["title"], "description": event["description"], "audience": event["audience"],
        "capacity": 1}))
    path = f"/programme/{CODE}/sessions/{session}/bookings"
    tess = school.ok(school.post(path, {"urn": URN, "name": "Tess Teacher",
                                        "email": f"tess@{URN}.example.org"}), 201)
    school.ok(school.post(path, {"urn": URN, "name": "Will Waiting", "email": WILL}), 201)
    school.ok(school.call("DELETE", f"/programme/{CODE}/bookings/{tess['id']}"))


def test_the_lead_writes_to_a_group_previews_it_and_sends_it(system: E2ESystem, visit,
                                                             offered: None) -> None:
    lead = visit().sign_in_as(system.lead)
    lead.open("/lead/messages")
    assert lead.heading() == "Write to a group"
    lead.choose("Every school's coordinator")
    lead.fill("Message", "Please send us your Refugee Week plans.")
    lead.click("Preview who it reaches", label="refused: no subject")
    assert lead.error_summary() == ["Enter a subject"]
    lead.choose("Every school's coordinator")
    lead.fill("Subject", "Refugee Week")
    lead.fill("Message", "Please send us your Refugee Week plans.")
    lead.click("Preview who it reaches")
    assert lead.heading() == "Check your message"
    assert CORA in lead.text() and SCHOOL in lead.text()
    lead.click("Send the message")
    assert lead.heading() == "Write to a group"
    assert "Your message went to" in lead.page.content() and "Refugee Week" in lead.text()


def test_a_place_is_claimed_in_a_browser_from_the_email(system: E2ESystem, visit, offered: None) -> None:
    [offer] = arrived(system, WILL, OFFER)
    will = visit("phone")  # no account, no session: the link is all there is
    will.page.goto(link(offer, "Claim the place"))
    will.checked()
    assert will.heading() == "Claim your place"
    will.click("Claim the place")
    assert will.heading() == "The place is yours"


def test_an_unsubscribe_link_asks_then_answers(system: E2ESystem, visit, offered: None) -> None:
    [news] = arrived(system, CORA, NEWS)
    cora = visit()
    cora.page.goto(link(news, "unsubscribe here"))
    cora.checked()
    assert cora.heading() == "Stop getting news of CPD sessions?"
    cora.click("Unsubscribe")
    assert cora.heading() == "You are unsubscribed"
