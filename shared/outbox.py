"""The outbox relay: every committed event reaches the bus, at least once, in order.

The eventsourcing notification log is the outbox: events and their
notifications are written in one transaction. The relay reads notifications
after the last position it tracked, publishes the public ones of a batch with their
confirms pipelined (all in flight, shared/bus.py; the next batch is read and sent while
this one's confirms come), and only once the broker has confirmed every one records the
batch's last position. A crash between publish and
tracking republishes a few events, which idempotent consumers ignore.

Every event is sealed as it is written (shared/recorders.py), so everything the
relay can read is sealed already. It also publishes the store's chain head for
the other services to witness (shared/witness.py): at a steady interval, and
right after a milestone the contract names.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from eventsourcing.persistence import Tracking

from shared.bus import BusPublisher
from shared.envelope import Contract
from shared.faults import crash_point
from shared.metrics import PUBLISHED
from shared.relay_lock import RelayLock
from shared.store import ServiceApplication
from shared.witness import INTERVAL, HeadPublisher

log = logging.getLogger(__name__)

RELAY = "outbox"  # tracking name for the positions the relay has published


@dataclass
class RelayStats:
    published_total: int = 0
    failures_total: int = 0
    last_published_at: float | None = None
    running: bool = False  # holds the relay lock (a standby instance does not)
    beat_at: float | None = None  # the loop's last turn: a stuck relay stops beating


class OutboxRelay:
    def __init__(
        self,
        app: ServiceApplication,
        contract: Contract,
        authority: str,
        publisher: BusPublisher,
        lock: RelayLock,
        batch_size: int = 200,
        head_interval: float = INTERVAL,
    ) -> None:
        self.app = app
        self.contract = contract
        self.authority = authority
        self.publisher = publisher
        self.lock = lock
        self.batch_size = batch_size
        self.stats = RelayStats()
        self.heads = HeadPublisher(app, authority, publisher, head_interval)
        self._wake = threading.Event()
        app.on_saved(self._wake.set)

    def published_position(self) -> int:
        return self.app.recorder_.max_tracking_id(RELAY) or 0

    def lag(self) -> int:
        """Events committed but not yet published."""
        return (self.app.recorder_.max_notification_id() or 0) - self.published_position()

    def relay_once(self) -> int:
        """Publish the next batch; returns how many notifications it moved past."""
        return self.drain(batches=1)

    def drain(self, batches: int | None = None) -> int:
        """Publish everything pending (or ``batches`` batches); returns how many notifications it
        moved past. Each batch is sent while the one before waits for its confirms, and a batch's
        position is tracked only once all of it is confirmed, the batches in order."""
        position, moved, waiting = self.published_position(), 0, None
        while batches is None or batches > 0:
            notifications = self.app.recorder_.select_notifications(start=position + 1,
                                                                    limit=self.batch_size)
            events = self._public(notifications)
            mark = self.publisher.send_all(events)
            if waiting is not None:
                self._settle(*waiting)
            waiting = (mark, events, notifications[-1].id) if notifications else None
            moved += len(notifications)
            batches = None if batches is None else batches - 1
            if len(notifications) < self.batch_size:
                break
            position = notifications[-1].id
        if waiting is not None:
            self._settle(*waiting)
        return moved

    def _public(self, notifications: list) -> list:
        decoded = self.app.domain_events(notifications)  # their subjects' keys read at once
        return [event for event in (self.contract.envelope(domain_event, n.id, self.authority)
                                    for domain_event, n in zip(decoded, notifications, strict=True))
                if event is not None]

    def _settle(self, mark: int, events: list, position: int) -> None:
        """Once the broker has confirmed a batch: count it, and track its last position."""
        self.publisher.await_confirmed(mark)
        for event in events:
            PUBLISHED.labels(event.type).inc()
            if event.type in self.contract.witnessed_after:
                self.heads.make_due()
        if events:
            self.stats.published_total += len(events)
            self.stats.last_published_at = time.time()
        crash_point("relay.after_publish")
        self.app.recorder_.insert_tracking(Tracking(RELAY, position))

    def run(self, stop: threading.Event, idle_poll: float = 1.0, retry_max: float = 5.0) -> None:
        """Relay until ``stop`` is set. Woken by every local save; polls as a fallback
        (another instance may have committed)."""
        backoff = 0.1
        while not stop.is_set():
            self.stats.beat_at = time.time()
            if not self.lock.acquire():
                self.stats.running = False
                stop.wait(idle_poll)
                continue
            self.stats.running = True
            self._wake.clear()
            try:
                self.drain()
                self.heads.publish_if_due()
                backoff = 0.1
            except Exception:
                self.stats.failures_total += 1
                log.warning("relay failed; retrying in %.1fs", backoff, exc_info=True)
                stop.wait(backoff)
                backoff = min(backoff * 2, retry_max)
                continue
            self._wake.wait(idle_poll)
        self.lock.release()
        self.publisher.close()
        self.stats.running = False

    def wake(self) -> None:
        self._wake.set()
