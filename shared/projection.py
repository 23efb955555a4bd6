"""Read models kept by following a service's own notification log.

A projection holds its own copies of aggregates, rebuilt by applying each
stored event in log order (``event.mutate``), so queries across many
aggregates (schools by state) need no second database. Every query first
catches up with the log, so a reader sees its own writes, and any instance
sees every instance's writes.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from shared.store import ServiceApplication


class AggregateProjection:
    def __init__(self, app: ServiceApplication, batch: int = 1000) -> None:
        self.app = app
        self.batch = batch
        self.position = 0
        self.aggregates: dict[uuid.UUID, Any] = {}
        self._epoch = 0
        self._lock = threading.Lock()

    def catch_up(self) -> int:
        """Apply every event after the current position; returns how many."""
        applied = 0
        with self._lock:
            self._forget_erased()
            while True:
                notifications = self.app.recorder_.select_notifications(
                    start=self.position + 1, limit=self.batch
                )
                self._apply_page(notifications)
                applied += len(notifications)
                if len(notifications) < self.batch:
                    return applied

    def catch_up_batch(self) -> int:
        """Apply one batch after the current position (for progress reporting)."""
        with self._lock:
            self._forget_erased()
            notifications = self.app.recorder_.select_notifications(start=self.position + 1,
                                                                    limit=self.batch)
            self._apply_page(notifications)
            return len(notifications)

    def _forget_erased(self) -> None:
        """After an erasure, rebuild: the copies held here still show what was erased."""
        keys = getattr(self.app, "subject_keys", None)
        epoch = keys.epoch() if keys is not None else 0
        if epoch != self._epoch:
            self.position, self.aggregates, self._epoch = 0, {}, epoch

    def _apply_page(self, notifications: list) -> None:
        """Decode the page at once (its subjects' keys in one query), then apply it in order."""
        for event, notification in zip(self.app.domain_events(notifications), notifications, strict=True):
            self._apply(event)
            self.position = notification.id  # a failure part way leaves it where the page stopped

    def _apply(self, domain_event: Any) -> None:
        current = self.aggregates.get(domain_event.originator_id)
        self.aggregates[domain_event.originator_id] = domain_event.mutate(current)

    def all(self) -> list[Any]:
        self.catch_up()
        return list(self.aggregates.values())
