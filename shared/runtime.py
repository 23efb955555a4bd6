"""What every nameko service of ours needs, written once.

``EventSourcedApp`` builds the service's Application in ``setup()`` and runs
its outbox relay in a managed green thread; ``ServiceBase`` gives every
service a ``health`` RPC. Importing this module registers our domain errors
with nameko, so they cross RPC as themselves (the gateway maps them to HTTP).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from nameko.exceptions import get_module_path, registry
from nameko.extensions import DependencyProvider

from shared import errors
from shared.authority import Authority, load_authority
from shared.bus import BusPublisher
from shared.config import Settings
from shared.consumer import QueueGauges, integration_handler
from shared.envelope import Contract
from shared.messaging import Rpc
from shared.metrics import REGISTRY, Gauges, Metric, gauge, read_gauges
from shared.operations import Api, Operation
from shared.ops import OpsEndpoint, RpcMetrics
from shared.outbox import OutboxRelay
from shared.personal import SubjectErased
from shared.relay_lock import relay_lock_for
from shared.request_trail import RequestTrail, note_account
from shared.store import ServiceApplication
from shared.witness import HEAD, HEADS, witness

for _error in errors.ALL:
    registry[get_module_path(_error)] = _error
registry[get_module_path(SubjectErased)] = errors.Conflict  # crosses as the 409 it is

# An RPC whose domain refusals (404, 409, 422 ...) are expected answers, not
# failures: nameko logs them as such instead of as crashes. (Our Rpc: a broker outage is
# never fatal to the process, shared/messaging.py.)
rpc = Rpc.decorator(expected_exceptions=errors.ALL)

Build = Callable[[Settings, Authority], ServiceApplication]


def serve(api: type[Api]) -> Callable[[type], type]:
    """Give a nameko service class one RPC entrypoint per operation ``api`` declares."""
    def decorate(cls: type) -> type:
        cls.api = api
        for operation in api.operations():
            setattr(cls, operation.name, rpc(_entrypoint(operation)))
        return cls
    return decorate


def _entrypoint(operation: Operation) -> Callable[..., Any]:
    def entry(self: Any, *arguments: Any) -> Any:
        if operation.allow is not None and arguments:
            note_account(arguments[0])  # the principal: its account id goes on this request's lines
        try:
            return operation.invoke(self.application, *arguments)
        except (OperationalError, InterfaceError) as error:  # the store is away, or locked too long
            raise errors.Unavailable("This part of the service cannot reach its records just now; "
                                     "try again in a minute.") from error
    entry.__name__ = entry.__qualname__ = operation.name
    return entry

RELAY_SILENT_AFTER = 30.0  # seconds without a turn of the relay loop before it counts as stuck


def settings_of(config: dict) -> Settings:
    return config.get("SANCTUARY_SETTINGS") or Settings.from_env()


class EventSourcedApp(DependencyProvider):
    """Injects the service's Application; relays its events to the bus."""

    def __init__(self, build: Build, contract: Contract | None = None,
                 gauges: Callable[[Any], Iterable[Metric]] | None = None,
                 prepare: Callable[[Any], None] | None = None) -> None:
        self.build = build
        self.contract = contract
        self.prepare = prepare  # run once the application is built, before the service starts
        self.gauges = gauges  # the service's domain gauges, read from its application
        self.app: ServiceApplication | None = None
        self.relay: OutboxRelay | None = None
        self._stop = threading.Event()
        self._thread = None
        self._gauges: list[Gauges] = []

    def setup(self) -> None:
        settings = settings_of(self.container.config)
        authority = self.container.config.get("SANCTUARY_AUTHORITY") or load_authority(
            settings.authority_file)
        self.app = self.build(settings, authority)
        if self.prepare is not None:
            self.prepare(self.app)
        # every service runs a relay: it publishes what the contract makes public, and the chain's head
        contract = self.contract or Contract(self.app.name, {})
        self.relay = OutboxRelay(
            self.app, contract, authority.slug, BusPublisher(settings.amqp_uri, contract.origin),
            relay_lock_for(self.app, settings),
        )
        self.app.relay = self.relay
        self._gauges = [read_gauges(self.relay_gauges)]
        if self.gauges is not None:
            self._gauges.append(read_gauges(lambda: self.gauges(self.app)))

    def relay_gauges(self) -> Iterable[Metric]:
        position = self.app.recorder_.max_notification_id() or 0
        stats = self.relay.stats
        yield gauge("sanctuary_store_position", "The newest position in the service's event log",
                    {(): position})
        yield gauge("sanctuary_relay_lag_events", "Events stored but not yet published",
                    {(): position - self.relay.published_position()})
        yield gauge("sanctuary_relay_running", "1 while this instance holds the relay lock",
                    {(): float(stats.running)})
        yield gauge("sanctuary_relay_last_publish_timestamp_seconds",
                    "When the relay last published an event (Unix time; 0: not since start)",
                    {(): stats.last_published_at or 0.0})
        yield gauge("sanctuary_relay_last_turn_timestamp_seconds",
                    "When the relay loop last turned (Unix time): a stuck relay stops turning",
                    {(): stats.beat_at or 0.0})
        yield gauge("sanctuary_relay_failures", "Relay attempts that failed since start",
                    {(): stats.failures_total})

    def readiness(self) -> dict[str, str | None]:
        """The store answers, and the relay loop turns."""
        try:
            self.app.recorder_.max_notification_id()
            store = None
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            store = f"the event store did not answer: {exc}"
        beat = self.relay.stats.beat_at if self.relay else None
        relay = None
        if beat is None or time.time() - beat > RELAY_SILENT_AFTER:
            relay = "the outbox relay is not running"
        return {"store": store, "relay": relay}

    def start(self) -> None:
        self._stop.clear()
        self._thread = self.container.spawn_managed_thread(
            lambda: self.relay.run(self._stop), identifier=f"{self.app.name}-relay")

    def stop(self) -> None:
        self._stop.set()
        if self.relay is not None:
            self.relay.wake()
        if self._thread is not None:
            self._thread.wait()
            self._thread = None
        for collector in self._gauges:
            REGISTRY.unregister(collector)
        self._gauges = []
        if self.app is not None:
            self.app.close()

    def kill(self) -> None:
        self._stop.set()

    def get_dependency(self, worker_ctx: Any) -> ServiceApplication:
        return self.app


class ServiceBase:
    """Mixed into every service: ``application`` must be an ``EventSourcedApp``."""

    application: Any
    ops = OpsEndpoint()
    rpc_metrics = RpcMetrics()
    trail = RequestTrail()  # the request id on every line, passed on with every RPC
    queue_gauges = QueueGauges()

    @integration_handler(HEADS, HEAD)
    def witness_head(self, body: dict) -> None:
        """Record another service's chain head in this service's store (shared/witness.py)."""
        witness(self.application, body)

    @rpc
    def health(self) -> dict:
        app = self.application
        relay = app.relay
        status = {"position": app.recorder_.max_notification_id() or 0}
        if relay is not None:
            status["relay"] = {
                "running": relay.stats.running,
                "lag": relay.lag(),
                "published_total": relay.stats.published_total,
                "last_published_at": relay.stats.last_published_at,
            }
        return status
