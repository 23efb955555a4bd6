"""Fixtures for end-to-end tests: the whole system started as processes, one per
service, talked to over real HTTP, with its events read off the real RabbitMQ.

The system is expensive to start, so the SQLite system is module-scoped (with a
module-scoped RabbitMQ virtual host, since the shared ``vhost`` fixture is per
test); the PostgreSQL system is started per test from the shared ``store`` and
``amqp_uri`` fixtures. Every system gets its own gateway and SMTP ports, so it
never clashes with another or with a developer's ``./run``. Once it is up, a
lead account with an API token is created directly in the store (as the
operator's ``sanctuary add-account`` does), and each school's coordinator on
first use; requests then carry ``Authorization: Bearer <token>``. When a test
fails, the tail of every service log is attached to its report.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kombu
import psycopg
import pytest
import requests
from nameko.standalone.events import get_event_exchange

from sanctuary.launch import ORDER, SINK, System, free_port, free_port_range
from services.accounts.bootstrap import add_account, open_accounts
from shared.clock import ANCHOR, START, Clock, clock_from_env
from shared.config import Settings
from tests.components import POSTGRES, Store, fresh_vhost
from tests.conftest import BROWSER_RUN

# the browser tests need a process without eventlet's monkey-patching (tests/conftest.py)
collect_ignore = [] if BROWSER_RUN else ["browser"]

LOG_TAIL = 4000
# the broker the systems use (SANCTUARY_TEST_RABBIT_API names its management API): a fault test
# that stops RabbitMQ can be pointed at a node of its own, and spare everyone else's tests
AMQP_BASE = os.environ.get("SANCTUARY_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672").rstrip("/")
_RUNNING: list[System] = []
LEAD_EMAIL = "lead@e2e.example.org"


def log_tails(system: System) -> str:
    parts = []
    for name in (*ORDER, SINK):
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


# -- people ------------------------------------------------------------------------


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


@dataclass(frozen=True)
class Person:
    """An account of the system under test, with the API token made for it (if any)."""

    id: str  # hex, as the API shows it
    email: str
    name: str
    token: str | None = None

    @property
    def actor(self) -> str:
        """How events record what this person did."""
        return f"account:{self.id}"

    @property
    def headers(self) -> dict[str, str]:
        assert self.token, f"{self.email} has no API token"
        return bearer(self.token)


@contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` for a while: what the in-process accounts
    store reads besides its Settings (PostgreSQL connection, secrets)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- systems -----------------------------------------------------------------------


class E2ESystem(System):
    """``System`` that can be restarted in place, says where it keeps things, and
    makes accounts the way an operator would (directly in the accounts store)."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        super().__init__(settings, env=env)
        self.amqp_uri = settings.amqp_uri
        self.own_env = dict(env)
        self._lead: Person | None = None
        self._coordinators: dict[str, Person] = {}

    def start(self, timeout: float = 120.0) -> None:
        """Start once. Seven processes importing at once take most of a minute on a busy
        2-core machine, which is slow, not hung; a service that cannot reach the broker
        says so in its log (shared/consumer.py), which the failure carries."""
        try:
            super().start(timeout)
        except Exception as error:
            tails = log_tails(self)
            self.stop()
            raise RuntimeError(f"{error}\n{tails}") from error

    def restart(self) -> None:
        self.stop()
        self.start()

    # -- the services' clock (a rehearsal shifts it)

    @property
    def clock(self) -> Clock:
        """The clock every service of this system reads (once started: the anchor is set then)."""
        return clock_from_env(self.env)

    def today(self) -> dt.date:
        """The services' "today": UK local date by their clock."""
        return self.clock.today()

    def move_clock(self, start: str) -> None:
        """Restart on a clock that reads ``start`` now: a rehearsal moving on through the year."""
        self.env[START] = self.own_env[START] = start
        self.env.pop(ANCHOR, None)
        self._anchor_given = False
        self.restart()

    # -- accounts, made in process alongside the running services

    def _store_environ(self) -> Any:
        return environ({k: v for k, v in self.own_env.items()
                        if k.startswith("SANCTUARY_") or "POSTGRES_" in k})

    def add_account(self, email: str, name: str, grants: list[dict],
                    token_label: str | None = "e2e") -> Person:
        with self._store_environ():
            view, token = add_account(self.settings, email, name, grants, token_label)
        return Person(view["id"], view["email"], view["name"], token)

    def account_events(self, account_id: str) -> list[Any]:
        """The stored domain events of one account, oldest first."""
        with self._store_environ():
            accounts = open_accounts(self.settings)
            try:
                return list(accounts.events.get(uuid.UUID(hex=account_id)))
            finally:
                accounts.close()

    @property
    def lead(self) -> Person:
        """The local lead, with an API token (created once the system is up)."""
        if self._lead is None:
            self._lead = self.add_account(LEAD_EMAIL, "Lee Lead (e2e)", [{"role": "lead"}])
        return self._lead

    def coordinator(self, urn: str) -> Person:
        """The coordinator of school ``urn``, with an API token (created on first use)."""
        if urn not in self._coordinators:
            self._coordinators[urn] = self.add_account(
                f"coordinator.{urn}@e2e.example.org", f"Coordinator of {urn}",
                [{"role": "coordinator", "urn": urn}])
        return self._coordinators[urn]


