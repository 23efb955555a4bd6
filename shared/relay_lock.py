"""Only one relay per service may publish at a time, so the bus sees log order.

SQLite: an exclusive ``flock`` on a file beside the database. PostgreSQL: a
session advisory lock held on a connection of its own; if that connection
dies the lock is gone, and ``acquire`` notices and tries again.

Advisory locks are per database, so the key names the schema as well as the
service: deployments (or test systems) in other schemas of one database never
wait for each other. Relays before this (and a backup of theirs) took one key
per service for the whole database, exclusively; ours hold that old key *shared*
besides, so while an old and a new relay overlap in an upgrade only one of them
publishes, and new relays in different schemas still do not block each other.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class RelayLock(Protocol):
    def acquire(self) -> bool:
        """True while this process holds the lock (cheap to call repeatedly)."""

    def release(self) -> None: ...


class FileRelayLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for as long as the lock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryRelayLock:
    def __init__(self, conninfo: str, name: str, shared: tuple[str, ...] = ()) -> None:
        self.conninfo = conninfo
        self.key = lock_key(name)
        self.shared_keys = tuple(lock_key(other) for other in shared)  # held shared, beside the key
        self._conn = None

    def acquire(self) -> bool:
        import psycopg

        try:
            if self._conn is not None:
                self._conn.execute("SELECT 1")
                return True
            conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0] and all(
                conn.execute("SELECT pg_try_advisory_lock_shared(%s)", (key,)).fetchone()[0]
                for key in self.shared_keys)
        except psycopg.Error:
            log.warning("relay lock connection lost", exc_info=True)
            self._drop()
            return False
        if not got:
            conn.close()  # and with it whichever of the locks it did take
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                log.debug("closing a broken lock connection", exc_info=True)
        self._conn = None


def lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def advisory_lock_names(service: str, schema: str) -> tuple[str, tuple[str, ...]]:
    """The relay's own key (per schema and service) and the key it holds shared: the one a relay
    of an earlier release took for the whole database (drop it once no such relay can be running)."""
    return f"sanctuary-relay:{schema or 'public'}.{service}", (f"sanctuary-relay:{service}",)


def relay_lock_for(app: object, settings: object) -> RelayLock:
    """The lock that suits the service's store."""
    if settings.store == "sqlite":
        return FileRelayLock(settings.data_dir / f"{app.name}.relay.lock")
    env = app.env
    conninfo = " ".join(
        f"{key}={value}" for key, value in {
            "dbname": env.get("POSTGRES_DBNAME"), "host": env.get("POSTGRES_HOST"),
            "port": env.get("POSTGRES_PORT"), "user": env.get("POSTGRES_USER"),
            "password": env.get("POSTGRES_PASSWORD"),
        }.items() if value
    )
    name, shared = advisory_lock_names(app.name, (env.get("POSTGRES_SCHEMA") or "").strip())
    return AdvisoryRelayLock(conninfo, name, shared)
