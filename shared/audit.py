"""Tamper evidence for a service's event log, and append-only enforced by the database.

The seal is a hash chain over the notification log, kept in a table beside
it: each link hashes the previous link with one stored event (its position,
aggregate, version, topic and bytes). ``verify`` re-reads the log and checks
every link on its own, so an altered event, a deleted one and an inserted one
are each named. Someone able to rewrite the events *and* the whole seal would
pass that check, which is why the lead publishes a short ``digest`` with the
panel minutes: a later ``verify --digest`` compares against it.

The database itself refuses UPDATE and DELETE on the events and the seal
(triggers), so even the service's own code cannot rewrite history.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
BATCH = 1000


def link(previous: str, notification: Any) -> str:
    digest = hashlib.sha256()
    for part in (
        previous,
        str(notification.id),
        str(notification.originator_id),
        str(notification.originator_version),
        notification.topic,
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(bytes(notification.state))
    return digest.hexdigest()


@dataclass
class Verdict:
    checked: int = 0
    sealed_to: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first(self) -> dict | None:
        return min(self.problems, key=lambda p: p["position"]) if self.problems else None


class Seal:
    """The chain table of one service (``<app>_seal``), in the service's own database."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.datastore = app.factory.datastore
        self.sqlite = type(self.datastore).__module__.endswith("sqlite")
        schema = "" if self.sqlite else f"{self.datastore.schema}."
        self.table = f"{schema}{app.name.lower()}_seal"
        self.mark = "?" if self.sqlite else "%s"
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                "(notification_id BIGINT PRIMARY KEY, hash TEXT NOT NULL)"
            )

    def last(self) -> tuple[int, str]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT notification_id, hash FROM {self.table} ORDER BY notification_id DESC LIMIT 1"
            )
            row = cursor.fetchone()
        return (0, GENESIS) if row is None else (_get(row, 0, "notification_id"), _get(row, 1, "hash"))

    def extend(self, limit: int = BATCH) -> int:
        """Seal the next committed events; returns how many. Safe to repeat."""
        position, previous = self.last()
        notifications = self.app.recorder.select_notifications(start=position + 1, limit=limit)
        rows = []
        for notification in notifications:
            previous = link(previous, notification)
            rows.append((notification.id, previous))
        if rows:
            conflict = "OR IGNORE " if self.sqlite else ""
            tail = "" if self.sqlite else " ON CONFLICT DO NOTHING"
            with self.datastore.transaction(commit=True) as cursor:
                cursor.executemany(
                    f"INSERT {conflict}INTO {self.table} VALUES ({self.mark}, {self.mark}){tail}", rows
                )
        return len(rows)

    def links(self) -> dict[int, str]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT notification_id, hash FROM {self.table} ORDER BY notification_id")
            return {_get(r, 0, "notification_id"): _get(r, 1, "hash") for r in cursor.fetchall()}

    def digest(self) -> str:
        """What the lead publishes: the position sealed to and the first 16 hex of its link."""
        position, value = self.last()
        return f"{position}:{value[:16]}"

    def verify(self, digest: str | None = None) -> Verdict:
        links = self.links()
        positions = sorted(links)
        verdict = Verdict(sealed_to=positions[-1] if positions else 0)
        seen = set()
        for notification in self._log(verdict.sealed_to):
            seen.add(notification.id)
            verdict.checked += 1
            stored = links.get(notification.id)
            # each link is checked against the sealed link before it, so one deleted or
            # inserted event does not make every later one look altered
            before = bisect.bisect_left(positions, notification.id)
            previous = links[positions[before - 1]] if before else GENESIS
            if stored is None:
                verdict.problems.append(_problem(notification, "inserted: not in the seal"))
            elif link(previous, notification) != stored:
                verdict.problems.append(_problem(notification, "altered: does not match its seal"))
        for position in sorted(set(links) - seen):
            verdict.problems.append({"position": position, "what": "deleted: sealed but missing"})
        if digest is not None and not self._matches(links, digest):
            verdict.problems.append(
                {
                    "position": int(digest.split(":")[0]),
                    "what": "the seal itself differs from the published digest",
                }
            )
        return verdict

    def _log(self, up_to: int) -> Iterator[Any]:
        position = 0
        while True:
            batch = self.app.recorder.select_notifications(start=position + 1, limit=BATCH, stop=up_to)
            yield from batch
            if len(batch) < BATCH:
                return
            position = batch[-1].id

    @staticmethod
    def _matches(links: dict[int, str], digest: str) -> bool:
        position, prefix = digest.split(":", 1)
        return links.get(int(position), "").startswith(prefix)


def _problem(notification: Any, what: str) -> dict:
    return {
        "position": notification.id,
        "aggregate": str(notification.originator_id),
        "version": notification.originator_version,
        "topic": notification.topic,
        "what": what,
    }


def _get(row: Any, index: int, name: str) -> Any:
    return row[name] if isinstance(row, dict) else row[index]


def protect(app: Any) -> None:
    """Make the database refuse UPDATE and DELETE on the event and seal tables."""
    datastore = app.factory.datastore
    events = app.recorder.events_table_name
    seal = f"{app.name.lower()}_seal"
    if type(datastore).__module__.endswith("sqlite"):
        # INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers,
        # so an insert over an existing key is refused (events) or ignored (the seal,
        # whose extend() is safe to repeat) before it can replace anything.
        keys = {events: ("originator_id", "originator_version"), seal: ("notification_id",)}
        with datastore.transaction(commit=True) as cursor:
            for table in (events, seal):
                for action in ("UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} "
                        f"ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                    )
                match = " AND ".join(f"{k} = NEW.{k}" for k in keys[table])
                outcome = "IGNORE" if table == seal else f"ABORT, '{table} is append-only'"
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} "
                    f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {match}) "
                    f"BEGIN SELECT RAISE({outcome}); END"
                )
        return
    schema = datastore.schema
    with datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('sanctuary-append-only'))")
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {schema}.sanctuary_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in (events, seal):
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.sanctuary_append_only()"
            )
