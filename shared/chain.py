"""The sealed record of a service's store: the chain over its events, and the ledger.

**The chain** (``<app>_chain``): one link per event, written by the recorder in the very
transaction that inserts the event, so no event is ever committed unsealed. A link is the
MAC, under the sealing key (shared/seal_key.py), of the link before it, that link's position,
and the event's position, aggregate, version, topic and bytes; its row also keeps the position
before it and the key's id.

**The ledger** (``<app>_ledger``): what the store holds besides events that its history
depends on, each record chained the same way: a subject's key created (with a fingerprint
of the key) or shredded, the sealing key put to use or rotated, a store re-sealed.

Both are written only under a lock (the database's write lock on SQLite, an advisory lock on
PostgreSQL), so each new link follows the newest one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.faults import crash_point
from shared.seal_key import SealKeys

GENESIS = "0" * 64


class ChainBroken(RuntimeError):
    """The store's sealed record cannot be extended as it stands: a write is refused."""


@dataclass(frozen=True)
class Tables:
    """Where one service keeps its store's tables, and how to address them."""

    kind: str  # "sqlite" or "postgres"
    schema: str  # PostgreSQL only
    name: str  # the application's name, lower case
    events_table: str  # eventsourcing's, unqualified

    @classmethod
    def of(cls, datastore: Any, name: str, events_table: str | None = None) -> Tables:
        sqlite = type(datastore).__module__.endswith("sqlite")
        name = name.lower()
        events = events_table or ("stored_events" if sqlite else f"{name}_events")
        return cls("sqlite" if sqlite else "postgres", "" if sqlite else datastore.schema, name, events)

    @property
    def sqlite(self) -> bool:
        return self.kind == "sqlite"

    @property
    def mark(self) -> str:
        return "?" if self.sqlite else "%s"

    def q(self, table: str) -> str:
        return table if self.sqlite else f"{self.schema}.{table}"

    @property
    def events(self) -> str:
        return self.q(self.events_table)

    @property
    def position(self) -> str:
        return "rowid" if self.sqlite else "notification_id"

    @property
    def tracking_table(self) -> str:
        return "tracking" if self.sqlite else f"{self.name}_tracking"

    def table(self, part: str) -> str:
        """An unqualified table of ours: chain, ledger, witness, subject_keys."""
        return f"{self.name}_{part}"

    def lock(self, cursor: Any, what: str) -> None:
        """Serialise writers of ``what`` until the transaction ends. SQLite needs nothing:
        the first write of a transaction takes the database's only write lock."""
        if not self.sqlite:
            name = f"sanctuary:{self.schema}.{self.name}:{what}".encode()
            key = int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)
            cursor.execute(f"SELECT pg_advisory_xact_lock({key})")


def originator(value: Any) -> str:
    """An aggregate id as one text on both stores (SQLite keeps UUIDs as bare hex)."""
    text = str(value)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


def link(keys: SealKeys, key: str, previous: tuple[int, str], event: Any) -> str:
    """The link of ``event`` (a row: position, originator_id, originator_version, topic, state)
    after the link ``previous`` (its position and MAC)."""
    return keys.mac(key, "event", previous[1], previous[0], event["position"],
                    originator(event["originator_id"]), event["originator_version"], event["topic"],
                    bytes(event["state"]))


def record_mac(keys: SealKeys, key: str, previous: str, row: Any) -> str:
    """The MAC of a ledger record (a row: seq, kind, subject, detail, at) after ``previous``."""
    return keys.mac(key, "ledger", previous, row["seq"], row["kind"], row["subject"], row["detail"],
                    row["at"])


def fingerprint(keys: SealKeys, key: str, subject: str, subject_key: bytes) -> str:
    """What the ledger keeps of a subject's key: enough to tell it from any other, nothing more."""
    return keys.mac(key, "subject-key", subject, subject_key)


# In a ledger's first record: its store recorded every tracking row and sealed every heard head
# from the start (stores of the release before need ``sanctuary audit upgrade``).
SEALED_FROM_THE_START = "tracking_and_heads_sealed"


