"""What every nameko service of ours needs, written once.

``EventSourcedApp`` builds the service's Application in ``setup()`` and runs
its outbox relay in a managed green thread; ``ServiceBase`` gives every
service a ``health`` RPC. Importing this module registers our domain errors
with nameko, so they cross RPC as themselves (the gateway maps them to HTTP).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from nameko.exceptions import get_module_path, registry
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc as nameko_rpc

from shared import errors
from shared.authority import Authority, load_authority
from shared.bus import BusPublisher
from shared.config import Settings
from shared.envelope import Contract
from shared.outbox import OutboxRelay
from shared.personal import SubjectErased
from shared.relay_lock import relay_lock_for
from shared.store import ServiceApplication

for _error in errors.ALL:
    registry[get_module_path(_error)] = _error
registry[get_module_path(SubjectErased)] = errors.Conflict  # crosses as the 409 it is

# An RPC whose domain refusals (404, 409, 422 ...) are expected answers, not
# failures: nameko logs them as such instead of as crashes.
rpc = nameko_rpc(expected_exceptions=errors.ALL)

Build = Callable[[Settings, Authority], ServiceApplication]


def settings_of(config: dict) -> Settings:
    return config.get("SANCTUARY_SETTINGS") or Settings.from_env()


class EventSourcedApp(DependencyProvider):
    """Injects the service's Application; relays its events to the bus."""

    def __init__(self, build: Build, contract: Contract | None = None) -> None:
        self.build = build
        self.contract = contract
        self.app: ServiceApplication | None = None
        self.relay: OutboxRelay | None = None
        self._stop = threading.Event()
        self._thread = None

    def setup(self) -> None:
        settings = settings_of(self.container.config)
        authority = self.container.config.get("SANCTUARY_AUTHORITY") or load_authority(
            settings.authority_file)
        self.app = self.build(settings, authority)
        # every service runs a relay: it seals the log, and publishes what the contract makes public
        contract = self.contract or Contract(self.app.name, {})
        self.relay = OutboxRelay(
            self.app, contract, authority.slug, BusPublisher(settings.amqp_uri, contract.origin),
            relay_lock_for(self.app, settings),
        )
        self.app.relay = self.relay

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
        if self.app is not None:
            self.app.close()

    def kill(self) -> None:
        self._stop.set()

    def get_dependency(self, worker_ctx: Any) -> ServiceApplication:
        return self.app


class ServiceBase:
    """Mixed into every service: ``application`` must be an ``EventSourcedApp``."""

    application: Any

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
