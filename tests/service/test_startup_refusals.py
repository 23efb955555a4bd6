"""A service process started against a broker or a database it cannot use says so in one line, at
once, and exits non-zero (sanctuary.cli's serve, shared/preflight.py): a wrong password, or nothing
listening where the settings point. Run as real processes against the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sanctuary.launch import free_port
from shared.config import Settings
from shared.preflight import Unreachable, check_broker, check_store
from tests.components import postgres_params


def serve(service: str, tmp_path: Path, **env: str) -> tuple[int, list[str], float]:
    """Exit status, stderr lines and seconds taken by ``sanctuary serve <service>``."""
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith(("SANCTUARY_", "POSTGRES_"))}
    environ.update(SANCTUARY_DATA_DIR=str(tmp_path), SANCTUARY_OPS_ADDRESS="", **env)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "sanctuary.cli", "serve", service], env=environ,
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    return result.returncode, result.stderr.strip().splitlines(), time.monotonic() - started


def amqp(password: str = "guest", port: int = 5672) -> str:
    return f"amqp://guest:{password}@127.0.0.1:{port}/"


def postgres(**changed: str) -> dict[str, str]:
    params = {**postgres_params(), **changed}
    return {"SANCTUARY_STORE": "postgres", "POSTGRES_HOST": params["host"], "POSTGRES_PORT": params["port"],
            "POSTGRES_USER": params["user"], "POSTGRES_PASSWORD": params["password"],
            "POSTGRES_DBNAME": params["dbname"]}


def assert_refused_in_one_line(outcome: tuple[int, list[str], float], *words: str) -> None:
    # it exits by itself (a process that waited on would meet serve()'s timeout instead); how
    # long Python's start takes on a busy machine is not this test's business
    status, lines, _took = outcome
    assert status != 0
    assert len(lines) == 1, lines
    assert all(word in lines[0] for word in words), lines[0]
    assert "wrong-secret" not in lines[0]  # never the password itself


def test_a_wrong_broker_password_is_said_at_once(tmp_path: Path) -> None:
    assert_refused_in_one_line(serve("pledges", tmp_path, SANCTUARY_AMQP_URI=amqp(password="wrong-secret")),
                               "sanctuary pledges:", "broker refused our user or password", "ACCESS_REFUSED")


def test_a_broker_nobody_listens_for_is_said_at_once(tmp_path: Path) -> None:
    port = free_port()  # closed again: nothing listens there
    assert_refused_in_one_line(serve("gateway", tmp_path, SANCTUARY_AMQP_URI=amqp(port=port)),
                               "sanctuary gateway:", "cannot reach the broker", f"127.0.0.1:{port}")


def test_a_wrong_database_password_is_said_at_once(tmp_path: Path) -> None:
    outcome = serve("pledges", tmp_path, SANCTUARY_AMQP_URI=amqp(), **postgres(password="wrong-secret"))
    assert_refused_in_one_line(outcome, "sanctuary pledges:", "event store's database",
                               "password authentication failed")


def test_a_database_nobody_listens_for_is_said_at_once(tmp_path: Path) -> None:
    port = str(free_port())
    outcome = serve("accounts", tmp_path, SANCTUARY_AMQP_URI=amqp(), **postgres(port=port))
    assert_refused_in_one_line(outcome, "sanctuary accounts:", f"127.0.0.1:{port}", "refused")


def test_the_service_prefix_wins_as_it_does_for_the_store(tmp_path: Path) -> None:
    """PLEDGES_POSTGRES_PASSWORD over POSTGRES_PASSWORD, as eventsourcing reads them."""
    settings = Settings.from_env({"SANCTUARY_STORE": "postgres", "SANCTUARY_DATA_DIR": str(tmp_path)})
    env = postgres(password="wrong-secret")
    with pytest.raises(Unreachable, match="password authentication failed"):
        check_store("pledges", settings, env)
    check_store("pledges", settings, {**env, "PLEDGES_POSTGRES_PASSWORD": postgres_params()["password"]})
    with pytest.raises(Unreachable, match="password authentication failed"):
        check_store("accounts", settings, {**env, "PLEDGES_POSTGRES_PASSWORD": postgres_params()["password"]})


def test_any_node_of_a_failover_list_will_do() -> None:
    check_broker(f"{amqp(port=free_port())};{amqp()}")
    with pytest.raises(Unreachable, match="cannot reach the broker"):
        check_broker(f"{amqp(port=free_port())};{amqp(port=free_port())}")