def system_env(amqp_uri: str, data_dir: Path, store_env: dict[str, str] | None = None,
               **extra: str) -> dict[str, str]:
    return {
        "SANCTUARY_STORE": "sqlite",
        **(store_env or {}),
        "SANCTUARY_AMQP_URI": amqp_uri,
        "SANCTUARY_DATA_DIR": str(data_dir),
        "SANCTUARY_GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
        "SANCTUARY_SMTP_HOST": "127.0.0.1",
        "SANCTUARY_SMTP_PORT": str(free_port()),  # its own mail sink, never ./run's 8025
        "SANCTUARY_SMTP_SECURITY": "none",
        "SANCTUARY_OPS_BASE_PORT": str(free_port_range(len(ORDER))),
        "SANCTUARY_LOG_LEVEL": "INFO",
        **extra,
    }


def running(env: dict[str, str]) -> Iterator[E2ESystem]:
    system = E2ESystem(Settings.from_env(env), env)
    system.start()
    _RUNNING.append(system)
    try:
        assert system.lead.token  # the first lead gets in as an operator would let them
        yield system
    finally:
        _RUNNING.remove(system)
        system.stop()


@pytest.fixture(scope="module")
def module_amqp_uri() -> Iterator[str]:
    """Like the shared ``amqp_uri``, but one virtual host for the whole module."""
    with fresh_vhost("e2e") as name:
        yield f"{AMQP_BASE}/{name}"


@pytest.fixture(scope="module")
def system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    """The whole system on SQLite, started once for the module; or, for a module that sets
    ``SHARES_SYSTEM = True``, the one system every such module of this pytest process shares.
    A module may share only if nothing it does can meet another's: its schools' URNs and its
    people's addresses its own, and no cycle-wide step (forming or convening a year's panel,
    releasing feedback) or count of everything. A start and stop costs about ten seconds of
    CPU, which every module paid."""
    if getattr(request.module, "SHARES_SYSTEM", False):
        yield request.getfixturevalue("shared_system")
        return
    amqp_uri = request.getfixturevalue("module_amqp_uri")
    yield from running(system_env(amqp_uri, tmp_path_factory.mktemp("e2e-sqlite")))


@pytest.fixture(scope="session")
def shared_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    """The system the modules that set ``SHARES_SYSTEM`` share (see ``system``)."""
    with fresh_vhost("e2e-shared") as name:
        yield from running(system_env(f"{AMQP_BASE}/{name}", tmp_path_factory.mktemp("e2e-shared")))