class Ledger:
    def __init__(self, tables: Tables, keys: SealKeys) -> None:
        self.tables, self.keys = tables, keys
        self.table = tables.q(tables.table("ledger"))

    def head(self, cursor: Any) -> Any:
        cursor.execute(f"SELECT seq, key_id, mac FROM {self.table} ORDER BY seq DESC LIMIT 1")
        return cursor.fetchone()

    def ensure_key(self, cursor: Any, tracked: tuple[str, int] | None = None) -> Any:
        """Take the ledger's lock; record the sealing key in use if the ledger's newest record
        was made under another (its first use, or a rotation). Returns the newest record.
        ``tracked``: the tracking row about to be recorded (already inserted)."""
        self.tables.lock(cursor, "ledger")
        last = self.head(cursor)
        if last is not None and last["key_id"] == self.keys.current_id:
            return last
        if last is not None and not self.keys.has(last["key_id"]):
            raise ChainBroken(unknown_key(self.tables.name, last["key_id"]))
        detail = {"from": last["key_id"] if last else None, "to": self.keys.current_id}
        if last is None and self.from_the_start and not self._left_before(cursor, tracked):
            detail[SEALED_FROM_THE_START] = True
        return self._append(cursor, last, "seal-key", "", detail)

    from_the_start = True  # False: the caller adopts what a release before left (sanctuary/upgrade.py)

    def _left_before(self, cursor: Any, tracked: tuple[str, int] | None) -> bool:
        """Whether the store holds a tracking row (other than ``tracked``) or a heard head without
        a MAC: written by the release before, whose ledger may be empty (a store with no events)."""
        t, mark = self.tables, self.tables.mark
        name, position = tracked or ("", -1)
        cursor.execute(f"SELECT 1 AS found FROM {t.q(t.tracking_table)} WHERE NOT (application_name = {mark} "
                       f"AND notification_id = {mark}) LIMIT 1", (name, position))
        if cursor.fetchone() is not None:
            return True
        cursor.execute(f"SELECT 1 AS found FROM {t.q(t.table('witness'))} WHERE mac IS NULL LIMIT 1")
        return cursor.fetchone() is not None

    def append(self, cursor: Any, kind: str, subject: str = "", detail: dict | None = None) -> Any:
        """Add a record in the caller's transaction. On SQLite the transaction must already have
        written (so it holds the write lock before the newest record is read)."""
        detail = detail or {}
        tracked = (subject, detail.get("position")) if kind == "tracked" else None
        return self._append(cursor, self.ensure_key(cursor, tracked), kind, subject, detail)

    def fingerprint(self, subject: str, subject_key: bytes) -> str:
        return fingerprint(self.keys, self.keys.current_id, subject, subject_key)

    def _append(self, cursor: Any, last: Any, kind: str, subject: str, detail: dict) -> dict:
        row = {"seq": (last["seq"] if last else 0) + 1, "kind": kind, "subject": subject,
               "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")),
               "at": dt.datetime.now(dt.UTC).isoformat(), "key_id": self.keys.current_id}
        row["mac"] = record_mac(self.keys, row["key_id"], last["mac"] if last else GENESIS, row)
        marks = ", ".join([self.tables.mark] * len(row))
        cursor.execute(f"INSERT INTO {self.table} ({', '.join(row)}) VALUES ({marks})", tuple(row.values()))
        crash_point("ledger.before_commit")
        return row


class Chain:
    def __init__(self, tables: Tables, keys: SealKeys, ledger: Ledger) -> None:
        self.tables, self.keys, self.ledger = tables, keys, ledger
        self.table = tables.q(tables.table("chain"))

    def head(self, cursor: Any) -> Any:
        cursor.execute(f"SELECT notification_id, key_id, mac FROM {self.table} "
                       "ORDER BY notification_id DESC LIMIT 1")
        return cursor.fetchone()

    def record_tracking(self, cursor: Any, upstream: str, position: int) -> None:
        """The ledger's record of a tracking row just inserted (``upstream``'s ``position``), so one
        deleted, altered or added behind the services' backs is seen by ``sanctuary audit verify``."""
        self.ledger.append(cursor, "tracked", upstream, {"position": position})

    def seal(self, cursor: Any, positions: Sequence[int]) -> None:
        """Link the events just inserted at ``positions``, in the inserting transaction (which
        already holds the lock that serialises writers of the log)."""
        if not positions:
            return
        first, last_position = min(positions), max(positions)
        last = self.head(cursor)
        self._check_extends(cursor, last, first)
        if last is None or last["key_id"] != self.keys.current_id:
            self.ledger.ensure_key(cursor)
        previous = (last["notification_id"], last["mac"]) if last else (0, GENESIS)
        t = self.tables
        cursor.execute(
            f"SELECT {t.position} AS position, originator_id, originator_version, topic, state "
            f"FROM {t.events} WHERE {t.position} BETWEEN {t.mark} AND {t.mark} ORDER BY {t.position}",
            (first, last_position))
        wanted = set(positions)
        rows = []
        for event in cursor.fetchall():
            if event["position"] in wanted:
                mac = link(self.keys, self.keys.current_id, previous, event)
                rows.append((event["position"], previous[0], self.keys.current_id, mac))
                previous = (event["position"], mac)
        if len(rows) != len(wanted):
            raise ChainBroken(f"{t.name}: the events just inserted could not all be read back to seal")
        cursor.executemany(f"INSERT INTO {self.table} (notification_id, previous, key_id, mac) "
                           f"VALUES ({t.mark}, {t.mark}, {t.mark}, {t.mark})", rows)
        crash_point("seal.before_commit")

    def _check_extends(self, cursor: Any, last: Any, first: int) -> None:
        """A chain that cannot be extended honestly stops the write, loudly."""
        t = self.tables
        if last is not None:
            if not self.keys.has(last["key_id"]):
                raise ChainBroken(unknown_key(t.name, last["key_id"]))
            if last["notification_id"] >= first:
                raise ChainBroken(f"{t.name}: the chain already holds position {last['notification_id']}, "
                                  f"after the new event at {first}; run `sanctuary audit verify {t.name}`")
            return
        cursor.execute(f"SELECT 1 AS found FROM {t.events} WHERE {t.position} < {t.mark} LIMIT 1", (first,))
        if cursor.fetchone() is not None:
            raise ChainBroken(
                f"{t.name}: the store holds events but its chain is empty: the chain was emptied or "
                f"dropped, or the store was sealed by an older release (then run `sanctuary audit "
                f"reseal {t.name}` once); run `sanctuary audit verify {t.name}`")


def unknown_key(name: str, key: str) -> str:
    return (f"{name}: the store was last sealed under key {key}, which this process's "
            "SANCTUARY_SEAL_KEY does not hold; start it with the current sealing key(s)")
