"""Nothing left behind after an erasure (issue 21): a coordinator who registered her school,
signed its pledge, booked a CPD place and described a partner link is erased. Her account is
closed, her session and API token refused; an independent AMQP consumer that held every
public event across the erasure finds neither her name nor her address in any raw body; the
services' log folder holds neither; and the mail sink gets nothing for her after it."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sanctuary.mail_sink import read_folder
from tests.e2e.conftest import Api, E2ESystem, Person, Tap, wait_for
from tests.e2e.mailbox import mailbox
from tests.e2e.test_access import sign_in

pytestmark = pytest.mark.e2e
SHARES_SYSTEM = True  # its URNs and addresses are its own, and it takes no cycle-wide step

URN = "104501"
NAME, EMAIL = "Erin Erasable", "erin.erasable@e2e.example.org"
WORDS = ("erasable",)  # in her name and her address: found nowhere after the erasure
ORIGINS = ("accounts", "pledges", "events", "library", "applications")


@pytest.fixture
def tap(system: E2ESystem) -> Iterator[Tap]:
    held = Tap(system.amqp_uri, origins=ORIGINS)
    yield held
    held.channel.queue_delete(held.queue.name)
    held.close()


def held_bodies(tap: Tap, settle: float = 3.0) -> list[bytes]:
    """Every message the tap holds, once ``settle`` seconds pass with none more."""
    bodies: list[bytes] = []
    quiet = time.monotonic()
    while time.monotonic() - quiet < settle:
        message = tap.bound.get(no_ack=True)
        if message is None:
            time.sleep(0.1)
            continue
        bodies.append(message.body if isinstance(message.body, bytes) else message.body.encode())
        quiet = time.monotonic()
    return bodies


def her_life(system: E2ESystem, lead: Api, erin: Api) -> None:
    """Everything she does that reaches the bus, each answered as it should be."""
    school = {"urn": URN, "name": "Erasure Primary", "phase": "primary", "postcode": "CV1 2AB",
              "coordinator": {"name": NAME, "email": EMAIL}}
    lead.ok(lead.post("/schools", school), 201)
    lead.ok(lead.post(f"/schools/{URN}/interest", {}))
    for body in ("slt", "governors"):
        erin.ok(erin.post(f"/schools/{URN}/commitments", {"body": body, "given_by": NAME, "role": "Head"}))
    erin.ok(erin.post(f"/schools/{URN}/pledge", {"signed_by": NAME, "role": "Head teacher"}))
    day = system.today() + dt.timedelta(days=60)
    sessions = lead.ok(lead.post("/programme/network-meeting/sessions", {"date": day.isoformat()}), 201)
    session = sessions["sessions"][-1]["id"]
    erin.ok(erin.post(f"/programme/network-meeting/sessions/{session}/bookings",
                      {"urn": URN, "name": NAME, "email": EMAIL}), 201)
    forum = {"name": "City Refugee Forum", "kind": "community_group"}
    partner = lead.ok(lead.post("/library/partners", forum), 201)
    erin.ok(erin.post(f"/schools/{URN}/partner-links",
                      {"partner_id": partner["id"], "activities": f"{NAME} runs a conversation club"}), 201)
    erin.ok(erin.post(f"/schools/{URN}/pledge/withdrawal", {"reason": f"{NAME} is leaving the school"}))


def logs_mentioning(folder: Path, words: tuple[str, ...]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace").lower()
            found += [f"{path.name}: {w}" for w in words if w in text]
    return found


def test_after_an_erasure_no_queued_message_log_line_or_new_mail_reveals_the_person(
        system: E2ESystem, tap: Tap) -> None:
    lead = Api(system)
    erin_person: Person = system.add_account(EMAIL, NAME, [{"role": "coordinator", "urn": URN}])
    erin = Api(system, erin_person)
    her_life(system, lead, erin)
    # the notifications service asked the owners for her address (none travelled): her mail came
    wait_for(lambda: any("Your place" in str(m["Subject"]) for m in mailbox(system, EMAIL)), 60,
             "the booking's confirmation")
    wait_for(lambda: len(mailbox(system, EMAIL)) >= 2, 60, "the registration email too")
    session = sign_in(system, EMAIL)
    lead.ok(lead.get("/people/personal-data", params={"email": EMAIL}))  # her address in a query string

    lead.ok(lead.post("/people/erasure", {"email": EMAIL, "name": NAME, "urn": URN,
                                          "reason": "Asked by email"}), 202)
    sent_before = len(read_folder(system.mail_dir))

    # her account is closed: her session and her token are refused
    for credential in (session, erin_person.token):
        assert Api(system, credential).get("/me").status_code == 401
    assert lead.ok(lead.get(f"/accounts/{erin_person.id}"))["closed"] is True
    # every service has shredded its copy
    wait_for(lambda: lead.ok(lead.get(f"/schools/{URN}"))["coordinator"]["email"] == "[erased]", 30,
             "the pledges service to erase her")

    # a queued message reveals nothing: the held bodies never carried her name or address
    bodies = held_bodies(tap)
    kinds = b"".join(bodies)
    for kind in (b"SchoolRegistered", b"PledgeSigned", b"PlaceBooked", b"PartnerLinkRecorded",
                 b"PledgeWithdrawn", b"PersonalDataErased"):
        assert kind in kinds, kind
    assert [b for b in bodies if any(w.encode() in b.lower() for w in WORDS)] == []

    # asking for a sign-in link for her address sends nothing, and nothing else goes to her
    Api(system, None).ok(Api(system, None).post("/auth/sign-in-link", {"email": EMAIL}), 202)
    time.sleep(5)  # the notifications service sends every 2 s; the accounts service at once
    after = read_folder(system.mail_dir)[sent_before:]
    assert [m["Subject"] for m in after if EMAIL in str(m["To"]) or NAME in str(m)] == []

    # no log line holds her name or her address (the query string's value is hidden)
    assert logs_mentioning(system.log_dir, WORDS) == []
    assert "email=[hidden]" in system.log_path("gateway").read_text(errors="replace")
