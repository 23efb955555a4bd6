"""The ops endpoint every service process serves, apart from the public gateway:
``/metrics`` for Prometheus, ``/health/live`` and ``/health/ready``.

Live means the process answers. Ready means it can do its work: the broker
answers, and every dependency that can tell (the event store, the relay)
says it is fine. Each dependency provider with a ``readiness()`` method takes
part; it returns ``{check: None}`` when fine or ``{check: "why not"}``.

The endpoint starts only where an address is configured
(``SANCTUARY_OPS_ADDRESS``), so tests that run many containers in one process
do not fight over a port.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import eventlet
import eventlet.wsgi
import kombu
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc

from shared.config import version
from shared.errors import ALL as DOMAIN_ERRORS
from shared.messaging import broker_nodes
from shared.metrics import (
    BUILD,
    REGISTRY,
    RPC_CALLS,
    RPC_SECONDS,
    Gauges,
    Metric,
    exposition,
    gauge,
    read_gauges,
)

log = logging.getLogger(__name__)

BROKER_TIMEOUT = 3.0


def broker_readiness(amqp_uri: str) -> str | None:
    """None when the broker accepts a connection, else why not."""
    nodes = len(broker_nodes(amqp_uri))  # a cluster: any node that answers will do
    try:
        with kombu.Connection(amqp_uri, connect_timeout=BROKER_TIMEOUT) as connection:
            connection.ensure_connection(max_retries=nodes, timeout=BROKER_TIMEOUT * nodes)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"the broker did not answer: {exc}"
    return None


class OpsEndpoint(DependencyProvider):
    """Serves the process's metrics and health on its ops address."""

    def __init__(self) -> None:
        self._sock = None
        self._thread = None
        self._gauges: Gauges | None = None

    def setup(self) -> None:
        authority = self.container.config.get("SANCTUARY_AUTHORITY")
        BUILD.info({"service": self.container.service_name, "version": version(),
                    "authority": getattr(authority, "slug", "")})

    def start(self) -> None:
        address = self.container.config.get("SANCTUARY_OPS_ADDRESS")
        if not address:
            return
        host, _, port = address.rpartition(":")
        self._gauges = read_gauges(self.ready_gauge)  # only where scraped: it connects to the broker
        self._sock = eventlet.listen((host or "0.0.0.0", int(port)))
        self._thread = self.container.spawn_managed_thread(
            lambda: eventlet.wsgi.server(self._sock, self.wsgi, log_output=False),
            identifier="ops-endpoint")

    def stop(self) -> None:
        if self._gauges is not None:
            REGISTRY.unregister(self._gauges)
            self._gauges = None
        if self._thread is not None:
            self._thread.kill()
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    kill = stop

    # -- the endpoint ------------------------------------------------------------------

    def readiness(self) -> dict[str, str | None]:
        checks = {"broker": broker_readiness(self.container.config["AMQP_URI"])}
        for provider in self.container.dependencies:
            tell = getattr(provider, "readiness", None)
            if provider is not self and callable(tell):
                checks.update(tell())
        return checks

    def ready_gauge(self) -> list[Metric]:
        checks = {(name,): 0.0 if why else 1.0 for name, why in self.readiness().items()}
        return [gauge("sanctuary_ready", "1 when the check passes (broker, store, relay), as /health/ready",
                      checks, ["check"])]

    def wsgi(self, environ: dict, start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body, content_type = exposition(environ.get("HTTP_ACCEPT", ""))
            return _answer(start_response, 200, body, content_type)
        if path == "/health/live":
            return _json(start_response, 200, {"status": "live", "service": self.container.service_name})
        if path == "/health/ready":
            checks = self.readiness()
            failing = {name: why for name, why in checks.items() if why}
            body = {"status": "not ready" if failing else "ready",
                    "service": self.container.service_name,
                    "checks": {name: why or "ok" for name, why in checks.items()}}
            return _json(start_response, 503 if failing else 200, body)
        return _json(start_response, 404, {"error": "not found",
                                           "paths": ["/metrics", "/health/live", "/health/ready"]})


class RpcMetrics(DependencyProvider):
    """Counts and times every RPC the service serves, by method and outcome."""

    def __init__(self) -> None:
        self._started: dict[Any, float] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        if isinstance(worker_ctx.entrypoint, Rpc):
            self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        method = worker_ctx.entrypoint.method_name
        RPC_SECONDS.labels(method).observe(time.perf_counter() - started)
        RPC_CALLS.labels(method, _outcome(exc_info)).inc()


def _outcome(exc_info: Any) -> str:
    if exc_info is None:
        return "ok"
    return "refused" if isinstance(exc_info[1], DOMAIN_ERRORS) else "error"


def _json(start_response: Any, status: int, body: dict) -> list[bytes]:
    return _answer(start_response, status, json.dumps(body).encode(), "application/json")


def _answer(start_response: Any, status: int, body: bytes, content_type: str) -> list[bytes]:
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    start_response(f"{status} {reason}", [("Content-Type", content_type),
                                          ("Content-Length", str(len(body)))])
    return [body]
