"""Fixtures for end-to-end tests: the whole system started as processes, one per
service, talked to over real HTTP, with its events read off the real RabbitMQ.

The system is expensive to start, so the SQLite system is module-scoped (with a
module-scoped RabbitMQ virtual host, since the shared ``vhost`` fixture is per
test); the PostgreSQL system is started per test from the shared ``store`` and
``amqp_uri`` fixtures. When a test fails, the tail of every service log is
attached to its report.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu
import pytest
import requests
from nameko.standalone.events import get_event_exchange

from shared.config import Settings
from shared.launch import ORDER, System
from tests.conftest import RABBIT_API, RABBIT_AUTH, Store

LOG_TAIL = 4000
_RUNNING: list[System] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tails(system: System) -> str:
    parts = []
    for name in ORDER:
        path = system.log_path(name)
        text = path.read_text(errors="replace")[-LOG_TAIL:] if path.exists() else "(no log)"
        parts.append(f"----- {name} ({path}) -----\n{text}")
    return "\n".join(parts)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    if report.failed:
        for system in _RUNNING:
            report.sections.append((f"service logs, tails ({system.log_dir})", log_tails(system)))
    return report


class E2ESystem(System):
    """``System`` that can be restarted in place and says where it keeps things."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        super().__init__(settings, env=env)
        self.amqp_uri = settings.amqp_uri

    def start(self, timeout: float = 60.0) -> None:
        try:
            super().start(timeout)
        except Exception as error:
            tails = log_tails(self)
            self.stop()
            raise RuntimeError(f"{error}\n{tails}") from error

    def restart(self) -> None:
        self.stop()
        self.start()


def system_env(amqp_uri: str, data_dir: Path, store_env: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "SANCTUARY_STORE": "sqlite",
        **(store_env or {}),
        "SANCTUARY_AMQP_URI": amqp_uri,
        "SANCTUARY_DATA_DIR": str(data_dir),
        "SANCTUARY_GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
        "SANCTUARY_LOG_LEVEL": "INFO",
    }


def running(env: dict[str, str]) -> Iterator[E2ESystem]:
    system = E2ESystem(Settings.from_env(env), env)
    system.start()
    _RUNNING.append(system)
    try:
        yield system
    finally:
        _RUNNING.remove(system)
        system.stop()


@pytest.fixture(scope="module")
def module_amqp_uri() -> Iterator[str]:
    """Like the shared ``amqp_uri``, but one virtual host for the whole module."""
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    requests.put(f"{RABBIT_API}/vhosts/{name}", auth=RABBIT_AUTH, timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest", auth=RABBIT_AUTH, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    requests.delete(f"{RABBIT_API}/vhosts/{name}", auth=RABBIT_AUTH, timeout=30)


@pytest.fixture(scope="module")
def system(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    """The whole system on SQLite, started once for the module."""
    yield from running(system_env(module_amqp_uri, tmp_path_factory.mktemp("e2e-sqlite")))


@pytest.fixture
def postgres_system(store: Store, amqp_uri: str) -> Iterator[E2ESystem]:
    """The whole system on the ``store`` fixture's store (parametrize it indirectly)."""
    yield from running(system_env(amqp_uri, store.settings.data_dir, store.os_environ()))


class Tap:
    """A plain kombu reader: a queue of our own bound to every pledges event."""

    def __init__(self, amqp_uri: str, name: str | None = None) -> None:
        self.exchange = get_event_exchange("pledges", {})  # declared exactly as nameko does
        self.connection = kombu.Connection(amqp_uri)
        self.channel = self.connection.channel()
        self.queue = kombu.Queue(name or f"e2e-tap-{uuid.uuid4().hex[:8]}", exchange=self.exchange,
                                 routing_key="#", durable=True, auto_delete=False)
        self.bound = self.queue(self.channel)
        self.bound.declare()

    def waiting(self) -> int:
        """Messages ready in the queue now (a passive declare: no waiting, no consuming)."""
        return self.channel.queue_declare(queue=self.queue.name, passive=True).message_count

    def take(self, count: int, timeout: float = 20.0) -> list[kombu.Message]:
        got: list[kombu.Message] = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            message = self.bound.get(no_ack=True)
            if message is not None:
                got.append(message)
                continue
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(got)} of {count} messages arrived in {timeout:.0f}s")
            time.sleep(0.05)
        return got

    def close(self) -> None:
        self.connection.release()

