"""Consuming other services' integration events: at least once in, once in effect.

``integration_handler`` is nameko's ``event_handler`` on a quorum queue: a
failing message is requeued with a growing pause, and after ``DELIVERY_LIMIT``
deliveries RabbitMQ dead-letters it to ``sanctuary.dead-letter``, where it
waits, counted, for an operator; a malformed envelope goes there at once.
Nothing is dropped silently.

``consume`` makes the effect idempotent: the consumer's new events and the
``(origin, position)`` it consumed are saved in one transaction, so a
redelivered message is acknowledged and changes nothing.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import amqp
import eventlet
import kombu
from eventsourcing.persistence import Tracking
from marshmallow import ValidationError
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc, get_rpc_exchange
from nameko.standalone.events import get_event_exchange

from shared.envelope import IntegrationEvent, parse_envelope
from shared.messaging import CLASSIC_RPC_QUEUES, QUORUM, QueueConsumer, redacted
from shared.metrics import CONSUMED, DEAD_LETTERED, REGISTRY, Gauges, Metric, gauge, read_gauges
from shared.store import ServiceApplication

log = logging.getLogger(__name__)

DELIVERY_LIMIT = 5
DEAD_LETTER_EXCHANGE = "sanctuary.dead-letter"
DEAD_LETTER_QUEUE = "sanctuary.dead-letter"
# a busy or just-restarted broker at start: wait for it (a few minutes) rather than exit, saying so
BROKER_PATIENCE = {"max_retries": 12, "interval_start": 1, "interval_step": 2, "interval_max": 5}
_declared: set[str] = set()  # brokers this process has declared the dead-letter queue on
_declaring = threading.Lock()  # green under eventlet: one handler declares, the others wait


def connect_patiently(amqp_uri: str) -> kombu.Connection:
    """A connection to the broker, waiting for it (BROKER_PATIENCE) and logging every failed
    attempt: a broker that does not answer (stopped, or refusing new connections at its file
    descriptor limit) shows in the service's log instead of a silent start."""
    def waiting(error: Exception, interval: float) -> None:
        log.warning("waiting for the broker at %s (%s); trying again in %.0fs",
                    redacted(amqp_uri), error or "no answer", interval)
    connection = kombu.Connection(amqp_uri, connect_timeout=10)
    try:
        connection.ensure_connection(errback=waiting, **BROKER_PATIENCE)
    except Exception:
        connection.release()
        raise
    return connection


def declare_dead_letter_queue(amqp_uri: str) -> None:
    """Once per process and broker: every handler needs it, and a connection each (forty at
    once across a system's services) is what pushed a busy broker past its limit."""
    with _declaring:
        if amqp_uri in _declared:
            return
        with connect_patiently(amqp_uri) as connection:
            dead_letter_queue()(connection.default_channel).declare()
        _declared.add(amqp_uri)


def dead_letter_queue() -> kombu.Queue:
    exchange = kombu.Exchange(DEAD_LETTER_EXCHANGE, type="topic", durable=True)
    return kombu.Queue(
        DEAD_LETTER_QUEUE, exchange=exchange, routing_key="#", durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def queue_arguments(queue_name: str) -> dict:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": queue_name,
    }


class IntegrationEventHandler(EventHandler):
    queue_consumer = QueueConsumer()  # acks that a broker outage cannot make fatal

    def __init__(self, source_service: str, event_type: str, **kwargs: Any) -> None:
        kwargs.setdefault("requeue_on_error", True)
        super().__init__(source_service, event_type, **kwargs)

    def setup(self) -> None:
        super().setup()
        self.queue.queue_arguments = queue_arguments(self.queue.name)
        declare_dead_letter_queue(self.container.config["AMQP_URI"])

    def handle_message_processed(self, message: Any, result: Any = None, exc_info: Any = None) -> None:
        if exc_info is not None and isinstance(exc_info[1], ValidationError):
            # a malformed envelope will never parse: dead-letter it now
            log.error("malformed integration event %s: %s",
                      message.properties.get("message_id"), exc_info[1].messages)
            DEAD_LETTERED.labels(self.source_service, self.event_type).inc()
            self.queue_consumer.reject_message(message)
            return
        if exc_info is not None:
            attempts = int((message.headers or {}).get("x-delivery-count") or 0)
            CONSUMED.labels(self.source_service, self.event_type, "failed").inc()
            if attempts >= DELIVERY_LIMIT:  # RabbitMQ dead-letters it instead of redelivering
                DEAD_LETTERED.labels(self.source_service, self.event_type).inc()
            log.warning(
                "handling %s failed (delivery %d of %d)", message.properties.get("message_id"),
                attempts + 1, DELIVERY_LIMIT + 1, exc_info=exc_info,
            )
            eventlet.sleep(min(0.2 * 2**attempts, 5.0))
        super().handle_message_processed(message, result, exc_info)


integration_handler = IntegrationEventHandler.decorator


