"""A service starting against a broker that does not answer says so, and asks it for as few
connections as it can: a broker at its file descriptor limit accepts no new connection, and
forty handlers each opening one at once (and waiting in silence) was the start hang of
issue 23 (shared/consumer.py)."""

from __future__ import annotations

import logging
import socket

import eventlet
import pytest

from shared import consumer


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on leaving: nothing listens there


def test_waiting_for_the_broker_is_logged_then_given_up(monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(consumer, "BROKER_PATIENCE", {"max_retries": 2, "interval_start": 0,
                                                      "interval_step": 0, "interval_max": 0})
    uri = f"amqp://guest:secret@127.0.0.1:{closed_port()}/somewhere"
    with caplog.at_level(logging.WARNING, logger=consumer.__name__), pytest.raises(Exception):  # noqa: B017
        consumer.connect_patiently(uri)
    waits = [r.getMessage() for r in caplog.records if "waiting for the broker" in r.getMessage()]
    assert len(waits) == 2, waits
    assert "/somewhere" in waits[0] and "secret" not in waits[0]  # where, without the password


def test_a_process_declares_the_dead_letter_queue_once_however_many_handlers_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []

    class Connection:
        def __init__(self, uri: str) -> None:
            opened.append(uri)
            eventlet.sleep(0.01)  # the other handlers' setups run meanwhile
            self.default_channel = None

        def __enter__(self) -> Connection:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    class Queue:
        def __call__(self, channel: object) -> Queue:  # bound to the channel
            return self

        def declare(self) -> None:
            pass

    monkeypatch.setattr(consumer, "connect_patiently", Connection)
    monkeypatch.setattr(consumer, "dead_letter_queue", Queue)
    uri = "amqp://guest:guest@127.0.0.1:5672/unit-declare-once"
    pool = eventlet.GreenPool()
    for _ in range(40):
        pool.spawn(consumer.declare_dead_letter_queue, uri)
    pool.waitall()
    assert opened == [uri]
