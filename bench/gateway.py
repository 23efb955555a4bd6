"""Command throughput through the gateway against the event store's raw save rate.

    .venv/bin/python -m bench.gateway [--quick] [--schools 1000] [--clients 8]

- through the gateway: ``clients`` threads, each with its own ``requests.Session``
  (kept-alive connection) and the lead's API token, take schools from a shared
  list and for each send ``POST /schools`` (register) then
  ``POST /schools/<urn>/interest``: two commands per school, each one HTTP
  request -> gateway (the caller's principal remembered after the first request,
  services/gateway/principals.py) -> pledges RPC -> domain ->
  SQLite commit (-> relay wakes and publishes). Commands per second over the
  wall time, with each request's latency and every non-2xx counted as an error.
- where the machine's CPU went, per command: each process of the stack, the broker's
  node and this process (the load client); when the figure is CPU-bound, the sum
  times the rate is about the machine's cores.
- raw save rate (the reference): the same two commands for as many schools,
  called directly on a ``Pledges`` application in this process on a temporary
  SQLite store: the domain, encryption of personal data and the commit, without
  HTTP, RPC, the broker or the relay.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.common import Figure, run_alone, summary
from bench.relay import CONTACT, pledges_app
from bench.stack import Stack, maybe_started

SIZES = {False: {"schools": 1000, "clients": 8}, True: {"schools": 100, "clients": 4}}
FIRST_URN = 400000
AIM = 0.15  # of the raw save rate


def measure(stack: Stack | None = None, quick: bool = False, schools: int | None = None,
            clients: int | None = None) -> list[Figure]:
    schools = schools or SIZES[quick]["schools"]
    clients = clients or SIZES[quick]["clients"]
    raw = raw_save_rate(schools)
    with maybe_started(stack, "bench-gateway") as stack:
        return figures(through_gateway(stack, schools, clients), raw, clients)


def raw_save_rate(schools: int) -> float:
    """Commands per second saved directly through the Pledges application."""
    with tempfile.TemporaryDirectory() as data:
        app, _ = pledges_app(Path(data))
        started = time.perf_counter()
        for n in range(schools):
            urn = str(FIRST_URN + n)
            app.register_school("bench", urn, f"School {n}", "primary", "CV1 2AB", CONTACT)
            app.express_interest("bench", urn)
        rate = 2 * schools / (time.perf_counter() - started)
        app.close()
    return rate


def through_gateway(stack: Stack, schools: int, clients: int) -> dict:
    urns = iter(range(FIRST_URN, FIRST_URN + schools))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def client() -> None:
        session = stack.session()
        while True:
            with lock:
                number = next(urns, None)
            if number is None:
                return
            for method, path, body in commands(str(number)):
                took, error = timed(session, method, stack.url(path), body)
                with lock:
                    latencies.append(took)
                    if error:
                        errors.append(error)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    cpu_before = stack.machine_cpu_seconds()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    cpu = {name: round((used - cpu_before.get(name, 0.0)) * 1000 / max(len(latencies), 1), 3)
           for name, used in stack.machine_cpu_seconds().items()}
    return {"seconds": seconds, "commands": len(latencies), "errors": errors,
            "latency_ms": summary(latencies), "cpu_ms_per_command": cpu,
            "cpu_ms_per_command_all": round(sum(cpu.values()), 2), "cores": os.cpu_count()}


def commands(urn: str) -> list[tuple[str, str, dict]]:
    register = {"urn": urn, "name": f"Busy School {urn}", "phase": "secondary", "postcode": "CV2 4AB",
                "coordinator": {"name": "Busy Coordinator", "email": f"busy.{urn}@bench.example.org"}}
    return [("POST", "/schools", register), ("POST", f"/schools/{urn}/interest", {})]


def timed(session: requests.Session, method: str, url: str, body: dict | None = None) -> tuple[float, str]:
    """Milliseconds the request took, and what went wrong ('' if it answered 2xx)."""
    started = time.perf_counter()
    try:
        response = session.request(method, url, json=body, timeout=30)
        error = "" if response.ok else f"{method} {url}: {response.status_code} {response.text[:200]}"
    except requests.RequestException as exc:
        error = f"{method} {url}: {exc}"
    return (time.perf_counter() - started) * 1000, error


def figures(run: dict, raw: float, clients: int) -> list[Figure]:
    ok = run["commands"] - len(run["errors"])
    rate = ok / run["seconds"]
    detail = {"clients": clients, **{k: v for k, v in run.items() if k != "errors"},
              "errors": len(run["errors"]), "first_errors": run["errors"][:5]}
    return [
        Figure(f"gateway command throughput, {clients} clients", rate, "commands/s", raw,
               "raw save, in process", f"ratio >= {AIM:g}", rate / raw >= AIM, detail=detail),
        Figure("gateway command, CPU of the whole machine per command", run["cpu_ms_per_command_all"],
               "ms", detail={"per_process_ms": run["cpu_ms_per_command"], "cores": run["cores"]}),
        Figure("gateway command latency under that load, p50", run["latency_ms"]["p50"], "ms"),
        Figure("gateway command latency under that load, p99", run["latency_ms"]["p99"], "ms"),
        Figure("gateway load errors", len(run["errors"]), "", aim="= 0", met=not run["errors"],
               detail=detail),
    ]


def main() -> None:
    run_alone("gateway", __doc__, measure, schools=int, clients=int)


if __name__ == "__main__":
    main()
