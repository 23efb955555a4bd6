"""Fixtures for real components: a RabbitMQ virtual host per test, a PostgreSQL
schema per test, and each application test run on SQLite and on PostgreSQL.
Loaded by tests/conftest.py for every run but one of the unit tests alone."""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import psycopg.rows
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
def fresh_vhost(prefix: str, api: str = RABBIT_API) -> Iterator[str]:
    """A new RabbitMQ virtual host the guest user may use, deleted afterwards (``api``: the
    management API of the broker, or of a cluster's node, to make it on)."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    requests.put(f"{api}/vhosts/{name}", auth=RABBIT_AUTH,
                 timeout=MANAGEMENT_TIMEOUT).raise_for_status()
    requests.put(f"{api}/permissions/{name}/guest", auth=RABBIT_AUTH, timeout=MANAGEMENT_TIMEOUT,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    try:
        yield name
    finally:
        requests.delete(f"{api}/vhosts/{name}", auth=RABBIT_AUTH, timeout=MANAGEMENT_TIMEOUT)


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


# the services' role (deploy/postgres/roles.sql, made by deploy/local/bootstrap.sh): applications
# in tests connect as it, as the services do in production; empty: as the owner
SERVICE_ROLE = os.environ.get("SANCTUARY_TEST_POSTGRES_SERVICE",
                              "user=sanctuary_service password=sanctuary_service")


@dataclass
class Store:
    """Where a test's applications keep their events. On PostgreSQL ``env_extra`` connects as the
    tables' owner (what an operator's commands, and raw SQL in tests, use); ``env(service)`` as
    the services' role, once the owner has made the service's tables for it."""

    kind: str
    settings: Settings
    env_extra: dict

    def env(self, service: str) -> dict[str, str]:
        env = {**store_env(service, self.settings), **self.env_extra}
        if self.kind != "postgres" or not SERVICE_ROLE:
            return env
        role = dict(item.split("=", 1) for item in SERVICE_ROLE.split())
        _prepared_for(service, env, role["user"])
        return {**env, "POSTGRES_USER": role["user"], "POSTGRES_PASSWORD": role["password"]}

    def os_environ(self) -> dict[str, str]:
        """The same, as a process environment (for services started as processes)."""
        base = {"SANCTUARY_STORE": self.kind, "SANCTUARY_DATA_DIR": str(self.settings.data_dir)}
        return {**base, **self.env_extra}

    def services_environ(self, extra: dict[str, str]) -> dict[str, str]:
        """``os_environ()`` with ``extra`` (say, a schema per service) for a whole system's processes:
        on PostgreSQL every store's tables made by the owner first (``sanctuary prepare-stores
        --grant``), and the services connecting as their role, as in production."""
        environ = {**self.os_environ(), **extra}
        if self.kind != "postgres" or not SERVICE_ROLE:
            return environ
        from sanctuary.prepare import prepare_stores

        role = dict(item.split("=", 1) for item in SERVICE_ROLE.split())
        with contextlib.redirect_stdout(io.StringIO()):
            assert prepare_stores(role["user"], environ) == 0
        return {**environ, "POSTGRES_USER": role["user"], "POSTGRES_PASSWORD": role["password"]}


def _prepared_for(service: str, env: dict[str, str], role: str) -> None:
    """As the owner: the service's tables made if they are not there, and granted to ``role`` (again:
    a test may have dropped and restored them)."""
    from shared.chain import Tables
    from shared.personal import PersonalDataApplication
    from shared.protection import grant

    tables = Tables("postgres", env["POSTGRES_SCHEMA"], service, f"{service}_events")
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        made = conn.execute("SELECT to_regclass(%s)", (tables.q(tables.table("witness")),)).fetchone()[0]
    if made is None:
        cls = type(f"{service.title()}Store", (PersonalDataApplication,), {"name": service})
        cls(env={**env, "CREATE_TABLE": "y"}).close()
    with psycopg.connect(POSTGRES, autocommit=True) as conn, conn.transaction():
        grant(tables, conn.cursor(row_factory=psycopg.rows.dict_row), role)


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
