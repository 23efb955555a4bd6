"""Fixtures for real components: a RabbitMQ virtual host per test, a PostgreSQL
schema per test, and each application test run on SQLite and on PostgreSQL.
Loaded by tests/conftest.py for every run but one of the unit tests alone."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from shared.config import Settings
from shared.store import store_env

RABBIT_API = os.environ.get("SANCTUARY_TEST_RABBIT_API", "http://127.0.0.1:15672/api")
RABBIT_AUTH = ("guest", "guest")
POSTGRES = os.environ.get(
    "SANCTUARY_TEST_POSTGRES",
    "host=127.0.0.1 port=5432 user=sanctuary password=sanctuary dbname=sanctuary_test",
)


# the management API answers slowly while the broker deletes another test's
# virtual host and its quorum queues: generous timeouts, not flaky failures
MANAGEMENT_TIMEOUT = 60


@contextmanager
def fresh_vhost(prefix: str) -> Iterator[str]:
    """A new RabbitMQ virtual host the guest user may use, deleted afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    requests.put(f"{RABBIT_API}/vhosts/{name}", auth=RABBIT_AUTH,
                 timeout=MANAGEMENT_TIMEOUT).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest", auth=RABBIT_AUTH, timeout=MANAGEMENT_TIMEOUT,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    try:
        yield name
    finally:
        requests.delete(f"{RABBIT_API}/vhosts/{name}", auth=RABBIT_AUTH, timeout=MANAGEMENT_TIMEOUT)


@pytest.fixture
def vhost() -> Iterator[str]:
    """A fresh RabbitMQ virtual host, deleted afterwards."""
    with fresh_vhost("test") as name:
        yield name


@pytest.fixture
def amqp_uri(vhost: str) -> str:
    return f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


def postgres_params() -> dict[str, str]:
    return dict(item.split("=", 1) for item in POSTGRES.split())


@pytest.fixture
def pg_schema() -> str:
    """A fresh PostgreSQL schema in the test database, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    yield name
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


@dataclass
class Store:
    """Where a test's applications keep their events."""

    kind: str
    settings: Settings
    env_extra: dict

    def env(self, service: str) -> dict[str, str]:
        return {**store_env(service, self.settings), **self.env_extra}

    def os_environ(self) -> dict[str, str]:
        """The same, as a process environment (for services started as processes)."""
        base = {"SANCTUARY_STORE": self.kind, "SANCTUARY_DATA_DIR": str(self.settings.data_dir)}
        return {**base, **self.env_extra}


def _postgres_env(schema: str) -> dict[str, str]:
    params = postgres_params()
    return {
        "POSTGRES_HOST": params["host"], "POSTGRES_PORT": params["port"],
        "POSTGRES_USER": params["user"], "POSTGRES_PASSWORD": params["password"],
        "POSTGRES_DBNAME": params["dbname"], "POSTGRES_SCHEMA": schema,
    }


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    kind = request.param
    settings = Settings.from_env({"SANCTUARY_STORE": kind, "SANCTUARY_DATA_DIR": str(tmp_path)})
    extra = _postgres_env(request.getfixturevalue("pg_schema")) if kind == "postgres" else {}
    return Store(kind, settings, extra)
