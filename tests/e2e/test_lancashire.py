"""A second authority, end to end: the whole system started with Lancashire's file
(``SANCTUARY_AUTHORITY=deploy/authorities/lancashire.toml``) and no code changes,
driven over real HTTP, its mail read from the system's own SMTP sink.

Lancashire's journey, from its seed: the head teacher's approval is the only
commitment the pledge needs; once the pledge is signed the coordinator gets the
starter pack by email (once, in Lancashire's name, with its lead's contact and
sign-off); support meetings are asked for and scheduled (the catch-up flow: the
school asks, the lead proposes a time, the school accepts); the application has no
draft stage and no deadline; the programme is Lancashire's own. That Coventry sends
no starter pack is in test_starter_pack_coventry.py: a module of its own, so the two
systems never run at once (starting a second system beside a first on a small machine
can make the services' broker connections time out at start).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
import requests

from sanctuary.mail_sink import read_folder
from shared.authority import Authority, load_authority
from shared.config import ROOT
from tests.e2e.conftest import LEAD_EMAIL, Api, E2ESystem, running, system_env, wait_for

pytestmark = pytest.mark.e2e

LANCASHIRE = ROOT / "deploy" / "authorities" / "lancashire.toml"
URN = "930101"  # no other e2e test uses 9301xx
NAME = f"Ribble Valley Primary {URN}"
COORDINATOR = f"ann.lancs@{URN}.example.org"
YEAR = "2026-27"
APP = f"/schools/{URN}/applications/{YEAR}"
MAIL_TIMEOUT = 60.0
WHY = "You are getting this email because"
COVENTRY_WORDS = ("Coventry", "EMAS", "emasteachers", "leadership and governors")


# -- a Lancashire system ---------------------------------------------------------------


@pytest.fixture(scope="module")
def lancashire_system(module_amqp_uri: str,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    """Like conftest's ``system`` (SQLite, started once for the module, on the module's own
    virtual host), but configured with Lancashire's file."""
    env = system_env(module_amqp_uri, tmp_path_factory.mktemp("e2e-lancashire"),
                     SANCTUARY_AUTHORITY=str(LANCASHIRE))
    yield from running(env)


@pytest.fixture(scope="module")
def lancashire() -> Authority:
    return load_authority(LANCASHIRE)


# -- reading the mail ----------------------------------------------------------------------


def text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def subject(message: EmailMessage) -> str:
    """The subject as a mail program shows it: Python's header folding puts a long subject
    that fits on one line of its own on the line after "Subject:", and its parser then
    keeps the folding's leading space."""
    return " ".join(message["Subject"].split())


def about(system: E2ESystem, email: str, name: str) -> list[EmailMessage]:
    """The sink's messages about one school (the lead's address hears of every school)."""
    return [m for m in read_folder(system.mail_dir) if m["To"] == email or name in subject(m)]


def arrived(system: E2ESystem, email: str, name: str, want: set[tuple[str, str]]) -> list[EmailMessage]:
    def probe() -> list[EmailMessage] | None:
        mail = about(system, email, name)
        return mail if {(m["To"], subject(m)) for m in mail} >= want else None
    return wait_for(probe, MAIL_TIMEOUT, f"{len(want)} emails in {system.mail_dir}")


def log_settled(lead: Api) -> dict:
    """The delivery log once nothing is waiting to go (nor being sent)."""
    def settled() -> dict | None:
        body = lead.ok(lead.get("/notifications"))
        return body if not {"pending", "sending"} & set(body["counts"]) else None
    return wait_for(settled, MAIL_TIMEOUT, "the sender to have nothing left to send")


def refused(response: requests.Response, status: int, field: str, says: str | None = None) -> dict:
    assert response.status_code == status, f"{response.url}: {response.status_code} {response.text}"
    error = response.json()
    assert field in error.get("fields", {}), error
    if says is not None:
        assert says.lower() in error["message"].lower(), error
    return error


def may_apply(school: Api, urn: str) -> None:
    def probe() -> bool:
        response = school.get(f"/schools/{urn}/eligibility")
        return response.status_code == 200 and response.json()["may_apply"]
    wait_for(probe, 30, f"the applications service to let {urn} apply")


# -- Lancashire ----------------------------------------------------------------------------


