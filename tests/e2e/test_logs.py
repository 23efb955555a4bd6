"""One request followed through every service's log: the whole system as processes, logging
JSON (``SANCTUARY_LOG_FORMAT=json``, as under systemd) into ``<data>/logs/<service>.log``.

A coordinator signs the pledge with an ``X-Request-ID`` of their own: the gateway answers with
it and logs the request; the pledges service logs the RPC it answered under it; the event it
published carries it as its correlation id, so the applications and notifications services log
their handling of that event under it too (the event's id as the cause), and the notifications
sender logs the emails it sent for it. A refusal is one INFO line in the gateway and in the
service, without a traceback; nothing at WARNING or above for it anywhere.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import requests

from sanctuary.launch import ORDER
from sanctuary.mail_sink import read_folder
from tests.e2e.conftest import Api, E2ESystem, running, system_env, wait_for

pytestmark = pytest.mark.e2e

URN = "880301"  # no other e2e test uses 8803xx
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    yield from running(system_env(module_amqp_uri, tmp_path_factory.mktemp("e2e-logs"),
                                  SANCTUARY_LOG_FORMAT="json"))


def lines(system: E2ESystem, service: str, request_id: str | None = None) -> list[dict]:
    """The service's JSON log lines (those of one request, if given)."""
    path = system.log_path(service)
    found = [json.loads(line) for line in path.read_text(errors="replace").splitlines()
             if line.startswith("{")]
    return [line for line in found if request_id is None or line.get("request_id") == request_id]


def said(found: list[dict], words: str) -> list[dict]:
    return [line for line in found if words in line["message"]]


@pytest.fixture(scope="module")
def school(system: E2ESystem) -> Api:
    """A school registered, interested and committed: ready to sign."""
    lead, school = Api(system), Api(system, system.coordinator(URN))
    lead.ok(lead.post("/schools", {
        "urn": URN, "name": f"Log Test School {URN}", "phase": "primary", "postcode": "CV1 5FB",
        "coordinator": {"name": "Lou Logs", "email": f"lou.logs@{URN}.example.org"}}), 201)
    school.ok(school.post(f"/schools/{URN}/interest", {}))
    for body, given_by, role in (("slt", "Dee Deputy", "Deputy head"), ("governors", "Ed Chair", "Chair")):
        school.ok(school.post(f"/schools/{URN}/commitments",
                              {"body": body, "given_by": given_by, "role": role}))
    return school


def test_one_request_is_found_in_every_service_it_reached(system: E2ESystem, school: Api) -> None:
    request_id = f"e2e-{uuid.uuid4().hex}"
    mail_before = len(read_folder(system.mail_dir))
    response = school.post(f"/schools/{URN}/pledge", {"signed_by": "Hana Head", "role": "Head teacher"},
                           headers={"X-Request-ID": request_id})
    school.ok(response)
    assert response.headers["X-Request-ID"] == request_id

    wait_for(lambda: len(said(lines(system, "notifications", request_id), "notification")) >= 2
             and len(read_folder(system.mail_dir)) >= mail_before + 2, TIMEOUT,
             "the notifications service to send the pledge's emails under the request's id")
    wait_for(lambda: said(lines(system, "applications", request_id), "handled pledges.PledgeSigned"),
             TIMEOUT, "the applications service to log the PledgeSigned it handled")

    gateway = lines(system, "gateway", request_id)
    [answered] = said(gateway, "answered")
    assert answered["route"] == "POST /schools/<urn>/pledge" and answered["status"] == 200
    assert answered["account"] == school.who.id and answered["level"] == "INFO"
    assert isinstance(answered["duration_ms"], float)
    assert said(gateway, "accounts.identify") == []  # the gateway's lines are its own
    # (the accounts service is asked who is calling only when the gateway's principal cache
    # does not know them, services/gateway/principals.py, so it may have no line here)
    [signed] = said(lines(system, "pledges", request_id), "answered pledges.sign_pledge")
    assert signed["account"] == school.who.id and signed["service"] == "pledges"

    for consumer in ("notifications", "applications"):
        [handled] = said(lines(system, consumer, request_id), "handled pledges.PledgeSigned")
        assert handled["causation_id"] != request_id  # the event it handled was the cause
    sent = said(lines(system, "notifications", request_id), "notification")
    assert {line["message"].split()[0] for line in sent} >= {"pledge-signed", "pledge-signed-lead"}
    assert all(line["message"].endswith(" sent") and line["level"] == "INFO" for line in sent)


def test_every_line_is_json_without_an_email_address(system: E2ESystem, school: Api) -> None:
    for service in ORDER:
        text = system.log_path(service).read_text(errors="replace")
        assert f"@{URN}.example.org" not in text and "@e2e.example.org" not in text, service
        for line in lines(system, service):
            assert {"time", "level", "service", "logger", "message"} <= set(line), line
            assert line["service"] == service


def test_a_refusal_is_one_info_line_without_a_traceback_in_the_gateway_and_the_service(
        system: E2ESystem, school: Api) -> None:
    request_id = uuid.uuid4().hex
    response = Api(system).get("/schools/880399", headers={"X-Request-ID": request_id})
    assert response.status_code == 404 and response.headers["X-Request-ID"] == request_id

    wait_for(lambda: said(lines(system, "pledges", request_id), "refused"), TIMEOUT,
             "the pledges service to log its refusal")
    [refused] = said(lines(system, "pledges", request_id), "refused")
    assert refused["level"] == "INFO" and refused["status"] == 404 and "exception" not in refused
    [answered] = said(lines(system, "gateway", request_id), "answered")
    assert answered["status"] == 404 and answered["level"] == "INFO"
    for service in ORDER:
        for line in lines(system, service, request_id):
            assert line["level"] in ("DEBUG", "INFO") and "exception" not in line, line


def test_a_request_without_a_sane_id_gets_a_new_one(system: E2ESystem) -> None:
    for sent in ({}, {"X-Request-ID": "two words"}, {"X-Request-ID": "x" * 300}):
        response = requests.get(f"{system.base_url}/health", headers=sent, timeout=10)
        given = response.headers["X-Request-ID"]
        assert len(given) == 32 and int(given, 16) >= 0 and given != sent.get("X-Request-ID")
    unknown = requests.get(f"{system.base_url}/no/such/path", timeout=10)  # answered before any route
    assert unknown.status_code == 404 and len(unknown.headers["X-Request-ID"]) == 32
