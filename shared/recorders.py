"""eventsourcing's process recorders, sealing every event in the transaction that inserts it,
and recording every tracking row (a consumer's note of an upstream event it processed, or the
relay's of what it published) in the sealed ledger in the transaction that inserts the row.

On PostgreSQL eventsourcing serialises inserts with ``LOCK TABLE ... IN EXCLUSIVE MODE``,
which needs a privilege to change the table; the services' role may only insert and read, so
an advisory lock (held to the end of the transaction) serialises them instead: every writer
of the log goes through this recorder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, ProcessRecorder, StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory, PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL

from shared.chain import Chain


class SealingSQLiteRecorder(SQLiteProcessRecorder):
    chain: Chain

    def _insert_tracking(self, c: Any, tracking: Tracking) -> None:
        super()._insert_tracking(c, tracking)  # written first: the transaction holds the write lock
        record_tracking(self.chain, c, tracking)

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        positions = super()._insert_events(c, stored_events, **kwargs) or []
        self.chain.seal(c, positions)
        return positions


class SealingPostgresRecorder(PostgresProcessRecorder):
    chain: Chain

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.lock_table_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(datastore.lock_timeout),
        ]

    def _insert_tracking(self, curs: Any, tracking: Tracking) -> None:
        super()._insert_tracking(curs, tracking)
        record_tracking(self.chain, curs, tracking)

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


def record_tracking(chain: Chain, cursor: Any, tracking: Tracking) -> None:
    """The ledger's record of a tracking row just inserted, so one deleted, altered or added
    behind the services' backs is seen by ``sanctuary audit verify``."""
    chain.ledger.append(cursor, "tracked", tracking.application_name,
                        {"position": tracking.notification_id})


def sealing_recorder(factory: Any, chain: Chain) -> ProcessRecorder:
    """The factory's process recorder, of the sealing kind."""
    cls = SealingPostgresRecorder if isinstance(factory, PostgresFactory) else SealingSQLiteRecorder
    factory.env[factory.PROCESS_RECORDER_TOPIC] = f"{cls.__module__}:{cls.__qualname__}"
    recorder = factory.process_recorder()
    recorder.chain = chain
    return recorder