def test_a_lancashire_schools_journey(lancashire_system: E2ESystem, lancashire: Authority) -> None:
    system = lancashire_system
    lead, school = Api(system), Api(system, system.coordinator(URN))
    today = dt.datetime.now(lancashire.timezone).date()

    # register; the head teacher's approval is the only commitment the pledge needs
    lead.ok(lead.post("/schools", {
        "urn": URN, "name": NAME, "phase": "primary", "postcode": "PR1 8XJ",
        "coordinator": {"name": "Ann Lancs", "email": COORDINATOR}}), 201)
    school.ok(school.post(f"/schools/{URN}/interest", {}))
    refused(school.post(f"/schools/{URN}/pledge", {"signed_by": "Hal Head", "role": "Head teacher"}),
            409, "commitments", says="the head teacher")
    school.ok(school.post(f"/schools/{URN}/commitments",
                          {"body": "head_teacher", "given_by": "Hal Head", "role": "Head teacher"}))
    signed = school.ok(school.post(f"/schools/{URN}/pledge",
                                   {"signed_by": "Hal Head", "role": "Head teacher"}))
    assert signed["status"] == "signed"  # no SLT, no governors

    # the starter pack arrives by email, with the other pledge mail
    pack_subject = f"Lancashire Schools of Sanctuary starter pack for {NAME}"
    arrived(system, COORDINATOR, NAME, {
        (COORDINATOR, f"{NAME} is registered for Schools of Sanctuary"),
        (COORDINATOR, f"Thank you: {NAME} has signed the pledge"),
        (LEAD_EMAIL, f"{NAME} has signed the pledge"),  # the lead's own account, by name
        (COORDINATOR, pack_subject),
    })

    # a support meeting: the school asks, the lead proposes a time, the school accepts
    asked = school.ok(school.post(f"/schools/{URN}/catch-ups",
                                  {"note": "A support meeting about our audit and action plan"}), 201)
    assert (asked["urn"], asked["status"], asked["proposal"]) == (URN, "requested", None)
    meeting_day = today + dt.timedelta(days=14)
    proposed = lead.ok(lead.post(f"/catch-ups/{asked['id']}/proposal", {
        "date": meeting_day.isoformat(), "start": "15:30", "end": "16:30"}))
    assert proposed["status"] == "proposed"
    assert proposed["proposal"]["date"] == meeting_day.isoformat()
    scheduled = school.ok(school.post(f"/catch-ups/{asked['id']}/answer", {"accept": True}))
    assert scheduled["status"] == "confirmed"
    arrived(system, COORDINATOR, NAME, {  # each step reached the other side
        (LEAD_EMAIL, f"{NAME} asks for a catch-up meeting"),
        (COORDINATOR, "A time for your catch-up meeting"),
        (LEAD_EMAIL, f"{NAME} accepted the catch-up meeting"),
        (COORDINATOR, "Your catch-up meeting is confirmed"),
    })

    # the application: no draft stage, no deadline
    may_apply(school, URN)
    view = school.ok(school.post(f"/schools/{URN}/applications", {"school_year": YEAR}), 201)
    assert (view["stage"], view["next_submission"], view["deadline"]) == ("started", "final", None)
    school.ok(school.call("PUT", f"{APP}/audit", json={"criterion": "learn-1", "status": "met",
                                                       "practice": "Whole-staff training"}))
    school.ok(school.post(f"{APP}/evidence", {"criterion": "learn-1", "title": "Training log"}), 201)
    refused(school.post(f"{APP}/submissions", {"stage": "draft"}), 409, "stage",
            says="next submission is the final")
    final = school.ok(school.post(f"{APP}/submissions", {"stage": "final"}))
    assert final["stage"] == "final_submitted"
    assert [(s["stage"], s["on"], s["under_extension"]) for s in final["submissions"]] == [
        ("final", today.isoformat(), False)]

    # every email about the school, once each, in Lancashire's words
    arrived(system, COORDINATOR, NAME, {
        (COORDINATOR, "We have received your final application"),
        (LEAD_EMAIL, f"{NAME} has submitted its final application"),
    })
    log = log_settled(lead)
    mail = about(system, COORDINATOR, NAME)
    assert set(Counter((m["To"], subject(m)) for m in mail).values()) == {1}, mail
    assert len(mail) == 10
    for message in mail:
        body = text(message)
        assert message["Reply-To"] == lancashire.contact_email
        assert lancashire.sign_off in body and WHY in body
        for words in COVENTRY_WORDS:
            assert words not in body and words not in subject(message), (words, subject(message))
    [pack] = [m for m in mail if subject(m) == pack_subject]
    body = text(pack)
    assert pack["To"] == COORDINATOR
    assert body.startswith("Dear Ann Lancs,\n\nThe Lancashire Schools of Sanctuary lead will send you the "
                           f"Lancashire Schools of Sanctuary starter pack for {NAME} by email.")
    assert f"write to {lancashire.contact_email}" in body
    assert "Support meetings through the process: sign in to ask for a meeting" in body
    assert "http" not in body  # no link was configured, and none is made up
    [registered] = [m for m in mail if subject(m).endswith("is registered for Schools of Sanctuary")]
    assert "registered with Lancashire Schools of Sanctuary" in text(registered)
    assert "secure the commitment of your head teacher and" in text(registered)
    packs = [e for e in log["items"] if e["kind"] == "starter-pack"]
    assert [(e["to"], e["status"]) for e in packs] == [(COORDINATOR, "sent")]


def test_the_programme_is_lancashires(lancashire_system: E2ESystem, lancashire: Authority) -> None:
    public = Api(lancashire_system, None)
    items = {item["code"]: item for item in public.ok(public.get("/programme"))["items"]}
    assert set(items) == {item.code for item in lancashire.cpd}
    assert "catch-up-meeting" not in items and "introduction" not in items  # nothing of Coventry's
    meetings = items["network-meeting"]
    assert (meetings["title"], meetings["kind"]) == ("Lancashire Schools of Sanctuary network meetings",
                                                     "series")
    assert meetings["runs_by"] == "Lancashire County Council"
    assert [(s["date_status"], s["date"], s["venue_status"]) for s in meetings["sessions"]] == [
        ("tbc", None, "tbc")]  # the seed gives no dates: none invented
    support = items["support-meetings"]
    assert (support["kind"], support["sessions"], support["bookable"]) == ("on_request", [], False)
    assert public.ok(public.get("/programme/network-meeting"))["title"] == meetings["title"]
    assert "Coventry" not in public.get("/programme").text
