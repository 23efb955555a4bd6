"""Publishing integration events to RabbitMQ in nameko's wire format.

Exchange ``<service>.events`` (topic, durable, declared exactly as nameko
declares it), routing key = event type, JSON body, persistent, and
``message_id`` = ``<service>:<position>``. Every publish waits for the
broker's confirm, so "published" means RabbitMQ has taken responsibility.

Confirms are pipelined: ``publish_all`` sends a whole batch, many messages in flight,
and returns once the broker has confirmed every one of them (RabbitMQ acknowledges
several at once, ``multiple``); ``send_all`` and ``await_confirmed`` are its two halves,
for a caller (the relay) that prepares its next batch while the last one's confirms come.
The channel is put in confirm mode once and the acks are counted as they arrive (py-amqp's
``basic_ack`` events), rather than kombu's ``confirm_publish``, which waits for each
message's confirm before sending the next.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

import kombu
from amqp.exceptions import MessageNacked
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
        self._confirms = _Confirms()

    def publish(self, event: IntegrationEvent, via: str | None = None) -> None:
        """Publish one event and wait for the broker's confirm; raises on failure. ``via``: the
        exchange of that pseudo-origin instead (the chain heads', shared/witness.py), on the
        same connection."""
        self.publish_all([event], via)

    def publish_all(self, events: Iterable[IntegrationEvent], via: str | None = None) -> int:
        """Publish every event, all in flight at once, and return (how many) once the broker has
        confirmed them all. Raises if any is refused or unconfirmed after ``CONFIRM_TIMEOUT``:
        then some may have been taken and some not, so the caller publishes them all again."""
        events = list(events)
        self.await_confirmed(self.send_all(events, via))
        return len(events)

    def send_all(self, events: Iterable[IntegrationEvent], via: str | None = None) -> int:
        """Send every event without waiting for its confirm; returns the mark to give
        ``await_confirmed`` (the channel's last delivery tag). Raises as ``publish_all`` does."""
        try:
            producer = self._ensure_producer()
            exchange = self.exchange if via is None else get_event_exchange(via, {})
            if exchange.name not in self._declared:
                exchange(producer.channel).declare()
                self._declared.add(exchange.name)
            for event in events:
                self._send(producer, exchange, event)
            return self._confirms.sent
        except Exception:
            self.close()  # a fresh connection next time
            raise

    def await_confirmed(self, mark: int) -> None:
        """Return once the broker has confirmed every message sent up to ``mark``; raises if one
        was refused, the connection failed, or a confirm has not come within ``CONFIRM_TIMEOUT``."""
        try:
            deadline = time.monotonic() + CONFIRM_TIMEOUT
            while not self._confirms.all_in(mark):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the broker confirmed {self._confirms.confirmed} of "
                                       f"{mark} messages within {CONFIRM_TIMEOUT:.0f} s")
                self._connection.drain_events(timeout=left)
        except Exception:
            self.close()
            raise

    def _send(self, producer: kombu.Producer, exchange: kombu.Exchange, event: IntegrationEvent) -> None:
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
        )
        self._confirms.sent += 1

    def _ensure_producer(self) -> kombu.Producer:
        if self._producer is None:
            connection = kombu.Connection(
                self.amqp_uri,
                # named, so an operator (or a fault test) can find it in the broker's connection list
                transport_options={"client_properties": {"connection_name": self.connection_name}},
                connect_timeout=5,
                heartbeat=0,
            )
            connection.ensure_connection(max_retries=len(broker_nodes(self.amqp_uri)))  # each node once
            channel = connection.channel()
            confirms = _Confirms()
            channel.events["basic_ack"].add(confirms.ack)
            channel.events["basic_nack"].add(confirms.nack)
            channel.confirm_select()
            producer = kombu.Producer(channel)
            self._connection, self._producer, self._declared = connection, producer, set()
            self._confirms = confirms
        return self._producer

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # already broken; nothing to clean
                log.debug("closing a broken AMQP connection", exc_info=True)
        self._connection = self._producer = None


class _Confirms:
    """The broker's confirms on one channel: its delivery tags count the messages published
    on it from 1, and an ack with ``multiple`` confirms every tag up to its own."""

    def __init__(self) -> None:
        self.sent = 0
        self.confirmed = 0  # every tag up to this one is confirmed
        self._singles: set[int] = set()  # confirmed one by one, above ``confirmed``
        self.refused = False

    def ack(self, tag: int, multiple: bool) -> None:
        if multiple:
            self.confirmed = max(self.confirmed, tag)
        else:
            self._singles.add(tag)
        while self.confirmed + 1 in self._singles:
            self.confirmed += 1
        self._singles = {t for t in self._singles if t > self.confirmed}

    def nack(self, tag: int, multiple: bool) -> None:
        self.refused = True

    def all_in(self, mark: int) -> bool:
        """Whether every message up to ``mark`` is confirmed; raises once any was refused."""
        if self.refused:
            raise MessageNacked("the broker refused a message")
        return self.confirmed >= mark
