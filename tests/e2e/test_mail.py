"""Email end to end: the whole system as processes, driven over real HTTP, its mail read
from the system's own SMTP sink (``system.mail_dir``).

A school's journey (registered, pledge signed, draft submitted) and a CPD booking each
produce their email, exactly once: the notifications service hears the milestone on
RabbitMQ, records its intent, and its sender (every 2 s) hands it to the sink. The
lead sees the same in the delivery log; a coordinator may not. Polls have deadlines;
nothing sleeps for a fixed time.

The booking is on a session the lead adds (the school reads the newsletter, so the
"new session" email shows the notifications service has heard of it before anyone
books): in a freshly started system the configured programme's ProgrammeListed news
goes out before the notifications service has its queues, so a booking on a
configured session brings no email at all (a product bug, pinned in
tests/integration/test_notifications.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from sanctuary.mail_sink import read_folder
from shared.authority import load_authority
from tests.e2e.conftest import Api, E2ESystem, wait_for

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

URN = "880101"  # no other e2e test uses 8801xx
NAME = f"Mail Test School {URN}"
COORDINATOR = f"ann.mail@{URN}.example.org"
TEACHER = f"tess.teacher@{URN}.example.org"
YEAR = "2026-27"
CODE = "network-meeting"
TITLE = "Schools of Sanctuary – network meeting of local schools"
SESSION_DAY = dt.date(2027, 5, 12)  # a Wednesday, 16:00 to 17:00, added by the lead
MAIL_TIMEOUT = 60.0
WHY = "You are getting this email because"


@pytest.fixture(scope="module")
def lead_contact(system: E2ESystem) -> str:
    """Where the lead's notes go: the lead's own account (the notifications service asks the
    accounts service who holds the role when it sends)."""
    return system.lead.email


@pytest.fixture(scope="module")
def reply_to(system: E2ESystem) -> str:
    """Where replies go: the authority's contact address."""
    return load_authority(system.settings.authority_file).contact_email


@pytest.fixture(scope="module")
def journey(system: E2ESystem) -> dict[str, str]:
    """The school registered, pledged, its draft submitted, and a teacher booked on CPD."""
    lead, school = Api(system), Api(system, system.coordinator(URN))
    lead.ok(lead.post("/schools", {
        "urn": URN, "name": NAME, "phase": "secondary", "postcode": "CV1 5FB",
        "coordinator": {"name": "Ann Mail", "email": COORDINATOR}}), 201)
    school.ok(school.post(f"/schools/{URN}/interest", {}))
    school.ok(school.post(f"/schools/{URN}/commitments",
                          {"body": "slt", "given_by": "Dee Deputy", "role": "Deputy head"}))
    school.ok(school.post(f"/schools/{URN}/commitments",
                          {"body": "governors", "given_by": "Ed Chair", "role": "Chair of governors"}))
    school.ok(school.call("PUT", f"/schools/{URN}/newsletter", json={"subscribed": True}))
    school.ok(school.post(f"/schools/{URN}/pledge", {"signed_by": "Cara Head", "role": "Head teacher"}))

    def may_apply() -> bool:
        response = school.get(f"/schools/{URN}/eligibility")
        return response.status_code == 200 and response.json()["may_apply"]
    wait_for(may_apply, 30, f"the applications service to let {URN} apply")
    path = f"/schools/{URN}/applications/{YEAR}"
    school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)
    school.ok(school.call("PUT", f"{path}/audit", json={"criterion": "learn-1", "status": "met",
                                                        "practice": "Whole-staff training"}))
    school.ok(school.post(f"{path}/evidence", {"criterion": "learn-1", "title": "Training log"}), 201)
    school.ok(school.post(f"{path}/submissions", {"stage": "draft"}))

    before = {s["id"] for s in lead.ok(lead.get(f"/programme/{CODE}"))["sessions"]}
    added = lead.ok(lead.post(f"/programme/{CODE}/sessions", {
        "date": SESSION_DAY.isoformat(), "start": "16:00", "end": "17:00"}), 201)
    [session] = [s["id"] for s in added["sessions"] if s["id"] not in before]

    def heard_of_it() -> bool:  # the newsletter reader is told: notifications knows the session
        return any(m["To"] == COORDINATOR and m["Subject"].startswith("New CPD session")
                   for m in read_folder(system.mail_dir))
    wait_for(heard_of_it, MAIL_TIMEOUT, "the new session's email to the newsletter reader")
    booking = school.ok(school.post(f"/programme/{CODE}/sessions/{session}/bookings",
                                    {"urn": URN, "name": "Tess Teacher", "email": TEACHER}), 201)
    assert booking["status"] == "booked"
    return {"booking": booking["id"], "session": session}


def expected(lead_contact: str) -> set[tuple[str, str]]:
    """(To, Subject) of every email the journey should bring; a session's title is cut off,
    since it is only as good as what the notifications service heard of the programme."""
    return {
        (COORDINATOR, f"{NAME} is registered for Schools of Sanctuary"),
        (COORDINATOR, f"Thank you: {NAME} has signed the pledge"),
        (COORDINATOR, f"Schools of Sanctuary audit tool for {NAME}"),  # Coventry's pack
        (lead_contact, f"{NAME} has signed the pledge"),
        (COORDINATOR, "We have received your draft application"),
        (lead_contact, f"{NAME} has submitted its draft application"),
        (COORDINATOR, "New CPD session:"),
        (TEACHER, "Your place:"),
    }


