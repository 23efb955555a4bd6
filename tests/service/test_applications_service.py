"""The applications service's event handlers in a real nameko container on a real
RabbitMQ: idempotent consumption and dead-lettering of a message that keeps failing."""

from __future__ import annotations

import datetime as dt
import time

import kombu
import pytest
from nameko.testing.services import entrypoint_waiter

from services.applications.service import ApplicationsService
from shared.bus import BusPublisher
from shared.config import Settings
from shared.consumer import DEAD_LETTER_QUEUE, DELIVERY_LIMIT, dead_letter_queue
from shared.envelope import IntegrationEvent
from shared.metrics import REGISTRY
from shared.runtime import EventSourcedApp


def news(kind: str, position: int, **payload: str) -> IntegrationEvent:
    return IntegrationEvent(
        id=f"00000000-0000-4000-8000-{position:012d}", type=kind, schema_version=1,
        origin="pledges", position=position, occurred_at="2026-11-23T10:00:00+00:00",
        authority="coventry", actor="lead", payload=payload)


@pytest.fixture
def container(container_factory, amqp_uri, tmp_path, coventry):
    settings = Settings.from_env({"SANCTUARY_DATA_DIR": str(tmp_path),
                                  "SANCTUARY_AMQP_URI": amqp_uri})
    config = settings.nameko_config(SANCTUARY_SETTINGS=settings, SANCTUARY_AUTHORITY=coventry)
    container = container_factory(ApplicationsService, config)
    container.start()
    yield container
    container.stop()


def app_of(container):
    return next(d for d in container.dependencies if isinstance(d, EventSourcedApp)).app


def test_news_is_applied_once_however_often_it_arrives(container, amqp_uri) -> None:
    publisher = BusPublisher(amqp_uri, "pledges")
    signed = news("PledgeSigned", 5, urn="103712", signed_by="Ms Head", role="Head",
                  signed_on="2026-11-23")
    with entrypoint_waiter(container, "on_pledge_signed", timeout=15):
        publisher.publish(signed)
    app = app_of(container)
    position = app.recorder.max_notification_id()
    assert app.pledge_standing("103712")["pledged_on"] == dt.date(2026, 11, 23)

    with entrypoint_waiter(container, "on_pledge_signed", timeout=15):
        publisher.publish(signed)  # a redelivery, as after a relay crash
    assert app.recorder.max_notification_id() == position
    publisher.close()


def dead_lettered() -> float:
    labels = {"origin": "pledges", "type": "PledgeSigned"}
    return REGISTRY.get_sample_value("sanctuary_integration_events_dead_lettered_total", labels) or 0.0


def failed() -> float:
    labels = {"origin": "pledges", "type": "PledgeSigned", "outcome": "failed"}
    return REGISTRY.get_sample_value("sanctuary_integration_events_consumed_total", labels) or 0.0


def test_a_message_that_keeps_failing_is_dead_lettered_not_dropped(container, amqp_uri) -> None:
    counted_dead, counted_failed = dead_lettered(), failed()
    publisher = BusPublisher(amqp_uri, "pledges")
    poison = news("PledgeSigned", 7, signed_by="no urn in this payload")
    publisher.publish(poison)
    publisher.close()
    deadline = time.monotonic() + 60
    with kombu.Connection(amqp_uri) as connection:
        queue = dead_letter_queue()(connection.default_channel)
        while (message := queue.get(no_ack=True)) is None:
            assert time.monotonic() < deadline, f"nothing reached {DEAD_LETTER_QUEUE}"
            time.sleep(0.2)
    assert message.properties["message_id"] == "pledges:7"
    deaths = message.headers["x-death"]
    assert deaths[0]["queue"] == "evt-pledges-PledgeSigned--applications.on_pledge_signed"
    assert deaths[0]["reason"] == "delivery_limit"  # retried DELIVERY_LIMIT times first
    assert app_of(container).recorder.max_notification_id() in (None, 0)  # nothing applied
    assert failed() - counted_failed == DELIVERY_LIMIT + 1  # every delivery failed ...
    assert dead_lettered() - counted_dead == 1  # ... and the last one was counted as given up on


def test_a_malformed_envelope_is_dead_lettered_at_once(container, amqp_uri) -> None:
    counted = dead_lettered()
    exchange = BusPublisher(amqp_uri, "pledges").exchange
    with kombu.Connection(amqp_uri) as connection:
        producer = kombu.Producer(connection.default_channel)
        with entrypoint_waiter(container, "on_pledge_signed", timeout=15):
            producer.publish({"type": "PledgeSigned", "position": "not a number"},
                             exchange=exchange, routing_key="PledgeSigned", message_id="pledges:x",
                             serializer="json", declare=[exchange])
        queue = dead_letter_queue()(connection.default_channel)
        deadline = time.monotonic() + 10
        while (message := queue.get(no_ack=True)) is None:
            assert time.monotonic() < deadline, f"nothing reached {DEAD_LETTER_QUEUE}"
            time.sleep(0.1)
    assert message.headers["x-death"][0]["reason"] == "rejected"
    assert dead_lettered() - counted == 1
