"""Chain heads, published by each service and witnessed by the others.

Each service's relay publishes its store's head (the newest link of its chain and of its
ledger, with their positions) as a public ``ChainHead`` event at a steady interval, and at once
after a milestone its contract names (a panel's decision). Every other service records the heads
it hears in its own store (``<app>_witness``, append-only), each row with a MAC under the
sealing key, so a head altered or made up there is told from one really heard (and is not held
against the service it names). So truncating a log, deleting its seal or rewriting its history
in one store is caught by ``sanctuary audit verify`` against what the others heard, without
anyone having published a digest by hand.

Heads go to an exchange of their own (``audit.events``), not through the outbox: a head is a
statement about the log, not a change to it, and a lost one is followed by the next.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from shared.bus import BusPublisher
from shared.chain import Tables
from shared.envelope import IntegrationEvent, parse_envelope
from shared.seal_key import SealKeys

log = logging.getLogger(__name__)

HEADS = "audit"  # the pseudo-origin whose exchange carries every service's heads
HEAD = "ChainHead"
INTERVAL = 60.0  # seconds between heads when nothing else prompts one
_NAMESPACE = uuid.UUID("9b7e4a0c-3f1d-4d2a-8c55-6e0f1b2a3c4d")
HEX64 = validate.Regexp(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Head:
    position: int
    digest: str
    ledger: int
    ledger_digest: str


class HeadSchema(Schema):
    class Meta:
        unknown = RAISE

    position = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    digest = fields.String(required=True, validate=HEX64)
    ledger = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    ledger_digest = fields.String(required=True, validate=HEX64)


def head_of(app: Any) -> Head | None:
    """The store's head now; None while its chain is empty."""
    with app.factory.datastore.transaction(commit=False) as cursor:
        chain = app.chain.head(cursor)
        ledger = app.ledger.head(cursor)
    if chain is None:
        return None
    return Head(chain["notification_id"], chain["mac"], ledger["seq"] if ledger else 0,
                ledger["mac"] if ledger else "0" * 64)


def head_event(origin: str, head: Head, authority: str) -> IntegrationEvent:
    key = f"{authority}/{origin}/{head.position}/{head.digest}/{head.ledger}/{head.ledger_digest}"
    return IntegrationEvent(
        id=str(uuid.uuid5(_NAMESPACE, key)), type=HEAD, schema_version=1, origin=origin,
        position=head.position, occurred_at=dt.datetime.now(dt.UTC).isoformat(), authority=authority,
        actor="system", payload=HeadSchema().dump(head.__dict__))


HEARD = ("origin", "position", "digest", "ledger", "ledger_digest", "published_at", "heard_at")


def heard_mac(keys: SealKeys, key: str, row: Any) -> str:
    """The MAC of a witnessed head's row (a head heard, and when)."""
    return keys.mac(key, "witness", *(row[column] for column in HEARD))


def genuine(keys: SealKeys, row: dict) -> bool:
    """Whether a witnessed head's row is as the witness recorded it (its MAC holds)."""
    key = row.get("key_id")
    return bool(row.get("mac")) and keys.has(key) and heard_mac(keys, key, row) == row["mac"]


class Witness:
    """The heads one service has heard from the others, in its own store."""

    def __init__(self, tables: Tables, datastore: Any, keys: SealKeys) -> None:
        self.tables, self.datastore, self.keys = tables, datastore, keys
        self.table = tables.q(tables.table("witness"))

    def record(self, origin: str, head: Head, published_at: str) -> None:
        row = {"origin": origin, "position": head.position, "digest": head.digest, "ledger": head.ledger,
               "ledger_digest": head.ledger_digest, "published_at": published_at,
               "heard_at": dt.datetime.now(dt.UTC).isoformat(), "key_id": self.keys.current_id}
        row["mac"] = heard_mac(self.keys, row["key_id"], row)
        marks = ", ".join([self.tables.mark] * len(row))
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"INSERT INTO {self.table} ({', '.join(row)}) VALUES ({marks}) "
                           "ON CONFLICT DO NOTHING", tuple(row.values()))


def witness(app: Any, body: dict) -> bool:
    """Record a head heard on the bus (a malformed one raises ValidationError: dead-lettered)."""
    event = parse_envelope(body)
    if event.origin == app.name.lower():
        return False
    head = Head(**HeadSchema().load(event.payload))
    app.witness.record(event.origin, head, event.occurred_at)
    return True


class HeadPublisher:
    """The relay's part: publish the head every ``interval`` seconds, and when made due (on the
    relay's own connection)."""

    def __init__(self, app: Any, authority: str, publisher: BusPublisher, interval: float = INTERVAL) -> None:
        self.app, self.authority, self.publisher, self.interval = app, authority, publisher, interval
        self.published_at = 0.0
        self._due = True  # the first turn publishes

    def make_due(self) -> None:
        self._due = True

    def publish_if_due(self) -> bool:
        if not self._due and time.monotonic() - self.published_at < self.interval:
            return False
        head = head_of(self.app)
        if head is not None:
            self.publisher.publish(head_event(self.app.name.lower(), head, self.authority), via=HEADS)
        self._due, self.published_at = False, time.monotonic()
        return head is not None

