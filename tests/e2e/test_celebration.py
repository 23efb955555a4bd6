"""Celebrating an award, end to end (Coventry, 2026-27, on a rehearsal clock from 1 March
2027, moved on to the visit's day in June): a school is driven over HTTP to its award; the
events service hears ``Awarded`` and invites it to the authority's celebration, which has no
date yet, so the invitation waits; the lead schedules a session and the invitation goes out,
by email to the school's coordinator only, once; the school accepts and the lead sees it; the
certificate (a PDF) is the school's to download once awarded, and no other school's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from sanctuary.mail_sink import read_folder
from tests.e2e.conftest import Api, E2ESystem, Person, rehearsal, wait_for
from tests.e2e.test_cpd import EventsTap
from tests.e2e.test_journey import (
    SPRING,
    YEAR,
    People,
    app_path,
    refused,
    to_final_agreed,
    today,
    visited_and_decided,
)
from tests.unit.test_certificate import shown_text

pytestmark = pytest.mark.e2e

URN, OTHER_URN = "640101", "640102"  # no other e2e test uses 6401xx
COORDINATOR = f"ann@{URN}.example.org"  # as test_journey's pledge() registers the school
SCHOOL_NAME = f"School {URN}"
CODE = "celebration"
SUBJECT = "You are invited to celebrate"
CERTIFICATE = f"{app_path(URN)}/certificate.pdf"
INVITATIONS = f"/schools/{URN}/invitations"
MAIL_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    """On a rehearsal clock from 1 March 2027: submissions in time, then on to the visit's day."""
    yield from rehearsal(module_amqp_uri, tmp_path_factory, SPRING)


@pytest.fixture(scope="module")
def people(system: E2ESystem) -> People:
    def member(handle: str, name: str) -> Person:
        return system.add_account(f"{handle}@celebration.e2e.example.org", name, [{"role": "panel_member"}])
    return People(system, member("vic", "Vic Member"), member("wyn", "Wyn Member"),
                  member("xan", "Xan Member"), member("yas", "Yas Outsider"))



def invitation(school: Api, status: str) -> dict:
    def found() -> dict | None:
        items = school.ok(school.get(INVITATIONS))["items"]
        return items[0] if items and items[0]["status"] == status else None
    return wait_for(found, 30, f"an invitation {status} for {URN}")


def invitation_mail(system: E2ESystem) -> list[EmailMessage]:
    return [m for m in read_folder(system.mail_dir) if m["Subject"] == SUBJECT]


def nothing_left_to_send(lead: Api) -> None:
    def settled() -> bool:
        return not {"pending", "sending"} & set(lead.ok(lead.get("/notifications"))["counts"])
    wait_for(settled, MAIL_TIMEOUT, "the sender to have nothing left to send")


