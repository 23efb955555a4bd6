"""Publishing integration events to RabbitMQ in nameko's wire format.

Exchange ``<service>.events`` (topic, durable, declared exactly as nameko
declares it), routing key = event type, JSON body, persistent, and
``message_id`` = ``<service>:<position>``. Every publish waits for the
broker's confirm, so "published" means RabbitMQ has taken responsibility.
"""

from __future__ import annotations

import json
import logging

import kombu
from nameko.standalone.events import get_event_exchange

from shared.envelope import IntegrationEvent
from shared.messaging import broker_nodes

log = logging.getLogger(__name__)

# a confirm that has not come by then (a half-open connection, heartbeat off) is a failed publish:
# the relay publishes again on a fresh connection rather than wait for ever
CONFIRM_TIMEOUT = 10.0  # seconds


class BusPublisher:
    def __init__(self, amqp_uri: str, origin: str) -> None:
        self.amqp_uri = amqp_uri
        self.exchange = get_event_exchange(origin, {})
        self.connection_name = f"{origin} relay"
        self._connection: kombu.Connection | None = None
        self._producer: kombu.Producer | None = None
        self._declared: set[str] = set()

    def publish(self, event: IntegrationEvent, via: str | None = None) -> None:
        """Publish one event and wait for the broker's confirm; raises on failure. ``via``: the
        exchange of that pseudo-origin instead (the chain heads', shared/witness.py), on the
        same connection."""
        try:
            producer = self._ensure_producer()
            exchange = self.exchange if via is None else get_event_exchange(via, {})
            if exchange.name not in self._declared:
                exchange(producer.channel).declare()
                self._declared.add(exchange.name)
            producer.publish(
                json.dumps(event.to_dict()),
                exchange=exchange,
                routing_key=event.type,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=event.message_id,
                headers={"schema_version": event.schema_version},
                retry=False,
                timeout=CONFIRM_TIMEOUT,
                confirm_timeout=CONFIRM_TIMEOUT,
            )
        except Exception:
            self.close()  # a fresh connection next time
            raise

    def _ensure_producer(self) -> kombu.Producer:
        if self._producer is None:
            connection = kombu.Connection(
                self.amqp_uri,
                # named, so an operator (or a fault test) can find it in the broker's connection list
                transport_options={"confirm_publish": True,
                                   "client_properties": {"connection_name": self.connection_name}},
                connect_timeout=5,
                heartbeat=0,
            )
            connection.ensure_connection(max_retries=len(broker_nodes(self.amqp_uri)))  # each node once
            producer = kombu.Producer(connection.channel())
            self._connection, self._producer, self._declared = connection, producer, set()
        return self._producer

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # already broken; nothing to clean
                log.debug("closing a broken AMQP connection", exc_info=True)
        self._connection = self._producer = None
