"""Relay benchmark: the outbox relay's throughput against raw kombu publishing to the same
broker, with a confirm per message and with no confirms at all, and commit-to-bus latency
at idle.

    .venv/bin/python -m bench.relay [--quick] [--events 2000] [--samples 200]

In process, on a temporary SQLite store and a virtual host of its own:

- raw, confirm each: the same envelope published ``events`` times with plain kombu on a
  connection with ``confirm_publish`` (each publish waits for its confirm), nothing else;
- raw, unconfirmed: the same without confirms (the client's writing, no promise kept: the
  broker takes the messages in after the bench has stopped timing);
- raw, confirms pipelined: the same on a channel in confirm mode, all sent and the
  confirms counted as they come, timed until the last (the broker's confirmed intake, the
  most any publisher that keeps its promise can reach on this machine);
- relay: ``events`` schools registered first, then ``OutboxRelay.drain()`` timed:
  read the log, map each notification to its public envelope, publish a batch with
  its confirms pipelined (the next batch read and sent while they come), record a
  batch's position once all of it is confirmed;
- commit to bus: the relay running in a thread as in a service; the time from
  calling ``register_school`` (the save, which wakes the relay) until a plain
  queue bound to ``pledges.events`` holds the message, one commit at a time with
  20 ms idle between.

The four rates are each the median of three rounds taken in turn (raw confirmed, raw
unconfirmed, relay; ``ROUNDS``): one take lasts a tenth of a second, and a single take
of the reference ranged 11,000-24,000 msg/s on one quiet machine within minutes.

Writes ``bench/results/relay.json``.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import kombu

from bench.common import Figure, run_alone, summary, vhost
from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from shared.authority import load_authority
from shared.bus import BusPublisher
from shared.config import ROOT, Settings
from shared.envelope import IntegrationEvent
from shared.outbox import OutboxRelay
from shared.relay_lock import relay_lock_for
from shared.store import store_env

CONTACT = {"name": "Bench", "email": "bench@example.org"}
SIZES = {False: {"events": 2000, "samples": 200}, True: {"events": 300, "samples": 40}}
ROUNDS = 3  # each rate is the median of three, taken in turn: one take of 2,000 lasts a tenth of a second


def measure(quick: bool = False, events: int | None = None, samples: int | None = None) -> list[Figure]:
    events = events or SIZES[quick]["events"]
    samples = samples or SIZES[quick]["samples"]
    with vhost("bench-relay") as amqp, tempfile.TemporaryDirectory() as data:
        return run(amqp, Path(data), events, samples)


def pledges_app(data: Path) -> tuple[Pledges, Settings]:
    settings = Settings.from_env({"SANCTUARY_DATA_DIR": str(data)})
    rules = load_authority(ROOT / "deploy" / "authorities" / "coventry.toml").pledge
    return Pledges(env=store_env("pledges", settings), rules=rules), settings


def run(amqp: str, data: Path, events: int, samples: int) -> list[Figure]:
    app, settings = pledges_app(data)
    bind_tap(amqp)
    relay = OutboxRelay(app, PLEDGES, "bench", BusPublisher(amqp, "pledges"),
                        relay_lock_for(app, settings))
    rates: dict[str, list[float]] = {"confirmed": [], "unconfirmed": [], "pipelined": [], "relay": []}
    for round_ in range(ROUNDS):  # interleaved: a passing disturbance touches all four alike
        for confirms in ("confirmed", "unconfirmed", "pipelined"):
            rates[confirms].append(raw_publish_rate(amqp, events, confirms))
        rates["relay"].append(relay_rate(app, relay, events, first_urn=100000 + round_ * events))
    confirmed, unconfirmed, pipelined, relayed = (statistics.median(rates[k]) for k in rates)
    latency = summary(commit_to_bus(app, relay, amqp, samples, first_urn=100000 + ROUNDS * events))
    app.close()
    size = {"events": events, "batch": relay.batch_size, "rounds": ROUNDS,
            "events_per_s": {k: [round(r) for r in v] for k, v in rates.items()}}
    return [
        Figure("relay throughput", relayed, "events/s", confirmed, "raw kombu, confirm each",
               "ratio >= 1.0", relayed / confirmed >= 1.0, size),
        Figure("relay throughput against unconfirmed", relayed, "events/s", unconfirmed,
               "raw kombu, no confirms", "ratio >= 0.5", relayed / unconfirmed >= 0.5, size),
        Figure("relay throughput against the broker's confirmed intake", relayed, "events/s", pipelined,
               "raw kombu, confirms pipelined", detail=size),
        Figure("commit to bus at idle, p50", latency["p50"], "ms", detail=latency),
        Figure("commit to bus at idle, p99", latency["p99"], "ms", aim="< 200 ms",
               met=latency["p99"] < 200, detail=latency),
    ]


def relay_rate(app: Pledges, relay: OutboxRelay, events: int, first_urn: int) -> float:
    """``events`` schools registered, then the relay's drain of them timed: events/s."""
    for n in range(events):
        app.register_school("bench", f"{first_urn + n}", f"School {n}", "primary", "CV1 2AB", CONTACT)
    started = time.perf_counter()
    relay.drain()
    return events / (time.perf_counter() - started)


