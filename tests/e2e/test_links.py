"""Links in emails that work without signing in, end to end over HTTP: a freed CPD place
claimed from the offer's email alone (the person offered has no account), once; the school's
coordinator told of the offer too; and optional mail left with one click (RFC 8058), once.
Opening a link changes nothing (a mail scanner fetches every link); a POST acts. The token
never reaches the gateway's log.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared.clock import Clock
from tests.e2e.conftest import Api, E2ESystem, wait_for
from tests.e2e.mailbox import WHY, arrived, follow, link, mailbox, of, plain, settled

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

URN = "880301"  # no other e2e test uses 8803xx
SCHOOL = f"Link Test School {URN}"
CORA = f"cora@{URN}.example.org"  # the coordinator, who reads the newsletter
TESS = f"tess@{URN}.example.org"  # booked, then cancels
WILL = f"will@{URN}.example.org"  # waiting, offered the place; no account
CODE = "network-meeting"
NEWS = "New CPD session: Schools of Sanctuary – network meeting of local schools"
OFFER = "A place is free: Schools of Sanctuary – network meeting of local schools"


def book(school: Api, path: str, name: str, email: str) -> dict:
    return school.ok(school.post(path, {"urn": URN, "name": name, "email": email}), 201)


@pytest.fixture(scope="module")
def offered(system: E2ESystem) -> dict:
    """Capacity one: Tess booked, Will waiting; Tess cancels and the place is offered to Will."""
    lead, school = Api(system), Api(system, system.coordinator(URN))
    lead.ok(lead.post("/schools", {"urn": URN, "name": SCHOOL, "phase": "primary", "postcode": "CV1 5FB",
                                   "coordinator": {"name": "Cora Ordinator", "email": CORA}}), 201)
    school.ok(school.call("PUT", f"/schools/{URN}/newsletter", json={"subscribed": True}))
    day = Clock().today() + dt.timedelta(days=60)
    before = {s["id"] for s in lead.ok(lead.get(f"/programme/{CODE}"))["sessions"]}
    added = lead.ok(lead.post(f"/programme/{CODE}/sessions",
                              {"date": day.isoformat(), "start": "16:00", "end": "17:00"}), 201)
    [session] = [s["id"] for s in added["sessions"] if s["id"] not in before]
    arrived(system, CORA, NEWS)  # the notifications service knows the session
    event = lead.ok(lead.get(f"/programme/{CODE}"))
    lead.ok(lead.call("PUT", f"/programme/{CODE}", json={
        "title": event["title"], "description": event["description"], "audience": event["audience"],
        "capacity": 1}))
    bookings = f"/programme/{CODE}/sessions/{session}/bookings"
    tess = book(school, bookings, "Tess Teacher", TESS)
    will = book(school, bookings, "Will Waiting", WILL)
    assert (tess["status"], will["status"]) == ("booked", "waiting")
    school.ok(school.call("DELETE", f"/programme/{CODE}/bookings/{tess['id']}"))
    return {"session": session, "booking": will["id"], "day": day}


def status(system: E2ESystem, booking: str) -> str:
    lead = Api(system)
    return lead.ok(lead.get(f"/programme/{CODE}/bookings/{booking}"))["status"]


def test_the_place_is_claimed_from_the_email_alone_once(system: E2ESystem, offered: dict) -> None:
    [offer] = arrived(system, WILL, OFFER)
    assert f"{WHY} you are on the waiting list for this session." in plain(offer)
    claim = link(offer, "Claim the place")
    token = parse_qs(urlsplit(claim).query)["token"][0]

    for _ in range(2):  # opened, by the person or by a scanner: nothing changes
        page = follow(claim, None)
        assert page.status_code == 200, page.text
        assert "Claim your place" in page.text and "Will Waiting" in page.text
        assert page.headers["Referrer-Policy"] == "no-referrer"
    assert status(system, offered["booking"]) == "offered"

    # the page's button: a POST with the token, and nobody signed in
    claimed = requests.post(claim.split("?")[0], data={"token": token}, timeout=20)
    assert claimed.status_code == 200, claimed.text
    assert "The place is yours" in claimed.text
    assert status(system, offered["booking"]) == "booked"
    [place] = arrived(system, WILL, "Your place: Schools of Sanctuary – network meeting of local schools")
    assert [p.get_filename() for p in place.iter_attachments()] == ["session.ics"]

    again = requests.post(claim.split("?")[0], data={"token": token}, timeout=20)
    assert again.status_code == 409 and "claimed this place already" in again.text
    assert status(system, offered["booking"]) == "booked"
    settled(Api(system))
    assert len(of(mailbox(system, WILL), OFFER)) == 1

    log = system.log_path("gateway").read_text(errors="replace")
    assert token not in log and "token=[hidden]" in log


def test_the_coordinator_hears_of_the_offer_with_a_link_to_the_schools_cpd(system: E2ESystem,
                                                                           offered: dict) -> None:
    subject = "A place is offered to Will Waiting: Schools of Sanctuary – network meeting of local schools"
    [told] = arrived(system, CORA, subject)
    assert f"{WHY} you are your school's Schools of Sanctuary coordinator." in plain(told)
    page = follow(link(told, "Your school's CPD"), system.coordinator(URN))
    assert page.status_code == 200 and "CPD" in page.text


def test_a_link_that_is_not_ours_opens_nothing(system: E2ESystem, offered: dict) -> None:
    [offer] = arrived(system, WILL, OFFER)
    claim = link(offer, "Claim the place")
    forged = claim[:-3] + ("abc" if not claim.endswith("abc") else "xyz")
    assert follow(forged, None).status_code == 404
    refused = requests.post(claim.split("?")[0], data={"token": "not-a-token"}, timeout=20)
    assert refused.status_code == 404


def test_optional_mail_is_left_with_one_click_once(system: E2ESystem, offered: dict) -> None:
    [news] = arrived(system, CORA, NEWS)
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = news["List-Unsubscribe"].strip("<>")
    assert url == link(news, "unsubscribe here")
    page = follow(url, None)  # opened: the question, not the answer
    assert page.status_code == 200 and "Stop getting news of CPD sessions?" in page.text

    one_click = {"Content-Type": "application/x-www-form-urlencoded"}
    done = requests.post(url, data="List-Unsubscribe=One-Click", headers=one_click, timeout=20)
    assert done.status_code == 200 and "You will no longer get news of CPD sessions" in done.text
    again = requests.post(url, data="List-Unsubscribe=One-Click", headers=one_click, timeout=20)
    assert again.status_code == 200 and "You had already unsubscribed" in again.text

    lead = Api(system)
    day = offered["day"] + dt.timedelta(days=7)
    lead.ok(lead.post(f"/programme/{CODE}/sessions", {"date": day.isoformat()}), 201)

    def held_back() -> list:
        items = lead.ok(lead.get("/notifications", params={"kind": "new-session"}))["items"]
        return [e for e in items if e["to"] == CORA and e["status"] == "suppressed"]
    [entry] = wait_for(held_back, 60, "the second news to be held back")
    assert "unsubscribed from news of CPD sessions" in entry["reason"]
    settled(lead)
    assert len(of(mailbox(system, CORA), NEWS)) == 1
