"""Relay benchmark: throughput against raw confirmed publishing, and commit-to-bus
latency at idle. Prints a table and writes bench/results/relay.json.

    .venv/bin/python -m bench.relay [--events 2000] [--samples 200]

Needs RabbitMQ with its management plugin (as ./run-tests starts it).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import kombu
import requests

from services.pledges.application import Pledges
from services.pledges.contract import PLEDGES
from shared.authority import load_authority
from shared.bus import BusPublisher
from shared.config import ROOT, Settings
from shared.envelope import IntegrationEvent
from shared.outbox import OutboxRelay
from shared.relay_lock import relay_lock_for
from shared.store import store_env

API, AUTH = "http://127.0.0.1:15672/api", ("guest", "guest")
CONTACT = {"name": "Bench", "email": "bench@example.org"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    vhost = f"bench-{uuid.uuid4().hex[:8]}"
    requests.put(f"{API}/vhosts/{vhost}", auth=AUTH, timeout=10).raise_for_status()
    requests.put(f"{API}/permissions/{vhost}/guest", auth=AUTH, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    amqp = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    try:
        with tempfile.TemporaryDirectory() as data:
            results = run(amqp, Path(data), args.events, args.samples)
    finally:
        requests.delete(f"{API}/vhosts/{vhost}", auth=AUTH, timeout=30)
    report(results)


def run(amqp: str, data: Path, events: int, samples: int) -> dict:
    settings = Settings.from_env({"SANCTUARY_DATA_DIR": str(data)})
    rules = load_authority(ROOT / "deploy" / "authorities" / "coventry.toml").pledge
    app = Pledges(env=store_env("pledges", settings), rules=rules)
    bind_tap(amqp)
    raw = raw_publish_rate(amqp, events)
    for n in range(events):
        app.register_school("bench", f"{100000 + n}", f"School {n}", "primary", "CV1 2AB", CONTACT)
    relay = OutboxRelay(app, PLEDGES, "bench", BusPublisher(amqp, "pledges"),
                        relay_lock_for(app, settings))
    started = time.perf_counter()
    relay.drain()
    relay_rate = events / (time.perf_counter() - started)
    latencies = commit_to_bus(app, relay, amqp, samples, first_urn=100000 + events)
    return {
        "machine": f"{platform.node()} {platform.machine()} python {platform.python_version()}",
        "events": events, "raw_confirmed_publish_per_s": raw, "relay_per_s": relay_rate,
        "relay_vs_raw": relay_rate / raw,
        "commit_to_bus_ms": {"p50": pct(latencies, 50), "p99": pct(latencies, 99),
                             "max": max(latencies), "samples": len(latencies)},
    }


def bind_tap(amqp: str) -> None:
    with kombu.Connection(amqp) as connection:
        tap_queue(connection.default_channel).declare()


def tap_queue(channel: object) -> kombu.Queue:
    exchange = BusPublisher("", "pledges").exchange
    return kombu.Queue("bench-tap", exchange=exchange, routing_key="#", durable=True)(channel)


def raw_publish_rate(amqp: str, count: int) -> float:
    """The reference: the same messages, published with a confirm each, nothing else."""
    publisher = BusPublisher(amqp, "pledges")
    event = IntegrationEvent(id=str(uuid.uuid4()), type="Raw", schema_version=1, origin="pledges",
                             position=1, occurred_at="2026-11-23T00:00:00+00:00",
                             authority="bench", actor="bench", payload={"urn": "100000"})
    started = time.perf_counter()
    for _ in range(count):
        publisher.publish(event)
    rate = count / (time.perf_counter() - started)
    publisher.close()
    return rate


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


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def report(results: dict) -> None:
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "relay.json").write_text(json.dumps(results, indent=2))
    latency = results["commit_to_bus_ms"]
    print(f"machine: {results['machine']}")
    print(f"{'figure':44} {'value':>12}")
    print(f"{'raw kombu publish, confirm each (msg/s)':44} {results['raw_confirmed_publish_per_s']:12.0f}")
    print(f"{'outbox relay, SQLite (events/s)':44} {results['relay_per_s']:12.0f}")
    print(f"{'relay / raw':44} {results['relay_vs_raw']:12.2f}")
    print(f"{'commit to bus at idle, p50 (ms)':44} {latency['p50']:12.2f}")
    print(f"{'commit to bus at idle, p99 (ms)':44} {latency['p99']:12.2f}  (aim: < 200)")


if __name__ == "__main__":
    main()
