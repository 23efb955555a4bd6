"""A plain AMQP reader for tests: a durable queue of its own on a service's exchange."""

from __future__ import annotations

import json
import time

import kombu
from nameko.standalone.events import get_event_exchange


class Tap:
    def __init__(self, amqp_uri: str, origin: str, name: str = "test-tap") -> None:
        self.amqp_uri = amqp_uri
        self.queue = kombu.Queue(name, exchange=get_event_exchange(origin, {}),
                                 routing_key="#", durable=True)
        with kombu.Connection(amqp_uri) as connection:
            self.queue(connection.default_channel).declare()

    def read(self, expect: int, timeout: float = 15.0, settle: float = 0.5) -> list:
        """Messages until ``expect`` have come and ``settle`` seconds pass with no more."""
        got: list = []
        deadline = time.monotonic() + timeout
        quiet_since = None
        with kombu.Connection(self.amqp_uri) as connection:
            queue = self.queue(connection.default_channel)
            while time.monotonic() < deadline:
                message = queue.get(no_ack=True)
                if message is not None:
                    got.append(message)
                    quiet_since = None
                    continue
                if len(got) >= expect:
                    quiet_since = quiet_since or time.monotonic()
                    if time.monotonic() - quiet_since >= settle:
                        break
                time.sleep(0.05)
        return got


def body(message: kombu.Message) -> dict:
    return json.loads(message.body)
