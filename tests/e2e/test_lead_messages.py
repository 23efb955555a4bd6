"""Messages from the lead, end to end through the lead's page: write, preview who it reaches,
send; each coordinator finds it in their mailbox once, saying why; the form sent twice sends
it once; each school keeps the message (``/schools/<urn>/messages``)."""

from __future__ import annotations

import re

import pytest
import requests

from services.gateway.web.pages import SESSION_COOKIE, csrf_token
from tests.e2e.conftest import Api, E2ESystem
from tests.e2e.mailbox import WHY, arrived, mailbox, of, plain, settled

pytestmark = pytest.mark.e2e

SCHOOLS = {"880401": ("Message School One", "one@880401.example.org"),
           "880402": ("Message School Two", "two@880402.example.org")}
SUBJECT = "Refugee Week plans"


@pytest.fixture(scope="module")
def registered(system: E2ESystem) -> None:
    lead = Api(system)
    for urn, (name, email) in SCHOOLS.items():
        coordinator = {"name": f"Coordinator of {name}", "email": email}
        lead.ok(lead.post("/schools", {"urn": urn, "name": name, "phase": "primary", "postcode": "CV1 5FB",
                                       "coordinator": coordinator}), 201)
    for name, email in SCHOOLS.values():  # the notifications service knows each school
        arrived(system, email, f"{name} is registered for Schools of Sanctuary")


def as_lead(system: E2ESystem, method: str, path: str, form: dict | None = None) -> requests.Response:
    token = system.lead.token
    data = {"csrf": csrf_token(token), **(form or {})} if method == "POST" else None
    return requests.request(method, system.base_url + path, data=data, cookies={SESSION_COOKIE: token},
                            headers={"Accept": "text/html"}, allow_redirects=False, timeout=20)


def test_the_lead_writes_to_every_coordinator_from_the_page(system: E2ESystem, registered: None) -> None:
    page = as_lead(system, "GET", "/lead/messages")
    assert page.status_code == 200 and "Write to a group" in page.text
    assert 'href="/lead/messages"' in page.text  # in the lead's navigation

    form = {"group": "coordinators", "subject": SUBJECT, "body": "Tell us your plans by Friday."}
    missing = as_lead(system, "POST", "/lead/messages/preview", {**form, "subject": ""})
    assert missing.status_code == 422 and "Enter a subject" in missing.text

    preview = as_lead(system, "POST", "/lead/messages/preview", form)
    assert preview.status_code == 200, preview.text
    assert "It will reach 2 people" in preview.text
    for name, email in SCHOOLS.values():
        assert email in preview.text and name in preview.text
    [message_id] = re.findall(r'name="message_id" value="([^"]+)"', preview.text)

    sent = as_lead(system, "POST", "/lead/messages", {**form, "message_id": message_id})
    assert sent.status_code == 303 and sent.headers["Location"] == "/lead/messages"
    again = as_lead(system, "POST", "/lead/messages", {**form, "message_id": message_id})
    assert again.status_code == 409 and "sent already" in again.text

    for urn, (_, email) in SCHOOLS.items():
        [message] = arrived(system, email, SUBJECT)
        assert "Tell us your plans by Friday." in plain(message)
        assert f"{WHY} you are your school's Schools of Sanctuary coordinator." in plain(message)
        school = Api(system, system.coordinator(urn))
        kept = school.ok(school.get(f"/schools/{urn}/messages"))["items"]
        assert [(m["subject"], m["label"]) for m in kept] == [(SUBJECT, "every school's coordinator")]
    settled(Api(system))
    assert all(len(of(mailbox(system, email), SUBJECT)) == 1 for _, email in SCHOOLS.values())
    listed = as_lead(system, "GET", "/lead/messages")
    assert SUBJECT in listed.text and "880401, 880402" in listed.text

    other = Api(system, system.coordinator("880401"))
    assert other.get("/schools/880402/messages").status_code == 403