def declare_topology(amqp_uri: str, services: Iterable[type]) -> int:
    """Declare every service's handler queues, bound to their exchanges, and its RPC queue,
    before any service starts: an event published by the first service up (the CPD programme
    it seeds) then waits in the queue of a consumer that is not running yet."""
    declared = 0
    with connect_patiently(amqp_uri) as connection:
        channel = connection.default_channel
        dead_letter_queue()(channel).declare()
        for service in services:
            for (_, handler), name in zip(_handlers(service), handler_queues(service), strict=True):
                exchange = get_event_exchange(handler.source_service, {})
                kombu.Queue(name, exchange=exchange, routing_key=handler.event_type, durable=True,
                            queue_arguments=queue_arguments(name))(channel).declare()
                declared += 1
            if answers_rpc(service):
                declared += declare_rpc_queue(connection, amqp_uri, service.name)
    _declared.add(amqp_uri)
    return declared


def learn_rpc_queue(amqp_uri: str, service: type) -> None:
    """In a service whose launcher declared the topology (in another process): declare its own
    RPC queue again, to learn here whether it is an earlier release's classic queue (its consumer
    must then ask for a classic queue, or the broker refuses it: PRECONDITION_FAILED)."""
    if answers_rpc(service):
        with connect_patiently(amqp_uri) as connection:
            declare_rpc_queue(connection, amqp_uri, service.name, warn=False)


def rpc_queue(service_name: str, arguments: dict | None = None) -> kombu.Queue:
    """A service's RPC queue, as nameko's RpcConsumer declares it (shared/messaging.py)."""
    return kombu.Queue(f"rpc-{service_name}", exchange=get_rpc_exchange({}), routing_key=f"{service_name}.*",
                       durable=True, queue_arguments=dict(QUORUM if arguments is None else arguments))


def declare_rpc_queue(connection: kombu.Connection, amqp_uri: str, service_name: str,
                      warn: bool = True) -> int:
    """Declare the service's RPC queue as a quorum queue; returns 1. A classic queue of that name,
    made by an earlier release, stays as it is (noted for the service's RpcConsumer) until an
    operator runs `sanctuary replicate-queues`; returns 0 then."""
    queue = rpc_queue(service_name)
    channel = connection.channel()  # a refused declare closes its channel
    try:
        queue(channel).declare()
    except amqp.exceptions.PreconditionFailed as error:
        if "x-queue-type" not in str(error):
            raise
        CLASSIC_RPC_QUEUES.add((amqp_uri, queue.name))
        if warn:
            log.warning("%s is a classic queue (an earlier release made it): not replicated across a "
                        "cluster's nodes until `sanctuary replicate-queues` is run", queue.name)
        return 0
    finally:
        if channel.is_open:
            channel.close()
    return 1


def handler_queues(service: type) -> list[str]:
    """The names of the queues a service's integration handlers consume from."""
    return [f"evt-{h.source_service}-{h.event_type}--{service.name}.{method}"
            for method, h in _handlers(service)]


class QueueGauges(DependencyProvider):
    """Consumer lag: messages waiting in each of the service's queues, and in the
    dead-letter queue, read from the broker when Prometheus scrapes."""

    def __init__(self) -> None:
        self._gauges: Gauges | None = None

    def setup(self) -> None:
        self._gauges = read_gauges(self.read)

    def stop(self) -> None:
        if self._gauges is not None:
            REGISTRY.unregister(self._gauges)
            self._gauges = None

    kill = stop

    def read(self) -> Iterable[Metric]:
        queues = handler_queues(self.container.service_cls)
        waiting = {}
        with kombu.Connection(self.container.config["AMQP_URI"], connect_timeout=3) as connection:
            channel = connection.default_channel
            for name in queues:
                waiting[(name,)] = channel.queue_declare(queue=name, passive=True).message_count
            dead = channel.queue_declare(queue=DEAD_LETTER_QUEUE, passive=True).message_count
        yield gauge("sanctuary_consumer_queue_messages",
                    "Integration events waiting in this service's queues (consumer lag)", waiting, ["queue"])
        yield gauge("sanctuary_dead_letter_messages",
                    "Integration events waiting in the dead-letter queue for an operator", {(): dead})


def answers_rpc(service: type) -> bool:
    """Whether the service has RPC entrypoints (the gateway has none)."""
    return any(isinstance(entrypoint, Rpc) for _, member in inspect.getmembers(service)
               for entrypoint in getattr(member, "nameko_entrypoints", ()))


def _handlers(service: type) -> Iterable[tuple[str, IntegrationEventHandler]]:
    for name, member in inspect.getmembers(service):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entrypoint, IntegrationEventHandler):
                yield name, entrypoint


def consume(
    app: ServiceApplication,
    body: dict,
    react: Callable[[IntegrationEvent], Iterable[Any]],
) -> bool:
    """Apply one received event once. ``react`` returns the aggregates it changed.

    Returns False when the event had already been consumed.
    """
    event = parse_envelope(body)
    tracking = Tracking(event.origin, event.position)
    if app.has_consumed(tracking):
        CONSUMED.labels(event.origin, event.type, "duplicate").inc()
        return False
    saved = app.save_tracked(tracking, *react(event))
    CONSUMED.labels(event.origin, event.type, "handled" if saved else "duplicate").inc()
    return saved