def headline(subject: str) -> str:
    for prefix in ("New CPD session:", "Your place:"):
        if subject.startswith(prefix):
            return prefix
    return subject


def ours(system: E2ESystem) -> list[EmailMessage]:
    """The sink's messages about this school (the lead's address hears of every school)."""
    return [m for m in read_folder(system.mail_dir)
            if m["To"] in (COORDINATOR, TEACHER) or NAME in m["Subject"]]


def all_arrived(system: E2ESystem, lead_contact: str) -> list[EmailMessage]:
    want = expected(lead_contact)

    def arrived() -> list[EmailMessage] | None:
        mail = ours(system)
        return mail if {(m["To"], headline(m["Subject"])) for m in mail} >= want else None
    return wait_for(arrived, MAIL_TIMEOUT, f"{len(want)} emails in {system.mail_dir}")


def log_settled(lead: Api) -> dict:
    """The delivery log once nothing is waiting to go (nor being sent)."""
    def settled() -> dict | None:
        body = lead.ok(lead.get("/notifications"))
        return body if not {"pending", "sending"} & set(body["counts"]) else None
    return wait_for(settled, MAIL_TIMEOUT, "the sender to have nothing left to send")


def test_a_schools_journey_brings_each_email_exactly_once(system: E2ESystem, journey: dict,
                                                          lead_contact: str, reply_to: str) -> None:
    all_arrived(system, lead_contact)
    log_settled(Api(system))  # every intent has gone; nothing more can come of it
    mail = ours(system)
    counted = Counter((m["To"], headline(m["Subject"])) for m in mail)
    assert set(counted) == expected(lead_contact)
    assert set(counted.values()) == {1}, counted
    assert len({m["Message-ID"] for m in mail}) == len(mail)
    for message in mail:
        assert message["Reply-To"] == reply_to
        assert message["From"] == system.settings.mail_from
        assert message["Auto-Submitted"] == "auto-generated"
        assert WHY in message.get_body(("plain",)).get_content()
        assert WHY in message.get_body(("html",)).get_content()
    receipt = next(m for m in mail if m["Subject"] == "We have received your draft application")
    today = dt.datetime.now(ZoneInfo("Europe/London")).date()
    assert f"{today:%A} {today.day} {today:%B %Y}" in receipt.get_body(("plain",)).get_content()


def test_a_booking_brings_a_calendar_file(system: E2ESystem, journey: dict, lead_contact: str) -> None:
    all_arrived(system, lead_contact)
    [place] = [m for m in ours(system) if m["To"] == TEACHER]
    assert place["Subject"].startswith("Your place: ")
    body = place.get_body(("plain",)).get_content()
    assert "Dear Tess Teacher," in body
    assert "Wednesday 12 May 2027, 4pm to 5pm" in body
    assert f"{WHY} you are booked on this session." in body
    [attachment] = list(place.iter_attachments())
    assert attachment.get_filename().endswith(".ics")
    assert attachment.get_content_type() == "text/calendar"
    cal = Calendar.from_ical(attachment.get_payload(decode=True))
    [event] = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(event["UID"]) == f"{journey['session']}@coventry.schools-of-sanctuary"
    start = event.decoded("DTSTART")
    assert start == dt.datetime(2027, 5, 12, 16, 0, tzinfo=ZoneInfo("Europe/London"))
    assert start.utcoffset() == dt.timedelta(hours=1)  # BST


def test_the_lead_sees_them_sent_in_the_delivery_log(system: E2ESystem, journey: dict,
                                                     lead_contact: str) -> None:
    all_arrived(system, lead_contact)
    lead = Api(system)
    body = log_settled(lead)
    mine = [e for e in body["items"]
            if e["to"] in (COORDINATOR, TEACHER) or NAME in e["subject"]]
    # the lead's notes are addressed to the role: whoever holds it when each is sent
    assert {(e["to"], headline(e["subject"])) for e in mine} == expected("the local lead")
    assert {e["status"] for e in mine} == {"sent"}
    assert all(e["sent_at"] and e["attempts"] == [] for e in mine)
    assert sorted(e["kind"] for e in mine) == sorted([
        "school-registered", "pledge-signed", "pledge-signed-lead", "starter-pack", "draft-submitted",
        "draft-submitted-lead", "new-session", "booked"])
    assert body["counts"]["sent"] >= len(mine)
    sent = lead.ok(lead.get("/notifications", params={"status": "sent"}))["items"]
    assert {e["id"] for e in mine} <= {e["id"] for e in sent}
    assert lead.ok(lead.get("/notifications", params={"status": "failed"}))["items"] == []
    booked = lead.ok(lead.get("/notifications", params={"kind": "booked"}))["items"]
    ours = {e["id"] for e in mine}  # other modules' bookings may share the log
    assert [e["to"] for e in booked if e["id"] in ours] == [TEACHER]


def test_a_coordinator_may_not_read_the_delivery_log(system: E2ESystem, journey: dict) -> None:
    school = Api(system, system.coordinator(URN))
    response = school.get("/notifications")
    assert response.status_code == 403, response.text
    assert COORDINATOR not in response.text
    assert Api(system, None).get("/notifications").status_code == 401


def test_the_session_emails_name_the_event(system: E2ESystem, journey: dict, lead_contact: str) -> None:
    all_arrived(system, lead_contact)
    subjects = {m["Subject"] for m in ours(system)}
    assert {f"New CPD session: {TITLE}", f"Your place: {TITLE}"} <= subjects, subjects
