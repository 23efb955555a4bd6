"""The outbox relay against a real RabbitMQ, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest

from services.applications.application import Applications
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from shared.bus import BusPublisher
from shared.consumer import consume
from shared.envelope import parse_envelope
from shared.outbox import OutboxRelay
from shared.relay_lock import AdvisoryRelayLock, advisory_lock_names, lock_key, relay_lock_for
from tests.integration.bus_tap import Tap, body

CONTACT = {"name": "Ann Coordinator", "email": "ann@example.org"}
JOURNEY = ["SchoolRegistered", "InterestExpressed", "CommitmentRecorded", "CommitmentRecorded",
           "PledgeSigned"]


@pytest.fixture
def pledges(store, coventry):
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    yield app
    app.close()


def relay_for(app: Pledges, store, amqp_uri: str) -> OutboxRelay:
    return OutboxRelay(app, PLEDGES, "coventry", BusPublisher(amqp_uri, "pledges"),
                       relay_lock_for(app, store.settings))


def journey(app: Pledges, urn: str) -> None:
    app.register_school("lead", urn, f"School {urn}", "primary", "CV1 2AB", CONTACT)
    app.express_interest("lead", urn)
    app.record_commitment("lead", urn, "slt", "Ms Head", "Head teacher")
    app.record_commitment("lead", urn, "governors", "Mr Chair", "Chair")
    app.sign_pledge("coordinator", urn, "Ms Head", "Head teacher")


def test_every_committed_event_is_published_once_in_order(pledges, store, amqp_uri) -> None:
    tap = Tap(amqp_uri, "pledges")
    journey(pledges, "100001")
    journey(pledges, "100002")
    relay = relay_for(pledges, store, amqp_uri)
    assert relay.lag() == 10
    assert relay.drain() == 10
    assert relay.drain() == 0
    assert relay.lag() == 0
    messages = tap.read(expect=10)
    events = [parse_envelope(body(m)) for m in messages]
    assert [e.position for e in events] == list(range(1, 11))
    assert [e.type for e in events] == JOURNEY * 2
    assert [m.properties["message_id"] for m in messages] == [f"pledges:{n}" for n in range(1, 11)]
    assert [m.delivery_info["routing_key"] for m in messages] == JOURNEY * 2
    assert all(m.properties["delivery_mode"] == 2 for m in messages)
    assert {e.authority for e in events} == {"coventry"}


def test_a_crash_between_publish_and_tracking_is_a_duplicate_the_consumer_ignores(
        tmp_path, coventry, amqp_uri) -> None:
    from shared.config import Settings
    from tests.components import Store

    store = Store("sqlite", Settings.from_env({"SANCTUARY_DATA_DIR": str(tmp_path)}), {})
    app = Pledges(env=store.env("pledges"), rules=coventry.pledge)
    tap = Tap(amqp_uri, "pledges")
    journey(app, "100001")
    child_env = {**os.environ, "SANCTUARY_CRASH_AT": "relay.after_publish",
                 "RELAY_TEST_STORE_ENV": json.dumps(store.env("pledges")),
                 "RELAY_TEST_AMQP_URI": amqp_uri, "RELAY_TEST_DIR": str(tmp_path)}
    child = subprocess.run([sys.executable, "-m", "tests.integration.relay_crash"],
                           env=child_env, capture_output=True, timeout=60)
    assert child.returncode == -9, child.stderr.decode()[-2000:]

    relay = relay_for(app, store, amqp_uri)
    assert relay.published_position() == 0  # the crash came before tracking
    assert relay.drain() == 5               # so everything goes again
    messages = tap.read(expect=10)
    assert [parse_envelope(body(m)).position for m in messages] == [1, 2, 3, 4, 5] * 2

    consumer = Applications(env=store.env("applications"), authority=coventry)
    try:
        applied = [consume(consumer, body(m), consumer.learn_pledge_news) for m in messages]
        assert applied == [True] * 5 + [False] * 5
        standing = consumer.pledge_standing("100001")
        assert standing["may_apply"] is True
        assert standing["news"] == {"SchoolRegistered": 1, "PledgeSigned": 5}
        # three pieces of news it keeps, plus tracking only for the two it does not
        assert consumer.recorder.max_notification_id() == 3
    finally:
        consumer.close()
        app.close()


def test_a_commit_wakes_the_relay_without_waiting_for_a_poll(pledges, store, amqp_uri) -> None:
    """The relay polls only once a minute here, so delivery proves it was woken."""
    tap = Tap(amqp_uri, "pledges")
    relay = relay_for(pledges, store, amqp_uri)
    stop = threading.Event()
    runner = threading.Thread(target=relay.run, args=(stop,), kwargs={"idle_poll": 60.0})
    runner.start()
    try:
        _wait(lambda: relay.stats.running, 10, "the relay to start")
        time.sleep(0.2)  # let it go idle
        pledges.register_school("lead", "100001", "Hill", "primary", "CV1 2AB", CONTACT)
        assert len(tap.read(expect=1, timeout=10, settle=0.1)) == 1
    finally:
        stop.set()
        relay.wake()
        runner.join(30)


def test_only_one_relay_per_service_holds_the_lock(pledges, store) -> None:
    first = relay_lock_for(pledges, store.settings)
    second = relay_lock_for(pledges, store.settings)
    try:
        assert first.acquire() is True
        assert first.acquire() is True  # still held
        assert second.acquire() is False
        first.release()
        assert second.acquire() is True
    finally:
        first.release()
        second.release()


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_relays_in_other_schemas_of_one_database_do_not_wait_for_each_other(pledges, store) -> None:
    schema = pledges.env["POSTGRES_SCHEMA"]
    lock = relay_lock_for(pledges, store.settings)  # the pledges relay's keys: this schema's, and shared
    assert (lock.key, lock.shared_keys) == (lock_key(f"sanctuary-relay:{schema}.pledges"),
                                            (lock_key("sanctuary-relay:pledges"),))
    # the same keys for a service no other test's relay runs: the per-database key is the whole
    # database's, held shared by every pledges relay of the suite's other streams meanwhile
    service = f"relay_test_{uuid.uuid4().hex[:8]}"
    ours = AdvisoryRelayLock(lock.conninfo, *advisory_lock_names(service, schema))
    theirs = AdvisoryRelayLock(lock.conninfo, *advisory_lock_names(service, "another_deployment"))
    earlier_release = AdvisoryRelayLock(lock.conninfo, f"sanctuary-relay:{service}")  # its per-database key
    try:
        assert ours.acquire() is True
        assert theirs.acquire() is True  # another schema: not blocked
        assert earlier_release.acquire() is False  # an old relay overlapping an upgrade waits
        ours.release()
        theirs.release()
        assert earlier_release.acquire() is True
        assert ours.acquire() is False  # and a new one waits for an old one still running
    finally:
        for lock in (ours, theirs, earlier_release):
            lock.release()




def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
