"""The sealing recorder on PostgreSQL (see shared/recorders.py), in a module of its own so a
service on SQLite never imports psycopg."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL

from shared.chain import Chain


class SealingPostgresRecorder(PostgresProcessRecorder):
    chain: Chain

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.lock_table_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(datastore.lock_timeout),
        ]

    def _insert_tracking(self, curs: Any, tracking: Tracking) -> None:
        super()._insert_tracking(curs, tracking)
        self.chain.record_tracking(curs, tracking.application_name, tracking.notification_id)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        # eventsourcing's own version pipelines, and commits when a statement after the insert
        # fails; here any failure, the seal's included, rolls back the whole transaction
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            if stored_events:  # the log's lock before the ledger's (the tracking record's), always
                self.chain.tables.lock(curs, "events")
            self._insert_events(curs, stored_events, **kwargs)  # the tracking record, if any
            if not stored_events:
                return []
            # SET LOCAL lock_timeout (the table lock dropped above), NOTIFY, INSERT ... RETURNING
            PostgresApplicationRecorder._insert_stored_events(self, curs, stored_events)
            positions = [row["notification_id"] for row in curs.fetchall()]
            self.chain.seal(curs, positions)
        return positions