def rehearsal(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory, start: str,
              **extra: str) -> Iterator[E2ESystem]:
    """Like ``system``, on a rehearsal clock that reads ``start`` when the system starts
    (``SANCTUARY_CLOCK_START``): a module's own ``system`` fixture yields from it."""
    env = system_env(module_amqp_uri, tmp_path_factory.mktemp("e2e-rehearsal"), SANCTUARY_CLOCK_START=start,
                     **extra)
    yield from running(env)


@pytest.fixture
def postgres_system(store: Store, amqp_uri: str) -> Iterator[E2ESystem]:
    """The whole system on the ``store`` fixture's PostgreSQL (parametrize it indirectly).

    Each service gets a schema of its own, as in production each has a database of
    its own: services sharing one schema race to ``CREATE OR REPLACE`` eventsourcing's
    same-named insert function when they start together ("tuple concurrently updated").
    """
    base = store.env_extra["POSTGRES_SCHEMA"]
    schemas = {f"{service.upper()}_POSTGRES_SCHEMA": f"{base}_{service}"
               for service in ORDER if service != "gateway"}
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        for schema in schemas.values():
            conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield from running(system_env(amqp_uri, store.settings.data_dir, store.services_environ(schemas)))
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            for schema in schemas.values():
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


# -- talking to a system -----------------------------------------------------------


THE_LEAD: Any = object()  # Api's default: whoever is the system's lead


class Api:
    """HTTP to one system as one person: ``who`` is a Person (their API token), a raw
    credential (a session or a token), or None for nobody; the system's lead by default."""

    def __init__(self, system: E2ESystem, who: Person | str | None = THE_LEAD) -> None:
        self.system = system
        self.who = system.lead if who is THE_LEAD else who

    def as_(self, who: Person | str | None) -> Api:
        return Api(self.system, who)

    def credentials(self) -> dict[str, str]:
        if self.who is None:
            return {}
        return self.who.headers if isinstance(self.who, Person) else bearer(self.who)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.credentials(), **kwargs.pop("headers", {})}
        return requests.request(method, self.system.base_url + path, headers=headers, timeout=20,
                                **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, json={} if body is None else body, **kwargs)

    def ok(self, response: requests.Response, status: int = 200) -> Any:
        assert response.status_code == status, f"{response.request.method} {response.url}: " \
                                               f"{response.status_code} {response.text}"
        return response.json() if response.content else None

    def health(self) -> dict:
        body = self.ok(self.get("/health"))
        assert body["status"] == "ok", body
        return body["services"]

    def pledges_position(self) -> int:
        return self.health()["pledges"]["position"]

    def applications_position(self) -> int:
        return self.health()["applications"]["position"]

    def settled_pledges(self, position: int | None = None, timeout: float = 20.0) -> dict:
        """The pledges health once its relay runs and has published everything
        (at ``position``, if given). Publishing waits for the broker's confirm,
        so every event is in every bound queue by then."""
        def settled() -> dict | None:
            pledges = self.health()["pledges"]
            relay = pledges["relay"]
            done = relay["running"] and relay["lag"] == 0
            return pledges if done and position in (None, pledges["position"]) else None
        return wait_for(settled, timeout, f"the pledges relay to publish up to {position}")

    def history(self, urn: str) -> list[dict]:
        return self.ok(self.get(f"/schools/{urn}/history"))["history"]


def wait_for(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


class Tap:
    """A plain kombu reader: a queue of our own bound to every event of the ``origins``
    (the pledges service's by default)."""

    def __init__(self, amqp_uri: str, name: str | None = None,
                 origins: tuple[str, ...] = ("pledges",)) -> None:
        # declared exactly as nameko does
        exchanges = [get_event_exchange(origin, {}) for origin in origins]
        self.exchange = exchanges[0]
        self.connection = kombu.Connection(amqp_uri)
        self.channel = self.connection.channel()
        self.queue = kombu.Queue(name or f"e2e-tap-{uuid.uuid4().hex[:8]}", durable=True, auto_delete=False,
                                 bindings=[kombu.binding(e, routing_key="#") for e in exchanges])
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