def test_an_award_brings_an_invitation_to_celebrate_and_a_certificate(people: People) -> None:
    system, lead, school = people.system, people.lead, people.school(URN)
    other = Api(system, system.coordinator(OTHER_URN))  # another school's coordinator
    tap = EventsTap(system.amqp_uri)  # bound before anything of ours is published
    try:
        to_final_agreed(people, URN)

        # before the award: no certificate (a clear 409), no invitation
        error = refused(school.get(CERTIFICATE), 409, "stage", says="once the application is awarded")
        assert "final_submitted" in error["message"]
        assert school.ok(school.get(INVITATIONS))["items"] == []

        decided = visited_and_decided(people, URN)
        assert decided["stage"] == "awarded"

        # Coventry's celebration has no date yet: the invitation waits for one
        waiting = invitation(school, "waiting")
        assert (waiting["code"], waiting["urn"], waiting["school_year"]) == (CODE, URN, YEAR)
        assert (waiting["session"], waiting["date"], waiting["awarded_on"]) == (
            None, None, today(system).isoformat())
        refused(school.post(f"{INVITATIONS}/{YEAR}/answer", {"accept": True}), 409,
                "invitation", says="no date is set")

        # the lead schedules the celebration: the waiting invitation goes out
        day = today(system) + dt.timedelta(days=60)
        before = {s["id"] for s in lead.ok(lead.get(f"/programme/{CODE}"))["sessions"]}
        added = lead.ok(lead.post(f"/programme/{CODE}/sessions", {
            "date": day.isoformat(), "start": "18:00", "end": "20:00"}), 201)
        [session] = [s["id"] for s in added["sessions"] if s["id"] not in before]
        invited = invitation(school, "invited")
        assert (invited["id"], invited["session"], invited["date"]) == (
            waiting["id"], session, day.isoformat())

        # the email, to the school's coordinator only, once
        wait_for(lambda: invitation_mail(system), MAIL_TIMEOUT, "the invitation email")
        nothing_left_to_send(lead)
        [email] = invitation_mail(system)
        assert email["To"] == COORDINATOR
        body = email.get_body(("plain",)).get_content()
        assert SCHOOL_NAME in body
        assert f"{day:%A} {day.day} {day:%B %Y}, 6pm to 8pm" in body
        assert "accept or decline" in body
        assert "You are getting this email because you are your school's Schools of Sanctuary " \
               "coordinator" in body
        sent = lead.ok(lead.get("/notifications", params={"kind": "celebration-invitation"}))["items"]
        assert [(e["to"], e["status"]) for e in sent] == [(COORDINATOR, "sent")]

        # the school accepts; nobody else may answer for it; the lead sees the acceptance
        answer = f"{INVITATIONS}/{YEAR}/answer"
        refused(other.post(answer, {"accept": True}), 403)
        refused(school.post(f"{INVITATIONS}/2025-26/answer", {"accept": True}), 404, says="2025-26")
        refused(school.post(answer, {"accept": "yes"}), 422, "accept")
        accepted = school.ok(school.post(answer, {"accept": True}))
        assert (accepted["status"], accepted["answered_by"]) == ("accepted", system.coordinator(URN).actor)
        refused(school.post(answer, {"accept": True}), 409, "accept", says="already accepted")
        seen = lead.ok(lead.get(f"/programme/{CODE}/invitations"))["items"]
        assert [(i["urn"], i["status"], i["session"]) for i in seen] == [(URN, "accepted", session)]
        refused(school.get(f"/programme/{CODE}/invitations"), 403)
        refused(other.get(INVITATIONS), 403)
        public = Api(system, None).ok(Api(system, None).get(f"/programme/{CODE}"))
        assert URN not in str(public)  # the public programme names no awarded school
        assert [s["places_taken"] for s in public["sessions"] if s["id"] == session] == [1]

        # the certificate: the school's (and the lead's), no other school's
        response = school.get(CERTIFICATE)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="school-of-sanctuary-certificate-{URN}-{YEAR}.pdf"')
        assert response.content.startswith(b"%PDF-")
        text = shown_text(response.content)
        awarded_on, expires_on = (dt.date.fromisoformat(decided["award"][k])
                                  for k in ("awarded_on", "expires_on"))
        assert SCHOOL_NAME in text and "COVENTRY" in text and "School of Sanctuary" in text
        assert f"{awarded_on.day} {awarded_on:%B %Y}" in text
        assert f"{expires_on.day} {expires_on:%B %Y}" in text
        assert lead.get(CERTIFICATE).content == response.content
        refused(other.get(CERTIFICATE), 403)
        assert Api(system, None).get(CERTIFICATE).status_code == 401

        # and on the bus: the invitation waiting, sent, accepted
        ours = [e for e in tap.drain(3) if e.payload.get("urn") == URN]
        assert [e.type for e in ours] == ["CelebrationInvitationWaiting", "CelebrationInvited",
                                          "CelebrationAccepted"]
        assert {e.payload["invitation"] for e in ours} == {invited["id"]}
    finally:
        tap.close()
