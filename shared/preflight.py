"""Before a service starts: can it reach its broker and its event store at all?

Asked once, with a short timeout, so that a wrong password or a wrong address is
said in one line at once and the process exits, instead of a 30-second pool
timeout or a minute of waiting for a broker that will never take us. A broker that
is merely slow to start is systemd's (Restart=on-failure) or the launcher's to wait
for, by starting the service again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import kombu
from kombu.utils.url import sanitize_url

from shared.config import Settings

TIMEOUT = 10  # seconds: a local broker or database answers in far less, even on a busy machine


class Unreachable(Exception):
    """The broker or the event store cannot be used; the message says which, where and why."""


def check_broker(amqp_uri: str) -> None:
    """One connection to the broker; any one node of a failover list ("uri;uri") will do."""
    failures = []
    for uri in [part.strip() for part in amqp_uri.split(";") if part.strip()]:
        connection = kombu.Connection(uri, connect_timeout=TIMEOUT)
        try:
            connection.connect()
            return
        except Exception as error:  # noqa: BLE001 - every failure is reported, none survives
            failures.append(f"{sanitize_url(uri)} ({_reason(error)})")
        finally:
            connection.release()
    said = "; ".join(failures)
    if "ACCESS_REFUSED" in said:
        raise Unreachable(f"the broker refused our user or password (SANCTUARY_AMQP_URI): {said}")
    raise Unreachable(f"cannot reach the broker (SANCTUARY_AMQP_URI): {said}")


def check_store(service: str, settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """One connection to the service's PostgreSQL database, as its store will make it
    (eventsourcing's variables, a ``<SERVICE>_`` prefix winning over the plain name)."""
    if settings.store != "postgres":
        return
    import psycopg

    env = os.environ if env is None else env

    def get(key: str, default: str = "") -> str:
        return env.get(f"{service.upper()}_{key}", env.get(key, default))

    params = {"host": get("POSTGRES_HOST"), "port": get("POSTGRES_PORT", "5432"),
              "user": get("POSTGRES_USER"), "dbname": get("POSTGRES_DBNAME"),
              "password": get("POSTGRES_PASSWORD")}
    if get("POSTGRES_GET_PASSWORD_TOPIC"):
        return  # a password fetched by the operator's own function: the store asks for it itself
    where = f"{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"
    try:
        psycopg.connect(**params, connect_timeout=TIMEOUT).close()
    except psycopg.Error as error:
        raise Unreachable(f"cannot use the event store's database {where} (POSTGRES_*): "
                          f"{_reason(error)}") from None


def _reason(error: Exception) -> str:
    """The error's first line: libpq and amqp explain themselves, over several lines at times."""
    text = str(error).strip() or type(error).__name__
    return " ".join(line.strip() for line in text.splitlines()[:2] if line.strip())
