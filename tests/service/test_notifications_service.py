"""The notifications RPC adapter, with nameko's worker_factory around a real application:
its operations are the ones api.py declares, each refusing whoever its rule does not allow,
and its answers fit their declared schemas."""

from __future__ import annotations

import functools
from urllib.parse import parse_qs, urlsplit

import pytest
from nameko.testing.services import worker_factory

from services.notifications.api import NotificationsApi
from services.notifications.application import Notifications
from services.notifications.policies import react
from services.notifications.service import NotificationsService
from shared.access import ROLES, Principal
from shared.consumer import consume
from shared.envelope import IntegrationEvent
from shared.errors import Forbidden, Invalid, NotFound, Unauthorized

LEAD = Principal("a1", "Lena Lead", frozenset({("lead", None)})).to_dict()
OTHERS = [Principal(f"x-{role}", role, frozenset({(role, "103712" if role == "coordinator" else None)}))
          .to_dict() for role in ROLES if role != "lead"]


@pytest.fixture
def service(tmp_path, coventry):
    app = Notifications(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SINGLE_ROW_TRACKING": "n",
                             "SQLITE_DBNAME": str(tmp_path / "notifications.sqlite")},
                        authority=coventry, mail_from="n@sanctuary.invalid", mail_domain="sanctuary.invalid")
    yield worker_factory(NotificationsService, application=app)
    app.close()


def registered(app: Notifications) -> None:
    news = IntegrationEvent(
        id="00000000-0000-4000-8000-000000000001", type="SchoolRegistered", schema_version=1,
        origin="pledges", position=1, occurred_at="2026-10-01T10:00:00+00:00", authority="coventry",
        actor="account:lead", payload={"urn": "103712", "name": "Hill Primary", "phase": "primary",
                                       "postcode": "CV1 2AB",
                                       "coordinator": {"name": "Ann", "email": "ann@example.org"}})
    assert consume(app, news.to_dict(), functools.partial(react, app)) is True


def test_the_declared_operations_are_the_services_entrypoints(service) -> None:
    assert {op.name for op in NotificationsApi.operations()} == {
        "delivery_log", "personal_data", "offer", "unsubscription", "unsubscribe", "audience",
        "send_message", "messages", "school_messages"}
    for operation in NotificationsApi.operations():
        assert callable(getattr(service, operation.name))


def test_the_delivery_log_is_the_leads_alone(service) -> None:
    with pytest.raises(Unauthorized):
        service.delivery_log(None, {})
    for principal in OTHERS:
        with pytest.raises(Forbidden):
            service.delivery_log(principal, {})
        with pytest.raises(Forbidden):
            service.personal_data(principal, ["email:x"])
    assert service.delivery_log(LEAD, {}) == {"items": [], "counts": {}}


def test_the_delivery_log_answers_in_its_schema_as_plain_json(service) -> None:
    registered(service.application)
    log = service.delivery_log(LEAD, {"status": "pending"})
    [entry] = log["items"]
    assert log["counts"] == {"pending": 1}
    assert (entry["kind"], entry["to"], entry["status"]) == (
        "school-registered", "ann@example.org", "pending")
    assert isinstance(entry["created_at"], str) and entry["sent_at"] is None and entry["attempts"] == []
    assert service.delivery_log(LEAD, {"kind": "starter-pack"})["items"] == []


def test_a_bad_query_names_its_field(service) -> None:
    with pytest.raises(Invalid) as refused:
        service.delivery_log(LEAD, {"status": "lost", "colour": "red"})
    assert set(refused.value.fields) == {"status", "colour"}


def test_links_from_emails_are_answered_for_anyone_and_a_bad_token_is_a_404(service) -> None:
    app = service.application
    registered(app)
    token = parse_qs(urlsplit(app.links.unsubscribe("email:abc", "cpd-news")).query)["token"][0]
    assert service.unsubscription(None, {"token": token}) == {
        "category": "cpd-news", "what": "news of CPD sessions", "done": False}
    assert service.unsubscribe(None, {"token": token})["done"] is False  # not before this
    assert service.unsubscribe(None, {"token": token})["done"] is True  # once
    with pytest.raises(NotFound):
        service.offer(None, {"token": token})  # an unsubscribe link claims nothing
    with pytest.raises(Invalid) as refused:
        service.offer(None, {})
    assert "token" in refused.value.fields
