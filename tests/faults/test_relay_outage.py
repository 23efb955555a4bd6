"""The outbox relay while the broker is away: it stops the broker, so it runs with the fault
tests, on their own broker (tests/faults/conftest.py), sparing every other test's."""

from __future__ import annotations

import threading

from shared.envelope import parse_envelope
from tests.faults.conftest import rabbitmqctl
from tests.integration import test_relay
from tests.integration.bus_tap import Tap, body
from tests.integration.test_relay import CONTACT, _wait, relay_for

pledges = test_relay.pledges  # the fixture: pledges on the store under test


def test_an_event_committed_while_rabbitmq_is_stopped_is_published_when_it_is_back(
        pledges, store, amqp_uri) -> None:
    tap = Tap(amqp_uri, "pledges")
    relay = relay_for(pledges, store, amqp_uri)
    stop = threading.Event()
    runner = threading.Thread(target=relay.run, args=(stop,), kwargs={"retry_max": 1.0})
    runner.start()
    try:
        rabbitmqctl("stop_app")
        try:
            pledges.register_school("lead", "100001", "Hill", "primary", "CV1 2AB", CONTACT)
            _wait(lambda: relay.stats.failures_total >= 2, 30, "the relay to try and fail")
            assert relay.lag() == 1
        finally:
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup")
        _wait(lambda: relay.lag() == 0, 60, "the relay to catch up")
    finally:
        stop.set()
        relay.wake()
        runner.join(30)
    messages = tap.read(expect=1)
    assert [parse_envelope(body(m)).type for m in messages] == ["SchoolRegistered"]