def bind_tap(amqp: str) -> None:
    with kombu.Connection(amqp) as connection:
        tap_queue(connection.default_channel).declare()


def tap_queue(channel: object) -> kombu.Queue:
    exchange = BusPublisher("", "pledges").exchange
    return kombu.Queue("bench-tap", exchange=exchange, routing_key="#", durable=True)(channel)


def raw_publish_rate(amqp: str, count: int, confirms: str = "confirmed") -> float:
    """A reference: the same message published ``count`` times with plain kombu, ``confirms``
    "confirmed" (each publish waits for its confirm, ``confirm_publish``), "unconfirmed" (none
    asked) or "pipelined" (a channel in confirm mode, timed until the last confirm is in)."""
    exchange = BusPublisher("", "pledges").exchange
    event = IntegrationEvent(id=str(uuid.uuid4()), type="Raw", schema_version=1, origin="pledges",
                             position=1, occurred_at="2026-11-23T00:00:00+00:00",
                             authority="bench", actor="bench", payload={"urn": "100000"})
    body = json.dumps(event.to_dict())
    options = {"confirm_publish": confirms == "confirmed"}
    with kombu.Connection(amqp, transport_options=options) as connection:
        channel, confirmed = connection.channel(), [0]
        if confirms == "pipelined":
            channel.events["basic_ack"].add(lambda tag, multiple: confirmed.__setitem__(0, tag))
            channel.confirm_select()
        producer = kombu.Producer(channel)
        exchange(channel).declare()
        started = time.perf_counter()
        for _ in range(count):
            producer.publish(body, exchange=exchange, routing_key=event.type, content_type="application/json",
                             content_encoding="utf-8", delivery_mode=2, message_id=event.message_id,
                             headers={"schema_version": 1}, retry=False)
        while confirms == "pipelined" and confirmed[0] < count:
            connection.drain_events(timeout=10)
        return count / (time.perf_counter() - started)


def commit_to_bus(app: Pledges, relay: OutboxRelay, amqp: str, samples: int,
                  first_urn: int) -> list[float]:
    stop = threading.Event()
    runner = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    runner.start()
    latencies = []
    with kombu.Connection(amqp) as connection:
        queue = tap_queue(connection.default_channel)
        queue.purge()
        for n in range(samples):
            time.sleep(0.02)  # idle between commits
            started = time.perf_counter()
            app.register_school("bench", f"{first_urn + n}", "S", "primary", "CV1 2AB", CONTACT)
            while queue.get(no_ack=True) is None:
                time.sleep(0.0005)
            latencies.append((time.perf_counter() - started) * 1000)
    stop.set()
    relay.wake()
    runner.join(10)
    return latencies


def main() -> None:
    run_alone("relay", __doc__, measure, events=int, samples=int)


if __name__ == "__main__":
    main()
